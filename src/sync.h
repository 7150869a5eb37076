/* The sync engine: one struct sync per configured sync, moving between
 * idle -> pending -> running -> (idle | pending | backing off), and
 * waiting while its source does not exist. The event loop feeds it
 * changes, timer expiries and child exits. */
#ifndef PONI_SYNC_H
#define PONI_SYNC_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "pathset.h"
#include "spawn.h"
#include "watch.h"

enum sync_state {
	SYNC_IDLE,	/* in step with the source */
	SYNC_PENDING,	/* a change seen: a run is due at "due" */
	SYNC_RUNNING,	/* rsync runs */
	SYNC_BACKOFF,	/* the last run failed: retry at "due" */
	SYNC_WAITING,	/* the source is not there: look again at "due" */
	SYNC_NO_TARGET	/* a local target is not there: look again at "due" */
};

#define SYNC_NO_DUE (-1LL)

/* A new regular file is held back until it is closed (or this long), so
 * that writing it gives one run, not one for the create and one for the
 * close; a file kept open (a log) is synced when the hold runs out. */
#define SYNC_HOLD_MS 1000
#define SYNC_MAX_HELD 64

struct held_file {
	char *path;
	long long until;
};

struct sync {
	struct sync_conf conf;	/* owned */
	struct watcher *watcher;	/* NULL in --once mode or while waiting */
	char *label;		/* "SOURCE -> TARGET", escaped for the log */
	const char *control;	/* the ssh master's socket, or NULL */
	enum sync_state state;
	long long due;		/* monotonic ms, or SYNC_NO_DUE */
	long long rescan_due;	/* watch limit fallback: next full sync */
	struct pathset pending;	/* what changed since the last run began */
	struct held_file held[SYNC_MAX_HELD];
	size_t nheld;
	bool dirty;		/* changed while running: one more run */
	long long dirty_since;
	bool source_gone;	/* seen by the watcher: wait for it */
	bool retired;		/* removed by a reload: freed once reaped */
	struct proc proc;
	long long run_started;
	int failures;		/* in a row, for the back-off */
	bool dry_run;
	bool once;		/* --once: one run, no watching */
	int runs;		/* finished runs */
	size_t run_paths;	/* paths listed for the run, 0: a full run */
	bool last_ok;
	time_t last_ok_time;	/* wall clock of the last success, or 0 */
	char *last_error;	/* the last failure, for SIGUSR1 */
	char *told;		/* why the sync waits, as last logged */
	time_t last_error_time;
	long long full_due;	/* the next periodic full run, or SYNC_NO_DUE */
	bool unknown;		/* what changed is not known: see the guard */
	bool full_next;		/* recurse: false: a full run after this one */
	long long retry_due;	/* a full run for paths that failed, or NO_DUE */
	bool guarded;		/* this run deletes nothing: the source is empty */
	bool stopping;		/* poni stops: flush, no retries */
	/* The file systems the source depends on and the watched one, as
	 * found when watching began (see mounts.h). */
	char **src_mounts;
	dev_t src_dev;
	ino_t src_ino;		/* 0 for a file source */
	bool file_source;
	bool via_link;		/* "/a/b" is a link: what it points to, as b */
	bool relinked;		/* the link was pointed elsewhere: a full run */
	/* A local target as the last successful run left it. */
	char **dst_mounts;	/* NULL until a run found it */
	dev_t dst_dev;
	ino_t dst_ino;
	int mtime_window;	/* its timestamps: -1 exact, else seconds */
};

/* A new sync taking over *conf (which is left zeroed). */
struct sync *sync_new(struct sync_conf *conf, bool dry_run, bool once);
void sync_free(struct sync *s);
/* Start watching (unless once) and schedule the initial sync. */
void sync_start(struct sync *s, long long now);
/* The watcher's callback: ctx is the struct sync. */
watch_fn sync_on_watch;
/* The earliest time the sync wants sync_on_due, or SYNC_NO_DUE. */
long long sync_next_due(const struct sync *s);
void sync_on_due(struct sync *s, long long now);
/* Called by the loop when the sync's rsync was reaped. */
void sync_on_exit(struct sync *s, int status, long long now);
/* Stop watching; a running rsync keeps running. */
void sync_stop_watching(struct sync *s);
/* Removed from the config: stop watching, stop its rsync. */
void sync_retire(struct sync *s);
/* The mount table changed: check the source and the target again. */
void sync_on_mounts(struct sync *s, long long now);
/* SIGUSR2: a full run now (a waiting sync looks again at once). */
void sync_force_full(struct sync *s, long long now);
/* poni stops: run what is pending now, and retry nothing. */
void sync_flush(struct sync *s, long long now);
/* poni stops: log what was left unsynced, and why. */
void sync_report_unsynced(const struct sync *s);
/* Log one line of state for SIGUSR1. */
void sync_log_status(const struct sync *s, long long now);

#endif
