/* Starting rsync and ssh with posix_spawn: no shell, stdout on /dev/null
 * unless asked, stderr captured, each child in its own process group. */
#ifndef PONI_SPAWN_H
#define PONI_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#define PROC_ERR_HEAD 1024	/* bytes of a child's stderr kept from its start */
#define PROC_ERR_KEEP 2048	/* and from its end */

struct proc {
	pid_t pid;		/* 0: not running */
	int err_fd;		/* read end of its stderr, -1 when closed */
	char head[PROC_ERR_HEAD];	/* the first bytes it wrote there */
	size_t headlen;
	char err[PROC_ERR_KEEP];	/* the last bytes after those */
	size_t errlen;
	int cut;		/* bytes between the two were dropped */
};

/* Start argv[0] (looked up in PATH) with stdin_fd as its stdin and
 * stdout_fd as its stdout (-1: /dev/null; PROC_OUT_TO_ERR: the stderr
 * pipe, for output that is logged). Returns 0, or -1 with errno. */
#define PROC_OUT_TO_ERR (-2)
int proc_start(struct proc *p, char *const argv[], int stdin_fd, int stdout_fd);
/* The same with the environment envp (NULL: poni's own). */
int proc_start_env(struct proc *p, char *const argv[], char *const envp[], int stdin_fd,
    int stdout_fd);
/* An environment for that: env, then what of poni's environment env
 * does not name. Free the list only. */
char **proc_environ(char *const env[]);
/* Read what the child wrote to stderr, up to 128 KiB a call (the loop
 * calls again while there is more); keeps its head and its tail (rsync
 * names the failing files first and sums up last). Closes err_fd at end
 * of file. */
void proc_read_stderr(struct proc *p);
/* What was kept of it, "\n...\n" where bytes were dropped; then forget
 * it. Free the text. */
char *proc_take_stderr(struct proc *p);
/* Signal the child's whole process group. */
void proc_signal(const struct proc *p, int sig);
/* After the child was reaped: read what the pipe still holds (64 KiB
 * at most: one call) and close its stderr. */
void proc_finish(struct proc *p);

/* argv as one line for the log: every argument in shell single quotes
 * ($'...' with escapes when it holds control or non-ASCII bytes). */
char *argv_format(char *const argv[]);

#endif
