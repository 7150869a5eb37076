/* The event loop. Signal handlers only write the signal's number to a
 * non-blocking close-on-exec self-pipe; everything else happens here:
 * reaping children, reading inotify events, firing the syncs' timers,
 * and the bounded shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

/* After SIGTERM: running rsyncs get this long to finish, then SIGTERM,
 * then SIGKILL. Short enough for procd's 5 s stop timeout. */
#define STOP_GRACE_MS 3000
#define STOP_TERM_MS 1000

static int selfpipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(selfpipe[1], &c, 1) < 0) {
		/* pipe full: the loop is already awake */
	}
	errno = saved;
}

int loop_init(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD };
	struct sigaction sa;
	size_t i;

	if (pipe2(selfpipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

static void reap(struct sync *syncs, size_t n)
{
	int status;
	pid_t pid;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < n; i++)
			if (syncs[i].proc.pid == pid) {
				sync_on_exit(&syncs[i], status, now_ms());
				break;
			}
}

static size_t running(const struct sync *syncs, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		count += syncs[i].state == SYNC_RUNNING;
	return count;
}

/* Wait up to ms for the self-pipe, the children's stderr; reap. Returns
 * the signals seen as a bit mask. */
static unsigned wait_events(struct sync *syncs, size_t n, long long ms,
			    fd_set *ready, int watch_inotify)
{
	struct timeval tv, *tvp = NULL;
	unsigned char sigbuf[64];
	unsigned seen = 0;
	int maxfd = selfpipe[0], fd, r;
	ssize_t got, k;
	size_t i;

	FD_ZERO(ready);
	FD_SET(selfpipe[0], ready);
	for (i = 0; i < n; i++) {
		if (watch_inotify && syncs[i].watcher) {
			fd = watcher_fd(syncs[i].watcher);
			FD_SET(fd, ready);
			if (fd > maxfd)
				maxfd = fd;
		}
		if ((fd = syncs[i].proc.err_fd) >= 0) {
			FD_SET(fd, ready);
			if (fd > maxfd)
				maxfd = fd;
		}
	}
	if (ms >= 0) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		tvp = &tv;
	}
	r = select(maxfd + 1, ready, NULL, NULL, tvp);
	if (r < 0) {
		if (errno != EINTR)
			fatal("select: %s", strerror(errno));
		FD_ZERO(ready);
		return 0;
	}
	if (FD_ISSET(selfpipe[0], ready))
		while ((got = read(selfpipe[0], sigbuf, sizeof sigbuf)) > 0)
			for (k = 0; k < got; k++)
				seen |= 1u << sigbuf[k];
	for (i = 0; i < n; i++)
		if (syncs[i].proc.err_fd >= 0 && FD_ISSET(syncs[i].proc.err_fd, ready))
			proc_read_stderr(&syncs[i].proc);
	if (seen & (1u << SIGCHLD))
		reap(syncs, n);
	return seen;
}

/* SIGTERM/SIGINT: no new runs; let running ones finish for a while,
 * then stop their process groups; reap every child. */
static void shutdown_runs(struct sync *syncs, size_t n)
{
	long long start = now_ms(), now;
	fd_set ready;
	size_t i;
	int sig = 0;

	for (i = 0; i < n; i++)
		sync_stop_watching(&syncs[i]);
	while (running(syncs, n)) {
		now = now_ms();
		if (sig == 0 && now - start >= STOP_GRACE_MS)
			sig = SIGTERM;
		else if (sig == SIGTERM && now - start >= STOP_GRACE_MS + STOP_TERM_MS)
			sig = SIGKILL;
		else {
			wait_events(syncs, n, 100, &ready, 0);
			continue;
		}
		log_warn("stopping %zu running rsync%s with %s", running(syncs, n),
		    running(syncs, n) == 1 ? "" : "s", sig == SIGTERM ? "SIGTERM" : "SIGKILL");
		for (i = 0; i < n; i++)
			if (syncs[i].state == SYNC_RUNNING)
				proc_signal(&syncs[i].proc, sig);
	}
}

int loop_run(struct sync *syncs, size_t n, int once)
{
	long long now, next;
	unsigned seen;
	fd_set ready;
	size_t i;
	int status = 0;

	now = now_ms();
	for (i = 0; i < n; i++)
		sync_start(&syncs[i], now);
	for (;;) {
		if (once && !running(syncs, n)) {
			for (i = 0; i < n; i++)
				if (syncs[i].state == SYNC_PENDING)
					break;
			if (i == n)
				break;
		}
		/* sleep until the earliest due time: no timer when idle */
		now = now_ms();
		next = -1;
		for (i = 0; i < n; i++)
			if (syncs[i].due != SYNC_NO_DUE &&
			    (next < 0 || syncs[i].due - now < next))
				next = syncs[i].due > now ? syncs[i].due - now : 0;
		seen = wait_events(syncs, n, next, &ready, 1);
		if (seen & ((1u << SIGTERM) | (1u << SIGINT))) {
			log_info("stopping on %s", seen & (1u << SIGTERM) ? "SIGTERM" : "SIGINT");
			break;
		}
		if (seen & (1u << SIGHUP)) {
			log_info("SIGHUP: reopening the log");
			log_reopen();
		}
		for (i = 0; i < n; i++)
			if (syncs[i].watcher && FD_ISSET(watcher_fd(syncs[i].watcher), &ready))
				watcher_read(syncs[i].watcher, sync_on_watch, &syncs[i]);
		now = now_ms();
		for (i = 0; i < n; i++)
			if (syncs[i].due != SYNC_NO_DUE && syncs[i].due <= now)
				sync_on_due(&syncs[i], now);
	}
	shutdown_runs(syncs, n);
	if (once)
		for (i = 0; i < n; i++)
			if (!syncs[i].last_ok || syncs[i].runs == 0)
				status = 1;
	return status;
}
