/* The inotify watcher of one sync.
 *
 * A directory source gets one watch on itself and, with recurse, one on
 * every directory below it, placed at start and whenever a directory is
 * created or moved in. Watched directories form a tree of nodes, each
 * holding its name relative to its parent, so memory grows with names,
 * not with whole paths; a hash table maps watch descriptors to nodes.
 *
 * A file source is watched through its parent directory, filtered by
 * name, so that replacing the file by rename (editors, logrotate) is seen
 * like any write to it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exclude.h"
#include "util.h"
#include "watch.h"

#define DIR_EVENTS (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | \
	IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
	IN_MOVE_SELF | IN_EXCL_UNLINK | IN_ONLYDIR)

struct node {
	int wd;
	struct node *parent;
	struct node *child;	/* first subdirectory */
	struct node *sibling;	/* next subdirectory of parent */
	struct node *hnext;	/* next in its hash bucket */
	char name[];		/* relative to parent; "" for the root */
};

struct watcher {
	const struct sync_conf *conf;
	int fd;
	char *dir;		/* the watched directory (a file's parent) */
	char *file_name;	/* file source: its name in dir; else NULL */
	char *exclude_prefix;	/* "name/" when the transfer root is above dir */
	struct node *root;
	struct node **buckets;
	size_t nbuckets;
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
	w->nbuckets = 64;
	w->buckets = xcalloc(w->nbuckets, sizeof *w->buckets);
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

/* The wd -> node hash table. */

static size_t bucket_of(const struct watcher *w, int wd)
{
	return ((unsigned)wd * 2654435761u) & (w->nbuckets - 1);
}

static struct node *find(const struct watcher *w, int wd)
{
	struct node *n;

	for (n = w->buckets[bucket_of(w, wd)]; n; n = n->hnext)
		if (n->wd == wd)
			return n;
	return NULL;
}

static void hash_insert(struct watcher *w, struct node *n)
{
	size_t i, b;

	if (w->count >= w->nbuckets) {
		struct node **old = w->buckets;
		size_t oldn = w->nbuckets;
		w->nbuckets *= 2;
		w->buckets = xcalloc(w->nbuckets, sizeof *w->buckets);
		for (i = 0; i < oldn; i++) {
			struct node *m, *next;
			for (m = old[i]; m; m = next) {
				next = m->hnext;
				b = bucket_of(w, m->wd);
				m->hnext = w->buckets[b];
				w->buckets[b] = m;
			}
		}
		free(old);
	}
	b = bucket_of(w, n->wd);
	n->hnext = w->buckets[b];
	w->buckets[b] = n;
	w->count++;
}

static void hash_remove(struct watcher *w, struct node *n)
{
	struct node **p;

	for (p = &w->buckets[bucket_of(w, n->wd)]; *p; p = &(*p)->hnext)
		if (*p == n) {
			*p = n->hnext;
			w->count--;
			return;
		}
}

/* The full path of node n (plus "/name" when name is given) into out;
 * relative to dir when rel is set. Returns the length, or 0 if too long. */
static size_t node_path(const struct watcher *w, const struct node *n,
			const char *name, int rel, char *out, size_t outlen)
{
	const struct node *m;
	size_t len = 0, need;

	/* measure, then fill from the end */
	need = rel ? 0 : strlen(w->dir);
	for (m = n; m != w->root; m = m->parent)
		need += strlen(m->name) + 1;
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
	for (m = n; m != w->root; m = m->parent) {
		size_t l = strlen(m->name);
		need -= l;
		memcpy(out + need, m->name, l);
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
static void remove_tree(struct watcher *w, struct node *top, int rm_watches)
{
	struct node **p, *n = top, *parent;

	if (top->parent)
		for (p = &top->parent->child; *p; p = &(*p)->sibling)
			if (*p == top) {
				*p = top->sibling;
				break;
			}
	/* post-order without recursion: free leaves, climb back up */
	for (;;) {
		while (n->child)
			n = n->child;
		parent = n == top ? NULL : n->parent;
		if (parent)
			parent->child = n->sibling;
		if (rm_watches)
			inotify_rm_watch(w->fd, n->wd);
		hash_remove(w, n);
		if (n == w->root)
			w->root = NULL;
		free(n);
		if (!parent)
			return;
		n = parent;
	}
}

/* Watch directory path as child name of parent (parent NULL: the root). */
static struct node *add_watch(struct watcher *w, struct node *parent,
			      const char *name, const char *path)
{
	uint32_t mask = DIR_EVENTS | (parent ? IN_DONT_FOLLOW : 0);
	struct node *n;
	int wd = inotify_add_watch(w->fd, path, mask);

	if (wd < 0) {
		int err = errno;
		if (err == ENOSPC)
			w->missing += w->conf->recurse && !w->file_name ? count_dirs(path) : 1;
		else if (err != ENOENT && err != ENOTDIR)
			log_warn("cannot watch %s: %s", path, strerror(err));
		errno = err;
		return NULL;
	}
	if ((n = find(w, wd))) {
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;	/* a rescan finding what it knows */
		/* Watched under another name: it was moved and the move is
		 * not seen yet. Forget the old place (keeping the kernel's
		 * watches, which the caller's scan finds again). */
		if (n == w->root)
			return NULL;
		remove_tree(w, n, 0);
	}
	n = xcalloc(1, sizeof *n + strlen(name) + 1);
	strcpy(n->name, name);
	n->wd = wd;
	n->parent = parent;
	if (parent) {
		n->sibling = parent->child;
		parent->child = n;
	}
	hash_insert(w, n);
	return n;
}

/* Watch every directory below top, breadth first without recursion. */
static void scan(struct watcher *w, struct node *top)
{
	struct node **todo = NULL;
	size_t ntodo = 0, cap = 0;
	char path[PATH_MAX], rel[PATH_MAX];

	todo = xrealloc(todo, (cap = 16) * sizeof *todo);
	todo[ntodo++] = top;
	while (ntodo) {
		struct node *n = todo[--ntodo];
		struct dirent *de;
		DIR *d;

		if (!node_path(w, n, NULL, 0, path, sizeof path) ||
		    !(d = opendir(path)))
			continue;
		while ((de = readdir(d))) {
			struct node *c;
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
			if (!c)
				continue;
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
	if (!(w->root = add_watch(w, NULL, "", w->dir)))
		return errno == ENOSPC ? 0 : -1;
	if (!w->file_name && w->conf->recurse)
		scan(w, w->root);
	return 0;
}

size_t watcher_rescan(struct watcher *w)
{
	w->missing = 0;
	if (!w->root && !(w->root = add_watch(w, NULL, "", w->dir)))
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
static void dir_event(struct watcher *w, struct node *n,
		      const struct inotify_event *ev, watch_fn *fn, void *ctx)
{
	char rel[PATH_MAX];
	int is_dir = (ev->mask & IN_ISDIR) != 0;
	unsigned flags = 0;
	struct node *c;

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
			for (c = n->child; c; c = c->sibling)
				if (strcmp(c->name, ev->name) == 0)
					break;
			if (c)
				remove_tree(w, c, 1);
		} else if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			char path[PATH_MAX];
			/* Watch it first, then scan it: whatever was created
			 * inside before the watch existed is found by the
			 * scan, and the sync run that follows copies it. */
			if (node_path(w, n, ev->name, 0, path, sizeof path) &&
			    (c = add_watch(w, n, ev->name, path)))
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
			struct node *n;

			if (ev->mask & IN_Q_OVERFLOW) {
				fn(ctx, WATCH_OVERFLOW, "", 0);
				continue;
			}
			if (!(n = find(w, ev->wd)))
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
	if (w->root)
		remove_tree(w, w->root, 0);
	close(w->fd);
	free(w->buckets);
	free(w->dir);
	free(w->file_name);
	free(w->exclude_prefix);
	free(w);
}
