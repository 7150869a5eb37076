/* The one inotify instance of the daemon ("the hub").
 *
 * Every watcher's watches are on this one instance, opened on first use.
 * The kernel gives the same watch descriptor for the same directory
 * however often it is added, so two syncs watching one directory (one
 * source, two targets; or nested sources) share it: the hub keeps which
 * clients hold each descriptor, in a hash table of (wd, client) pairs,
 * and removes the kernel's watch only when the last one lets go.
 *
 * Events are read one bounded batch per wake-up, each handed to every
 * client holding its descriptor (a queue overflow to every client);
 * after the batch, each client that got any has its end of batch, once.
 * The instance never closes while poni runs: one fd for any number of
 * syncs. When it cannot be created, ino_add says so once in the log and
 * tries again on each later call; the watchers treat that like the
 * watch limit (full syncs until it can be watched). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "format.h"
#include "inotify.h"
#include "log.h"
#include "loop.h"
#include "util.h"

struct pair {
	int wd;			/* 0: an empty slot (the kernel's start at 1) */
	struct ino_client *c;
};

static struct {
	struct loop_fd fd;	/* fd.fd: the instance, or -1 */
	int failing;		/* the last try to create it failed */
	struct pair *slots;	/* open addressing, linear probing */
	size_t cap, count;	/* cap: a power of two, or 0 */
	struct ino_client *clients, *touched;
	struct ino_client **who;	/* the holders of one event's wd */
	size_t nwho, capwho;
} hub = { .fd = { .fd = -1 } };

/* --- the table of (wd, client) ---------------------------------------------- */

static size_t home(int wd)
{
	uint32_t h = (uint32_t)wd * 2654435761u;

	return (size_t)(h ^ h >> 16) & (hub.cap - 1);
}

/* The slot of (wd, c) or, with c NULL, of wd's first pair; else the
 * empty slot that ends its probe. */
static size_t slot_of(int wd, const struct ino_client *c)
{
	size_t i = home(wd);

	while (hub.slots[i].wd && !(hub.slots[i].wd == wd && (!c || hub.slots[i].c == c)))
		i = (i + 1) & (hub.cap - 1);
	return i;
}

static void grow(void)
{
	struct pair *old = hub.slots;
	size_t i, oldcap = hub.cap;

	hub.cap = hub.cap ? hub.cap * 2 : 64;
	hub.slots = xcalloc(hub.cap, sizeof *hub.slots);
	for (i = 0; i < oldcap; i++)
		if (old[i].wd)
			hub.slots[slot_of(old[i].wd, old[i].c)] = old[i];
	free(old);
}

/* Add (wd, c) unless it is there. */
static void hold(int wd, struct ino_client *c)
{
	size_t i;

	if ((hub.count + 1) * 2 > hub.cap)
		grow();
	i = slot_of(wd, c);
	if (hub.slots[i].wd)
		return;
	hub.slots[i].wd = wd;
	hub.slots[i].c = c;
	hub.count++;
	c->held++;
}

/* Empty slot i, shifting back what its probe passed over. */
static void unhold_at(size_t i)
{
	size_t j = i, mask = hub.cap - 1;

	hub.slots[i].c->held--;
	hub.count--;
	for (;;) {
		size_t k;
		j = (j + 1) & mask;
		if (!hub.slots[j].wd)
			break;
		k = home(hub.slots[j].wd);
		/* j stays unless its home is not cyclically in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			hub.slots[i] = hub.slots[j];
			i = j;
		}
	}
	hub.slots[i].wd = 0;
	hub.slots[i].c = NULL;
}

static int held(int wd)
{
	return hub.cap && hub.slots[slot_of(wd, NULL)].wd == wd;
}

/* The holders of wd into hub.who (callbacks may change the table). */
static void holders(int wd)
{
	size_t i;

	hub.nwho = 0;
	if (!hub.cap)
		return;
	for (i = home(wd); hub.slots[i].wd; i = (i + 1) & (hub.cap - 1)) {
		if (hub.slots[i].wd != wd)
			continue;
		if (hub.nwho == hub.capwho)
			hub.who = xrealloc(hub.who, (hub.capwho = hub.capwho ? hub.capwho * 2 : 8) *
			    sizeof *hub.who);
		hub.who[hub.nwho++] = hub.slots[i].c;
	}
}

/* --- events -------------------------------------------------------------------- */

static void deliver(struct ino_client *c, const struct inotify_event *ev)
{
	if (!c->touched) {
		c->touched = 1;
		c->next_touched = hub.touched;
		hub.touched = c;
	}
	c->event(c, ev);
}

static void dispatch(const struct inotify_event *ev)
{
	struct ino_client *c;
	size_t i;

	if (ev->mask & IN_Q_OVERFLOW) {
		for (c = hub.clients; c; c = c->next)
			deliver(c, ev);
		return;
	}
	holders(ev->wd);
	/* the kernel has dropped the watch (its directory is gone, or the
	 * last holder removed it): forget it before anyone can add again */
	if (ev->mask & IN_IGNORED)
		while (held(ev->wd))
			unhold_at(slot_of(ev->wd, NULL));
	for (i = 0; i < hub.nwho; i++)
		deliver(hub.who[i], ev);
}

/* One read of this buffer per wake-up: at most some 500 events, so that
 * a writer faster than poni cannot keep the loop from its signals and
 * timers; poll() reports the fd again at once while events are left.
 * Nothing needs the queue emptied: each client's end of batch (a sweep,
 * a compaction) is as right between any two events. */
#define READ_SIZE 16384

static void on_readable(struct loop_fd *f, short revents)
{
	char buf[READ_SIZE] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct ino_client *c;
	ssize_t len;
	char *p;

	(void)revents;
	while ((len = read(f->fd, buf, sizeof buf)) < 0 && errno == EINTR)
		;
	for (p = buf; len > 0 && p < buf + len;
	     p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len)
		dispatch((const struct inotify_event *)p);
	while ((c = hub.touched)) {
		hub.touched = c->next_touched;
		c->touched = 0;
		c->batch_end(c);
	}
}

/* --- the instance -------------------------------------------------------------- */

long ino_sysctl(const char *name)
{
	char path[64], value[32];
	long limit = -1;
	ssize_t len, k;
	int fd;

	format(path, sizeof path, "/proc/sys/fs/inotify/%s", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	len = read(fd, value, sizeof value - 1);
	close(fd);
	for (k = 0; k < len && value[k] >= '0' && value[k] <= '9' && limit < LONG_MAX / 10 - 1; k++)
		limit = (limit < 0 ? 0 : limit * 10) + (value[k] - '0');
	return limit;
}

/* Why inotify_init1 failed with err, naming the limit that was hit. */
static void tell_failure(int err)
{
	struct rlimit rl;
	int probe;

	if (err == EMFILE) {
		/* the same errno for both limits: is an fd to be had? */
		probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (probe >= 0) {
			close(probe);
			log_error("cannot create the inotify instance: this user has reached "
			    "fs.inotify.max_user_instances (now %ld) with other programs' "
			    "instances; raise it (poni needs one for all its syncs)",
			    ino_sysctl("max_user_instances"));
		} else {
			log_error("cannot create the inotify instance: poni has reached its "
			    "limit of open files (ulimit -n, now %lld); raise it",
			    getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long long)rl.rlim_cur : -1LL);
		}
	} else if (err == ENFILE) {
		log_error("cannot create the inotify instance: the system's file table is "
		    "full (fs.file-max)");
	} else {
		log_error("cannot create the inotify instance: %s", strerror(err));
	}
	log_warn("nothing is watched until it can be: every sync runs periodic full "
	    "syncs meanwhile and tries again");
}

static int open_instance(void)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0) {
		int err = errno;
		if (!hub.failing)
			tell_failure(err);
		hub.failing = 1;
		errno = err;
		return -1;
	}
	if (hub.failing)
		log_info("the inotify instance is created: watching again");
	hub.failing = 0;
	hub.fd.fd = fd;
	hub.fd.events = POLLIN;
	hub.fd.cb = on_readable;
	loop_fd_add(&hub.fd);
	return 0;
}

int ino_ready(void)
{
	return hub.fd.fd >= 0;
}

/* --- clients --------------------------------------------------------------------- */

void ino_join(struct ino_client *c)
{
	c->prev = NULL;
	c->next = hub.clients;
	if (hub.clients)
		hub.clients->prev = c;
	hub.clients = c;
	c->touched = 0;
	c->held = 0;
}

int ino_add(struct ino_client *c, const char *path, uint32_t lookup)
{
	int wd;

	if (hub.fd.fd < 0 && open_instance() < 0)
		return -1;
	if ((wd = inotify_add_watch(hub.fd.fd, path, INO_EVENTS | lookup)) >= 0)
		hold(wd, c);
	return wd;
}

void ino_rm(struct ino_client *c, int wd)
{
	size_t i;

	if (!hub.cap || hub.slots[i = slot_of(wd, c)].wd != wd)
		return;
	unhold_at(i);
	if (!held(wd))
		inotify_rm_watch(hub.fd.fd, wd);
}

void ino_leave(struct ino_client *c)
{
	struct ino_client **p;
	int *wds;
	size_t i, n = 0;

	/* what its owner did not remove itself (a tree forgotten whole) */
	if (c->held) {
		wds = xmalloc(c->held * sizeof *wds);
		for (i = 0; i < hub.cap; i++)
			if (hub.slots[i].wd && hub.slots[i].c == c)
				wds[n++] = hub.slots[i].wd;
		for (i = 0; i < n; i++)
			ino_rm(c, wds[i]);
		free(wds);
	}
	for (p = &hub.touched; *p; p = &(*p)->next_touched)
		if (*p == c) {
			*p = c->next_touched;
			break;
		}
	if (c->prev)
		c->prev->next = c->next;
	else
		hub.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

void ino_close(void)
{
	if (hub.fd.fd >= 0) {
		loop_fd_remove(&hub.fd);
		close(hub.fd.fd);
		hub.fd.fd = -1;
	}
	free(hub.slots);
	free(hub.who);
	hub.slots = NULL;
	hub.who = NULL;
	hub.cap = hub.count = hub.capwho = hub.nwho = 0;
	hub.failing = 0;
}
