/* The configuration: what a sync is, and the builder that turns
 * (section, key, value, line) calls from a front end (YAML or INI, see
 * config_file.h) into a validated struct config. */
#ifndef PONI_CONFIG_H
#define PONI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/poni/config.yml"

/* max_runs: rsyncs running at once across all syncs. The default keeps
 * a small router's memory in bounds (see the README's behaviour
 * choices); 1000 is "no limit" in practice (each run holds a pipe in
 * poni and about three processes). */
#define MAX_RUNS_DEFAULT 4
#define MAX_RUNS_MAX 1000

enum transport { TRANSPORT_AUTO, TRANSPORT_SSH, TRANSPORT_LOCAL, TRANSPORT_RSYNCD };
enum host_key_policy { HOSTKEY_YES, HOSTKEY_ACCEPT_NEW, HOSTKEY_NO };

/* Each list (char **) is followed by its size_t count: config.c's key
 * table relies on it. */
struct sync_conf {
	char *name;		/* its key under "sync" */
	char *source;		/* source_path, or the name */
	char *remote_host;	/* NULL for a local copy */
	char *remote_user;	/* NULL: ssh's default */
	char *remote_path;	/* rsyncd: the path inside the module */
	char *priv_key;
	int port;		/* ssh's, or the rsync daemon's */
	char *module;		/* rsyncd: the daemon's module */
	char *password_file;	/* rsyncd: rsync's --password-file */
	char *rsync_opts;	/* short flags without the dash */
	char **rsync_args;	/* long options, each checked, as rsync gets them */
	size_t nrsync_args;
	long long interval_ms;
	long long retry_max_ms;	/* cap of the retry back-off */
	bool recurse;
	bool delete;
	bool initial_sync;
	enum transport transport;	/* resolved: SSH or LOCAL */
	char *ssh;
	char *rsync;
	enum host_key_policy strict_host_key;
	char *known_hosts;	/* NULL: ssh's default */
	char **exclude;		/* exclude's, then exclude_from's patterns */
	size_t nexclude;
	char *exclude_from;	/* a file of patterns (rsync's --exclude-from) */
	long long full_sync_ms;	/* periodic full run; 0: none */
	bool delete_guard;	/* no deleting from an empty source */
	int modify_window;	/* seconds for full runs; -1: automatic */
	bool simulate;		/* log each rsync command, run none */
	char **on_state;	/* argv run when it fails or recovers, or NULL */
	size_t non_state;
	int line;		/* where the sync starts in the file */
};

struct config {
	char *file;
	char *log;		/* stdout, stderr, syslog or a path */
	enum log_level log_level;
	int max_runs;		/* rsyncs at once, across all syncs */
	struct sync_conf *syncs;
	size_t nsyncs;
};

enum cfg_section { SEC_TOP, SEC_DEFAULTS, SEC_SYNC };

struct config_builder;

struct config_builder *config_builder_new(const char *file);
void config_builder_free(struct config_builder *b);

/* Start a section: SEC_TOP and SEC_DEFAULTS take no name; SEC_SYNC takes
 * the sync's key. Later config_set calls go to this section. */
int config_begin(struct config_builder *b, enum cfg_section sec,
		 const char *name, int line);
/* Set key to value in the current section. value NULL means "nothing
 * here" (the key's default; for a list, the empty list). A list key
 * (exclude) appends one pattern per call. Returns 0, or -1 with the
 * error recorded. */
int config_set(struct config_builder *b, const char *key,
	       const char *value, int line);
/* Record an error found by a front end: "FILE:LINE[:COL]: message".
 * Always returns -1. */
int config_fail(struct config_builder *b, int line, int col,
		const char *fmt, ...) PRINTF(4, 5);
const char *config_error(const struct config_builder *b);
/* Whether key takes a list (each config_set adds an item), which a
 * front end may write as a list of its own. */
bool config_is_list(const char *key);

/* Flags for config_finish and config_load. */
#define CONFIG_CHECK_FILES 1	/* priv_key: a readable file, private for OpenSSH */

/* Merge defaults into syncs, check required keys; NULL on error. */
struct config *config_finish(struct config_builder *b, int flags);
void config_free(struct config *c);
void sync_conf_clear(struct sync_conf *c);
/* Whether two syncs behave the same (their line may differ). */
bool sync_conf_equal(const struct sync_conf *a, const struct sync_conf *b);

/* "SOURCE -> TARGET" and the one-line summary poni -t prints. */
char *sync_target(const struct sync_conf *s);
char *sync_summary(const struct sync_conf *s);

#endif
