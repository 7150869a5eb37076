/* The config builder and validator. Front ends (YAML, INI) call
 * config_begin and config_set with (section, key, value, line); every
 * value is checked where it is set, so its error names its line.
 * config_finish merges defaults into syncs and checks what is missing.
 *
 * Each key of a sync is one row of keys[] below: its name, its type,
 * where it is stored, its range or check, its built-in default and how
 * -t shows it. Setting a key, the defaults
 * merge, the built-in defaults, the comparison a reload makes, the
 * freeing and the -t summary all go by the table: a new key is a row,
 * plus a check or show function where it behaves in its own way. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "exclude_file.h"
#include "mounts.h"
#include "rsync.h"
#include "util.h"

#define MAX_INTERVAL_S (24L * 3600)
#define MAX_FULL_SYNC_S (366L * 24 * 3600)

/* What a key's value is: how it is read, and the type of its field in
 * struct sync_conf. */
enum type {
	T_STR,		/* char *: check_word, or the row's check */
	T_LIST,		/* char **, then its size_t count: an item per config_set */
	T_BOOL,		/* bool: true, yes, on or false, no, off */
	T_INT,		/* int: a whole number from min to max */
	T_ENUM,		/* an enum, stored as an int: one of words */
	T_SECONDS,	/* long long ms, given in seconds from min to max */
};

/* An enum's word and its value; a NULL word ends the list. */
struct word {
	const char *word;
	int value;
};

struct key;
/* Checks a value before it is stored, in place of check_word; may
 * step over a prefix. 0, or -1 with the error recorded. */
typedef int check_fn(struct config_builder *b, const struct key *k,
		     const char **v, int line);
/* -t's words for a key that is not at its built-in default. */
typedef void show_fn(struct buf *out, const struct sync_conf *s);

struct key {
	const char *name;
	unsigned char type;	/* enum type */
	unsigned char off;	/* the field in struct sync_conf */
	unsigned char min;	/* T_INT, T_SECONDS (in seconds): 0 or 1 */
	/* -t: keys shown in the head of the line (source, target, port,
	 * key, host key, rsync flags, interval) have neither shown nor
	 * show; the others are shown when not at their built-in default:
	 * by show, or as ", NAME VALUE" for a string or list, ", NAME"
	 * for a bool (a number or an enum needs a show). */
	bool shown;
	union {			/* the values it may take, by type */
		long max;	/* T_INT, T_SECONDS (in seconds) */
		const struct word *words;	/* T_ENUM */
	} vals;
	long def;		/* built-in default; T_SECONDS in ms */
	union {			/* one or the other, by type */
		const char *def_str;	/* T_STR's built-in default, or NULL */
		const char *what;	/* T_INT, T_ENUM: "'v' is not WHAT" */
	} text;
	check_fn *check;
	show_fn *show;
};

/* Row k's field (at off: k->off, or a list's COUNT(k)) in c, as a T. */
#define AT(T, c, off) (*(T *)(void *)((char *)(c) + (off)))
#define CAT(T, c, off) (*(T const *)(const void *)((const char *)(c) + (off)))
#define COUNT(k) ((k)->off + sizeof(char **))
/* T_ENUM fields are written as ints: gcc and clang make an enum without
 * negative values an unsigned int, which an int may alias. A field's
 * offset fits in off. */
typedef char enum_is_int[sizeof(enum transport) == sizeof(int) &&
			 sizeof(enum host_key_policy) == sizeof(int) ? 1 : -1];
typedef char offsets_fit[sizeof(struct sync_conf) <= 255 ? 1 : -1];

/* --- checks of single values ---------------------------------------------- */

/* Strings end up as ssh and rsync arguments: nothing that they could
 * read as an option, nothing that could split or forge a line. */
static int check_word(struct config_builder *b, const char *key,
		      const char *v, int line, bool spaces_ok)
{
	const unsigned char *p;

	if (!*v)
		return config_fail(b, line, 0, "%s: empty value", key);
	if (*v == '-')
		return config_fail(b, line, 0, "%s: '%s' starts with '-': ssh or rsync would read it as an option", key, v);
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return config_fail(b, line, 0, "%s: control character in value", key);
		if (!spaces_ok && *p == ' ')
			return config_fail(b, line, 0, "%s: '%s' contains a space", key, v);
	}
	return 0;
}

/* remote_host, remote_user: one word each on ssh's command line */
static int check_name(struct config_builder *b, const struct key *k,
		      const char **v, int line)
{
	return check_word(b, k->name, *v, line, false);
}

static int check_known_hosts(struct config_builder *b, const struct key *k,
			     const char **v, int line)
{
	if (check_word(b, k->name, *v, line, true))
		return -1;
	if (strpbrk(*v, "\"'\\"))
		return config_fail(b, line, 0,
		    "known_hosts: quotes and backslashes cannot be passed to ssh's UserKnownHostsFile");
	return 0;
}

/* rsyncd: a module's name is one word of the rsync:// URL */
static int check_module(struct config_builder *b, const struct key *k,
			const char **v, int line)
{
	if (check_word(b, k->name, *v, line, false))
		return -1;
	if (strpbrk(*v, "/@:[]"))
		return config_fail(b, line, 0, "module: '%s': a module's name has no '/', '@', ':' or brackets", *v);
	return 0;
}

static int check_path(struct config_builder *b, const struct key *k,
		      const char **v, int line)
{
	return check_word(b, k->name, *v, line, true);
}

/* on_state: an argument of the user's command, given as it is (no
 * shell), but one line of the log */
static int check_arg(struct config_builder *b, const struct key *k,
		     const char **v, int line)
{
	const unsigned char *p;

	for (p = (const unsigned char *)*v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return config_fail(b, line, 0, "%s: control character in '%s'", k->name, *v);
	return 0;
}

static int check_source(struct config_builder *b, const struct key *k,
			const char **v, int line)
{
	if (**v != '/')
		return config_fail(b, line, 0,
		    "source_path: '%s' is not an absolute path: start it with /", *v);
	return check_word(b, k->name, *v, line, true);
}

/* A check of the key's value done by another module: its message, or
 * NULL when the value is good. */
static int report(struct config_builder *b, const struct key *k, int line, const char *msg)
{
	return msg ? config_fail(b, line, 0, "%s: %s", k->name, msg) : 0;
}

static int check_rsync_opts(struct config_builder *b, const struct key *k,
			    const char **v, int line)
{
	char msg[256];

	if (**v == '-' && (*v)[1] != '-')	/* "-azP" is what a user types */
		(*v)++;
	return report(b, k, line, rsync_opts_check(*v, msg, sizeof msg));
}

static int check_rsync_arg(struct config_builder *b, const struct key *k,
			   const char **v, int line)
{
	char msg[256];

	return report(b, k, line, rsync_arg_check(*v, msg, sizeof msg));
}

/* See exclude_file.c. */
static int check_exclude(struct config_builder *b, const struct key *k,
			 const char **v, int line)
{
	char msg[256];

	return report(b, k, line, exclude_check(*v, msg, sizeof msg));
}

/* --- how -t shows values -------------------------------------------------- */

/* ms as seconds: "15s", "0.25s" (no trailing zeros) */
static void add_seconds(struct buf *out, long long ms)
{
	char frac[8];
	size_t len;

	buf_addf(out, "%lld", ms / 1000);
	if (ms % 1000) {
		len = (size_t)format(frac, sizeof frac, ".%03lld", ms % 1000);
		while (frac[len - 1] == '0')
			frac[--len] = '\0';
		buf_adds(out, frac);
	}
	buf_adds(out, "s");
}

static void show_full_sync(struct buf *out, const struct sync_conf *s)
{
	if (!s->full_sync_ms) {
		buf_adds(out, ", no periodic full sync");
		return;
	}
	buf_adds(out, ", full sync every ");
	add_seconds(out, s->full_sync_ms);
}

static void show_modify_window(struct buf *out, const struct sync_conf *s)
{
	buf_addf(out, ", modify window %ds", s->modify_window);
}

static void show_initial_sync(struct buf *out, const struct sync_conf *s)
{
	(void)s;	/* shown when false */
	buf_adds(out, ", no initial sync");
}

/* the guard matters only where poni deletes */
static void show_delete_guard(struct buf *out, const struct sync_conf *s)
{
	if (s->delete)
		buf_adds(out, ", no delete guard");
}

/* --- the keys ------------------------------------------------------------- */

static const struct word bools[] = {
	{ "true", 1 }, { "yes", 1 }, { "on", 1 },
	{ "false", 0 }, { "no", 0 }, { "off", 0 }, { NULL, 0 }
};
static const struct word transports[] = {
	{ "auto", TRANSPORT_AUTO }, { "ssh", TRANSPORT_SSH },
	{ "local", TRANSPORT_LOCAL }, { "rsyncd", TRANSPORT_RSYNCD }, { NULL, 0 }
};
static const struct word policies[] = {
	{ "yes", HOSTKEY_YES }, { "accept-new", HOSTKEY_ACCEPT_NEW },
	{ "no", HOSTKEY_NO }, { "true", HOSTKEY_YES }, { "false", HOSTKEY_NO },
	{ NULL, 0 }
};

#define F(field) offsetof(struct sync_conf, field)
typedef char counts_follow_lists[F(nrsync_args) == F(rsync_args) + sizeof(char **) &&
				 F(nexclude) == F(exclude) + sizeof(char **) &&
				 F(non_state) == F(on_state) + sizeof(char **) ? 1 : -1];

/* Every key of a sync or of defaults. Their order is that of -t's tail,
 * and of "did you mean" between names equally near. */
static const struct key keys[] = {
	{ .name = "remote_host", .type = T_STR, .off = F(remote_host), .check = check_name },
	{ .name = "remote_path", .type = T_STR, .off = F(remote_path) },
	{ .name = "remote_user", .type = T_STR, .off = F(remote_user), .check = check_name },
	{ .name = "priv_key", .type = T_STR, .off = F(priv_key) },
	{ .name = "port", .type = T_INT, .off = F(port), .min = 1, .vals.max = 65535, .def = 22,
	  .text.what = "a port number" },
	{ .name = "rsync_opts", .type = T_STR, .off = F(rsync_opts), .text.def_str = "azP",
	  .check = check_rsync_opts },
	/* shown with rsync_opts, in the head of -t's line */
	{ .name = "rsync_args", .type = T_LIST, .off = F(rsync_args),
	  .check = check_rsync_arg },
	{ .name = "interval", .type = T_SECONDS, .off = F(interval_ms), .vals.max = MAX_INTERVAL_S,
	  .def = 3000 },
	{ .name = "recurse", .type = T_BOOL, .off = F(recurse), .shown = true },
	{ .name = "delete", .type = T_BOOL, .off = F(delete), .shown = true },
	{ .name = "exclude", .type = T_LIST, .off = F(exclude),
	  .check = check_exclude, .shown = true },
	/* its patterns join exclude at config_finish */
	{ .name = "exclude_from", .type = T_STR, .off = F(exclude_from), .shown = true },
	/* unset in the sync and in defaults: the sync's key (upstream Poni
	 * 0.1.3 and later set a default source_path in defaults) */
	{ .name = "source_path", .type = T_STR, .off = F(source), .check = check_source },
	{ .name = "initial_sync", .type = T_BOOL, .off = F(initial_sync), .def = true,
	  .show = show_initial_sync },
	{ .name = "transport", .type = T_ENUM, .off = F(transport), .def = TRANSPORT_AUTO,
	  .vals.words = transports, .text.what = "a transport: use auto, ssh, local or rsyncd" },
	{ .name = "ssh", .type = T_STR, .off = F(ssh), .text.def_str = "ssh" },
	{ .name = "rsync", .type = T_STR, .off = F(rsync), .text.def_str = "rsync" },
	{ .name = "strict_host_key", .type = T_ENUM, .off = F(strict_host_key),
	  .def = HOSTKEY_ACCEPT_NEW, .vals.words = policies,
	  .text.what = "a policy: use yes, accept-new or no" },
	{ .name = "known_hosts", .type = T_STR, .off = F(known_hosts), .check = check_known_hosts },
	{ .name = "module", .type = T_STR, .off = F(module), .check = check_module },
	{ .name = "password_file", .type = T_STR, .off = F(password_file), .check = check_path },
	{ .name = "retry_max", .type = T_SECONDS, .off = F(retry_max_ms), .min = 1,
	  .vals.max = MAX_INTERVAL_S, .def = 300 * 1000L },
	{ .name = "full_sync", .type = T_SECONDS, .off = F(full_sync_ms), .vals.max = MAX_FULL_SYNC_S,
	  .def = 24 * 3600 * 1000L, .show = show_full_sync },
	{ .name = "delete_guard", .type = T_BOOL, .off = F(delete_guard), .def = true,
	  .show = show_delete_guard },
	{ .name = "modify_window", .type = T_INT, .off = F(modify_window), .min = 0, .vals.max = 3600,
	  .def = -1, .text.what = "a whole number", .show = show_modify_window },
	{ .name = "simulate", .type = T_BOOL, .off = F(simulate), .shown = true },
	{ .name = "on_state", .type = T_LIST, .off = F(on_state),
	  .check = check_arg, .shown = true },
};
#define NKEYS (sizeof keys / sizeof *keys)

/* The first word for value: its name as -t shows it. */
static const char *word_of(const struct word *w, long long value)
{
	while (w->word && w->value != value)
		w++;
	return w->word ? w->word : "?";
}

static const struct key *find_key(const char *name)
{
	const struct key *k;

	for (k = keys; k < keys + NKEYS; k++)
		if (strcmp(name, k->name) == 0)
			return k;
	return NULL;
}

bool config_is_list(const char *key)
{
	const struct key *k = find_key(key);

	return k && k->type == T_LIST;
}

/* The value of a T_BOOL, T_INT, T_ENUM or T_SECONDS field. */
static long long num(const struct sync_conf *c, const struct key *k)
{
	if (k->type == T_BOOL)
		return CAT(bool, c, k->off);
	if (k->type == T_SECONDS)
		return CAT(long long, c, k->off);
	return CAT(int, c, k->off);
}

static void set_num(struct sync_conf *c, const struct key *k, long long v)
{
	if (k->type == T_BOOL)
		AT(bool, c, k->off) = v != 0;
	else if (k->type == T_SECONDS)
		AT(long long, c, k->off) = v;
	else
		AT(int, c, k->off) = (int)v;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_value(const struct sync_conf *a, const struct sync_conf *b,
		       const struct key *k)
{
	char *const *la, *const *lb;
	size_t i, n;

	switch (k->type) {
	case T_STR:
		return same_str(CAT(char *, a, k->off), CAT(char *, b, k->off));
	case T_LIST:
		la = CAT(char **, a, k->off);
		lb = CAT(char **, b, k->off);
		if ((n = CAT(size_t, a, COUNT(k))) != CAT(size_t, b, COUNT(k)))
			return false;
		for (i = 0; i < n; i++)
			if (strcmp(la[i], lb[i]) != 0)
				return false;
		return true;
	}
	return num(a, k) == num(b, k);
}

static bool is_default(const struct sync_conf *c, const struct key *k)
{
	if (k->type == T_STR)
		return same_str(CAT(char *, c, k->off), k->text.def_str);
	if (k->type == T_LIST)
		return CAT(size_t, c, COUNT(k)) == 0;
	return num(c, k) == k->def;
}

bool sync_conf_equal(const struct sync_conf *a, const struct sync_conf *b)
{
	size_t k;

	if (!same_str(a->name, b->name))
		return false;
	for (k = 0; k < NKEYS; k++)
		if (!same_value(a, b, &keys[k]))
			return false;
	return true;	/* the line may differ: it is not behaviour */
}

void sync_conf_clear(struct sync_conf *c)
{
	const struct key *k;
	char **list;
	size_t i;

	free(c->name);
	for (k = keys; k < keys + NKEYS; k++) {
		if (k->type == T_STR)
			free(AT(char *, c, k->off));
		if (k->type != T_LIST)
			continue;
		list = AT(char **, c, k->off);
		for (i = 0; i < AT(size_t, c, COUNT(k)); i++)
			free(list[i]);
		free(list);
	}
	memset(c, 0, sizeof *c);
}

/* --- the builder ---------------------------------------------------------- */

/* Top-level names, for suggestions; defaults and sync are structure the
 * front end handles itself. */
static const char *const top_names[] = { "log", "log_level", "max_runs", "defaults", "sync" };

static const struct key max_runs_key = {
	.name = "max_runs", .type = T_INT, .min = 1, .vals.max = MAX_RUNS_MAX,
	.text.what = "a number of rsyncs to run at once"
};

/* A section being built: the values set so far and the line of each. */
struct section {
	struct sync_conf c;
	int set_line[NKEYS];	/* 0: not set here */
};

struct config_builder {
	char *file;
	char error[1024];
	enum cfg_section cur;
	struct section defaults;
	int defaults_line;
	struct section *syncs;
	size_t nsyncs;
	char *log;
	int log_line;
	enum log_level log_level;
	int log_level_line;
	int max_runs;
	int max_runs_line;
};

struct config_builder *config_builder_new(const char *file)
{
	struct config_builder *b = xcalloc(1, sizeof *b);

	b->file = xstrdup(file);
	b->cur = SEC_TOP;
	b->log_level = L_INFO;
	b->max_runs = MAX_RUNS_DEFAULT;
	return b;
}

void config_builder_free(struct config_builder *b)
{
	size_t i;

	if (!b)
		return;
	sync_conf_clear(&b->defaults.c);
	for (i = 0; i < b->nsyncs; i++)
		sync_conf_clear(&b->syncs[i].c);
	free(b->syncs);
	free(b->log);
	free(b->file);
	free(b);
}

int config_fail(struct config_builder *b, int line, int col, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vformat(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0 && col > 0)
		format(b->error, sizeof b->error, "%s:%d:%d: %s", b->file, line, col, msg);
	else if (line > 0)
		format(b->error, sizeof b->error, "%s:%d: %s", b->file, line, msg);
	else
		format(b->error, sizeof b->error, "%s: %s", b->file, msg);
	return -1;
}

const char *config_error(const struct config_builder *b)
{
	return b->error;
}

/* The name nearest to key among n entries of the given size, each of
 * which starts with its name (a string, or a struct key). */
static const char *nearest(const char *key, const void *names, size_t n, size_t size)
{
	const char *best = *(const char *const *)names, *name;
	size_t i, d, bestd = (size_t)-1;

	for (i = 0; i < n; i++) {
		name = *(const char *const *)(const void *)((const char *)names + i * size);
		if ((d = edit_distance(key, name)) < bestd) {
			bestd = d;
			best = name;
		}
	}
	return best;
}

int config_begin(struct config_builder *b, enum cfg_section sec,
		 const char *name, int line)
{
	struct section *s;
	size_t i;

	/* the section changes only once it is accepted: a caller that goes
	 * on after a refusal must not write into another one */
	if (sec == SEC_DEFAULTS) {
		if (b->defaults_line)
			return config_fail(b, line, 0,
			    "defaults given twice (first on line %d): merge them", b->defaults_line);
		b->defaults_line = line;
	}
	if (sec != SEC_SYNC) {
		b->cur = sec;
		return 0;
	}
	for (i = 0; i < b->nsyncs; i++)
		if (strcmp(b->syncs[i].c.name, name) == 0)
			return config_fail(b, line, 0,
			    "sync '%s' is defined twice (first on line %d): give each sync its own key",
			    name, b->syncs[i].c.line);
	if (!*name)
		return config_fail(b, line, 0, "a sync needs a source path or a name as its key");
	b->syncs = xrealloc(b->syncs, (b->nsyncs + 1) * sizeof *b->syncs);
	s = &b->syncs[b->nsyncs++];
	memset(s, 0, sizeof *s);
	s->c.name = xstrdup(name);
	s->c.line = line;
	b->cur = sec;
	return 0;
}

/* Value parsers: each returns 0, or -1 after recording the error. */

/* Whether v is word (lower case) in any case: strcasecmp in the C
 * locale, without musl's, which brings tolower along. */
static bool is_word(const char *v, const char *word)
{
	for (; *word; v++, word++)
		if (*v != *word && !(*v >= 'A' && *v <= 'Z' && *v + ('a' - 'A') == *word))
			return false;
	return !*v;
}

/* One of the key's words (a bool's: true, yes, on, false, no, off). */
static int parse_word(struct config_builder *b, const struct key *k,
		      const char *v, int line, long long *out)
{
	const struct word *w = k->type == T_BOOL ? bools : k->vals.words;

	for (; w->word; w++)
		if (is_word(v, w->word)) {
			*out = w->value;
			return 0;
		}
	return config_fail(b, line, 0, "%s: '%s' is not %s", k->name, v,
	    k->type == T_BOOL ? "a boolean: use true or false" : k->text.what);
}

/* A whole number from min to max. */
static int parse_number(struct config_builder *b, const struct key *k,
			const char *v, int line, long long *out)
{
	long n = 0;
	const char *p = v;

	if (!*p)
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		n = n * 10 + (*p - '0');
		if (n > k->vals.max)
			goto bad;
	}
	if (n < k->min)
		goto bad;
	*out = n;
	return 0;
bad:
	return config_fail(b, line, 0, "%s: '%s' is not %s: use %ld to %ld", k->name, v,
	    k->text.what, (long)k->min, k->vals.max);
}

/* Seconds with an optional fraction ("3", "0.5") and an optional unit
 * s, m, h or d ("90m", "24h"), to milliseconds. */
static int parse_seconds(struct config_builder *b, const struct key *k,
			 const char *v, int line, long long *out)
{
	static const char units[] = "smhd";
	static const long long unit_ms[] = { 1000, 60000, 3600000, 86400000 };
	long long ms = 0, scale = 100, unit = 1000;
	long long min_ms = k->min * 1000LL, max_ms = k->vals.max * 1000LL;
	const char *p = v, *u;

	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		ms = ms * 10 + (*p - '0');
		if (ms > max_ms)
			goto bad;
	}
	ms *= 1000;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			goto bad;
		for (; *p >= '0' && *p <= '9'; p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p && (u = strchr(units, *p)) && !p[1]) {
		unit = unit_ms[u - units];
		p++;
	}
	if (*p || ms > max_ms * 1000 / unit)
		goto bad;
	ms = ms * unit / 1000;
	if (ms > max_ms || ms < min_ms)
		goto bad;
	*out = ms;
	return 0;
bad:
	return config_fail(b, line, 0,
	    "%s: '%s' is not a number of seconds: use a number from %ld to %ld "
	    "(fractions like 0.5 and units like 90m, 24h or 7d are fine)",
	    k->name, v, (long)k->min, k->vals.max);
}

/* Check value v and store it in c's field for k. */
static int set_value(struct config_builder *b, struct sync_conf *c,
		     const struct key *k, const char *v, int line)
{
	long long n = 0;
	char ***list;
	size_t *count;
	int rc = 0;

	if (k->check ? k->check(b, k, &v, line) :
	    k->type == T_STR && check_word(b, k->name, v, line, true))
		return -1;
	switch (k->type) {
	case T_STR:
		free(AT(char *, c, k->off));
		AT(char *, c, k->off) = xstrdup(v);
		return 0;
	case T_LIST:
		list = &AT(char **, c, k->off);
		count = &AT(size_t, c, COUNT(k));
		*list = xrealloc(*list, (*count + 1) * sizeof **list);
		(*list)[(*count)++] = xstrdup(v);
		return 0;
	case T_BOOL:
	case T_ENUM:
		rc = parse_word(b, k, v, line, &n);
		break;
	case T_INT:
		rc = parse_number(b, k, v, line, &n);
		break;
	case T_SECONDS:
		rc = parse_seconds(b, k, v, line, &n);
		break;
	}
	if (rc == 0)
		set_num(c, k, n);
	return rc;
}

static int parse_log_level(struct config_builder *b, const char *v, int line)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	int i;

	if (is_word(v, "warn"))
		v = "warning";
	for (i = 0; i < 4; i++)
		if (is_word(v, names[i])) {
			b->log_level = (enum log_level)i;
			return 0;
		}
	return config_fail(b, line, 0,
	    "log_level: '%s' is not a level: use error, warning, info or debug", v);
}

/* in a section and at the top level (with a word on log's two names) */
#define DUPLICATE_MSG "duplicate key '%s' (first set on line %d%s)"

/* Where top-level key was set (0: not yet), or NULL for another key. */
static int *top_line(struct config_builder *b, const char *key)
{
	/* log_path: upstream Poni 0.1.3's name for log */
	if (strcmp(key, "log") == 0 || strcmp(key, "log_path") == 0)
		return &b->log_line;
	if (strcmp(key, "log_level") == 0)
		return &b->log_level_line;
	if (strcmp(key, "max_runs") == 0)
		return &b->max_runs_line;
	return NULL;
}

static int set_top(struct config_builder *b, const char *key, const char *v, int line)
{
	int *seen = top_line(b, key);

	if (!seen && find_key(key))
		return config_fail(b, line, 0,
		    "%s belongs in a sync or in defaults, not at the top level", key);
	if (!seen)
		return config_fail(b, line, 0,
		    "unknown top-level key '%s' (did you mean '%s'?)", key,
		    nearest(key, top_names, sizeof top_names / sizeof *top_names,
		    sizeof *top_names));
	if (*seen)
		return config_fail(b, line, 0, DUPLICATE_MSG,
		    key, *seen, seen == &b->log_line ? " as log or log_path, one name of the same key" : "");
	*seen = line;
	if (!v)
		return 0;
	if (seen == &b->log_level_line)
		return parse_log_level(b, v, line);
	if (seen == &b->max_runs_line) {
		long long n;
		if (parse_number(b, &max_runs_key, v, line, &n))
			return -1;
		b->max_runs = (int)n;
		return 0;
	}
	if (!*v || strchr(v, '\n'))
		return config_fail(b, line, 0,
		    "log: use stdout, stderr, syslog or the path of a file");
	free(b->log);
	b->log = xstrdup(v);
	return 0;
}

int config_set(struct config_builder *b, const char *key, const char *value, int line)
{
	struct section *s;
	const struct key *k;
	size_t i;

	if (b->cur == SEC_TOP)
		return set_top(b, key, value, line);
	s = b->cur == SEC_DEFAULTS ? &b->defaults : &b->syncs[b->nsyncs - 1];
	if (!(k = find_key(key)) && top_line(b, key))
		return config_fail(b, line, 0, "%s belongs at the top level, not in %s",
		    key, b->cur == SEC_DEFAULTS ? "defaults" : "a sync");
	if (!k)
		return config_fail(b, line, 0, "unknown key '%s' (did you mean '%s'?)",
		    key, nearest(key, keys, NKEYS, sizeof *keys));
	i = (size_t)(k - keys);
	if (s->set_line[i] && k->type != T_LIST)
		return config_fail(b, line, 0, DUPLICATE_MSG, key, s->set_line[i], "");
	if (!value)		/* nothing here: as if the key were absent */
		return 0;
	if (set_value(b, &s->c, k, value, line))
		return -1;
	if (!s->set_line[i])
		s->set_line[i] = line;
	return 0;
}

/* --- finishing ------------------------------------------------------------ */

/* Copy what the sync does not set from the defaults section. */
static void inherit(struct section *s, const struct section *d)
{
	const struct key *k;
	char **list;
	size_t i, j, n;

	for (i = 0; i < NKEYS; i++) {
		if (s->set_line[i] || !d->set_line[i])
			continue;
		s->set_line[i] = d->set_line[i];
		k = &keys[i];
		if (k->type == T_STR) {
			AT(char *, &s->c, k->off) = xstrdup(CAT(char *, &d->c, k->off));
		} else if (k->type == T_LIST) {
			n = CAT(size_t, &d->c, COUNT(k));
			list = xcalloc(n, sizeof *list);
			for (j = 0; j < n; j++)
				list[j] = xstrdup(CAT(char **, &d->c, k->off)[j]);
			AT(char **, &s->c, k->off) = list;
			AT(size_t, &s->c, COUNT(k)) = n;
		} else {
			set_num(&s->c, k, num(&d->c, k));
		}
	}
}

/* Built-in defaults for what neither the sync nor defaults set. */
static void apply_builtin(struct section *s)
{
	const struct key *k;

	for (k = keys; k < keys + NKEYS; k++) {
		if (s->set_line[k - keys])
			continue;
		if (k->type == T_STR && k->text.def_str)
			AT(char *, &s->c, k->off) = xstrdup(k->text.def_str);
		else if (k->type != T_STR && k->type != T_LIST)
			set_num(&s->c, k, k->def);
	}
	if (!s->c.source)
		s->c.source = xstrdup(s->c.name);
}

/* Where key name was set for s (0: nowhere). */
static int line_of(const struct section *s, const char *name)
{
	return s->set_line[find_key(name) - keys];
}

/* A relative file name in the config is relative to the config file's
 * directory, not to wherever poni runs (poni -d runs in /). */
static void resolve(const struct config_builder *b, char **path)
{
	const char *slash = strrchr(b->file, '/');
	char *abs;

	if (!*path || **path == '/')
		return;
	if (slash)
		abs = xasprintf("%.*s/%s", (int)(slash - b->file), b->file, *path);
	else
		abs = xasprintf("./%s", *path);
	free(*path);
	*path = abs;
}

/* Open the file at path (set by key on line) for reading: a regular
 * file's fd with *st filled, or -1 with the error recorded. */
static int open_file(struct config_builder *b, int line, const char *key,
		     const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return config_fail(b, line, 0, "%s: cannot read %s: %s", key, path,
		    strerror(errno));
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return config_fail(b, line, 0, "%s: %s is not a regular file", key, path);
	}
	return fd;
}

static int check_key_file(struct config_builder *b, const struct section *s)
{
	static const char openssh_key[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	const struct sync_conf *c = &s->c;
	int line = line_of(s, "priv_key");
	bool openssh = ssh_is_openssh(c->ssh);
	char head[sizeof openssh_key - 1];
	struct stat st;
	ssize_t n;
	int fd;

	/* Open it as poni will have ssh do: readable by this user. */
	if ((fd = open_file(b, line, "priv_key", c->priv_key, &st)) < 0)
		return -1;
	n = openssh ? 0 : read(fd, head, sizeof head);
	close(fd);
	if (n == (ssize_t)sizeof head && memcmp(head, openssh_key, sizeof head) == 0)
		return config_fail(b, line, 0,
		    "priv_key: %s is an OpenSSH key, which %s cannot read: convert it "
		    "with dropbearconvert openssh dropbear %s %s.db and use that",
		    c->priv_key, c->ssh, c->priv_key, c->priv_key);
	/* OpenSSH refuses a key of its user that group or others may use
	 * ("UNPROTECTED PRIVATE KEY FILE"), at every run: say so now */
	if (openssh && st.st_uid == geteuid() && (st.st_mode & 077))
		return config_fail(b, line, 0,
		    "priv_key: %s is %s (mode %04o), which OpenSSH refuses: chmod 600 %s",
		    c->priv_key, st.st_mode & S_IROTH ? "readable by others" :
		    st.st_mode & S_IRGRP ? "readable by its group" :
		    st.st_mode & 007 ? "open to others" : "open to its group",
		    (unsigned)(st.st_mode & 07777), c->priv_key);
	return 0;
}

/* A local copy must not land in, on or around its own source: rsync
 * would copy the replica into itself on every run, or (with delete)
 * delete the source as extraneous. Symbolic links are followed as far
 * as the paths exist. */
static int check_overlap(struct config_builder *b, const struct section *s)
{
	const struct sync_conf *c = &s->c;
	const char *name = strrchr(c->source, '/') + 1;
	char *src = canonical_path(c->source), *dst, *into;
	const char *why = NULL;
	int line = line_of(s, "remote_path") ? line_of(s, "remote_path") : c->line;

	/* where the source lands: "/a/b" as remote_path/b, "/a/b/" in it */
	into = *name ? xasprintf("%s/%s", c->remote_path, name) : xstrdup(c->remote_path);
	dst = canonical_path(into);
	if (strcmp(dst, src) == 0)
		why = "the copy would land on the source itself";
	else if (path_within(dst, src))
		why = "the copy would land inside the source, one level deeper on every run";
	else if (path_within(src, dst))
		why = "the source is inside the copy, so rsync would copy it onto itself "
		    "(and with delete remove what is around it)";
	if (why)
		config_fail(b, line, 0,
		    "sync '%s': remote_path %s: %s (%s -> %s): choose a remote_path outside the source",
		    c->name, c->remote_path, why, src, dst);
	free(into);
	free(dst);
	free(src);
	return why ? -1 : 0;
}

/* rsync_opts' long options (checked where it was set) go before
 * rsync_args, so that rsync_opts holds its letters only. */
static void split_rsync_opts(struct sync_conf *c)
{
	size_t letters = rsync_opts_letters(c->rsync_opts), n = 0;
	const char *p = c->rsync_opts + letters;
	char **args, arg[256];

	if (!*p)
		return;
	args = xcalloc(strlen(p) + c->nrsync_args, sizeof *args);
	while (rsync_opts_next(&p, arg, sizeof arg))	/* checked: they fit */
		args[n++] = xstrdup(arg);
	memcpy(args + n, c->rsync_args, c->nrsync_args * sizeof *args);
	free(c->rsync_args);
	c->rsync_args = args;
	c->nrsync_args += n;
	c->rsync_opts[letters] = '\0';
}

/* exclude_from's patterns join exclude (read again at each load, so a
 * SIGHUP takes a changed file); its errors name the file's line too. */
static int read_exclude_from(struct config_builder *b, struct section *s)
{
	struct sync_conf *c = &s->c;
	char msg[256];
	int line;

	if (!c->exclude_from)
		return 0;
	resolve(b, &c->exclude_from);
	if (exclude_file_read(c->exclude_from, &c->exclude, &c->nexclude, &line,
	    msg, sizeof msg) == 0)
		return 0;
	if (line)
		return config_fail(b, line_of(s, "exclude_from"), 0,
		    "exclude_from: %s:%d: %s", c->exclude_from, line, msg);
	return config_fail(b, line_of(s, "exclude_from"), 0,
	    "exclude_from: cannot read %s: %s", c->exclude_from, strerror(errno));
}

/* transport: rsyncd: an rsync daemon's module, no ssh. */
static int finish_rsyncd(struct config_builder *b, struct section *s, int flags)
{
	struct sync_conf *c = &s->c;
	int line = line_of(s, "password_file");
	const char *p;
	char *path;
	struct stat st;
	int fd;

	if (!c->remote_host)
		return config_fail(b, c->line, 0,
		    "sync '%s': transport rsyncd needs remote_host, the daemon's host", c->name);
	if (!c->module)
		return config_fail(b, c->line, 0,
		    "sync '%s': transport rsyncd needs module, the daemon's module", c->name);
	if (!line_of(s, "port"))
		c->port = 873;	/* the daemon's port, not ssh's 22 */
	/* remote_path is a path inside the module: its root when absent */
	for (p = c->remote_path ? c->remote_path : ""; *p == '/'; p++)
		;
	path = xstrdup(p);
	free(c->remote_path);
	c->remote_path = path;
	resolve(b, &c->password_file);
	if (!(flags & CONFIG_CHECK_FILES) || !c->password_file)
		return 0;
	/* what rsync itself demands of it, said now instead of at every run */
	if ((fd = open_file(b, line, "password_file", c->password_file, &st)) < 0)
		return -1;
	close(fd);
	if (st.st_mode & 006)
		return config_fail(b, line, 0, "password_file: %s is open to others (mode %04o), "
		    "which rsync refuses: chmod 600 %s", c->password_file,
		    (unsigned)(st.st_mode & 07777), c->password_file);
	if (geteuid() == 0 && st.st_uid != 0)
		return config_fail(b, line, 0, "password_file: %s is not owned by root, which "
		    "rsync running as root refuses: chown root %s", c->password_file,
		    c->password_file);
	return 0;
}

#define MISSING_MSG "sync '%s': %s is missing: %sset it here or under defaults"

static int finish_sync(struct config_builder *b, struct section *s, int flags)
{
	struct sync_conf *c = &s->c;
	bool local_host;

	inherit(s, &b->defaults);
	apply_builtin(s);
	split_rsync_opts(c);
	if (read_exclude_from(b, s))
		return -1;
	if (c->source[0] != '/')
		return config_fail(b, c->line, 0,
		    "sync '%s': the source must be an absolute path: use it as the key, or set source_path",
		    c->name);
	if ((c->module || c->password_file) && c->transport != TRANSPORT_RSYNCD)
		return config_fail(b, line_of(s, c->module ? "module" : "password_file"), 0,
		    "sync '%s': %s is for an rsync daemon: set transport: rsyncd, or remove it",
		    c->name, c->module ? "module" : "password_file");
	if (c->transport == TRANSPORT_RSYNCD)
		return finish_rsyncd(b, s, flags);
	if (!c->remote_path)
		return config_fail(b, c->line, 0, MISSING_MSG, c->name, "remote_path", "");
	local_host = !c->remote_host || strcmp(c->remote_host, "localhost") == 0;
	if (c->transport == TRANSPORT_AUTO)
		c->transport = local_host ? TRANSPORT_LOCAL : TRANSPORT_SSH;
	if (c->transport == TRANSPORT_LOCAL && !local_host)
		return config_fail(b, line_of(s, "transport"), 0,
		    "sync '%s': transport local, but remote_host is %s: remove one of them",
		    c->name, c->remote_host);
	if (c->transport == TRANSPORT_LOCAL) {
		free(c->remote_host);
		c->remote_host = NULL;
		if (c->remote_path[0] != '/')
			return config_fail(b, line_of(s, "remote_path"), 0,
			    "remote_path: '%s' is not an absolute path, as a local copy needs: start it with /",
			    c->remote_path);
		return check_overlap(b, s);
	}
	if (!c->remote_host)
		c->remote_host = xstrdup("localhost");
	if (c->known_hosts && !ssh_is_openssh(c->ssh))
		return config_fail(b, line_of(s, "known_hosts"), 0,
		    "sync '%s': known_hosts does not work with %s, which keeps its own "
		    "~/.ssh/known_hosts: remove it", c->name, c->ssh);
	/* poni's own known_hosts next to the config, unless one is named:
	 * accept-new then records host keys where poni alone uses them */
	if (!c->known_hosts && c->strict_host_key != HOSTKEY_NO && ssh_is_openssh(c->ssh))
		c->known_hosts = xstrdup("known_hosts");
	resolve(b, &c->priv_key);
	resolve(b, &c->known_hosts);
	if (!c->priv_key)
		return config_fail(b, c->line, 0, MISSING_MSG, c->name, "priv_key",
		    "ssh needs a private key file, ");
	if (flags & CONFIG_CHECK_FILES)
		return check_key_file(b, s);
	return 0;
}

struct config *config_finish(struct config_builder *b, int flags)
{
	struct config *cfg;
	size_t i;

	if (b->nsyncs == 0)
		return config_fail(b, 0, 0,
		    "no syncs: add at least one (a source path under 'sync:' in YAML, "
		    "a [source path] section in INI)"), NULL;
	for (i = 0; i < b->nsyncs; i++)
		if (finish_sync(b, &b->syncs[i], flags))
			return NULL;
	cfg = xcalloc(1, sizeof *cfg);
	cfg->file = xstrdup(b->file);
	cfg->log = b->log ? xstrdup(b->log) : xstrdup("stdout");
	if (strcmp(cfg->log, "stdout") != 0 && strcmp(cfg->log, "stderr") != 0 &&
	    strcmp(cfg->log, "syslog") != 0)
		resolve(b, &cfg->log);
	cfg->log_level = b->log_level;
	cfg->max_runs = b->max_runs;
	cfg->nsyncs = b->nsyncs;
	cfg->syncs = xcalloc(b->nsyncs, sizeof *cfg->syncs);
	for (i = 0; i < b->nsyncs; i++) {
		cfg->syncs[i] = b->syncs[i].c;	/* moved, not copied */
		memset(&b->syncs[i].c, 0, sizeof b->syncs[i].c);
	}
	return cfg;
}

void config_free(struct config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nsyncs; i++)
		sync_conf_clear(&c->syncs[i]);
	free(c->syncs);
	free(c->log);
	free(c->file);
	free(c);
}

char *sync_target(const struct sync_conf *s)
{
	if (s->transport == TRANSPORT_LOCAL)
		return xstrdup(s->remote_path);
	if (s->transport == TRANSPORT_RSYNCD)
		return rsync_url(s);
	bool v6 = strchr(s->remote_host, ':') != NULL;

	return xasprintf("%s%s%s%s%s:%s", s->remote_user ? s->remote_user : "",
	    s->remote_user ? "@" : "", v6 ? "[" : "", s->remote_host, v6 ? "]" : "",
	    s->remote_path);
}

char *sync_summary(const struct sync_conf *s)
{
	struct buf b = { 0 };
	char *target = sync_target(s), *flags;
	const struct key *k;
	size_t i;

	/* the head: where from, where to, how */
	buf_add_escaped(&b, s->source);
	buf_adds(&b, " -> ");
	buf_add_escaped(&b, target);
	free(target);
	if (s->transport == TRANSPORT_SSH) {
		buf_addf(&b, " (ssh port %d, key ", s->port);
		buf_add_escaped(&b, s->priv_key);
		buf_addf(&b, ", host key %s, ", word_of(policies, s->strict_host_key));
		if (s->known_hosts) {
			buf_adds(&b, "known_hosts ");
			buf_add_escaped(&b, s->known_hosts);
			buf_adds(&b, ", ");
		}
	} else if (s->transport == TRANSPORT_RSYNCD) {
		buf_adds(&b, " (rsyncd, ");
		if (s->password_file) {
			buf_adds(&b, "password_file ");
			buf_add_escaped(&b, s->password_file);
			buf_adds(&b, ", ");
		}
	} else {
		buf_adds(&b, " (local, ");
	}
	flags = rsync_flags(s->rsync_opts);	/* as rsync gets them: no P */
	buf_addf(&b, "rsync %s%s", *flags ? "-" : "(no flags)", flags);
	free(flags);
	for (i = 0; i < s->nrsync_args; i++) {
		buf_addc(&b, ' ');
		buf_add_escaped(&b, s->rsync_args[i]);
	}
	buf_adds(&b, ", interval ");
	add_seconds(&b, s->interval_ms);
	/* the tail: what is not at its built-in default */
	for (k = keys; k < keys + NKEYS; k++) {
		if ((!k->shown && !k->show) || is_default(s, k))
			continue;
		if (k->show) {
			k->show(&b, s);
			continue;
		}
		buf_adds(&b, ", ");
		buf_adds(&b, k->name);
		if (k->type == T_STR) {
			buf_addc(&b, ' ');
			buf_add_escaped(&b, CAT(char *, s, k->off));
		} else if (k->type == T_LIST) {
			for (i = 0; i < CAT(size_t, s, COUNT(k)); i++) {
				buf_addc(&b, ' ');
				buf_add_escaped(&b, CAT(char **, s, k->off)[i]);
			}
		}
	}
	buf_adds(&b, ")");
	return b.s;
}
