/* printf-style formatting without stdio: only the conversions poni
 * uses, so that musl's vfprintf (and its floating point) stays out of
 * the static binary. */
#ifndef PONI_FORMAT_H
#define PONI_FORMAT_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#define PRINTF(a, b) __attribute__((__format__(__printf__, a, b)))

/* As vsnprintf: writes at most len - 1 bytes and a NUL (nothing when
 * len is 0), returns the length the whole result has (or -1 with
 * errno EOVERFLOW past INT_MAX). Conversions: d i u o x X c s % with
 * the flags - and 0, a width and a precision (digits or *), and the
 * sizes l, ll and z on the numbers. A NULL string prints "(null)".
 * Anything else (%g, %p, %hd, %+d, %ls, ...) ends the output with "%?":
 * its argument's type, and so the place of every later one, is not
 * known. The compiler checks the arguments; tests/unit_format checks
 * every format string in src/ with format_unsupported. */
int vformat(char *out, size_t len, const char *fmt, va_list ap) PRINTF(3, 0);
int format(char *out, size_t len, const char *fmt, ...) PRINTF(3, 4);

/* The '%' of fmt's first conversion that format() does not do, or
 * NULL when it does them all. */
const char *format_unsupported(const char *fmt);

/* Format and write to fd in one write(2) where it can (a long result
 * is formatted into an allocated buffer). 0, or -1 with errno. */
int format_fd(int fd, const char *fmt, ...) PRINTF(2, 3);

/* write(2) all n bytes: again after EINTR and after a short write.
 * 0, or -1 with errno. */
int write_all(int fd, const char *s, size_t n);

/* t in UTC as "2026-11-24 09:11:31Z", into FORMAT_TIME_LEN bytes (with
 * the NUL; years past 9999 are cut short). Date arithmetic only, so
 * musl's time zone code (which reads /etc/localtime) stays out. */
#define FORMAT_TIME_LEN 21
void format_time(char *out, time_t t);

#endif
