/* The mount table and /etc/fstab.
 *
 * A source or a local target depends on the file system that holds it
 * (and a source on those mounted below it): when one of them is
 * unmounted, what is left at the path is a bare mount point or a
 * directory of the file system below, never the data. poni records
 * these mount points when it first finds the path in place and treats
 * the path as absent while any of them is missing. An entry of
 * /etc/fstab that holds the path counts too, so that a disk whose mount
 * failed at boot is waited for before poni ever saw it.
 *
 * The table is read again only after the kernel said it changed (the
 * descriptor of /proc/self/mountinfo polls "exceptional" then). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mounts.h"
#include "util.h"

#ifndef FSTAB
#define FSTAB "/etc/fstab"
#endif

static int fd = -1;
static bool stale = true;
static char **table;		/* mount points, unescaped */

int mounts_open(void)
{
	if (fd < 0)
		fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	stale = true;
	return fd;
}

int mounts_fd(void)
{
	return fd;
}

void mounts_changed(void)
{
	stale = true;
}

void mounts_free(char **list)
{
	char **p;

	for (p = list; p && *p; p++)
		free(*p);
	free(list);
}

void mounts_close(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
	mounts_free(table);
	table = NULL;
	stale = true;
}

static void list_add(char ***list, const char *s)
{
	size_t n = 0;

	while (*list && (*list)[n]) {
		if (strcmp((*list)[n], s) == 0)
			return;
		n++;
	}
	*list = xrealloc(*list, (n + 2) * sizeof **list);
	(*list)[n] = xstrdup(s);
	(*list)[n + 1] = NULL;
}

/* A whole file; NULL when it cannot be read. */
static char *slurp(int f)
{
	struct buf b = { 0 };
	char chunk[4096];
	ssize_t n;

	buf_add(&b, "", 0);
	while ((n = read(f, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_free(&b);
			return NULL;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	return b.s;
}

/* Field i (from 0) of a line of words, with the kernel's octal escapes
 * (\040 for a space) undone in place; NULL when there are fewer. */
static char *field(char *line, int i)
{
	char *p = line, *start, *out;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			return NULL;
		start = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (i-- > 0)
			continue;
		*p = '\0';
		for (p = out = start; *p; p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' &&
			    p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
				*out++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
				p += 3;
			} else {
				*out++ = *p;
			}
		}
		*out = '\0';
		return start;
	}
}

/* The mount points of a table file: field i of each line. */
static char **read_points(int f, const char *path, int i, bool fstab)
{
	char *text, *line, *next, *point, *type, **list = NULL;

	if (path) {
		if ((f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
			return NULL;
		text = slurp(f);
		close(f);
	} else {
		text = lseek(f, 0, SEEK_SET) < 0 ? NULL : slurp(f);
	}
	for (line = text; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (fstab) {	/* "spec file type ...": file systems only */
			if (*line == '#' || !(type = field(line, 2)) ||
			    strcmp(type, "swap") == 0)
				continue;
		}
		if ((point = field(line, i)) && *point == '/')
			list_add(&list, point);
	}
	free(text);
	return list;
}

static char **current(void)
{
	if (stale || fd < 0) {
		mounts_free(table);
		table = read_points(fd, NULL, 4, false);
		stale = fd < 0;
	}
	return table;
}

bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Lexically: no "//", "/./", "/x/.." or trailing slash. */
static void tidy(char *path)
{
	char *in = path, *out = path;

	while (*in) {
		if (in[0] == '/' && (in[1] == '/' || in[1] == '\0')) {
			in++;
		} else if (in[0] == '/' && in[1] == '.' && (in[2] == '/' || !in[2])) {
			in += 2;
		} else if (in[0] == '/' && in[1] == '.' && in[2] == '.' && (in[3] == '/' || !in[3])) {
			in += 3;
			while (out > path && *--out != '/')
				;
		} else {
			*out++ = *in++;
		}
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

char *canonical_path(const char *path)
{
	char *want = xstrdup(path), *head, *real, *slash, *out;
	const char *rest;

	tidy(want);
	head = xstrdup(want);
	/* the longest part that exists, through realpath */
	while (!(real = realpath(head, NULL))) {
		if (errno == ENOMEM)
			fatal("out of memory");
		if (!(slash = strrchr(head, '/'))) {
			free(head);
			return want;
		}
		slash[slash == head] = '\0';
	}
	/* what does not exist, taken as written */
	for (rest = want + strlen(head); *rest == '/'; rest++)
		;
	out = xasprintf("%s/%s", real, rest);
	tidy(out);
	free(real);
	free(head);
	free(want);
	return out;
}

char **mounts_of(const char *path, bool below)
{
	char *canon = canonical_path(path), **list = NULL, **fstab, **t;
	const char *holder = NULL, *expected = NULL;

	for (t = current(); t && *t; t++)
		if (path_within(canon, *t) && (!holder || strlen(*t) > strlen(holder)))
			holder = *t;
	if (holder)
		list_add(&list, holder);
	for (t = below ? current() : NULL; t && *t; t++)
		if (path_within(*t, canon))
			list_add(&list, *t);
	fstab = read_points(-1, FSTAB, 1, true);
	for (t = fstab; t && *t; t++)
		if (strcmp(*t, "/") != 0 && path_within(canon, *t) &&
		    (!expected || strlen(*t) > strlen(expected)))
			expected = *t;
	if (expected)
		list_add(&list, expected);
	mounts_free(fstab);
	free(canon);
	if (!list)
		list = xcalloc(1, sizeof *list);
	return list;
}

static bool listed(char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

const char *mounts_missing(char *const *list)
{
	char **t = current();

	for (; list && *list; list++)
		if (!listed(t, *list))
			return *list;
	return NULL;
}

bool mounts_equal(char *const *a, char *const *b)
{
	char *const *p;

	for (p = a; p && *p; p++)
		if (!listed(b, *p))
			return false;
	for (p = b; p && *p; p++)
		if (!listed(a, *p))
			return false;
	return true;
}
