/* poni's own ssh master connections (OpenSSH ControlMaster).
 *
 * Each distinct (ssh, user, host, port, key, known_hosts, host key
 * policy) gets one "ssh -M -N -S SOCKET ..." started with posix_spawn,
 * its socket in a private directory made with mkdtemp. rsync's ssh is
 * pointed at that socket with ControlMaster=no, so when the master is
 * up a run skips the handshake, and when it is not (not up yet, or
 * died) ssh simply connects on its own. A master that exits is started
 * again after 1 s, doubling up to a minute while it keeps failing.
 *
 * Each master registers its stderr, its process and its timer with the
 * event loop. Stopping one is a step of the loop, never a wait: SIGTERM,
 * SIGKILL STOP_WAIT_MS later if it is still there, freed when reaped. A
 * master stops when its last sync lets it go; when poni stops, that is
 * once no run uses it, or when the runs' grace is over. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "rsync.h"
#include "spawn.h"
#include "sshmaster.h"
#include "util.h"

#define RESTART_FIRST_MS 1000L
#define RESTART_MAX_MS (60L * 1000)
/* A master stopped with SIGTERM gets this long before SIGKILL. */
#define STOP_WAIT_MS 1000

struct master {
	struct sync_conf conf;	/* the connection's settings (copied) */
	char *socket;
	char *label;		/* user@host:port, for the log */
	int users;		/* syncs using it */
	bool stopping;		/* SIGTERM sent: no restart, SIGKILL at the timer */
	struct proc proc;
	struct loop_fd err;	/* its stderr, while it runs */
	struct loop_process child;
	struct loop_timer timer;	/* the restart, or the SIGKILL when stopping */
	long long started;
	long backoff_ms;
	struct master *next;
};

/* Every master until it is freed: in use, or stopping until reaped. */
static struct master *masters;
static char *socket_dir;
static unsigned next_id;
static bool shutting_down;	/* no restarts */

static bool same_connection(const struct sync_conf *a, const struct sync_conf *b)
{
#define SAME(f) ((a->f == b->f) || (a->f && b->f && strcmp(a->f, b->f) == 0))
	return SAME(ssh) && SAME(remote_user) && SAME(remote_host) &&
	    SAME(priv_key) && SAME(known_hosts) && a->port == b->port &&
	    a->strict_host_key == b->strict_host_key;
#undef SAME
}

static void free_master(struct master *m)
{
	struct master **p;

	for (p = &masters; *p != m; p = &(*p)->next)
		;
	*p = m->next;
	loop_timer_cancel(&m->timer);
	unlink(m->socket);
	sync_conf_clear(&m->conf);
	free(m->socket);
	free(m->label);
	free(m);
}

static void on_stderr(struct loop_fd *f, short revents)
{
	struct master *m = container_of(f, struct master, err);

	(void)revents;
	proc_read_stderr(&m->proc);
	if (m->proc.err_fd < 0)
		loop_fd_remove(f);
}

/* SIGTERM now, SIGKILL later; a master not running is done with. */
static void stop(struct master *m)
{
	if (!m->proc.pid) {
		loop_timer_cancel(&m->timer);
		if (!m->users)
			free_master(m);
		return;
	}
	if (m->stopping)
		return;
	m->stopping = true;
	proc_signal(&m->proc, SIGTERM);
	loop_timer_set(&m->timer, now_ms() + STOP_WAIT_MS);
}

static void on_reaped(struct loop_process *c, int status)
{
	struct master *m = container_of(c, struct master, child);
	long long now = now_ms();
	struct buf why = { 0 };
	char *text;

	loop_fd_remove(&m->err);
	proc_finish(&m->proc);
	if (m->stopping) {
		m->stopping = false;
		free(proc_take_stderr(&m->proc));
		stop(m);	/* freed unless a sync still names its socket */
		return;
	}
	/* one that lived a while gets restarted at once, a failing one
	 * waits longer each time */
	if (now - m->started > RESTART_MAX_MS)
		m->backoff_ms = RESTART_FIRST_MS;
	buf_add(&why, "", 0);
	text = proc_take_stderr(&m->proc);
	text[strcspn(text, "\r\n")] = '\0';
	if (*text) {
		buf_adds(&why, ": ");
		buf_add_escaped(&why, text);
	}
	free(text);
	if (shutting_down)
		buf_adds(&why, "; poni stops");
	else
		buf_addf(&why, "; restart in %ld s", m->backoff_ms / 1000);
	if (WIFSIGNALED(status))
		log_warn("ssh master %s: killed by signal %d%s", m->label, WTERMSIG(status), why.s);
	else
		log_warn("ssh master %s: exit %d%s", m->label, WEXITSTATUS(status), why.s);
	buf_free(&why);
	if (shutting_down)
		return;
	loop_timer_set(&m->timer, now + m->backoff_ms);
	m->backoff_ms *= 2;
	if (m->backoff_ms > RESTART_MAX_MS)
		m->backoff_ms = RESTART_MAX_MS;
}

static void start(struct master *m, long long now)
{
	static const char *const extra[] = {
		"-M", "-N", "-S", NULL, "-o", "ControlPersist=no",
		"-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3", NULL
	};
	const char *args[sizeof extra / sizeof *extra];
	char **argv;

	memcpy(args, extra, sizeof extra);
	args[3] = m->socket;
	argv = ssh_argv(&m->conf, args, m->conf.remote_host, NULL);
	if (log_enabled(L_DEBUG)) {
		char *line = argv_format(argv);
		log_debug("ssh master %s: running %s", m->label, line);
		free(line);
	}
	m->started = now;
	if (proc_start(&m->proc, argv, -1, -1) < 0) {
		log_warn("ssh master %s: cannot start %s: %s; retry in %ld s", m->label,
		    m->conf.ssh, strerror(errno), m->backoff_ms / 1000);
		loop_timer_set(&m->timer, now + m->backoff_ms);
	} else {
		m->err.fd = m->proc.err_fd;
		loop_fd_add(&m->err);
		m->child.pid = m->proc.pid;
		loop_process_add(&m->child);
	}
	argv_free(argv);
}

/* The restart, or the SIGKILL of a master that did not stop. */
static void on_timer(struct loop_timer *t)
{
	struct master *m = container_of(t, struct master, timer);

	if (m->stopping)
		proc_signal(&m->proc, SIGKILL);
	else
		start(m, now_ms());
}

const char *master_acquire(const struct sync_conf *s)
{
	struct master *m;
	const char *tmp;
	char *dir;

	if (!ssh_is_openssh(s->ssh))
		return NULL;
	for (m = masters; m; m = m->next)
		if (m->users && !m->stopping && same_connection(&m->conf, s)) {
			m->users++;
			return m->socket;
		}
	if (!socket_dir) {
		tmp = getenv("TMPDIR");
		dir = xasprintf("%s/poni-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {	/* mode 0700: the sockets are ours alone */
			log_warn("cannot make a directory for ssh master sockets (%s): %s; "
			    "every run makes its own ssh connection", dir, strerror(errno));
			free(dir);
			return NULL;
		}
		socket_dir = dir;
	}
	m = xcalloc(1, sizeof *m);
	m->conf.ssh = xstrdup(s->ssh);
	m->conf.remote_user = s->remote_user ? xstrdup(s->remote_user) : NULL;
	m->conf.remote_host = xstrdup(s->remote_host);
	m->conf.priv_key = xstrdup(s->priv_key);
	m->conf.known_hosts = s->known_hosts ? xstrdup(s->known_hosts) : NULL;
	m->conf.port = s->port;
	m->conf.strict_host_key = s->strict_host_key;
	m->socket = xasprintf("%s/m%u", socket_dir, next_id++);
	m->label = xasprintf("%s%s%s:%d", s->remote_user ? s->remote_user : "",
	    s->remote_user ? "@" : "", s->remote_host, s->port);
	m->users = 1;
	m->proc.err_fd = -1;
	m->err.events = POLLIN;
	m->err.cb = on_stderr;
	m->child.cb = on_reaped;
	m->timer.cb = on_timer;
	m->backoff_ms = RESTART_FIRST_MS;
	m->next = masters;
	masters = m;
	start(m, now_ms());
	return m->socket;
}

void master_release(const char *socket)
{
	struct master *m;

	if (!socket)
		return;
	for (m = masters; m; m = m->next)
		if (m->socket == socket) {
			if (--m->users == 0)
				stop(m);
			return;
		}
}

void master_shutdown(void)
{
	struct master *m;

	shutting_down = true;
	for (m = masters; m; m = m->next)
		if (!m->proc.pid)	/* waiting for a restart: none now */
			loop_timer_cancel(&m->timer);
}

void master_stop_all(void)
{
	struct master *m, *next;

	for (m = masters; m; m = next) {
		next = m->next;	/* stop may free m */
		stop(m);
	}
}

void master_cleanup(void)
{
	if (socket_dir) {
		rmdir(socket_dir);
		free(socket_dir);
		socket_dir = NULL;
	}
}
