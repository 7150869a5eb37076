/* The INI front end of the config builder, built with INI=1 through the
 * system's inih library: the same builder, keys, defaults, checks and
 * messages as the YAML front end.
 *
 *   log = /var/log/poni.log        ; top-level keys first, or in [poni]
 *   [defaults]
 *   remote_host = web9
 *   [/srv/www/]                    ; a sync: its source path ...
 *   remote_path = /backup/www
 *   exclude = *.tmp, cache/        ; lists: commas, or the key repeated
 *   [www-copy]                     ; ... or a name, with source_path
 *   source_path = /srv/www/
 *
 * inih reads the text through our reader, one line per call, which is
 * how every key gets its line number whatever inih was built with, and
 * how an empty [section] (a sync with all defaults) is seen at all. */
#include <string.h>

#include "config_ini.h"
#include "util.h"

/* Whether buf is INI: its first meaningful line is a [section], or, for
 * a file named *.ini or *.conf, a "key = value" line. */
int config_is_ini(const char *path, const char *buf, size_t len)
{
	size_t i = 0, end, n = strlen(path);
	const char *line, *eq, *colon;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	for (; i < len; i = end + 1) {
		for (end = i; end < len && buf[end] != '\n'; end++)
			;
		line = buf + i;
		while (line < buf + end && (*line == ' ' || *line == '\t' || *line == '\r'))
			line++;
		if (line == buf + end || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			const char *close = memchr(line, ']', (size_t)(buf + end - line));
			/* "[a, b]" is a YAML flow list, "[name]" a section */
			return close && !memchr(line, ',', (size_t)(close - line));
		}
		if ((n >= 4 && strcmp(path + n - 4, ".ini") == 0) ||
		    (n >= 5 && strcmp(path + n - 5, ".conf") == 0)) {
			eq = memchr(line, '=', (size_t)(buf + end - line));
			colon = memchr(line, ':', (size_t)(buf + end - line));
			return eq && (!colon || eq < colon);
		}
		return 0;
	}
	return 0;
}

#ifdef PONI_INI

#include <ini.h>

struct ini_feed {
	struct config_builder *b;
	const char *buf;
	size_t len, pos;
	int line;		/* of the line inih works on */
	int failed;		/* the builder has the error */
	int poni_line;		/* where [poni] was, to refuse a second one */
};

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
}

/* A [section] line: start that section in the builder. */
static int begin_section(struct ini_feed *f, const char *text)
{
	char name[512];
	const char *close = strrchr(text, ']');
	size_t n;

	if (!close || (n = (size_t)(close - text - 1)) >= sizeof name)
		return 0;	/* inih reports the syntax error */
	memcpy(name, text + 1, n);
	name[n] = '\0';
	trim(name);
	if (strcmp(name, "poni") == 0) {
		if (f->poni_line)
			return config_fail(f->b, f->line, 0,
			    "section [poni] twice (first on line %d): merge them", f->poni_line);
		f->poni_line = f->line;
		return config_begin(f->b, SEC_TOP, NULL, f->line);
	}
	if (strcmp(name, "defaults") == 0)
		return config_begin(f->b, SEC_DEFAULTS, NULL, f->line);
	return config_begin(f->b, SEC_SYNC, name, f->line);
}

static char *reader(char *str, int num, void *stream)
{
	struct ini_feed *f = stream;
	size_t end, n;
	const char *text;

	if (f->failed || f->pos >= f->len)
		return NULL;
	for (end = f->pos; end < f->len && f->buf[end] != '\n'; end++)
		;
	n = end - f->pos;
	f->line++;
	if (memchr(f->buf + f->pos, '\0', n)) {
		config_fail(f->b, f->line, 0, "NUL byte in file");
		f->failed = 1;
		return NULL;
	}
	if (num < 3 || n > (size_t)num - 2) {
		config_fail(f->b, f->line, 0,
		    "line longer than the %d bytes inih reads: shorten it (or use YAML)", num - 2);
		f->failed = 1;
		return NULL;
	}
	memcpy(str, f->buf + f->pos, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	f->pos = end + 1;
	for (text = str; *text == ' ' || *text == '\t'; text++)
		;
	if (*text == '[' && begin_section(f, text) < 0) {
		f->failed = 1;
		return NULL;
	}
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct ini_feed *f = user;
	char v[4096], *item, *save = NULL;
	size_t n = strlen(value);
	bool quoted = false;

	(void)section;		/* begun by the reader, line numbers and all */
	if (f->failed)
		return 0;
	if (n >= sizeof v) {
		config_fail(f->b, f->line, 0, "%s: value too long", name);
		f->failed = 1;
		return 0;
	}
	memcpy(v, value, n + 1);
	/* one pair of surrounding quotes is dropped: "a b" is a b, and a
	 * quoted list item keeps its commas ("--chmod=D755,F644") */
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		memmove(v, v + 1, n - 2);
		v[n - 2] = '\0';
		quoted = true;
	}
	if (config_is_list(name) && !quoted && strchr(v, ',')) {
		for (item = strtok_r(v, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
			trim(item);
			if (*item && config_set(f->b, name, item, f->line) < 0) {
				f->failed = 1;
				return 0;
			}
		}
		return 1;
	}
	if (config_set(f->b, name, *v ? v : NULL, f->line) < 0) {
		f->failed = 1;
		return 0;
	}
	return 1;
}

int config_ini_feed(struct config_builder *b, const char *buf, size_t len)
{
	struct ini_feed f = { 0 };
	int rc;

	f.b = b;
	f.buf = buf;
	f.len = len;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		f.pos = 3;
	config_begin(b, SEC_TOP, NULL, 1);
	rc = ini_parse_stream(reader, &f, handler, &f);
	if (f.failed)
		return -1;
	if (rc == -2)
		return config_fail(b, 0, 0, "out of memory");
	if (rc != 0)
		return config_fail(b, rc, 0,
		    "not an INI line: use [section], key = value, or a ; or # comment");
	return 0;
}

#else

int config_ini_feed(struct config_builder *b, const char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return config_fail(b, 0, 0,
	    "this is an INI config, but this poni was built without INI support: "
	    "rebuild it with make INI=1 (needs inih: apt-get install libinih-dev), "
	    "or write the config in YAML");
}

#endif
