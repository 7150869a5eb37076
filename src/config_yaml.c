/* The YAML front end: walks the tree of yaml.c and feeds the config
 * builder (section, key, value, line), the same calls the INI front end
 * makes. Knows the file's shape: log, log_level, defaults, sync. */
#include <string.h>

#include "config_yaml.h"
#include "yaml.h"

/* "nothing here": ~, null, empty, [] or {} */
static int is_nothing(const struct ynode *n)
{
	return n->type == YN_NULL ||
	    ((n->type == YN_SEQ || n->type == YN_MAP) && !n->child);
}

static const char *type_name(const struct ynode *n)
{
	return n->type == YN_SEQ ? "a list" : n->type == YN_MAP ? "a mapping" : "a value";
}

/* One key of a sync or of defaults. */
static int feed_key(struct config_builder *b, const struct ynode *e)
{
	const struct ynode *item;

	if (is_nothing(e))
		return config_set(b, e->key, NULL, e->key_line);
	if (e->type == YN_SCALAR)
		return config_set(b, e->key, e->value, e->line);
	if (e->type == YN_SEQ && config_is_list(e->key)) {
		for (item = e->child; item; item = item->next) {
			if (item->type != YN_SCALAR)
				return config_fail(b, item->line, item->col,
				    "%s: each pattern must be a plain or quoted string", e->key);
			if (config_set(b, e->key, item->value, item->line))
				return -1;
		}
		return 0;
	}
	/* Let the builder name an unknown key before the type complaint. */
	if (config_set(b, e->key, NULL, e->key_line))
		return -1;
	return config_fail(b, e->line, e->col, "%s: expected a single value, not %s",
	    e->key, type_name(e));
}

static int feed_body(struct config_builder *b, const struct ynode *body, const char *what)
{
	const struct ynode *e;

	if (is_nothing(body))
		return 0;
	if (body->type != YN_MAP)
		return config_fail(b, body->line, body->col,
		    "%s must be a mapping of 'key: value' lines (or [] for all defaults)", what);
	for (e = body->child; e; e = e->next)
		if (feed_key(b, e))
			return -1;
	return 0;
}

static int feed_syncs(struct config_builder *b, const struct ynode *syncs)
{
	const struct ynode *s;

	if (is_nothing(syncs))
		return config_fail(b, syncs->line, 0,
		    "sync is empty: add at least one source path (or name) under it");
	if (syncs->type != YN_MAP)
		return config_fail(b, syncs->line, syncs->col,
		    "sync must be a mapping: one source path (or name) per key");
	for (s = syncs->child; s; s = s->next) {
		if (config_begin(b, SEC_SYNC, s->key, s->key_line))
			return -1;
		if (feed_body(b, s, "a sync"))
			return -1;
	}
	return 0;
}

/* log: FILE, or the upstream mapping form {destination: FILE, level: L}. */
static int feed_log(struct config_builder *b, const struct ynode *log)
{
	const struct ynode *e;

	if (log->type != YN_MAP || !log->child)
		return feed_key(b, log);
	for (e = log->child; e; e = e->next) {
		if (e->type != YN_SCALAR && !is_nothing(e))
			return config_fail(b, e->line, e->col, "log: %s must be a single value", e->key);
		if (strcmp(e->key, "destination") == 0) {
			if (config_set(b, "log", is_nothing(e) ? NULL : e->value, e->line))
				return -1;
		} else if (strcmp(e->key, "level") == 0) {
			if (config_set(b, "log_level", is_nothing(e) ? NULL : e->value, e->line))
				return -1;
		} else {
			return config_fail(b, e->key_line, e->key_col,
			    "log: unknown key '%s': use destination and level", e->key);
		}
	}
	return 0;
}

int config_yaml_feed(struct config_builder *b, const char *buf, size_t len)
{
	struct yaml_error err;
	struct ynode *root, *e;
	int rc = 0;

	if (!(root = yaml_parse(buf, len, &err)))
		return config_fail(b, err.line, err.col, "%s", err.msg);
	if (root->type != YN_MAP && root->type != YN_NULL) {
		rc = config_fail(b, root->line, 0,
		    "the file must be a mapping of 'key: value' lines, with a 'sync:' section");
		goto out;
	}
	for (e = root->child; e && !rc; e = e->next) {
		config_begin(b, SEC_TOP, NULL, e->key_line);
		if (strcmp(e->key, "sync") == 0) {
			rc = feed_syncs(b, e);
		} else if (strcmp(e->key, "defaults") == 0) {
			config_begin(b, SEC_DEFAULTS, NULL, e->key_line);
			rc = feed_body(b, e, "defaults");
		} else if (strcmp(e->key, "log") == 0) {
			rc = feed_log(b, e);
		} else {
			rc = feed_key(b, e);
		}
	}
out:
	yaml_free(root);
	return rc;
}
