/* The inotify watcher of one sync.
 *
 * A directory source gets one watch on itself and, with recurse, one on
 * every directory below it, placed at start and whenever a directory is
 * created or moved in.
 *
 * Watched directories are nodes in one array sorted by watch descriptor
 * and found by binary search: the kernel hands descriptors out in
 * increasing order, so a new node is appended. A node knows its parent
 * by the parent's descriptor and its name relative to the parent (names
 * live back to back in one arena), so a directory costs 12 bytes plus
 * its name, and renaming a directory renames one node: everything below
 * follows. There are no child lists; the rare move of a directory out of
 * the tree is settled by one sweep over the array after the batch of
 * events that holds it.
 *
 * A file source is watched through its parent directory, filtered by
 * name, so that replacing the file by rename (editors, logrotate) is seen
 * like any write to it. A source that is a symbolic link is watched
 * where it points, and its own directory for the link's name, so that a
 * link pointed elsewhere (current -> releases/v3) is seen as the source
 * replaced. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
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

struct node {
	int wd;
	int parent;		/* the parent's wd, or one of the marks below */
	uint32_t name;		/* offset in names */
};

/* Marks in node.parent (the kernel's descriptors start at 1). */
#define NO_PARENT 0		/* the root */
#define DEAD (-1)		/* forgotten: a tombstone until compaction */
#define MOVED_OUT (-2)		/* moved out of the tree: the sweep forgets it */

#define NONE SIZE_MAX		/* no such node */

struct watcher {
	const struct sync_conf *conf;
	int fd;
	char *dir;		/* the watched directory (a file's parent) */
	char *file_name;	/* file source: its name in dir; else NULL */
	char *exclude_prefix;	/* "name/" when the transfer root is above dir */
	int root;		/* wd of dir; 0 when not watched */
	int link_wd;		/* the directory of a source that is a link */
	char *link_name;	/* and the link's name there; else NULL */
	struct node *nodes;	/* sorted by wd, tombstones included */
	size_t nnodes, capnodes, ndead;
	char *names;		/* NUL-terminated names, back to back */
	size_t names_len, names_cap, names_dead;
	int sweep_due;		/* a node is marked MOVED_OUT */
	size_t count;		/* live nodes */
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

size_t watcher_missing(const struct watcher *w)
{
	return w->missing;
}

static const char *name_of(const struct watcher *w, size_t i)
{
	return w->names + w->nodes[i].name;
}

/* --- the node array ----------------------------------------------------------- */

/* The first index whose wd is not below wd. */
static size_t lower_bound(const struct watcher *w, int wd)
{
	size_t lo = 0, hi = w->nnodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->nodes[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The live node of wd, or NONE. */
static size_t find(const struct watcher *w, int wd)
{
	size_t i = lower_bound(w, wd);

	return i < w->nnodes && w->nodes[i].wd == wd && w->nodes[i].parent != DEAD ? i : NONE;
}

static uint32_t add_name(struct watcher *w, const char *name)
{
	size_t len = strlen(name) + 1;
	uint32_t at;

	if (w->names_len + len > UINT32_MAX)
		fatal("more than 4 GiB of directory names in one sync");
	if (w->names_len + len > w->names_cap) {
		while (w->names_len + len > w->names_cap)
			w->names_cap = w->names_cap ? w->names_cap * 2 : 256;
		w->names = xrealloc(w->names, w->names_cap);
	}
	at = (uint32_t)w->names_len;
	memcpy(w->names + at, name, len);
	w->names_len += len;
	return at;
}

static void add_node(struct watcher *w, int wd, int parent, const char *name)
{
	uint32_t at = add_name(w, name);
	size_t i = w->nnodes;

	if (i && w->nodes[i - 1].wd >= wd) {
		/* only after the kernel's descriptors wrapped around */
		i = lower_bound(w, wd);
		if (w->nodes[i].wd == wd) {	/* a tombstone: reuse it */
			w->ndead--;
			goto fill;
		}
	}
	if (w->nnodes == w->capnodes) {
		if (w->capnodes > SIZE_MAX / 2 / sizeof *w->nodes)
			fatal("too many watched directories in one sync");
		w->capnodes = w->capnodes ? w->capnodes * 2 : 64;
		w->nodes = xrealloc(w->nodes, w->capnodes * sizeof *w->nodes);
	}
	memmove(&w->nodes[i + 1], &w->nodes[i], (w->nnodes - i) * sizeof *w->nodes);
	w->nnodes++;
fill:
	w->nodes[i].wd = wd;
	w->nodes[i].parent = parent;
	w->nodes[i].name = at;
	w->count++;
}

static void forget_node(struct watcher *w, size_t i, int rm_watch)
{
	if (rm_watch)
		inotify_rm_watch(w->fd, w->nodes[i].wd);
	w->names_dead += strlen(name_of(w, i)) + 1;
	w->nodes[i].parent = DEAD;
	w->ndead++;
	w->count--;
}

static void rename_node(struct watcher *w, size_t i, int parent, const char *name)
{
	if (strcmp(name_of(w, i), name) != 0) {
		uint32_t at = add_name(w, name);
		w->names_dead += strlen(name_of(w, i)) + 1;
		w->nodes[i].name = at;
	}
	w->nodes[i].parent = parent;
}

/* Drop the tombstones once they are half of the array, and the dead
 * names once they are half of the arena; give memory back after a big
 * tree went away. Node indexes change: only called between batches. */
static void compact(struct watcher *w)
{
	size_t i, n;

	if (w->ndead > 64 && w->ndead * 2 > w->nnodes) {
		for (i = n = 0; i < w->nnodes; i++)
			if (w->nodes[i].parent != DEAD)
				w->nodes[n++] = w->nodes[i];
		w->nnodes = n;
		w->ndead = 0;
		if (w->capnodes > 256 && w->nnodes * 4 < w->capnodes) {
			w->capnodes = w->nnodes * 2 + 64;
			w->nodes = xrealloc(w->nodes, w->capnodes * sizeof *w->nodes);
		}
	}
	if (w->names_dead > 4096 && w->names_dead * 2 > w->names_len) {
		char *old = w->names;

		w->names_cap = w->names_len - w->names_dead + 256;
		w->names = xmalloc(w->names_cap);
		w->names_len = 0;
		for (i = 0; i < w->nnodes; i++) {
			size_t len;
			if (w->nodes[i].parent == DEAD)
				continue;
			len = strlen(old + w->nodes[i].name) + 1;
			memcpy(w->names + w->names_len, old + w->nodes[i].name, len);
			w->nodes[i].name = (uint32_t)w->names_len;
			w->names_len += len;
		}
		w->names_dead = 0;
		free(old);
	}
}

static void forget_all(struct watcher *w)
{
	free(w->nodes);
	free(w->names);
	w->nodes = NULL;
	w->names = NULL;
	w->nnodes = w->capnodes = w->ndead = w->count = 0;
	w->names_len = w->names_cap = w->names_dead = 0;
	w->root = 0;
	w->sweep_due = 0;
}

/* The index of the parent of live node i, or NONE for the root, a node
 * moved out, or one whose parent is gone. */
static size_t parent_of(const struct watcher *w, size_t i)
{
	return w->nodes[i].parent > 0 ? find(w, w->nodes[i].parent) : NONE;
}

/* Forget the nodes marked MOVED_OUT and every node below them, or below
 * a parent that is gone, with their kernel watches (the directories
 * still exist, elsewhere). One pass: each node's verdict is that of its
 * nearest ancestor with one, and is remembered along the way. */
static void sweep(struct watcher *w)
{
	enum { UNKNOWN, KEEP, DROP };
	unsigned char *verdict = xmalloc(w->nnodes ? w->nnodes : 1);
	size_t i, m, steps;

	memset(verdict, UNKNOWN, w->nnodes);
	for (i = 0; i < w->nnodes; i++) {
		unsigned char v = DROP;

		if (w->nodes[i].parent == DEAD)
			continue;
		/* climb to a node that decides (bounded: a loop in stale
		 * information must not hang the daemon) */
		for (m = i, steps = 0; steps <= w->nnodes; steps++) {
			if (verdict[m] != UNKNOWN) {
				v = verdict[m];
				break;
			}
			if (w->nodes[m].wd == w->root) {
				v = KEEP;
				break;
			}
			if ((m = parent_of(w, m)) == NONE)
				break;
		}
		for (m = i; m != NONE && verdict[m] == UNKNOWN; m = parent_of(w, m)) {
			verdict[m] = v;
			if (w->nodes[m].wd == w->root)
				break;
		}
	}
	for (i = 0; i < w->nnodes; i++)
		if (verdict[i] == DROP)
			forget_node(w, i, 1);
	free(verdict);
	w->sweep_due = 0;
}

/* --- paths ------------------------------------------------------------------ */

/* The path of node i relative to the source directory, plus "/name"
 * when name is given, into rel (PATH_MAX bytes). Returns the length, or
 * -1 when too long or the node's place is not known. */
static int rel_path(const struct watcher *w, size_t i, const char *name, char *rel)
{
	size_t m, need = name && *name ? strlen(name) : 0, depth = 0, l, at;

	for (m = i; m == NONE || w->nodes[m].wd != w->root; m = parent_of(w, m)) {
		if (m == NONE || ++depth > PATH_MAX / 2)
			return -1;
		need += strlen(name_of(w, m)) + (need ? 1 : 0);
	}
	if (need >= PATH_MAX)
		return -1;
	rel[need] = '\0';
	at = need;
	if (name && *name) {
		l = strlen(name);
		memcpy(rel + (at -= l), name, l);
	}
	for (m = i; w->nodes[m].wd != w->root; m = parent_of(w, m)) {
		if (at < need)
			rel[--at] = '/';
		l = strlen(name_of(w, m));
		memcpy(rel + (at -= l), name_of(w, m), l);
	}
	return (int)need;
}

/* The absolute path of rel (relative to the source directory). */
static int abs_path(const struct watcher *w, const char *rel, char *abs)
{
	size_t dl = strlen(w->dir), rl = strlen(rel);
	int sep = rl && w->dir[dl - 1] != '/';

	if (dl + (size_t)sep + rl >= PATH_MAX)
		return -1;
	memcpy(abs, w->dir, dl);
	abs[dl] = '/';
	memcpy(abs + dl + sep, rel, rl + 1);
	return 0;
}

/* Both paths of node i's entry name (its own with name NULL). */
static int paths_of(const struct watcher *w, size_t i, const char *name,
		    char *rel, char *abs)
{
	return rel_path(w, i, name, rel) < 0 || abs_path(w, rel, abs) < 0 ? -1 : 0;
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

long watch_limit(void)
{
	char value[32];
	long limit = -1;
	ssize_t len;
	int fd = open("/proc/sys/fs/inotify/max_user_watches", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	len = read(fd, value, sizeof value - 1);
	close(fd);
	if (len > 0 && value[0] >= '0' && value[0] <= '9') {
		ssize_t k;
		for (limit = 0, k = 0; k < len && value[k] >= '0' && value[k] <= '9' &&
		     limit < LONG_MAX / 10 - 1; k++)
			limit = limit * 10 + (value[k] - '0');
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

/* --- placing watches --------------------------------------------------------- */

/* Watch directory path as entry name of the node of wd parent (NO_PARENT:
 * the root). Returns its wd, or 0; *fresh tells whether it was new to
 * the tree (its content is not known yet: scan it). */
static int add_watch(struct watcher *w, int parent, const char *name,
		     const char *path, int *fresh)
{
	uint32_t mask = DIR_EVENTS | (parent != NO_PARENT ? IN_DONT_FOLLOW : 0);
	int wd = inotify_add_watch(w->fd, path, mask);
	size_t i, m;

	*fresh = 0;
	if (wd < 0) {
		int err = errno;
		if (err == ENOSPC)
			w->missing += w->conf->recurse && !w->file_name ? count_dirs(path) : 1;
		else if (err != ENOENT && err != ENOTDIR)
			log_warn("cannot watch %s: %s", path, strerror(err));
		errno = err;
		return 0;
	}
	if ((i = find(w, wd)) == NONE) {
		add_node(w, wd, parent, name);
		*fresh = 1;
		return wd;
	}
	if (w->nodes[i].parent == parent && strcmp(name_of(w, i), name) == 0)
		return wd;	/* what we know */
	/* Known under another name: it was moved within the tree and the
	 * move is not handled yet. Rename it; what is below follows. But
	 * never make a node its own ancestor (possible only with stale
	 * knowledge after lost events): forget it and start afresh. */
	if (wd == w->root)
		return 0;
	for (m = find(w, parent); m != NONE && w->nodes[m].wd != wd; m = parent_of(w, m))
		;
	if (m != NONE) {
		w->nodes[i].parent = MOVED_OUT;
		sweep(w);
		return 0;
	}
	rename_node(w, i, parent, name);
	return wd;
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

/* Watch every directory below the node of wd top, depth first without
 * recursion. A directory with no subdirectories is not opened at all
 * where the link count says so: most directories of a big tree are such
 * leaves, and reading them was most of the start-up's cost. */
static void scan(struct watcher *w, int top)
{
	int *todo, c, fresh;
	size_t ntodo = 0, cap = 16, i, rl, al;
	char abs[PATH_MAX], rel[PATH_MAX];
	int leaves_known = -1;

	todo = xmalloc(cap * sizeof *todo);
	todo[ntodo++] = top;
	while (ntodo) {
		int wd = todo[--ntodo];
		struct dirent *de;
		DIR *d;

		if ((i = find(w, wd)) == NONE || paths_of(w, i, NULL, rel, abs) < 0)
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
		w->link_wd = inotify_add_watch(w->fd, path, IN_CREATE | IN_MOVED_TO |
		    IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
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
	int fresh;

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
	/* Not even the source watched for lack of watches: the periodic
	 * full syncs of the watch-limit fallback cover it. */
	if (!(w->root = add_watch(w, NO_PARENT, "", w->dir, &fresh)))
		return errno == ENOSPC ? 0 : -1;
	if (!w->file_name && w->conf->recurse)
		scan(w, w->root);
	compact(w);
	return 0;
}

/* After lost events the record may be wrong in any way, so it is built
 * again from the tree as it is now (the kernel gives a directory that is
 * watched already its old descriptor); watches on directories no longer
 * found in the tree are then removed. */
size_t watcher_rescan(struct watcher *w)
{
	struct node *old = w->nodes;
	size_t nold = w->nnodes, i, j;
	int fresh;

	w->nodes = NULL;
	forget_all(w);
	w->missing = 0;
	if ((w->root = add_watch(w, NO_PARENT, "", w->dir, &fresh)) &&
	    !w->file_name && w->conf->recurse)
		scan(w, w->root);
	/* both sorted by wd: one merge finds the old ones not found again */
	for (i = j = 0; i < nold; i++) {
		if (old[i].parent == DEAD)
			continue;
		while (j < w->nnodes && w->nodes[j].wd < old[i].wd)
			j++;
		if (j == w->nnodes || w->nodes[j].wd != old[i].wd)
			inotify_rm_watch(w->fd, old[i].wd);
	}
	free(old);
	compact(w);
	return w->missing;
}

/* --- events ---------------------------------------------------------------- */

/* A directory below the source reported its own move: if it is no
 * longer where the tree has it, it left the tree (a move within was
 * seen before as the new parent's IN_MOVED_TO and renamed the node). */
static void moved_self(struct watcher *w, size_t i)
{
	char rel[PATH_MAX], abs[PATH_MAX], name[NAME_MAX + 1];
	int wd = w->nodes[i].wd, parent = w->nodes[i].parent, fresh, found;

	if (parent <= 0 || paths_of(w, i, NULL, rel, abs) < 0 ||
	    strlen(name_of(w, i)) > NAME_MAX) {
		w->nodes[i].parent = MOVED_OUT;
		w->sweep_due = 1;
		return;
	}
	/* what is there now is watched (it belongs to the tree); the name
	 * is copied, as adding a node may move the names */
	strcpy(name, name_of(w, i));
	found = add_watch(w, parent, name, abs, &fresh);
	if (found == wd)
		return;
	if ((i = find(w, wd)) != NONE) {
		w->nodes[i].parent = MOVED_OUT;
		w->sweep_due = 1;
	}
	if (found && fresh)
		scan(w, found);
}

/* One event of a directory source, on node i. */
static void dir_event(struct watcher *w, size_t i, const struct inotify_event *ev,
		      watch_fn *fn, void *ctx)
{
	char rel[PATH_MAX], abs[PATH_MAX];
	int is_dir = (ev->mask & IN_ISDIR) != 0, c, fresh, wd = w->nodes[i].wd;
	unsigned flags = 0;

	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (wd == w->root)
			fn(ctx, WATCH_SOURCE_GONE, "", 0);
		else if (ev->mask & IN_MOVE_SELF)
			moved_self(w, i);
		return;		/* the parent reports the change itself */
	}
	/* the source directory's own mode, owner or times: only a full
	 * run carries those (a listed "." would recurse into everything) */
	if (!ev->len && wd == w->root && (ev->mask & IN_ATTRIB)) {
		fn(ctx, WATCH_CHANGED, "", 0);
		return;
	}
	if (!ev->len || paths_of(w, i, ev->name, rel, abs) < 0)
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
	else if ((ev->mask & IN_CREATE) && !is_dir) {
		struct stat st;
		if (lstat(abs, &st) == 0 && S_ISREG(st.st_mode))
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
			break;
		for (p = buf; p < buf + len;
		     p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			size_t i;

			if (ev->mask & IN_Q_OVERFLOW) {
				fn(ctx, WATCH_OVERFLOW, "", 0);
				continue;
			}
			if (w->link_wd && ev->wd == w->link_wd) {
				if (ev->len && strcmp(ev->name, w->link_name) == 0)
					fn(ctx, WATCH_SOURCE_RELINKED, "", 0);
				continue;
			}
			if ((i = find(w, ev->wd)) == NONE)
				continue;	/* a watch already forgotten */
			if (ev->mask & IN_IGNORED) {
				/* its directory is gone (after all below it) */
				if (ev->wd == w->root) {
					forget_all(w);
					fn(ctx, WATCH_SOURCE_GONE, "", 0);
				} else {
					forget_node(w, i, 0);
				}
				continue;
			}
			if (w->file_name) {
				if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
					fn(ctx, WATCH_SOURCE_GONE, "", 0);
				else if (ev->len && strcmp(ev->name, w->file_name) == 0)
					fn(ctx, WATCH_CHANGED, "", 0);
				continue;
			}
			dir_event(w, i, ev, fn, ctx);
		}
	}
	if (w->sweep_due)
		sweep(w);
	compact(w);
}

void watcher_free(struct watcher *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w->nodes);
	free(w->names);
	free(w->dir);
	free(w->file_name);
	free(w->exclude_prefix);
	free(w->link_name);
	free(w);
}
