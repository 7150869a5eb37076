/* What poni asks of rsync: the argv of a run, and what its exit codes
 * mean. Pure functions, tested by tests/unit_rsync.c. */
#ifndef PONI_RSYNC_H
#define PONI_RSYNC_H

#include "config.h"

/* The argv for a run of s: NULL-terminated, free with argv_free. */
char **rsync_argv(const struct sync_conf *s);
void argv_free(char **argv);

/* "partial transfer due to error" for 23, and so on. */
const char *rsync_exit_meaning(int code);
/* Whether an rsync exit code counts as success (0, and 24: vanished). */
int rsync_exit_ok(int code);

/* Check rsync_opts: returns NULL, or a message naming the bad letter. */
const char *rsync_opts_check(const char *opts, char *msg, size_t msglen);

#endif
