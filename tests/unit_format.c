/* format.c: every conversion poni uses, compared with the C library's
 * snprintf; truncation, the return value, NULL strings, fd output. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../src/format.h"
#include "unit.h"

/* format_time(t) is gmtime_r and strftime's "%Y-%m-%d %H:%M:%SZ". */
static int same_time(time_t t)
{
	char got[FORMAT_TIME_LEN], want[64];
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(want, sizeof want, "%Y-%m-%d %H:%M:%SZ", &tm))
		return 0;
	format_time(got, t);
	if (strcmp(got, want) == 0)
		return 1;
	printf("    %lld: got '%s', want '%s'\n", (long long)t, got, want);
	return 0;
}

/* format() and snprintf() into buffers of size n: same result, same
 * return value, nothing written past n. */
#define SAME_N(n, ...) do { \
	char got_[300], want_[300]; \
	int rg_, rw_; \
	memset(got_, 'Z', sizeof got_); \
	memset(want_, 'Z', sizeof want_); \
	rg_ = format((n) ? got_ : NULL, (n), __VA_ARGS__); \
	rw_ = libc_snprintf((n) ? want_ : NULL, (n), __VA_ARGS__); \
	if (rg_ != rw_ || memcmp(got_, want_, sizeof got_) != 0) { \
		if (!unit_failed_now) \
			printf("FAIL %s: %s:%d: %s: got %d '%.*s', want %d '%.*s'\n", \
			    unit_name, __FILE__, __LINE__, #__VA_ARGS__, rg_, \
			    (int)(n), got_, rw_, (int)(n), want_); \
		unit_failed_now = 1; \
	} \
} while (0)
#define SAME(...) SAME_N(256, __VA_ARGS__)

/* The C library's, called through a pointer: the compiler checks the
 * arguments at format() already, and would warn of the truncation that
 * is tested here. */
static int (*volatile libc_snprintf)(char *, size_t, const char *, ...) = snprintf;

/* Out of the compiler's sight: NULL for %s, a format it would refuse. */
static const char *volatile null_string = NULL;
static const char *volatile trailing_percent = "50%";
static const char *volatile zero_and_precision = "[%05.3d]";

int main(void)
{
	int i;
	char buf[64];

	TEST("format: %s, with width, precision and %.*s") {
		SAME("%s", "");
		SAME("%s", "hello");
		SAME("a%sb%sc", "x", "yz");
		SAME("[%10s]", "abc");
		SAME("[%-10s]", "abc");
		SAME("[%2s]", "abcdef");
		SAME("%.3s", "abcdef");
		SAME("%.3s", "ab");
		SAME("%.0s|", "abc");
		SAME("%.*s", 2, "abcdef");
		SAME("%.*s", 0, "abcdef");
		SAME("%.*s", -1, "abcdef");	/* negative: no precision */
		SAME("%.*s|", 3, "ab\0cd");
		SAME("[%*s]", 6, "ab");
		SAME("[%*s]", -6, "ab");	/* negative width: left */
		SAME("[%-*.*s]", 5, 2, "abcdef");
		SAME("%s", "\xe9\x01\n\t");
	}
	TEST("format: %d %i %ld %lld, signs and extremes") {
		SAME("%d", 0);
		SAME("%d", 42);
		SAME("%d", -42);
		SAME("%i", 7);
		SAME("%d %d", INT_MAX, INT_MIN);
		SAME("%ld %ld", LONG_MAX, LONG_MIN);
		SAME("%lld %lld", LLONG_MAX, LLONG_MIN);
		SAME("%lld", -1LL);
		SAME("[%5d] [%-5d] [%05d]", 42, 42, 42);
		SAME("[%5d] [%-5d] [%05d]", -42, -42, -42);
		SAME("[%03ld] [%03lld] [%03lld]", 7L, 45LL, 1234LL);
		SAME("%03lld.%03lld", 12LL, 5LL);
		SAME("[%2d]", -12345);
		SAME("[%.3d] [%.0d] [%.0d] [%5.3d] [%-6.2d]", 5, 0, 3, -5, 7);
		SAME("[%*d] [%-*d]", 4, 1, 4, 2);
		SAME("%d%%", 100);
	}
	TEST("format: %u %zu %lu %llu %x %X %o") {
		SAME("%u", 0u);
		SAME("%u", UINT_MAX);
		SAME("%lu", ULONG_MAX);
		SAME("%llu", ULLONG_MAX);
		SAME("%zu", (size_t)0);
		SAME("%zu", SIZE_MAX);
		SAME("%zu sync%s", (size_t)3, "s");
		SAME("%x %x %x", 0u, 255u, 0xdeadbeefu);
		SAME("%X", 0xabcdefu);
		SAME("\\x%02x", 7u);
		SAME("\\x%02x", 0xe9u);
		SAME("%lx %llx", ULONG_MAX, ULLONG_MAX);
		SAME("%o %03o %03o", 8u, 022u, 0644u);
		SAME("%03o", 07777u);
		SAME("[%-8x] [%8x] [%08x]", 0x1fu, 0x1fu, 0x1fu);
		SAME("%zd", (ssize_t)-3);
	}
	TEST("format: %c and %%") {
		SAME("'%c'", 'a');
		SAME("'%c' (%s)", 'B', "block-size");
		SAME("[%3c] [%-3c]", 'x', 'y');
		SAME("%%");
		SAME("100%% of %d", 5);
		SAME_N(8, "a%cb", 0);	/* a NUL byte is output too */
	}
	TEST("format: truncation and the return value, as snprintf") {
		for (i = 0; i <= 12; i++) {
			SAME_N(i, "hello %s!", "world");
			SAME_N(i, "%d|%05d", -123, 45);
			SAME_N(i, "%-6s|%x", "ab", 0xabcu);
		}
		SAME_N(0, "%s", "nothing written");
		SAME_N(1, "%s", "only the NUL");
	}
	TEST("format: a NULL string prints (null)") {
		CHECK(format(buf, sizeof buf, "%s", null_string) == 6);
		CHECK_STR(buf, "(null)");
		format(buf, sizeof buf, "[%.3s]", null_string);
		CHECK_STR(buf, "[(nu]");
		/* the 0 flag is ignored with a precision, as in printf */
		format(buf, sizeof buf, zero_and_precision, 9);
		CHECK_STR(buf, "[  009]");
	}
	TEST("format: conversions that are not poni's are copied as they stand") {
		format(buf, sizeof buf, "a%gb", 1.5);
		CHECK_STR(buf, "a%gb");
		format(buf, sizeof buf, "%+d", 5);
		CHECK_STR(buf, "%+d");
		format(buf, sizeof buf, "%hd|", (short)5);
		CHECK_STR(buf, "%hd|");
		CHECK(format(buf, sizeof buf, trailing_percent, 0) == 3);
		CHECK_STR(buf, "50%");
	}
	TEST("format: a long result, vformat through format") {
		char big[5000], want[5000];

		memset(want, 'q', 4000);
		want[4000] = '\0';
		CHECK(format(big, sizeof big, "<%s>", want) == 4002);
		CHECK(big[0] == '<' && big[4001] == '>' && big[4002] == '\0');
		CHECK(memcmp(big + 1, want, 4000) == 0);
	}
	TEST("format_fd: short and long lines reach the fd whole") {
		int p[2];
		char *want = malloc(3001), got[4000];
		ssize_t n, total = 0;

		CHECK(want != NULL && pipe(p) == 0);
		if (want && unit_failed_now == 0) {
			memset(want, 'x', 3000);
			want[3000] = '\0';
			CHECK(format_fd(p[1], "%d: %s\n", 12, "short") == 0);
			CHECK(format_fd(p[1], "[%s]\n", want) == 0);
			close(p[1]);
			while ((n = read(p[0], got + total, sizeof got - (size_t)total)) > 0)
				total += n;
			close(p[0]);
			CHECK(total == 10 + 3003);
			CHECK(memcmp(got, "12: short\n[", 11) == 0);
			CHECK(memcmp(got + 11, want, 3000) == 0);
			CHECK(memcmp(got + 3011, "]\n", 2) == 0);
		}
		free(want);
	}
	TEST("format_fd: a write error is returned") {
		errno = 0;
		CHECK(format_fd(-1, "%s", "x") == -1 && errno == EBADF);
	}
	TEST("format_time: UTC dates as gmtime gives them") {
		static const long long days[] = {
			0, 1, -1, 59, 60, 365, 10957,	/* 1970, 2000-01-01 */
			11016, 11017, 11018,		/* 2000-02-28 .. 03-01 */
			-25508, -25509,			/* 1900-03-01, 02-28 */
			20753, 20754,			/* 2026-10-26, 27 */
			24837, 24838,			/* 2038-01-19, 20 */
			47541, 47542, 47541 + 366,	/* 2100-02-28, 03-01 */
			2932896				/* 9999-12-31 */
		};
		static const long secs[] = { 0, 1, 59, 60, 3599, 3600, 43200, 86399 };
		size_t i, j;
		int wide = sizeof(time_t) >= 8;
		long long t, first = wide ? -25202LL * 86400 : -0x7fffffffLL;
		long long last = wide ? 84000LL * 86400 : 0x7fffffffLL;

		/* every day from 1901 to 2200 (2038 with a 32-bit time_t), at a
		 * time of day that moves along */
		for (i = 0; i < sizeof days / sizeof *days; i++)
			for (j = 0; j < sizeof secs / sizeof *secs; j++)
				if (days[i] * 86400 + secs[j] >= first &&
				    days[i] * 86400 + secs[j] <= last)
					CHECK(same_time((time_t)(days[i] * 86400 + secs[j])));
		for (t = first; t < last && !unit_failed_now; t += 86400 + 37)
			CHECK(same_time((time_t)t));
		CHECK(same_time(time(NULL)));
	}
	TEST("format_time: the stamp's form") {
		char out[FORMAT_TIME_LEN];

		format_time(out, (time_t)1795511491);
		CHECK_STR(out, "2026-11-24 09:11:31Z");
		format_time(out, 0);
		CHECK_STR(out, "1970-01-01 00:00:00Z");
	}
	UNIT_EXIT();
}
