/* The sync engine: one struct sync per configured sync, moving between
 * idle -> pending -> running -> (idle | pending | backing off), and
 * waiting while its source or its local target is not there. Each sync
 * registers its timer and its rsync (stderr and pid) with the event loop
 * itself, and its watcher joins the one inotify instance (inotify.h);
 * the daemon (daemon.c) makes them, starts them, retires them on a
 * reload and stops them. */
#ifndef PONI_SYNC_H
#define PONI_SYNC_H

#include <stdbool.h>

#include "config.h"
#include "util.h"

struct sync;

/* A new sync taking over *conf (which is left zeroed). settled is called
 * after each step that the loop gave the sync (inotify events, its
 * timer, the end of its rsync): the daemon sees there whether --once is
 * done and whether a retired sync can be freed. */
struct sync *sync_new(struct sync_conf *conf, bool dry_run, bool once,
		      void (*settled)(struct sync *s));
/* Only when its rsync does not run. */
void sync_free(struct sync *s);
const struct sync_conf *sync_conf(const struct sync *s);
/* Start watching (unless once) and schedule the initial sync. */
void sync_start(struct sync *s);
/* Removed from the config: stop watching, stop its rsync (SIGTERM). */
void sync_retire(struct sync *s);
bool sync_retired(const struct sync *s);
/* Its rsync runs. */
bool sync_running(const struct sync *s);
/* Its rsync runs, or a run is due: --once waits for it. */
bool sync_busy(const struct sync *s);
/* It ran, and its last run succeeded: --once's exit status. */
bool sync_succeeded(const struct sync *s);
/* The mount table changed: check the source and the target again. */
void sync_on_mounts(struct sync *s);
/* SIGUSR2: a full run now (a waiting sync looks again at once). */
void sync_force_full(struct sync *s);
/* poni stops: stop watching, run what is pending now and retry
 * nothing; the ssh master is let go once no run needs it. */
void sync_stop(struct sync *s);
/* Signal its running rsync's process group. */
void sync_kill(struct sync *s, int sig);
/* poni stops: log what was left unsynced, and why. */
void sync_report_unsynced(const struct sync *s);
/* Log one line of state for SIGUSR1. */
void sync_log_status(const struct sync *s);
/* Its line for poni -s (see status.h): sync, source, target, state,
 * since, last_ok, last_error, pending. */
void sync_status_line(const struct sync *s, struct buf *out);

#endif
