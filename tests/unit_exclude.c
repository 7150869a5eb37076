/* rsync exclude pattern rules, as exclude.c implements them. */
#include "../src/exclude.h"
#include "unit.h"

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
	TEST("exclude: no patterns exclude nothing") {
		CHECK(!exclude_match(NULL, 0, "a", 0));
	}
	UNIT_EXIT();
}
