/* rsync's exclude rules, as its exclude.c applies a pattern given with
 * --exclude to a path:
 * - a trailing "/" (not the whole pattern) matches directories only,
 *   and is dropped before the rules below;
 * - a pattern without "*", "?" or "[" is literal, "\" included;
 * - a leading "/" anchors the pattern at the transfer root;
 * - else a pattern without "**" matches the path's last components, as
 *   many as it has (its "/"s plus one);
 * - else (with "**") it matches the path from its start or after any
 *   "/"; one that starts with "**" from the start only, but with a "/"
 *   in front, so that a "/" right after the "**" matches there too;
 * - a pattern that ends in "***" sees a directory with a "/" after it,
 *   so that "/" plus "***" also matches the directory itself;
 * - what is inside an excluded directory is excluded too.
 * These look at the pattern's bytes: "\**" counts as "**" and "[/]" as
 * a "/", whatever they match (see match.c). */
#include <stdlib.h>
#include <string.h>

#include "exclude.h"
#include "match.h"

/* The last n components of path, NULL when it has fewer. */
static const char *last_components(const char *path, size_t n)
{
	const char *s = path + strlen(path);

	while (s > path)
		if (*--s == '/' && --n == 0)
			return s + 1;
	return n == 1 ? path : NULL;
}

/* With "**": path from its start, or after any "/" unless anchored;
 * lead and tail add a "/" before and after it. */
static bool match_starstar(const char *pat, const char *path, bool anchored,
			   bool lead, bool tail)
{
	size_t len = strlen(path);
	char *text = malloc(len + 3);
	const char *s;
	bool hit;

	if (!text)
		return false;
	text[0] = '/';
	memcpy(text + 1, path, len + 1);
	if (tail)
		memcpy(text + 1 + len, "/", 2);
	s = lead ? text : text + 1;
	hit = match_glob(pat, s);
	while (!hit && !anchored && !lead && (s = strchr(s, '/')))
		hit = match_glob(pat, ++s);
	free(text);
	return hit;
}

bool exclude_pattern(const char *pattern, const char *path, bool is_dir)
{
	size_t len = strlen(pattern), slashes = 0;
	char pat[4096];
	const char *p, *s;
	bool anchored, wild, twostar = false;

	if (len == 0 || len >= sizeof pat)	/* rsync drops one this long */
		return false;
	memcpy(pat, pattern, len + 1);
	if (len > 1 && pat[len - 1] == '/') {
		if (!is_dir)
			return false;
		pat[--len] = '\0';
	}
	for (p = pat; *p; p++) {	/* not strstr: musl's is large */
		slashes += *p == '/';
		twostar |= p[0] == '*' && p[1] == '*';
	}
	anchored = pat[0] == '/';
	p = pat + anchored;
	wild = strpbrk(pat, "*?[") != NULL;
	if (!wild || !twostar) {
		s = anchored ? path : last_components(path, slashes + 1);
		return s && (wild ? match_glob(p, s) : strcmp(p, s) == 0);
	}
	return match_starstar(p, path, anchored, pat[0] == '*' && pat[1] == '*',
	    is_dir && len >= 3 && strcmp(pat + len - 3, "***") == 0);
}

static bool match_any(char *const *patterns, size_t n, const char *path, bool is_dir)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (exclude_pattern(patterns[i], path, is_dir))
			return true;
	return false;
}

char exclude_prefix(const char *value)
{
	if ((value[0] == '-' || value[0] == '+') && value[1] == ' ')
		return value[0];
	return strcmp(value, "!") == 0 ? '!' : 0;
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
