/* Logging: stdout (default), stderr, a file, or syslog; four levels. */
#ifndef PONI_LOG_H
#define PONI_LOG_H

#include <stddef.h>

#include "format.h"

enum log_level { L_ERROR, L_WARNING, L_INFO, L_DEBUG };

/* Send the log to dest ("stdout", "stderr", "syslog" or a file path).
 * Until called, messages go to stderr. Returns 0, or -1 with errno. */
int log_open(const char *dest, enum log_level level);
/* Reopen a log file (after logrotate moved it). */
void log_reopen(void);
void log_close(void);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);
/* The log's file descriptor when it is stdout, stderr or a file, else -1. */
int log_fd(void);

void log_error(const char *fmt, ...) PRINTF(1, 2);
void log_warn(const char *fmt, ...) PRINTF(1, 2);
void log_info(const char *fmt, ...) PRINTF(1, 2);
void log_debug(const char *fmt, ...) PRINTF(1, 2);
/* At info level whatever the configured level: asked-for output
 * (SIGUSR1's status). */
void log_status(const char *fmt, ...) PRINTF(1, 2);
/* Log at error level and exit 1. */
void fatal(const char *fmt, ...) PRINTF(1, 2) __attribute__((noreturn));

#endif
