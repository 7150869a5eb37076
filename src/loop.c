/* The event loop. Signal handlers only write the signal's number to a
 * non-blocking close-on-exec self-pipe; everything else happens here:
 * reaping children, reading inotify events, firing the syncs' timers,
 * reloading the config, and the bounded shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config_file.h"
#include "loop.h"
#include "mounts.h"
#include "sshmaster.h"
#include "util.h"

/* After SIGTERM: running rsyncs get this long to finish, then SIGTERM,
 * then SIGKILL. Short enough for procd's 5 s stop timeout. */
#define STOP_GRACE_MS 3000
#define STOP_TERM_MS 1000

#define SIGBIT(sig) (1u << (sig))
/* In the same mask: the mount table changed (no signal has number 0). */
#define MOUNTS_CHANGED SIGBIT(0)

static int selfpipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(selfpipe[1], &c, 1) < 0) {
		/* pipe full: the loop is awake already */
	}
	errno = saved;
}

int loop_init(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD };
	struct sigaction sa;
	size_t i;

	if (pipe2(selfpipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	mounts_open();		/* without /proc: no news of mounts */
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

static void add_sync(struct daemon *d, struct sync *s)
{
	d->syncs = xrealloc(d->syncs, (d->nsyncs + 1) * sizeof *d->syncs);
	d->syncs[d->nsyncs++] = s;
}

void daemon_set_config(struct daemon *d, struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nsyncs; i++)
		add_sync(d, sync_new(&cfg->syncs[i], d->dry_run, d->once));
	free(d->log);
	d->log = xstrdup(cfg->log);
	d->log_level = d->verbose ? L_DEBUG : cfg->log_level;
	config_free(cfg);
}

void daemon_free(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nsyncs; i++)
		sync_free(d->syncs[i]);
	free(d->syncs);
	free(d->log);
	mounts_close();
	d->syncs = NULL;
	d->nsyncs = 0;
	d->log = NULL;
}

/* Free the retired syncs whose rsync has been reaped. */
static void drop_retired(struct daemon *d)
{
	size_t i, kept = 0;

	for (i = 0; i < d->nsyncs; i++) {
		if (d->syncs[i]->retired && d->syncs[i]->state != SYNC_RUNNING)
			sync_free(d->syncs[i]);
		else
			d->syncs[kept++] = d->syncs[i];
	}
	d->nsyncs = kept;
}

/* SIGHUP: read the config again. A sync whose settings did not change
 * keeps running untouched (its watches, pending changes and back-off);
 * a removed one stops; a new one starts with its initial sync. A bad
 * config changes nothing. The log is reopened (logrotate). */
static void reload(struct daemon *d, long long now)
{
	struct config *cfg;
	char err[1024];
	size_t i, j, old = d->nsyncs, kept = 0, added = 0, removed = 0;
	bool *keep;
	enum log_level level;

	if (!(cfg = config_load(d->config_path, CONFIG_CHECK_FILES, err, sizeof err))) {
		log_reopen();
		log_error("reload: %s; the running configuration stays in force", err);
		return;
	}
	level = d->verbose ? L_DEBUG : cfg->log_level;
	if (strcmp(cfg->log, d->log) != 0) {
		if (log_open(cfg->log, level) < 0)
			log_error("reload: log %s: %s; logging stays where it was",
			    cfg->log, strerror(errno));
		else {
			free(d->log);
			d->log = xstrdup(cfg->log);
		}
	} else {
		log_reopen();
	}
	log_set_level(level);
	d->log_level = level;

	keep = xcalloc(old ? old : 1, sizeof *keep);
	for (j = 0; j < cfg->nsyncs; j++) {
		for (i = 0; i < old; i++)
			if (!keep[i] && !d->syncs[i]->retired &&
			    sync_conf_equal(&d->syncs[i]->conf, &cfg->syncs[j]))
				break;
		if (i < old) {
			keep[i] = true;
			kept++;
			continue;
		}
		add_sync(d, sync_new(&cfg->syncs[j], d->dry_run, d->once));
		sync_start(d->syncs[d->nsyncs - 1], now);
		added++;
	}
	for (i = 0; i < old; i++)
		if (!keep[i] && !d->syncs[i]->retired) {
			log_info("sync %s: removed from the config; stopping it", d->syncs[i]->label);
			sync_retire(d->syncs[i]);
			removed++;
		}
	free(keep);
	config_free(cfg);
	drop_retired(d);
	log_info("reloaded %s: %zu sync%s unchanged, %zu added, %zu removed",
	    d->config_path, kept, kept == 1 ? "" : "s", added, removed);
}

static void reap(struct daemon *d)
{
	int status;
	pid_t pid;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < d->nsyncs; i++)
			if (d->syncs[i]->proc.pid == pid) {
				sync_on_exit(d->syncs[i], status, now_ms());
				break;
			}
		if (i == d->nsyncs)
			master_reaped(pid, status, now_ms());
	}
	drop_retired(d);
}

static size_t running(const struct daemon *d)
{
	size_t i, count = 0;

	for (i = 0; i < d->nsyncs; i++)
		count += d->syncs[i]->state == SYNC_RUNNING;
	return count;
}

static void watch_fd(int fd, fd_set *set, int *maxfd)
{
	if (fd >= FD_SETSIZE)
		fatal("file descriptor %d is beyond select()'s limit of %d: too many syncs",
		    fd, FD_SETSIZE);
	FD_SET(fd, set);
	if (fd > *maxfd)
		*maxfd = fd;
}

/* Wait up to ms (-1: no limit) for the self-pipe, the inotify fds (if
 * watching), the children's stderr and a change of the mount table;
 * read stderr; reap. Returns the signals seen as a bit mask, with
 * MOUNTS_CHANGED. */
static unsigned wait_events(struct daemon *d, long long ms, fd_set *ready, int watching)
{
	fd_set changed;
	struct timeval tv, *tvp = NULL;
	unsigned char sigbuf[64];
	unsigned seen = 0;
	int maxfd = -1;
	ssize_t got, k;
	size_t i;

	FD_ZERO(ready);
	FD_ZERO(&changed);
	/* /proc/self/mountinfo is always readable; a change of the table
	 * shows as an exceptional condition */
	if (watching && mounts_fd() >= 0)
		watch_fd(mounts_fd(), &changed, &maxfd);
	watch_fd(selfpipe[0], ready, &maxfd);
	for (i = 0; i < d->nsyncs; i++) {
		if (watching && d->syncs[i]->watcher)
			watch_fd(watcher_fd(d->syncs[i]->watcher), ready, &maxfd);
		if (d->syncs[i]->proc.err_fd >= 0)
			watch_fd(d->syncs[i]->proc.err_fd, ready, &maxfd);
	}
	master_add_fds(ready, &maxfd);
	if (maxfd >= FD_SETSIZE)
		fatal("file descriptor %d is beyond select()'s limit of %d", maxfd, FD_SETSIZE);
	if (ms >= 0) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		tvp = &tv;
	}
	if (select(maxfd + 1, ready, NULL, &changed, tvp) < 0) {
		if (errno != EINTR)
			fatal("select: %s", strerror(errno));
		FD_ZERO(ready);
		return 0;
	}
	if (watching && mounts_fd() >= 0 && FD_ISSET(mounts_fd(), &changed))
		seen |= MOUNTS_CHANGED;
	if (FD_ISSET(selfpipe[0], ready))
		while ((got = read(selfpipe[0], sigbuf, sizeof sigbuf)) > 0)
			for (k = 0; k < got; k++)
				seen |= SIGBIT(sigbuf[k]);
	for (i = 0; i < d->nsyncs; i++)
		if (d->syncs[i]->proc.err_fd >= 0 && FD_ISSET(d->syncs[i]->proc.err_fd, ready))
			proc_read_stderr(&d->syncs[i]->proc);
	master_read(ready);
	if (seen & SIGBIT(SIGCHLD))
		reap(d);
	return seen;
}

/* SIGTERM/SIGINT: no new runs; let running ones finish for a while,
 * then stop their process groups; reap every child. */
static void shutdown_runs(struct daemon *d)
{
	long long start = now_ms(), now;
	fd_set ready;
	size_t i;
	int sig = 0;

	/* what is pending runs now, within the grace */
	for (i = 0; i < d->nsyncs; i++) {
		sync_stop_watching(d->syncs[i]);
		sync_flush(d->syncs[i], start);
	}
	while (running(d)) {
		now = now_ms();
		if (sig == 0 && now - start >= STOP_GRACE_MS)
			sig = SIGTERM;
		else if (sig == SIGTERM && now - start >= STOP_GRACE_MS + STOP_TERM_MS)
			sig = SIGKILL;
		else {
			wait_events(d, 100, &ready, 0);
			continue;
		}
		log_warn("stopping %zu running rsync%s with %s", running(d),
		    running(d) == 1 ? "" : "s", sig == SIGTERM ? "SIGTERM" : "SIGKILL");
		for (i = 0; i < d->nsyncs; i++)
			if (d->syncs[i]->state == SYNC_RUNNING)
				proc_signal(&d->syncs[i]->proc, sig);
	}
	for (i = 0; i < d->nsyncs; i++)
		sync_report_unsynced(d->syncs[i]);
}

/* --once is done when nothing runs and nothing is due. */
static bool once_done(const struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nsyncs; i++)
		if (d->syncs[i]->state == SYNC_RUNNING || d->syncs[i]->state == SYNC_PENDING)
			return false;
	return true;
}

int loop_run(struct daemon *d)
{
	long long now, next, due;
	unsigned seen;
	fd_set ready;
	size_t i;
	int status = 0;

	now = now_ms();
	for (i = 0; i < d->nsyncs; i++)
		sync_start(d->syncs[i], now);
	while (!(d->once && once_done(d))) {
		/* sleep until the earliest due time: no timer when idle */
		now = now_ms();
		if ((next = master_next_due()) >= 0)
			next = next > now ? next - now : 0;
		for (i = 0; i < d->nsyncs; i++)
			if ((due = sync_next_due(d->syncs[i])) != SYNC_NO_DUE &&
			    (next < 0 || due - now < next))
				next = due > now ? due - now : 0;
		seen = wait_events(d, next, &ready, 1);
		if (seen & (SIGBIT(SIGTERM) | SIGBIT(SIGINT))) {
			log_info("stopping on %s", seen & SIGBIT(SIGTERM) ? "SIGTERM" : "SIGINT");
			break;
		}
		for (i = 0; i < d->nsyncs; i++)
			if (d->syncs[i]->watcher && FD_ISSET(watcher_fd(d->syncs[i]->watcher), &ready))
				watcher_read(d->syncs[i]->watcher, sync_on_watch, d->syncs[i]);
		now = now_ms();
		if ((seen & SIGBIT(SIGHUP)) && !d->once)
			reload(d, now);
		if (seen & MOUNTS_CHANGED) {
			mounts_changed();
			for (i = 0; i < d->nsyncs; i++)
				sync_on_mounts(d->syncs[i], now);
		}
		if ((seen & SIGBIT(SIGUSR2)) && !d->once) {
			log_info("SIGUSR2: a full sync of every sync");
			for (i = 0; i < d->nsyncs; i++)
				sync_force_full(d->syncs[i], now);
		}
		for (i = 0; i < d->nsyncs; i++)
			if ((due = sync_next_due(d->syncs[i])) != SYNC_NO_DUE && due <= now)
				sync_on_due(d->syncs[i], now);
		if ((due = master_next_due()) >= 0 && due <= now)
			master_on_due(now);
		if (seen & SIGBIT(SIGUSR1))
			for (i = 0; i < d->nsyncs; i++)
				sync_log_status(d->syncs[i], now);
	}
	shutdown_runs(d);
	master_shutdown();
	if (d->once)
		for (i = 0; i < d->nsyncs; i++)
			if (!d->syncs[i]->last_ok || d->syncs[i]->runs == 0)
				status = 1;
	return status;
}
