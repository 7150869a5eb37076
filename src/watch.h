/* The inotify watcher of one sync: watch descriptors <-> directories,
 * recursion into new directories, file sources through their parent. */
#ifndef PONI_WATCH_H
#define PONI_WATCH_H

#include <stddef.h>

#include "config.h"

enum watch_event {
	WATCH_CHANGED,		/* something under the source changed */
	WATCH_MOVED,		/* renamed within the tree: relpath is the old
				 * path, followed by its NUL and the new path */
	WATCH_OVERFLOW,		/* events were lost: the watcher has rescanned
				 * (see watcher_missing); sync everything */
	WATCH_SOURCE_GONE,	/* the source itself went away */
	WATCH_SOURCE_RELINKED	/* the symbolic link that is the source changed */
};

/* What a WATCH_CHANGED was, for holding new files until they are closed. */
#define WATCH_OPENED 1u		/* a regular file was created */
#define WATCH_WRITTEN 2u	/* a file was written to */
#define WATCH_CLOSED 4u		/* a file open for writing was closed */
/* Only its attributes changed (mode, owner, times: IN_ATTRIB), not its
 * content: a quick check (size and time) is enough to sync it. Without
 * this flag a change is one of content: written, created, deleted. */
#define WATCH_ATTRIB 8u
#define WATCH_DIR 16u		/* WATCH_MOVED: what moved is a directory */

/* relpath: relative to the source directory; "" for a file source, and
 * for a change of the source directory's own attributes. */
typedef void watch_fn(void *ctx, enum watch_event ev, const char *relpath,
		      unsigned flags);

struct watcher;

/* Create the inotify instance; NULL with errno on failure. */
struct watcher *watcher_new(const struct sync_conf *conf);
void watcher_free(struct watcher *w);
int watcher_fd(const struct watcher *w);
/* Place the watches. Returns 0, or -1 when the source does not exist
 * (errno ENOENT) or cannot be watched. */
int watcher_start(struct watcher *w);
/* Read a bounded batch of the pending inotify events (call again while
 * the fd is readable) and report them through fn. fn must neither free
 * nor rescan the watcher: after a queue overflow, watcher_read itself
 * rescans once the batch is done, then reports WATCH_OVERFLOW. */
void watcher_read(struct watcher *w, watch_fn *fn, void *ctx);
size_t watcher_count(const struct watcher *w);
/* How many directories the watch limit (fs.inotify.max_user_watches)
 * left unwatched at the last start or rescan. */
size_t watcher_missing(const struct watcher *w);
/* Walk the tree again and watch what is not watched yet (after a queue
 * overflow, or to retry after the watch limit). Returns how many
 * directories are still unwatched. */
size_t watcher_rescan(struct watcher *w);
/* fs.inotify.max_user_watches, or -1. */
long watch_limit(void);

#endif
