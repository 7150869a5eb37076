/* The set of syncs that the config asks for: started together, changed
 * by a reload that keeps every unchanged sync running untouched, and
 * stopped within a bounded time. main.c hands it the signals. */
#ifndef PONI_DAEMON_H
#define PONI_DAEMON_H

#include <stdbool.h>

#include "config.h"

/* Start cfg's syncs (cfg is taken over and freed). With once, the loop
 * is ended when every sync has run once. */
void daemon_start(const char *config_path, struct config *cfg, bool dry_run, bool once,
		  bool verbose);
/* SIGHUP: read the config again and apply the difference; a bad config
 * changes nothing. The log is reopened (logrotate). */
void daemon_reload(void);
/* SIGUSR1: one line of state per sync. */
void daemon_status(void);
/* SIGUSR2: a full sync of every sync. */
void daemon_full_sync(void);
/* SIGTERM/SIGINT: no more watching; what is pending runs now; running
 * rsyncs get STOP_GRACE_MS, then SIGTERM, then SIGKILL; the ssh masters
 * stop once no run uses them. Ends the loop once every child is reaped. */
void daemon_stop(const char *why);
/* After the loop: log what was left unsynced, free everything. Returns
 * the exit status: 0, or 1 when a --once run failed. */
int daemon_finish(void);

#endif
