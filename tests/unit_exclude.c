/* rsync's exclude pattern rules, as exclude.c implements them, and the
 * wildcard matcher under them (match.c), case by case as rsync (its
 * wildmatch and exclude.c) decides them. tests/sys_exclude.sh compares
 * both with real rsync on random patterns. */
#include <stdlib.h>

#include "../src/exclude.h"
#include "../src/match.h"
#include "unit.h"

/* pattern, string, want */
static const struct {
	const char *pat, *s;
	int want;
} cases[] = {
	{ "", "", 1 },
	{ "", "a", 0 },
	{ "a", "", 0 },
	{ "*", "", 1 },
	{ "*", "abc", 1 },
	{ "*", "a/b", 0 },		/* "*" never takes a "/" */
	{ "a*", "a", 1 },
	{ "a*c", "abbbc", 1 },
	{ "a*c", "abbbcd", 0 },
	{ "a*b*c", "axbxbxc", 1 },
	{ "a*/b*c", "ax/bxcxc", 1 },
	{ "*/x", "a/b/x", 0 },
	{ "a/*/x", "a/b/x", 1 },
	{ "a/*/x", "a/b/c/x", 0 },
	{ "a**z", "a/b/z", 1 },		/* "**" takes anything */
	{ "***", "a/b", 1 },		/* and so do more stars */
	{ "a**", "ab/c", 1 },
	{ "a*", "ab/c", 0 },
	{ "a/**/b*c", "a/x/b/y/c", 0 },	/* "*" stops at "/" beside "**" too */
	{ "a/**/b*c", "a/x/y/bzc", 1 },
	{ "a/**/b*c", "a/x/b/bc", 1 },
	{ "**/foo?bar", "/x/foo/bar", 0 },	/* and so does "?" */
	{ "**/foo?bar", "/x/foo-bar", 1 },
	{ "*a**", "x/a", 0 },
	{ "*a**", "xa/b", 1 },
	{ "**a*b", "x/a/b", 0 },
	{ "**a*b", "x/a/ab", 1 },
	{ "**[!a]", "x/", 0 },		/* nor does a set */
	{ "?", "a", 1 },
	{ "?", "", 0 },
	{ "?", "/", 0 },
	{ "a?c", "a/c", 0 },
	{ "??", "a", 0 },
	{ "[abc]", "b", 1 },
	{ "[abc]", "d", 0 },
	{ "[!abc]", "d", 1 },
	{ "[^abc]", "d", 1 },
	{ "[!abc]", "a", 0 },
	{ "[a-c]", "b", 1 },
	{ "[a-c]", "d", 0 },
	{ "[!a-c]", "d", 1 },
	{ "[z-a]", "z", 1 },		/* a reversed range: only its start, */
	{ "[z-a]", "a", 0 },		/* which rsync takes as a member first */
	{ "[z-a]", "m", 0 },
	{ "[a-]", "-", 1 },		/* "-" last is a member */
	{ "[-a]", "-", 1 },		/* and first */
	{ "[a-c-e]", "-", 1 },		/* and right after a range */
	{ "[a-c-e]", "d", 0 },
	{ "[]]", "]", 1 },		/* "]" first is a member */
	{ "[!]]", "]", 0 },
	{ "[!]]", "a", 1 },
	{ "[]-a]", "^", 1 },		/* ] to a */
	{ "[\\]]", "]", 1 },	/* "\" escapes inside a set too */
	{ "[\\]]", "\\", 0 },
	{ "[a\\-z]", "b", 0 },	/* an escaped "-" is no range */
	{ "[a\\-z]", "-", 1 },
	{ "[a-\\z]", "m", 1 },
	{ "[\\a-c]", "b", 1 },	/* an escaped member starts a range */
	{ "[/]", "/", 0 },		/* a set never matches "/" */
	{ "a[/]b", "a/b", 0 },
	{ "[!a]", "/", 0 },
	{ "[a", "[a", 0 },		/* a set not closed matches nothing */
	{ "[a", "a", 0 },
	{ "[", "[", 0 },
	{ "*[", "x[", 0 },
	{ "[\\", "\\", 0 },
	{ "[!", "!", 0 },
	{ "[[:alpha:]]", "a", 1 },
	{ "[[:alpha:]]", "1", 0 },
	{ "[[:digit:][:upper:]]", "Q", 1 },
	{ "[![:digit:]]", "5", 0 },
	{ "[[:space:]]", " ", 1 },
	{ "[[:xdigit:]]", "F", 1 },
	{ "[[:punct:]]", "!", 1 },
	{ "[[:alnum:]_]", "_", 1 },
	{ "[[:digit:]-z]", "-", 1 },	/* no range after a class */
	{ "[[:foo:]]", "a", 0 },	/* an unknown class: nothing matches */
	{ "[![:foo:]]", "a", 0 },
	{ "[a[:foo:]]", "a", 0 },
	{ "[[:alpha:]", "[", 0 },
	{ "[[:ab]", ":", 1 },		/* no ":]" before "]": "[" is a member */
	{ "[[:ab]", "[", 1 },
	{ "[[:]]", ":]", 1 },
	{ "\\*", "*", 1 },
	{ "\\*", "a", 0 },
	{ "\\?", "?", 1 },
	{ "\\[a]", "[a]", 1 },
	{ "\\a", "a", 1 },
	{ "a\\", "a\\", 0 },	/* a trailing "\" matches nothing */
	{ "a\\", "a", 0 },
	{ "a\\/b", "a/b", 1 },
	{ "\xe9*", "\xe9t\xe9", 1 },	/* bytes >= 0x80 */
	{ "[\xe0-\xef]", "\xe9", 1 },
	{ "?", "\xe9", 1 },
	{ "[[:alpha:]]", "\xe9", 0 },	/* the C locale */
	{ ".*", ".hidden", 1 },		/* no special dot files */
	{ "*", ".hidden", 1 },
};

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
			if (match_glob(cases[i].pat, cases[i].s) != cases[i].want)
				printf("    '%s' '%s': want %d\n",
				    cases[i].pat, cases[i].s, cases[i].want);
			CHECK(match_glob(cases[i].pat, cases[i].s) == cases[i].want);
		}
	}
	TEST("exclude: ** and * in one pattern: * and ? still stop at /") {
		CHECK(ex("a/**/*.o", "a/b/c/d.o", 0));
		CHECK(!ex("a/**/x*.o", "a/b/xc/d.o", 0));
		CHECK(ex("**/x*", "p/q/xy", 0));
		CHECK(!ex("**/foo?bar", "x/foo/bar", 0));
		CHECK(ex("**/foo?bar", "x/foo-bar", 0));
		CHECK(!ex("a/**/b*c", "a/x/b/y/c", 0));
		CHECK(ex("a/**/b*c", "a/x/y/bzc", 0));
		CHECK(ex("/a/**", "a/b", 0));
		CHECK(!ex("/a/**", "b/a/b", 0));
	}
	TEST("exclude: ** matches from the start or after any /") {
		CHECK(ex("a**", "x/ab/c", 0));
		CHECK(ex("b/**", "a/b/c", 0));
		CHECK(!ex("b/**", "a/b", 1));	/* nothing after b/ */
		CHECK(ex("**x", "ax", 0));	/* "**" first: from the start */
		CHECK(ex("**/x", "x", 0));	/* with a "/" in front */
		CHECK(ex("**/x", "a/b/x", 0));
		CHECK(!ex("**/x", "a/bx", 0));
		CHECK(ex("/a**", "ab/c", 0));	/* anchored: from the start only */
		CHECK(!ex("/a**", "b/ab", 0));
	}
	TEST("exclude: *** last also matches the directory itself") {
		CHECK(ex("d/***", "x/d", 1));
		CHECK(!ex("d/***", "x/d", 0));
		CHECK(ex("d/***", "d/e/f", 0));
		CHECK(ex("/d/***", "d", 1));
		CHECK(!ex("d/**", "x/d", 1));
	}
	TEST("exclude: a pattern without wildcards is literal, \\ too") {
		CHECK(ex("a\\b", "x/a\\b", 0));
		CHECK(!ex("a\\b", "ab", 0));
		CHECK(ex("a\\b*", "ab", 0));	/* with a wildcard it escapes */
		CHECK(ex("a\\/b", "a\\/b", 0));	/* directory "a\\", file b */
		CHECK(!ex("a\\/b", "a/b", 0));
		CHECK(ex("a\\/b*", "a/b", 0));
		CHECK(ex("/a/b", "a/b", 0));
		CHECK(!ex("/a/b", "x/a/b", 0));
	}
	TEST("exclude: \"/\" and \"**\" count as bytes, wherever they are") {
		/* "[/a]" counts as a "/": two components to match, never one */
		CHECK(!ex("x[/a]", "xa", 0));
		CHECK(!ex("x[/a]", "d/xa", 0));
		/* "\\**" counts as "**": tried after every "/" */
		CHECK(ex("x[/a]\\**", "d/xa*", 0));
		CHECK(!ex("x[/a]\\*", "d/xa*", 0));
	}
	TEST("exclude: a pattern rsync drops or cannot match") {
		char *longer = malloc(5000);

		CHECK(!ex("/", "a", 1));
		CHECK(!ex("*[", "a[", 0));
		CHECK(longer != NULL);
		if (longer) {
			memset(longer, '*', 4999);
			longer[4999] = '\0';
			CHECK(!ex(longer, "a", 0));	/* 4096 bytes or more */
			longer[4095] = '\0';
			CHECK(ex(longer, "a", 0));
		}
		free(longer);
	}
	TEST("exclude: what rsync's --exclude reads as a rule") {
		CHECK(exclude_prefix("- a") == '-');
		CHECK(exclude_prefix("+ a") == '+');
		CHECK(exclude_prefix("- ") == '-');
		CHECK(exclude_prefix("!") == '!');
		CHECK(exclude_prefix("!a") == 0);
		CHECK(exclude_prefix("-a") == 0);
		CHECK(exclude_prefix("-, a") == 0);
		CHECK(exclude_prefix("+/ a") == 0);
		CHECK(exclude_prefix("-! a") == 0);
		CHECK(exclude_prefix(" - a") == 0);
		CHECK(exclude_prefix("a") == 0);
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
