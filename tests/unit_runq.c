/* The run queue alone: slots up to the limit, first come first served,
 * a freed slot handed to the head of the queue (not to a newcomer),
 * leaving the queue, a wake that gives its slot back at once, the limit
 * raised and lowered, and the queue closed. */
#include "../src/runq.h"
#include "unit.h"

/* Each test's slots; a wake records who was woken, in order, and may
 * give the slot back at once ("nothing to do"). */
static struct runq_slot q[6];
static char woken[16];
static size_t nwoken;
static int give_back = -1;	/* the index whose wake gives back at once */

static void wake(struct runq_slot *s)
{
	int i = (int)(s - q);

	if (nwoken < sizeof woken - 1)
		woken[nwoken++] = (char)('0' + i);
	if (i == give_back)
		runq_give(s);
}

/* A wake that gives its turn back at once, counting how deep such
 * wakes nest. */
static int depth, max_depth;

static void give_at_once(struct runq_slot *s)
{
	if (++depth > max_depth)
		max_depth = depth;
	runq_give(s);
	depth--;
}

/* Give back every slot and leave the queue: a clean start, limit n. */
static void reset(int n)
{
	int i;

	runq_set_max(1000);
	for (i = 0; i < 6; i++) {
		runq_give(&q[i]);
		q[i].wake = wake;
	}
	for (i = 0; i < 6; i++)
		runq_give(&q[i]);
	runq_set_max(n);
	memset(woken, 0, sizeof woken);
	nwoken = 0;
	give_back = -1;
}

int main(void)
{
	int i;

	TEST("runq: up to max at once, the rest queued in order") {
		reset(2);
		CHECK(runq_take(&q[0]) && runq_take(&q[1]));
		CHECK(!runq_take(&q[2]) && !runq_take(&q[3]) && !runq_take(&q[4]));
		CHECK(runq_take(&q[0]));	/* held already */
		CHECK(!runq_take(&q[3]));	/* queued already: keeps its place */
		CHECK(runq_waiting() == 3);
		CHECK(runq_position(&q[2]) == 1 && runq_position(&q[3]) == 2 &&
		    runq_position(&q[4]) == 3 && runq_position(&q[0]) == 0);
		runq_give(&q[1]);
		CHECK_STR(woken, "2");
		CHECK(q[2].held && !q[2].queued && runq_waiting() == 2);
		runq_give(&q[0]);
		runq_give(&q[2]);
		runq_give(&q[3]);
		CHECK_STR(woken, "234");
		CHECK(runq_waiting() == 0);
	}
	TEST("runq: a freed slot goes to the queue, not to a newcomer") {
		reset(1);
		CHECK(runq_take(&q[0]));
		CHECK(!runq_take(&q[1]));
		runq_give(&q[0]);
		CHECK_STR(woken, "1");
		CHECK(!runq_take(&q[0]));	/* back at the end of the line */
		CHECK(runq_position(&q[0]) == 1);
	}
	TEST("runq: leaving the queue keeps the others' order") {
		reset(1);
		CHECK(runq_take(&q[0]));
		for (i = 1; i <= 4; i++)
			CHECK(!runq_take(&q[i]));
		runq_give(&q[2]);	/* in the middle */
		runq_give(&q[4]);	/* the tail */
		CHECK(runq_waiting() == 2 && !q[2].queued && !q[4].queued);
		CHECK(!runq_take(&q[4]));	/* a new tail after a removed one */
		runq_give(&q[0]);
		runq_give(&q[1]);
		runq_give(&q[3]);
		CHECK_STR(woken, "134");
	}
	TEST("runq: a wake that gives back at once passes the slot on") {
		reset(1);
		CHECK(runq_take(&q[0]));
		CHECK(!runq_take(&q[1]) && !runq_take(&q[2]));
		give_back = 1;
		runq_give(&q[0]);
		CHECK_STR(woken, "12");
		CHECK(q[2].held && !q[1].held && runq_waiting() == 0);
	}
	TEST("runq: a long queue of turns given back at once, without nesting") {
		static struct runq_slot many[5000];
		size_t k;

		reset(1);
		CHECK(runq_take(&q[0]));
		for (k = 0; k < 5000; k++) {
			many[k].wake = give_at_once;
			CHECK(!runq_take(&many[k]));
		}
		CHECK(!runq_take(&q[1]));
		depth = max_depth = 0;
		runq_give(&q[0]);
		CHECK(max_depth == 1);
		CHECK(q[1].held && runq_waiting() == 0);
		CHECK_STR(woken, "1");
	}
	TEST("runq: a higher limit starts queued ones, a lower one lets runs end") {
		reset(1);
		CHECK(runq_take(&q[0]));
		for (i = 1; i <= 4; i++)
			CHECK(!runq_take(&q[i]));
		runq_set_max(3);
		CHECK_STR(woken, "12");
		runq_set_max(1);
		CHECK(q[0].held && q[1].held && q[2].held);	/* not taken back */
		runq_give(&q[0]);
		runq_give(&q[1]);
		CHECK_STR(woken, "12");	/* still 1 held, over the limit of 1 */
		runq_give(&q[2]);
		CHECK_STR(woken, "123");
	}
	TEST("runq: closed, nothing queued starts and nothing new takes a slot") {
		reset(1);
		CHECK(runq_take(&q[0]));
		CHECK(!runq_take(&q[1]));
		runq_close();
		runq_give(&q[0]);
		CHECK(nwoken == 0 && q[1].queued);
		CHECK(!runq_take(&q[2]));
	}
	UNIT_EXIT();
}
