/* Children started with posix_spawnp: no shell, every argument its own
 * argv element. The child gets stdin and stdout from the caller's fds
 * or /dev/null (rsync -P's progress never reaches the log), stderr on a
 * pipe whose head and tail poni keeps
 * for the log, default signal handling, an empty signal mask, and its own
 * process group so that rsync and the ssh it starts can be stopped
 * together. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"

extern char **environ;

int proc_start(struct proc *p, char *const argv[], int stdin_fd, int stdout_fd)
{
	return proc_start_env(p, argv, NULL, stdin_fd, stdout_fd);
}

char **proc_environ(char *const env[])
{
	char **all, **e;
	size_t n = 0, i;

	for (e = environ; *e; e++)
		n++;
	for (i = 0; env[i]; i++)
		n++;
	all = xcalloc(n + 1, sizeof *all);
	memcpy(all, env, i * sizeof *all);
	for (e = environ; *e; e++) {
		size_t len = strcspn(*e, "=") + 1, j;

		for (j = 0; env[j] && strncmp(env[j], *e, len) != 0; j++)
			;
		if (!env[j])
			all[i++] = *e;
	}
	return all;
}

int proc_start_env(struct proc *p, char *const argv[], char *const envp[], int stdin_fd,
    int stdout_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, reset;
	int errpipe[2], rc;
	pid_t pid;

	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return -1;
	sigemptyset(&none);
	sigemptyset(&reset);
	sigaddset(&reset, SIGTERM);
	sigaddset(&reset, SIGINT);
	sigaddset(&reset, SIGHUP);
	sigaddset(&reset, SIGUSR1);
	sigaddset(&reset, SIGUSR2);
	sigaddset(&reset, SIGCHLD);
	sigaddset(&reset, SIGPIPE);

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		goto fail_pipe;
	if ((rc = posix_spawnattr_init(&attr)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		goto fail_pipe;
	}
	if ((rc = stdin_fd >= 0 ? posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0) :
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) ||
	    (rc = stdout_fd >= 0 ? posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1) :
		stdout_fd == PROC_OUT_TO_ERR ? posix_spawn_file_actions_adddup2(&fa, errpipe[1], 1) :
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, errpipe[1], 2)) ||
	    (rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
		POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)) ||
	    (rc = posix_spawnattr_setsigmask(&attr, &none)) ||
	    (rc = posix_spawnattr_setsigdefault(&attr, &reset)) ||
	    (rc = posix_spawnattr_setpgroup(&attr, 0)))
		goto fail_all;
	rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp ? envp : environ);
fail_all:
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		goto fail_pipe;
	close(errpipe[1]);
	fcntl(errpipe[0], F_SETFL, O_NONBLOCK);
	p->pid = pid;
	p->err_fd = errpipe[0];
	p->headlen = p->errlen = 0;
	p->cut = 0;
	return 0;
fail_pipe:
	close(errpipe[0]);
	close(errpipe[1]);
	errno = rc;
	return -1;
}

/* Reads of 4 KiB per call: a child that writes without pause must not
 * keep the loop here; what is left is read at the next wake-up. */
#define READS_PER_CALL 32

void proc_read_stderr(struct proc *p)
{
	char buf[4096], *chunk;
	ssize_t n;
	size_t keep, head;
	int reads;

	for (reads = 0; p->err_fd >= 0 && reads < READS_PER_CALL; reads++) {
		n = read(p->err_fd, chunk = buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(p->err_fd);
			p->err_fd = -1;
			return;
		}
		/* the first PROC_ERR_HEAD bytes: which files failed */
		head = PROC_ERR_HEAD - p->headlen < (size_t)n ? PROC_ERR_HEAD - p->headlen : (size_t)n;
		memcpy(p->head + p->headlen, chunk, head);
		p->headlen += head;
		chunk += head;
		if (!(n -= (ssize_t)head))
			continue;
		/* the last PROC_ERR_KEEP bytes: rsync's summary comes last */
		if ((size_t)n >= PROC_ERR_KEEP) {
			p->cut |= p->errlen || (size_t)n > PROC_ERR_KEEP;
			memcpy(p->err, chunk + n - PROC_ERR_KEEP, PROC_ERR_KEEP);
			p->errlen = PROC_ERR_KEEP;
			continue;
		}
		if (p->errlen + (size_t)n > PROC_ERR_KEEP) {
			keep = PROC_ERR_KEEP - (size_t)n;
			memmove(p->err, p->err + p->errlen - keep, keep);
			p->errlen = keep;
			p->cut = 1;
		}
		memcpy(p->err + p->errlen, chunk, (size_t)n);
		p->errlen += (size_t)n;
	}
}

char *proc_take_stderr(struct proc *p)
{
	struct buf b = { 0 };

	buf_add(&b, p->head, p->headlen);
	if (p->cut)
		buf_adds(&b, "\n...\n");
	buf_add(&b, p->err, p->errlen);
	p->headlen = p->errlen = 0;
	p->cut = 0;
	return b.s;
}

void proc_signal(const struct proc *p, int sig)
{
	if (p->pid > 0)
		kill(-p->pid, sig);
}

void proc_finish(struct proc *p)
{
	proc_read_stderr(p);
	if (p->err_fd >= 0) {	/* a grandchild still holds it: let go */
		close(p->err_fd);
		p->err_fd = -1;
	}
	p->pid = 0;
}

static int plain_char(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

char *argv_format(char *const argv[])
{
	struct buf b = { 0 };
	const unsigned char *s;
	int plain;

	buf_add(&b, "", 0);
	for (; *argv; argv++) {
		if (b.len)
			buf_addc(&b, ' ');
		plain = 1;
		for (s = (const unsigned char *)*argv; *s; s++)
			plain &= plain_char(*s);
		if (plain) {	/* '...' with ' written as '\'' */
			buf_addc(&b, '\'');
			for (s = (const unsigned char *)*argv; *s; s++) {
				if (*s == '\'')
					buf_adds(&b, "'\\''");
				else
					buf_addc(&b, (char)*s);
			}
			buf_addc(&b, '\'');
			continue;
		}
		buf_adds(&b, "$'");	/* bash's $'...' with C escapes */
		for (s = (const unsigned char *)*argv; *s; s++) {
			if (*s == '\'' || *s == '\\')
				buf_addf(&b, "\\%c", *s);
			else if (*s == '\n')
				buf_adds(&b, "\\n");
			else if (*s == '\t')
				buf_adds(&b, "\\t");
			else if (plain_char(*s))
				buf_addc(&b, (char)*s);
			else
				buf_addf(&b, "\\x%02x", *s);
		}
		buf_addc(&b, '\'');
	}
	return b.s;
}
