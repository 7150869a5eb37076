/* Unit tests of the YAML subset parser (src/yaml.c): every accepted form,
 * every refusal with its line, column and message, and inputs that must not
 * crash (truncations, random bytes). Trees are compared as compact strings:
 * {key: value, list: [a, b], nothing: ~, quoted: "text"}. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/yaml.h"
#include "unit.h"

static struct yaml_error err;
static char dumpbuf[1 << 16];
static size_t dumplen;

static void put(const char *s)
{
	size_t n = strlen(s);

	if (dumplen + n >= sizeof dumpbuf)
		n = sizeof dumpbuf - 1 - dumplen;
	memcpy(dumpbuf + dumplen, s, n);
	dumplen += n;
	dumpbuf[dumplen] = '\0';
}

static void dump_node(const struct ynode *n)
{
	const struct ynode *c;

	switch (n->type) {
	case YN_NULL:
		put("~");
		break;
	case YN_SCALAR:
		put(n->quoted ? "\"" : "");
		put(n->value);
		put(n->quoted ? "\"" : "");
		break;
	case YN_SEQ:
	case YN_MAP:
		put(n->type == YN_SEQ ? "[" : "{");
		for (c = n->child; c; c = c->next) {
			if (c != n->child)
				put(", ");
			if (n->type == YN_MAP) {
				put(c->key);
				put(": ");
			}
			dump_node(c);
		}
		put(n->type == YN_SEQ ? "]" : "}");
		break;
	}
}

static const char *dump(const struct ynode *n)
{
	dumplen = 0;
	dumpbuf[0] = '\0';
	dump_node(n);
	return dumpbuf;
}

/* Parses len bytes from an exact-size heap copy, so that ASan sees any read
 * past the end, and frees the copy: the tree must not point into it. */
static struct ynode *parse_n(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	struct ynode *root;

	if (!copy)
		return NULL;
	memcpy(copy, text, len);
	root = yaml_parse(copy, len, &err);
	free(copy);
	return root;
}

static struct ynode *parse(const char *text)
{
	return parse_n(text, strlen(text));
}

/* The tree as a string, or "ERROR L:C: message". */
static const char *pdump(const char *text)
{
	struct ynode *root = parse(text);

	if (!root) {
		snprintf(dumpbuf, sizeof dumpbuf, "ERROR %d:%d: %s", err.line, err.col, err.msg);
		return dumpbuf;
	}
	dump(root);
	yaml_free(root);
	return dumpbuf;
}

/* "L:C: message" of a refused text, or "parsed: TREE". */
static char errbuf[512];
static const char *perr_n(const char *text, size_t len)
{
	struct ynode *root = parse_n(text, len);

	if (root) {
		snprintf(errbuf, sizeof errbuf, "parsed: %.400s", dump(root));
		yaml_free(root);
		return errbuf;
	}
	snprintf(errbuf, sizeof errbuf, "%d:%d: %s", err.line, err.col, err.msg);
	return errbuf;
}

/* text is refused at pos ("L:C: ", or "L:" when the column does not
 * matter) with a message containing word. */
#define CHECK_ERR_N(text, len, pos, word) do { \
	const char *m_ = perr_n((text), (len)); \
	if (strncmp(m_, (pos), strlen(pos)) != 0) { \
		if (!unit_failed_now) printf("FAIL %s: %s:%d: got '%s', want position '%s'\n", \
		    unit_name, __FILE__, __LINE__, m_, (pos)); \
		unit_failed_now = 1; \
	} \
	CHECK_CONTAINS(m_, (word)); \
} while (0)
#define CHECK_ERR(text, pos, word) CHECK_ERR_N((text), strlen(text), (pos), (word))

static const char spec_example[] =
	"log: /var/log/poni.log\n"
	"\n"
	"defaults:\n"
	"  remote_host: default-host-name\n"
	"  remote_user: default-user-name\n"
	"  remote_path: /default/path/on/remote/host\n"
	"  priv_key: /root/.ssh/id_rsa\n"
	"  interval: 3\n"
	"\n"
	"sync:\n"
	"    /opt/dir1:\n"
	"        remote_host: nycweb1                ## target host\n"
	"        remote_path: /opt                   ## target path on remote host\n"
	"        remote_user: jsmith\n"
	"        priv_key: /home/jsmith/.ssh/id_rsa\n"
	"        port: 1122\n"
	"        rsync_opts: azP\n"
	"        interval: 15\n"
	"        recurse: true\n"
	"    /home/user/dir1: []   # all defaults\n"
	"    /var/log/syslog:\n"
	"        remote_host: web9\n"
	"        remote_path: /mnt/backup/logs/host123\n";

static const char spec_tree[] =
	"{log: /var/log/poni.log, "
	"defaults: {remote_host: default-host-name, remote_user: default-user-name, "
	"remote_path: /default/path/on/remote/host, priv_key: /root/.ssh/id_rsa, interval: 3}, "
	"sync: {/opt/dir1: {remote_host: nycweb1, remote_path: /opt, remote_user: jsmith, "
	"priv_key: /home/jsmith/.ssh/id_rsa, port: 1122, rsync_opts: azP, interval: 15, "
	"recurse: true}, /home/user/dir1: [], "
	"/var/log/syslog: {remote_host: web9, remote_path: /mnt/backup/logs/host123}}}";

/* The upstream README's examples, as they are (trailing blanks included). */
static const char readme_sync[] =
	"sync:\n"
	"    /opt/dir1:\n"
	"        remote_host: nycweb1                ## target host\n"
	"        remote_path: /opt                   ## target path on remote host\n"
	"        remote_user: jsmith                 ## user which will initiate rsync\n"
	"        priv_key: /home/jsmith/.ssh/id_rsa  ## path to user's private SSH key\n"
	"        port: 1122                          ## custom SSH port, default = 22\n"
	"        rsync_opts: azBP                    ## additional Rsync flags (default: azP)\n"
	"        interval: 15                        ## sleep time in seconds before rsyncing on a change, default = 3\n"
	"        recurse: true                       ## watch directories recursively for changes, default = false\n"
	"\n"
	"    /var/log/syslog:\n"
	"        remote_host: web9\n"
	"        remote_path: /mnt/backup/logs/host123\n"
	"        remote_user: root\n"
	"        priv_key: /root/.ssh/id_rsa\n";

static const char readme_defaults[] =
	"defaults:\n"
	"  remote_host: default-host-name\n"
	"  remote_user: default-user-name\n"
	"  remote_path: /default/path/on/remote/host\n"
	"  priv_key: default-ssh-key\n"
	"  interval: 3\n"
	"\n"
	"sync:\n"
	"  /home/user/dir1: []  # this sync will use all the default values above\n"
	"  \n"
	"  /home/bob/files: []  # this sync will use all the default values above\n"
	"  \n"
	"  /opt/dir:\n"
	"    interval: 30  # this sync will use all default values except for Interval\n";

/* Every accepted form in one file, for the truncation test. */
static const char kitchen_sink[] =
	"\xef\xbb\xbf--- # poni\r\n"
	"log: {destination: /var/log/poni.log, level: debug}\r\n"
	"'quoted key': \"tab\\there \\\"q\\\" \\\\ \\/\"\r\n"
	"/opt/a:b: x#y # comment\r\n"
	"empty:\r\n"
	"nulls: [~, null, 'null', \"~\", a b,]\r\n"
	"sync:\r\n"
	"  /src:\r\n"
	"    exclude:\r\n"
	"    - '*.tmp'\r\n"
	"    -\r\n"
	"    interval: 0.5\r\n"
	"  /other: {}\r\n"
	"  /third:\r\n"
	"      exclude:\r\n"
	"        - \"it's\"\r\n"
	"        - 'it''s'\r\n"
	"...\r\n"
	"# the end\r\n";

static char *replace_all(const char *s, const char *from, const char *to)
{
	size_t n = 0, flen = strlen(from), tlen = strlen(to);
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, from)); p += flen)
		n++;
	if (!(out = malloc(strlen(s) + n * tlen + 1)))
		return NULL;
	for (o = out; *s; ) {
		if (!strncmp(s, from, flen)) {
			memcpy(o, to, tlen);
			o += tlen;
			s += flen;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static unsigned long long rng_state = 12345;

static unsigned rng(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(rng_state >> 33);
}

/* Parses every prefix of text: none may crash or leak. */
static void parse_prefixes(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i <= len; i++)
		yaml_free(parse_n(text, i));
}

static int count_children(const struct ynode *n)
{
	int count = 0;

	for (n = n->child; n; n = n->next)
		count++;
	return count;
}

int main(void)
{
	struct ynode *root;

	/* ---- accepted ---- */

	TEST("empty documents are null") {
		const char *empties[] = { "", "\n\n", "# c\n  # d\n", "---\n", "--- # c\n# x\n",
		    "\xef\xbb\xbf", "...\n", "---\n...\n# done\n", "  \t \n\t# tab\n", "\r\n" };
		size_t i;

		for (i = 0; i < sizeof empties / sizeof *empties; i++) {
			root = parse(empties[i]);
			CHECK(root && root->type == YN_NULL && !root->child);
			yaml_free(root);
		}
		root = yaml_parse(NULL, 0, NULL);
		CHECK(root && root->type == YN_NULL);
		yaml_free(root);
		yaml_free(NULL);
	}

	TEST("simple mapping, plain values trimmed") {
		CHECK_STR(pdump("a: 1\nb: two words  \nc: x # comment\n"),
		    "{a: 1, b: two words, c: x}");
	}

	TEST("positions of keys and values") {
		root = parse("a: 1\n  \nsub:\n    k:   v\nl:\n- x\n");
		CHECK(root && root->type == YN_MAP);
		if (root) {
			const struct ynode *a = root->child, *sub = a->next, *k = sub->child;
			const struct ynode *l = sub->next;

			CHECK(a->key_line == 1 && a->key_col == 1 && a->line == 1 && a->col == 4);
			CHECK(sub->key_line == 3 && sub->key_col == 1);
			CHECK(sub->type == YN_MAP && sub->line == 4 && sub->col == 5);
			CHECK(k->key_line == 4 && k->key_col == 5 && k->line == 4 && k->col == 10);
			CHECK(l->type == YN_SEQ && l->line == 6 && l->col == 1);
			CHECK(l->child->line == 6 && l->child->col == 3 && !l->child->key);
			CHECK(root->line == 1 && root->col == 1 && !root->key);
		}
		yaml_free(root);
	}

	TEST("spec example") {
		CHECK_STR(pdump(spec_example), spec_tree);
	}

	TEST("upstream README examples") {
		CHECK_STR(pdump(readme_sync),
		    "{sync: {/opt/dir1: {remote_host: nycweb1, remote_path: /opt, "
		    "remote_user: jsmith, priv_key: /home/jsmith/.ssh/id_rsa, port: 1122, "
		    "rsync_opts: azBP, interval: 15, recurse: true}, /var/log/syslog: "
		    "{remote_host: web9, remote_path: /mnt/backup/logs/host123, "
		    "remote_user: root, priv_key: /root/.ssh/id_rsa}}}");
		CHECK_STR(pdump(readme_defaults),
		    "{defaults: {remote_host: default-host-name, remote_user: default-user-name, "
		    "remote_path: /default/path/on/remote/host, priv_key: default-ssh-key, "
		    "interval: 3}, sync: {/home/user/dir1: [], /home/bob/files: [], "
		    "/opt/dir: {interval: 30}}}");
		CHECK_STR(pdump("    log: /var/log/poni.log\n"), "{log: /var/log/poni.log}");
	}

	TEST("each mapping has its own indent") {
		CHECK_STR(pdump("a:\n    b:\n      c: 1\n      d: 2\n    e: 3\nf:\n  g: 4\n"),
		    "{a: {b: {c: 1, d: 2}, e: 3}, f: {g: 4}}");
		CHECK_STR(pdump("  a: 1\n  b:\n   c: 2\n"), "{a: 1, b: {c: 2}}");
	}

	TEST("plain keys") {
		CHECK_STR(pdump("/opt/a:b: x\na b c: d\nurl: http://x:80/y\na#b: c#d\n"
		    "k : v\n-x: -1\n?x: :y\n..x: --- \n"),
		    "{/opt/a:b: x, a b c: d, url: http://x:80/y, a#b: c#d, k: v, -x: -1, "
		    "?x: :y, ..x: ---}");
		CHECK_STR(pdump("key:\n"), "{key: ~}");
		CHECK_STR(pdump("key:   # comment\n"), "{key: ~}");
	}

	TEST("quoted keys") {
		CHECK_STR(pdump("\"a: b\": 1\n'it''s': 2\n\"x\\ty\" : 3\n'#': 4\n"),
		    "{a: b: 1, it's: 2, x\ty: 3, #: 4}");
	}

	TEST("null values") {
		CHECK_STR(pdump("a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: # c\ng: \"~\"\n"
		    "h: 'null'\ni: nulls\nj: ~x\n"),
		    "{a: ~, b: ~, c: ~, d: ~, e: ~, f: ~, g: \"~\", h: \"null\", i: nulls, j: ~x}");
		root = parse("g: \"~\"\n");
		CHECK(root && root->child->type == YN_SCALAR && root->child->quoted);
		CHECK(root && !strcmp(root->child->value, "~"));
		yaml_free(root);
	}

	TEST("booleans and numbers stay scalars") {
		root = parse("a: true\nb: 0.5\nc: -3\nd: off\n");
		CHECK(root && root->child->type == YN_SCALAR && !root->child->quoted);
		CHECK(root && root->child->next->next->type == YN_SCALAR);
		CHECK(root && !strcmp(root->child->next->next->value, "-3"));
		yaml_free(root);
	}

	TEST("empty collections") {
		CHECK_STR(pdump("a: []\nb: {}\nc: [ ]\nd: { }  # x\n"), "{a: [], b: {}, c: [], d: {}}");
		root = parse("a: []\nb: {}\n");
		CHECK(root && root->child->type == YN_SEQ && !root->child->child);
		CHECK(root && root->child->next->type == YN_MAP && !root->child->next->child);
		yaml_free(root);
	}

	TEST("flow sequences") {
		CHECK_STR(pdump("x: [a, \"b c\", 'd', e f ,g]\n"), "{x: [a, \"b c\", \"d\", e f, g]}");
		CHECK_STR(pdump("x: [a, b,]\n"), "{x: [a, b]}");
		CHECK_STR(pdump("x: [a, ~, null] # c\n"), "{x: [a, ~, ~]}");
		CHECK_STR(pdump("x: [a#b, 'c, d', \"]\", x:y]\n"), "{x: [a#b, \"c, d\", \"]\", x:y]}");
		CHECK_STR(pdump("x: [ 'it''s' ]\n"), "{x: [\"it's\"]}");
		root = parse("x: [a, bc]\n");
		CHECK(root && root->child->child->next->line == 1 && root->child->child->next->col == 8);
		yaml_free(root);
	}

	TEST("flow mappings") {
		CHECK_STR(pdump("log: {destination: /var/log/poni.log, level: debug}\n"),
		    "{log: {destination: /var/log/poni.log, level: debug}}");
		CHECK_STR(pdump("m: {a: , \"b c\": 'x', c: ~, d:e: f, \"q\":1}\n"),
		    "{m: {a: ~, b c: \"x\", c: ~, d:e: f, q: 1}}");
		CHECK_STR(pdump("m: {a: 1,}\n"), "{m: {a: 1}}");
		root = parse("log: {destination: /x, level: debug}\n");
		if (root) {
			const struct ynode *level = root->child->child->next;

			CHECK(level->key_line == 1 && level->key_col == 24);
			CHECK(level->line == 1 && level->col == 31);
		}
		CHECK(root != NULL);
		yaml_free(root);
	}

	TEST("block sequences, indented deeper") {
		CHECK_STR(pdump("exclude:\n  - '*.tmp'\n  - cache/\n  -\n  - # nothing\n  -\tx\nnext: 1\n"),
		    "{exclude: [\"*.tmp\", cache/, ~, ~, x], next: 1}");
	}

	TEST("block sequences at their key's indent") {
		CHECK_STR(pdump("exclude:\n- a\n- b\n"), "{exclude: [a, b]}");
		CHECK_STR(pdump("a:\n  exclude:\n  - x\n  - y\n  b: 1\nc: 2\n"),
		    "{a: {exclude: [x, y], b: 1}, c: 2}");
		CHECK_STR(pdump("a:\n  l:\n  - x\nc: 2\n"), "{a: {l: [x]}, c: 2}");
	}

	TEST("key: with nothing below is null") {
		CHECK_STR(pdump("a:\nb:\n  c:\nd: 1\n"), "{a: ~, b: {c: ~}, d: 1}");
		CHECK_STR(pdump("a: 1\nb:"), "{a: 1, b: ~}");
	}

	TEST("double-quoted escapes") {
		root = parse("a: \"q\\\"b\\\\s\\/n\\nt\\tr\\r\"\n");
		CHECK(root && root->child->quoted);
		CHECK(root && !strcmp(root->child->value, "q\"b\\s/n\nt\tr\r"));
		yaml_free(root);
	}

	TEST("single quotes and comments in quotes") {
		CHECK_STR(pdump("a: 'it''s # not a comment'\nb: '' # empty\nc: \"\"\nd: \"x # y\"\n"),
		    "{a: \"it's # not a comment\", b: \"\", c: \"\", d: \"x # y\"}");
	}

	TEST("comments after values") {
		CHECK_STR(pdump("a: \"x\"  # c\nb: [1, 2] # c\nc: x#y\nd: x #y\ne: x\t# tab\n"),
		    "{a: \"x\", b: [1, 2], c: x#y, d: x, e: x}");
	}

	TEST("tabs as separators, not indentation") {
		CHECK_STR(pdump("a:\tb\nc\t: d\ne: [x,\ty]\t\n"), "{a: b, c: d, e: [x, y]}");
	}

	TEST("CRLF line ends") {
		char *crlf = replace_all(spec_example, "\n", "\r\n");

		CHECK(crlf != NULL);
		if (crlf)
			CHECK_STR(pdump(crlf), spec_tree);
		free(crlf);
		CHECK_STR(pdump("a: 'x'\r\nb: y\r"), "{a: \"x\", b: y}");
		CHECK_STR(pdump("a: x \r\n\r\nb: \"q\"\r\n"), "{a: x, b: \"q\"}");
	}

	TEST("byte-order mark") {
		static char bom[sizeof spec_example + 3] = "\xef\xbb\xbf";

		strcat(bom, spec_example);
		CHECK_STR(pdump(bom), spec_tree);
		root = parse("\xef\xbb\xbf" "a: 1\n");
		CHECK(root && root->child->key_col == 1 && root->child->col == 4);
		yaml_free(root);
	}

	TEST("no final newline") {
		CHECK_STR(pdump("a: 1\nb: 2"), "{a: 1, b: 2}");
		CHECK_STR(pdump("a: [x]"), "{a: [x]}");
		CHECK_STR(pdump("a: \"x\""), "{a: \"x\"}");
		CHECK_STR(pdump("l:\n- x"), "{l: [x]}");
		CHECK_STR(pdump("l:\n-"), "{l: [~]}");
	}

	TEST("document markers") {
		CHECK_STR(pdump("---\na: 1\n...\n# end\n\n"), "{a: 1}");
		CHECK_STR(pdump("# first\n--- # c\na: 1"), "{a: 1}");
		CHECK_STR(pdump("a: 1\n...   # end"), "{a: 1}");
	}

	TEST("kitchen sink") {
		CHECK_STR(pdump(kitchen_sink),
		    "{log: {destination: /var/log/poni.log, level: debug}, "
		    "quoted key: \"tab\there \"q\" \\ /\", /opt/a:b: x#y, empty: ~, "
		    "nulls: [~, ~, \"null\", \"~\", a b], "
		    "sync: {/src: {exclude: [\"*.tmp\", ~], interval: 0.5}, /other: {}, "
		    "/third: {exclude: [\"it's\", \"it's\"]}}}");
	}

	TEST("same key in different mappings") {
		CHECK_STR(pdump("a:\n  k: 1\nb:\n  k: 2\nk: 3\nm: {k: 4}\n"),
		    "{a: {k: 1}, b: {k: 2}, k: 3, m: {k: 4}}");
	}

	TEST("nesting up to 32 levels") {
		char doc[4096], *o = doc;
		int i;

		for (i = 0; i < 32; i++)
			o += sprintf(o, "%*sk%d:\n", i, "", i);
		root = parse(doc);
		CHECK(root && root->type == YN_MAP);
		yaml_free(root);
		sprintf(o, "%*sk32:\n", 32, "");
		CHECK_ERR(doc, "33:33: ", "nesting too deep");
	}

	TEST("10,000 syncs parse fast") {
		size_t cap = 10001 * 120, n = 0;
		char *doc = malloc(cap);
		clock_t start = clock();
		int i;

		CHECK(doc != NULL);
		if (doc) {
			n += (size_t)sprintf(doc + n, "sync:\n");
			for (i = 0; i < 10000; i++)
				n += (size_t)sprintf(doc + n, "  /src/dir%d:\n    remote_host: h%d\n"
				    "    remote_path: /p\n    port: %d\n", i, i % 7, i);
			root = parse_n(doc, n);
			CHECK(root && count_children(root->child) == 10000);
			yaml_free(root);
			/* a duplicate at the very end is still found, with both lines */
			n += (size_t)sprintf(doc + n, "  /src/dir5000:\n");
			CHECK_ERR_N(doc, n, "40002:3: ", "duplicate key '/src/dir5000' (first set on line 20002)");
			CHECK((double)(clock() - start) / CLOCKS_PER_SEC < 5.0);
		}
		free(doc);
	}

	/* ---- refused ---- */

	TEST("refused: tab in indentation") {
		CHECK_ERR("a:\n\tb: 1\n", "2:1: ", "tab in indentation: indent with spaces");
		CHECK_ERR("a:\n  \tb: 1\n", "2:3: ", "tab in indentation");
	}

	TEST("refused: inconsistent indentation") {
		CHECK_ERR("a: 1\n  b: 2\n", "2:3: ", "inconsistent indentation: expected 0 spaces like line 1");
		CHECK_ERR("a:\n    b: 1\n  c: 2\n", "3:3: ",
		    "inconsistent indentation: expected 0 spaces like line 1 or 4 like line 2");
		CHECK_ERR("  a: 1\nb: 2\n", "2:1: ", "expected 2 spaces like line 1");
		CHECK_ERR("s:\n  a: 1\n   b: 2\n", "3:4: ", "expected 2 spaces like line 2");
		CHECK_ERR("a: hello\n  world\n", "2:3: ", "inconsistent indentation");
		CHECK_ERR("l:\n  - a\n    - b\n", "3:5: ", "expected 2 spaces like line 2");
		CHECK_ERR("a: ~\n  b: 1\n", "2:3: ", "inconsistent indentation");
	}

	TEST("refused: duplicate keys") {
		CHECK_ERR("a: 1\nport: 1\nb: 2\nport: 2\n", "4:1: ",
		    "duplicate key 'port' (first set on line 2)");
		CHECK_ERR("s:\n  x:\n    k: 1\n  y:\n    k: 1\n    k: 2\n", "6:5: ",
		    "duplicate key 'k' (first set on line 5)");
		CHECK_ERR("a: {x: 1, x: 2}\n", "1:11: ", "duplicate key 'x' (first set on line 1)");
		CHECK_ERR("a: 1\n'a': 2\n", "2:1: ", "duplicate key 'a'");
		CHECK_ERR("a:\n  - x\na: 2\n", "3:1: ", "duplicate key 'a'");
	}

	TEST("refused: anchors, aliases, tags") {
		CHECK_ERR("a: &x 1\n", "1:4: ", "anchors, aliases and tags are not supported");
		CHECK_ERR("a: *x\n", "1:4: ", "anchors, aliases and tags are not supported");
		CHECK_ERR("a: !!str 1\n", "1:4: ", "anchors, aliases and tags are not supported");
		CHECK_ERR("a: !x 1\n", "1:4: ", "anchors, aliases and tags are not supported");
		CHECK_ERR("&x a: 1\n", "1:1: ", "anchors, aliases and tags are not supported");
		CHECK_ERR("b: 1\n!t a: 1\n", "2:1: ", "anchors, aliases and tags are not supported");
		CHECK_ERR("a: [x, *y]\n", "1:8: ", "anchors, aliases and tags are not supported");
		CHECK_ERR("l:\n- &a x\n", "2:3: ", "anchors, aliases and tags are not supported");
	}

	TEST("refused: block scalars") {
		CHECK_ERR("a: |\n  text\n", "1:4: ", "block scalars (| and >) are not supported: write the value on one line");
		CHECK_ERR("a: |-\n  text\n", "1:4: ", "block scalars");
		CHECK_ERR("a: >\n  text\n", "1:4: ", "block scalars");
		CHECK_ERR("a: >+\n", "1:4: ", "block scalars");
	}

	TEST("refused: a second document") {
		CHECK_ERR("a: 1\n---\nb: 2\n", "2:1: ", "only one document is supported");
		CHECK_ERR("---\n---\n", "2:1: ", "only one document is supported");
		CHECK_ERR("a: 1\n...\nb: 2\n", "3:1: ", "only one document is supported");
		CHECK_ERR("a: 1\n...\n---\n", "3:1: ", "only one document is supported");
		CHECK_ERR("--- a: 1\n", "1:5: ", "nothing may follow '---'");
		CHECK_ERR("a: 1\n... x\n", "2:5: ", "nothing may follow '...'");
	}

	TEST("refused: directives") {
		CHECK_ERR("%YAML 1.2\n---\na: 1\n", "1:1: ", "directives (%YAML, %TAG) are not supported");
		CHECK_ERR("a: %x\n", "1:4: ", "cannot start with '%'");
	}

	TEST("refused: unterminated quotes") {
		CHECK_ERR("a: \"abc\n", "1:4: ", "unterminated quoted string");
		CHECK_ERR("a: 'abc\n  def'\n", "1:4: ", "unterminated quoted string");
		CHECK_ERR("a: 'abc''\n", "1:4: ", "unterminated quoted string");
		CHECK_ERR("a: \"abc\\\"\n", "1:4: ", "unterminated quoted string");
		CHECK_ERR("a: \"x\\", "1:4: ", "unterminated quoted string");
		CHECK_ERR("\"abc: 1\n", "1:1: ", "unterminated quoted string");
		CHECK_ERR("a: [\"x, y]\n", "1:5: ", "unterminated quoted string");
	}

	TEST("refused: lines that are not key: value") {
		CHECK_ERR("a: 1\njust text\n", "2:1: ", "expected 'key: value'");
		CHECK_ERR("a:b\n", "1:1: ", "put a space after the ':'");
		CHECK_ERR("hello\n", "1:1: ", "the top level must be a mapping of key: value lines");
		CHECK_ERR("text # a: b\n", "1:1: ", "expected 'key: value'");
		CHECK_ERR("\"k\" x: 1\n", "1:5: ", "expected ': ' after the quoted key");
		CHECK_ERR("a: 1\n{b: 1}: 2\n", "2:1: ", "a key cannot be a flow collection");
	}

	TEST("refused: complex keys and reserved characters") {
		CHECK_ERR("? a\n: b\n", "1:1: ", "complex keys ('? ') are not supported");
		CHECK_ERR("a: ? b\n", "1:4: ", "complex keys");
		CHECK_ERR("a: @x\n", "1:4: ", "'@' is reserved in YAML: quote the value");
		CHECK_ERR("a: `x`\n", "1:4: ", "'`' is reserved");
		CHECK_ERR("@a: x\n", "1:1: ", "'@' is reserved");
		CHECK_ERR("a: ]\n", "1:4: ", "cannot start with ']'");
		CHECK_ERR("a: ,x\n", "1:4: ", "cannot start with ','");
		CHECK_ERR("a: : b\n", "1:4: ", "unexpected ':'");
	}

	TEST("refused: NUL bytes and control characters") {
		CHECK_ERR_N("a: 1\nb: x\0y\n", 11, "2:5: ", "NUL byte in file");
		CHECK_ERR_N("\0", 1, "1:1: ", "NUL byte in file");
		CHECK_ERR("a: \x01\n", "1:4: ", "control character 0x01");
		CHECK_ERR("a: x\x7f\n", "1:5: ", "control character 0x7f");
		CHECK_ERR("a: 1\rb: 2\n", "1:5: ", "carriage return not followed by a newline");
	}

	TEST("refused: empty keys") {
		CHECK_ERR(": x\n", "1:1: ", "a key cannot be empty");
		CHECK_ERR("a: 1\n  : x\n", "2:3: ", "inconsistent indentation");
		CHECK_ERR("b: 1\n: x\n", "2:1: ", "a key cannot be empty");
		CHECK_ERR("\"\": x\n", "1:1: ", "a key cannot be empty");
		CHECK_ERR("m: {: x}\n", "1:5: ", "a key cannot be empty");
		CHECK_ERR("m: {'': x}\n", "1:5: ", "a key cannot be empty");
	}

	TEST("refused: escapes") {
		CHECK_ERR("a: \"\\x41\"\n", "1:5: ", "unsupported escape '\\x'");
		CHECK_ERR("a: \"\\u00e9\"\n", "1:5: ", "unsupported escape '\\u'");
		CHECK_ERR("a: \"ok\\0\"\n", "1:7: ", "\\0");
		CHECK_ERR("a: \"\\ \"\n", "1:5: ", "unsupported escape");
	}

	TEST("refused: text after a closing quote or bracket") {
		CHECK_ERR("a: \"x\" y\n", "1:8: ", "unexpected text after the value");
		CHECK_ERR("a: \"x\"#c\n", "1:7: ", "unexpected text after the value");
		CHECK_ERR("a: 'x': y\n", "1:7: ", "unexpected text after the value");
		CHECK_ERR("a: [x] y\n", "1:8: ", "unexpected text after the value");
		CHECK_ERR("a: {} y\n", "1:7: ", "unexpected text after the value");
	}

	TEST("refused: flow collections not closed on their line") {
		CHECK_ERR("a: [x, y\n  , z]\n", "1:4: ", "unterminated flow sequence: ']' must be on the same line");
		CHECK_ERR("a: {x: 1\n}\n", "1:4: ", "unterminated flow mapping: '}' must be on the same line");
		CHECK_ERR("a: [x, y # c ]\n", "1:4: ", "unterminated flow sequence");
		CHECK_ERR("a: [", "1:4: ", "unterminated flow sequence");
		CHECK_ERR("a: {x: # c}\n", "1:4: ", "unterminated flow mapping");
		CHECK_ERR("a: [x y", "1:4: ", "unterminated flow sequence");
	}

	TEST("refused: nested or malformed flow collections") {
		CHECK_ERR("a: [x, [y]]\n", "1:8: ", "nested flow collections are not supported");
		CHECK_ERR("a: {x: {y: 1}}\n", "1:8: ", "nested flow collections");
		CHECK_ERR("a: [{x: 1}]\n", "1:5: ", "nested flow collections");
		CHECK_ERR("a: {[x]: 1}\n", "1:5: ", "nested flow collections");
		CHECK_ERR("a: [x[1]]\n", "1:6: ", "quote the value");
		CHECK_ERR("a: [x, y: z]\n", "1:9: ", "a list item must be a single value");
		CHECK_ERR("a: {x}\n", "1:6: ", "expected 'key: value' in the flow mapping");
		CHECK_ERR("a: {x: y: z}\n", "1:9: ", "cannot contain ': '");
		CHECK_ERR("a: [\"x\" y]\n", "1:9: ", "expected ',' or ']'");
		CHECK_ERR("a: [x, - y]\n", "1:8: ", "a list item must be a single value");
	}

	TEST("refused: empty flow entries") {
		CHECK_ERR("a: [x,,y]\n", "1:7: ", "empty entry");
		CHECK_ERR("a: [,]\n", "1:5: ", "empty entry");
		CHECK_ERR("a: {x: 1,,}\n", "1:10: ", "empty entry");
	}

	TEST("refused: list items that are not single values") {
		CHECK_ERR("l:\n  - k: v\n", "2:6: ", "a list item must be a single value");
		CHECK_ERR("l:\n  - - a\n", "2:5: ", "a list item must be a single value");
		CHECK_ERR("l:\n  - [a]\n", "2:5: ", "a list item must be a single value");
		CHECK_ERR("l:\n  - {a: b}\n", "2:5: ", "a list item must be a single value");
		CHECK_ERR("l:\n  - \"k\": v\n", "2:8: ", "a list item must be a single value");
		CHECK_ERR("l:\n  - k:\n", "2:6: ", "a list item must be a single value");
		CHECK_ERR("l:\n  -\n    k: v\n", "3:5: ", "inconsistent indentation");
	}

	TEST("refused: a top level that is not a mapping") {
		CHECK_ERR("- a\n- b\n", "1:1: ", "the top level must be a mapping of key: value lines");
		CHECK_ERR("[a, b]\n", "1:1: ", "the top level must be a mapping");
		CHECK_ERR("# c\n{a: b}\n", "2:1: ", "the top level must be a mapping");
		CHECK_ERR("\"just a string\"\n", "1:16: ", "expected ': ' after the quoted key");
	}

	TEST("refused: lists in the wrong place") {
		CHECK_ERR("a: - b\n", "1:4: ", "a list cannot start on its key's line");
		CHECK_ERR("a: 1\n- x\n", "2:1: ", "unexpected list item");
		CHECK_ERR("l:\n  - a\n  b: 1\n", "3:3: ", "expected '- item' like line 2");
	}

	TEST("refused: ': ' in a plain value") {
		CHECK_ERR("a: b: c\n", "1:5: ", "cannot contain ': '");
		CHECK_ERR("a: b:\n", "1:5: ", "cannot contain ': '");
	}

	/* ---- robustness: ASan/UBSan watch these ---- */

	TEST("every truncation of the examples") {
		char *crlf = replace_all(spec_example, "\n", "\r\n");

		parse_prefixes(spec_example, strlen(spec_example));
		parse_prefixes(kitchen_sink, strlen(kitchen_sink));
		parse_prefixes(readme_sync, strlen(readme_sync));
		if (crlf)
			parse_prefixes(crlf, strlen(crlf));
		free(crlf);
		root = parse_n(kitchen_sink, strlen(kitchen_sink) - 1);	/* cut in "\r\n" */
		CHECK(root != NULL);
		yaml_free(root);
	}

	TEST("random bytes do not crash") {
		static const char alphabet[] = "a:- #\"'[]{},\n\t\\~&*!|>?%@`.\r\n  \n:x";
		char buf[300];
		int i, j, len;

		for (i = 0; i < 20000; i++) {
			len = (int)(rng() % sizeof buf);
			for (j = 0; j < len; j++)
				buf[j] = i % 4 == 0 ? (char)rng() :
				    alphabet[rng() % (sizeof alphabet - 1)];
			yaml_free(parse_n(buf, (size_t)len));
		}
		CHECK(1);
	}

	TEST("mutated examples do not crash") {
		size_t len = strlen(kitchen_sink);
		char *buf = malloc(len);
		static const char tokens[] = "\"'[]{}:#- \n\t\\|&\r~,x\0";
		int i, k;

		CHECK(buf != NULL);

		for (i = 0; buf && i < 5000; i++) {
			memcpy(buf, kitchen_sink, len);
			for (k = 0; k < 1 + i % 3; k++)
				buf[rng() % len] = tokens[rng() % (sizeof tokens - 1)];
			yaml_free(parse_n(buf, rng() % (len + 1)));
		}
		free(buf);
	}

	TEST("deep nesting and long lines are refused or parsed, not crashed") {
		size_t n = 100000, i;
		char *doc = malloc(n * 3);

		CHECK(doc != NULL);
		if (doc) {
			memset(doc, '[', n);
			CHECK_ERR_N(doc, n, "1:1: ", "the top level must be a mapping");
			memcpy(doc, "a: ", 3);
			CHECK_ERR_N(doc, n, "1:5: ", "nested flow collections");
			/* a staircase of keys, each one space deeper */
			{
				char *o = doc;

				for (i = 0; i < 200; i++) {
					memset(o, ' ', i);
					o += i;
					memcpy(o, "k:\n", 3);
					o += 3;
				}
				CHECK_ERR_N(doc, (size_t)(o - doc), "33:33: ", "nesting too deep");
			}
			/* one long line */
			memset(doc, 'x', n);
			CHECK_ERR_N(doc, n, "1:1: ", "expected 'key: value'");
			memcpy(doc + n, ": v", 3);
			root = parse_n(doc, n + 3);
			CHECK(root && strlen(root->child->key) == n);
			yaml_free(root);
		}
		free(doc);
	}

	UNIT_EXIT();
}
