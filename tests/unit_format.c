/* format.c: every conversion poni uses, compared with the C library's
 * snprintf; truncation, the return value, NULL strings, fd output. */
#include <ctype.h>
#include <dirent.h>
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

/* --- the format strings of src/ -------------------------------------------
 * A small C lexer turns each file of src/ into tokens (identifiers, string
 * literals, numbers, single punctuation characters), comments dropped. The
 * functions declared with PRINTF(fmt, first) are the format functions; in
 * every call of one, the string literals of the format argument (adjacent
 * ones joined, each branch of a ?: on its own) must pass
 * format_unsupported. A format that is no literal (fmt passed on to
 * vformat) is checked at the calls that give it. */

enum { TOK_ID, TOK_STR, TOK_NUM, TOK_PUNCT };

struct tok {
	int kind;
	char *text;		/* a string literal's without its quotes */
	int line;
};

struct file_toks {
	char *path;
	struct tok *t;
	size_t n;
};

struct scan {
	struct file_toks *files;
	size_t nfiles;
	char **funcs;		/* declared with PRINTF(fmt_arg, ...) */
	int *fmt_arg;
	size_t nfuncs;
	int strings, bad;
};

static void *xmem(void *p)
{
	if (!p) {
		perror("unit_format");
		exit(2);
	}
	return p;
}

static void add_tok(struct file_toks *f, int kind, const char *s, size_t n, int line)
{
	struct tok *t;

	f->t = xmem(realloc(f->t, (f->n + 1) * sizeof *f->t));
	t = &f->t[f->n++];
	t->kind = kind;
	t->text = xmem(strndup(s, n));
	t->line = line;
}

static void lex(struct file_toks *f, const char *s)
{
	const char *start;
	int line = 1;
	char q;

	while (*s) {
		start = s;
		if (*s == '\n') {
			line++;
			s++;
		} else if (isspace((unsigned char)*s)) {
			s++;
		} else if (s[0] == '/' && s[1] == '*') {
			for (s += 2; *s && !(s[0] == '*' && s[1] == '/'); s++)
				line += *s == '\n';
			s += *s ? 2 : 0;
		} else if (s[0] == '/' && s[1] == '/') {
			while (*s && *s != '\n')
				s++;
		} else if (*s == '"' || *s == '\'') {
			for (q = *s++, start = s; *s && *s != q; s++) {
				if (*s == '\\' && s[1])
					s++;
				line += *s == '\n';
			}
			add_tok(f, q == '"' ? TOK_STR : TOK_NUM, start, (size_t)(s - start), line);
			s += *s ? 1 : 0;
		} else if (isalnum((unsigned char)*s) || *s == '_') {
			while (isalnum((unsigned char)*s) || *s == '_' || *s == '.')
				s++;
			add_tok(f, isdigit((unsigned char)*start) ? TOK_NUM : TOK_ID,
			    start, (size_t)(s - start), line);
		} else {
			add_tok(f, TOK_PUNCT, s++, 1, line);
		}
	}
}

static int is(const struct file_toks *f, size_t i, int kind, const char *text)
{
	return i < f->n && f->t[i].kind == kind && (!text || strcmp(f->t[i].text, text) == 0);
}

/* "NAME(...) PRINTF(N, M)": NAME takes its format as argument N. */
static void find_format_functions(struct scan *sc, const struct file_toks *f)
{
	size_t i, j;
	int depth;

	for (i = 1; i + 5 < f->n; i++) {
		if (!is(f, i, TOK_ID, "PRINTF") || !is(f, i + 1, TOK_PUNCT, "(") ||
		    !is(f, i + 2, TOK_NUM, NULL) || !is(f, i - 1, TOK_PUNCT, ")"))
			continue;
		for (j = i - 1, depth = 0; j > 0; j--) {
			depth += is(f, j, TOK_PUNCT, ")") - is(f, j, TOK_PUNCT, "(");
			if (depth == 0)
				break;
		}
		if (j == 0 || !is(f, j - 1, TOK_ID, NULL))
			continue;
		sc->funcs = xmem(realloc(sc->funcs, (sc->nfuncs + 1) * sizeof *sc->funcs));
		sc->fmt_arg = xmem(realloc(sc->fmt_arg, (sc->nfuncs + 1) * sizeof *sc->fmt_arg));
		sc->funcs[sc->nfuncs] = f->t[j - 1].text;
		sc->fmt_arg[sc->nfuncs++] = atoi(f->t[i + 2].text);
	}
}

/* One format string (the joined literals): refused if format() does not
 * do one of its conversions. */
static void check_format(struct scan *sc, const struct file_toks *f, int line, const char *fmt)
{
	const char *bad = format_unsupported(fmt);

	sc->strings++;
	if (!bad)
		return;
	sc->bad++;
	printf("    %s:%d: \"%s\": format() does not do \"%.*s...\" (see src/format.h)\n",
	    f->path, line, fmt, 4, bad);
}

/* The calls of format function k in f. */
static void check_calls(struct scan *sc, const struct file_toks *f, size_t k)
{
	char fmt[4096];
	size_t i, j, len;
	int depth, arg, line;

	for (i = 0; i + 1 < f->n; i++) {
		if (!is(f, i, TOK_ID, sc->funcs[k]) || !is(f, i + 1, TOK_PUNCT, "("))
			continue;
		len = 0;
		line = 0;
		for (j = i + 2, depth = 0, arg = 1; j < f->n; j++) {
			const struct tok *t = &f->t[j];

			if (arg == sc->fmt_arg[k] && t->kind == TOK_STR &&
			    len + strlen(t->text) < sizeof fmt) {
				memcpy(fmt + len, t->text, strlen(t->text) + 1);
				len += strlen(t->text);
				line = line ? line : t->line;
				continue;
			}
			if (line) {	/* the literals end: check them */
				check_format(sc, f, line, fmt);
				len = 0;
				line = 0;
			}
			if (t->kind != TOK_PUNCT)
				continue;
			if (strchr("([{", *t->text))
				depth++;
			else if (strchr(")]}", *t->text) && depth-- == 0)
				break;
			else if (*t->text == ',' && depth == 0)
				arg++;
		}
	}
}

static void scan_sources(struct scan *sc, const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	size_t i, n;
	char *text;
	FILE *fp;

	if (!d) {
		printf("    cannot open %s/ (run from the top of the tree)\n", dir);
		return;
	}
	while ((e = readdir(d))) {
		n = strlen(e->d_name);
		if (n < 3 || e->d_name[n - 2] != '.' || !strchr("ch", e->d_name[n - 1]))
			continue;
		sc->files = xmem(realloc(sc->files, (sc->nfiles + 1) * sizeof *sc->files));
		memset(&sc->files[sc->nfiles], 0, sizeof *sc->files);
		sc->files[sc->nfiles].path = xmem(malloc(strlen(dir) + n + 2));
		sprintf(sc->files[sc->nfiles].path, "%s/%s", dir, e->d_name);
		fp = xmem(fopen(sc->files[sc->nfiles].path, "r"));
		text = xmem(calloc(1, 1 << 20));
		if (fread(text, 1, (1 << 20) - 1, fp) >= (1 << 20) - 1)
			printf("    %s: longer than 1 MiB, scanned in part\n", e->d_name);
		fclose(fp);
		lex(&sc->files[sc->nfiles++], text);
		free(text);
	}
	closedir(d);
	for (i = 0; i < sc->nfiles; i++)
		find_format_functions(sc, &sc->files[i]);
	for (i = 0; i < sc->nfiles; i++)
		for (n = 0; n < sc->nfuncs; n++)
			check_calls(sc, &sc->files[i], n);
}

static void free_scan(struct scan *sc)
{
	size_t i, j;

	for (i = 0; i < sc->nfiles; i++) {
		for (j = 0; j < sc->files[i].n; j++)
			free(sc->files[i].t[j].text);
		free(sc->files[i].t);
		free(sc->files[i].path);
	}
	free(sc->files);
	free(sc->funcs);
	free(sc->fmt_arg);
}

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
	TEST("format: a conversion that is not poni's ends the output with %?") {
		/* before, "%p" was copied and its argument left unread, so
		 * "%s" printed the pointer as a string */
		CHECK(format(buf, sizeof buf, "<%p %s>", (void *)buf, "x") == 3);
		CHECK_STR(buf, "<%?");
		format(buf, sizeof buf, "a%.1fb %d", 1.5, 7);
		CHECK_STR(buf, "a%?");
		format(buf, sizeof buf, "%d %+d %d", 1, 5, 2);
		CHECK_STR(buf, "1 %?");
		format(buf, sizeof buf, "%hd|", (short)5);
		CHECK_STR(buf, "%?");
		format(buf, sizeof buf, "%ls|%s", L"w", "s");
		CHECK_STR(buf, "%?");
		CHECK(format(buf, sizeof buf, trailing_percent, 0) == 4);
		CHECK_STR(buf, "50%?");
		CHECK(format(buf, 3, "ab%p", (void *)buf) == 4);
		CHECK_STR(buf, "ab");
	}
	TEST("format_unsupported: finds the first conversion format() does not do") {
		static const char *const good[] = {
			"", "plain", "%%", "100%%", "%s %d %i %u %o %x %X %c",
			"%-5s|%05d|%.3s|%*d|%-*.*s|%.*s", "%ld %lld %lu %llu %zu %zd %lx %03llo",
		};
		static const char *const bad[] = {
			"%p", "%f", "%.1f", "%g", "%e", "%hd", "%hhu", "%+d", "% d", "%#x", "%'d",
			"%ls", "%lc", "%l%", "%5%", "%lz", "%zl", "%llld", "%n", "%a", "%j", "%",
			"%1$s", "%I64d", "%*5d", "%.*3s",
		};
		size_t i;

		for (i = 0; i < sizeof good / sizeof *good; i++)
			CHECK(format_unsupported(good[i]) == NULL);
		for (i = 0; i < sizeof bad / sizeof *bad; i++)
			CHECK(format_unsupported(bad[i]) == bad[i]);
		CHECK(strcmp(format_unsupported("%s and %p") , "%p") == 0);
		CHECK(strcmp(format_unsupported("%% %d %%%.2f") , "%.2f") == 0);
	}
	TEST("format: every format string in src/ uses only format()'s conversions") {
		struct scan sc = { 0 };

		scan_sources(&sc, "src");
		CHECK(sc.nfuncs >= 10);		/* log_*, fatal, format, xasprintf ... */
		CHECK(sc.strings >= 150);	/* a scan that found nothing proves nothing */
		CHECK(sc.bad == 0);
		if (unit_failed_now)
			printf("    %zu functions with PRINTF, %d format strings, %d refused\n",
			    sc.nfuncs, sc.strings, sc.bad);
		free_scan(&sc);
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
