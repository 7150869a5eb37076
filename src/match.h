/* Shell wildcard matching for exclude patterns, in place of fnmatch(3). */
#ifndef PONI_MATCH_H
#define PONI_MATCH_H

#include <stdbool.h>

/* Does s match the pattern pat, as fnmatch(pat, s, pathname ?
 * FNM_PATHNAME : 0) == 0 with glibc in the C locale: "*" any string,
 * "?" any byte, "[...]" a set with ranges (a-z), classes ([:digit:])
 * and "!" or "^" for "not", "\" takes the next byte literally (also
 * inside a set). With pathname, "*", "?" and sets never match "/".
 * Bytes, not characters: poni runs in the C locale. An unclosed "["
 * is an ordinary byte; a trailing "\" matches nothing, as in glibc and
 * rsync (musl's fnmatch would match a "\" there). */
bool match_glob(const char *pat, const char *s, bool pathname);

#endif
