/* Small helpers every module may need: checked allocation, clocks,
 * growing strings, whole files. */
#ifndef PONI_UTIL_H
#define PONI_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#include "log.h"

/* Allocation that never returns NULL: out of memory is fatal. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);

/* Edit distance of two short names (-1 past 32 bytes), for "did you
 * mean". */
size_t edit_distance(const char *a, const char *b);

/* Milliseconds of CLOCK_MONOTONIC. */
long long now_ms(void);

/* A growing NUL-terminated string. */
struct buf {
	char *s;
	size_t len, cap;
};
void buf_add(struct buf *b, const char *s, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) PRINTF(2, 3);
void buf_addc(struct buf *b, char c);
void buf_free(struct buf *b);

/* What is left to read of fd, NUL-terminated (and its length in *len
 * unless len is NULL); NULL with errno on an error, EFBIG past max
 * bytes. */
char *read_all(int fd, size_t max, size_t *len);

/* Append s to b escaped for a log line: printable ASCII as is,
 * everything else (newline, tab, bytes >= 0x80) as \n, \t, \xHH, and
 * backslash as \\, so a file name can never forge a log line. */
void buf_add_escaped(struct buf *b, const char *s);

#endif
