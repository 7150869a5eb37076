/* The local mover (see move.h): renames inside a local target. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>	/* renameat */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "move.h"
#include "util.h"

/* The directory holding the last component of PREFIX/path (relative to
 * the directory root), opened one component at a time without following
 * a symbolic link; *name is that last component (in buf). With *make, a
 * directory not there is made, and *make tells whether one was. -1 on
 * failure. */
static int open_parent(int root, const char *prefix, const char *path, char *buf,
		       const char **name, bool *make)
{
	bool may = make && *make;
	size_t pl = strlen(prefix), len = strlen(path);
	char *p, *slash;
	int fd, next;

	if (make)
		*make = false;
	if (pl + len >= PATH_MAX)
		return -1;
	memcpy(buf, prefix, pl);
	memcpy(buf + pl, path, len + 1);
	if ((fd = dup(root)) < 0)
		return -1;
	for (p = buf; (slash = strchr(p, '/')); p = slash + 1) {
		*slash = '\0';
		if (!*p || strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
			next = -1;
		else if ((next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0 && errno == ENOENT && may && mkdirat(fd, p, 0700) == 0) {
			*make = true;
			next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		close(fd);
		if ((fd = next) < 0)
			return -1;
	}
	if (!*p || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
		close(fd);
		return -1;
	}
	*name = p;
	return fd;
}

/* One move: 0 when made. */
static int move_one(int root, const char *prefix, struct move *m)
{
	char from_buf[PATH_MAX], to_buf[PATH_MAX];
	const char *from_name, *to_name;
	struct stat st;
	int from_dir, to_dir = -1, rc = -1;

	if ((from_dir = open_parent(root, prefix, m->from, from_buf, &from_name, NULL)) < 0 ||
	    fstatat(from_dir, from_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode) != !m->is_dir) {
		if (from_dir >= 0)
			close(from_dir);
		return -1;
	}
	m->made = m->parents;
	if ((to_dir = open_parent(root, prefix, m->to, to_buf, &to_name, &m->made)) >= 0 &&
	    fstatat(to_dir, to_name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		rc = renameat(from_dir, from_name, to_dir, to_name);
	close(from_dir);
	if (to_dir >= 0)
		close(to_dir);
	return rc;
}

void move_local(const struct sync_conf *conf, const char *control, const char *prefix,
		struct move *moves, size_t n)
{
	int root = open(conf->remote_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t i;

	(void)control;
	for (i = 0; i < n; i++)
		moves[i].done = root >= 0 && move_one(root, prefix, &moves[i]) == 0;
	if (root >= 0)
		close(root);
}
