/* poni's YAML subset: a line-oriented parser for configuration files.
 *
 * The document is read one line at a time. Block structure comes from
 * indentation: a stack of open blocks (mappings and sequences), each with
 * the indent of its entries. A "key:" with nothing after it is pending: if
 * the next meaningful line is deeper (or a "- " item at the same indent), it
 * opens a block that becomes the key's value; otherwise the value is null.
 * Flow collections ([a, b] and {k: v}) must fit on one line and hold only
 * scalars. Everything else YAML can do is refused with a line, a column and
 * a hint.
 *
 * The input is not NUL-terminated: every scan is bounded by an end pointer.
 * Nothing recurses, and nesting is capped at MAX_DEPTH blocks. */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "yaml.h"

#define MAX_DEPTH 32

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

struct frame {
	struct ynode *node;	/* YN_MAP or YN_SEQ */
	struct ynode *tail;	/* last entry, to append in file order */
	int indent;		/* spaces before each entry */
	int first_line;		/* where that indent was set, for messages */
	int same_indent;	/* a "- " list at its key's own indent */
};

/* Every key of every mapping, to find duplicates in O(1): (mapping, key)
 * pairs in one open-addressing table for the whole document. */
struct keyslot {
	const struct ynode *map;
	struct ynode *entry;
	size_t hash;
};

struct keyset {
	struct keyslot *slot;
	size_t cap, used;	/* cap is 0 or a power of two */
};

enum doc_state { DOC_START, DOC_MARKED, DOC_BODY, DOC_ENDED };

struct parser {
	struct yaml_error *err;
	const char *ls;		/* start of the current line */
	int line;		/* its number */
	enum doc_state state;
	struct ynode *root;
	struct frame stack[MAX_DEPTH];
	int depth;
	struct ynode *pending;	/* "key:" with no value yet, in the top frame */
	struct keyset keys;
};

/* What a scalar is read for: it decides where it ends and what it may hold. */
enum scalar_ctx { IN_BLOCK, IN_ITEM, IN_FLOW_SEQ, IN_FLOW_KEY, IN_FLOW_VALUE };

static const char single_value_msg[] =
    "a list item must be a single value: lists of mappings or of lists are not supported "
    "(quote the item if it is text)";
static const char nested_flow_msg[] =
    "nested flow collections are not supported: use an indented block";
static const char flow_pair_msg[] =
    "expected 'key: value' in the flow mapping: write {key: value, ...}";

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_ws(const char *p, const char *e)
{
	while (p < e && is_ws(*p))
		p++;
	return p;
}

/* An indicator followed by whitespace or the end, like "- " or ": ". */
static int spaced(const char *p, const char *e)
{
	return p + 1 == e || is_ws(p[1]);
}

static int col_of(const struct parser *ps, const char *p)
{
	return (int)(p - ps->ls) + 1;
}

PRINTF_LIKE(3, 4)
static int fail(struct parser *ps, const char *at, const char *fmt, ...)
{
	va_list ap;

	ps->err->line = ps->line;
	ps->err->col = at ? col_of(ps, at) : 0;
	va_start(ap, fmt);
	vformat(ps->err->msg, sizeof ps->err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static int out_of_memory(struct parser *ps)
{
	return fail(ps, NULL, "out of memory");
}

/* A key for a message: at most 60 bytes, control characters as '?'. */
static const char *printable(char *buf, size_t size, const char *s)
{
	size_t i, max = size - 4;

	for (i = 0; s[i] && i < max; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	if (s[i])
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

/* ---- nodes ---- */

static struct ynode *new_node(struct parser *ps, enum ynode_type type, const char *at)
{
	struct ynode *n = calloc(1, sizeof *n);

	if (!n) {
		out_of_memory(ps);
		return NULL;
	}
	n->type = type;
	n->line = ps->line;
	n->col = col_of(ps, at);
	return n;
}

static void append(struct ynode *parent, struct ynode **tail, struct ynode *n)
{
	if (*tail)
		(*tail)->next = n;
	else
		parent->child = n;
	*tail = n;
}

/* Frees root and everything below it (and after it). Iterative: each
 * node's children are spliced in front of its siblings before it goes. */
void yaml_free(struct ynode *n)
{
	struct ynode *next, *last;

	while (n) {
		if (n->child) {
			for (last = n->child; last->next; last = last->next)
				;
			last->next = n->next;
			n->next = n->child;
		}
		next = n->next;
		free(n->key);
		free(n->value);
		free(n);
		n = next;
	}
}

/* ---- duplicate keys ---- */

static size_t key_hash(const struct ynode *map, const char *key)
{
	size_t h = 2166136261u;	/* FNV-1a */

	h ^= (size_t)((uintptr_t)map >> 4);
	h *= 16777619u;
	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 16777619u;
	}
	return h;
}

static int keyset_grow(struct keyset *ks)
{
	size_t cap = ks->cap ? ks->cap * 2 : 64, i, j;
	struct keyslot *slot;

	if (cap > SIZE_MAX / sizeof *slot || !(slot = calloc(cap, sizeof *slot)))
		return -1;
	for (i = 0; i < ks->cap; i++) {
		if (!ks->slot[i].entry)
			continue;
		for (j = ks->slot[i].hash & (cap - 1); slot[j].entry; j = (j + 1) & (cap - 1))
			;
		slot[j] = ks->slot[i];
	}
	free(ks->slot);
	ks->slot = slot;
	ks->cap = cap;
	return 0;
}

/* Records entry's key as one of map's, refusing a key map already has. */
static int add_key(struct parser *ps, struct ynode *map, struct ynode *entry,
    const char *key_at)
{
	struct keyset *ks = &ps->keys;
	size_t h = key_hash(map, entry->key), i;
	char name[64];

	if (ks->used + 1 > ks->cap / 2 && keyset_grow(ks))
		return out_of_memory(ps);
	for (i = h & (ks->cap - 1); ks->slot[i].entry; i = (i + 1) & (ks->cap - 1)) {
		struct keyslot *s = &ks->slot[i];

		if (s->hash == h && s->map == map && strcmp(s->entry->key, entry->key) == 0)
			return fail(ps, key_at,
			    "duplicate key '%s' (first set on line %d): remove one of them",
			    printable(name, sizeof name, entry->key), s->entry->key_line);
	}
	ks->slot[i].map = map;
	ks->slot[i].entry = entry;
	ks->slot[i].hash = h;
	ks->used++;
	return 0;
}

/* ---- scalars ---- */

/* Reads the quoted scalar opening at open (' or "), which must close on
 * this line, into out (if not NULL); *len gets its length and *after the
 * byte after the closing quote. Called once to measure, once to copy. */
static int read_quoted(struct parser *ps, const char *open, const char *e,
    char *out, size_t *len, const char **after)
{
	const char *p = open + 1;
	char quote = *open, c;
	size_t n = 0;

	for (;;) {
		if (p == e)
			return fail(ps, open, "unterminated quoted string: close the quote "
			    "on the same line (multi-line quoted values are not supported)");
		c = *p;
		if (c == quote) {
			if (quote == '"' || p + 1 == e || p[1] != '\'')
				break;
			p++;	/* '' in single quotes is one quote */
		} else if (quote == '"' && c == '\\') {
			if (p + 1 == e) {
				p = e;	/* a backslash ending the line: unterminated */
				continue;
			}
			switch (p[1]) {
			case '"': case '\\': case '/': c = p[1]; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '0':
				return fail(ps, p, "the escape \\0 would put a NUL byte in the value: remove it");
			default:
				if ((unsigned char)p[1] > 0x20 && (unsigned char)p[1] < 0x7f)
					return fail(ps, p, "unsupported escape '\\%c' in a double-quoted string: "
					    "only \\\" \\\\ \\/ \\n \\t \\r are understood; write the character "
					    "itself or use single quotes", p[1]);
				return fail(ps, p, "unsupported escape (a backslash before byte 0x%02x) in a "
				    "double-quoted string: write \\\\ for a backslash or use single quotes",
				    (unsigned char)p[1]);
			}
			p++;
		}
		if (out)
			out[n] = c;
		n++;
		p++;
	}
	*len = n;
	*after = p + 1;
	return 0;
}

static int parse_quoted(struct parser *ps, const char *open, const char *e,
    char **text, const char **after)
{
	size_t len = 0;

	if (read_quoted(ps, open, e, NULL, &len, after))
		return -1;
	if (!(*text = malloc(len + 1)))
		return out_of_memory(ps);
	read_quoted(ps, open, e, *text, &len, after);
	(*text)[len] = '\0';
	return 0;
}

static char *copy_text(struct parser *ps, const char *s, const char *e)
{
	char *t = malloc((size_t)(e - s) + 1);

	if (!t) {
		out_of_memory(ps);
		return NULL;
	}
	memcpy(t, s, (size_t)(e - s));
	t[e - s] = '\0';
	return t;
}

/* Refuses the YAML indicators that may never start a plain scalar here. */
static int check_plain_start(struct parser *ps, const char *p, const char *e)
{
	switch (*p) {
	case '&': case '*': case '!':
		return fail(ps, p, "anchors, aliases and tags are not supported: "
		    "write the value itself (quote it if it starts with '%c')", *p);
	case '|': case '>':
		return fail(ps, p, "block scalars (| and >) are not supported: "
		    "write the value on one line, quoted if needed");
	case '@': case '`':
		return fail(ps, p, "'%c' is reserved in YAML: quote the value", *p);
	case '%': case '#': case ',': case ']': case '}':
		return fail(ps, p, "a plain value cannot start with '%c': quote the value", *p);
	case '?':
		if (spaced(p, e))
			return fail(ps, p, "complex keys ('? ') are not supported: write 'key: value'");
		break;
	case ':':
		if (spaced(p, e))
			return fail(ps, p, "unexpected ':': quote the value if it starts with ':'");
		break;
	}
	return 0;
}

/* The first ':' followed by whitespace or the end, or NULL. */
static const char *find_colon(const char *p, const char *e)
{
	for (; p < e; p++)
		if (*p == ':' && spaced(p, e))
			return p;
	return NULL;
}

/* End of a plain scalar in block context: the line end or a " #" comment,
 * with trailing whitespace trimmed. */
static const char *plain_end(const char *p, const char *e)
{
	const char *q;

	for (q = p; q < e; q++)
		if (*q == '#' && q > p && is_ws(q[-1]))
			break;
	while (q > p && is_ws(q[-1]))
		q--;
	return q;
}

/* End of a plain scalar in a flow collection closed by closer. */
static int flow_plain_end(struct parser *ps, const char *p, const char *e,
    char closer, enum scalar_ctx ctx, const char **end)
{
	const char *q;

	for (q = p; q < e && *q != ',' && *q != closer; q++) {
		if (*q == '#' && q > p && is_ws(q[-1]))
			break;
		if (*q == '[' || *q == ']' || *q == '{' || *q == '}')
			return fail(ps, q, "'%c' inside a flow value: quote the value "
			    "(nested flow collections are not supported)", *q);
		if (*q == ':' && (spaced(q, e) || q[1] == ',' || q[1] == closer)) {
			if (ctx == IN_FLOW_KEY)
				break;
			if (ctx == IN_FLOW_SEQ)
				return fail(ps, q, "%s", single_value_msg);
			return fail(ps, q, "a value cannot contain ': ': quote it");
		}
	}
	while (q > p && is_ws(q[-1]))
		q--;
	*end = q;
	return 0;
}

/* Makes n the scalar (or null) read at *pp, and moves *pp past it. */
static int parse_scalar(struct parser *ps, struct ynode *n, const char **pp,
    const char *e, enum scalar_ctx ctx, char closer)
{
	const char *s = *pp, *end;
	size_t len;

	n->line = ps->line;
	n->col = col_of(ps, s);
	if (*s == '"' || *s == '\'') {
		if (parse_quoted(ps, s, e, &n->value, pp))
			return -1;
		n->type = YN_SCALAR;
		n->quoted = 1;
		return 0;
	}
	if (*s == '[' || *s == '{')
		return fail(ps, s, "%s", nested_flow_msg);
	if (*s == '-' && spaced(s, e))
		return fail(ps, s, ctx == IN_BLOCK ? "a list cannot start on its key's line: "
		    "put each '- item' on a line of its own below the key" : single_value_msg);
	if (check_plain_start(ps, s, e))
		return -1;
	if (ctx == IN_BLOCK || ctx == IN_ITEM) {
		const char *colon;

		end = plain_end(s, e);
		if ((colon = find_colon(s, end)))
			return fail(ps, colon, ctx == IN_ITEM ? single_value_msg :
			    "a value cannot contain ': ' (nor end with ':') unless quoted: quote it");
	} else if (flow_plain_end(ps, s, e, closer, ctx, &end)) {
		return -1;
	}
	*pp = end;
	len = (size_t)(end - s);
	if ((len == 1 && *s == '~') || (len == 4 && (!memcmp(s, "null", 4) ||
	    !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)))) {
		n->type = YN_NULL;
		return 0;
	}
	n->type = YN_SCALAR;
	return (n->value = copy_text(ps, s, end)) ? 0 : -1;
}

/* After a closing quote or bracket only a comment may follow. */
static int check_trailer(struct parser *ps, const char *p, const char *e, enum scalar_ctx ctx)
{
	const char *q = skip_ws(p, e);

	if (q == e || (*q == '#' && q > p))
		return 0;
	if (ctx == IN_ITEM && *q == ':')
		return fail(ps, q, "%s", single_value_msg);
	return fail(ps, q, "unexpected text after the value: only a comment ('# ...') may follow");
}

/* ---- flow collections: one line, scalars only ---- */

static int unterminated_flow(struct parser *ps, const char *open)
{
	return fail(ps, open, "unterminated flow %s: '%c' must be on the same line",
	    *open == '[' ? "sequence" : "mapping", *open == '[' ? ']' : '}');
}

/* Parses the [ ... ] or { ... } opening at open into n; *after gets the
 * byte after the closing bracket. */
static int parse_flow(struct parser *ps, struct ynode *n, const char *open,
    const char *e, const char **after)
{
	int is_map = *open == '{';
	char closer = is_map ? '}' : ']';
	const char *p = open + 1, *key_at;
	struct ynode *entry, *tail = NULL;

	n->type = is_map ? YN_MAP : YN_SEQ;
	n->line = ps->line;
	n->col = col_of(ps, open);
	for (;;) {
		p = skip_ws(p, e);
		if (p == e || (*p == '#' && is_ws(p[-1])))
			return unterminated_flow(ps, open);
		if (*p == closer)
			break;	/* also after a trailing comma: [a, b,] */
		if (*p == ',')
			return fail(ps, p, "empty entry in a flow collection: remove the extra ','");
		if (!(entry = new_node(ps, YN_NULL, p)))
			return -1;
		append(n, &tail, entry);
		if (is_map) {
			key_at = p;
			if (*p == ':' && spaced(p, e))
				return fail(ps, p, "a key cannot be empty: give it a name");
			entry->key_line = ps->line;
			entry->key_col = col_of(ps, p);
			if (*p == '"' || *p == '\'') {
				if (parse_quoted(ps, p, e, &entry->key, &p))
					return -1;
			} else {
				const char *end;

				if (*p == '[' || *p == '{')
					return fail(ps, p, "%s", nested_flow_msg);
				if (check_plain_start(ps, p, e) ||
				    flow_plain_end(ps, p, e, closer, IN_FLOW_KEY, &end))
					return -1;
				if (end == p)
					return fail(ps, p, "%s", flow_pair_msg);
				if (!(entry->key = copy_text(ps, p, end)))
					return -1;
				p = end;
			}
			if (!*entry->key)
				return fail(ps, key_at, "a key cannot be empty: give it a name");
			if (add_key(ps, n, entry, key_at))
				return -1;
			p = skip_ws(p, e);
			if (p == e || *p != ':')
				return fail(ps, p == e ? key_at : p, "%s", flow_pair_msg);
			p = skip_ws(p + 1, e);
			if (p == e || (*p == '#' && is_ws(p[-1])))
				return unterminated_flow(ps, open);
			entry->line = ps->line;
			entry->col = col_of(ps, p);
			if (*p != ',' && *p != closer &&
			    parse_scalar(ps, entry, &p, e, IN_FLOW_VALUE, closer))
				return -1;
		} else if (parse_scalar(ps, entry, &p, e, IN_FLOW_SEQ, closer)) {
			return -1;
		}
		p = skip_ws(p, e);
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		if (p < e && *p == closer)
			break;
		if (p == e || (*p == '#' && is_ws(p[-1])))
			return unterminated_flow(ps, open);
		return fail(ps, p, "expected ',' or '%c' in the flow collection: "
		    "separate entries with ', '", closer);
	}
	*after = p + 1;
	return 0;
}

/* ---- block structure ---- */

/* The value of a block mapping entry or list item, starting at v. */
static int parse_block_value(struct parser *ps, struct ynode *n, const char *v,
    const char *e, enum scalar_ctx ctx)
{
	const char *after = v;

	if (*v == '[' || *v == '{') {
		if (ctx == IN_ITEM)
			return fail(ps, v, "%s", single_value_msg);
		if (parse_flow(ps, n, v, e, &after))
			return -1;
	} else if (parse_scalar(ps, n, &after, e, ctx, 0)) {
		return -1;
	}
	return check_trailer(ps, after, e, ctx);
}

/* The key of a block mapping line: sets *key and *after (past the ':'). */
static int parse_key(struct parser *ps, const char *p, const char *e,
    char **key, const char **after)
{
	const char *end, *colon;

	if (*p == '"' || *p == '\'') {
		if (parse_quoted(ps, p, e, key, &end))
			return -1;
		colon = skip_ws(end, e);
		if (colon == e || *colon != ':' || !spaced(colon, e)) {
			free(*key);
			return fail(ps, colon, "expected ': ' after the quoted key");
		}
		if (!**key) {
			free(*key);
			return fail(ps, p, "a key cannot be empty: give it a name");
		}
		*after = colon + 1;
		return 0;
	}
	if (*p == ':' && spaced(p, e))
		return fail(ps, p, "a key cannot be empty: give it a name");
	if (*p == '[' || *p == '{')
		return fail(ps, p, "a key cannot be a flow collection: expected 'key: value'");
	if (check_plain_start(ps, p, e))
		return -1;
	end = plain_end(p, e);
	if (!(colon = find_colon(p, end))) {
		if (memchr(p, ':', (size_t)(end - p)))
			return fail(ps, p, "expected 'key: value': put a space after the ':'");
		return fail(ps, p, ps->depth == 1 && !ps->root->child ?
		    "expected 'key: value': the top level must be a mapping of key: value lines" :
		    "expected 'key: value' (a name, a colon, a space and the value)");
	}
	end = colon;
	while (is_ws(end[-1]))
		end--;	/* the key is not empty: *p is neither blank nor ':' */
	if (!(*key = copy_text(ps, p, end)))
		return -1;
	*after = colon + 1;
	return 0;
}

static int push(struct parser *ps, struct ynode *node, int indent, int same_indent)
{
	struct frame *f;

	if (ps->depth == MAX_DEPTH)
		return fail(ps, ps->ls + indent, "nesting too deep: at most %d levels are supported",
		    MAX_DEPTH);
	f = &ps->stack[ps->depth++];
	f->node = node;
	f->tail = NULL;
	f->indent = indent;
	f->first_line = ps->line;
	f->same_indent = same_indent;
	return 0;
}

static int map_line(struct parser *ps, struct frame *top, const char *p, const char *e)
{
	struct ynode *n;
	const char *v = p;
	char *key;

	if (parse_key(ps, p, e, &key, &v))
		return -1;
	if (!(n = new_node(ps, YN_NULL, p))) {
		free(key);
		return -1;
	}
	n->key = key;
	n->key_line = ps->line;
	n->key_col = col_of(ps, p);
	append(top->node, &top->tail, n);
	if (add_key(ps, top->node, n, p))
		return -1;
	v = skip_ws(v, e);
	n->col = col_of(ps, v);
	if (v == e || *v == '#') {
		ps->pending = n;	/* a block below may be its value */
		return 0;
	}
	return parse_block_value(ps, n, v, e, IN_BLOCK);
}

static int seq_line(struct parser *ps, struct frame *top, const char *p, const char *e)
{
	struct ynode *n;
	const char *v = skip_ws(p + 1, e);

	if (!(n = new_node(ps, YN_NULL, v)))
		return -1;
	append(top->node, &top->tail, n);
	if (v == e || *v == '#')
		return 0;	/* "-" alone: a null item */
	return parse_block_value(ps, n, v, e, IN_ITEM);
}

/* A line with content at p (after ind spaces). */
static int content_line(struct parser *ps, const char *p, const char *e, int ind)
{
	int item = *p == '-' && spaced(p, e);
	struct frame *top, popped = { NULL, NULL, -1, 0, 0 };

	if (!ps->root) {
		if (item || *p == '[' || *p == '{')
			return fail(ps, p, "the top level must be a mapping of key: value lines");
		if (!(ps->root = new_node(ps, YN_MAP, p)) || push(ps, ps->root, ind, 0))
			return -1;
	}
	if (ps->pending) {
		struct ynode *n = ps->pending;
		int pind = ps->stack[ps->depth - 1].indent;

		ps->pending = NULL;
		if (ind > pind || (ind == pind && item)) {
			n->type = item ? YN_SEQ : YN_MAP;
			n->line = ps->line;
			n->col = ind + 1;
			if (push(ps, n, ind, ind == pind))
				return -1;
		}
	}
	/* Close the blocks this line is not part of. */
	for (;;) {
		top = &ps->stack[ps->depth - 1];
		if (ps->depth == 1 || !(ind < top->indent ||
		    (top->same_indent && ind == top->indent && !item)))
			break;
		popped = *top;
		ps->depth--;
	}
	if (ind < top->indent || (ind > top->indent && popped.indent < 0))
		return fail(ps, p, "inconsistent indentation: expected %d spaces like line %d",
		    top->indent, top->first_line);
	if (ind > top->indent)
		return fail(ps, p, "inconsistent indentation: expected %d spaces like line %d "
		    "or %d like line %d", top->indent, top->first_line,
		    popped.indent, popped.first_line);

	if (top->node->type == YN_SEQ) {
		if (!item)
			return fail(ps, p, "expected '- item' like line %d (or fix the indentation)",
			    top->first_line);
		return seq_line(ps, top, p, e);
	}
	if (item)
		return fail(ps, p, "unexpected list item: a '- ' line must follow a 'key:' "
		    "with nothing after it");
	return map_line(ps, top, p, e);
}

/* Whether the line [s, e) is the marker m ("---" or "...") at column 1. */
static int is_marker(const char *s, const char *e, const char *m)
{
	return e - s >= 3 && !memcmp(s, m, 3) && (e - s == 3 || is_ws(s[3]));
}

static int one_line(struct parser *ps, const char *s, const char *e)
{
	const char *p = s, *tab = NULL, *rest;

	for (; p < e && is_ws(*p); p++)
		if (*p == '\t' && !tab)
			tab = p;
	if (p == e || *p == '#')
		return 0;	/* blank or comment */
	if (ps->state == DOC_ENDED)
		return fail(ps, p, "only one document is supported: nothing but comments "
		    "may follow '...'");
	if (p == s && (is_marker(s, e, "---") || is_marker(s, e, "..."))) {
		if (*s == '-' && ps->state != DOC_START)
			return fail(ps, s, "only one document is supported: remove this '---' "
			    "or split the file");
		rest = skip_ws(s + 3, e);
		if (rest < e && *rest != '#')
			return fail(ps, rest, "nothing may follow '%.3s' on its line: "
			    "put the document on the next lines", s);
		ps->state = *s == '-' ? DOC_MARKED : DOC_ENDED;
		return 0;
	}
	if (p == s && *s == '%')
		return fail(ps, s, "directives (%%YAML, %%TAG) are not supported: remove the line");
	if (tab)
		return fail(ps, tab, "tab in indentation: indent with spaces");
	ps->state = DOC_BODY;
	return content_line(ps, p, e, (int)(p - s));
}

/* Refuses bytes no text configuration holds, before anything else, so that
 * the rest never meets a NUL or a stray CR. Also bounds line and column
 * numbers to int. */
static int check_bytes(struct parser *ps, const char *p, const char *end)
{
	ps->line = 1;
	ps->ls = p;
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (p - ps->ls >= INT_MAX - 1)
			return fail(ps, NULL, "line too long");
		if (c == '\n') {
			if (ps->line == INT_MAX)
				return fail(ps, NULL, "too many lines");
			ps->line++;
			ps->ls = p + 1;
		} else if (c == 0) {
			return fail(ps, p, "NUL byte in file: a configuration file is text");
		} else if (c == '\r') {
			if (p + 1 < end && p[1] != '\n')
				return fail(ps, p, "carriage return not followed by a newline: "
				    "use LF or CRLF line ends");
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return fail(ps, p, "control character 0x%02x in file: remove it", c);
		}
	}
	return 0;
}

struct ynode *yaml_parse(const char *buf, size_t len, struct yaml_error *err)
{
	struct yaml_error ignored;
	struct parser ps;
	const char *p, *end, *nl, *line_end;

	if (!err)
		err = &ignored;
	memset(err, 0, sizeof *err);
	memset(&ps, 0, sizeof ps);
	ps.err = err;
	if (!buf)
		buf = "", len = 0;
	p = buf;
	end = buf + len;
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;		/* UTF-8 byte-order mark */
	if (check_bytes(&ps, p, end))
		return NULL;
	ps.line = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line_end = nl ? nl : end;
		if (line_end > p && line_end[-1] == '\r')
			line_end--;
		ps.line++;
		ps.ls = p;
		if (one_line(&ps, p, line_end))
			goto fail;
		p = nl ? nl + 1 : end;
	}
	free(ps.keys.slot);
	if (!ps.root && !(ps.root = calloc(1, sizeof *ps.root))) {
		out_of_memory(&ps);
		return NULL;
	}
	if (ps.root->type == YN_NULL)
		ps.root->line = ps.root->col = 1;
	return ps.root;
fail:
	free(ps.keys.slot);
	yaml_free(ps.root);
	return NULL;
}
