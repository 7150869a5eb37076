/* The inotify watcher of one sync.
 *
 * A directory source gets one watch on itself and, with recurse, one on
 * every directory below it, placed at start and whenever a directory is
 * created or moved in. Watched directories form a tree of nodes, each
 * holding its name relative to its parent, so memory grows with names,
 * not with whole paths; an open-addressed table maps watch descriptors
 * to nodes.
 *
 * A file source is watched through its parent directory, filtered by
 * name, so that replacing the file by rename (editors, logrotate) is seen
 * like any write to it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "exclude.h"
#include "util.h"
#include "watch.h"

#define DIR_EVENTS (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | \
	IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
	IN_MOVE_SELF | IN_EXCL_UNLINK | IN_ONLYDIR)

/* A watched directory. Nodes live in one array and refer to each other
 * by index, names in one arena: per directory, 20 bytes plus its name
 * plus a slot of the wd table, with no allocator overhead. */
struct node {
	int wd;			/* -1: a free slot */
	uint32_t parent;	/* NONE for the root */
	uint32_t child;		/* first subdirectory */
	uint32_t sibling;	/* next subdirectory of parent; next free slot */
	uint32_t name;		/* offset in names: relative to parent */
};

#define NONE UINT32_MAX

struct watcher {
	const struct sync_conf *conf;
	int fd;
	char *dir;		/* the watched directory (a file's parent) */
	char *file_name;	/* file source: its name in dir; else NULL */
	char *exclude_prefix;	/* "name/" when the transfer root is above dir */
	uint32_t root;
	struct node *nodes;
	uint32_t nnodes, capnodes;	/* slots used (live or free), allocated */
	uint32_t free_nodes;	/* list through sibling */
	char *names;		/* NUL-terminated names, back to back */
	size_t names_len, names_cap, names_dead;
	uint32_t *table;	/* wd -> node, open addressing; NONE: empty */
	size_t table_size;	/* a power of two, at most half full */
	size_t count;
	size_t missing;		/* directories the watch limit left unwatched */
};

struct watcher *watcher_new(const struct sync_conf *conf)
{
	struct watcher *w;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return NULL;
	w = xcalloc(1, sizeof *w);
	w->conf = conf;
	w->fd = fd;
	w->root = NONE;
	w->free_nodes = NONE;
	return w;
}

int watcher_fd(const struct watcher *w)
{
	return w->fd;
}

size_t watcher_count(const struct watcher *w)
{
	return w->count;
}

static const char *name_of(const struct watcher *w, uint32_t n)
{
	return w->names + w->nodes[n].name;
}

/* The wd -> node table: linear probing, deletion by backward shift. */

static size_t slot_of(const struct watcher *w, int wd)
{
	return ((unsigned)wd * 2654435761u) & (w->table_size - 1);
}

static uint32_t find(const struct watcher *w, int wd)
{
	size_t i;

	if (!w->table_size)
		return NONE;
	for (i = slot_of(w, wd); w->table[i] != NONE; i = (i + 1) & (w->table_size - 1))
		if (w->nodes[w->table[i]].wd == wd)
			return w->table[i];
	return NONE;
}

static void table_put(struct watcher *w, uint32_t n)
{
	size_t i;

	for (i = slot_of(w, w->nodes[n].wd); w->table[i] != NONE; i = (i + 1) & (w->table_size - 1))
		;
	w->table[i] = n;
}

static void table_insert(struct watcher *w, uint32_t n)
{
	if ((w->count + 1) * 2 > w->table_size) {
		uint32_t *old = w->table;
		size_t i, oldsize = w->table_size;

		w->table_size = oldsize ? oldsize * 2 : 64;
		w->table = xmalloc(w->table_size * sizeof *w->table);
		memset(w->table, 0xff, w->table_size * sizeof *w->table);
		for (i = 0; i < oldsize; i++)
			if (old[i] != NONE)
				table_put(w, old[i]);
		free(old);
	}
	table_put(w, n);
	w->count++;
}

static void table_remove(struct watcher *w, uint32_t n)
{
	size_t i, j, home, mask = w->table_size - 1;

	for (i = slot_of(w, w->nodes[n].wd); w->table[i] != n; i = (i + 1) & mask)
		if (w->table[i] == NONE)
			return;
	/* shift back the entries after it that would not be found past
	 * the hole */
	for (j = (i + 1) & mask; w->table[j] != NONE; j = (j + 1) & mask) {
		home = slot_of(w, w->nodes[w->table[j]].wd);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			w->table[i] = w->table[j];
			i = j;
		}
	}
	w->table[i] = NONE;
	w->count--;
}

/* Keep the names arena at most half dead: copy the live names over. */
static void compact_names(struct watcher *w)
{
	char *old = w->names;
	uint32_t n;
	size_t len;

	w->names_cap = w->names_len - w->names_dead + 64;
	w->names = xmalloc(w->names_cap);
	w->names_len = 0;
	for (n = 0; n < w->nnodes; n++) {
		if (w->nodes[n].wd < 0)
			continue;
		len = strlen(old + w->nodes[n].name) + 1;
		memcpy(w->names + w->names_len, old + w->nodes[n].name, len);
		w->nodes[n].name = (uint32_t)w->names_len;
		w->names_len += len;
	}
	w->names_dead = 0;
	free(old);
}

static uint32_t add_name(struct watcher *w, const char *name)
{
	size_t len = strlen(name) + 1;
	uint32_t at;

	if (w->names_len + len > w->names_cap) {
		while (w->names_len + len > w->names_cap)
			w->names_cap = w->names_cap ? w->names_cap * 2 : 256;
		w->names = xrealloc(w->names, w->names_cap);
	}
	if (w->names_len + len > UINT32_MAX)
		fatal("more than 4 GiB of directory names in one sync");
	at = (uint32_t)w->names_len;
	memcpy(w->names + at, name, len);
	w->names_len += len;
	return at;
}

static uint32_t new_node(struct watcher *w, int wd, uint32_t parent, const char *name)
{
	uint32_t n, at = add_name(w, name);	/* may move names, not nodes */

	if (w->free_nodes != NONE) {
		n = w->free_nodes;
		w->free_nodes = w->nodes[n].sibling;
	} else {
		if (w->nnodes == w->capnodes) {
			if (w->capnodes >= UINT32_MAX / 2)
				fatal("too many watched directories in one sync");
			w->capnodes = w->capnodes ? w->capnodes * 2 : 64;
			w->nodes = xrealloc(w->nodes, w->capnodes * sizeof *w->nodes);
		}
		n = w->nnodes++;
	}
	w->nodes[n].wd = wd;
	w->nodes[n].parent = parent;
	w->nodes[n].child = NONE;
	w->nodes[n].name = at;
	w->nodes[n].sibling = parent == NONE ? NONE : w->nodes[parent].child;
	if (parent != NONE)
		w->nodes[parent].child = n;
	table_insert(w, n);
	return n;
}

static void free_node(struct watcher *w, uint32_t n)
{
	table_remove(w, n);
	w->names_dead += strlen(name_of(w, n)) + 1;
	w->nodes[n].wd = -1;
	w->nodes[n].sibling = w->free_nodes;
	w->free_nodes = n;
	if (w->names_dead > 4096 && w->names_dead * 2 > w->names_len)
		compact_names(w);
}

/* The full path of node n (plus "/name" when name is given) into out;
 * relative to dir when rel is set. Returns the length, or 0 if too long. */
static size_t node_path(const struct watcher *w, uint32_t n,
			const char *name, int rel, char *out, size_t outlen)
{
	uint32_t m;
	size_t len = 0, need;

	/* measure, then fill from the end */
	need = rel ? 0 : strlen(w->dir);
	for (m = n; m != w->root; m = w->nodes[m].parent)
		need += strlen(name_of(w, m)) + 1;
	if (name && *name)
		need += strlen(name) + 1;
	if (rel && need > 0)
		need--;		/* no leading slash */
	if (need + 1 > outlen)
		return 0;
	out[need] = '\0';
	len = need;
	if (name && *name) {
		size_t l = strlen(name);
		need -= l;
		memcpy(out + need, name, l);
		if (need > 0)
			out[--need] = '/';
	}
	for (m = n; m != w->root; m = w->nodes[m].parent) {
		size_t l = strlen(name_of(w, m));
		need -= l;
		memcpy(out + need, name_of(w, m), l);
		if (need > 0)
			out[--need] = '/';
	}
	if (!rel)
		memcpy(out, w->dir, strlen(w->dir));
	return len;
}

static int excluded(const struct watcher *w, const char *relpath, int is_dir)
{
	char path[PATH_MAX + NAME_MAX];

	if (!w->conf->nexclude)
		return 0;
	snprintf(path, sizeof path, "%s%s", w->exclude_prefix, relpath);
	return exclude_match(w->conf->exclude, w->conf->nexclude, path, is_dir);
}

long watch_limit(void)
{
	char value[32];
	long limit = -1;
	FILE *f = fopen("/proc/sys/fs/inotify/max_user_watches", "re");

	if (f) {
		if (fgets(value, sizeof value, f))
			limit = strtol(value, NULL, 10);
		fclose(f);
	}
	return limit;
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

/* Forget top and everything below it; drop the kernel's watches too
 * when the directories still exist (moved out of the tree). */
static void remove_tree(struct watcher *w, uint32_t top, int rm_watches)
{
	uint32_t *p, n = top, parent;

	if (w->nodes[top].parent != NONE)
		for (p = &w->nodes[w->nodes[top].parent].child; *p != NONE;
		     p = &w->nodes[*p].sibling)
			if (*p == top) {
				*p = w->nodes[top].sibling;
				break;
			}
	/* post-order without recursion: free leaves, climb back up */
	for (;;) {
		while (w->nodes[n].child != NONE)
			n = w->nodes[n].child;
		parent = n == top ? NONE : w->nodes[n].parent;
		if (parent != NONE)
			w->nodes[parent].child = w->nodes[n].sibling;
		if (rm_watches)
			inotify_rm_watch(w->fd, w->nodes[n].wd);
		if (n == w->root)
			w->root = NONE;
		free_node(w, n);
		if (parent == NONE)
			return;
		n = parent;
	}
}

/* Watch directory path as child name of parent (NONE: the root).
 * Returns the node, or NONE. */
static uint32_t add_watch(struct watcher *w, uint32_t parent,
			  const char *name, const char *path)
{
	uint32_t mask = DIR_EVENTS | (parent != NONE ? IN_DONT_FOLLOW : 0), n;
	int wd = inotify_add_watch(w->fd, path, mask);

	if (wd < 0) {
		int err = errno;
		if (err == ENOSPC)
			w->missing += w->conf->recurse && !w->file_name ? count_dirs(path) : 1;
		else if (err != ENOENT && err != ENOTDIR)
			log_warn("cannot watch %s: %s", path, strerror(err));
		errno = err;
		return NONE;
	}
	if ((n = find(w, wd)) != NONE) {
		if (w->nodes[n].parent == parent && strcmp(name_of(w, n), name) == 0)
			return n;	/* a rescan finding what it knows */
		/* Watched under another name: it was moved and the move is
		 * not seen yet. Forget the old place (keeping the kernel's
		 * watches, which the caller's scan finds again). */
		if (n == w->root)
			return NONE;
		remove_tree(w, n, 0);
	}
	return new_node(w, wd, parent, name);
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

/* Watch every directory below top, depth first without recursion. A
 * directory with no subdirectories is not opened at all where the link
 * count says so: most directories of a big tree are such leaves, and
 * reading them was most of the start-up's cost. */
static void scan(struct watcher *w, uint32_t top)
{
	uint32_t *todo, c;
	size_t ntodo = 0, cap = 16;
	char path[PATH_MAX], rel[PATH_MAX];
	int leaves_known;

	if (!node_path(w, top, NULL, 0, path, sizeof path))
		return;
	leaves_known = nlink_counts_subdirs(path);
	todo = xmalloc(cap * sizeof *todo);
	todo[ntodo++] = top;
	while (ntodo) {
		uint32_t n = todo[--ntodo];
		struct dirent *de;
		DIR *d;

		if (!node_path(w, n, NULL, 0, path, sizeof path) ||
		    !(d = opendir(path)))
			continue;
		while ((de = readdir(d))) {
			char *full;
			int is_dir = de->d_type == DT_DIR;

			if (de->d_type == DT_UNKNOWN) {
				struct stat st;
				is_dir = fstatat(dirfd(d), de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
			}
			if (!is_dir || strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (!node_path(w, n, de->d_name, 1, rel, sizeof rel) ||
			    excluded(w, rel, 1))
				continue;
			full = xasprintf("%s/%s", path, de->d_name);
			c = add_watch(w, n, de->d_name, full);
			free(full);
			if (c == NONE)
				continue;
			/* the watch is in place before the link count is read:
			 * a subdirectory made after that is an event */
			if (leaves_known) {
				struct stat st;
				if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISDIR(st.st_mode) && st.st_nlink == 2)
					continue;
			}
			if (ntodo == cap)
				todo = xrealloc(todo, (cap *= 2) * sizeof *todo);
			todo[ntodo++] = c;
		}
		closedir(d);
	}
	free(todo);
}

int watcher_start(struct watcher *w)
{
	const char *src = w->conf->source;
	size_t len = strlen(src);
	struct stat st;
	char *slash;

	free(w->dir);
	free(w->file_name);
	free(w->exclude_prefix);
	w->dir = w->file_name = w->exclude_prefix = NULL;
	if (stat(src, &st) < 0)
		return -1;
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
	/* Not even the source watched for lack of watches: the periodic
	 * full syncs of the watch-limit fallback cover it. */
	if ((w->root = add_watch(w, NONE, "", w->dir)) == NONE)
		return errno == ENOSPC ? 0 : -1;
	if (!w->file_name && w->conf->recurse)
		scan(w, w->root);
	return 0;
}

size_t watcher_rescan(struct watcher *w)
{
	w->missing = 0;
	if (w->root == NONE && (w->root = add_watch(w, NONE, "", w->dir)) == NONE)
		return w->missing;
	if (!w->file_name && w->conf->recurse)
		scan(w, w->root);
	return w->missing;
}

size_t watcher_missing(const struct watcher *w)
{
	return w->missing;
}

/* One event of a directory source. */
static void dir_event(struct watcher *w, uint32_t n,
		      const struct inotify_event *ev, watch_fn *fn, void *ctx)
{
	char rel[PATH_MAX];
	int is_dir = (ev->mask & IN_ISDIR) != 0;
	unsigned flags = 0;
	uint32_t c;

	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (n == w->root)
			fn(ctx, WATCH_SOURCE_GONE, "", 0);
		return;		/* the parent reports it for subdirectories */
	}
	if (!ev->len || !node_path(w, n, ev->name, 1, rel, sizeof rel))
		return;
	if (excluded(w, rel, is_dir))
		return;
	if (is_dir && w->conf->recurse) {
		if (ev->mask & IN_MOVED_FROM) {
			for (c = w->nodes[n].child; c != NONE; c = w->nodes[c].sibling)
				if (strcmp(name_of(w, c), ev->name) == 0)
					break;
			if (c != NONE)
				remove_tree(w, c, 1);
		} else if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			char path[PATH_MAX];
			/* Watch it first, then scan it: whatever was created
			 * inside before the watch existed is found by the
			 * scan, and the sync run that follows copies it. */
			if (node_path(w, n, ev->name, 0, path, sizeof path) &&
			    (c = add_watch(w, n, ev->name, path)) != NONE)
				scan(w, c);
		}
	}
	if (ev->mask & IN_MODIFY)
		flags = WATCH_WRITTEN;
	else if (ev->mask & IN_CLOSE_WRITE)
		flags = WATCH_CLOSED;
	else if ((ev->mask & IN_CREATE) && !is_dir) {
		char path[PATH_MAX];
		struct stat st;
		if (node_path(w, n, ev->name, 0, path, sizeof path) &&
		    lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			flags = WATCH_OPENED;
	}
	fn(ctx, WATCH_CHANGED, rel, flags);
}

void watcher_read(struct watcher *w, watch_fn *fn, void *ctx)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;
	char *p;

	for (;;) {
		len = read(w->fd, buf, sizeof buf);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return;
		for (p = buf; p < buf + len;
		     p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			uint32_t n;

			if (ev->mask & IN_Q_OVERFLOW) {
				fn(ctx, WATCH_OVERFLOW, "", 0);
				continue;
			}
			if ((n = find(w, ev->wd)) == NONE)
				continue;	/* a watch already forgotten */
			if (ev->mask & IN_IGNORED) {
				int was_root = n == w->root;
				remove_tree(w, n, 0);
				if (was_root)
					fn(ctx, WATCH_SOURCE_GONE, "", 0);
				continue;
			}
			if (w->file_name) {
				if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
					fn(ctx, WATCH_SOURCE_GONE, "", 0);
				else if (ev->len && strcmp(ev->name, w->file_name) == 0)
					fn(ctx, WATCH_CHANGED, "", 0);
				continue;
			}
			dir_event(w, n, ev, fn, ctx);
		}
	}
}

void watcher_free(struct watcher *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w->nodes);
	free(w->names);
	free(w->table);
	free(w->dir);
	free(w->file_name);
	free(w->exclude_prefix);
	free(w);
}
