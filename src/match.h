/* rsync's wildcard matching for exclude patterns, in place of fnmatch(3). */
#ifndef PONI_MATCH_H
#define PONI_MATCH_H

#include <stdbool.h>

/* Does all of s match the pattern pat, as rsync's wildmatch has it?
 * "*" is any run of bytes but "/", "**" (or more stars) any run of
 * bytes, "?" any byte but "/", "[...]" one byte but "/" from a set with
 * ranges (a-z), classes ([:digit:]) and "!" or "^" for "not"; "\"
 * takes the next byte literally (also inside a set). A set that is not
 * closed, or names an unknown class, matches nothing, and neither does
 * a trailing "\". Bytes, not characters: poni runs in the C locale. */
bool match_glob(const char *pat, const char *s);

#endif
