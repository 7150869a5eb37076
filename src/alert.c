/* on_state's commands. Each is a child of its own in the loop: its
 * output (stdout and stderr, one pipe) logged line by line when it ends,
 * SIGKILL after ALERT_TIMEOUT_MS, at most ALERT_MAX at once. It gets
 * poni's environment with the sync's variables, which replace any of
 * the same name. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "alert.h"
#include "loop.h"
#include "spawn.h"
#include "util.h"

#define ALERT_TIMEOUT_MS (30 * 1000L)
#define ALERT_STOP_MS 1000L
#define ALERT_MAX 8

struct alert {
	struct proc proc;
	struct loop_process child;
	struct loop_fd out;
	struct loop_timer timer;
	char *label;
	char *program;
	bool killed;
	struct alert *next;
};

static struct alert *running;
static size_t nrunning;

static void on_output(struct loop_fd *f, short revents)
{
	struct alert *a = container_of(f, struct alert, out);

	(void)revents;
	proc_read_stderr(&a->proc);
	if (a->proc.err_fd < 0)
		loop_fd_remove(f);
}

static void on_timeout(struct loop_timer *t)
{
	struct alert *a = container_of(t, struct alert, timer);

	if (!a->killed)
		log_warn("sync %s: on_state %s still runs after %ld s: killed", a->label,
		    a->program, ALERT_TIMEOUT_MS / 1000);
	a->killed = true;
	proc_signal(&a->proc, SIGKILL);
}

static void on_exit_status(struct loop_process *c, int status)
{
	struct alert *a = container_of(c, struct alert, child), **pp;
	char *text, *line, *save = NULL;
	struct buf b = { 0 };

	loop_fd_remove(&a->out);
	loop_timer_cancel(&a->timer);
	proc_finish(&a->proc);
	text = proc_take_stderr(&a->proc);
	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		buf_add_escaped(&b, line);
		log_info("sync %s: on_state: %s", a->label, b.s);
		b.len = 0;
		b.s[0] = '\0';
	}
	buf_free(&b);
	free(text);
	if (WIFEXITED(status) && WEXITSTATUS(status))
		log_warn("sync %s: on_state %s exited %d", a->label, a->program, WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && !a->killed)
		log_warn("sync %s: on_state %s killed by signal %d", a->label, a->program,
		    WTERMSIG(status));
	for (pp = &running; *pp != a; pp = &(*pp)->next)
		;
	*pp = a->next;
	nrunning--;
	free(a->label);
	free(a->program);
	free(a);
}

void alert_run(const char *label, char *const argv[], char *const env[])
{
	struct alert *a;
	char **envp;
	int rc, err;

	if (nrunning == ALERT_MAX) {
		log_warn("sync %s: on_state not run: %d commands run already", label, ALERT_MAX);
		return;
	}
	a = xcalloc(1, sizeof *a);
	envp = proc_environ(env);
	rc = proc_start_env(&a->proc, argv, envp, -1, PROC_OUT_TO_ERR);
	err = errno;
	free(envp);
	if (rc < 0) {
		log_error("sync %s: cannot start on_state %s: %s", label, argv[0], strerror(err));
		free(a);
		return;
	}
	a->label = xstrdup(label);
	a->program = xstrdup(argv[0]);
	a->out.fd = a->proc.err_fd;
	a->out.events = POLLIN;
	a->out.cb = on_output;
	loop_fd_add(&a->out);
	a->child.pid = a->proc.pid;
	a->child.cb = on_exit_status;
	loop_process_add(&a->child);
	a->timer.cb = on_timeout;
	loop_timer_set(&a->timer, now_ms() + ALERT_TIMEOUT_MS);
	a->next = running;
	running = a;
	nrunning++;
}

void alert_stop_all(void)
{
	struct alert *a;

	for (a = running; a; a = a->next) {
		proc_signal(&a->proc, SIGTERM);
		loop_timer_set(&a->timer, now_ms() + ALERT_STOP_MS);
		a->killed = true;	/* poni stops: no complaint */
	}
}
