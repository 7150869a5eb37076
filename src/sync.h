/* The sync engine: one struct sync per configured sync, moving between
 * idle -> pending -> running -> (idle | pending | backing off), and
 * waiting while its source does not exist. The event loop feeds it
 * changes, timer expiries and child exits. */
#ifndef PONI_SYNC_H
#define PONI_SYNC_H

#include <stdbool.h>

#include "config.h"
#include "spawn.h"
#include "watch.h"

enum sync_state {
	SYNC_IDLE,	/* in step with the source */
	SYNC_PENDING,	/* a change seen: a run is due at "due" */
	SYNC_RUNNING,	/* rsync runs */
	SYNC_BACKOFF,	/* the last run failed: retry at "due" */
	SYNC_WAITING	/* the source does not exist: look again at "due" */
};

#define SYNC_NO_DUE (-1LL)

struct sync {
	struct sync_conf *conf;
	struct watcher *watcher;	/* NULL in --once mode or while waiting */
	char *label;		/* "SOURCE -> TARGET", escaped for the log */
	enum sync_state state;
	long long due;		/* monotonic ms, or SYNC_NO_DUE */
	bool dirty;		/* changed while running: one more run */
	bool source_gone;	/* seen by the watcher: wait for it */
	long long dirty_since;
	struct proc proc;
	long long run_started;
	int failures;		/* in a row, for the back-off */
	bool dry_run;
	bool once;		/* --once: one run, no watching */
	int runs;		/* finished runs */
	bool last_ok;
};

void sync_init(struct sync *s, struct sync_conf *conf, bool dry_run, bool once);
/* Start watching (unless once) and schedule the initial sync. */
void sync_start(struct sync *s, long long now);
/* The watcher's callback: ctx is the struct sync. */
watch_fn sync_on_watch;
/* Called by the loop when now >= s->due. */
void sync_on_due(struct sync *s, long long now);
/* Called by the loop when the sync's rsync was reaped. */
void sync_on_exit(struct sync *s, int status, long long now);
/* Stop watching; a running rsync keeps running. */
void sync_stop_watching(struct sync *s);
void sync_free(struct sync *s);

#endif
