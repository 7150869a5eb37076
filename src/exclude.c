/* rsync's exclude pattern rules, as its man page gives them:
 * - a trailing "/" matches directories only;
 * - a leading "/" anchors the pattern at the transfer root;
 * - a pattern with a "/" inside (or "**") is matched against the path's
 *   trailing components, one without against the last component only;
 * - "*" and "?" stop at "/", "**" does not;
 * - what is inside an excluded directory is excluded too. */
#include <stdlib.h>
#include <string.h>

#include "exclude.h"
#include "match.h"

static bool match_pattern(const char *pattern, const char *path, bool is_dir)
{
	size_t len = strlen(pattern);
	char pat[4096];
	const char *s, *slash;
	bool pathname = true;

	if (len == 0 || len >= sizeof pat)
		return false;
	memcpy(pat, pattern, len + 1);
	if (len > 1 && pat[len - 1] == '/') {
		if (!is_dir)
			return false;
		pat[--len] = '\0';
	}
	for (s = pat; *s && pathname; s++)	/* a "**" anywhere: no pathname */
		pathname = !(s[0] == '*' && s[1] == '*');
	if (pat[0] == '/')
		return match_glob(pat + 1, path, pathname);
	if (!strchr(pat, '/') && pathname) {
		slash = strrchr(path, '/');
		return match_glob(pat, slash ? slash + 1 : path, pathname);
	}
	for (s = path; s; s = slash ? slash + 1 : NULL) {
		if (match_glob(pat, s, pathname))
			return true;
		slash = strchr(s, '/');
	}
	return false;
}

static bool match_any(char *const *patterns, size_t n, const char *path, bool is_dir)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (match_pattern(patterns[i], path, is_dir))
			return true;
	return false;
}

bool exclude_match(char *const *patterns, size_t npatterns, const char *path, bool is_dir)
{
	char *copy, *p;
	bool hit = false;

	if (npatterns == 0)
		return false;
	if (!(copy = strdup(path)))
		return false;
	/* every parent directory first: "a/b/c" tries "a", "a/b" */
	for (p = copy; !hit && (p = strchr(p, '/')); p++) {
		*p = '\0';
		hit = *copy && match_any(patterns, npatterns, copy, true);
		*p = '/';
	}
	if (!hit)
		hit = match_any(patterns, npatterns, path, is_dir);
	free(copy);
	return hit;
}
