/* poni's own ssh master connections (OpenSSH ControlMaster).
 *
 * Each distinct (ssh, user, host, port, key, known_hosts, host key
 * policy) gets one "ssh -M -N -S SOCKET ..." started with posix_spawn,
 * its socket in a private directory made with mkdtemp. rsync's ssh is
 * pointed at that socket with ControlMaster=no, so when the master is
 * up a run skips the handshake, and when it is not (not up yet, or
 * died) ssh simply connects on its own. A master that exits is started
 * again after 1 s, doubling up to a minute while it keeps failing. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rsync.h"
#include "spawn.h"
#include "sshmaster.h"
#include "util.h"

#define RESTART_FIRST_MS 1000L
#define RESTART_MAX_MS (60L * 1000)
#define STOP_WAIT_MS 1000

struct master {
	struct sync_conf conf;	/* the connection's settings (copied) */
	char *socket;
	char *label;		/* user@host:port, for the log */
	int users;		/* syncs using it */
	struct proc proc;
	long long started;
	long long restart_due;	/* -1: none */
	long backoff_ms;
	struct master *next;
};

static struct master *masters;
static char *socket_dir;
static unsigned next_id;

static bool same_connection(const struct sync_conf *a, const struct sync_conf *b)
{
#define SAME(f) ((a->f == b->f) || (a->f && b->f && strcmp(a->f, b->f) == 0))
	return SAME(ssh) && SAME(remote_user) && SAME(remote_host) &&
	    SAME(priv_key) && SAME(known_hosts) && a->port == b->port &&
	    a->strict_host_key == b->strict_host_key;
#undef SAME
}

static void start(struct master *m, long long now)
{
	static const char *const extra[] = {
		"-M", "-N", "-S", NULL, "-o", "ControlPersist=no",
		"-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3", NULL
	};
	const char *args[sizeof extra / sizeof *extra];
	char **argv;
	size_t n;

	memcpy(args, extra, sizeof extra);
	args[3] = m->socket;
	argv = ssh_argv(&m->conf, args);
	for (n = 0; argv[n]; n++)
		;
	argv = xrealloc(argv, (n + 3) * sizeof *argv);
	argv[n++] = xstrdup("--");	/* the host is never an option */
	argv[n++] = xstrdup(m->conf.remote_host);
	argv[n] = NULL;
	if (log_enabled(L_DEBUG)) {
		char *line = argv_format(argv);
		log_debug("ssh master %s: running %s", m->label, line);
		free(line);
	}
	m->restart_due = -1;
	m->started = now;
	if (proc_start(&m->proc, argv, -1) < 0) {
		log_warn("ssh master %s: cannot start %s: %s; retry in %ld s", m->label,
		    m->conf.ssh, strerror(errno), m->backoff_ms / 1000);
		m->restart_due = now + m->backoff_ms;
	}
	argv_free(argv);
}

const char *master_acquire(const struct sync_conf *s)
{
	struct master *m;
	const char *tmp;
	char *dir;

	if (!ssh_is_openssh(s->ssh))
		return NULL;
	for (m = masters; m; m = m->next)
		if (same_connection(&m->conf, s)) {
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
	m->backoff_ms = RESTART_FIRST_MS;
	m->next = masters;
	masters = m;
	start(m, now_ms());
	return m->socket;
}

/* Stop the ssh of every master in the list at once, and wait for them
 * all, STOP_WAIT_MS at most, before killing what is left. */
static void stop_all(struct master *list)
{
	long long until = now_ms() + STOP_WAIT_MS;
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	struct master *m;
	int status, left;

	for (m = list; m; m = m->next)
		proc_signal(&m->proc, SIGTERM);
	do {
		left = 0;
		for (m = list; m; m = m->next) {
			if (!m->proc.pid)
				continue;
			if (waitpid(m->proc.pid, &status, WNOHANG) == 0) {
				left++;
				continue;
			}
			proc_finish(&m->proc);
		}
	} while (left && now_ms() < until && nanosleep(&pause, NULL) == 0);
	for (m = list; m; m = m->next)
		if (m->proc.pid) {
			proc_signal(&m->proc, SIGKILL);
			waitpid(m->proc.pid, &status, 0);
			proc_finish(&m->proc);
		}
}

static void free_master(struct master *m)
{
	unlink(m->socket);
	sync_conf_clear(&m->conf);
	free(m->socket);
	free(m->label);
	free(m);
}

void master_release(const char *socket)
{
	struct master **p, *m;

	if (!socket)
		return;
	for (p = &masters; (m = *p); p = &m->next)
		if (m->socket == socket) {
			if (--m->users == 0) {
				*p = m->next;
				m->next = NULL;
				stop_all(m);
				free_master(m);
			}
			return;
		}
}

void master_add_fds(fd_set *set, int *maxfd)
{
	struct master *m;

	for (m = masters; m; m = m->next)
		if (m->proc.err_fd >= 0) {
			FD_SET(m->proc.err_fd, set);
			if (m->proc.err_fd > *maxfd)
				*maxfd = m->proc.err_fd;
		}
}

void master_read(const fd_set *ready)
{
	struct master *m;

	for (m = masters; m; m = m->next)
		if (m->proc.err_fd >= 0 && FD_ISSET(m->proc.err_fd, ready))
			proc_read_stderr(&m->proc);
}

bool master_reaped(pid_t pid, int status, long long now)
{
	struct master *m;
	struct buf why = { 0 };
	char *text;

	for (m = masters; m && m->proc.pid != pid; m = m->next)
		;
	if (!m)
		return false;
	proc_finish(&m->proc);
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
	if (WIFSIGNALED(status))
		log_warn("ssh master %s: killed by signal %d%s; restart in %ld s", m->label,
		    WTERMSIG(status), why.s, m->backoff_ms / 1000);
	else
		log_warn("ssh master %s: exit %d%s; restart in %ld s", m->label,
		    WEXITSTATUS(status), why.s, m->backoff_ms / 1000);
	buf_free(&why);
	m->restart_due = now + m->backoff_ms;
	m->backoff_ms *= 2;
	if (m->backoff_ms > RESTART_MAX_MS)
		m->backoff_ms = RESTART_MAX_MS;
	return true;
}

long long master_next_due(void)
{
	struct master *m;
	long long next = -1;

	for (m = masters; m; m = m->next)
		if (m->restart_due >= 0 && (next < 0 || m->restart_due < next))
			next = m->restart_due;
	return next;
}

void master_on_due(long long now)
{
	struct master *m;

	for (m = masters; m; m = m->next)
		if (m->restart_due >= 0 && m->restart_due <= now)
			start(m, now);
}

void master_shutdown(void)
{
	struct master *m;

	stop_all(masters);
	while ((m = masters)) {
		masters = m->next;
		free_master(m);
	}
	if (socket_dir) {
		rmdir(socket_dir);
		free(socket_dir);
		socket_dir = NULL;
	}
}
