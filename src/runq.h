/* The limit on rsyncs running at once, across all syncs (max_runs).
 *
 * A sync takes a slot when a run of its is about to start and keeps it
 * until it stops running (a run made of several rsyncs in a row keeps
 * it throughout). With every slot taken it queues; a slot let go passes
 * at once to the head of the queue, whose wake is called. First come,
 * first served: a sync that changes all the time queues behind the
 * others after each run, so no sync starves. */
#ifndef PONI_RUNQ_H
#define PONI_RUNQ_H

#include <stdbool.h>
#include <stddef.h>

/* Embedded in its owner (container_of finds it again); zeroed. */
struct runq_slot {
	struct runq_slot *next;	/* the queue's */
	bool held;
	bool queued;
	/* The slot has passed to this queued one: start the run now. */
	void (*wake)(struct runq_slot *q);
};

/* Whether the run may start: true with a slot held (now or already),
 * false when queued (or still queued). */
bool runq_take(struct runq_slot *q);
/* The run is over, or the turn is not wanted any more: let go of the
 * slot (the next in the queue gets it) or leave the queue. */
void runq_give(struct runq_slot *q);
/* Where it stands in the queue (1: next), 0 if not queued; and how many
 * wait. */
size_t runq_position(const struct runq_slot *q);
size_t runq_waiting(void);
/* The limit: a higher one starts queued runs at once; a lower one lets
 * what runs finish. */
void runq_set_max(int max);
/* poni stops: nothing queued starts any more. */
void runq_close(void);

#endif
