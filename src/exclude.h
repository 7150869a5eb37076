/* rsync-style exclude patterns, matched the way rsync matches them, so
 * that an excluded path neither triggers a sync nor is transferred. */
#ifndef PONI_EXCLUDE_H
#define PONI_EXCLUDE_H

#include <stdbool.h>
#include <stddef.h>

/* path is relative to the transfer root (for a source without a trailing
 * slash, it starts with the source's own name), without a leading slash.
 * is_dir says whether its last component is a directory. A path is also
 * excluded when one of its parent directories is. */
bool exclude_match(char *const *patterns, size_t npatterns,
		   const char *path, bool is_dir);

/* Does the one pattern match path itself, whatever its parents? */
bool exclude_pattern(const char *pattern, const char *path, bool is_dir);

/* What rsync's --exclude=VALUE reads at the start of VALUE as a rule
 * rather than as the pattern: '-' for "- " (exclude what follows), '+'
 * for "+ " (include it), '!' for a lone "!" (clear the list); 0 when
 * VALUE is all pattern (so "-x", "-, x", "+/ x" and "!x" are). */
char exclude_prefix(const char *value);

#endif
