/* poni -s: ask the running poni of a config for the state of its syncs.
 *
 * The daemon listens on an abstract unix socket named after its config
 * file ("@poni/" and a hash of the config's real path): nothing on any
 * file system (no runtime directory to agree on between systemd, procd
 * and BusyBox init, no write to flash), gone when poni is. A client is
 * answered only when it runs as root or as poni's own user. The answer
 * is one line per sync of KEY=VALUE words, values in shell quotes; poni
 * -s prints it as is (--status=sh) or as a sentence per sync. */
#ifndef PONI_STATUS_H
#define PONI_STATUS_H

#include <stdbool.h>

#include "util.h"

/* Serve the status of config_path's syncs: fill writes the lines. A
 * second poni of the same config is told in the log and serves none. */
void status_serve(const char *config_path, void (*fill)(struct buf *out));
void status_stop(void);

/* poni -s: print the status; returns poni -s's exit status: 0 when
 * every sync is in step or about to be, 1 when one is failing or
 * waiting, 3 when no poni runs with that config. */
int status_query(const char *config_path, bool machine);
/* Whether a state word means failing or waiting (poni -s exits 1). */
bool status_state_bad(const char *state);

/* For the status lines: VALUE as one shell word in single quotes,
 * control and non-ASCII bytes escaped as in the log. */
void status_add_value(struct buf *out, const char *key, const char *value);

#endif
