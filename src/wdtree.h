/* The watched directories of one watcher: a tree keyed by inotify watch
 * descriptor, each directory knowing its parent and its name there, so
 * that an event's path can be rebuilt. Pure data: the watcher places
 * and removes the kernel's watches, this remembers where each one is. */
#ifndef PONI_WDTREE_H
#define PONI_WDTREE_H

#include <stddef.h>
#include <stdint.h>

struct wdnode {
	int wd;
	int parent;		/* the parent's wd, or a mark (wdtree.c) */
	uint32_t name;		/* offset in names */
};

/* All zero is an empty tree. */
struct wdtree {
	struct wdnode *nodes;	/* sorted by wd, tombstones included */
	size_t nnodes, capnodes, ndead;
	char *names;		/* NUL-terminated names, back to back */
	size_t names_len, names_cap, names_dead;
	size_t count;		/* live nodes */
	int root;		/* wd of the root; 0 when there is none */
	int max_wd;		/* the highest wd placed so far */
	int sweep_due;		/* a node is marked moved out */
};

/* The parent given for the root (the kernel's descriptors start at 1). */
#define WDTREE_ROOT 0

enum wdtree_place {
	WDTREE_NEW,		/* added: its content is not known yet */
	WDTREE_KNOWN,		/* already there under this name */
	WDTREE_MOVED,		/* known elsewhere: moved here, with all below it */
	WDTREE_REFUSED,		/* the root, which never moves */
	WDTREE_LOOP		/* the move would make it its own ancestor: it is
				 * marked moved out instead (sweep now) */
};

/* Record directory wd as entry name of directory parent, a live node
 * (WDTREE_ROOT: wd is the root). */
enum wdtree_place wdtree_place(struct wdtree *t, int wd, int parent, const char *name);
/* Forget wd alone (its watch is gone); what was below it is left
 * without a place until the next sweep. */
void wdtree_forget(struct wdtree *t, int wd);
/* Mark wd as moved out of the tree: its events have no path, and the
 * next sweep forgets it with all below it, unless it is placed back
 * first. */
void wdtree_move_out(struct wdtree *t, int wd);

/* Called with each descriptor a sweep forgets, to remove its watch. */
typedef void wdtree_drop_fn(void *ctx, int wd);
/* Forget what is marked moved out and everything below it, and every
 * node whose parent is gone. */
void wdtree_sweep(struct wdtree *t, wdtree_drop_fn *drop, void *ctx);
/* Call drop for every live descriptor of old that now does not have. */
void wdtree_drop_missing(const struct wdtree *old, const struct wdtree *now,
			 wdtree_drop_fn *drop, void *ctx);
/* Give back the room of forgotten nodes and names once they are many. */
void wdtree_compact(struct wdtree *t);
/* Forget everything (the tree stays usable). */
void wdtree_clear(struct wdtree *t);

/* Whether wd is a live node. */
int wdtree_has(const struct wdtree *t, int wd);
/* wd's parent (or a mark, <= 0) and its name: for a live wd only; the
 * name moves when a node is added. */
int wdtree_parent(const struct wdtree *t, int wd);
const char *wdtree_name(const struct wdtree *t, int wd);
/* The path of wd relative to the root, plus "/name" when name is given
 * and not empty, into rel (PATH_MAX bytes). Returns its length, or -1
 * when too long or when wd's place is not known (moved out, below a
 * node forgotten, not a node). */
int wdtree_path(const struct wdtree *t, int wd, const char *name, char *rel);

#endif
