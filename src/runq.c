/* The run queue: a count of slots held and a FIFO of syncs waiting for
 * one (see runq.h). A slot let go is handed to the head of the queue
 * before anyone else can take it, so a sync whose timer fires just then
 * cannot pass the ones already waiting. */
#include "runq.h"

static int max = 1;
static int held;
static size_t waiting;
static struct runq_slot *head, **tail = &head;
static bool closed;

/* Hand free slots to the queue's head, one at a time. A wake may give
 * its slot back at once (nothing to do, rsync did not start): the loop
 * below passes it on, not a nested call, so that a long queue of such
 * turns does not grow the stack. */
static void pump(void)
{
	static bool pumping;
	struct runq_slot *q;

	if (pumping)
		return;
	pumping = true;
	while (!closed && held < max && head) {
		q = head;
		if (!(head = q->next))
			tail = &head;
		q->next = NULL;
		q->queued = false;
		waiting--;
		q->held = true;
		held++;
		q->wake(q);
	}
	pumping = false;
}

bool runq_take(struct runq_slot *q)
{
	if (q->held)
		return true;
	if (q->queued)
		return false;
	if (!head && held < max && !closed) {
		q->held = true;
		held++;
		return true;
	}
	q->queued = true;
	q->next = NULL;
	*tail = q;
	tail = &q->next;
	waiting++;
	return false;
}

void runq_give(struct runq_slot *q)
{
	struct runq_slot **p;

	if (q->queued) {
		for (p = &head; *p != q; p = &(*p)->next)
			;
		if (!(*p = q->next))
			tail = p;
		q->next = NULL;
		q->queued = false;
		waiting--;
	} else if (q->held) {
		q->held = false;
		held--;
		pump();
	}
}

size_t runq_position(const struct runq_slot *q)
{
	const struct runq_slot *p;
	size_t n = 1;

	if (!q->queued)
		return 0;
	for (p = head; p != q; p = p->next)
		n++;
	return n;
}

size_t runq_waiting(void)
{
	return waiting;
}

void runq_set_max(int n)
{
	max = n;
	pump();
}

void runq_close(void)
{
	closed = true;
}
