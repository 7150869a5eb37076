/* The event loop: one select() over the signal self-pipe, every sync's
 * inotify fd and every running rsync's stderr; timers from the syncs'
 * due times; SIGHUP reloads, SIGUSR1 reports, SIGTERM/SIGINT stop. */
#ifndef PONI_LOOP_H
#define PONI_LOOP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "sync.h"

struct daemon {
	const char *config_path;
	bool dry_run;
	bool once;
	bool verbose;		/* -v: debug whatever the config says */
	char *log;		/* the log in force, to see a reload change it */
	enum log_level log_level;
	struct sync **syncs;
	size_t nsyncs;
};

/* Install the signal handlers and the self-pipe. 0, or -1 with errno. */
int loop_init(void);
/* Take over cfg's syncs (cfg itself is freed). */
void daemon_set_config(struct daemon *d, struct config *cfg);
/* Run until SIGTERM/SIGINT (or, with once, until every sync ran once).
 * Returns the exit status: 0, or 1 when a --once run failed. */
int loop_run(struct daemon *d);
void daemon_free(struct daemon *d);

#endif
