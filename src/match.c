/* rsync's wildcard matching (see match.h). musl's fnmatch works on wide
 * characters and so pulls in its Unicode tables, about 16 KB of a
 * 64 KiB binary; and it lets no "*" cross "/" or every "*" cross it,
 * where rsync lets "**" cross "/" and "*" not, in the same pattern. */
#include <ctype.h>
#include <string.h>

#include "match.h"

/* Is c in the class named by the len bytes at name ("digit")? -1 when
 * there is no such class. */
static int in_class(const char *name, size_t len, int c)
{
	static const char names[] = "alnum\0alpha\0blank\0cntrl\0digit\0graph\0"
	    "lower\0print\0punct\0space\0upper\0xdigit";
	const char *n = names;
	int i;

	for (i = 0; i < 12; i++, n += strlen(n) + 1)
		if (strlen(n) == len && memcmp(n, name, len) == 0)
			break;
	switch (i) {
	case 0: return !!isalnum(c);
	case 1: return !!isalpha(c);
	case 2: return c == ' ' || c == '\t';
	case 3: return !!iscntrl(c);
	case 4: return !!isdigit(c);
	case 5: return !!isgraph(c);
	case 6: return !!islower(c);
	case 7: return !!isprint(c);
	case 8: return !!ispunct(c);
	case 9: return !!isspace(c);
	case 10: return !!isupper(c);
	case 11: return !!isxdigit(c);
	}
	return -1;
}

/* The set whose members start at p (just after its "["): 1 when it
 * holds c, 0 when not, -1 when it is malformed (not closed, an unknown
 * class). *end gets the pattern after the closing "]". As in rsync: a
 * "]" first is a member; "-" makes a range after a single member
 * (escaped or not) unless it is last; "[:" that finds no ":]" before
 * the next "]" is a plain "[". */
static int match_set(const char *p, int c, const char **end)
{
	const char *first, *close;
	bool neg = *p == '!' || *p == '^', in = false;
	int prev = -1, hi, k;	/* prev: the last single member, if any */

	if (neg)
		p++;
	for (first = p; *p != ']' || p == first; p++) {
		if (!*p)
			return -1;
		if (*p == '\\') {
			if (!*++p)
				return -1;
			prev = (unsigned char)*p;
			in |= c == prev;
		} else if (*p == '-' && prev >= 0 && p[1] && p[1] != ']') {
			hi = (unsigned char)*++p;
			if (hi == '\\' && !(hi = (unsigned char)*++p))
				return -1;
			in |= prev <= c && c <= hi;
			prev = -1;
		} else if (p[0] == '[' && p[1] == ':' && (close = strchr(p + 2, ']')) &&
			   close > p + 2 && close[-1] == ':') {
			if ((k = in_class(p + 2, (size_t)(close - p - 3), c)) < 0)
				return -1;
			in |= k;
			p = close;
			prev = -1;
		} else {
			prev = (unsigned char)*p;
			in |= c == prev;
		}
	}
	*end = p + 1;
	return in != neg;
}

/* Iterative, with two points to go back to: the last star, and the
 * last "**". A "*" after a "**" that would have to take a "/" cannot,
 * and no earlier "*" since that "**" can either: the "**" takes one
 * more byte instead. Out of text, giving any star more cannot help. */
bool match_glob(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL, *any_p = NULL, *any_s = NULL;
	const char *next;
	bool any = false;	/* the last star is a "**" */
	int c, r;

	for (;;) {
		c = (unsigned char)*s;
		switch (*p) {
		case '*':
			any = p[1] == '*';
			while (*p == '*')
				p++;
			star_p = p;
			star_s = s;
			if (any) {
				any_p = p;
				any_s = s;
			}
			continue;
		case '?':
			if (!c || c == '/')
				break;
			p++;
			s++;
			continue;
		case '[':
			if (!c || c == '/')
				break;
			if ((r = match_set(p + 1, c, &next)) < 0)
				return false;	/* a malformed set never matches */
			if (!r)
				break;
			p = next;
			s++;
			continue;
		case '\\':
			if (!p[1] || (unsigned char)p[1] != c)
				break;
			p += 2;
			s++;
			continue;
		case '\0':
			if (!c)
				return true;
			break;
		default:
			if ((unsigned char)*p != c)
				break;
			p++;
			s++;
			continue;
		}
		if (!c || !star_p)
			return false;
		if (!any && *star_s != '/') {	/* the last "*" takes one more byte */
			p = star_p;
			s = ++star_s;
			continue;
		}
		if (!any_p)
			return false;
		p = star_p = any_p;	/* the last "**" takes one more byte */
		s = star_s = ++any_s;
		any = true;
	}
}
