/* What poni asks of rsync: the argv of a run, and what its exit codes
 * mean. Pure functions, tested by tests/unit_rsync.c. */
#ifndef PONI_RSYNC_H
#define PONI_RSYNC_H

#include <stdbool.h>

#include "config.h"

/* How one run is made. */
struct rsync_run {
	bool from_list;		/* the changed paths, NUL-separated, on stdin
				 * (--files-from=- --from0), relative to the
				 * base that rsync_list_base gives; else a
				 * full run of the whole source */
	bool flat;		/* from_list without -r: the listed names only */
	bool ignore_times;	/* a full run of a file known to have changed */
	bool quick;		/* from_list: paths whose attributes changed (or
				 * that were renamed on the target): compared by
				 * size and time, as a full run does, not sent
				 * whole */
	bool size_only;		/* quick: by size alone (a file whose time
				 * alone changed is not sent: its time is set) */
	bool guard;		/* delete nothing (--max-delete=0) */
	bool via_link;		/* the source "/a/b" is a symbolic link: a full
				 * run syncs what it points to as b, as a run
				 * of listed paths below it does */
	int modify_window;	/* full and quick runs: seconds, -1 for
				 * nanoseconds */
	const char *control;	/* an ssh master's socket, or NULL */
};

/* The argv for a run of s: NULL-terminated, free with argv_free. */
char **rsync_argv(const struct sync_conf *s, const struct rsync_run *r);
/* rsync_opts as given to rsync: without P, whose --partial would leave
 * a partial file in place of a good copy (and --progress is discarded). */
char *rsync_flags(const char *opts);
/* The directory the listed paths are relative to, and the prefix that
 * turns a path relative to the source into one relative to that base:
 * "/a/b/" gives "/a/b/" and ""; "/a/b" gives "/a/" and "b/". */
char *rsync_list_base(const struct sync_conf *s, char **prefix);
void argv_free(char **argv);
/* transport rsyncd: rsync://[USER@]HOST:PORT/MODULE/PATH */
char *rsync_url(const struct sync_conf *s);

/* ssh (or dbclient) and its options for s: extra arguments come right
 * after the program; then host (after "--" for OpenSSH) and command,
 * each unless NULL. */
char **ssh_argv(const struct sync_conf *s, const char *const *extra, const char *host,
    const char *command);
/* Whether ssh is OpenSSH's (Dropbear's dbclient is not). */
bool ssh_is_openssh(const char *ssh);

/* "partial transfer due to error" for 23, and so on. */
const char *rsync_exit_meaning(int code);
/* Whether an rsync exit code counts as success (0, and 24: vanished). */
int rsync_exit_ok(int code);

/* Check rsync_opts (letters, then maybe long options after spaces):
 * NULL, or msg holding what is wrong (see rsync_options.c). */
const char *rsync_opts_check(const char *opts, char *msg, size_t msglen);
/* The length of its letters: the long options follow. */
size_t rsync_opts_letters(const char *opts);
/* The next of those long options after *p (moved on), as "--name" or
 * "--name=value" in arg; its length (>= size: too long for arg), 0 at
 * the end. */
size_t rsync_opts_next(const char **p, char *arg, size_t size);
/* Check one item of rsync_args, a long option: NULL, or msg. */
const char *rsync_arg_check(const char *arg, char *msg, size_t msglen);
/* Every long option rsync_arg_check knows, for tests: fn(name, whether
 * it takes a value); the refused ones too, less --no- forms of those. */
void rsync_options_each(void (*fn)(const char *name, bool value));

#endif
