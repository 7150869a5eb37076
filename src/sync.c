/* The sync engine.
 *
 * The first change after a quiet time arms a timer of "interval"; every
 * change until it fires joins the same run. A change while rsync runs
 * marks the sync dirty, which gives exactly one more run after it (its
 * timer counted from that change). Runs of one sync never overlap.
 *
 * A run transfers just the paths that changed (rsync --files-from) when
 * they are known; a full run of the whole source is made at start, when
 * the source comes back, after lost events, past the bound of the path
 * set, and to retry a failed run: a failed run is retried after 1 s,
 * doubling up to retry_max, and its retry, being full, carries every
 * change seen meanwhile, so nothing pending is lost however long the
 * target is down, in bounded memory. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rsync.h"
#include "sshmaster.h"
#include "sync.h"
#include "util.h"

#define BACKOFF_FIRST_MS 1000L
#define SOURCE_RETRY_MS (10L * 1000)
/* While the watch limit leaves directories unwatched: a full sync and a
 * new try to place the missing watches this often. */
#define FALLBACK_MS (10L * 1000)

struct sync *sync_new(struct sync_conf *conf, bool dry_run, bool once)
{
	struct sync *s = xcalloc(1, sizeof *s);
	struct buf b = { 0 };
	char *target;

	s->conf = *conf;
	memset(conf, 0, sizeof *conf);
	s->dry_run = dry_run;
	s->once = once;
	s->state = SYNC_IDLE;
	s->due = s->rescan_due = SYNC_NO_DUE;
	s->proc.err_fd = -1;
	target = sync_target(&s->conf);
	buf_add_escaped(&b, s->conf.source);
	buf_adds(&b, " -> ");
	buf_add_escaped(&b, target);
	free(target);
	s->label = b.s;
	if (s->conf.transport == TRANSPORT_SSH && s->conf.strict_host_key == HOSTKEY_NO)
		log_warn("sync %s: strict_host_key is no: the target's host key is not checked, "
		    "so a man in the middle would go unnoticed", s->label);
	/* a single run (--once) or none (-n) gains nothing from a master */
	if (s->conf.transport == TRANSPORT_SSH && !dry_run && !once)
		s->control = master_acquire(&s->conf);
	return s;
}

static void unhold_all(struct sync *s)
{
	while (s->nheld)
		free(s->held[--s->nheld].path);
}

void sync_free(struct sync *s)
{
	if (!s)
		return;
	sync_stop_watching(s);
	master_release(s->control);
	unhold_all(s);
	pathset_clear(&s->pending);
	sync_conf_clear(&s->conf);
	free(s->label);
	free(s->last_error);
	free(s);
}

static void schedule(struct sync *s, enum sync_state state, long long due)
{
	s->state = state;
	s->due = due;
}

/* After a start or rescan: enter, stay in or leave the fallback mode of
 * periodic full syncs that covers directories the watch limit left
 * unwatched. */
static void check_watch_limit(struct sync *s, long long now, bool first)
{
	size_t missing = s->watcher ? watcher_missing(s->watcher) : 0;

	if (!missing) {
		if (s->rescan_due != SYNC_NO_DUE)
			log_info("sync %s: every directory is watched again", s->label);
		s->rescan_due = SYNC_NO_DUE;
		return;
	}
	if (first || s->rescan_due == SYNC_NO_DUE)
		log_error("sync %s: the inotify watch limit left %zu director%s unwatched: "
		    "raise fs.inotify.max_user_watches (now %ld) by at least %zu; "
		    "meanwhile a full sync runs every %ld s",
		    s->label, missing, missing == 1 ? "y" : "ies",
		    watch_limit(), missing, FALLBACK_MS / 1000);
	s->rescan_due = now + FALLBACK_MS;
}

/* Place the watches; on failure wait for the source to appear. */
static int start_watching(struct sync *s, long long now)
{
	if (!s->watcher && !(s->watcher = watcher_new(&s->conf))) {
		log_error("sync %s: cannot create an inotify instance: %s%s", s->label,
		    strerror(errno), errno == EMFILE ?
		    " (raise fs.inotify.max_user_instances)" : "");
		schedule(s, SYNC_WAITING, now + SOURCE_RETRY_MS);
		return -1;
	}
	if (watcher_start(s->watcher) < 0) {
		if (s->state != SYNC_WAITING)
			log_warn("sync %s: cannot watch the source: %s; looking again every %ld s",
			    s->label, strerror(errno), SOURCE_RETRY_MS / 1000);
		watcher_free(s->watcher);
		s->watcher = NULL;
		schedule(s, SYNC_WAITING, now + SOURCE_RETRY_MS);
		return -1;
	}
	log_info("sync %s: watching %zu director%s", s->label,
	    watcher_count(s->watcher), watcher_count(s->watcher) == 1 ? "y" : "ies");
	check_watch_limit(s, now, true);
	return 0;
}

void sync_start(struct sync *s, long long now)
{
	pathset_everything(&s->pending);
	if (s->once) {
		schedule(s, SYNC_PENDING, now);
		return;
	}
	if (start_watching(s, now) < 0)
		return;
	if (s->conf.initial_sync)
		schedule(s, SYNC_PENDING, now);
}

/* A change: the run is due delay ms from now, or joins what is armed. */
static void changed(struct sync *s, long long now, long delay)
{
	switch (s->state) {
	case SYNC_IDLE:
		schedule(s, SYNC_PENDING, now + delay);
		break;
	case SYNC_PENDING:	/* joins the armed run */
		if (now + delay < s->due)
			s->due = now + delay;
		break;
	case SYNC_RUNNING:
		if (!s->dirty) {
			s->dirty = true;
			s->dirty_since = now - (s->conf.interval_ms - delay);
		}
		break;
	case SYNC_BACKOFF:	/* joins the retry */
	case SYNC_WAITING:
		break;
	}
}

static int held_index(const struct sync *s, const char *path)
{
	size_t i;

	for (i = 0; i < s->nheld; i++)
		if (strcmp(s->held[i].path, path) == 0)
			return (int)i;
	return -1;
}

static void unhold(struct sync *s, size_t i)
{
	free(s->held[i].path);
	s->held[i] = s->held[--s->nheld];
}

/* Hold a new file back until it is closed; false when too many are. */
static bool hold(struct sync *s, const char *path, long long now)
{
	if (held_index(s, path) >= 0)
		return true;
	if (s->nheld == SYNC_MAX_HELD)
		return false;
	s->held[s->nheld].path = xstrdup(path);
	s->held[s->nheld++].until = now + SYNC_HOLD_MS;
	return true;
}

void sync_on_watch(void *ctx, enum watch_event ev, const char *relpath, unsigned flags)
{
	struct sync *s = ctx;
	long long now = now_ms();
	struct buf b = { 0 };
	int i;

	switch (ev) {
	case WATCH_CHANGED:
		if (log_enabled(L_DEBUG)) {
			buf_add_escaped(&b, relpath);
			log_debug("sync %s: changed: %s", s->label, *relpath ? b.s : ".");
			buf_free(&b);
		}
		if (*relpath)
			pathset_add(&s->pending, relpath);
		else
			pathset_everything(&s->pending);	/* a file source */
		if ((flags & WATCH_OPENED) && hold(s, relpath, now))
			break;
		i = held_index(s, relpath);
		if ((flags & WATCH_WRITTEN) && i >= 0)
			break;		/* still being written: wait for its close */
		if (i >= 0)
			unhold(s, (size_t)i);
		changed(s, now, s->conf.interval_ms);
		break;
	case WATCH_OVERFLOW:
		/* Creations of directories may be among the lost events:
		 * watch what is missing, then sync everything. */
		log_warn("sync %s: inotify queue overflow, events were lost; rescanning and "
		    "syncing everything (raise fs.inotify.max_queued_events to avoid this)",
		    s->label);
		watcher_rescan(s->watcher);
		check_watch_limit(s, now, false);
		pathset_everything(&s->pending);
		changed(s, now, s->conf.interval_ms);
		break;
	case WATCH_SOURCE_GONE:
		if (s->source_gone)
			break;
		/* The watcher is dropped by sync_on_due, never from inside
		 * its own callback. */
		log_warn("sync %s: the source went away; waiting for it to come back", s->label);
		s->source_gone = true;
		if (s->state != SYNC_RUNNING)
			schedule(s, SYNC_WAITING, now);
		break;
	}
}

/* The pending paths, NUL-separated in an unlinked temporary file, as
 * rsync's stdin. -1 when that cannot be done: make a full run then. */
static int write_list(struct sync *s)
{
	const char *tmpdir = getenv("TMPDIR");
	char *path, *prefix, *base;
	int fd;

	path = xasprintf("%s/poni-list.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	free(path);
	if (fd < 0) {
		log_warn("sync %s: cannot write the list of changed paths: %s; syncing everything",
		    s->label, strerror(errno));
		return -1;
	}
	base = rsync_list_base(&s->conf, &prefix);
	free(base);
	if (pathset_write(&s->pending, fd, prefix) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		log_warn("sync %s: cannot write the list of changed paths: %s; syncing everything",
		    s->label, strerror(errno));
		close(fd);
		fd = -1;
	}
	free(prefix);
	return fd;
}

static void run(struct sync *s, long long now)
{
	/* recurse: false watches the top directory only, so each run is a
	 * full one that also carries what changed below it */
	bool full = s->pending.everything || s->once || !s->conf.recurse;
	int list_fd = -1;
	char **argv, *line;

	if (!full && pathset_empty(&s->pending)) {
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);	/* nothing left to do */
		return;
	}
	if (!full && (list_fd = write_list(s)) < 0)
		full = true;
	s->run_paths = full ? 0 : s->pending.count;
	pathset_clear(&s->pending);
	argv = rsync_argv(&s->conf, !full, s->control);
	line = argv_format(argv);
	s->dirty = false;
	s->run_started = now;
	if (s->dry_run) {
		log_info("sync %s: would run: %s", s->label, line);
		free(line);
		argv_free(argv);
		if (list_fd >= 0)
			close(list_fd);
		s->runs++;
		s->last_ok = true;
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);
		return;
	}
	log_debug("sync %s: running %s", s->label, line);
	free(line);
	if (proc_start(&s->proc, argv, list_fd) < 0) {
		int err = errno;
		argv_free(argv);
		if (list_fd >= 0)
			close(list_fd);
		s->proc.errlen = 0;
		log_error("sync %s: cannot start %s: %s", s->label, s->conf.rsync, strerror(err));
		sync_on_exit(s, -1, now);
		return;
	}
	if (list_fd >= 0)
		close(list_fd);
	argv_free(argv);
	schedule(s, SYNC_RUNNING, SYNC_NO_DUE);
}

long long sync_next_due(const struct sync *s)
{
	long long next = s->due;
	size_t i;

	if (s->rescan_due != SYNC_NO_DUE && (next == SYNC_NO_DUE || s->rescan_due < next))
		next = s->rescan_due;
	for (i = 0; i < s->nheld; i++)
		if (next == SYNC_NO_DUE || s->held[i].until < next)
			next = s->held[i].until;
	return next;
}

void sync_on_due(struct sync *s, long long now)
{
	size_t i;

	for (i = 0; i < s->nheld; i++)
		if (s->held[i].until <= now) {	/* kept open: sync it now */
			unhold(s, i--);
			changed(s, now, s->conf.interval_ms);
		}
	if (s->rescan_due != SYNC_NO_DUE && s->rescan_due <= now) {
		if (s->watcher)
			watcher_rescan(s->watcher);
		check_watch_limit(s, now, false);
		pathset_everything(&s->pending);
		changed(s, now, 0);	/* the fallback's full sync */
	}
	if (s->due == SYNC_NO_DUE || s->due > now)
		return;
	switch (s->state) {
	case SYNC_PENDING:
	case SYNC_BACKOFF:
		run(s, now);
		break;
	case SYNC_WAITING:
		if (s->watcher) {	/* the source went away: drop its watches */
			watcher_free(s->watcher);
			s->watcher = NULL;
			s->rescan_due = SYNC_NO_DUE;
		}
		s->source_gone = false;
		unhold_all(s);
		if (start_watching(s, now) < 0)
			return;
		log_info("sync %s: the source is there", s->label);
		pathset_everything(&s->pending);
		if (s->conf.initial_sync)
			run(s, now);
		else
			schedule(s, SYNC_IDLE, SYNC_NO_DUE);
		break;
	case SYNC_IDLE:
	case SYNC_RUNNING:
		s->due = SYNC_NO_DUE;
		break;
	}
}

/* rsync's stderr as one log-safe line: lines joined by " | ". */
static char *error_text(const struct proc *p)
{
	struct buf b = { 0 };
	char *text = xstrndup(p->err, p->errlen), *line, *save = NULL;

	buf_add(&b, "", 0);
	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (!*line)
			continue;
		if (b.len)
			buf_adds(&b, " | ");
		buf_add_escaped(&b, line);
	}
	free(text);
	return b.s;
}

/* Log a failed run and remember why, for SIGUSR1. */
static void log_failure(struct sync *s, int status, long long took)
{
	char *text = error_text(&s->proc), *why;

	if (status < 0)
		why = xasprintf("rsync did not start");
	else if (WIFSIGNALED(status))
		why = xasprintf("rsync killed by signal %d", WTERMSIG(status));
	else
		why = xasprintf("rsync exit %d (%s)", WEXITSTATUS(status),
		    rsync_exit_meaning(WEXITSTATUS(status)));
	free(s->last_error);
	s->last_error = *text ? xasprintf("%s: %s", why, text) : xstrdup(why);
	s->last_error_time = time(NULL);
	log_error("sync %s: failed in %lld.%03lld s: %s", s->label, took / 1000,
	    took % 1000, s->last_error);
	free(why);
	free(text);
}

void sync_on_exit(struct sync *s, int status, long long now)
{
	long long took = now - s->run_started;
	long backoff;
	int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, i;

	proc_finish(&s->proc);
	s->runs++;
	s->last_ok = code >= 0 && rsync_exit_ok(code);
	if (s->last_ok) {
		s->failures = 0;
		s->last_ok_time = time(NULL);
		if (s->run_paths)
			log_info("sync %s: ok in %lld.%03lld s (%zu path%s)%s", s->label,
			    took / 1000, took % 1000, s->run_paths, s->run_paths == 1 ? "" : "s",
			    code == 24 ? ", some files vanished during the run" : "");
		else
			log_info("sync %s: ok in %lld.%03lld s (full)%s", s->label,
			    took / 1000, took % 1000,
			    code == 24 ? ", some files vanished during the run" : "");
	} else {
		/* The retry syncs everything: what this run carried too. */
		pathset_everything(&s->pending);
		if (!s->retired)
			log_failure(s, status, took);
	}
	s->proc.errlen = 0;
	if (s->once || s->retired) {
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);
		return;
	}
	if (s->source_gone) {
		schedule(s, SYNC_WAITING, now);
		return;
	}
	if (!s->last_ok) {
		s->failures++;
		backoff = BACKOFF_FIRST_MS;
		for (i = 1; i < s->failures && backoff < s->conf.retry_max_ms; i++)
			backoff *= 2;
		if (backoff > s->conf.retry_max_ms)
			backoff = s->conf.retry_max_ms;
		log_warn("sync %s: retry in %ld.%03ld s", s->label, backoff / 1000, backoff % 1000);
		schedule(s, SYNC_BACKOFF, now + backoff);
		return;
	}
	if (s->dirty) {
		long long due = s->dirty_since + s->conf.interval_ms;
		schedule(s, SYNC_PENDING, due > now ? due : now);
	} else {
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);
	}
}

void sync_stop_watching(struct sync *s)
{
	watcher_free(s->watcher);
	s->watcher = NULL;
	s->rescan_due = SYNC_NO_DUE;
}

void sync_retire(struct sync *s)
{
	s->retired = true;
	sync_stop_watching(s);
	if (s->state == SYNC_RUNNING)
		proc_signal(&s->proc, SIGTERM);
	else
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);
}

/* A time of the status line, in UTC as in the log, or "never". */
static void status_time(char *out, time_t t)
{
	if (t)
		format_time(out, t);
	else
		memcpy(out, "never", 6);
}

void sync_log_status(const struct sync *s, long long now)
{
	static const char *const names[] = {
		"idle", "pending", "running", "backing off", "waiting for the source"
	};
	char ok[FORMAT_TIME_LEN], failed[FORMAT_TIME_LEN], next[64] = "";

	status_time(ok, s->last_ok_time);
	status_time(failed, s->last_error_time);
	if (s->due != SYNC_NO_DUE)
		format(next, sizeof next, " (next try in %lld.%lld s)",
		    (s->due > now ? s->due - now : 0) / 1000,
		    (s->due > now ? s->due - now : 0) % 1000 / 100);
	log_status("status: sync %s: %s%s%s, watches: %zu%s, last ok %s, last error %s%s%s",
	    s->label, names[s->state], next, s->dirty ? ", changed since the run began" : "",
	    s->watcher ? watcher_count(s->watcher) : 0,
	    s->rescan_due != SYNC_NO_DUE ? " (watch limit: full syncs)" : "",
	    ok, failed, s->last_error ? ": " : "", s->last_error ? s->last_error : "");
}
