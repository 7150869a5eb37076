/* The set of syncs: start, reload by difference, bounded stop.
 *
 * A reload keeps every sync whose settings did not change running
 * untouched (its watches, pending changes and back-off), retires the
 * removed ones (their rsync is stopped; they are freed once reaped) and
 * starts the new ones. The stop never waits inside the loop: what is
 * pending runs at once, the grace timer stops what still runs, and the
 * loop ends once every child (rsyncs, ssh masters) has been reaped. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "config_file.h"
#include "daemon.h"
#include "inotify.h"
#include "loop.h"
#include "mounts.h"
#include "runq.h"
#include "sshmaster.h"
#include "status.h"
#include "sync.h"
#include "util.h"

/* After SIGTERM: running rsyncs get this long to finish, then SIGTERM,
 * then SIGKILL. Short enough for procd's 5 s stop timeout. */
#define STOP_GRACE_MS 3000
#define STOP_TERM_MS 1000

static struct daemon {
	const char *config_path;
	bool dry_run;
	bool once;
	bool verbose;		/* -v: debug whatever the config says */
	bool stopping;
	char *log;		/* the log in force, to see a reload change it */
	int max_runs;		/* in force, to log a reload's change */
	struct sync **syncs;	/* retired ones too, until they are freed */
	size_t nsyncs;
	struct loop_fd mounts;	/* the mount table changed */
	struct loop_timer sweep;	/* frees the retired syncs that stopped */
	struct loop_timer grace;	/* at the stop: SIGTERM, then SIGKILL */
	bool killing;		/* the grace timer's next signal is SIGKILL */
} d;

static void settled(struct sync *s);

static void add_sync(struct sync_conf *conf)
{
	d.syncs = xrealloc(d.syncs, (d.nsyncs + 1) * sizeof *d.syncs);
	d.syncs[d.nsyncs++] = sync_new(conf, d.dry_run, d.once, settled);
}

/* Free the retired syncs whose rsync has been reaped. */
static void drop_retired(void)
{
	size_t i, kept = 0;

	for (i = 0; i < d.nsyncs; i++) {
		if (sync_retired(d.syncs[i]) && !sync_running(d.syncs[i]))
			sync_free(d.syncs[i]);
		else
			d.syncs[kept++] = d.syncs[i];
	}
	d.nsyncs = kept;
}

static void on_sweep(struct loop_timer *t)
{
	(void)t;
	drop_retired();
}

/* --once is done when nothing runs and nothing is due. */
static bool once_done(void)
{
	size_t i;

	for (i = 0; i < d.nsyncs; i++)
		if (sync_busy(d.syncs[i]))
			return false;
	return true;
}

/* After each step of a sync in the loop. */
static void settled(struct sync *s)
{
	/* freed by a timer: never from inside its own callback */
	if (sync_retired(s) && !sync_running(s))
		loop_timer_set(&d.sweep, 0);
	if (d.once && !d.stopping && once_done()) {
		d.stopping = true;
		loop_done();
	}
}

static void on_mounts(struct loop_fd *f, short revents)
{
	size_t i;

	(void)f;
	(void)revents;
	mounts_changed();
	for (i = 0; i < d.nsyncs; i++)
		sync_on_mounts(d.syncs[i]);
}

/* Running rsyncs past the grace: SIGTERM, and a second later SIGKILL.
 * The ssh masters some of them use are stopped with the SIGTERM, so
 * that a master's own second before SIGKILL ends with the rsyncs'. */
static void on_grace(struct loop_timer *t)
{
	int sig = d.killing ? SIGKILL : SIGTERM;
	size_t i, n = 0;

	for (i = 0; i < d.nsyncs; i++)
		n += sync_running(d.syncs[i]);
	if (n)
		log_warn("stopping %zu running rsync%s with %s", n, n == 1 ? "" : "s",
		    sig == SIGTERM ? "SIGTERM" : "SIGKILL");
	for (i = 0; i < d.nsyncs; i++)
		sync_kill(d.syncs[i], sig);
	if (!d.killing) {
		runq_close();	/* what is still queued stays unsynced */
		master_stop_all();
		d.killing = true;
		loop_timer_set(t, t->due + STOP_TERM_MS);
	}
}

/* poni -s: a line for each sync (the retired ones are gone already). */
static void fill_status(struct buf *out)
{
	size_t i;

	for (i = 0; i < d.nsyncs; i++)
		if (!sync_retired(d.syncs[i]))
			sync_status_line(d.syncs[i], out);
}

void daemon_start(const char *config_path, struct config *cfg, bool dry_run, bool once,
		  bool verbose)
{
	size_t i;

	d.config_path = config_path;
	d.dry_run = dry_run;
	d.once = once;
	d.verbose = verbose;
	d.log = xstrdup(cfg->log);
	d.sweep.cb = on_sweep;
	d.grace.cb = on_grace;
	if (mounts_open() >= 0) {	/* without /proc: no news of mounts */
		/* /proc/self/mountinfo is always readable; a change of the
		 * table shows as POLLPRI (and POLLERR) */
		d.mounts.fd = mounts_fd();
		d.mounts.events = POLLPRI;
		d.mounts.cb = on_mounts;
		loop_fd_add(&d.mounts);
	}
	d.max_runs = cfg->max_runs;
	runq_set_max(cfg->max_runs);
	for (i = 0; i < cfg->nsyncs; i++)
		add_sync(&cfg->syncs[i]);
	config_free(cfg);
	for (i = 0; i < d.nsyncs; i++)
		sync_start(d.syncs[i]);
	if (!once)
		status_serve(config_path, fill_status);
}

void daemon_reload(void)
{
	struct config *cfg;
	char err[1024];
	size_t i, j, old = d.nsyncs, kept = 0, added = 0, removed = 0;
	bool *keep;
	enum log_level level;

	if (d.once || d.stopping)
		return;
	if (!(cfg = config_load(d.config_path, CONFIG_CHECK_FILES, err, sizeof err))) {
		log_reopen();
		log_error("reload: %s; the running configuration stays in force", err);
		return;
	}
	level = d.verbose ? L_DEBUG : cfg->log_level;
	if (strcmp(cfg->log, d.log) != 0) {
		if (log_open(cfg->log, level) < 0)
			log_error("reload: log %s: %s; logging stays where it was",
			    cfg->log, strerror(errno));
		else {
			free(d.log);
			d.log = xstrdup(cfg->log);
		}
	} else {
		log_reopen();
	}
	log_set_level(level);
	if (cfg->max_runs != d.max_runs) {
		log_info("reload: max_runs %d, was %d", cfg->max_runs, d.max_runs);
		d.max_runs = cfg->max_runs;
		runq_set_max(cfg->max_runs);	/* a higher one starts queued runs now */
	}

	keep = xcalloc(old ? old : 1, sizeof *keep);
	for (j = 0; j < cfg->nsyncs; j++) {
		for (i = 0; i < old; i++)
			if (!keep[i] && !sync_retired(d.syncs[i]) &&
			    sync_conf_equal(sync_conf(d.syncs[i]), &cfg->syncs[j]))
				break;
		if (i < old) {
			keep[i] = true;
			kept++;
			continue;
		}
		add_sync(&cfg->syncs[j]);
		sync_start(d.syncs[d.nsyncs - 1]);
		added++;
	}
	for (i = 0; i < old; i++)
		if (!keep[i] && !sync_retired(d.syncs[i])) {
			sync_retire(d.syncs[i]);
			removed++;
		}
	free(keep);
	config_free(cfg);
	drop_retired();
	log_info("reloaded %s: %zu sync%s unchanged, %zu added, %zu removed",
	    d.config_path, kept, kept == 1 ? "" : "s", added, removed);
}

void daemon_status(void)
{
	size_t i;

	if (d.stopping)
		return;
	for (i = 0; i < d.nsyncs; i++)
		sync_log_status(d.syncs[i]);
}

void daemon_full_sync(void)
{
	size_t i;

	if (d.once || d.stopping)
		return;
	log_info("SIGUSR2: a full sync of every sync");
	for (i = 0; i < d.nsyncs; i++)
		sync_force_full(d.syncs[i]);
}

void daemon_stop(const char *why)
{
	long long now = now_ms();
	size_t i;

	if (d.stopping)
		return;
	d.stopping = true;
	log_info("stopping on %s", why);
	loop_fd_remove(&d.mounts);
	master_shutdown();
	alert_stop_all();
	for (i = 0; i < d.nsyncs; i++)
		sync_stop(d.syncs[i]);
	loop_timer_set(&d.grace, now + STOP_GRACE_MS);
	loop_done();
}

int daemon_finish(void)
{
	int status = 0;
	size_t i;

	drop_retired();		/* reaped, whether swept or not */
	for (i = 0; i < d.nsyncs; i++) {
		sync_report_unsynced(d.syncs[i]);
		if (d.once && !sync_succeeded(d.syncs[i]))
			status = 1;
	}
	for (i = 0; i < d.nsyncs; i++)
		sync_free(d.syncs[i]);
	free(d.syncs);
	free(d.log);
	d.syncs = NULL;
	d.nsyncs = 0;
	d.log = NULL;
	loop_fd_remove(&d.mounts);
	mounts_close();
	status_stop();
	ino_close();
	loop_timer_cancel(&d.sweep);
	loop_timer_cancel(&d.grace);
	master_cleanup();
	return status;
}
