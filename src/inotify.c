/* The one inotify instance of the daemon ("the hub").
 *
 * Every watcher's watches are on this one instance, opened on first use.
 * The kernel gives the same watch descriptor for the same directory
 * however often it is added, so two syncs watching one directory (one
 * source, two targets; or nested sources) share it: the hub keeps which
 * clients hold each descriptor (below: 8 bytes a watch) and removes the
 * kernel's watch only when the last one lets go.
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

/* A watch descriptor and its first holder; the others of a directory
 * that several clients watch are pairs in the extras. Entries are
 * sorted by wd: the kernel hands descriptors out in increasing order,
 * so a new one is appended (after they wrapped around past INT_MAX, one
 * is inserted in its place), and a forgotten one stays as a tombstone
 * until they are many. 8 bytes a watch, as most have one holder. */
struct entry {
	int wd;
	uint32_t id;		/* the first holder's id, | MORE when others
				 * hold it too; 0: forgotten */
};
#define MORE 0x80000000u

struct pair {
	int wd;			/* 0: an empty slot (the kernel's start at 1) */
	uint32_t id;
};

#define NONE SIZE_MAX

/* all zero at the start and after ino_close: in .bss */
static struct {
	struct loop_fd fd;	/* fd.fd: the instance, when open */
	int open;
	int failing;		/* the last try to create it failed */
	struct entry *e;	/* sorted by wd, tombstones included */
	size_t ne, cape, ndead;
	struct pair *slots;	/* the extras: open addressing, linear probing */
	size_t cap, count;	/* cap: a power of two, or 0 */
	struct ino_client **clients;	/* by id, [0] unused; NULL: a free id */
	size_t nclients;
	struct ino_client *touched;	/* got events in this batch */
	struct ino_client **who;	/* the holders of one event's wd */
	size_t nwho, capwho;
} hub;

/* --- the holders of each descriptor ----------------------------------------- */

/* The first index whose wd is not below wd. */
static size_t lower_bound(int wd)
{
	size_t lo = 0, hi = hub.ne;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (hub.e[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The index of wd's live entry, or NONE. */
static size_t entry_of(int wd)
{
	size_t i = lower_bound(wd);

	return i < hub.ne && hub.e[i].wd == wd && hub.e[i].id ? i : NONE;
}

static size_t home(int wd)
{
	uint32_t h = (uint32_t)wd * 2654435761u;

	return (size_t)(h ^ h >> 16) & (hub.cap - 1);
}

/* The extra (wd, id) or, with id 0, wd's first extra; NONE if none. */
static size_t extra_of(int wd, uint32_t id)
{
	size_t i;

	if (!hub.cap)
		return NONE;
	for (i = home(wd); hub.slots[i].wd; i = (i + 1) & (hub.cap - 1))
		if (hub.slots[i].wd == wd && (!id || hub.slots[i].id == id))
			return i;
	return NONE;
}

static void add_extra(int wd, uint32_t id)
{
	size_t i;

	if ((hub.count + 1) * 2 > hub.cap) {
		struct pair *old = hub.slots;
		size_t oldcap = hub.cap;
		hub.cap = hub.cap ? hub.cap * 2 : 16;
		hub.slots = xcalloc(hub.cap, sizeof *hub.slots);
		hub.count = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].wd)
				add_extra(old[i].wd, old[i].id);
		free(old);
	}
	for (i = home(wd); hub.slots[i].wd; i = (i + 1) & (hub.cap - 1))
		;
	hub.slots[i].wd = wd;
	hub.slots[i].id = id;
	hub.count++;
}

/* Empty slot i, shifting back what its probe passed over. */
static void remove_extra(size_t i)
{
	size_t j = i, mask = hub.cap - 1;

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
}

/* c holds wd (nothing when it does already). */
static void hold(int wd, struct ino_client *c)
{
	size_t i = entry_of(wd);

	if (i != NONE) {
		if ((hub.e[i].id & ~MORE) == c->id || extra_of(wd, c->id) != NONE)
			return;
		add_extra(wd, c->id);
		hub.e[i].id |= MORE;
		c->held++;
		return;
	}
	i = hub.ne;
	if (i && hub.e[i - 1].wd >= wd) {
		/* only after the kernel's descriptors wrapped around */
		i = lower_bound(wd);
		if (hub.e[i].wd == wd) {	/* a tombstone: reuse it */
			hub.ndead--;
			goto fill;
		}
	}
	if (hub.ne == hub.cape) {
		hub.cape = hub.cape ? hub.cape * 2 : 64;
		hub.e = xrealloc(hub.e, hub.cape * sizeof *hub.e);
	}
	memmove(&hub.e[i + 1], &hub.e[i], (hub.ne - i) * sizeof *hub.e);
	hub.ne++;
fill:
	hub.e[i].wd = wd;
	hub.e[i].id = c->id;
	c->held++;
}

/* Drop the tombstones once they are half of the entries. */
static void compact(void)
{
	size_t i, n = 0;

	if (hub.ndead < 64 || hub.ndead < hub.ne / 2)
		return;
	for (i = 0; i < hub.ne; i++)
		if (hub.e[i].id)
			hub.e[n++] = hub.e[i];
	hub.ne = n;
	hub.ndead = 0;
}

/* Client id lets go of wd: 1, or 0 when it did not hold it. */
static int unhold(int wd, uint32_t id)
{
	size_t i = entry_of(wd), x;

	if (i == NONE)
		return 0;
	if ((hub.e[i].id & ~MORE) == id) {
		if (hub.e[i].id & MORE) {	/* the next holder comes first */
			x = extra_of(wd, 0);
			hub.e[i].id = hub.slots[x].id | MORE;
			remove_extra(x);
		} else {
			hub.e[i].id = 0;
			hub.ndead++;
		}
	} else if ((x = extra_of(wd, id)) != NONE) {
		remove_extra(x);
	} else {
		return 0;
	}
	if ((hub.e[i].id & MORE) && extra_of(wd, 0) == NONE)
		hub.e[i].id &= ~MORE;
	hub.clients[id]->held--;
	compact();
	return 1;
}

static void add_who(struct ino_client *c)
{
	if (hub.nwho == hub.capwho)
		hub.who = xrealloc(hub.who, (hub.capwho = hub.capwho ? hub.capwho * 2 : 8) *
		    sizeof *hub.who);
	hub.who[hub.nwho++] = c;
}

/* The holders of wd into hub.who (callbacks may change the table). */
static void holders(int wd)
{
	size_t i = entry_of(wd), x;

	hub.nwho = 0;
	if (i == NONE)
		return;
	add_who(hub.clients[hub.e[i].id & ~MORE]);
	if (!(hub.e[i].id & MORE))
		return;
	for (x = home(wd); hub.slots[x].wd; x = (x + 1) & (hub.cap - 1))
		if (hub.slots[x].wd == wd)
			add_who(hub.clients[hub.slots[x].id]);
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
	size_t i;

	if (ev->mask & IN_Q_OVERFLOW) {
		for (i = 1; i < hub.nclients; i++)
			if (hub.clients[i])
				deliver(hub.clients[i], ev);
		return;
	}
	holders(ev->wd);
	/* the kernel has dropped the watch (its directory is gone, or the
	 * last holder removed it): forget it before anyone can add again */
	if (ev->mask & IN_IGNORED)
		while ((i = entry_of(ev->wd)) != NONE)
			unhold(ev->wd, hub.e[i].id & ~MORE);
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
	hub.open = 1;
	hub.fd.fd = fd;
	hub.fd.events = POLLIN;
	hub.fd.cb = on_readable;
	loop_fd_add(&hub.fd);
	return 0;
}

int ino_ready(void)
{
	return hub.open;
}

/* --- clients --------------------------------------------------------------------- */

void ino_join(struct ino_client *c)
{
	size_t id = 1;

	while (id < hub.nclients && hub.clients[id])
		id++;
	if (id >= hub.nclients) {
		if (id == MORE)
			fatal("too many inotify clients");
		hub.clients = xrealloc(hub.clients, (id + 1) * sizeof *hub.clients);
		hub.clients[0] = NULL;
		hub.nclients = id + 1;
	}
	hub.clients[id] = c;
	c->id = (uint32_t)id;
	c->touched = 0;
	c->held = 0;
}

int ino_add(struct ino_client *c, const char *path, uint32_t lookup)
{
	int wd;

	if (!hub.open && open_instance() < 0)
		return -1;
	if ((wd = inotify_add_watch(hub.fd.fd, path, INO_EVENTS | lookup)) >= 0)
		hold(wd, c);
	return wd;
}

void ino_rm(struct ino_client *c, int wd)
{
	if (unhold(wd, c->id) && entry_of(wd) == NONE)
		inotify_rm_watch(hub.fd.fd, wd);
}

void ino_leave(struct ino_client *c)
{
	struct ino_client **p;
	int *wds;
	size_t i, n = 0;

	/* what its owner did not let go of itself (a tree forgotten whole) */
	if (c->held) {
		wds = xmalloc(c->held * sizeof *wds);
		for (i = 0; i < hub.ne && n < c->held; i++)
			if (hub.e[i].id && (hub.e[i].id & ~MORE) == c->id)
				wds[n++] = hub.e[i].wd;
		for (i = 0; i < hub.cap && n < c->held; i++)
			if (hub.slots[i].wd && hub.slots[i].id == c->id)
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
	hub.clients[c->id] = NULL;
}

void ino_close(void)
{
	if (hub.open) {
		loop_fd_remove(&hub.fd);
		close(hub.fd.fd);
	}
	free(hub.e);
	free(hub.slots);
	free(hub.clients);
	free(hub.who);
	memset(&hub, 0, sizeof hub);
}
