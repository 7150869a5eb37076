/* printf-style formatting and UTC time stamps without stdio or the
 * time zone code (see format.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"

/* Output into out[0 .. cap): what does not fit is counted, not kept. */
struct out {
	char *p;
	size_t cap, n;
};

static void put(struct out *o, const char *s, size_t k)
{
	if (o->n < o->cap)
		memcpy(o->p + o->n, s, k < o->cap - o->n ? k : o->cap - o->n);
	o->n += k;
}

static void pad(struct out *o, char c, size_t k)
{
	while (k--)
		put(o, &c, 1);
}

/* A conversion's spec, as read from just past its '%'. */
struct spec {
	int left, zero;		/* the flags - and 0 */
	int width_arg;		/* width *: an int argument */
	size_t width;
	int prec_arg;		/* precision .*: an int argument */
	int prec;		/* -1: none */
	int size;		/* 0 int, 1 long, 2 long long, 3 size_t */
	char conv;		/* '\0': not one of ours */
};

/* Read the spec at f (just past the '%'); returns where it ends. */
static const char *read_spec(const char *f, struct spec *sp)
{
	const char *start = f;

	*sp = (struct spec){ .prec = -1 };
	for (; *f == '-' || *f == '0'; f++) {
		if (*f == '-')
			sp->left = 1;
		else
			sp->zero = 1;
	}
	if (*f == '*') {
		sp->width_arg = 1;
		f++;
	} else {
		for (; *f >= '0' && *f <= '9'; f++)
			sp->width = sp->width * 10 + (size_t)(*f - '0');
	}
	if (*f == '.') {
		sp->prec = 0;
		if (*++f == '*') {
			sp->prec_arg = 1;
			f++;
		} else {
			for (; *f >= '0' && *f <= '9'; f++)
				sp->prec = sp->prec * 10 + (*f - '0');
		}
	}
	if (*f == 'z') {
		sp->size = 3;
		f++;
	}
	for (; *f == 'l' && sp->size < 2; f++)
		sp->size++;
	sp->conv = *f;
	/* a size only on a number (no %ls, %lc), and %% bare */
	if (!*f || !strchr(sp->size ? "diouxX" : "diouxXcs%", *f) ||
	    (*f == '%' && f != start))
		sp->conv = '\0';
	return *f ? f + 1 : f;
}

const char *format_unsupported(const char *f)
{
	struct spec sp;
	const char *next;

	for (; (f = strchr(f, '%')); f = next) {
		next = read_spec(f + 1, &sp);
		if (!sp.conv)
			return f;
	}
	return NULL;
}

int vformat(char *out, size_t len, const char *f, va_list ap)
{
	struct out o = { out, len ? len - 1 : 0, 0 };
	char digits[24], sign, *d;
	const char *s;
	size_t width, k, zeros;
	int prec, base;
	unsigned long long u;
	long long v;
	struct spec sp;

	while (*f) {
		if (*f != '%') {
			k = strcspn(f, "%");
			put(&o, f, k);
			f += k;
			continue;
		}
		f = read_spec(f + 1, &sp);
		if (!sp.conv) {
			/* its argument's type is unknown, and so are the
			 * places of all the later ones: stop here */
			put(&o, "%?", 2);
			break;
		}
		width = sp.width;
		if (sp.width_arg) {
			prec = va_arg(ap, int);	/* as a width */
			if (prec < 0) {
				sp.left = 1;
				prec = -prec;
			}
			width = (size_t)prec;
		}
		prec = sp.prec_arg ? va_arg(ap, int) : sp.prec;	/* < 0: none */
		sign = 0;
		base = 10;
		switch (sp.conv) {
		case 'd':
		case 'i':
			v = sp.size == 2 ? va_arg(ap, long long) :
			    sp.size == 1 ? va_arg(ap, long) :
			    sp.size == 3 ? va_arg(ap, ssize_t) : va_arg(ap, int);
			if (v < 0)
				sign = '-';
			u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
			goto number;
		case 'o':
			base = 8;
			goto unsigned_number;
		case 'x':
		case 'X':
			base = 16;
			/* fall through */
		case 'u':
		unsigned_number:
			u = sp.size == 2 ? va_arg(ap, unsigned long long) :
			    sp.size == 1 ? va_arg(ap, unsigned long) :
			    sp.size == 3 ? va_arg(ap, size_t) : va_arg(ap, unsigned);
		number:
			d = digits + sizeof digits;
			for (; u || (d == digits + sizeof digits && prec != 0); u /= (unsigned)base)
				*--d = (sp.conv == 'X' ? "0123456789ABCDEF" :
				    "0123456789abcdef")[u % (unsigned)base];
			k = (size_t)(digits + sizeof digits - d);
			/* a precision is the least number of digits */
			zeros = prec > 0 && (size_t)prec > k ? (size_t)prec - k : 0;
			k += zeros + (sign != 0);
			if (sp.zero && !sp.left && prec < 0 && width > k) {
				zeros += width - k;
				k = width;
			}
			if (!sp.left && width > k)
				pad(&o, ' ', width - k);
			if (sign)
				put(&o, &sign, 1);
			pad(&o, '0', zeros);
			put(&o, d, (size_t)(digits + sizeof digits - d));
			if (sp.left && width > k)
				pad(&o, ' ', width - k);
			continue;
		case 'c':
			digits[0] = (char)va_arg(ap, int);
			s = digits;
			k = 1;
			break;
		case 's':
			if (!(s = va_arg(ap, const char *)))
				s = "(null)";
			for (k = 0; s[k] && (prec < 0 || k < (size_t)prec); k++)
				;
			break;
		default:	/* %% */
			s = "%";
			k = 1;
			break;
		}
		if (!sp.left && width > k)
			pad(&o, ' ', width - k);
		put(&o, s, k);
		if (sp.left && width > k)
			pad(&o, ' ', width - k);
	}
	if (len)
		out[o.n < o.cap ? o.n : o.cap] = '\0';
	if (o.n > INT_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	return (int)o.n;
}

int format(char *out, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vformat(out, len, f, ap);
	va_end(ap);
	return n;
}

int write_all(int fd, const char *s, size_t n)
{
	ssize_t r;

	while (n) {
		if ((r = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

int format_fd(int fd, const char *f, ...)
{
	char small[1024], *p = small;
	va_list ap;
	int n, r;

	va_start(ap, f);
	n = vformat(small, sizeof small, f, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof small) {
		if (!(p = malloc((size_t)n + 1)))
			return -1;
		va_start(ap, f);
		vformat(p, (size_t)n + 1, f, ap);
		va_end(ap);
	}
	r = write_all(fd, p, (size_t)n);
	if (p != small)
		free(p);
	return r;
}

/* Days since 1970-01-01 to a date: Howard Hinnant's civil_from_days,
 * in eras of 400 years (146,097 days) counted from 0000-03-01, so that
 * the leap day ends a year. The rest is unsigned, and the time of day
 * 64-bit: gcc divides a value it knows to be small and positive as a
 * signed one, which on 32-bit ARM brings libgcc's __aeabi_idiv along. */
void format_time(char *out, time_t t)
{
	long long days = (long long)t / 86400, era;
	unsigned long long sod;
	unsigned long doe, yoe, doy, mp, m;

	if ((long long)t % 86400 < 0)
		days--;
	sod = (unsigned long long)t - (unsigned long long)days * 86400;
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = (unsigned long)(days - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = mp < 10 ? mp + 3 : mp - 9;
	format(out, FORMAT_TIME_LEN, "%04lld-%02lu-%02lu %02llu:%02llu:%02lluZ",
	    era * 400 + (long long)yoe + (m <= 2), m, doy - (153 * mp + 2) / 5 + 1,
	    sod / 3600, sod / 60 % 60, sod % 60);
}
