/* Renames on an ssh target through "ssh -s HOST sftp".
 *
 * Two rounds in one session: INIT and an LSTAT of each directory above
 * the paths; then a RENAME of each move whose directories all are
 * directories (not links), in order, each after the MKDIRs of the
 * directories it may have made. The requests go to ssh's stdin through
 * a pipe, the answers come from its stdout through another; both in the
 * event loop. The stdin pipe stays open until every answer is in:
 * OpenSSH's sftp-server exits at the end of its input without doing
 * what it has not done yet (a file as stdin would rename nothing).
 * Closing it then ends sftp-server, ssh exits, and done() is called once
 * it is reaped. A child that hangs is
 * killed after SSHRENAME_TIMEOUT_MS; what it did not confirm counts as
 * not done, which costs a transfer, never a wrong replica. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rsync.h"
#include "sshrename.h"
#include "util.h"

/* Reads of 4 KiB per wake-up; the answers to 1,000 renames are 40 KiB. */
#define READS_PER_CALL 16

/* A pipe to or from ssh, out of the loop and closed. */
static void close_pipe(struct loop_fd *f)
{
	if (f->fd < 0)
		return;
	loop_fd_remove(f);
	close(f->fd);
	f->fd = -1;
}

/* Every answer is in (or none will be trusted): close ssh's stdin,
 * which ends sftp-server. */
static void close_input(struct sshrename *r)
{
	close_pipe(&r->in);
}

static void on_writable(struct loop_fd *f, short revents)
{
	struct sshrename *r = container_of(f, struct sshrename, in);
	ssize_t w;

	(void)revents;
	w = write(f->fd, r->req.s + r->req_sent, r->req.len - r->req_sent);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (w < 0) {		/* ssh is gone (EPIPE): its exit tells */
		close_input(r);
		return;
	}
	r->req_sent += (size_t)w;
	if (r->req_sent == r->req.len)	/* all sent; kept open, see above */
		loop_fd_remove(f);
}

/* Where dir is in r->dirs (sorted): it is there. */
static size_t dir_index(const struct sshrename *r, const char *dir)
{
	size_t lo = 0, hi = r->ndirs, mid;
	int c;

	while ((c = strcmp(dir, r->dirs[mid = lo + (hi - lo) / 2])) != 0) {
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return mid;
}

/* Whether each directory above path (below r->dir) is one on the
 * target (or made before). */
static bool dirs_ok(const struct sshrename *r, const char *path)
{
	const char *slash;
	char *dir;
	bool ok = true;

	for (slash = strchr(path, '/'); slash && ok; slash = strchr(slash + 1, '/')) {
		dir = xstrndup(path, (size_t)(slash - path));
		ok = r->dir_ok[dir_index(r, dir)];
		free(dir);
	}
	return ok;
}

/* Whether dir is where an earlier rename of the batch lands, or below:
 * what it moved there may be a link. */
static bool landed(const struct sshrename *r, const char *dir)
{
	size_t i, len;

	for (i = 0; i < r->nops; i++) {
		len = strlen(r->to[r->op_move[i]]);
		if (r->op_rename[i] && strncmp(dir, r->to[r->op_move[i]], len) == 0 &&
		    (!dir[len] || dir[len] == '/'))
			return true;
	}
	return false;
}

/* Whether the directories above move i's new place are there, or may
 * be made (make: and ask for those). */
static bool dirs_ready(struct sshrename *r, size_t i, bool make)
{
	const char *slash, *path = r->to[i];
	char *dir;
	bool ok = true;
	size_t k;

	for (slash = strchr(path, '/'); slash && ok; slash = strchr(slash + 1, '/')) {
		dir = xstrndup(path, (size_t)(slash - path));
		k = dir_index(r, dir);
		if (!r->dir_ok[k]) {
			ok = r->parents && r->parents[i] && r->dir_missing[k] && !landed(r, dir);
			if (ok && make) {
				sftp_mkdir(&r->req, r->nops, r->dir, dir, 0700);
				r->op_move[r->nops++] = i;
				r->dir_ok[k] = true;
				r->dir_missing[k] = false;
			}
		}
		free(dir);
	}
	return ok;
}

/* The directories are known: ask for the renames they allow (and the
 * directories to make for them), in order. */
static void ask_renames(struct sshrename *r)
{
	size_t i, max = r->n + r->ndirs + 1;

	r->renaming = true;
	r->op_move = xcalloc(max, sizeof *r->op_move);
	r->op_rename = xcalloc(max, sizeof *r->op_rename);
	r->op_ok = xcalloc(max, sizeof *r->op_ok);
	r->req.len = r->req_sent = 0;
	for (i = 0; i < r->n; i++)
		if (dirs_ok(r, r->from[i]) && dirs_ready(r, i, false)) {
			dirs_ready(r, i, true);
			sftp_rename(&r->req, r->nops, r->dir, r->from[i], r->to[i]);
			r->op_rename[r->nops] = true;
			r->op_move[r->nops++] = i;
		}
	sftp_answers_init(&r->answers, SFTP_RENAMED, false, r->op_ok, r->nops);
	if (!r->nops) {
		close_input(r);
		return;
	}
	if (r->in.fd >= 0)
		loop_fd_add(&r->in);
}

/* Read what ssh's stdout holds; at its end, judge the answers. */
static void read_answers(struct sshrename *r)
{
	char buf[4096];
	ssize_t n;
	int reads, state;

	for (reads = 0; r->out.fd >= 0 && reads < READS_PER_CALL; reads++) {
		n = read(r->out.fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			sftp_answers_end(&r->answers);
			close_pipe(&r->out);
			close_input(r);
			return;
		}
		r->got += (size_t)n;
		state = sftp_answers_feed(&r->answers, buf, (size_t)n);
		if (state == 1 && !r->renaming)
			ask_renames(r);	/* the directories are answered */
		else if (state != 0)	/* all answered, or garbage: done */
			close_input(r);
	}
}

static void on_readable(struct loop_fd *f, short revents)
{
	(void)revents;
	read_answers(container_of(f, struct sshrename, out));
}

static void on_stderr(struct loop_fd *f, short revents)
{
	struct sshrename *r = container_of(f, struct sshrename, err);

	(void)revents;
	proc_read_stderr(&r->proc);
	if (r->proc.err_fd < 0)
		loop_fd_remove(f);
}

static void on_timeout(struct loop_timer *t)
{
	struct sshrename *r = container_of(t, struct sshrename, timer);

	r->timed_out = true;
	proc_signal(&r->proc, SIGKILL);
}

/* Why the renames were not all tried, for the log. */
static char *explain(struct sshrename *r, int status)
{
	struct buf why = { 0 };
	char *text = proc_take_stderr(&r->proc);

	buf_add(&why, "", 0);
	if (r->timed_out)
		buf_addf(&why, "no answer within %lld s, killed", (now_ms() - r->started) / 1000);
	else if (r->answers.state < 0 && r->got)
		buf_adds(&why, "an answer that is not SFTP's, or cut short");
	else if (r->answers.state < 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		buf_adds(&why, "no SFTP answer (is sftp-server installed there?)");
	else if (r->answers.state < 0 && WIFEXITED(status))
		buf_addf(&why, "exit %d", WEXITSTATUS(status));
	else if (r->answers.state < 0)
		buf_addf(&why, "killed by signal %d", WTERMSIG(status));
	text[strcspn(text, "\r\n")] = '\0';
	if (why.len && *text) {
		buf_adds(&why, ": ");
		buf_add_escaped(&why, text);
	}
	free(text);
	return why.s;
}

/* Forget the copies and the answers (ok[] stays). */
static void forget(struct sshrename *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->from[i]);
		free(r->to[i]);
	}
	for (i = 0; i < r->ndirs; i++)
		free(r->dirs[i]);
	free(r->from);
	free(r->to);
	free(r->dirs);
	free(r->dir);
	free(r->parents);
	free(r->dir_ok);
	free(r->dir_missing);
	free(r->op_move);
	free(r->op_rename);
	free(r->op_ok);
	r->from = r->to = r->dirs = NULL;
	r->dir = NULL;
	r->parents = r->dir_ok = r->dir_missing = r->op_rename = r->op_ok = NULL;
	r->op_move = NULL;
	buf_free(&r->req);
}

static void on_reaped(struct loop_process *c, int status)
{
	struct sshrename *r = container_of(c, struct sshrename, child);
	size_t i;

	loop_timer_cancel(&r->timer);
	read_answers(r);	/* what the pipe still holds */
	if (r->answers.state == 0)	/* cut short: nothing is trusted */
		sftp_answers_end(&r->answers);
	close_input(r);
	close_pipe(&r->out);
	loop_fd_remove(&r->err);
	proc_finish(&r->proc);
	if (!r->renaming)	/* the directories were not all answered */
		r->answers.state = -1;
	if (r->renaming && r->answers.state == 1)
		for (i = 0; i < r->nops; i++) {
			if (r->op_rename[i])
				r->ok[r->op_move[i]] = r->op_ok[i];
			else if (r->made && r->op_ok[i])
				r->made[r->op_move[i]] = true;
		}
	r->error = explain(r, status);
	forget(r);
	r->done(r);
}

/* A shell sort: a few lines where musl's qsort costs 1.3 KB of the
 * static binary, and a batch (SYNC_MAX_MOVES) has few directories. */
static void sort(char **v, size_t n)
{
	size_t gap, i, j;
	char *t;

	for (gap = n / 2; gap; gap /= 2)
		for (i = gap; i < n; i++)
			for (j = i; j >= gap && strcmp(v[j - gap], v[j]) > 0; j -= gap) {
				t = v[j];
				v[j] = v[j - gap];
				v[j - gap] = t;
			}
}

/* The directories above the paths, each once, sorted, in r->dirs. */
static void find_dirs(struct sshrename *r)
{
	const char *slash, *path;
	size_t i, j, k, cap = 0;

	for (i = 0; i < 2 * r->n; i++) {
		path = i < r->n ? r->from[i] : r->to[i - r->n];
		for (slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
			if (r->ndirs == cap)
				r->dirs = xrealloc(r->dirs, (cap = 2 * cap + 8) * sizeof *r->dirs);
			r->dirs[r->ndirs++] = xstrndup(path, (size_t)(slash - path));
		}
	}
	if (!r->ndirs)
		return;
	sort(r->dirs, r->ndirs);
	for (j = 0, k = 1; k < r->ndirs; k++) {
		if (strcmp(r->dirs[j], r->dirs[k]) == 0)
			free(r->dirs[k]);
		else
			r->dirs[++j] = r->dirs[k];
	}
	r->ndirs = j + 1;
}

int sshrename_start(struct sshrename *r, const struct sync_conf *s, const char *control,
    const char *dir, char *const from[], char *const to[], const bool *parents, size_t n,
    bool *ok, bool *made, void (*done)(struct sshrename *r))
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err = 0;
	char **argv;
	size_t i;

	memset(r, 0, sizeof *r);
	r->ok = ok;
	r->made = made;
	r->n = n;
	r->done = done;
	r->in.fd = r->out.fd = r->err.fd = -1;
	memset(ok, 0, n * sizeof *ok);
	if (made)
		memset(made, 0, n * sizeof *made);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		err = errno;
	} else {
		argv = sftp_argv(s, control);
		if (log_enabled(L_DEBUG)) {
			char *line = argv_format(argv);
			log_debug("renaming %zu path%s on the target: %s", n, n == 1 ? "" : "s", line);
			free(line);
		}
		if (proc_start(&r->proc, argv, in[0], out[1]) < 0)
			err = errno;
		argv_free(argv);
	}
	if (in[0] >= 0)
		close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (err) {
		if (in[1] >= 0)
			close(in[1]);
		if (out[0] >= 0)
			close(out[0]);
		r->error = xasprintf("cannot start %s: %s", s->ssh, strerror(err));
		return -1;
	}
	r->dir = xstrdup(dir);
	r->from = xcalloc(n + 1, sizeof *r->from);
	r->to = xcalloc(n + 1, sizeof *r->to);
	for (i = 0; i < n; i++) {
		r->from[i] = xstrdup(from[i]);
		r->to[i] = xstrdup(to[i]);
	}
	if (parents) {
		r->parents = xcalloc(n + 1, sizeof *r->parents);
		memcpy(r->parents, parents, n * sizeof *parents);
	}
	find_dirs(r);
	r->dir_ok = xcalloc(r->ndirs + 1, sizeof *r->dir_ok);
	r->dir_missing = xcalloc(r->ndirs + 1, sizeof *r->dir_missing);
	sftp_init(&r->req);
	for (i = 0; i < r->ndirs; i++)
		sftp_lstat(&r->req, i, dir, r->dirs[i]);
	sftp_answers_init(&r->answers, SFTP_IS_DIR, true, r->dir_ok, r->ndirs);
	r->answers.missing = r->dir_missing;
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	r->in = (struct loop_fd){ .fd = in[1], .events = POLLOUT, .cb = on_writable };
	r->out = (struct loop_fd){ .fd = out[0], .events = POLLIN, .cb = on_readable };
	r->err = (struct loop_fd){ .fd = r->proc.err_fd, .events = POLLIN, .cb = on_stderr };
	loop_fd_add(&r->in);
	loop_fd_add(&r->out);
	loop_fd_add(&r->err);
	r->child = (struct loop_process){ .pid = r->proc.pid, .cb = on_reaped };
	loop_process_add(&r->child);
	r->timer.cb = on_timeout;
	r->started = now_ms();
	loop_timer_set(&r->timer, r->started + SSHRENAME_TIMEOUT_MS);
	return 0;
}

bool sshrename_running(const struct sshrename *r)
{
	return r->proc.pid > 0;
}

void sshrename_stop(struct sshrename *r)
{
	if (!sshrename_running(r))
		return;
	close_input(r);
	proc_signal(&r->proc, SIGTERM);
}

void sshrename_clear(struct sshrename *r)
{
	free(r->error);
	r->error = NULL;
}
