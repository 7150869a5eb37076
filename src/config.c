/* The config builder and validator. Front ends (YAML, later INI) call
 * config_begin and config_set with (section, key, value, line); every
 * value is checked where it is set, so its error names its line.
 * config_finish merges defaults into syncs and checks what is missing. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_ini.h"
#include "config_yaml.h"
#include "exclude.h"
#include "mounts.h"
#include "rsync.h"
#include "util.h"

#define MAX_CONFIG_SIZE (16 << 20)
#define MAX_INTERVAL_MS (24LL * 3600 * 1000)
#define MAX_FULL_SYNC_MS (366LL * 24 * 3600 * 1000)

enum key {
	K_REMOTE_HOST, K_REMOTE_PATH, K_REMOTE_USER, K_PRIV_KEY, K_PORT,
	K_RSYNC_OPTS, K_INTERVAL, K_RECURSE, K_DELETE, K_EXCLUDE,
	K_SOURCE_PATH, K_INITIAL_SYNC, K_TRANSPORT, K_SSH, K_RSYNC,
	K_STRICT_HOST_KEY, K_KNOWN_HOSTS, K_RETRY_MAX, K_FULL_SYNC,
	K_DELETE_GUARD, K_MODIFY_WINDOW, NKEYS
};

static const char *const key_names[NKEYS] = {
	"remote_host", "remote_path", "remote_user", "priv_key", "port",
	"rsync_opts", "interval", "recurse", "delete", "exclude",
	"source_path", "initial_sync", "transport", "ssh", "rsync",
	"strict_host_key", "known_hosts", "retry_max", "full_sync",
	"delete_guard", "modify_window",
};

/* Top-level names, for suggestions; defaults and sync are structure the
 * front end handles itself. */
static const char *const top_names[] = { "log", "log_level", "defaults", "sync" };

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
};

struct config_builder *config_builder_new(const char *file)
{
	struct config_builder *b = xcalloc(1, sizeof *b);

	b->file = xstrdup(file);
	b->cur = SEC_TOP;
	b->log_level = L_INFO;
	return b;
}

void sync_conf_clear(struct sync_conf *c)
{
	size_t i;

	free(c->name);
	free(c->source);
	free(c->remote_host);
	free(c->remote_user);
	free(c->remote_path);
	free(c->priv_key);
	free(c->rsync_opts);
	free(c->ssh);
	free(c->rsync);
	free(c->known_hosts);
	for (i = 0; i < c->nexclude; i++)
		free(c->exclude[i]);
	free(c->exclude);
	memset(c, 0, sizeof *c);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool sync_conf_equal(const struct sync_conf *a, const struct sync_conf *b)
{
	size_t i;

	if (!same_str(a->name, b->name) || !same_str(a->source, b->source) ||
	    !same_str(a->remote_host, b->remote_host) ||
	    !same_str(a->remote_user, b->remote_user) ||
	    !same_str(a->remote_path, b->remote_path) ||
	    !same_str(a->priv_key, b->priv_key) ||
	    !same_str(a->rsync_opts, b->rsync_opts) ||
	    !same_str(a->ssh, b->ssh) || !same_str(a->rsync, b->rsync) ||
	    !same_str(a->known_hosts, b->known_hosts) ||
	    a->port != b->port || a->interval_ms != b->interval_ms ||
	    a->retry_max_ms != b->retry_max_ms ||
	    a->recurse != b->recurse || a->delete != b->delete ||
	    a->full_sync_ms != b->full_sync_ms || a->delete_guard != b->delete_guard ||
	    a->modify_window != b->modify_window ||
	    a->initial_sync != b->initial_sync ||
	    a->transport != b->transport ||
	    a->strict_host_key != b->strict_host_key ||
	    a->nexclude != b->nexclude)
		return false;
	for (i = 0; i < a->nexclude; i++)
		if (strcmp(a->exclude[i], b->exclude[i]) != 0)
			return false;
	return true;	/* the line may differ: it is not behaviour */
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

/* Edit distance, for "did you mean". Names are short. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[32 + 1];

	if (la > 32 || lb > 32)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = d[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			diag = up;
			d[j] = best;
		}
	}
	return d[lb];
}

static const char *nearest(const char *key, const char *const *names, size_t n)
{
	const char *best = names[0];
	size_t i, bestd = (size_t)-1;

	for (i = 0; i < n; i++) {
		size_t d = distance(key, names[i]);
		if (d < bestd) {
			bestd = d;
			best = names[i];
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

static int parse_bool(struct config_builder *b, const char *key,
		      const char *v, int line, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return config_fail(b, line, 0, "%s: '%s' is not a boolean: use true or false", key, v);
}

/* A whole number from min to max. */
static int parse_number(struct config_builder *b, const char *key, const char *v,
			int line, long min, long max, int *out)
{
	long n = 0;
	const char *p = v;

	if (!*p)
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		n = n * 10 + (*p - '0');
		if (n > max)
			goto bad;
	}
	if (n < min)
		goto bad;
	*out = (int)n;
	return 0;
bad:
	return config_fail(b, line, 0, "%s: '%s' is not %s: use %ld to %ld", key, v,
	    strcmp(key, "port") == 0 ? "a port number" : "a whole number", min, max);
}

/* Seconds with an optional fraction ("3", "0.5") and an optional unit
 * s, m, h or d ("90m", "24h"), to milliseconds. */
static int parse_seconds(struct config_builder *b, const char *key, const char *v,
			 int line, long long min_ms, long long max_ms, long long *out)
{
	static const char units[] = "smhd";
	static const long long unit_ms[] = { 1000, 60000, 3600000, 86400000 };
	long long ms = 0, scale = 100, unit = 1000;
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
	    "%s: '%s' is not a number of seconds: use a number from %lld to %lld "
	    "(fractions like 0.5 and units like 90m, 24h or 7d are fine)",
	    key, v, min_ms / 1000, max_ms / 1000);
}

/* host and user end up as ssh arguments: nothing that ssh could read
 * as an option, nothing that could split or forge a line. */
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

/* A pattern reaches rsync as --exclude=PATTERN, which reads a leading
 * "- " or "+ " or a lone "!" as a rule, not as part of a name: poni
 * would match the name while rsync did something else. */
static int check_exclude(struct config_builder *b, const char *v, int line)
{
	if (!*v)
		return config_fail(b, line, 0, "exclude: empty pattern");
	if (strchr(v, '\n'))
		return config_fail(b, line, 0, "exclude: newline in pattern");
	switch (exclude_prefix(v)) {
	case '-':
	case '+':
		if (!v[2])
			return config_fail(b, line, 0, "exclude: '%s' is an rsync rule "
			    "without a pattern: leave it out", v);
		if (*v == '-')
			return config_fail(b, line, 0, "exclude: '%s': rsync reads \"- \" as "
			    "a rule, not a name: write '%s' (or '[-]%s' for a name that "
			    "starts so)", v, v + 2, v + 1);
		return config_fail(b, line, 0, "exclude: '%s': rsync reads \"+ \" as an "
		    "include rule, and poni has none: leave it out (or write '[+]%s' "
		    "for a name that starts so)", v, v + 1);
	case '!':
		return config_fail(b, line, 0, "exclude: a lone '!' clears rsync's "
		    "exclude list: leave it out (or write '[\\!]' for a file named !)");
	}
	return 0;
}

static int set_str(char **field, const char *v)
{
	free(*field);
	*field = xstrdup(v);
	return 0;
}

static int set_sync_key(struct config_builder *b, struct section *s,
			enum key k, const char *v, int line)
{
	struct sync_conf *c = &s->c;
	char msg[256];
	long long ms;

	switch (k) {
	case K_REMOTE_HOST:
		if (check_word(b, "remote_host", v, line, false))
			return -1;
		return set_str(&c->remote_host, v);
	case K_REMOTE_USER:
		if (check_word(b, "remote_user", v, line, false))
			return -1;
		return set_str(&c->remote_user, v);
	case K_REMOTE_PATH:
		if (check_word(b, "remote_path", v, line, true))
			return -1;
		return set_str(&c->remote_path, v);
	case K_PRIV_KEY:
	case K_KNOWN_HOSTS:
	case K_SSH:
	case K_RSYNC:
		if (check_word(b, key_names[k], v, line, true))
			return -1;
		if (k == K_KNOWN_HOSTS && strpbrk(v, "\"'\\"))
			return config_fail(b, line, 0,
			    "known_hosts: quotes and backslashes cannot be passed to ssh's UserKnownHostsFile");
		return set_str(k == K_PRIV_KEY ? &c->priv_key :
			       k == K_KNOWN_HOSTS ? &c->known_hosts :
			       k == K_SSH ? &c->ssh : &c->rsync, v);
	case K_SOURCE_PATH:
		if (*v != '/')
			return config_fail(b, line, 0,
			    "source_path: '%s' is not an absolute path: start it with /", v);
		if (check_word(b, "source_path", v, line, true))
			return -1;
		return set_str(&c->source, v);
	case K_PORT:
		return parse_number(b, "port", v, line, 1, 65535, &c->port);
	case K_RSYNC_OPTS:
		if (*v == '-')	/* "-azP" is what a user types: allow it */
			v++;
		if (rsync_opts_check(v, msg, sizeof msg))
			return config_fail(b, line, 0, "rsync_opts: %s", msg);
		return set_str(&c->rsync_opts, v);
	case K_INTERVAL:
		if (parse_seconds(b, "interval", v, line, 0, MAX_INTERVAL_MS, &ms))
			return -1;
		c->interval_ms = (long)ms;
		return 0;
	case K_RETRY_MAX:
		if (parse_seconds(b, "retry_max", v, line, 1000, MAX_INTERVAL_MS, &ms))
			return -1;
		c->retry_max_ms = (long)ms;
		return 0;
	case K_RECURSE:
		return parse_bool(b, "recurse", v, line, &c->recurse);
	case K_DELETE:
		return parse_bool(b, "delete", v, line, &c->delete);
	case K_INITIAL_SYNC:
		return parse_bool(b, "initial_sync", v, line, &c->initial_sync);
	case K_DELETE_GUARD:
		return parse_bool(b, "delete_guard", v, line, &c->delete_guard);
	case K_FULL_SYNC:
		return parse_seconds(b, "full_sync", v, line, 0, MAX_FULL_SYNC_MS, &c->full_sync_ms);
	case K_MODIFY_WINDOW:
		return parse_number(b, "modify_window", v, line, 0, 3600, &c->modify_window);
	case K_EXCLUDE:
		if (check_exclude(b, v, line))
			return -1;
		c->exclude = xrealloc(c->exclude, (c->nexclude + 1) * sizeof *c->exclude);
		c->exclude[c->nexclude++] = xstrdup(v);
		return 0;
	case K_TRANSPORT:
		if (strcmp(v, "auto") == 0)
			c->transport = TRANSPORT_AUTO;
		else if (strcmp(v, "ssh") == 0)
			c->transport = TRANSPORT_SSH;
		else if (strcmp(v, "local") == 0)
			c->transport = TRANSPORT_LOCAL;
		else
			return config_fail(b, line, 0,
			    "transport: '%s' is not a transport: use auto, ssh or local", v);
		return 0;
	case K_STRICT_HOST_KEY:
		if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0)
			c->strict_host_key = HOSTKEY_YES;
		else if (strcasecmp(v, "accept-new") == 0)
			c->strict_host_key = HOSTKEY_ACCEPT_NEW;
		else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0)
			c->strict_host_key = HOSTKEY_NO;
		else
			return config_fail(b, line, 0,
			    "strict_host_key: '%s' is not a policy: use yes, accept-new or no", v);
		return 0;
	case NKEYS:
		break;
	}
	return -1;
}

static int parse_log_level(struct config_builder *b, const char *v, int line)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	int i;

	if (strcasecmp(v, "warn") == 0)
		v = "warning";
	for (i = 0; i < 4; i++)
		if (strcasecmp(v, names[i]) == 0) {
			b->log_level = (enum log_level)i;
			return 0;
		}
	return config_fail(b, line, 0,
	    "log_level: '%s' is not a level: use error, warning, info or debug", v);
}

static int set_top(struct config_builder *b, const char *key, const char *v, int line)
{
	int *seen;

	if (strcmp(key, "log") == 0)
		seen = &b->log_line;
	else if (strcmp(key, "log_level") == 0)
		seen = &b->log_level_line;
	else {
		size_t k;
		for (k = 0; k < NKEYS; k++)
			if (strcmp(key, key_names[k]) == 0)
				return config_fail(b, line, 0,
				    "%s belongs in a sync or in defaults, not at the top level", key);
		return config_fail(b, line, 0,
		    "unknown top-level key '%s' (did you mean '%s'?)", key,
		    nearest(key, top_names, sizeof top_names / sizeof *top_names));
	}
	if (*seen)
		return config_fail(b, line, 0,
		    "duplicate key '%s' (first set on line %d)", key, *seen);
	*seen = line;
	if (!v)
		return 0;
	if (seen == &b->log_level_line)
		return parse_log_level(b, v, line);
	if (!*v || strchr(v, '\n'))
		return config_fail(b, line, 0,
		    "log: use stdout, stderr, syslog or the path of a file");
	return set_str(&b->log, v);
}

int config_set(struct config_builder *b, const char *key, const char *value, int line)
{
	struct section *s;
	size_t k;

	if (b->cur == SEC_TOP)
		return set_top(b, key, value, line);
	s = b->cur == SEC_DEFAULTS ? &b->defaults : &b->syncs[b->nsyncs - 1];
	for (k = 0; k < NKEYS; k++)
		if (strcmp(key, key_names[k]) == 0)
			break;
	if (k == NKEYS && (strcmp(key, "log") == 0 || strcmp(key, "log_level") == 0))
		return config_fail(b, line, 0, "%s belongs at the top level, not in %s",
		    key, b->cur == SEC_DEFAULTS ? "defaults" : "a sync");
	if (k == NKEYS)
		return config_fail(b, line, 0, "unknown key '%s' (did you mean '%s'?)",
		    key, nearest(key, key_names, NKEYS));
	if (k == K_SOURCE_PATH && b->cur == SEC_DEFAULTS)
		return config_fail(b, line, 0,
		    "source_path belongs in a sync, not in defaults");
	if (s->set_line[k] && k != K_EXCLUDE)
		return config_fail(b, line, 0, "duplicate key '%s' (first set on line %d)",
		    key, s->set_line[k]);
	if (!value)		/* nothing here: as if the key were absent */
		return 0;
	if (set_sync_key(b, s, (enum key)k, value, line))
		return -1;
	if (!s->set_line[k])
		s->set_line[k] = line;
	return 0;
}

/* Copy what the sync does not set from the defaults section. */
static void inherit(struct section *s, const struct section *d)
{
	struct sync_conf *c = &s->c;
	const struct sync_conf *dc = &d->c;
	size_t k, i;

	for (k = 0; k < NKEYS; k++) {
		if (s->set_line[k] || !d->set_line[k])
			continue;
		s->set_line[k] = d->set_line[k];
		switch ((enum key)k) {
		case K_REMOTE_HOST: c->remote_host = xstrdup(dc->remote_host); break;
		case K_REMOTE_PATH: c->remote_path = xstrdup(dc->remote_path); break;
		case K_REMOTE_USER: c->remote_user = xstrdup(dc->remote_user); break;
		case K_PRIV_KEY: c->priv_key = xstrdup(dc->priv_key); break;
		case K_KNOWN_HOSTS: c->known_hosts = xstrdup(dc->known_hosts); break;
		case K_SSH: c->ssh = xstrdup(dc->ssh); break;
		case K_RSYNC: c->rsync = xstrdup(dc->rsync); break;
		case K_RSYNC_OPTS: c->rsync_opts = xstrdup(dc->rsync_opts); break;
		case K_PORT: c->port = dc->port; break;
		case K_INTERVAL: c->interval_ms = dc->interval_ms; break;
		case K_RETRY_MAX: c->retry_max_ms = dc->retry_max_ms; break;
		case K_RECURSE: c->recurse = dc->recurse; break;
		case K_DELETE: c->delete = dc->delete; break;
		case K_INITIAL_SYNC: c->initial_sync = dc->initial_sync; break;
		case K_TRANSPORT: c->transport = dc->transport; break;
		case K_STRICT_HOST_KEY: c->strict_host_key = dc->strict_host_key; break;
		case K_FULL_SYNC: c->full_sync_ms = dc->full_sync_ms; break;
		case K_DELETE_GUARD: c->delete_guard = dc->delete_guard; break;
		case K_MODIFY_WINDOW: c->modify_window = dc->modify_window; break;
		case K_EXCLUDE:
			c->exclude = xcalloc(dc->nexclude, sizeof *c->exclude);
			for (i = 0; i < dc->nexclude; i++)
				c->exclude[i] = xstrdup(dc->exclude[i]);
			c->nexclude = dc->nexclude;
			break;
		case K_SOURCE_PATH:
		case NKEYS:
			break;
		}
	}
}

/* Built-in defaults for what neither the sync nor defaults set. */
static void apply_builtin(struct section *s)
{
	struct sync_conf *c = &s->c;

	if (!s->set_line[K_PORT])
		c->port = 22;
	if (!s->set_line[K_RSYNC_OPTS])
		c->rsync_opts = xstrdup("azP");
	if (!s->set_line[K_INTERVAL])
		c->interval_ms = 3000;
	if (!s->set_line[K_RETRY_MAX])
		c->retry_max_ms = 300 * 1000;
	if (!s->set_line[K_INITIAL_SYNC])
		c->initial_sync = true;
	if (!s->set_line[K_STRICT_HOST_KEY])
		c->strict_host_key = HOSTKEY_ACCEPT_NEW;
	if (!s->set_line[K_FULL_SYNC])
		c->full_sync_ms = 24LL * 3600 * 1000;
	if (!s->set_line[K_DELETE_GUARD])
		c->delete_guard = true;
	if (!s->set_line[K_MODIFY_WINDOW])
		c->modify_window = -1;
	if (!c->ssh)
		c->ssh = xstrdup("ssh");
	if (!c->rsync)
		c->rsync = xstrdup("rsync");
	if (!c->source)
		c->source = xstrdup(c->name);
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

static int check_key_file(struct config_builder *b, const struct section *s)
{
	const struct sync_conf *c = &s->c;
	int line = s->set_line[K_PRIV_KEY];
	struct stat st;
	int fd;

	/* Open it as poni will have ssh do: readable by this user. */
	if ((fd = open(c->priv_key, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return config_fail(b, line, 0, "priv_key: cannot read %s: %s",
		    c->priv_key, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return config_fail(b, line, 0, "priv_key: %s is not a regular file",
		    c->priv_key);
	}
	if (!ssh_is_openssh(c->ssh)) {
		static const char openssh_key[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
		char head[sizeof openssh_key - 1];
		ssize_t n = read(fd, head, sizeof head);

		if (n == (ssize_t)sizeof head && memcmp(head, openssh_key, sizeof head) == 0) {
			close(fd);
			return config_fail(b, line, 0,
			    "priv_key: %s is an OpenSSH key, which %s cannot read: convert it "
			    "with dropbearconvert openssh dropbear %s %s.db and use that",
			    c->priv_key, c->ssh, c->priv_key, c->priv_key);
		}
	}
	close(fd);
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
	int line = s->set_line[K_REMOTE_PATH] ? s->set_line[K_REMOTE_PATH] : c->line;

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

static int finish_sync(struct config_builder *b, struct section *s, int flags)
{
	struct sync_conf *c = &s->c;
	bool local_host;

	inherit(s, &b->defaults);
	apply_builtin(s);
	if (c->source[0] != '/')
		return config_fail(b, c->line, 0,
		    "sync '%s': the source must be an absolute path: use it as the key, or set source_path",
		    c->name);
	if (!c->remote_path)
		return config_fail(b, c->line, 0,
		    "sync '%s': remote_path is missing: set it here or under defaults",
		    c->name);
	local_host = !c->remote_host || strcmp(c->remote_host, "localhost") == 0;
	if (c->transport == TRANSPORT_AUTO)
		c->transport = local_host ? TRANSPORT_LOCAL : TRANSPORT_SSH;
	if (c->transport == TRANSPORT_LOCAL && !local_host)
		return config_fail(b, s->set_line[K_TRANSPORT], 0,
		    "sync '%s': transport local, but remote_host is %s: remove one of them",
		    c->name, c->remote_host);
	if (c->transport == TRANSPORT_LOCAL) {
		free(c->remote_host);
		c->remote_host = NULL;
		if (c->remote_path[0] != '/')
			return config_fail(b, s->set_line[K_REMOTE_PATH], 0,
			    "remote_path: '%s' is not an absolute path, as a local copy needs: start it with /",
			    c->remote_path);
		return check_overlap(b, s);
	}
	if (!c->remote_host)
		c->remote_host = xstrdup("localhost");
	if (c->known_hosts && !ssh_is_openssh(c->ssh))
		return config_fail(b, s->set_line[K_KNOWN_HOSTS], 0,
		    "sync '%s': known_hosts does not work with %s, which keeps its own "
		    "~/.ssh/known_hosts: remove it", c->name, c->ssh);
	/* poni's own known_hosts next to the config, unless one is named:
	 * accept-new then records host keys where poni alone uses them */
	if (!c->known_hosts && c->strict_host_key != HOSTKEY_NO && ssh_is_openssh(c->ssh))
		c->known_hosts = xstrdup("known_hosts");
	resolve(b, &c->priv_key);
	resolve(b, &c->known_hosts);
	if (!c->priv_key)
		return config_fail(b, c->line, 0,
		    "sync '%s': priv_key is missing: ssh needs a private key file, set it here or under defaults",
		    c->name);
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

/* The config names the commands poni runs, usually as root: like doas,
 * refuse one that someone else could have written. */
static int check_owner(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		format(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		format(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		format(err, errlen,
		    "%s: writable by %s (mode %03o): others could make poni run their commands; "
		    "chmod go-w %s", path, st.st_mode & S_IWOTH ? "everyone" : "its group",
		    (unsigned)(st.st_mode & 0777), path);
		return -1;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		format(err, errlen,
		    "%s: owned by uid %ld, not root, while poni runs as root: "
		    "that user could make poni run their commands; chown root %s",
		    path, (long)st.st_uid, path);
		return -1;
	}
	return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	struct buf b = { 0 };
	char chunk[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		format(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (check_owner(fd, path, err, errlen) < 0) {
		close(fd);
		return NULL;
	}
	buf_add(&b, "", 0);
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len + (size_t)n > MAX_CONFIG_SIZE) {
			format(err, errlen, "%s: cannot read: %s", path,
			    n < 0 ? strerror(errno) : "larger than 16 MiB");
			close(fd);
			buf_free(&b);
			return NULL;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	*len = b.len;
	return b.s;
}

struct config *config_load(const char *path, int flags, char *err, size_t errlen)
{
	struct config_builder *b;
	struct config *cfg = NULL;
	size_t len;
	char *text;

	if (!(text = read_file(path, &len, err, errlen)))
		return NULL;
	b = config_builder_new(path);
	if ((config_is_ini(path, text, len) ? config_ini_feed(b, text, len) :
	    config_yaml_feed(b, text, len)) == 0)
		cfg = config_finish(b, flags);
	if (!cfg)
		format(err, errlen, "%s", config_error(b));
	config_builder_free(b);
	free(text);
	return cfg;
}

char *sync_target(const struct sync_conf *s)
{
	if (s->transport == TRANSPORT_LOCAL)
		return xstrdup(s->remote_path);
	bool v6 = strchr(s->remote_host, ':') != NULL;

	return xasprintf("%s%s%s%s%s:%s", s->remote_user ? s->remote_user : "",
	    s->remote_user ? "@" : "", v6 ? "[" : "", s->remote_host, v6 ? "]" : "",
	    s->remote_path);
}

char *sync_summary(const struct sync_conf *s)
{
	static const char *const policy[] = { "yes", "accept-new", "no" };
	struct buf b = { 0 };
	char *target = sync_target(s), *flags;
	char frac[8];
	size_t i, len;

	buf_add_escaped(&b, s->source);
	buf_adds(&b, " -> ");
	buf_add_escaped(&b, target);
	free(target);
	if (s->transport == TRANSPORT_SSH) {
		buf_addf(&b, " (ssh port %d, key ", s->port);
		buf_add_escaped(&b, s->priv_key);
		buf_addf(&b, ", host key %s, ", policy[s->strict_host_key]);
		if (s->known_hosts) {
			buf_adds(&b, "known_hosts ");
			buf_add_escaped(&b, s->known_hosts);
			buf_adds(&b, ", ");
		}
	} else {
		buf_adds(&b, " (local, ");
	}
	flags = rsync_flags(s->rsync_opts);	/* as rsync gets them: no P */
	buf_addf(&b, "rsync %s%s, interval %ld", *flags ? "-" : "(no flags)",
	    flags, s->interval_ms / 1000);
	free(flags);
	if (s->interval_ms % 1000) {	/* 0.5s, 2.25s: no trailing zeros */
		len = (size_t)format(frac, sizeof frac, ".%03ld", s->interval_ms % 1000);
		while (frac[len - 1] == '0')
			frac[--len] = '\0';
		buf_adds(&b, frac);
	}
	buf_adds(&b, "s");
	if (s->recurse)
		buf_adds(&b, ", recurse");
	if (s->delete)
		buf_adds(&b, ", delete");
	for (i = 0; i < s->nexclude; i++) {
		buf_adds(&b, i ? " " : ", exclude ");
		buf_add_escaped(&b, s->exclude[i]);
	}
	if (!s->initial_sync)
		buf_adds(&b, ", no initial sync");
	if (s->full_sync_ms != 24LL * 3600 * 1000)
		buf_addf(&b, s->full_sync_ms ? ", full sync every %llds" : ", no periodic full sync",
		    s->full_sync_ms / 1000);
	if (s->delete && !s->delete_guard)
		buf_adds(&b, ", no delete guard");
	if (s->modify_window >= 0)
		buf_addf(&b, ", modify window %ds", s->modify_window);
	buf_adds(&b, ")");
	return b.s;
}
