/* Shell wildcard matching (see match.h). musl's fnmatch works on wide
 * characters and so pulls in its Unicode tables, about 16 KB of a
 * 64 KiB binary; exclude patterns only need this. */
#include <ctype.h>
#include <string.h>

#include "match.h"

/* Is c in the class named by the len bytes at name ("digit")? An
 * unknown name matches nothing. */
static bool in_class(const char *name, size_t len, int c)
{
	static const char names[] = "alnum\0alpha\0blank\0cntrl\0digit\0graph\0"
	    "lower\0print\0punct\0space\0upper\0xdigit";
	const char *n = names;
	int i;

	for (i = 0; i < 12; i++, n += strlen(n) + 1)
		if (strlen(n) == len && memcmp(n, name, len) == 0)
			break;
	switch (i) {
	case 0: return isalnum(c);
	case 1: return isalpha(c);
	case 2: return c == ' ' || c == '\t';
	case 3: return iscntrl(c);
	case 4: return isdigit(c);
	case 5: return isgraph(c);
	case 6: return islower(c);
	case 7: return isprint(c);
	case 8: return ispunct(c);
	case 9: return isspace(c);
	case 10: return isupper(c);
	case 11: return isxdigit(c);
	}
	return false;
}

/* The set whose members start at p (just after its "["): does it hold
 * c? Returns the pattern after the closing "]", or NULL when the set is
 * not closed (the "[" is then an ordinary byte). */
static const char *match_set(const char *p, unsigned char c, bool *hit)
{
	const char *first, *end;
	bool neg = false, found = false;
	unsigned char lo, hi;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	/* a "]" first is a member, not the end */
	for (first = p; *p != ']' || p == first;) {
		if (!*p)
			return NULL;
		if (p[0] == '[' && p[1] == ':') {
			for (end = p + 2; *end && !(end[0] == ':' && end[1] == ']'); end++)
				;
			if (*end) {
				found |= in_class(p + 2, (size_t)(end - p - 2), c);
				p = end + 2;
				continue;
			}
		}
		if (*p == '\\' && p[1])
			p++;
		lo = hi = (unsigned char)*p++;
		if (p[0] == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			hi = (unsigned char)*p++;
		}
		if (lo <= c && c <= hi)
			found = true;
	}
	*hit = found != neg;
	return p + 1;
}

/* One backtracking point, the last "*", is enough: a later "*" can take
 * up whatever an earlier one would. With pathname no "*" can take a "/",
 * so when the last one would have to, nothing can match. */
bool match_glob(const char *p, const char *s, bool pathname)
{
	const char *star_p = NULL, *star_s = NULL, *next;
	unsigned char c;
	bool hit;

	for (;;) {
		c = (unsigned char)*s;
		switch (*p) {
		case '*':
			while (*++p == '*')
				;
			star_p = p;
			star_s = s;
			continue;
		case '?':
			if (!c || (pathname && c == '/'))
				break;
			p++;
			s++;
			continue;
		case '[':
			if (!c || (pathname && c == '/'))
				break;
			if ((next = match_set(p + 1, c, &hit))) {
				if (!hit)
					break;
				p = next;
				s++;
				continue;
			}
			if (c != '[')
				break;
			p++;
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
		/* no match here: let the last "*" take one more byte */
		if (!star_p || !*star_s || (pathname && *star_s == '/'))
			return false;
		p = star_p;
		s = ++star_s;
	}
}
