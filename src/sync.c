/* The sync engine.
 *
 * The first change after a quiet time arms a timer of "interval"; every
 * change until it fires joins the same run. A change while rsync runs
 * marks the sync dirty, which gives exactly one more run after it (its
 * timer counted from that change). Runs of one sync never overlap. A
 * failed run is retried after 1 s, doubling up to 5 minutes; every run
 * is a full rsync of the source, so a retry carries every change seen
 * meanwhile and nothing pending is lost. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "rsync.h"
#include "sync.h"
#include "util.h"

#define BACKOFF_FIRST_MS 1000L
#define BACKOFF_MAX_MS (300L * 1000)
#define SOURCE_RETRY_MS (10L * 1000)

void sync_init(struct sync *s, struct sync_conf *conf, bool dry_run, bool once)
{
	struct buf b = { 0 };
	char *target = sync_target(conf);

	memset(s, 0, sizeof *s);
	s->conf = conf;
	s->dry_run = dry_run;
	s->once = once;
	s->state = SYNC_IDLE;
	s->due = SYNC_NO_DUE;
	s->proc.err_fd = -1;
	buf_add_escaped(&b, conf->source);
	buf_adds(&b, " -> ");
	buf_add_escaped(&b, target);
	free(target);
	s->label = b.s;
}

static void schedule(struct sync *s, enum sync_state state, long long due)
{
	s->state = state;
	s->due = due;
}

/* Place the watches; on failure wait for the source to appear. */
static int start_watching(struct sync *s, long long now)
{
	if (!s->watcher && !(s->watcher = watcher_new(s->conf))) {
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
	return 0;
}

void sync_start(struct sync *s, long long now)
{
	if (s->once) {
		schedule(s, SYNC_PENDING, now);
		return;
	}
	if (start_watching(s, now) < 0)
		return;
	if (s->conf->initial_sync)
		schedule(s, SYNC_PENDING, now);
}

static void changed(struct sync *s, long long now)
{
	switch (s->state) {
	case SYNC_IDLE:
		schedule(s, SYNC_PENDING, now + s->conf->interval_ms);
		break;
	case SYNC_RUNNING:
		if (!s->dirty) {
			s->dirty = true;
			s->dirty_since = now;
		}
		break;
	case SYNC_PENDING:	/* joins the armed run */
	case SYNC_BACKOFF:	/* joins the retry */
	case SYNC_WAITING:
		break;
	}
}

void sync_on_watch(void *ctx, enum watch_event ev, const char *relpath)
{
	struct sync *s = ctx;
	long long now = now_ms();
	struct buf b = { 0 };

	switch (ev) {
	case WATCH_CHANGED:
		if (log_enabled(L_DEBUG)) {
			buf_add_escaped(&b, relpath);
			log_debug("sync %s: changed: %s", s->label, *relpath ? b.s : ".");
			buf_free(&b);
		}
		changed(s, now);
		break;
	case WATCH_OVERFLOW:
		log_warn("sync %s: inotify queue overflow, events were lost; "
		    "the next run syncs everything (raise fs.inotify.max_queued_events to avoid this)",
		    s->label);
		changed(s, now);
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

static void run(struct sync *s, long long now)
{
	char **argv = rsync_argv(s->conf);
	char *line = argv_format(argv);

	s->dirty = false;
	s->run_started = now;
	if (s->dry_run) {
		log_info("sync %s: would run: %s", s->label, line);
		free(line);
		argv_free(argv);
		s->runs++;
		s->last_ok = true;
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);
		return;
	}
	log_debug("sync %s: running %s", s->label, line);
	free(line);
	if (proc_start(&s->proc, argv) < 0) {
		int err = errno;
		argv_free(argv);
		s->proc.errlen = 0;
		log_error("sync %s: cannot start %s: %s", s->label, s->conf->rsync, strerror(err));
		sync_on_exit(s, -1, now);
		return;
	}
	argv_free(argv);
	schedule(s, SYNC_RUNNING, SYNC_NO_DUE);
}

void sync_on_due(struct sync *s, long long now)
{
	switch (s->state) {
	case SYNC_PENDING:
	case SYNC_BACKOFF:
		run(s, now);
		break;
	case SYNC_WAITING:
		if (s->watcher) {	/* the source went away: drop its watches */
			watcher_free(s->watcher);
			s->watcher = NULL;
		}
		s->source_gone = false;
		if (start_watching(s, now) < 0)
			return;
		log_info("sync %s: the source is there", s->label);
		if (s->conf->initial_sync)
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

void sync_on_exit(struct sync *s, int status, long long now)
{
	long long took = now - s->run_started;
	long backoff;
	char *text;
	int code = -1, i;

	proc_finish(&s->proc);
	s->runs++;
	if (status >= 0 && WIFEXITED(status))
		code = WEXITSTATUS(status);
	s->last_ok = code >= 0 && rsync_exit_ok(code);
	if (s->last_ok) {
		s->failures = 0;
		log_info("sync %s: ok in %lld.%03lld s%s", s->label, took / 1000, took % 1000,
		    code == 24 ? " (some files vanished during the run)" : "");
	} else {
		text = error_text(&s->proc);
		if (status >= 0 && WIFSIGNALED(status))
			log_error("sync %s: failed in %lld.%03lld s: rsync killed by signal %d%s%s",
			    s->label, took / 1000, took % 1000, WTERMSIG(status),
			    *text ? ": " : "", text);
		else if (code >= 0)
			log_error("sync %s: failed in %lld.%03lld s: rsync exit %d (%s)%s%s",
			    s->label, took / 1000, took % 1000, code, rsync_exit_meaning(code),
			    *text ? ": " : "", text);
		else
			log_error("sync %s: failed: rsync did not start", s->label);
		free(text);
	}
	s->proc.errlen = 0;
	if (s->once) {
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
		for (i = 1; i < s->failures && backoff < BACKOFF_MAX_MS; i++)
			backoff *= 2;
		if (backoff > BACKOFF_MAX_MS)
			backoff = BACKOFF_MAX_MS;
		log_warn("sync %s: retry in %ld s", s->label, backoff / 1000);
		schedule(s, SYNC_BACKOFF, now + backoff);
		return;
	}
	if (s->dirty) {
		long long due = s->dirty_since + s->conf->interval_ms;
		schedule(s, SYNC_PENDING, due > now ? due : now);
	} else {
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);
	}
}

void sync_stop_watching(struct sync *s)
{
	watcher_free(s->watcher);
	s->watcher = NULL;
}

void sync_free(struct sync *s)
{
	sync_stop_watching(s);
	free(s->label);
	s->label = NULL;
}
