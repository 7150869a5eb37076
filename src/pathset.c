/* A bounded set of path strings: open addressing with linear probing,
 * grown at half load, FNV-1a hashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pathset.h"
#include "util.h"

static size_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void grow(struct pathset *ps)
{
	char **old = ps->slots;
	size_t oldn = ps->nslots, i, j;

	ps->nslots = oldn ? oldn * 2 : 64;
	ps->slots = xcalloc(ps->nslots, sizeof *ps->slots);
	for (i = 0; i < oldn; i++) {
		if (!old[i])
			continue;
		for (j = hash(old[i]) & (ps->nslots - 1); ps->slots[j];
		     j = (j + 1) & (ps->nslots - 1))
			;
		ps->slots[j] = old[i];
	}
	free(old);
}

/* The slot of path, or of the empty slot where it would go. */
static size_t find(const struct pathset *ps, const char *path)
{
	size_t j;

	for (j = hash(path) & (ps->nslots - 1); ps->slots[j]; j = (j + 1) & (ps->nslots - 1))
		if (strcmp(ps->slots[j], path) == 0)
			break;
	return j;
}

bool pathset_has(const struct pathset *ps, const char *path)
{
	return ps->nslots && ps->slots[find(ps, path)];
}

void pathset_add(struct pathset *ps, const char *path)
{
	size_t j, len = strlen(path);

	if (ps->everything)
		return;
	if (ps->count + 1 > PATHSET_MAX_PATHS || ps->bytes + len > PATHSET_MAX_BYTES) {
		pathset_everything(ps);
		return;
	}
	if ((ps->count + 1) * 2 > ps->nslots)
		grow(ps);
	if (ps->slots[j = find(ps, path)])
		return;
	ps->slots[j] = xstrdup(path);
	ps->count++;
	ps->bytes += len;
}

void pathset_clear(struct pathset *ps)
{
	size_t i;

	for (i = 0; i < ps->nslots; i++)
		free(ps->slots[i]);
	free(ps->slots);
	memset(ps, 0, sizeof *ps);
}

void pathset_everything(struct pathset *ps)
{
	pathset_clear(ps);
	ps->everything = true;
}

bool pathset_empty(const struct pathset *ps)
{
	return !ps->everything && ps->count == 0;
}

int pathset_write(const struct pathset *ps, int fd, const char *prefix)
{
	struct buf b = { 0 };
	size_t i;
	int rc = 0;

	for (i = 0; i < ps->nslots && rc == 0; i++) {
		if (!ps->slots[i])
			continue;
		buf_adds(&b, prefix);
		buf_add(&b, ps->slots[i], strlen(ps->slots[i]) + 1);	/* with its NUL */
		if (b.len >= 65536) {
			rc = write_all(fd, b.s, b.len);
			b.len = 0;
		}
	}
	if (rc == 0 && b.len)
		rc = write_all(fd, b.s, b.len);
	buf_free(&b);
	return rc;
}

size_t pathset_some(const struct pathset *ps, const char **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < ps->nslots && n < max; i++)
		if (ps->slots[i])
			out[n++] = ps->slots[i];
	return n;
}

void pathset_take_except(struct pathset *dst, struct pathset *src,
			 const struct pathset *except)
{
	size_t i;

	if (src->everything) {
		pathset_everything(dst);
	} else {
		for (i = 0; i < src->nslots; i++)
			if (src->slots[i] && !pathset_has(except, src->slots[i]))
				pathset_add(dst, src->slots[i]);
	}
	pathset_clear(src);
}

/* Whether path is prefix or below it. */
static bool below(const char *path, const char *prefix, size_t len)
{
	return strncmp(path, prefix, len) == 0 && (!path[len] || path[len] == '/');
}

void pathset_rename(struct pathset *ps, const char *from, const char *to)
{
	struct pathset moved = { 0 };
	size_t i, len = strlen(from);
	char *path;

	for (i = 0; i < ps->nslots; i++)
		if (ps->slots[i] && below(ps->slots[i], from, len))
			break;
	if (i == ps->nslots)
		return;		/* (the usual case: nothing below it) */
	for (i = 0; i < ps->nslots; i++) {
		if (!ps->slots[i])
			continue;
		if (below(ps->slots[i], from, len)) {
			path = xasprintf("%s%s", to, ps->slots[i] + len);
			pathset_add(&moved, path);
			free(path);
		} else {
			pathset_add(&moved, ps->slots[i]);
		}
	}
	pathset_clear(ps);
	*ps = moved;
}

void pathset_move(struct pathset *ps, struct pathset *dst, const struct pathset *which)
{
	struct pathset rest = { 0 };
	size_t i;

	if (ps->everything)
		return;
	for (i = 0; i < which->nslots; i++)
		if (which->slots[i] && pathset_has(ps, which->slots[i]))
			pathset_add(dst, which->slots[i]);
	pathset_take_except(&rest, ps, which);
	*ps = rest;
}
