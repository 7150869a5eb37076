/* Logging to stdout, stderr, a file or syslog. One line per message:
 * "YYYY-MM-DD HH:MM:SS level: message" (syslog adds its own stamp). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum log_dest { DEST_FD, DEST_FILE, DEST_SYSLOG };

static enum log_dest dest = DEST_FD;
static int fd = 2;			/* before log_open: stderr */
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
		openlog("poni", LOG_PID | LOG_NDELAY, LOG_DAEMON);
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
	else if (dest == DEST_SYSLOG)
		closelog();
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

static void vlog(enum log_level level, int always, const char *fmt, va_list ap)
{
	char line[4096];
	size_t n = 0;
	int r;
	time_t t;
	struct tm tm;

	if (!always && !log_enabled(level))
		return;
	if (dest == DEST_SYSLOG) {
		vsyslog(syslog_prio[level], fmt, ap);
		return;
	}
	t = time(NULL);
	if (localtime_r(&t, &tm))
		n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S ", &tm);
	r = format(line + n, sizeof line - n, "%s: ", level_names[level]);
	if (r > 0)
		n += (size_t)r;
	r = vformat(line + n, sizeof line - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (n > sizeof line - 2)	/* truncated: keep room for "\n" */
		n = sizeof line - 2;
	line[n++] = '\n';
	/* One write per line, so lines from one process never interleave. */
	while (write(fd, line, n) < 0 && errno == EINTR)
		;
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
