/* The event loop. One poll() over every registered fd (the table grows
 * as needed: no fd is limited by FD_SETSIZE), with the earliest timer
 * as its timeout; then the callbacks of the fds that poll reported, then
 * those of the timers that are due. Signal handlers only write the
 * signal's number to a non-blocking close-on-exec self-pipe, which is
 * one more registered fd: SIGCHLD reaps every child that exited and
 * hands it to its callback; the others go to the callbacks given to
 * loop_signal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

#define NSIGS 32		/* the signals loop_signal takes: the standard ones */

/* The registered fds and poll's table, index for index. */
static struct loop_fd **fds;
static struct pollfd *pfds;
static size_t nfds, capfds;
/* What the last poll reported, while its callbacks run; an fd removed
 * meanwhile is taken out of it. */
static struct ready {
	struct loop_fd *f;
	short revents;
} *ready;
static size_t nready;

static struct loop_timer *timers;	/* sorted by due, earliest first */
static struct loop_timer *expired;	/* due in this round, not run yet */
static struct loop_process *procs;
static bool done;

static int selfpipe[2] = { -1, -1 };
static struct loop_fd selfpipe_fd;
static void (*handlers[NSIGS])(int sig);

void loop_fd_add(struct loop_fd *f)
{
	if (f->slot) {		/* registered: take its events anew */
		pfds[f->slot - 1].events = f->events;
		return;
	}
	if (nfds == capfds) {
		capfds = capfds ? 2 * capfds : 16;
		fds = xrealloc(fds, capfds * sizeof *fds);
		pfds = xrealloc(pfds, capfds * sizeof *pfds);
		ready = xrealloc(ready, capfds * sizeof *ready);
	}
	fds[nfds] = f;
	pfds[nfds].fd = f->fd;
	pfds[nfds].events = f->events;
	pfds[nfds].revents = 0;
	f->slot = ++nfds;
}

void loop_fd_remove(struct loop_fd *f)
{
	size_t i = f->slot - 1, k;

	if (!f->slot)
		return;
	/* the last one takes its place */
	fds[i] = fds[--nfds];
	pfds[i] = pfds[nfds];
	fds[i]->slot = i + 1;
	f->slot = 0;
	for (k = 0; k < nready; k++)
		if (ready[k].f == f)
			ready[k].f = NULL;
}

/* Timers are a list sorted by due time, each linked to the pointer that
 * points at it (pprev), so that one is taken out in O(1) from whichever
 * list holds it: the pending one, or the expired one of the round. */
void loop_timer_cancel(struct loop_timer *t)
{
	if (!t->pprev)
		return;
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

void loop_timer_set(struct loop_timer *t, long long due)
{
	struct loop_timer **p = &timers;

	if (t->pprev && t->due == due)
		return;
	loop_timer_cancel(t);
	t->due = due;
	while (*p && (*p)->due <= due)	/* after those due as early */
		p = &(*p)->next;
	t->next = *p;
	t->pprev = p;
	if (*p)
		(*p)->pprev = &t->next;
	*p = t;
}

/* Run the timers due now, each once: a timer set again for now by its
 * callback runs in the next round, after the fds have been served. */
static void run_timers(void)
{
	long long now = now_ms();
	struct loop_timer **p = &timers, *t;

	while (*p && (*p)->due <= now)
		p = &(*p)->next;
	if (p == &timers)
		return;
	expired = timers;
	expired->pprev = &expired;
	timers = *p;
	if (timers)
		timers->pprev = &timers;
	*p = NULL;
	while ((t = expired)) {
		loop_timer_cancel(t);
		t->cb(t);
	}
}

void loop_process_add(struct loop_process *p)
{
	p->next = procs;
	procs = p;
}

/* Reap every child that exited; a child nobody registered (none
 * should be) is simply reaped. */
static void reap(void)
{
	struct loop_process **p, *c;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (p = &procs; (c = *p) && c->pid != pid; p = &c->next)
			;
		if (!c)
			continue;
		*p = c->next;
		c->next = NULL;
		c->cb(c, status);
	}
}

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(selfpipe[1], &c, 1) < 0) {
		/* pipe full: the loop is awake already */
	}
	errno = saved;
}

/* The signals that came, in their order, each once. */
static void on_selfpipe(struct loop_fd *f, short revents)
{
	unsigned char buf[64], order[NSIGS];
	unsigned seen = 0;
	size_t n = 0, i;
	ssize_t got, k;
	int reads = 0;

	(void)f;
	(void)revents;
	/* a bounded read: a flood of signals cannot hold the loop here */
	while (reads++ < 16 && (got = read(selfpipe[0], buf, sizeof buf)) > 0)
		for (k = 0; k < got; k++)
			if (buf[k] < NSIGS && !(seen & 1u << buf[k])) {
				seen |= 1u << buf[k];
				order[n++] = buf[k];
			}
	for (i = 0; i < n; i++) {
		if (order[i] == SIGCHLD)
			reap();
		else if (handlers[order[i]])
			handlers[order[i]](order[i]);
	}
}

static int catch(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	return sigaction(sig, &sa, NULL);
}

int loop_init(void)
{
	if (pipe2(selfpipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	selfpipe_fd.fd = selfpipe[0];
	selfpipe_fd.events = POLLIN;
	selfpipe_fd.cb = on_selfpipe;
	loop_fd_add(&selfpipe_fd);
	if (catch(SIGCHLD, on_signal) < 0)
		return -1;
	return catch(SIGPIPE, SIG_IGN);
}

int loop_signal(int sig, void (*cb)(int sig))
{
	if (sig <= 0 || sig >= NSIGS || sig == SIGCHLD) {
		errno = EINVAL;
		return -1;
	}
	handlers[sig] = cb;
	return catch(sig, on_signal);
}

void loop_done(void)
{
	done = true;
}

void loop_run(void)
{
	long long wait;
	size_t i;
	int n;

	while (!done || procs) {
		wait = -1;
		if (timers) {
			wait = timers->due - now_ms();
			wait = wait < 0 ? 0 : wait > INT_MAX ? INT_MAX : wait;
		}
		if ((n = poll(pfds, nfds, (int)wait)) < 0) {
			if (errno != EINTR)
				fatal("poll: %s", strerror(errno));
			continue;
		}
		for (i = 0; i < nfds && nready < (size_t)n; i++) {
			if (!pfds[i].revents)
				continue;
			if (pfds[i].revents & POLLNVAL)
				fatal("file descriptor %d was closed while the loop watched it",
				    pfds[i].fd);
			ready[nready].f = fds[i];
			ready[nready++].revents = pfds[i].revents;
		}
		for (i = 0; i < nready; i++)
			if (ready[i].f)
				ready[i].f->cb(ready[i].f, ready[i].revents);
		nready = 0;
		run_timers();
	}
	done = false;
}

void loop_free(void)
{
	loop_fd_remove(&selfpipe_fd);
	if (selfpipe[0] >= 0) {
		close(selfpipe[0]);
		close(selfpipe[1]);
		selfpipe[0] = selfpipe[1] = -1;
	}
	free(fds);
	free(pfds);
	free(ready);
	fds = NULL;
	pfds = NULL;
	ready = NULL;
	nfds = capfds = 0;
}
