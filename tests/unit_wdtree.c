/* The tree of watched directories (wdtree.c), without inotify: add,
 * rename, move out and back, sweep, compaction, descriptors that wrapped
 * around, each step followed by the paths it must rebuild; then many
 * random steps against a plain model, a list of full paths. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../src/wdtree.h"
#include "unit.h"

/* --- helpers ------------------------------------------------------------- */

static char got[PATH_MAX];

/* wd's path, plus "/name" when name is given; "(none)" when unknown. */
static const char *path(const struct wdtree *t, int wd, const char *name)
{
	int len = wdtree_path(t, wd, name, got);

	if (len < 0)
		return "(none)";
	if ((size_t)len != strlen(got))
		return "(wrong length)";
	return got;
}

/* The descriptors a sweep dropped, in order. */
static int dropped[4096];
static size_t ndropped;

static void drop(void *ctx, int wd)
{
	(void)ctx;
	if (ndropped < sizeof dropped / sizeof *dropped)
		dropped[ndropped++] = wd;
}

static int was_dropped(int wd)
{
	size_t i;

	for (i = 0; i < ndropped; i++)
		if (dropped[i] == wd)
			return 1;
	return 0;
}

/* The array is sorted by wd without repeats, and counts add up. */
static int sound(const struct wdtree *t)
{
	size_t i, dead = 0;

	for (i = 0; i < t->nnodes; i++) {
		if (i && t->nodes[i - 1].wd >= t->nodes[i].wd)
			return 0;
		dead += t->nodes[i].parent == -1;
	}
	return dead == t->ndead && t->nnodes - t->ndead == t->count &&
	    t->names_dead <= t->names_len && t->names_len <= t->names_cap;
}

/* --- step by step ---------------------------------------------------------- */

/*   1 ""  root
 *   2 a   under 1
 *   3 b   under 2
 *   4 c   under 1 */
static void small_tree(struct wdtree *t)
{
	memset(t, 0, sizeof *t);
	CHECK(wdtree_place(t, 1, WDTREE_ROOT, "") == WDTREE_NEW);
	CHECK(wdtree_place(t, 2, 1, "a") == WDTREE_NEW);
	CHECK(wdtree_place(t, 3, 2, "b") == WDTREE_NEW);
	CHECK(wdtree_place(t, 4, 1, "c") == WDTREE_NEW);
}

static void test_add(void)
{
	struct wdtree t;

	TEST("wdtree_add_gives_paths") {
		small_tree(&t);
		CHECK(t.root == 1 && t.count == 4 && sound(&t));
		CHECK_STR(path(&t, 1, NULL), "");
		CHECK_STR(path(&t, 2, NULL), "a");
		CHECK_STR(path(&t, 3, NULL), "a/b");
		CHECK_STR(path(&t, 4, NULL), "c");
		CHECK_STR(path(&t, 1, "f"), "f");
		CHECK_STR(path(&t, 3, "f"), "a/b/f");
		CHECK_STR(path(&t, 3, ""), "a/b");
		CHECK_STR(path(&t, 9, NULL), "(none)");
		CHECK(wdtree_has(&t, 3) && !wdtree_has(&t, 9));
		CHECK(wdtree_parent(&t, 3) == 2);
		CHECK_STR(wdtree_name(&t, 3), "b");
		wdtree_clear(&t);
	}
	TEST("wdtree_known_place_changes_nothing") {
		small_tree(&t);
		CHECK(wdtree_place(&t, 3, 2, "b") == WDTREE_KNOWN);
		CHECK(wdtree_place(&t, 1, WDTREE_ROOT, "") == WDTREE_KNOWN);
		CHECK(t.count == 4 && t.names_dead == 0 && sound(&t));
		CHECK_STR(path(&t, 3, NULL), "a/b");
		wdtree_clear(&t);
	}
}

static void test_rename(void)
{
	struct wdtree t;

	TEST("wdtree_rename_carries_the_subtree") {
		small_tree(&t);
		CHECK(wdtree_place(&t, 2, 1, "x") == WDTREE_MOVED);
		CHECK_STR(path(&t, 2, NULL), "x");
		CHECK_STR(path(&t, 3, NULL), "x/b");
		CHECK_STR(path(&t, 4, NULL), "c");
		/* into another directory, under another name */
		CHECK(wdtree_place(&t, 2, 4, "y") == WDTREE_MOVED);
		CHECK_STR(path(&t, 2, NULL), "c/y");
		CHECK_STR(path(&t, 3, "f"), "c/y/b/f");
		/* same name, another parent */
		CHECK(wdtree_place(&t, 3, 1, "b") == WDTREE_MOVED);
		CHECK_STR(path(&t, 3, NULL), "b");
		CHECK_STR(path(&t, 2, NULL), "c/y");
		CHECK(t.count == 4 && sound(&t));
		wdtree_clear(&t);
	}
	TEST("wdtree_never_its_own_ancestor") {
		small_tree(&t);
		/* 2 "a" under its own child 3 "a/b": refused, and 2 marked
		 * moved out (it is not where the tree has it) */
		CHECK(wdtree_place(&t, 2, 3, "a") == WDTREE_LOOP);
		CHECK(t.sweep_due);
		CHECK_STR(path(&t, 2, NULL), "(none)");
		CHECK_STR(path(&t, 3, NULL), "(none)");
		CHECK_STR(path(&t, 4, NULL), "c");
		CHECK(wdtree_place(&t, 2, 2, "a") == WDTREE_LOOP);
		/* the root never moves */
		CHECK(wdtree_place(&t, 1, 4, "r") == WDTREE_REFUSED);
		CHECK_STR(path(&t, 1, NULL), "");
		CHECK_STR(path(&t, 4, NULL), "c");
		wdtree_clear(&t);
	}
}

static void test_move_out(void)
{
	struct wdtree t;

	TEST("wdtree_moved_out_has_no_path") {
		small_tree(&t);
		wdtree_move_out(&t, 2);
		CHECK(t.sweep_due && t.count == 4);
		CHECK_STR(path(&t, 2, NULL), "(none)");
		CHECK_STR(path(&t, 3, "f"), "(none)");
		CHECK_STR(path(&t, 4, NULL), "c");
		wdtree_move_out(&t, 1);		/* not the root */
		CHECK_STR(path(&t, 4, NULL), "c");
		wdtree_clear(&t);
	}
	TEST("wdtree_moved_back_before_the_sweep") {
		small_tree(&t);
		wdtree_move_out(&t, 2);
		CHECK(wdtree_place(&t, 2, 1, "a") == WDTREE_MOVED);
		CHECK_STR(path(&t, 2, NULL), "a");
		CHECK_STR(path(&t, 3, NULL), "a/b");
		/* back elsewhere, and only a part of what went out */
		wdtree_move_out(&t, 2);
		CHECK(wdtree_place(&t, 3, 4, "b2") == WDTREE_MOVED);
		CHECK_STR(path(&t, 3, NULL), "c/b2");
		CHECK_STR(path(&t, 2, NULL), "(none)");
		ndropped = 0;
		wdtree_sweep(&t, drop, NULL);
		CHECK(ndropped == 1 && dropped[0] == 2);
		CHECK(!t.sweep_due && t.count == 3 && sound(&t));
		CHECK_STR(path(&t, 3, NULL), "c/b2");
		wdtree_clear(&t);
	}
}

static void test_sweep(void)
{
	struct wdtree t;

	TEST("wdtree_sweep_drops_moved_out_subtrees") {
		small_tree(&t);
		CHECK(wdtree_place(&t, 5, 3, "d") == WDTREE_NEW);	/* a/b/d */
		CHECK(wdtree_place(&t, 6, 4, "e") == WDTREE_NEW);	/* c/e */
		wdtree_move_out(&t, 2);
		ndropped = 0;
		wdtree_sweep(&t, drop, NULL);
		CHECK(ndropped == 3 && was_dropped(2) && was_dropped(3) && was_dropped(5));
		CHECK(t.count == 3 && !wdtree_has(&t, 3) && sound(&t));
		CHECK_STR(path(&t, 6, NULL), "c/e");
		CHECK_STR(path(&t, 5, NULL), "(none)");
		/* nothing marked: nothing dropped */
		ndropped = 0;
		wdtree_sweep(&t, drop, NULL);
		CHECK(ndropped == 0 && t.count == 3);
		wdtree_clear(&t);
	}
	TEST("wdtree_sweep_drops_below_a_forgotten_node") {
		small_tree(&t);
		CHECK(wdtree_place(&t, 5, 3, "d") == WDTREE_NEW);
		wdtree_forget(&t, 2);	/* its watch went away first */
		CHECK(t.count == 4 && t.ndead == 1 && sound(&t));
		CHECK_STR(path(&t, 2, NULL), "(none)");
		CHECK_STR(path(&t, 5, NULL), "(none)");
		ndropped = 0;
		wdtree_sweep(&t, drop, NULL);
		CHECK(ndropped == 2 && was_dropped(3) && was_dropped(5));
		CHECK(t.count == 2 && sound(&t));
		CHECK_STR(path(&t, 4, NULL), "c");
		wdtree_clear(&t);
	}
	TEST("wdtree_orphan_not_adopted_by_a_reused_descriptor") {
		small_tree(&t);
		wdtree_forget(&t, 2);	/* 3 "a/b" is left without a place */
		/* the kernel wrapped around and hands out 2 again */
		CHECK(wdtree_place(&t, 2, 4, "n") == WDTREE_NEW);
		CHECK_STR(path(&t, 2, NULL), "c/n");
		CHECK_STR(path(&t, 3, NULL), "(none)");
		ndropped = 0;
		wdtree_sweep(&t, drop, NULL);
		CHECK(ndropped == 1 && dropped[0] == 3 && sound(&t));
		CHECK_STR(path(&t, 2, "f"), "c/n/f");
		wdtree_clear(&t);
	}
	TEST("wdtree_drop_missing_after_a_rebuild") {
		struct wdtree now;

		small_tree(&t);
		memset(&now, 0, sizeof now);
		CHECK(wdtree_place(&now, 1, WDTREE_ROOT, "") == WDTREE_NEW);
		CHECK(wdtree_place(&now, 3, 1, "b") == WDTREE_NEW);
		CHECK(wdtree_place(&now, 7, 3, "g") == WDTREE_NEW);
		wdtree_forget(&t, 4);	/* forgotten already: not dropped again */
		ndropped = 0;
		wdtree_drop_missing(&t, &now, drop, NULL);
		CHECK(ndropped == 1 && dropped[0] == 2);
		CHECK_STR(path(&now, 7, NULL), "b/g");
		wdtree_clear(&t);
		wdtree_clear(&now);
		CHECK(t.nodes == NULL && t.count == 0 && t.root == 0);
	}
}

static void test_compact(void)
{
	struct wdtree t;
	char name[64];
	int wd;

	TEST("wdtree_compaction_keeps_paths") {
		size_t cap;

		memset(&t, 0, sizeof t);
		CHECK(wdtree_place(&t, 1, WDTREE_ROOT, "") == WDTREE_NEW);
		for (wd = 2; wd <= 1001; wd++) {
			snprintf(name, sizeof name, "directory-with-a-long-name-%d", wd);
			CHECK(wdtree_place(&t, wd, wd % 10 == 2 ? 1 : wd - 1, name) == WDTREE_NEW);
		}
		/* forget all but the chain 1 <- 992 <- 993 ... <- 1001 */
		for (wd = 2; wd <= 991; wd++)
			wdtree_forget(&t, wd);
		CHECK(t.ndead == 990 && t.count == 11 && sound(&t));
		cap = t.capnodes;
		wdtree_compact(&t);
		CHECK(t.ndead == 0 && t.nnodes == 11 && t.capnodes < cap && sound(&t));
		CHECK(t.names_dead == 0 && t.names_len < 4096);
		CHECK_STR(path(&t, 992, NULL), "directory-with-a-long-name-992");
		CHECK_STR(path(&t, 1001, "f"), "directory-with-a-long-name-992/"
		    "directory-with-a-long-name-993/directory-with-a-long-name-994/"
		    "directory-with-a-long-name-995/directory-with-a-long-name-996/"
		    "directory-with-a-long-name-997/directory-with-a-long-name-998/"
		    "directory-with-a-long-name-999/directory-with-a-long-name-1000/"
		    "directory-with-a-long-name-1001/f");
		CHECK(!wdtree_has(&t, 500));
		/* and it goes on growing */
		CHECK(wdtree_place(&t, 1002, 1001, "z") == WDTREE_NEW);
		CHECK(wdtree_place(&t, 1003, 1, "y") == WDTREE_NEW);
		CHECK_STR(path(&t, 1003, NULL), "y");
		CHECK(sound(&t));
		wdtree_clear(&t);
	}
	TEST("wdtree_renames_compact_the_names") {
		int k;

		memset(&t, 0, sizeof t);
		CHECK(wdtree_place(&t, 1, WDTREE_ROOT, "") == WDTREE_NEW);
		CHECK(wdtree_place(&t, 2, 1, "a") == WDTREE_NEW);
		CHECK(wdtree_place(&t, 3, 2, "b") == WDTREE_NEW);
		for (k = 0; k < 400; k++) {
			snprintf(name, sizeof name, "renamed-again-and-again-%d", k);
			CHECK(wdtree_place(&t, 2, 1, name) == WDTREE_MOVED);
		}
		CHECK(t.names_dead > 4096);
		wdtree_compact(&t);
		CHECK(t.names_dead == 0 && t.names_len < 64 && sound(&t));
		CHECK_STR(path(&t, 3, NULL), "renamed-again-and-again-399/b");
		wdtree_clear(&t);
	}
}

static void test_wrap(void)
{
	struct wdtree t;

	TEST("wdtree_descriptors_wrapped_around") {
		memset(&t, 0, sizeof t);
		CHECK(wdtree_place(&t, INT_MAX - 2, WDTREE_ROOT, "") == WDTREE_NEW);
		CHECK(wdtree_place(&t, INT_MAX - 1, INT_MAX - 2, "a") == WDTREE_NEW);
		CHECK(wdtree_place(&t, INT_MAX, INT_MAX - 1, "b") == WDTREE_NEW);
		/* the kernel went on at 1 */
		CHECK(wdtree_place(&t, 1, INT_MAX, "c") == WDTREE_NEW);
		CHECK(wdtree_place(&t, 2, INT_MAX - 2, "d") == WDTREE_NEW);
		CHECK(wdtree_place(&t, 3, 1, "e") == WDTREE_NEW);
		CHECK(t.count == 6 && sound(&t) && t.nodes[0].wd == 1);
		CHECK_STR(path(&t, INT_MAX - 2, NULL), "");
		CHECK_STR(path(&t, INT_MAX, NULL), "a/b");
		CHECK_STR(path(&t, 3, NULL), "a/b/c/e");
		CHECK_STR(path(&t, 2, "f"), "d/f");
		/* a descriptor freed and handed out again takes its tombstone */
		wdtree_forget(&t, 3);
		CHECK(t.ndead == 1 && !wdtree_has(&t, 3));
		CHECK(wdtree_place(&t, 3, 2, "g") == WDTREE_NEW);
		CHECK(t.ndead == 0 && t.nnodes == 6 && sound(&t));
		CHECK_STR(path(&t, 3, NULL), "d/g");
		/* moves and sweeps across the wrap */
		CHECK(wdtree_place(&t, INT_MAX - 1, 3, "a") == WDTREE_MOVED);
		CHECK_STR(path(&t, 1, NULL), "d/g/a/b/c");
		wdtree_move_out(&t, 2);
		ndropped = 0;
		wdtree_sweep(&t, drop, NULL);
		CHECK(ndropped == 5 && !was_dropped(INT_MAX - 2));
		CHECK(t.count == 1 && sound(&t));
		wdtree_clear(&t);
	}
}

static void test_too_long(void)
{
	struct wdtree t;
	char name[256];
	int wd, depth = PATH_MAX / 256;		/* 255-byte names and a "/" */

	TEST("wdtree_path_too_long") {
		memset(name, 'n', 255);
		name[255] = '\0';
		memset(&t, 0, sizeof t);
		CHECK(wdtree_place(&t, 1, WDTREE_ROOT, "") == WDTREE_NEW);
		for (wd = 2; wd <= depth + 2; wd++)
			CHECK(wdtree_place(&t, wd, wd - 1, name) == WDTREE_NEW);
		/* PATH_MAX - 1 bytes, the most there is room for */
		CHECK(wdtree_path(&t, depth + 1, NULL, got) == PATH_MAX - 1);
		CHECK(wdtree_path(&t, depth + 1, "f", got) == -1);
		CHECK(wdtree_path(&t, depth + 2, NULL, got) == -1);
		CHECK(wdtree_path(&t, depth, "f", got) == PATH_MAX - 256 + 1);
		wdtree_clear(&t);
	}
}

/* --- random steps against a model ------------------------------------------ */

/* The model: every live node's full path, or the path it had when it
 * left the tree. group 0 is the tree; each move out (or a forgotten
 * parent) puts a subtree in a group of its own, with no path. */
struct ent {
	int wd;
	int group;
	char *path;
};

#define MAX_ENTS 200
#define WD_LOW 150		/* descriptors cycle through 1..WD_LOW and */
#define WD_HIGH (INT_MAX - 150)	/* WD_HIGH..INT_MAX, wrapping around often */

static struct ent ents[MAX_ENTS + 1];
static size_t nents;
static int groups, next_wd = 1;
static unsigned long long rng = 20240613;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(rng >> 33) % n;
}

static char *join(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	if (!p)
		abort();
	sprintf(p, "%s%s%s", dir, *dir ? "/" : "", name);
	return p;
}

static int ent_of(int wd)
{
	size_t i;

	for (i = 0; i < nents; i++)
		if (ents[i].wd == wd)
			return (int)i;
	return -1;
}

/* Whether ents[i] is ents[top] or below it: in the same group, under
 * top's path (everything is under the root's ""). */
static int below(size_t i, size_t top)
{
	const char *tp = ents[top].path, *p = ents[i].path;
	size_t l = strlen(tp);

	if (ents[i].group != ents[top].group || strncmp(p, tp, l) != 0)
		return 0;
	return l == 0 || p[l] == '\0' || p[l] == '/';
}

/* The next descriptor as the kernel hands them out: cyclic, never one
 * in use. */
static int new_wd(void)
{
	int wd;

	do {
		wd = next_wd;
		next_wd = wd == INT_MAX ? 1 : wd == WD_LOW ? WD_HIGH : wd + 1;
	} while (ent_of(wd) >= 0);
	return wd;
}

static const char *random_name(void)
{
	static const char *names[] = {
		"a", "b", "c", "dir", "x y", "Ünïcode", ".hidden", "a-rather-long-directory-name",
		"another-quite-long-directory-name-to-fill-the-names-arena", "0", "z"
	};
	return names[rnd(sizeof names / sizeof *names)];
}

/* Whether path p is free in group g (but for ents[self]). */
static int free_path(int g, const char *p, int self)
{
	size_t i;

	for (i = 0; i < nents; i++)
		if ((int)i != self && ents[i].group == g && strcmp(ents[i].path, p) == 0)
			return 0;
	return 1;
}

/* ents[top] and everything below it: to group g, with top's path
 * replaced by to (NULL: kept). */
static void regroup(size_t top, int g, const char *to)
{
	size_t i, l = strlen(ents[top].path);
	int mark[MAX_ENTS + 1];

	for (i = 0; i < nents; i++)
		mark[i] = below(i, top);
	for (i = 0; i < nents; i++) {
		if (!mark[i])
			continue;
		if (to) {
			const char *rest = ents[i].path + l;
			char *p = malloc(strlen(to) + strlen(rest) + 1);
			if (!p)
				abort();
			sprintf(p, "%s%s", to, rest);
			free(ents[i].path);
			ents[i].path = p;
		}
		ents[i].group = g;
	}
}

static void remove_ent(size_t i)
{
	free(ents[i].path);
	ents[i] = ents[--nents];
}

/* Every path the tree rebuilds is the model's. */
static int check_all(const struct wdtree *t, int step)
{
	size_t i;
	char *want;

	if (!sound(t) || t->count != nents) {
		printf("    step %d: the array is not sound, or %zu nodes for %zu\n",
		    step, t->count, nents);
		return 0;
	}
	for (i = 0; i < nents; i++) {
		const char *p = path(t, ents[i].wd, NULL);
		if (!wdtree_has(t, ents[i].wd) || strcmp(p, ents[i].group ? "(none)" :
		    ents[i].path) != 0) {
			printf("    step %d: wd %d is '%s', want '%s'\n", step, ents[i].wd, p,
			    ents[i].group ? "(none)" : ents[i].path);
			return 0;
		}
		if (ents[i].group)
			continue;
		want = join(ents[i].path, "f");
		p = path(t, ents[i].wd, "f");
		if (strcmp(p, want) != 0) {
			printf("    step %d: wd %d/f is '%s', want '%s'\n", step, ents[i].wd, p, want);
			free(want);
			return 0;
		}
		free(want);
	}
	return 1;
}

static void test_random(void)
{
	struct wdtree t;
	int step, ok = 1, wrapped = 0, sweeps = 0, node_compactions = 0, name_compactions = 0;
	int moves = 0, loops = 0;
	size_t total = 0;

	TEST("wdtree_random_steps_match_a_model") {
		memset(&t, 0, sizeof t);
		ents[0].wd = new_wd();
		ents[0].group = 0;
		ents[0].path = join("", "");
		nents = 1;
		CHECK(wdtree_place(&t, ents[0].wd, WDTREE_ROOT, "") == WDTREE_NEW);
		for (step = 0; step < 20000 && ok; step++) {
			unsigned op = rnd(100);
			size_t x = 1 + rnd(nents > 1 ? (unsigned)nents - 1 : 1);
			size_t p = rnd((unsigned)nents);
			const char *name = random_name();
			char *to = NULL;

			if (op < 50 || nents == 1) {	/* a new directory */
				int wd;
				if (nents > MAX_ENTS - 1 || strlen(ents[p].path) > 1000)
					continue;
				to = join(ents[p].path, name);
				if (!free_path(ents[p].group, to, -1)) {
					free(to);
					continue;
				}
				wd = new_wd();
				/* not appended: the descriptors wrapped around */
				wrapped += t.nnodes && t.nodes[t.nnodes - 1].wd >= wd;
				if (wdtree_place(&t, wd, ents[p].wd, name) != WDTREE_NEW) {
					printf("    step %d: adding wd %d is not new\n", step, wd);
					ok = 0;
				}
				ents[nents].wd = wd;
				ents[nents].group = ents[p].group;
				ents[nents++].path = to;
			} else if (op < 72) {		/* moved: in, within, back */
				enum wdtree_place want, r;
				if (strlen(ents[p].path) > 1000)
					continue;
				to = join(ents[p].path, name);
				if (below(p, x)) {
					if (rnd(8))
						goto skip;	/* rare in life */
					want = WDTREE_LOOP;
				} else if (!free_path(ents[p].group, to, (int)x)) {
					free(to);
					continue;
				} else {
					want = ents[x].group == ents[p].group &&
					    strcmp(ents[x].path, to) == 0 ? WDTREE_KNOWN : WDTREE_MOVED;
				}
				r = wdtree_place(&t, ents[x].wd, ents[p].wd, name);
				if (r != want) {
					printf("    step %d: placing wd %d under %d gave %d, want %d\n",
					    step, ents[x].wd, ents[p].wd, r, want);
					ok = 0;
				}
				if (want == WDTREE_LOOP) {
					regroup(x, ++groups, NULL);
					loops++;
				} else if (want == WDTREE_MOVED) {
					regroup(x, ents[p].group, to);
					moves++;
				}
				free(to);
			} else if (op < 76) {		/* moved out */
				wdtree_move_out(&t, ents[x].wd);
				regroup(x, ++groups, NULL);
			} else if (op < 85) {		/* its watch went away */
				int g = ++groups;
				size_t i;
				for (i = 0; i < nents; i++)
					if (i != x && below(i, x) && rnd(4))
						goto skip;	/* mostly after all below */
				wdtree_forget(&t, ents[x].wd);
				for (i = 0; i < nents; i++)
					if (i != x && below(i, x))
						ents[i].group = g;
				remove_ent(x);
			} else if (op < 90) {		/* the sweep after a batch */
				size_t i, want = 0;
				ndropped = 0;
				wdtree_sweep(&t, drop, NULL);
				for (i = 0; i < nents; i++) {
					want += ents[i].group != 0;
					if ((ents[i].group != 0) != was_dropped(ents[i].wd)) {
						printf("    step %d: wd %d dropped %d, in group %d\n",
						    step, ents[i].wd, was_dropped(ents[i].wd),
						    ents[i].group);
						ok = 0;
					}
				}
				if (ndropped != want || t.sweep_due) {
					printf("    step %d: %zu dropped for %zu\n", step, ndropped, want);
					ok = 0;
				}
				for (i = 0; i < nents; i++)
					if (ents[i].group)
						remove_ent(i--);
				sweeps++;
			} else {			/* compaction */
				size_t ndead = t.ndead, names_dead = t.names_dead;
				wdtree_compact(&t);
				node_compactions += ndead && !t.ndead;
				name_compactions += names_dead && !t.names_dead;
			}
			if (ok && !check_all(&t, step))
				ok = 0;
			total += nents;
			continue;
skip:
			free(to);
		}
		CHECK(ok);
		/* the run went where it should */
		CHECK(wrapped > 100 && sweeps > 100 && moves > 100 && loops > 10);
		CHECK(node_compactions > 5 && name_compactions > 5);
		if (unit_failed_now)
			printf("    %d steps: %d wrapped, %d sweeps, %d moves, %d loops, "
			    "%d+%d compactions, %zu nodes on average\n", step, wrapped, sweeps,
			    moves, loops, node_compactions, name_compactions, total / (size_t)step);
		while (nents)
			remove_ent(0);
		wdtree_clear(&t);
	}
}

int main(void)
{
	test_add();
	test_rename();
	test_move_out();
	test_sweep();
	test_compact();
	test_wrap();
	test_too_long();
	test_random();
	UNIT_EXIT();
}
