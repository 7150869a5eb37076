/* rsync exclude pattern rules, as exclude.c implements them, and the
 * wildcard matcher under them (match.c) against the C library's
 * fnmatch. */
#include <fnmatch.h>
#include <stdlib.h>

#include "../src/exclude.h"
#include "../src/match.h"
#include "unit.h"

/* pattern, string, want with pathname, want without */
static const struct {
	const char *pat, *s;
	int path, plain;
} cases[] = {
	{ "", "", 1, 1 },
	{ "", "a", 0, 0 },
	{ "a", "", 0, 0 },
	{ "*", "", 1, 1 },
	{ "*", "abc", 1, 1 },
	{ "*", "a/b", 0, 1 },
	{ "a*", "a", 1, 1 },
	{ "a*c", "abbbc", 1, 1 },
	{ "a*c", "abbbcd", 0, 0 },
	{ "a*b*c", "axbxbxc", 1, 1 },
	{ "a*/b*c", "ax/bxcxc", 1, 1 },
	{ "*/x", "a/b/x", 0, 1 },
	{ "a/*/x", "a/b/x", 1, 1 },
	{ "a/*/x", "a/b/c/x", 0, 1 },
	{ "a**z", "a/b/z", 0, 1 },
	{ "***", "a/b", 0, 1 },
	{ "?", "a", 1, 1 },
	{ "?", "", 0, 0 },
	{ "?", "/", 0, 1 },
	{ "a?c", "a/c", 0, 1 },
	{ "??", "a", 0, 0 },
	{ "[abc]", "b", 1, 1 },
	{ "[abc]", "d", 0, 0 },
	{ "[!abc]", "d", 1, 1 },
	{ "[^abc]", "d", 1, 1 },
	{ "[!abc]", "a", 0, 0 },
	{ "[a-c]", "b", 1, 1 },
	{ "[a-c]", "d", 0, 0 },
	{ "[!a-c]", "d", 1, 1 },
	{ "[z-a]", "z", 0, 0 },		/* a reversed range holds nothing */
	{ "[a-]", "-", 1, 1 },		/* "-" last is a member */
	{ "[-a]", "-", 1, 1 },		/* and first */
	{ "[]]", "]", 1, 1 },		/* "]" first is a member */
	{ "[!]]", "]", 0, 0 },
	{ "[!]]", "a", 1, 1 },
	{ "[]-a]", "^", 1, 1 },		/* ] to a */
	{ "[\\]]", "]", 1, 1 },	/* "\" escapes inside a set too */
	{ "[\\]]", "\\", 0, 0 },
	{ "[a\\-z]", "b", 0, 0 },	/* an escaped "-" is no range */
	{ "[a\\-z]", "-", 1, 1 },
	{ "[a-\\z]", "m", 1, 1 },
	{ "[/]", "/", 0, 1 },		/* a set never matches "/" with pathname */
	{ "a[/]b", "a/b", 0, 1 },
	{ "[!a]", "/", 0, 1 },
	{ "[a", "[a", 1, 1 },		/* unclosed: "[" is an ordinary byte */
	{ "[a", "a", 0, 0 },
	{ "[", "[", 1, 1 },
	{ "*[", "x[", 1, 1 },
	{ "[[:alpha:]]", "a", 1, 1 },
	{ "[[:alpha:]]", "1", 0, 0 },
	{ "[[:digit:][:upper:]]", "Q", 1, 1 },
	{ "[![:digit:]]", "5", 0, 0 },
	{ "[[:space:]]", " ", 1, 1 },
	{ "[[:xdigit:]]", "F", 1, 1 },
	{ "[[:punct:]]", "!", 1, 1 },
	{ "[[:alnum:]_]", "_", 1, 1 },
	{ "[[:foo:]]", "a", 0, 0 },	/* an unknown class holds nothing */
	{ "[[:alpha:]", "[", 0, 0 },
	{ "\\*", "*", 1, 1 },
	{ "\\*", "a", 0, 0 },
	{ "\\?", "?", 1, 1 },
	{ "\\[a]", "[a]", 1, 1 },
	{ "\\a", "a", 1, 1 },
	{ "a\\", "a\\", 0, 0 },	/* a trailing "\" matches nothing */
	{ "a\\/b", "a/b", 1, 1 },
	{ "\xe9*", "\xe9t\xe9", 1, 1 },	/* bytes >= 0x80 */
	{ "[\xe0-\xef]", "\xe9", 1, 1 },
	{ "?", "\xe9", 1, 1 },
	{ ".*", ".hidden", 1, 1 },	/* no special dot files */
	{ "*", ".hidden", 1, 1 },
};

/* xorshift: the same pseudo-random cases on every run */
static unsigned rnd_state = 2463534242u;
static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

/* A random pattern of literals, "/", "*", "**", "?" and well-formed sets
 * (no "\" and no reversed ranges, where C libraries differ). */
static void random_pattern(char *p, size_t cap)
{
	static const char *const tok[] = { "a", "b", ".", "/", "*", "**", "?",
		"-", "[ab]", "[!a]", "[^b.]", "[a-b]", "[-a]", "[b-]", "[]a]",
		"[!]-]", "[[:alpha:]]", "[![:punct:]]" };
	size_t n = 0, len;
	unsigned i, count = rnd(7);
	const char *t;

	for (i = 0; i < count; i++) {
		t = tok[rnd(sizeof tok / sizeof *tok)];
		len = strlen(t);
		if (n + len + 1 > cap)
			break;
		memcpy(p + n, t, len);
		n += len;
	}
	p[n] = '\0';
}

static void random_string(char *s)
{
	static const char bytes[] = "ab./-]";
	unsigned i, n = rnd(7);

	for (i = 0; i < n; i++)
		s[i] = bytes[rnd(sizeof bytes - 1)];
	s[n] = '\0';
}

static int ex(const char *pattern, const char *path, int is_dir)
{
	char *pats[1];

	pats[0] = (char *)pattern;
	return exclude_match(pats, 1, path, is_dir);
}

int main(void)
{
	TEST("exclude: a plain name matches the last component anywhere") {
		CHECK(ex("*.tmp", "a.tmp", 0));
		CHECK(ex("*.tmp", "x/y/a.tmp", 0));
		CHECK(!ex("*.tmp", "a.tmpx", 0));
		CHECK(ex("cache", "src/cache", 1));
	}
	TEST("exclude: * does not cross a slash, ** does") {
		CHECK(!ex("a*b", "a/b", 0));
		CHECK(ex("a/**/z", "a/b/c/z", 0));
		CHECK(ex("a/**", "a/b/c", 0));
	}
	TEST("exclude: a trailing slash matches directories only") {
		CHECK(ex("cache/", "x/cache", 1));
		CHECK(!ex("cache/", "x/cache", 0));
	}
	TEST("exclude: a leading slash anchors at the transfer root") {
		CHECK(ex("/top", "top", 1));
		CHECK(!ex("/top", "x/top", 1));
		CHECK(ex("/dir1/logs", "dir1/logs", 1));
	}
	TEST("exclude: a pattern with a slash matches trailing components") {
		CHECK(ex("b/c", "a/b/c", 0));
		CHECK(!ex("b/c", "a/xb/c", 0));
	}
	TEST("exclude: what is inside an excluded directory is excluded") {
		CHECK(ex("cache/", "cache/a/b.txt", 0));
		CHECK(ex("*.d", "x.d/y/z", 0));
		CHECK(!ex("cache/", "cachex/a", 0));
	}
	TEST("exclude: character classes and ?") {
		CHECK(ex("file?.[ch]", "dir/file1.c", 0));
		CHECK(!ex("file?.[ch]", "dir/file12.c", 0));
	}
	TEST("match: wildcards, sets, classes and escapes") {
		size_t i;

		for (i = 0; i < sizeof cases / sizeof *cases; i++) {
			if (match_glob(cases[i].pat, cases[i].s, true) != cases[i].path ||
			    match_glob(cases[i].pat, cases[i].s, false) != cases[i].plain)
				printf("    '%s' '%s': want pathname %d, plain %d\n",
				    cases[i].pat, cases[i].s, cases[i].path, cases[i].plain);
			CHECK(match_glob(cases[i].pat, cases[i].s, true) == cases[i].path);
			CHECK(match_glob(cases[i].pat, cases[i].s, false) == cases[i].plain);
		}
	}
	TEST("match: as the C library's fnmatch on 200,000 random cases") {
		char pat[64], str[16];
		int i, pathname, want;

		for (i = 0; i < 100000; i++) {
			random_pattern(pat, sizeof pat);
			random_string(str);
			for (pathname = 0; pathname < 2; pathname++) {
				want = fnmatch(pat, str, pathname ? FNM_PATHNAME : 0) == 0;
				if (match_glob(pat, str, pathname) != want) {
					printf("    '%s' '%s' pathname %d: fnmatch says %d\n",
					    pat, str, pathname, want);
					CHECK(!"match_glob differs from fnmatch");
					i = 100000;
					break;
				}
			}
		}
	}
	TEST("exclude: ** and * in one pattern: * crosses / too") {
		CHECK(ex("a/**/*.o", "a/b/c/d.o", 0));
		CHECK(ex("**/x*", "p/q/xy", 0));
		CHECK(ex("/a/**", "a/b", 0));
		CHECK(!ex("/a/**", "b/a/b", 0));
	}
	TEST("exclude: wildcards do not cross / in a pattern without **") {
		CHECK(!ex("a/*.o", "a/b/c.o", 0));
		CHECK(ex("b/*.o", "a/b/c.o", 0));
		CHECK(ex("/a/?", "a/b", 0));
		CHECK(!ex("/a/?", "a/bc", 0));
		CHECK(ex("[!.]*", "x/y", 0));
		CHECK(ex("\\*", "dir/*", 0));
		CHECK(!ex("\\*", "dir/a", 0));
	}
	TEST("exclude: no patterns exclude nothing") {
		CHECK(!exclude_match(NULL, 0, "a", 0));
	}
	UNIT_EXIT();
}
