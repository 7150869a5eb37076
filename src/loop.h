/* The event loop: one select() over the signal self-pipe, every sync's
 * inotify fd and every running rsync's stderr; timers from the syncs'
 * due times. */
#ifndef PONI_LOOP_H
#define PONI_LOOP_H

#include <stddef.h>

#include "sync.h"

/* Install the signal handlers and the self-pipe. 0, or -1 with errno. */
int loop_init(void);
/* Run until SIGTERM/SIGINT (or, with once, until every sync ran once).
 * Returns the exit status: 0, or 1 when a --once run failed. */
int loop_run(struct sync *syncs, size_t nsyncs, int once);

#endif
