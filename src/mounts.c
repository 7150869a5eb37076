/* The mount table and /etc/fstab.
 *
 * A source or a local target depends on the file system that holds it
 * (and a source on those mounted below it): when one of them is
 * unmounted, what is left at the path is a bare mount point or a
 * directory of the file system below, never the data. poni records
 * these mount points when it first finds the path in place and treats
 * the path as absent while any of them is missing. An entry of
 * /etc/fstab (or of OpenWrt's /etc/config/fstab) that holds the path
 * counts too, so that a disk whose mount failed at boot is waited for
 * before poni ever saw it.
 *
 * The table is read again only after the kernel said it changed (the
 * descriptor of /proc/self/mountinfo polls "exceptional" then). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mounts.h"
#include "util.h"

#ifndef FSTAB_FILE
#define FSTAB_FILE "/etc/fstab"
#endif
#ifndef UCI_FSTAB_FILE
#define UCI_FSTAB_FILE "/etc/config/fstab"	/* OpenWrt's block-mount */
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

enum table { T_MOUNTINFO, T_FSTAB, T_UCI };

static char *unquote(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && (*v == '\'' || *v == '"') && v[n - 1] == *v) {
		v[n - 1] = '\0';
		return v + 1;
	}
	return v;
}

/* The mount points of a table: /proc/self/mountinfo, /etc/fstab (file
 * systems, not swap), or OpenWrt's /etc/config/fstab (the targets of
 * its enabled "config mount" sections). Read through f, from its start,
 * or from the file at path when f < 0. */
static char **read_points(int f, const char *path, enum table kind)
{
	char *text, *line, *next, *point, *type, *word, *name, *target = NULL, **list = NULL;
	bool in_mount = false, enabled = true;

	if (f >= 0) {
		text = lseek(f, 0, SEEK_SET) < 0 ? NULL : read_all(f, SIZE_MAX, NULL);
	} else {
		if ((f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
			return NULL;
		text = read_all(f, SIZE_MAX, NULL);
		close(f);
	}
	for (line = text; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		else
			next = line + strlen(line);
		line += strspn(line, " \t");
		point = NULL;
		if (kind == T_MOUNTINFO) {
			point = field(line, 4);
		} else if (kind == T_FSTAB) {	/* "spec file type ..." */
			if (*line != '#' && (type = field(line, 2)) && strcmp(type, "swap") != 0)
				point = field(line, 1);
		} else {	/* "config mount", "option target '/mnt/x'" */
			point = field(line, 2);	/* the later fields first: */
			name = field(line, 1);	/* field() ends the line */
			word = field(line, 0);	/* after the one it returns */
			if (!word || (strcmp(word, "config") != 0 && !in_mount))
				continue;
			if (strcmp(word, "config") == 0) {
				if (in_mount && target && enabled)
					list_add(&list, target);
				in_mount = name && strcmp(unquote(name), "mount") == 0;
				enabled = true;
				free(target);
				target = NULL;
			} else if (strcmp(word, "option") == 0 && name && point) {
				if (strcmp(name, "target") == 0) {
					free(target);
					target = xstrdup(unquote(point));
				} else if (strcmp(name, "enabled") == 0) {
					enabled = strcmp(unquote(point), "0") != 0;
				}
			}
			continue;
		}
		if (point && *point == '/')
			list_add(&list, point);
	}
	if (in_mount && target && enabled && *target == '/')
		list_add(&list, target);
	free(target);
	free(text);
	return list;
}

/* The mount points now; NULL when there is no /proc to tell. Without
 * mounts_open (poni -t), the table is read afresh each time. */
static char **current(void)
{
	if (stale || fd < 0) {
		mounts_free(table);
		table = read_points(fd, "/proc/self/mountinfo", T_MOUNTINFO);
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
	if (strlen(want) >= PATH_MAX)	/* cannot exist: as written */
		return want;
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
	const char *holder = NULL, *expected;
	int kind;

	for (t = current(); t && *t; t++)
		if (path_within(canon, *t) && (!holder || strlen(*t) > strlen(holder)))
			holder = *t;
	if (holder)
		list_add(&list, holder);
	for (t = below ? current() : NULL; t && *t; t++)
		if (path_within(*t, canon))
			list_add(&list, *t);
	for (kind = T_FSTAB; kind <= T_UCI; kind++) {
		fstab = read_points(-1, kind == T_FSTAB ? FSTAB_FILE : UCI_FSTAB_FILE, kind);
		expected = NULL;
		for (t = fstab; t && *t; t++)
			if (strcmp(*t, "/") != 0 && path_within(canon, *t) &&
			    (!expected || strlen(*t) > strlen(expected)))
				expected = *t;
		if (expected)
			list_add(&list, expected);
		mounts_free(fstab);
	}
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

	if (!t)			/* nothing known: nothing missing */
		return NULL;
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
