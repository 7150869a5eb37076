/* The set of paths changed since a sync's last run: deduplicated, and
 * bounded, so that a target that stays down for days costs no more
 * memory than a busy minute. Past the bound the set gives up its paths
 * and only remembers that everything must be synced. */
#ifndef PONI_PATHSET_H
#define PONI_PATHSET_H

#include <stdbool.h>
#include <stddef.h>

#define PATHSET_MAX_PATHS 20000
#define PATHSET_MAX_BYTES (2u << 20)

struct pathset {
	char **slots;		/* open addressing; NULL = empty */
	size_t nslots;
	size_t count;
	size_t bytes;		/* names' total length */
	bool everything;	/* over the bound, or asked for: a full sync */
};

/* Add a path (relative to the source). Past the bound the set collapses
 * to "everything". */
void pathset_add(struct pathset *ps, const char *path);
/* Forget the paths: a full sync is needed. */
void pathset_everything(struct pathset *ps);
bool pathset_empty(const struct pathset *ps);
/* Write every path, each preceded by prefix and followed by a NUL, to
 * fd. 0, or -1 with errno. */
int pathset_write(const struct pathset *ps, int fd, const char *prefix);
/* Up to max of the paths, in no particular order, into out; returns
 * how many. */
size_t pathset_some(const struct pathset *ps, const char **out, size_t max);
/* Empty the set (and forget "everything"). */
void pathset_clear(struct pathset *ps);
bool pathset_has(const struct pathset *ps, const char *path);
/* The paths that are from, or below it, are under to now: "from/x"
 * becomes "to/x". */
void pathset_rename(struct pathset *ps, const char *from, const char *to);
/* The paths of which that ps holds go from ps to dst. */
void pathset_move(struct pathset *ps, struct pathset *dst, const struct pathset *which);
/* Move src's paths that except does not hold into dst (empty before);
 * src is left empty. An "everything" src gives an "everything" dst. */
void pathset_take_except(struct pathset *dst, struct pathset *src,
			 const struct pathset *except);

#endif
