/* The tree of watched directories, keyed by watch descriptor.
 *
 * Nodes are kept in one array sorted by watch descriptor and found by
 * binary search: the kernel hands descriptors out in increasing order,
 * so a new node is appended (after the descriptors wrapped around past
 * INT_MAX, one is inserted in its place). A node knows its parent by the
 * parent's descriptor and its name relative to the parent (names live
 * back to back in one arena), so a directory costs 12 bytes plus its
 * name, and renaming a directory renames one node: everything below
 * follows. There are no child lists; the rare move of a directory out of
 * the tree is settled by one sweep over the array after the batch of
 * events that holds it. A forgotten node stays behind as a tombstone
 * (no moving of the array for each one) until compaction drops them all
 * at once. Callers name nodes by descriptor only, never by index. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wdtree.h"

/* Marks in wdnode.parent, beside WDTREE_ROOT. */
#define DEAD (-1)		/* forgotten: a tombstone until compaction */
#define MOVED_OUT (-2)		/* moved out of the tree: the sweep forgets it */

#define NONE SIZE_MAX		/* no such node */

static const char *name_at(const struct wdtree *t, size_t i)
{
	return t->names + t->nodes[i].name;
}

/* The first index whose wd is not below wd. */
static size_t lower_bound(const struct wdtree *t, int wd)
{
	size_t lo = 0, hi = t->nnodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->nodes[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The index of wd's live node, or NONE. */
static size_t find(const struct wdtree *t, int wd)
{
	size_t i = lower_bound(t, wd);

	return i < t->nnodes && t->nodes[i].wd == wd && t->nodes[i].parent != DEAD ? i : NONE;
}

/* The index of the parent of live node i, or NONE for the root, a node
 * moved out, or one whose parent is gone. */
static size_t parent_of(const struct wdtree *t, size_t i)
{
	return t->nodes[i].parent > 0 ? find(t, t->nodes[i].parent) : NONE;
}

static uint32_t add_name(struct wdtree *t, const char *name)
{
	size_t len = strlen(name) + 1;
	uint32_t at;

	if (t->names_len + len > UINT32_MAX)
		fatal("more than 4 GiB of directory names in one sync");
	if (t->names_len + len > t->names_cap) {
		while (t->names_len + len > t->names_cap)
			t->names_cap = t->names_cap ? t->names_cap * 2 : 256;
		t->names = xrealloc(t->names, t->names_cap);
	}
	at = (uint32_t)t->names_len;
	memcpy(t->names + at, name, len);
	t->names_len += len;
	return at;
}

static void add_node(struct wdtree *t, int wd, int parent, const char *name)
{
	uint32_t at = add_name(t, name);
	size_t i = t->nnodes;

	if (i && t->nodes[i - 1].wd >= wd) {
		/* only after the kernel's descriptors wrapped around */
		i = lower_bound(t, wd);
		if (t->nodes[i].wd == wd) {	/* a tombstone: reuse it */
			t->ndead--;
			goto fill;
		}
	}
	if (t->nnodes == t->capnodes) {
		if (t->capnodes > SIZE_MAX / 2 / sizeof *t->nodes)
			fatal("too many watched directories in one sync");
		t->capnodes = t->capnodes ? t->capnodes * 2 : 64;
		t->nodes = xrealloc(t->nodes, t->capnodes * sizeof *t->nodes);
	}
	memmove(&t->nodes[i + 1], &t->nodes[i], (t->nnodes - i) * sizeof *t->nodes);
	t->nnodes++;
fill:
	t->nodes[i].wd = wd;
	t->nodes[i].parent = parent;
	t->nodes[i].name = at;
	t->count++;
}

static void forget_at(struct wdtree *t, size_t i)
{
	t->names_dead += strlen(name_at(t, i)) + 1;
	t->nodes[i].parent = DEAD;
	t->ndead++;
	t->count--;
}

/* Descriptor wd is handed out again after the kernel's wrapped around:
 * nodes left below the forgotten node that had it must not take the new
 * one for their parent. Costs a pass, like the insertion that follows. */
static void disown(struct wdtree *t, int wd)
{
	size_t i;

	for (i = 0; i < t->nnodes; i++)
		if (t->nodes[i].parent == wd) {
			t->nodes[i].parent = MOVED_OUT;
			t->sweep_due = 1;
		}
}

enum wdtree_place wdtree_place(struct wdtree *t, int wd, int parent, const char *name)
{
	size_t i = find(t, wd), m;

	if (i == NONE) {
		if (wd <= t->max_wd)
			disown(t, wd);
		else
			t->max_wd = wd;
		add_node(t, wd, parent, name);
		if (parent == WDTREE_ROOT)
			t->root = wd;
		return WDTREE_NEW;
	}
	if (t->nodes[i].parent == parent && strcmp(name_at(t, i), name) == 0)
		return WDTREE_KNOWN;
	/* Known under another name: it was moved within the tree and the
	 * move is not handled yet. Rename it; what is below follows. But
	 * never make a node its own ancestor (possible only with stale
	 * knowledge after lost events): mark it moved out instead. */
	if (wd == t->root)
		return WDTREE_REFUSED;
	for (m = find(t, parent); m != NONE && t->nodes[m].wd != wd; m = parent_of(t, m))
		;
	if (m != NONE) {
		wdtree_move_out(t, wd);
		return WDTREE_LOOP;
	}
	if (strcmp(name_at(t, i), name) != 0) {
		uint32_t at = add_name(t, name);	/* may move names */
		t->names_dead += strlen(name_at(t, i)) + 1;
		t->nodes[i].name = at;
	}
	t->nodes[i].parent = parent;
	return WDTREE_MOVED;
}

void wdtree_forget(struct wdtree *t, int wd)
{
	size_t i = find(t, wd);

	if (i != NONE)
		forget_at(t, i);
}

void wdtree_move_out(struct wdtree *t, int wd)
{
	size_t i = find(t, wd);

	if (i != NONE && wd != t->root) {
		t->nodes[i].parent = MOVED_OUT;
		t->sweep_due = 1;
	}
}

/* One pass: each node's verdict is that of its nearest ancestor with
 * one, and is remembered along the way. */
void wdtree_sweep(struct wdtree *t, wdtree_drop_fn *drop, void *ctx)
{
	enum { UNKNOWN, KEEP, DROP };
	unsigned char *verdict = xmalloc(t->nnodes ? t->nnodes : 1);
	size_t i, m, steps;

	memset(verdict, UNKNOWN, t->nnodes);
	for (i = 0; i < t->nnodes; i++) {
		unsigned char v = DROP;

		if (t->nodes[i].parent == DEAD)
			continue;
		/* climb to a node that decides (bounded: a loop in stale
		 * information must not hang the daemon) */
		for (m = i, steps = 0; steps <= t->nnodes; steps++) {
			if (verdict[m] != UNKNOWN) {
				v = verdict[m];
				break;
			}
			if (t->nodes[m].wd == t->root) {
				v = KEEP;
				break;
			}
			if ((m = parent_of(t, m)) == NONE)
				break;
		}
		for (m = i; m != NONE && verdict[m] == UNKNOWN; m = parent_of(t, m)) {
			verdict[m] = v;
			if (t->nodes[m].wd == t->root)
				break;
		}
	}
	for (i = 0; i < t->nnodes; i++)
		if (verdict[i] == DROP) {
			drop(ctx, t->nodes[i].wd);
			forget_at(t, i);
		}
	free(verdict);
	t->sweep_due = 0;
}

/* Both sorted by wd: one merge finds the old ones not found now. */
void wdtree_drop_missing(const struct wdtree *old, const struct wdtree *now,
			 wdtree_drop_fn *drop, void *ctx)
{
	size_t i, j;

	for (i = j = 0; i < old->nnodes; i++) {
		if (old->nodes[i].parent == DEAD)
			continue;
		while (j < now->nnodes && now->nodes[j].wd < old->nodes[i].wd)
			j++;
		if (j == now->nnodes || now->nodes[j].wd != old->nodes[i].wd ||
		    now->nodes[j].parent == DEAD)
			drop(ctx, old->nodes[i].wd);
	}
}

/* Drop the tombstones once they are half of the array, and the dead
 * names once they are half of the arena; give memory back after a big
 * tree went away. */
void wdtree_compact(struct wdtree *t)
{
	size_t i, n;

	if (t->ndead > 64 && t->ndead * 2 > t->nnodes) {
		for (i = n = 0; i < t->nnodes; i++)
			if (t->nodes[i].parent != DEAD)
				t->nodes[n++] = t->nodes[i];
		t->nnodes = n;
		t->ndead = 0;
		if (t->capnodes > 256 && t->nnodes * 4 < t->capnodes) {
			t->capnodes = t->nnodes * 2 + 64;
			t->nodes = xrealloc(t->nodes, t->capnodes * sizeof *t->nodes);
		}
	}
	if (t->names_dead > 4096 && t->names_dead * 2 > t->names_len) {
		char *old = t->names;

		t->names_cap = t->names_len - t->names_dead + 256;
		t->names = xmalloc(t->names_cap);
		t->names_len = 0;
		for (i = 0; i < t->nnodes; i++) {
			size_t len;
			if (t->nodes[i].parent == DEAD)
				continue;
			len = strlen(old + t->nodes[i].name) + 1;
			memcpy(t->names + t->names_len, old + t->nodes[i].name, len);
			t->nodes[i].name = (uint32_t)t->names_len;
			t->names_len += len;
		}
		t->names_dead = 0;
		free(old);
	}
}

void wdtree_clear(struct wdtree *t)
{
	free(t->nodes);
	free(t->names);
	memset(t, 0, sizeof *t);
}

int wdtree_has(const struct wdtree *t, int wd)
{
	return find(t, wd) != NONE;
}

int wdtree_parent(const struct wdtree *t, int wd)
{
	size_t i = find(t, wd);

	return i == NONE ? DEAD : t->nodes[i].parent;
}

const char *wdtree_name(const struct wdtree *t, int wd)
{
	size_t i = find(t, wd);

	return i == NONE ? "" : name_at(t, i);
}

int wdtree_path(const struct wdtree *t, int wd, const char *name, char *rel)
{
	size_t i = find(t, wd), m, need = name && *name ? strlen(name) : 0, depth = 0, l, at;

	for (m = i; m == NONE || t->nodes[m].wd != t->root; m = parent_of(t, m)) {
		if (m == NONE || ++depth > PATH_MAX / 2)
			return -1;
		need += strlen(name_at(t, m)) + (need ? 1 : 0);
	}
	if (need >= PATH_MAX)
		return -1;
	rel[need] = '\0';
	at = need;
	if (name && *name) {
		l = strlen(name);
		memcpy(rel + (at -= l), name, l);
	}
	for (m = i; t->nodes[m].wd != t->root; m = parent_of(t, m)) {
		if (at < need)
			rel[--at] = '/';
		l = strlen(name_at(t, m));
		memcpy(rel + (at -= l), name_at(t, m), l);
	}
	return (int)need;
}
