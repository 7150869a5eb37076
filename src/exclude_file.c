/* Exclude patterns as rsync reads them from poni's config. A pattern
 * reaches rsync as --exclude=PATTERN, which reads a leading "- " or "+ "
 * or a lone "!" as a rule, not as part of a name: poni would match the
 * name while rsync did something else, so those are refused. An exclude
 * file is read the way rsync's --exclude-from reads it, and its patterns
 * are given to rsync one --exclude each: rsync and poni's own matcher
 * then see the same list. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exclude.h"
#include "exclude_file.h"
#include "format.h"
#include "util.h"

const char *exclude_check(const char *v, char *msg, size_t msglen)
{
	if (!*v)
		return format(msg, msglen, "empty pattern"), msg;
	if (strpbrk(v, "\n\r"))
		return format(msg, msglen, "line break in pattern"), msg;
	switch (exclude_prefix(v)) {
	case '-':
		if (!v[2])
			break;
		format(msg, msglen, "'%s': rsync reads \"- \" as a rule, not a name: write '%s' "
		    "(or '[-]%s' for a name that starts so)", v, v + 2, v + 1);
		return msg;
	case '+':
		if (!v[2])
			break;
		format(msg, msglen, "'%s': rsync reads \"+ \" as an include rule, and poni has "
		    "none: leave it out (or write '[+]%s' for a name that starts so)", v, v + 1);
		return msg;
	case '!':
		format(msg, msglen, "a lone '!' clears rsync's exclude list: leave it out (or "
		    "write '[\\!]' for a file named !)");
		return msg;
	default:
		return NULL;
	}
	format(msg, msglen, "'%s' is an rsync rule without a pattern: leave it out", v);
	return msg;
}

/* The whole file, NUL-terminated; NULL with errno. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text;

	if (fd < 0)
		return NULL;
	text = read_all(fd, EXCLUDE_FILE_MAX, len);
	close(fd);	/* of a file only read: leaves errno */
	return text;
}

int exclude_file_read(const char *path, char ***list, size_t *n, int *line,
		      char *msg, size_t msglen)
{
	size_t len, end;
	char *text = slurp(path, &len), *p, *next, *pat;
	int rc = 0;

	*line = 0;
	if (!text)
		return -1;
	for (p = text; p < text + len && rc == 0; p = next) {
		end = strcspn(p, "\r\n");
		next = p + end;
		if (next < text + len)	/* \n, \r, or \r\n as one */
			next += *next == '\r' && next[1] == '\n' ? 2 : 1;
		++*line;
		if (p[end] == '\0' && p + end < text + len) {
			format(msg, msglen, "a NUL byte: this is no text file");
			rc = -1;
			break;
		}
		p[end] = '\0';
		pat = p;
		if (!*pat || *pat == ';' || *pat == '#')
			continue;
		if (pat[0] == '-' && pat[1] == ' ' && pat[2])
			pat += 2;	/* "- x" is rsync's exclude rule for x */
		if (end >= 4096) {	/* rsync would drop it */
			format(msg, msglen, "a pattern of %zu bytes is too long", end);
			rc = -1;
		} else if (exclude_check(pat, msg, msglen)) {
			rc = -1;
		} else {
			*list = xrealloc(*list, (*n + 1) * sizeof **list);
			(*list)[(*n)++] = xstrdup(pat);
		}
	}
	free(text);
	if (rc == 0)
		*line = 0;
	return rc;
}
