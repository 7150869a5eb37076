/* Logging to stdout, stderr, a file or syslog. One line per message:
 * "YYYY-MM-DD HH:MM:SSZ level: message", the time in UTC; to syslog
 * "<PRI>poni[PID]: message", which the syslog daemon stamps itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum log_dest { DEST_FD, DEST_FILE, DEST_SYSLOG };

static enum log_dest dest = DEST_FD;
static int fd = 2;			/* before log_open: stderr */
static int syslog_fd = -1;		/* DEST_SYSLOG: connected to /dev/log */
static char *path;			/* DEST_FILE: for log_reopen */
static enum log_level max_level = L_INFO;

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

static int open_file(const char *p)
{
	return open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int log_open(const char *d, enum log_level level)
{
	char *copy = NULL;
	int newfd = -1;

	if (strcmp(d, "syslog") != 0 && strcmp(d, "stdout") != 0 &&
	    strcmp(d, "stderr") != 0) {
		if (!(copy = strdup(d)))
			return -1;
		if ((newfd = open_file(d)) < 0) {
			free(copy);
			return -1;
		}
	}
	log_close();
	max_level = level;
	if (copy) {
		dest = DEST_FILE;
		fd = newfd;
		path = copy;
	} else if (strcmp(d, "syslog") == 0) {
		dest = DEST_SYSLOG;
	} else {
		dest = DEST_FD;
		fd = strcmp(d, "stdout") == 0 ? 1 : 2;
	}
	return 0;
}

void log_reopen(void)
{
	int newfd;

	if (dest != DEST_FILE)
		return;
	if ((newfd = open_file(path)) < 0) {
		log_error("cannot reopen log file %s: %s", path, strerror(errno));
		return;
	}
	close(fd);
	fd = newfd;
}

void log_close(void)
{
	if (dest == DEST_FILE)
		close(fd);
	if (syslog_fd >= 0)
		close(syslog_fd);
	syslog_fd = -1;
	free(path);
	path = NULL;
	dest = DEST_FD;
	fd = 2;
}

void log_set_level(enum log_level level)
{
	max_level = level;
}

int log_enabled(enum log_level level)
{
	return level <= max_level;
}

int log_fd(void)
{
	return dest == DEST_SYSLOG ? -1 : fd;
}

static int syslog_connect(void)
{
	static const struct sockaddr_un addr = {
		.sun_family = AF_UNIX, .sun_path = "/dev/log"
	};

	if ((syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(syslog_fd, (const struct sockaddr *)&addr, sizeof addr) < 0) {
		close(syslog_fd);
		syslog_fd = -1;
		return -1;
	}
	return 0;
}

/* One datagram per message, sent without waiting: a syslog daemon that
 * is slow or gone costs the message, never a stall. Connected at the
 * first message; when sending fails otherwise (the daemon was restarted
 * and its socket is a new one), connected again and sent once more. */
static void syslog_send(const char *msg, size_t n)
{
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (syslog_fd < 0 && syslog_connect() < 0)
			return;
		if (send(syslog_fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0 ||
		    errno == EAGAIN || errno == ENOBUFS)
			return;
		close(syslog_fd);
		syslog_fd = -1;
	}
}

static void vlog(enum log_level level, int always, const char *fmt, va_list ap)
{
	char line[4096];
	size_t n;
	int r;

	if (!always && !log_enabled(level))
		return;
	if (dest == DEST_SYSLOG) {
		n = (size_t)format(line, sizeof line, "<%d>poni[%ld]: ",
		    LOG_DAEMON | syslog_prio[level], (long)getpid());
	} else {
		format_time(line, time(NULL));
		n = strlen(line);
		n += (size_t)format(line + n, sizeof line - n, " %s: ", level_names[level]);
	}
	r = vformat(line + n, sizeof line - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (n > sizeof line - 2)	/* truncated: keep room for "\n" */
		n = sizeof line - 2;
	if (dest == DEST_SYSLOG) {
		syslog_send(line, n);
		return;
	}
	line[n++] = '\n';
	/* One write per line, so lines from one process never interleave
	 * (a short write, to a pipe, is completed). */
	write_all(fd, line, n);
}

#define LOG_FN(name, level) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		vlog(level, 0, fmt, ap); \
		va_end(ap); \
	}
LOG_FN(log_error, L_ERROR)
LOG_FN(log_warn, L_WARNING)
LOG_FN(log_info, L_INFO)
LOG_FN(log_debug, L_DEBUG)

void log_status(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(L_INFO, 1, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(L_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
