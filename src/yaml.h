/* The YAML subset of poni's configuration file: parsed into a small tree.
 * See poni.conf(5) for what is accepted. The parser never reads past its
 * input and refuses what it does not understand with a line and column. */
#ifndef PONI_YAML_H
#define PONI_YAML_H

#include <stddef.h>

enum ynode_type {
	YN_NULL,	/* ~, null, empty value */
	YN_SCALAR,	/* plain or quoted text, in value */
	YN_SEQ,		/* block or flow sequence: entries in child */
	YN_MAP		/* block or flow mapping: entries in child, each with key */
};

struct ynode {
	enum ynode_type type;
	char *key;		/* the entry's key when it sits in a mapping */
	int key_line, key_col;
	char *value;		/* YN_SCALAR: the text, escapes resolved */
	int quoted;		/* the scalar was quoted ("~" is then text) */
	int line, col;		/* where the value starts (1-based) */
	struct ynode *child;	/* YN_SEQ, YN_MAP: first entry */
	struct ynode *next;	/* next entry of the parent */
};

struct yaml_error {
	int line, col;		/* col 0: no useful column */
	char msg[256];
};

/* Parse len bytes of buf. Returns the root node (YN_NULL for an empty
 * document), or NULL with *err filled. */
struct ynode *yaml_parse(const char *buf, size_t len, struct yaml_error *err);
void yaml_free(struct ynode *root);

#endif
