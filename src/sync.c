/* The sync engine.
 *
 * The first change after a quiet time arms a timer of "interval"; every
 * change until it fires joins the same run. A change while rsync runs
 * marks the sync dirty, which gives exactly one more run after it (its
 * timer counted from that change). Runs of one sync never overlap.
 *
 * A run transfers just the paths that changed (rsync --files-from) when
 * they are known. Those whose content changed (written, created,
 * deleted) are sent whatever their size and time say (--ignore-times);
 * those whose attributes alone changed (chmod, chown, touch) follow in a
 * second rsync of the same run that compares sizes (and times), so that
 * their data is not sent again. A path seen both ways goes with the
 * content. A file or directory renamed within the source is first
 * renamed on the target (see move.h; with delete only), and its paths
 * join that second rsync.
 *
 * A full run of the whole source is made at start, when
 * the source comes back, after lost events, past the bound of the path
 * set, and to retry a failed run: a failed run is retried after 1 s,
 * doubling up to retry_max, and its retry, being full, carries every
 * change seen meanwhile, so nothing pending is lost however long the
 * target is down, in bounded memory. A full run also comes every
 * full_sync, for what no event tells (hard links, edits on the target).
 *
 * Nothing is synced from a source, or into a local target, that is not
 * the one poni found in place (see mounts.h): the sync waits for it. A
 * full run for unknown changes from an empty source deletes nothing.
 * When poni stops, what is pending runs at once; what is left is named
 * in the log.
 *
 * A sync registers with the event loop itself: one timer set after each
 * step to the earliest of its due times, and its rsync's stderr and pid;
 * its watcher's events come from the daemon's one inotify instance
 * (inotify.c), each batch ending in one step. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "inotify.h"
#include "loop.h"
#include "mounts.h"
#include "move.h"
#include "pathset.h"
#include "rsync.h"
#include "runq.h"
#include "spawn.h"
#include "status.h"
#include "sshmaster.h"
#include "sshrename.h"
#include "sync.h"
#include "target.h"
#include "util.h"
#include "watch.h"

#define BACKOFF_FIRST_MS 1000L
#define SOURCE_RETRY_MS (10L * 1000)
#define TARGET_RETRY_MS (10L * 1000)
/* While the watch limit (or the lack of an inotify instance) leaves
 * directories unwatched: a full sync and a new try to place the missing
 * watches this often. */
#define FALLBACK_MS (10L * 1000)

enum sync_state {
	SYNC_IDLE,	/* in step with the source */
	SYNC_PENDING,	/* a change seen: a run is due at "due" */
	SYNC_RUNNING,	/* rsync runs */
	SYNC_BACKOFF,	/* the last run failed: retry at "due" */
	SYNC_WAITING,	/* the source is not there: look again at "due" */
	SYNC_NO_TARGET,	/* a local target is not there: look again at "due" */
	SYNC_QUEUED	/* a run is due, but max_runs rsyncs run: see may_run */
};

#define SYNC_NO_DUE (-1LL)

/* A new regular file is held back until it is closed (or this long), so
 * that writing it gives one run, not one for the create and one for the
 * close; a file kept open (a log) is synced when the hold runs out. */
#define SYNC_HOLD_MS 1000
#define SYNC_MAX_HELD 64

/* Moves recorded for the next run; past this, moves are transferred. */
#define SYNC_MAX_MOVES 256

struct held_file {
	char *path;
	long long until;
};

struct sync {
	struct sync_conf conf;	/* owned */
	struct watcher *watcher;	/* NULL in --once mode or while waiting */
	char *label;		/* "SOURCE -> TARGET", escaped for the log */
	const char *control;	/* the ssh master's socket, or NULL */
	enum sync_state state;
	time_t state_since;	/* wall clock: when it entered state */
	bool unwell;		/* failing or waiting, as on_state was told */
	long long due;		/* monotonic ms, or SYNC_NO_DUE */
	long long rescan_due;	/* watch limit fallback: next full sync */
	struct pathset pending;	/* content changed since the last run began */
	struct pathset quiet;	/* attributes only (see WATCH_ATTRIB) */
	/* The running run's parts, each the list of one rsync, in turn:
	 * content (everything: a full run), then quiet (everything: a full
	 * run without --ignore-times). */
	struct pathset run_content, run_quiet;
	struct move *moves;	/* seen since the last run began, in order */
	size_t nmoves;
	bool run_renamed;	/* the run renamed on the target: its quiet
				 * part recurses and compares times */
	/* Over ssh, the renames are a step of the run before its rsyncs
	 * (see start_ssh_renames). */
	struct sshrename renames;
	bool renaming;		/* that step runs */
	bool *renamed;		/* its answers: done, one per move, then made */
	bool run_full;		/* the run being prepared is a full one */
	bool run_killed;	/* stopped during that step: no rsync after it */
	struct held_file held[SYNC_MAX_HELD];
	size_t nheld;
	bool dirty;		/* changed while running: one more run */
	long long dirty_since;
	bool source_gone;	/* seen by the watcher: wait for it */
	bool retired;		/* removed by a reload: freed once reaped */
	struct proc proc;
	struct runq_slot slot;	/* its turn under max_runs */
	long long run_started;
	long long step_started;	/* the running rsync's start */
	int failures;		/* in a row, for the back-off */
	bool dry_run;
	bool once;		/* --once: one run, no watching */
	int runs;		/* finished runs */
	size_t run_paths;	/* paths listed for the running rsync, 0: a
				 * full run */
	bool run_ignore_times;	/* its full run: a file source's content */
	bool last_ok;
	time_t last_ok_time;	/* wall clock of the last success, or 0 */
	char *last_error;	/* the last failure, for SIGUSR1 */
	char *told;		/* why the sync waits, as last logged */
	time_t last_error_time;
	long long full_due;	/* the next periodic full run, or SYNC_NO_DUE */
	bool unknown;		/* what changed is not known: see the guard */
	bool full_next;		/* recurse: false: a full run after this one */
	long long retry_due;	/* a full run for paths that failed, or NO_DUE */
	bool guarded;		/* this run deletes nothing: the source is empty */
	bool stopping;		/* poni stops: flush, no retries */
	/* The file systems the source depends on and the watched one, as
	 * found when watching began (see mounts.h). */
	char **src_mounts;
	dev_t src_dev;
	ino_t src_ino;		/* 0 for a file source */
	bool file_source;
	bool via_link;		/* "/a/b" is a link: what it points to, as b */
	bool relinked;		/* the link was pointed elsewhere: a full run */
	struct target target;	/* a local one as the last good run left it */
	/* In the event loop. */
	struct loop_timer timer;	/* at sync_next_due */
	struct loop_fd rsync_err;	/* the running rsync's stderr */
	struct loop_process rsync;
	void (*settled)(struct sync *s);
};

static void sync_on_watch(void *ctx, enum watch_event ev, const char *relpath,
			  unsigned flags);
static void settle(struct sync *s);
static void on_timer(struct loop_timer *t);
static void on_rsync_stderr(struct loop_fd *f, short revents);
static void on_rsync_exit(struct loop_process *c, int status);
static void sync_on_exit(struct sync *s, int status, long long now);
static void on_slot(struct runq_slot *q);
static void update(struct sync *s);
static void on_ssh_renamed(struct sshrename *r);
static void settle(struct sync *s);

struct sync *sync_new(struct sync_conf *conf, bool dry_run, bool once,
		      void (*settled)(struct sync *s))
{
	struct sync *s = xcalloc(1, sizeof *s);
	struct buf b = { 0 };
	char *target;

	s->conf = *conf;
	memset(conf, 0, sizeof *conf);
	s->dry_run = dry_run || s->conf.simulate;	/* upstream Poni's key */
	s->once = once;
	s->state = SYNC_IDLE;
	s->state_since = time(NULL);
	s->due = s->rescan_due = s->full_due = s->retry_due = SYNC_NO_DUE;
	s->proc.err_fd = -1;
	s->rsync_err.events = POLLIN;
	s->rsync_err.cb = on_rsync_stderr;
	s->rsync.cb = on_rsync_exit;
	s->timer.cb = on_timer;
	s->slot.wake = on_slot;
	s->settled = settled;
	target = sync_target(&s->conf);
	buf_add_escaped(&b, s->conf.source);
	buf_adds(&b, " -> ");
	buf_add_escaped(&b, target);
	free(target);
	s->label = b.s;
	target_init(&s->target, s->conf.remote_path, s->label, s->conf.modify_window >= 0);
	if (s->conf.transport == TRANSPORT_SSH && s->conf.strict_host_key == HOSTKEY_NO)
		log_warn("sync %s: strict_host_key is no: the target's host key is not checked, "
		    "so a man in the middle would go unnoticed", s->label);
	/* a single run (--once) or none (-n) gains nothing from a master */
	if (s->conf.transport == TRANSPORT_SSH && !s->dry_run && !once)
		s->control = master_acquire(&s->conf);
	return s;
}

static void stop_watching(struct sync *s)
{
	watcher_free(s->watcher);
	s->watcher = NULL;
	s->rescan_due = SYNC_NO_DUE;
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
	stop_watching(s);
	loop_timer_cancel(&s->timer);
	runq_give(&s->slot);	/* queued when poni stopped */
	master_release(s->control);
	unhold_all(s);
	while (s->nmoves--) {
		free(s->moves[s->nmoves].from);
		free(s->moves[s->nmoves].to);
	}
	free(s->moves);
	pathset_clear(&s->pending);
	pathset_clear(&s->quiet);
	pathset_clear(&s->run_content);
	pathset_clear(&s->run_quiet);
	sync_conf_clear(&s->conf);
	mounts_free(s->src_mounts);
	target_clear(&s->target);
	free(s->label);
	free(s->last_error);
	free(s->told);
	free(s);
}

/* Every change of state comes here. A run's turn under max_runs ends
 * with the run: whatever state follows (idle, pending, back-off, a
 * wait) gives the slot to the next queued sync. A run of several
 * rsyncs in a row stays SYNC_RUNNING between them and keeps its slot. */
static void schedule(struct sync *s, enum sync_state state, long long due)
{
	if (state != s->state)
		s->state_since = time(NULL);
	s->state = state;
	s->due = due;
	if (state != SYNC_RUNNING && state != SYNC_QUEUED)
		runq_give(&s->slot);
}

/* What changed is not known (start, lost events, a failed run, a wait):
 * the next run is a full one, and the delete guard applies to it. */
static void unknown_changes(struct sync *s)
{
	pathset_everything(&s->pending);
	pathset_clear(&s->quiet);	/* a full run carries them */
	s->unknown = true;
}

/* Log why the sync waits, once for each new reason (why is freed). */
static void tell(struct sync *s, char *why)
{
	if (!s->told || strcmp(s->told, why) != 0)
		log_warn("sync %s: %s; waiting for it", s->label, why);
	free(s->told);
	s->told = why;
}

static void untell(struct sync *s)
{
	free(s->told);
	s->told = NULL;
}

/* The next periodic full run: full_sync from now, plus a spread of up
 * to a tenth of it (at most an hour) that differs from sync to sync, so
 * that many syncs do not all run in the same second. */
static long long next_full(const struct sync *s, long long now)
{
	unsigned long spread = s->conf.full_sync_ms / 10 < 3600000 ?
	    (unsigned long)(s->conf.full_sync_ms / 10) : 3600000;
	unsigned long h = 2166136261u;
	const char *p;

	if (!s->conf.full_sync_ms)
		return SYNC_NO_DUE;
	for (p = s->label; *p; p++)
		h = ((h ^ (unsigned char)*p) * 16777619u) & 0xffffffffu;
	return now + s->conf.full_sync_ms + (spread ? (long long)(h % spread) : 0);
}

/* The source (watched since "now") as it is: the file systems it
 * depends on and the directory watched, to see them change. */
static void record_source(struct sync *s)
{
	struct stat st;

	mounts_free(s->src_mounts);
	s->src_mounts = mounts_of(s->conf.source, !strchr(s->conf.rsync_opts, 'x'));
	if (stat(s->conf.source, &st) == 0) {
		s->src_dev = st.st_dev;
		s->src_ino = S_ISDIR(st.st_mode) ? st.st_ino : 0;
		s->file_source = !S_ISDIR(st.st_mode);
	}
	s->via_link = !s->file_source && s->conf.source[strlen(s->conf.source) - 1] != '/' &&
	    lstat(s->conf.source, &st) == 0 && S_ISLNK(st.st_mode);
}

/* The source went away, or is not what is watched any more: wait for
 * it. The watcher is dropped by sync_on_due, never from inside its own
 * callback. */
static void source_lost(struct sync *s, long long now, const char *why)
{
	if (s->source_gone)
		return;
	log_warn("sync %s: %s; waiting for it to come back", s->label, why);
	s->source_gone = true;
	if (s->state != SYNC_RUNNING)
		schedule(s, SYNC_WAITING, now);
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
	if ((first || s->rescan_due == SYNC_NO_DUE) && watcher_no_instance(s->watcher))
		log_error("sync %s: not watched: there is no inotify instance (see above); "
		    "meanwhile a full sync runs every %ld s", s->label, FALLBACK_MS / 1000);
	else if (first || s->rescan_due == SYNC_NO_DUE)
		log_error("sync %s: the inotify watch limit left %zu director%s unwatched: "
		    "raise fs.inotify.max_user_watches (now %ld) by at least %zu; "
		    "meanwhile a full sync runs every %ld s",
		    s->label, missing, missing == 1 ? "y" : "ies",
		    ino_sysctl("max_user_watches"), missing, FALLBACK_MS / 1000);
	s->rescan_due = now + FALLBACK_MS;
}

/* Place the watches; on failure wait for the source to appear. A file
 * system it depends on that is not mounted counts as no source: what
 * is left at the path is a bare mount point, never the data. */
static int start_watching(struct sync *s, long long now)
{
	char **fresh = s->src_mounts ? NULL : mounts_of(s->conf.source, false);
	const char *gone = mounts_missing(s->src_mounts ? s->src_mounts : fresh);

	if (gone) {
		tell(s, xasprintf("the source's file system %s is not mounted", gone));
		mounts_free(fresh);
		schedule(s, SYNC_WAITING, now + SOURCE_RETRY_MS);
		return -1;
	}
	mounts_free(fresh);
	if (!s->watcher)
		s->watcher = watcher_new(&s->conf, sync_on_watch, s);
	if (watcher_start(s->watcher) < 0) {
		if (s->state != SYNC_WAITING)
			log_warn("sync %s: cannot watch the source: %s; looking again every %ld s",
			    s->label, strerror(errno), SOURCE_RETRY_MS / 1000);
		stop_watching(s);
		schedule(s, SYNC_WAITING, now + SOURCE_RETRY_MS);
		return -1;
	}
	if (!watcher_no_instance(s->watcher))
		log_info("sync %s: watching %zu director%s", s->label,
		    watcher_count(s->watcher), watcher_count(s->watcher) == 1 ? "y" : "ies");
	record_source(s);
	untell(s);
	check_watch_limit(s, now, true);
	return 0;
}

static void start(struct sync *s, long long now)
{
	unknown_changes(s);
	if (s->once) {
		schedule(s, SYNC_PENDING, now);
		return;
	}
	if (start_watching(s, now) < 0)
		return;
	if (s->conf.initial_sync)
		schedule(s, SYNC_PENDING, now);
	else
		s->full_due = next_full(s, now);
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
	case SYNC_QUEUED:	/* joins the queued run, keeping its place */
		break;
	case SYNC_RUNNING:
		if (!s->dirty) {
			s->dirty = true;
			s->dirty_since = now - (s->conf.interval_ms - delay);
		}
		break;
	case SYNC_WAITING:
		/* a file source that went away is still watched through its
		 * directory: its return is this change */
		if (s->watcher && !s->source_gone && s->file_source)
			schedule(s, SYNC_PENDING, now + delay);
		break;
	case SYNC_BACKOFF:	/* joins the retry */
	case SYNC_NO_TARGET:	/* the run after the wait is a full one */
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

/* The mover of the sync's target (see move.h), or NULL: every move is
 * transferred. With delete: false a full run keeps the old copy, so a
 * rename would make the replica differ from what rsync makes: no
 * renames then. */
static mover_fn *mover_of(const struct sync *s)
{
	if (!s->conf.delete)
		return NULL;
	return s->conf.transport == TRANSPORT_LOCAL ? move_local : NULL;
}

/* Whether moves are recorded: with a mover, or over ssh (renamed
 * through sftp, see start_ssh_renames), with delete: true. */
static bool keeps_moves(const struct sync *s)
{
	return mover_of(s) || (s->conf.delete && s->conf.transport == TRANSPORT_SSH);
}

/* from was renamed to: recorded for the target; what is pending below
 * from is below to now (a file written in from/, then from renamed, is
 * to be sent as to/FILE, over the renamed copy). Past the bound, or
 * without a mover, both are changes, as any other. */
static void moved(struct sync *s, const char *from, const char *to, bool is_dir)
{
	struct move *m;
	size_t i, len = strlen(from);

	/* (while the ssh renames run, the list they were given stays as
	 * it is: a move then is a change) */
	if (!keeps_moves(s) || s->nmoves == SYNC_MAX_MOVES || s->renaming) {
		pathset_add(&s->pending, from);
		pathset_add(&s->pending, to);
		return;
	}
	pathset_rename(&s->pending, from, to);
	pathset_rename(&s->quiet, from, to);
	for (i = 0; i < s->nheld; i++)
		if (strncmp(s->held[i].path, from, len) == 0 &&
		    (!s->held[i].path[len] || s->held[i].path[len] == '/')) {
			char *path = xasprintf("%s%s", to, s->held[i].path + len);
			free(s->held[i].path);
			s->held[i].path = path;
		}
	if (!(s->nmoves & (s->nmoves - 1)))	/* 0, 1, 2, 4...: grow */
		s->moves = xrealloc(s->moves, (s->nmoves ? 2 * s->nmoves : 1) * sizeof *s->moves);
	m = &s->moves[s->nmoves++];
	m->from = xstrdup(from);
	m->to = xstrdup(to);
	m->is_dir = is_dir;
	m->parents = m->done = m->made = false;
}

/* A change seen, at debug level: "." for the source itself. */
static void log_change(const struct sync *s, const char *relpath)
{
	struct buf b = { 0 };

	if (!log_enabled(L_DEBUG))
		return;
	buf_add_escaped(&b, relpath);
	log_debug("sync %s: changed: %s", s->label, *relpath ? b.s : ".");
	buf_free(&b);
}

static void sync_on_watch(void *ctx, enum watch_event ev, const char *relpath, unsigned flags)
{
	struct sync *s = ctx;
	long long now = now_ms();
	struct pathset *set;
	const char *to;
	int i;

	switch (ev) {
	case WATCH_CHANGED:
		/* A file closed with no write seen since the last run began
		 * was opened to write and not written (touch does that): its
		 * attributes at most changed. (Writes through mmap are not
		 * told by inotify: such a file is seen as touched.) */
		if ((flags & WATCH_ATTRIB) || ((flags & WATCH_CLOSED) && *relpath &&
		    !pathset_has(&s->pending, relpath)))
			flags |= WATCH_ATTRIB;
		set = flags & WATCH_ATTRIB ? &s->quiet : &s->pending;
		log_change(s, relpath);
		if (*relpath)
			pathset_add(set, relpath);
		else
			pathset_everything(set);	/* a file source, or the
							 * source directory itself */
		if ((flags & WATCH_OPENED) && hold(s, relpath, now))
			break;
		i = held_index(s, relpath);
		if ((flags & WATCH_WRITTEN) && i >= 0)
			break;		/* still being written: wait for its close */
		if (i >= 0)
			unhold(s, (size_t)i);
		changed(s, now, s->conf.interval_ms);
		break;
	case WATCH_MOVED:
		to = relpath + strlen(relpath) + 1;
		log_change(s, relpath);
		log_change(s, to);
		moved(s, relpath, to, flags & WATCH_DIR);
		changed(s, now, s->conf.interval_ms);
		break;
	case WATCH_OVERFLOW:
		/* Creations of directories may be among the lost events: the
		 * watcher has watched what was missing; sync everything. */
		log_warn("sync %s: inotify queue overflow, events were lost; rescanned and "
		    "syncing everything (raise fs.inotify.max_queued_events to avoid this)",
		    s->label);
		check_watch_limit(s, now, false);
		unknown_changes(s);
		changed(s, now, s->conf.interval_ms);
		break;
	case WATCH_SOURCE_GONE:
		source_lost(s, now, "the source went away");
		break;
	case WATCH_SOURCE_RELINKED:
		/* what it points to now is another source: all of it, and
		 * (with delete) away with what the old one left */
		s->relinked = true;
		source_lost(s, now, "the source's symbolic link changed");
		break;
	case WATCH_BATCH_END:
		settle(s);
		break;
	}
}

/* The paths of list, NUL-separated in an unlinked temporary file, as
 * rsync's stdin. -1 when that cannot be done: make a full run then. */
static int write_list(struct sync *s, const struct pathset *list)
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
	if (pathset_write(list, fd, prefix) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		log_warn("sync %s: cannot write the list of changed paths: %s; syncing everything",
		    s->label, strerror(errno));
		close(fd);
		fd = -1;
	}
	free(prefix);
	return fd;
}

/* Whether a directory source holds nothing (lost+found aside: a fresh
 * file system), as a bare mount point does. */
static bool source_empty(const struct sync *s)
{
	DIR *d = opendir(s->conf.source);
	struct dirent *e;
	bool empty = d != NULL;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strcmp(e->d_name, "lost+found") != 0) {
			empty = false;
			break;
		}
	if (d)
		closedir(d);
	return empty;
}

/* Before a run to a local target (see target.h): -1 when the sync
 * waits for it. */
static int check_target(struct sync *s, long long now, bool *full)
{
	char *why = NULL;

	switch (target_check(&s->target, &why)) {
	case TARGET_GONE:
		tell(s, why);
		unknown_changes(s);
		schedule(s, SYNC_NO_TARGET, now + TARGET_RETRY_MS);
		return -1;
	case TARGET_OTHER:
		if (s->state != SYNC_NO_TARGET)
			log_info("sync %s: the target is not the directory of the last run; "
			    "syncing everything", s->label);
		*full = true;
		break;
	case TARGET_NEW:
		*full = true;	/* rsync makes it whole (or fails) */
		break;
	case TARGET_SAME:
		break;
	}
	if (s->state == SYNC_NO_TARGET)
		log_info("sync %s: the target is back; syncing everything", s->label);
	untell(s);
	return 0;
}

/* max_runs: whether a run may start now. If not, the sync queues with
 * what is pending (changes meanwhile join it) and on_slot runs it when
 * its turn comes. */
static bool may_run(struct sync *s)
{
	if (runq_take(&s->slot))
		return true;
	if (s->state != SYNC_QUEUED) {
		log_debug("sync %s: queued for max_runs (%zu waiting)", s->label, runq_waiting());
		schedule(s, SYNC_QUEUED, SYNC_NO_DUE);
	}
	return false;
}

/* Start the running run's next rsync: its content part (or a full
 * run), then its quiet part. false when no part is left (and in a dry
 * run, which only logs them). */
static bool step(struct sync *s, long long now)
{
	static char *const no_password[] = { "RSYNC_PASSWORD=", NULL };
	struct rsync_run r = { .control = s->control, .via_link = s->via_link };
	struct pathset *list;
	int list_fd = -1, rc, err;
	char **argv, **envp = NULL, *line;

	for (;;) {
		if (!pathset_empty(&s->run_content))
			list = &s->run_content;
		else if (!pathset_empty(&s->run_quiet))
			list = &s->run_quiet;
		else
			return false;
		r.quick = list == &s->run_quiet;
		r.from_list = !list->everything && (list_fd = write_list(s, list)) >= 0;
		r.ignore_times = !r.from_list && !r.quick && s->run_ignore_times;
		/* an attribute of a directory is its own: what is below it is
		 * not compared (a chmod -R tells each path of its own); a
		 * directory renamed on the target is checked whole */
		r.flat = s->full_next || (r.quick && !s->run_renamed);
		/* A path whose attributes alone changed kept its content,
		 * and the replica's copy is whole while no failed path waits
		 * for its retry: a time changed alone (touch) is set, not a
		 * cause to send the file again. A renamed copy is compared by
		 * time too, in case the target's old place was changed. */
		r.size_only = r.quick && !s->run_renamed && s->retry_due == SYNC_NO_DUE;
		r.guard = s->guarded && !r.quick;
		r.modify_window = s->conf.modify_window >= 0 ? s->conf.modify_window :
		    s->target.mtime_window;
		s->run_paths = r.from_list ? list->count : 0;
		pathset_clear(list);
		argv = rsync_argv(&s->conf, &r);
		line = argv_format(argv);
		if (!s->dry_run)
			break;
		log_info("sync %s: would run: %s", s->label, line);
		free(line);
		argv_free(argv);
		if (list_fd >= 0)
			close(list_fd);
	}
	s->step_started = now;
	log_debug("sync %s: running %s", s->label, line);
	free(line);
	/* an rsync daemon that wants a password and has none from
	 * password_file must fail the run, never make rsync ask for one
	 * (on a terminal, or reading stdin: the list of changed paths) */
	if (s->conf.transport == TRANSPORT_RSYNCD && !getenv("RSYNC_PASSWORD"))
		envp = proc_environ(no_password);
	rc = proc_start_env(&s->proc, argv, envp, list_fd, -1);
	err = errno;
	free(envp);
	argv_free(argv);
	if (list_fd >= 0)
		close(list_fd);
	if (rc < 0) {
		log_error("sync %s: cannot start %s: %s", s->label, s->conf.rsync, strerror(err));
		sync_on_exit(s, -1, now);
		return true;
	}
	s->rsync_err.fd = s->proc.err_fd;
	loop_fd_add(&s->rsync_err);
	s->rsync.pid = s->proc.pid;
	loop_process_add(&s->rsync);
	schedule(s, SYNC_RUNNING, SYNC_NO_DUE);
	return true;
}

/* Add the directories above path (a/b for a/b/c) to ps. */
static void add_parents(struct pathset *ps, const char *path)
{
	const char *slash;
	char *dir;

	for (slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		dir = xstrndup(path, (size_t)(slash - path));
		pathset_add(ps, dir);
		free(dir);
	}
}

/* What the mover needs to know of the source's new paths (see move.h):
 * their type, and whether the directory above is there. */
static void look_at_moves(struct sync *s, const char *base, const char *prefix)
{
	char *path, *slash;
	struct stat st;
	size_t i;

	/* a directory renamed on the target only for a directory */
	for (i = 0; i < s->nmoves; i++) {
		path = xasprintf("%s%s%s", base, prefix, s->moves[i].to);
		if (lstat(path, &st) == 0)
			s->moves[i].is_dir = S_ISDIR(st.st_mode);
		*(slash = strrchr(path, '/')) = '\0';
		s->moves[i].parents = lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
		free(path);
	}
}

/* The moves seen since the last run began, made on the target by its
 * mover before the run's rsyncs (none in a guarded run, nor in a dry
 * one). A move made leaves both its paths to the quiet part, which then
 * recurses and compares times: the renamed copy is checked, and nothing
 * that did not change is sent. A new directory it was moved into goes
 * there too: in the content part, with -r and --ignore-times, it would
 * send the renamed copy whole. A move not made (the old place changed
 * or gone, the new one taken, another file system) leaves them to the
 * content part, as any change. */
static void apply_moves(struct sync *s)
{
	mover_fn *mover = mover_of(s);
	char *prefix, *base;
	struct buf b = { 0 };
	struct pathset above = { 0 };
	size_t i, done = 0;

	s->run_renamed = false;
	if (!s->nmoves)
		return;
	base = rsync_list_base(&s->conf, &prefix);
	if (mover && !s->guarded && !s->dry_run) {
		look_at_moves(s, base, prefix);
		mover(&s->conf, s->control, prefix, s->moves, s->nmoves);
	}
	for (i = 0; i < s->nmoves; i++) {
		struct move *m = &s->moves[i];
		struct pathset *set = m->done ? &s->quiet : &s->pending;

		pathset_add(set, m->from);
		pathset_add(set, m->to);
		if (m->made)	/* their modes and times, by rsync */
			add_parents(&s->quiet, m->to);
		if (m->done) {
			done++;
			add_parents(&above, m->to);
		}
		if (log_enabled(L_DEBUG)) {
			buf_add_escaped(&b, m->from);
			buf_adds(&b, " -> ");
			buf_add_escaped(&b, m->to);
			log_debug("sync %s: %s on the target: %s", s->label,
			    m->done ? "renamed" : "not renamed", b.s);
			b.len = 0;
		}
		free(m->from);
		free(m->to);
	}
	buf_free(&b);
	pathset_move(&s->pending, &s->quiet, &above);
	pathset_clear(&above);
	if (done)
		log_info("sync %s: renamed %zu of %zu moved path%s on the target", s->label,
		    done, s->nmoves, s->nmoves == 1 ? "" : "s");
	s->run_renamed = done > 0;
	free(s->moves);
	s->moves = NULL;
	s->nmoves = 0;
	free(base);
	free(prefix);
}

/* Over ssh, the moves are renamed on the target through the sftp
 * subsystem of its sshd (see sshrename.h: never over an existing name,
 * nor through a link), a step of the run that the loop runs before its
 * rsyncs, bounded in time: on_ssh_renamed goes on. Not in a guarded or
 * dry run; a step that cannot start is a transfer. true when it
 * started. */
static bool start_ssh_renames(struct sync *s)
{
	char *prefix, *base, **paths;
	size_t i, n = s->nmoves;
	bool *parents;

	if (s->conf.transport != TRANSPORT_SSH || !keeps_moves(s) || !s->nmoves ||
	    s->guarded || s->dry_run)
		return false;
	base = rsync_list_base(&s->conf, &prefix);
	look_at_moves(s, base, prefix);
	paths = xcalloc(2 * n, sizeof *paths);	/* from, then to */
	parents = xcalloc(n, sizeof *parents);
	for (i = 0; i < n; i++) {
		paths[i] = xasprintf("%s%s", prefix, s->moves[i].from);
		paths[n + i] = xasprintf("%s%s", prefix, s->moves[i].to);
		parents[i] = s->moves[i].parents;
	}
	/* (the renames' answers, then the directories made) */
	s->renamed = xcalloc(2 * n, sizeof *s->renamed);
	s->renaming = sshrename_start(&s->renames, &s->conf, s->control, s->conf.remote_path,
	    paths, paths + n, parents, n, s->renamed, s->renamed + n, on_ssh_renamed) == 0;
	free(parents);
	if (!s->renaming) {
		log_warn("sync %s: cannot rename on the target: %s; transferring instead",
		    s->label, s->renames.error);
		sshrename_clear(&s->renames);
		free(s->renamed);
		s->renamed = NULL;
	}
	for (i = 0; i < 2 * n; i++)
		free(paths[i]);
	free(paths);
	free(base);
	free(prefix);
	return s->renaming;
}

/* The parts of a run, once its moves are made; then its first rsync. */
static void run_parts(struct sync *s, long long now)
{
	apply_moves(s);
	/* the parts of the run; the sets gather the changes of the next */
	s->run_content = s->pending;
	memset(&s->pending, 0, sizeof s->pending);
	if (s->run_full) {
		pathset_everything(&s->run_content);
		pathset_clear(&s->quiet);	/* a full run carries them */
		s->full_due = next_full(s, now);
	} else {
		pathset_take_except(&s->run_quiet, &s->quiet, &s->run_content);
	}
	s->dirty = false;
	if (step(s, now))
		return;
	s->runs++;		/* a dry run */
	s->last_ok = true;
	schedule(s, SYNC_IDLE, SYNC_NO_DUE);
}

/* The ssh renames ended: the moves they made, then the rest of the run
 * (the changes seen meanwhile join it). */
static void on_ssh_renamed(struct sshrename *r)
{
	struct sync *s = container_of(r, struct sync, renames);
	size_t i;

	s->renaming = false;
	for (i = 0; i < r->n; i++) {
		s->moves[i].done = s->renamed[i];
		s->moves[i].made = s->renamed[r->n + i];
	}
	if (r->error && *r->error && !s->run_killed && !s->retired)
		log_warn("sync %s: renaming on the target failed: %s; transferring instead",
		    s->label, r->error);
	sshrename_clear(r);
	free(s->renamed);
	s->renamed = NULL;
	if (s->run_killed || s->retired) {	/* poni stops: what is left */
		s->run_killed = false;
		apply_moves(s);
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);
	} else {
		run_parts(s, now_ms());
	}
	settle(s);
}

/* A run: the ssh renames (see start_ssh_renames), then one or two
 * rsyncs in a row (see step), which end in sync_on_exit. */
static void run(struct sync *s, long long now)
{
	/* recurse: false watches the top directory only: the names seen
	 * there go first (so a change that keeps size and time is not
	 * skipped), then a full run carries what changed below them */
	bool flat = !s->conf.recurse && !s->file_source && !s->pending.everything;
	bool full = s->pending.everything || s->once || (!s->conf.recurse && !flat);
	struct stat st;

	if (!may_run(s))
		return;
	if (!full && pathset_empty(&s->pending) && pathset_empty(&s->quiet) && !s->nmoves) {
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);	/* nothing left to do */
		return;
	}
	/* a file source removed (logrotate without create) is waited for
	 * through its directory's watch, not failed and retried */
	if (s->file_source && !s->once && lstat(s->conf.source, &st) < 0 && errno == ENOENT) {
		tell(s, xasprintf("the source file %s is gone", s->conf.source));
		schedule(s, SYNC_WAITING, SYNC_NO_DUE);
		return;
	}
	if (s->conf.transport == TRANSPORT_LOCAL && check_target(s, now, &full) < 0)
		return;
	s->full_next = flat && !full;
	/* a file source's change poni saw goes over whatever its size
	 * and time say */
	s->run_ignore_times = full && s->file_source && !s->unknown;
	/* A full run for unknown changes (start, a source back, lost
	 * events, a retry, the periodic one) with delete: an empty source
	 * is more likely an unmounted disk than a choice: delete nothing
	 * then (rsync exits 25 if the replica holds anything). Deletions
	 * poni saw, however many, are not guarded. */
	s->guarded = full && s->unknown && s->conf.delete && s->conf.delete_guard &&
	    source_empty(s);
	s->unknown = false;
	s->run_full = full;
	s->run_started = now;
	untell(s);		/* whatever it waited for is there */
	if (start_ssh_renames(s)) {
		schedule(s, SYNC_RUNNING, SYNC_NO_DUE);
		return;
	}
	run_parts(s, now);
}

/* The earlier of two due times (SYNC_NO_DUE: none). */
static long long earlier(long long a, long long b)
{
	return a == SYNC_NO_DUE || (b != SYNC_NO_DUE && b < a) ? b : a;
}

static long long sync_next_due(const struct sync *s)
{
	long long next = earlier(earlier(s->due, s->rescan_due), earlier(s->full_due, s->retry_due));
	size_t i;

	for (i = 0; i < s->nheld; i++)
		next = earlier(next, s->held[i].until);
	return next;
}

static void sync_on_due(struct sync *s, long long now)
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
		unknown_changes(s);
		changed(s, now, 0);	/* the fallback's full sync */
	}
	if (s->full_due != SYNC_NO_DUE && s->full_due <= now) {
		/* catches what no event tells: hard links, edits on the
		 * target (a waiting sync makes a full run anyway) */
		s->full_due = SYNC_NO_DUE;
		log_debug("sync %s: the periodic full sync is due", s->label);
		unknown_changes(s);
		changed(s, now, 0);
	}
	if (s->retry_due != SYNC_NO_DUE && s->retry_due <= now) {	/* paths that failed */
		s->retry_due = SYNC_NO_DUE;
		unknown_changes(s);
		changed(s, now, 0);
	}
	if (s->due == SYNC_NO_DUE || s->due > now)
		return;
	switch (s->state) {
	case SYNC_PENDING:
	case SYNC_BACKOFF:
	case SYNC_NO_TARGET:	/* run() looks at the target again */
		run(s, now);
		break;
	case SYNC_WAITING:
		if (s->watcher)	/* the source went away: drop its watches */
			stop_watching(s);
		s->source_gone = false;
		unhold_all(s);
		if (start_watching(s, now) < 0)
			return;
		log_info("sync %s: the source is there", s->label);
		unknown_changes(s);
		if (s->conf.initial_sync || s->relinked) {
			s->relinked = false;
			run(s, now);
		} else {
			schedule(s, SYNC_IDLE, SYNC_NO_DUE);
			s->full_due = next_full(s, now);
		}
		break;
	case SYNC_IDLE:
	case SYNC_RUNNING:
	case SYNC_QUEUED:	/* on_slot runs it */
		s->due = SYNC_NO_DUE;
		break;
	}
}

/* rsync's stderr as one log-safe line: lines joined by " | ". */
static char *error_text(struct proc *p)
{
	struct buf b = { 0 };
	char *text = proc_take_stderr(p), *line, *save = NULL;

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
	else if (s->guarded && WIFEXITED(status) && WEXITSTATUS(status) == 25)
		why = xasprintf("held: the source is empty but the replica is not, so nothing "
		    "was deleted (an unmounted disk?); if the source is meant to be empty, "
		    "empty the replica by hand or set delete_guard: false");
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

static void sync_on_exit(struct sync *s, int status, long long now)
{
	long long took = now - s->step_started;
	long backoff;
	int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, i;
	/* rsync went through but some paths failed (unreadable, a name
	 * too long): those must not hold back the changes that follow */
	bool partial = code == 23;

	loop_fd_remove(&s->rsync_err);
	proc_finish(&s->proc);
	s->last_ok = code >= 0 && rsync_exit_ok(code);
	if (s->last_ok) {
		/* a good full run settles a part that failed before */
		if (!s->run_paths)
			s->retry_due = SYNC_NO_DUE;
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
		if (!partial)
			unknown_changes(s);
		pathset_clear(&s->run_quiet);
		if (!s->retired)
			log_failure(s, status, took);
	}
	free(proc_take_stderr(&s->proc));	/* what log_failure did not take */
	/* the run goes on with its quiet part */
	if (s->last_ok && !s->retired && !s->source_gone && step(s, now))
		return;
	pathset_clear(&s->run_quiet);
	/* The end of the run. */
	s->runs++;
	if (s->last_ok) {
		if (s->retry_due == SYNC_NO_DUE)
			s->failures = 0;
		s->last_ok_time = time(NULL);
		if (s->conf.transport == TRANSPORT_LOCAL && !s->dry_run)
			target_record(&s->target);
	}
	if (s->once || s->retired) {
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);
		return;
	}
	if (s->source_gone) {
		schedule(s, SYNC_WAITING, now);
		return;
	}
	if (s->stopping) {	/* what came during the run, at once; no retry */
		if (s->last_ok && (s->dirty || s->full_next)) {
			if (s->full_next)
				pathset_everything(&s->pending);
			s->full_next = false;
			run(s, now);
		} else {
			schedule(s, SYNC_IDLE, SYNC_NO_DUE);
		}
		return;
	}
	if (!s->last_ok) {
		s->full_next = false;
		s->failures++;
		backoff = BACKOFF_FIRST_MS;
		for (i = 1; i < s->failures && backoff < s->conf.retry_max_ms; i++)
			backoff *= 2;
		if (backoff > s->conf.retry_max_ms)
			backoff = s->conf.retry_max_ms;
		if (partial && !s->retired)
			log_info("sync %s: the failed paths get a full run of their own; other "
			    "changes are synced as they come", s->label);
		log_warn("sync %s: retry in %ld.%03ld s", s->label, backoff / 1000, backoff % 1000);
		if (!partial) {
			schedule(s, SYNC_BACKOFF, now + backoff);
			return;
		}
		s->retry_due = now + backoff;
	} else if (s->full_next) {	/* recurse: false: the rest of the tree */
		s->full_next = false;
		pathset_everything(&s->pending);
		schedule(s, SYNC_PENDING, now);
		return;
	}
	if (s->dirty) {
		long long due = s->dirty_since + s->conf.interval_ms;
		schedule(s, SYNC_PENDING, due > now ? due : now);
	} else {
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);
	}
}

/* A time of the status line, in UTC as in the log, or "never". */
static void status_time(char *out, time_t t)
{
	if (t)
		format_time(out, t);
	else
		memcpy(out, "never", 6);
}

/* Its state as one word, for poni -s and on_state. */
static const char *state_word(const struct sync *s)
{
	static const char *const words[] = {
		"in_step", "pending", "running", "backing_off", "waiting_source", "waiting_target",
		"queued"
	};

	if (s->state == SYNC_IDLE && (s->retry_due != SYNC_NO_DUE || (s->runs && !s->last_ok)))
		return "failing";	/* paths that failed wait for their retry */
	if (s->state == SYNC_IDLE && !s->runs)
		return "idle";		/* initial_sync: false, and no change yet */
	return words[s->state];
}

/* Its last error in one line, or "". */
static const char *error_of(const struct sync *s)
{
	return s->told ? s->told :
	    s->state == SYNC_WAITING ? "the source is not there, or cannot be watched" :
	    s->state == SYNC_IDLE && s->last_ok && s->retry_due == SYNC_NO_DUE ? "" :
	    s->last_error ? s->last_error : "";
}

/* What poni -s and on_state tell of a sync, in this order: its name,
 * source, target, state, since when, last success, last error. */
#define NFIELDS 7
struct fields {
	const char *v[NFIELDS];
	char since[FORMAT_TIME_LEN], ok[FORMAT_TIME_LEN];
	char *target;		/* free it */
};

static void get_fields(const struct sync *s, struct fields *f)
{
	format_time(f->since, s->state_since);
	status_time(f->ok, s->last_ok_time);
	f->target = sync_target(&s->conf);
	f->v[0] = s->conf.name;
	f->v[1] = s->conf.source;
	f->v[2] = f->target;
	f->v[3] = state_word(s);
	f->v[4] = f->since;
	f->v[5] = f->ok;
	f->v[6] = error_of(s);
}

/* on_state: once when it turns from in step (or its start) to failing
 * or waiting, once when it is in step again; pending and running
 * change nothing, and neither does each failed retry. */
static void check_health(struct sync *s)
{
	static const char *const names[NFIELDS] = {
		"PONI_SYNC", "PONI_SOURCE", "PONI_TARGET", "PONI_STATE", "PONI_SINCE",
		"PONI_LAST_OK", "PONI_ERROR"
	};
	const char *word = state_word(s);
	bool unwell = status_state_bad(word);
	struct fields f;
	char *env[NFIELDS + 1], **argv;
	size_t i;

	if (unwell == s->unwell || (!unwell && strcmp(word, "in_step") != 0))
		return;
	s->unwell = unwell;
	if (!s->conf.non_state || s->retired || s->stopping || s->once)
		return;
	get_fields(s, &f);
	for (i = 0; i < NFIELDS; i++)
		env[i] = xasprintf("%s=%s", names[i], f.v[i]);
	env[NFIELDS] = NULL;
	/* the list, NULL-terminated as an argv */
	argv = xcalloc(s->conf.non_state + 1, sizeof *argv);
	memcpy(argv, s->conf.on_state, s->conf.non_state * sizeof *argv);
	log_info("sync %s: %s: running on_state", s->label, word);
	alert_run(s->label, argv, env);
	free(argv);
	for (i = 0; i < NFIELDS; i++)
		free(env[i]);
	free(f.target);
}

/* After each step: the timer at the earliest due time (none for a sync
 * that stops or is retired), and when poni stops, the ssh master let go
 * once no run needs it; on_state when its health changed. */
static void update(struct sync *s)
{
	long long due = sync_next_due(s);

	check_health(s);
	if (due == SYNC_NO_DUE || s->stopping || s->retired)
		loop_timer_cancel(&s->timer);
	else
		loop_timer_set(&s->timer, due);
	if (s->stopping && s->state != SYNC_RUNNING && s->state != SYNC_QUEUED && s->control) {
		master_release(s->control);
		s->control = NULL;
	}
}

/* The end of a step that the loop gave the sync: tell the daemon. */
static void settle(struct sync *s)
{
	update(s);
	s->settled(s);
}

static void on_timer(struct loop_timer *t)
{
	struct sync *s = container_of(t, struct sync, timer);

	sync_on_due(s, now_ms());
	settle(s);
}

static void on_rsync_stderr(struct loop_fd *f, short revents)
{
	struct sync *s = container_of(f, struct sync, rsync_err);

	(void)revents;
	proc_read_stderr(&s->proc);
	if (s->proc.err_fd < 0)
		loop_fd_remove(f);
}

/* Its turn under max_runs came (another sync's run ended, or max_runs
 * was raised): run now. Called from that other sync's step, which
 * settles itself; this one's timer is set here. */
static void on_slot(struct runq_slot *q)
{
	struct sync *s = container_of(q, struct sync, slot);

	run(s, now_ms());
	update(s);
}

static void on_rsync_exit(struct loop_process *c, int status)
{
	struct sync *s = container_of(c, struct sync, rsync);

	sync_on_exit(s, status, now_ms());
	settle(s);
}

void sync_start(struct sync *s)
{
	start(s, now_ms());
	update(s);
}

const struct sync_conf *sync_conf(const struct sync *s)
{
	return &s->conf;
}

bool sync_retired(const struct sync *s)
{
	return s->retired;
}

bool sync_running(const struct sync *s)
{
	return s->state == SYNC_RUNNING;
}

bool sync_busy(const struct sync *s)
{
	return s->state == SYNC_RUNNING || s->state == SYNC_PENDING || s->state == SYNC_QUEUED;
}

bool sync_succeeded(const struct sync *s)
{
	return s->last_ok && s->runs > 0;
}

void sync_retire(struct sync *s)
{
	log_info("sync %s: removed from the config; stopping it", s->label);
	s->retired = true;
	stop_watching(s);
	if (s->renaming)
		sshrename_stop(&s->renames);
	else if (s->state == SYNC_RUNNING)
		proc_signal(&s->proc, SIGTERM);
	else
		schedule(s, SYNC_IDLE, SYNC_NO_DUE);
	update(s);
}

static void on_mounts(struct sync *s, long long now)
{
	char **mounts;
	struct stat st;
	const char *gone;
	bool moved;

	if (s->state == SYNC_WAITING || s->state == SYNC_NO_TARGET) {
		s->due = now;	/* look again at once */
		return;
	}
	if (!s->watcher || s->source_gone)
		return;
	if ((gone = mounts_missing(s->src_mounts))) {
		char *why = xasprintf("the source's file system %s was unmounted", gone);
		source_lost(s, now, why);
		free(why);
		return;
	}
	/* a file system mounted on or above the source hides what is
	 * watched; one mounted below it brings unwatched directories */
	mounts = mounts_of(s->conf.source, !strchr(s->conf.rsync_opts, 'x'));
	moved = (stat(s->conf.source, &st) == 0 && (st.st_dev != s->src_dev ||
	    (s->src_ino && st.st_ino != s->src_ino))) || !mounts_equal(mounts, s->src_mounts);
	mounts_free(mounts);
	if (moved)
		source_lost(s, now, "the file systems at or below the source changed");
}

void sync_on_mounts(struct sync *s)
{
	on_mounts(s, now_ms());
	update(s);
}

void sync_force_full(struct sync *s)
{
	long long now = now_ms();

	/* a wait or a back-off ends now; the run after it is a full one */
	if (s->state == SYNC_WAITING || s->state == SYNC_NO_TARGET ||
	    s->state == SYNC_BACKOFF) {
		s->due = now;
	} else {
		unknown_changes(s);
		changed(s, now, 0);
	}
	update(s);
}

void sync_stop(struct sync *s)
{
	stop_watching(s);
	s->stopping = true;
	unhold_all(s);		/* held files are in the pending set */
	if (s->state == SYNC_PENDING || s->state == SYNC_BACKOFF)
		run(s, now_ms());
	update(s);
}

void sync_kill(struct sync *s, int sig)
{
	if (s->renaming) {
		s->run_killed = true;
		proc_signal(&s->renames.proc, sig);
	} else if (s->state == SYNC_RUNNING) {
		proc_signal(&s->proc, sig);
	}
}

void sync_report_unsynced(const struct sync *s)
{
	struct buf b = { 0 };
	const char *some[5];
	size_t i, n, count = s->pending.count + s->quiet.count + s->nmoves;

	/* an idle sync's "everything" without a failed run is only the
	 * mark that initial_sync: false leaves, not a change */
	if (s->once || (!s->dirty && s->retry_due == SYNC_NO_DUE &&
	    ((pathset_empty(&s->pending) && pathset_empty(&s->quiet) && !s->nmoves) ||
	    (s->state == SYNC_IDLE && (s->last_ok || !s->runs)))))
		return;
	if (s->pending.everything || s->quiet.everything || s->retry_due != SYNC_NO_DUE) {
		buf_adds(&b, "a full run");
	} else {
		buf_addf(&b, "%zu changed path%s (", count, count == 1 ? "" : "s");
		n = pathset_some(&s->pending, some, 5);
		n += pathset_some(&s->quiet, some + n, 5 - n);
		for (i = 0; i < n; i++) {
			if (i)
				buf_adds(&b, ", ");
			buf_add_escaped(&b, some[i]);
		}
		buf_adds(&b, n < count ? ", ...)" : ")");
	}
	log_warn("sync %s: stopping with %s not synced: %s; the next full run brings it over "
	    "(at start%s, or full_sync after it)", s->label, b.s,
	    s->told ? s->told : s->state == SYNC_QUEUED ?
	    "no time was left to run it: it was queued for max_runs" :
	    s->last_ok ? "no time was left to run it" :
	    s->last_error ? s->last_error : "the last run failed",
	    s->conf.initial_sync ? "" : " with initial_sync: true");
	buf_free(&b);
}

void sync_log_status(const struct sync *s)
{
	long long now = now_ms();
	static const char *const names[] = {
		"idle", "pending", "running", "backing off", "waiting for the source",
		"waiting for the target", "queued"
	};
	char ok[FORMAT_TIME_LEN], failed[FORMAT_TIME_LEN], next[64] = "", retry[64] = "";

	status_time(ok, s->last_ok_time);
	status_time(failed, s->last_error_time);
	if (s->state == SYNC_QUEUED)
		format(next, sizeof next, " (%zu of %zu in line for max_runs)",
		    runq_position(&s->slot), runq_waiting());
	else if (s->due != SYNC_NO_DUE)
		format(next, sizeof next, " (next try in %lld.%lld s)",
		    (s->due > now ? s->due - now : 0) / 1000,
		    (s->due > now ? s->due - now : 0) % 1000 / 100);
	if (s->retry_due != SYNC_NO_DUE)
		format(retry, sizeof retry, ", failed paths retried in %lld.%lld s",
		    (s->retry_due > now ? s->retry_due - now : 0) / 1000,
		    (s->retry_due > now ? s->retry_due - now : 0) % 1000 / 100);
	log_status("status: sync %s: %s%s%s%s%s%s%s, watches: %zu%s, last ok %s, last error %s%s%s",
	    s->label, names[s->state], s->told ? " (" : "", s->told ? s->told : "",
	    s->told ? ")" : "", next, retry, s->dirty ? ", changed since the run began" : "",
	    s->watcher ? watcher_count(s->watcher) : 0,
	    s->rescan_due == SYNC_NO_DUE ? "" : s->watcher && watcher_no_instance(s->watcher) ?
	    " (no inotify instance: full syncs)" : " (watch limit: full syncs)",
	    ok, failed, s->last_error ? ": " : "", s->last_error ? s->last_error : "");
}

void sync_status_line(const struct sync *s, struct buf *out)
{
	static const char *const keys[NFIELDS] = {
		"sync", "source", "target", "state", "since", "last_ok", "last_error"
	};
	struct fields f;
	char pending[32];
	size_t i;

	if (s->state == SYNC_IDLE)
		memcpy(pending, "0", 2);
	else if (s->pending.everything)
		memcpy(pending, "all", 4);
	else
		format(pending, sizeof pending, "%zu", s->pending.count);
	get_fields(s, &f);
	for (i = 0; i < NFIELDS; i++)
		status_add_value(out, keys[i], f.v[i]);
	status_add_value(out, "pending", pending);
	buf_addc(out, '\n');
	free(f.target);
}
