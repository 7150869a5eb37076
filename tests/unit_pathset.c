/* The set of changed paths (pathset.c): adding, the bound, and what the
 * engine does with two sets: a rename below a moved directory, the paths
 * of one set that another does not hold, paths moved between sets. */
#include <stdlib.h>
#include <string.h>

#include "../src/format.h"
#include "../src/pathset.h"
#include "unit.h"

/* The set's paths, sorted, joined by spaces ("*" for everything). */
static char listed[4096];

static int cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *list(const struct pathset *ps)
{
	const char *some[64];
	size_t n = pathset_some(ps, some, 64), i;

	if (ps->everything)
		return "*";
	qsort(some, n, sizeof *some, cmp);
	listed[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strcat(listed, " ");
		strcat(listed, some[i]);
	}
	return listed;
}

int main(void)
{
	struct pathset a = { 0 }, b = { 0 }, c = { 0 };
	char name[32];
	int i;

	TEST("pathset: paths once each, has") {
		pathset_add(&a, "x");
		pathset_add(&a, "d/y");
		pathset_add(&a, "x");
		CHECK(a.count == 2);
		CHECK(pathset_has(&a, "d/y"));
		CHECK(!pathset_has(&a, "d"));
		CHECK(!pathset_has(&b, "x"));	/* an empty set */
		CHECK_STR(list(&a), "d/y x");
		pathset_clear(&a);
	}
	TEST("pathset: past the bound, everything") {
		for (i = 0; i <= PATHSET_MAX_PATHS; i++) {
			format(name, sizeof name, "dir/f%d", i);
			pathset_add(&a, name);
		}
		CHECK(a.everything);
		CHECK(!pathset_empty(&a));
		pathset_clear(&a);
		CHECK(pathset_empty(&a));
	}
	TEST("pathset_rename: the path and what is below it, not its siblings") {
		pathset_add(&a, "old");
		pathset_add(&a, "old/f");
		pathset_add(&a, "old/sub/g");
		pathset_add(&a, "older");
		pathset_add(&a, "other/old");
		pathset_rename(&a, "old", "new/place");
		CHECK_STR(list(&a), "new/place new/place/f new/place/sub/g older other/old");
		pathset_rename(&a, "nothing", "x");
		CHECK(a.count == 5);
		pathset_clear(&a);
	}
	TEST("pathset_take_except: the quiet paths that are not content") {
		pathset_add(&a, "f");
		pathset_add(&a, "g");
		pathset_add(&c, "g");
		pathset_take_except(&b, &a, &c);
		CHECK_STR(list(&b), "f");
		CHECK(pathset_empty(&a));
		pathset_clear(&b);
		pathset_everything(&a);
		pathset_take_except(&b, &a, &c);
		CHECK(b.everything);
		pathset_clear(&b);
		pathset_clear(&c);
	}
	TEST("pathset_move: some paths from one set to the other") {
		pathset_add(&a, "new");
		pathset_add(&a, "new2");
		pathset_add(&a, "f");
		pathset_add(&c, "new");
		pathset_add(&c, "new2");
		pathset_add(&c, "absent");
		pathset_add(&b, "q");
		pathset_move(&a, &b, &c);
		CHECK_STR(list(&a), "f");
		CHECK_STR(list(&b), "new new2 q");
		pathset_clear(&a);
		pathset_clear(&b);
		pathset_clear(&c);
	}
	UNIT_EXIT();
}
