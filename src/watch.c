/* The inotify watcher of one sync.
 *
 * A directory source gets one watch on itself and, with recurse, one on
 * every directory below it, placed at start and whenever a directory is
 * created or moved in.
 *
 * Where each watched directory is, by watch descriptor, is kept in a
 * wdtree (wdtree.c), which also rebuilds an event's path. A directory
 * moved out of the tree is marked, and forgotten with everything below
 * it by one sweep after the batch of events that holds it. Events are
 * read one bounded batch per call; a queue overflow is met after its
 * batch by building the tree again, and only then reported.
 *
 * A file source is watched through its parent directory, filtered by
 * name, so that replacing the file by rename (editors, logrotate) is seen
 * like any write to it. A source that is a symbolic link is watched
 * where it points, and its own directory for the link's name, so that a
 * link pointed elsewhere (current -> releases/v3) is seen as the source
 * replaced.
 *
 * The watches are on the daemon's one inotify instance (inotify.c),
 * which hands each watcher the events of its own descriptors; when that
 * instance cannot be created, nothing is watched, and the directories
 * count as missing, as under the watch limit. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "exclude.h"
#include "inotify.h"
#include "loop.h"
#include "util.h"
#include "watch.h"
#include "wdtree.h"

struct watcher {
	const struct sync_conf *conf;
	struct ino_client client;	/* on the hub */
	watch_fn *fn;		/* where the events go */
	void *ctx;
	int overflow;		/* the batch read holds a queue overflow */
	char *dir;		/* the watched directory (a file's parent) */
	char *file_name;	/* file source: its name in dir; else NULL */
	char *exclude_prefix;	/* "name/" when the transfer root is above dir */
	int link_wd;		/* the directory of a source that is a link */
	char *link_name;	/* and the link's name there; else NULL */
	struct wdtree tree;	/* the watched directories; tree.root is dir */
	size_t missing;		/* directories the watch limit left unwatched */
	int no_instance;	/* and why: there is no inotify instance */
	char *move_from;	/* an IN_MOVED_FROM waiting for its IN_MOVED_TO */
	uint32_t move_cookie;
};

static void on_event(struct ino_client *c, const struct inotify_event *ev);
static void on_batch_end(struct ino_client *c);

struct watcher *watcher_new(const struct sync_conf *conf, watch_fn *fn, void *ctx)
{
	struct watcher *w = xcalloc(1, sizeof *w);

	w->conf = conf;
	w->fn = fn;
	w->ctx = ctx;
	w->client.event = on_event;
	w->client.batch_end = on_batch_end;
	ino_join(&w->client);
	return w;
}

size_t watcher_count(const struct watcher *w)
{
	return w->tree.count;
}

size_t watcher_missing(const struct watcher *w)
{
	return w->missing;
}

int watcher_no_instance(const struct watcher *w)
{
	return w->no_instance;
}

/* --- the tree ---------------------------------------------------------------- */

static void rm_watch(void *ctx, int wd)
{
	struct watcher *w = ctx;

	ino_rm(&w->client, wd);
}

/* Forget what moved out of the tree, with its kernel watches (the
 * directories still exist, elsewhere). */
static void sweep(struct watcher *w)
{
	wdtree_sweep(&w->tree, rm_watch, w);
}

/* --- paths ------------------------------------------------------------------ */

/* Append "/name" to a path of length len in a PATH_MAX buffer. */
static int join(char *path, size_t len, const char *name)
{
	size_t nl = strlen(name), sep = len && path[len - 1] != '/';

	if (len + sep + nl >= PATH_MAX)
		return -1;
	path[len] = '/';
	memcpy(path + len + sep, name, nl + 1);
	return 0;
}

/* Both paths of entry name of directory wd (its own with name NULL):
 * relative to the source directory, and absolute. */
static int paths_of(const struct watcher *w, int wd, const char *name,
		    char *rel, char *abs)
{
	size_t dl = strlen(w->dir);

	if (wdtree_path(&w->tree, wd, name, rel) < 0 || dl >= PATH_MAX)
		return -1;
	memcpy(abs, w->dir, dl + 1);
	return *rel ? join(abs, dl, rel) : 0;
}

static int excluded(const struct watcher *w, const char *rel, int is_dir)
{
	char path[PATH_MAX + NAME_MAX + 2];
	size_t pl = strlen(w->exclude_prefix), rl = strlen(rel);

	if (!w->conf->nexclude)
		return 0;
	memcpy(path, w->exclude_prefix, pl);
	memcpy(path + pl, rel, rl + 1);
	return exclude_match(w->conf->exclude, w->conf->nexclude, path, is_dir);
}

/* How many directories are below path (itself included): what the
 * watch limit left unwatched, for the log. Iterative, like scan. */
static size_t count_dirs(const char *path)
{
	char **todo = xmalloc(sizeof *todo);
	size_t ntodo = 0, cap = 1, count = 0;

	todo[ntodo++] = xstrdup(path);
	while (ntodo) {
		char *dir = todo[--ntodo];
		struct dirent *de;
		DIR *d = opendir(dir);

		count++;
		while (d && (de = readdir(d))) {
			struct stat st;
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (de->d_type != DT_DIR && (de->d_type != DT_UNKNOWN ||
			    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISDIR(st.st_mode)))
				continue;
			if (ntodo == cap)
				todo = xrealloc(todo, (cap *= 2) * sizeof *todo);
			todo[ntodo++] = xasprintf("%s/%s", dir, de->d_name);
		}
		if (d)
			closedir(d);
		free(dir);
	}
	free(todo);
	return count;
}

/* --- placing watches --------------------------------------------------------- */

/* Watch directory path as entry name of directory parent (WDTREE_ROOT:
 * path is the root). Returns its wd, or 0; *fresh tells whether it was
 * new to the tree (its content is not known yet: scan it). */
static int add_watch(struct watcher *w, int parent, const char *name,
		     const char *path, int *fresh)
{
	uint32_t lookup = IN_ONLYDIR | (parent != WDTREE_ROOT ? IN_DONT_FOLLOW : 0);
	int wd = ino_add(&w->client, path, lookup);

	*fresh = 0;
	if (wd < 0) {
		int err = errno;
		if (err == ENOSPC || !ino_ready()) {
			w->missing += w->conf->recurse && !w->file_name ? count_dirs(path) : 1;
			w->no_instance = !ino_ready();
		} else if (err != ENOENT && err != ENOTDIR)
			log_warn("cannot watch %s: %s", path, strerror(err));
		errno = err;
		return 0;
	}
	/* one known under another name was moved within the tree and the
	 * move is not handled yet: it is renamed, and what is below follows */
	switch (wdtree_place(&w->tree, wd, parent, name)) {
	case WDTREE_NEW:
		*fresh = 1;
		return wd;
	case WDTREE_KNOWN:
	case WDTREE_MOVED:
		return wd;
	case WDTREE_LOOP:	/* stale knowledge after lost events */
		sweep(w);
		return 0;
	case WDTREE_REFUSED:
		break;
	}
	return 0;
}

/* Whether a directory's link count on path's file system is 2 plus its
 * number of subdirectories, so that 2 means "none": true of ext2/3/4,
 * xfs and tmpfs; not of btrfs (always 1) and not known of others. */
static int nlink_counts_subdirs(const char *path)
{
	struct statfs fs;

	if (statfs(path, &fs) < 0)
		return 0;
	return fs.f_type == 0xEF53 /* ext2/3/4 */ || fs.f_type == 0x58465342 /* xfs */ ||
	    fs.f_type == 0x01021994 /* tmpfs */;
}

/* Watch every directory below the node of wd top, depth first without
 * recursion. A directory with no subdirectories is not opened at all
 * where the link count says so: most directories of a big tree are such
 * leaves, and reading them was most of the start-up's cost. */
static void scan(struct watcher *w, int top)
{
	int *todo, c, fresh;
	size_t ntodo = 0, cap = 16, rl, al;
	char abs[PATH_MAX], rel[PATH_MAX];
	int leaves_known = -1;

	todo = xmalloc(cap * sizeof *todo);
	todo[ntodo++] = top;
	while (ntodo) {
		int wd = todo[--ntodo];
		struct dirent *de;
		DIR *d;

		if (paths_of(w, wd, NULL, rel, abs) < 0)
			continue;
		if (leaves_known < 0)
			leaves_known = nlink_counts_subdirs(abs);
		if (!(d = opendir(abs)))
			continue;
		rl = strlen(rel);
		al = strlen(abs);
		while ((de = readdir(d))) {
			int is_dir = de->d_type == DT_DIR;

			if (de->d_type == DT_UNKNOWN) {
				struct stat st;
				is_dir = fstatat(dirfd(d), de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
			}
			if (!is_dir || strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (join(rel, rl, de->d_name) < 0 || excluded(w, rel, 1) ||
			    join(abs, al, de->d_name) < 0)
				goto next;
			if (!(c = add_watch(w, wd, de->d_name, abs, &fresh)))
				goto next;
			/* the watch is in place before the link count is read:
			 * a subdirectory made after that is an event */
			if (leaves_known) {
				struct stat st;
				if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISDIR(st.st_mode) && st.st_nlink == 2)
					goto next;
			}
			if (ntodo == cap)
				todo = xrealloc(todo, (cap *= 2) * sizeof *todo);
			todo[ntodo++] = c;
next:
			rel[rl] = '\0';
			abs[al] = '\0';
		}
		closedir(d);
	}
	free(todo);
}

/* A source that is a symbolic link: watch its directory for the link's
 * name (not added as a node: it is outside the tree). */
static void watch_link(struct watcher *w)
{
	char *path = xstrdup(w->conf->source), *slash;
	size_t len = strlen(path);
	struct stat st;

	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	free(w->link_name);
	w->link_name = NULL;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && (slash = strrchr(path, '/'))) {
		w->link_name = xstrdup(slash + 1);
		*(slash == path ? slash + 1 : slash) = '\0';
		/* the common mask (the hub's): event() keeps what concerns
		 * the link */
		w->link_wd = ino_add(&w->client, path, IN_ONLYDIR);
		if (w->link_wd < 0)
			w->link_wd = 0;
	}
	free(path);
}

int watcher_start(struct watcher *w)
{
	const char *src = w->conf->source;
	size_t len = strlen(src);
	struct stat st;
	char *slash;
	int fresh, root;

	free(w->dir);
	free(w->file_name);
	free(w->exclude_prefix);
	w->dir = w->file_name = w->exclude_prefix = NULL;
	if (stat(src, &st) < 0)
		return -1;
	watch_link(w);
	if (S_ISDIR(st.st_mode)) {
		w->dir = xstrdup(src);
		while (len > 1 && w->dir[len - 1] == '/')
			w->dir[--len] = '\0';
		/* "/a/b" transfers "b/..." and "/a/b/" transfers "..." */
		slash = strrchr(w->dir, '/');
		w->exclude_prefix = src[strlen(src) - 1] == '/' ? xstrdup("") :
		    xasprintf("%s/", slash ? slash + 1 : w->dir);
	} else {
		slash = strrchr(src, '/');
		w->dir = slash == src ? xstrdup("/") : xstrndup(src, (size_t)(slash - src));
		w->file_name = xstrdup(slash + 1);
		w->exclude_prefix = xstrdup("");
	}
	w->missing = 0;
	w->no_instance = 0;
	/* Not even the source watched for lack of watches or of an inotify
	 * instance: the periodic full syncs of the watch-limit fallback
	 * cover it. */
	if (!(root = add_watch(w, WDTREE_ROOT, "", w->dir, &fresh)))
		return errno == ENOSPC || w->no_instance ? 0 : -1;
	if (!w->file_name && w->conf->recurse)
		scan(w, root);
	wdtree_compact(&w->tree);
	return 0;
}

/* After lost events the record may be wrong in any way, so it is built
 * again from the tree as it is now (the kernel gives a directory that is
 * watched already its old descriptor); watches on directories no longer
 * found in the tree are then removed. */
size_t watcher_rescan(struct watcher *w)
{
	struct wdtree old = w->tree;
	int fresh, root;

	memset(&w->tree, 0, sizeof w->tree);
	w->missing = 0;
	w->no_instance = 0;
	if ((root = add_watch(w, WDTREE_ROOT, "", w->dir, &fresh)) &&
	    !w->file_name && w->conf->recurse)
		scan(w, root);
	wdtree_drop_missing(&old, &w->tree, rm_watch, w);
	wdtree_clear(&old);
	wdtree_compact(&w->tree);
	return w->missing;
}

/* --- events ---------------------------------------------------------------- */

/* A directory below the source reported its own move: if it is no
 * longer where the tree has it, it left the tree (a move within was
 * seen before as the new parent's IN_MOVED_TO and renamed the node). */
static void moved_self(struct watcher *w, int wd)
{
	char rel[PATH_MAX], abs[PATH_MAX], name[NAME_MAX + 1];
	int parent = wdtree_parent(&w->tree, wd), fresh, found;

	if (parent <= 0 || paths_of(w, wd, NULL, rel, abs) < 0 ||
	    strlen(wdtree_name(&w->tree, wd)) > NAME_MAX) {
		wdtree_move_out(&w->tree, wd);
		return;
	}
	/* what is there now is watched (it belongs to the tree); the name
	 * is copied, as adding a node may move the names */
	strcpy(name, wdtree_name(&w->tree, wd));
	found = add_watch(w, parent, name, abs, &fresh);
	if (found == wd)
		return;
	wdtree_move_out(&w->tree, wd);
	if (found && fresh)
		scan(w, found);
}

/* The first half of a move whose second half did not follow (a move
 * out of the tree, or to an excluded name): a change of its own. */
static void flush_move(struct watcher *w, watch_fn *fn, void *ctx)
{
	if (!w->move_from)
		return;
	fn(ctx, WATCH_CHANGED, w->move_from, 0);
	free(w->move_from);
	w->move_from = NULL;
}

/* Both halves of a move within the tree: one report of both paths. */
static void report_move(struct watcher *w, const char *to, int is_dir, watch_fn *fn, void *ctx)
{
	size_t fl = strlen(w->move_from), tl = strlen(to);
	char *both = xmalloc(fl + tl + 2);

	memcpy(both, w->move_from, fl + 1);
	memcpy(both + fl + 1, to, tl + 1);
	fn(ctx, WATCH_MOVED, both, is_dir ? WATCH_DIR : 0);
	free(both);
	free(w->move_from);
	w->move_from = NULL;
}

/* One event of a directory source, on directory wd. */
static void dir_event(struct watcher *w, int wd, const struct inotify_event *ev,
		      watch_fn *fn, void *ctx)
{
	char rel[PATH_MAX], abs[PATH_MAX];
	int is_dir = (ev->mask & IN_ISDIR) != 0, c, fresh;
	unsigned flags = 0;

	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (wd == w->tree.root)
			fn(ctx, WATCH_SOURCE_GONE, "", 0);
		else if (ev->mask & IN_MOVE_SELF)
			moved_self(w, wd);
		return;		/* the parent reports the change itself */
	}
	/* the source directory's own mode, owner or times: only a full
	 * run carries those (a listed "." would recurse into everything) */
	if (!ev->len && wd == w->tree.root && (ev->mask & IN_ATTRIB)) {
		fn(ctx, WATCH_CHANGED, "", WATCH_ATTRIB);
		return;
	}
	if (!ev->len || paths_of(w, wd, ev->name, rel, abs) < 0)
		return;
	if (excluded(w, rel, is_dir))
		return;
	/* Watch a new directory first, then scan it: whatever was created
	 * inside before the watch existed is found by the scan, and the
	 * sync run that follows copies it. One moved within the tree is
	 * only renamed: its watches stay. */
	if (is_dir && w->conf->recurse && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
	    (c = add_watch(w, wd, ev->name, abs, &fresh)) && fresh)
		scan(w, c);
	if (ev->mask & IN_MODIFY)
		flags = WATCH_WRITTEN;
	else if (ev->mask & IN_CLOSE_WRITE)
		flags = WATCH_CLOSED;
	else if (ev->mask & IN_ATTRIB)
		flags = WATCH_ATTRIB;
	else if ((ev->mask & IN_CREATE) && !is_dir) {
		struct stat st;
		if (lstat(abs, &st) == 0 && S_ISREG(st.st_mode))
			flags = WATCH_OPENED;
	}
	/* A rename within the tree is queued as an IN_MOVED_FROM and, next,
	 * an IN_MOVED_TO of the same cookie: the first waits for the second
	 * (see event), to report one move. */
	if (ev->mask & IN_MOVED_FROM) {
		w->move_from = xstrdup(rel);
		w->move_cookie = ev->cookie;
		return;
	}
	if ((ev->mask & IN_MOVED_TO) && w->move_from && ev->cookie == w->move_cookie) {
		report_move(w, rel, is_dir, fn, ctx);
		return;
	}
	fn(ctx, WATCH_CHANGED, rel, flags);
}

/* One event; returns 1 for a queue overflow. */
static int event(struct watcher *w, const struct inotify_event *ev, watch_fn *fn, void *ctx)
{
	if (ev->mask & IN_Q_OVERFLOW)
		return 1;
	if (w->move_from && !((ev->mask & IN_MOVED_TO) && ev->cookie == w->move_cookie))
		flush_move(w, fn, ctx);
	if (w->link_wd && ev->wd == w->link_wd) {
		if (ev->len && (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_DELETE |
		    IN_MOVED_FROM)) && strcmp(ev->name, w->link_name) == 0)
			fn(ctx, WATCH_SOURCE_RELINKED, "", 0);
		if (ev->mask & IN_IGNORED)
			w->link_wd = 0;	/* the hub has forgotten it */
		return 0;
	}
	if (!wdtree_has(&w->tree, ev->wd))
		return 0;	/* a watch already forgotten */
	if (ev->mask & IN_IGNORED) {
		/* its directory is gone (after all below it) */
		if (ev->wd == w->tree.root) {
			wdtree_clear(&w->tree);
			fn(ctx, WATCH_SOURCE_GONE, "", 0);
		} else {
			wdtree_forget(&w->tree, ev->wd);
		}
		return 0;
	}
	if (w->file_name) {
		if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
			fn(ctx, WATCH_SOURCE_GONE, "", 0);
		else if (ev->len && strcmp(ev->name, w->file_name) == 0)
			fn(ctx, WATCH_CHANGED, "", ev->mask & IN_ATTRIB ? WATCH_ATTRIB : 0);
		return 0;
	}
	dir_event(w, ev->wd, ev, fn, ctx);
	return 0;
}

/* The hub's callbacks: each event of the batch it read, then the end of
 * the batch. fn must neither free nor rescan the watcher: after a queue
 * overflow the watcher itself rescans once the batch is done, then
 * reports WATCH_OVERFLOW. Nothing needs the queue emptied: the sweep and
 * the compaction after a batch are as right between any two events. */
static void on_event(struct ino_client *c, const struct inotify_event *ev)
{
	struct watcher *w = container_of(c, struct watcher, client);

	w->overflow |= event(w, ev, w->fn, w->ctx);
}

static void on_batch_end(struct ino_client *c)
{
	struct watcher *w = container_of(c, struct watcher, client);

	flush_move(w, w->fn, w->ctx);	/* (a rename's halves are rarely read apart) */
	if (w->overflow) {
		/* Events were lost, maybe creations of directories among
		 * them: the tree is built again here, after the batch (not
		 * from the callback in its middle), then the sync is told. */
		w->overflow = 0;
		watcher_rescan(w);
		w->fn(w->ctx, WATCH_OVERFLOW, "", 0);
	} else {
		if (w->tree.sweep_due)
			sweep(w);
		wdtree_compact(&w->tree);
	}
	w->fn(w->ctx, WATCH_BATCH_END, "", 0);
}

void watcher_free(struct watcher *w)
{
	struct wdtree none = { 0 };

	if (!w)
		return;
	wdtree_drop_missing(&w->tree, &none, rm_watch, w);
	if (w->link_wd)
		ino_rm(&w->client, w->link_wd);
	ino_leave(&w->client);
	wdtree_clear(&w->tree);
	free(w->dir);
	free(w->file_name);
	free(w->exclude_prefix);
	free(w->link_name);
	free(w->move_from);
	free(w);
}
