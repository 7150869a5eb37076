/* loop.c: timers in order and each once per round, fds removed while
 * the round runs, more fds than select() takes, children reaped and
 * handed to their callback (and one nobody registered just reaped),
 * signals in the order they came, loop_done waiting for the children. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/loop.h"
#include "../src/util.h"
#include "unit.h"

/* What the callbacks saw, in order, as letters. */
static char seen[64];
static size_t nseen;

static void saw(char c)
{
	if (nseen < sizeof seen - 1)
		seen[nseen++] = c;
	seen[nseen] = '\0';
}

static void reset(void)
{
	nseen = 0;
	seen[0] = '\0';
}

struct named_timer {
	struct loop_timer t;
	char name;
	int again;		/* set itself again for now this many times */
	int end;		/* then end the loop */
	struct loop_timer *cancel;	/* cancel this one when it runs */
};

static void on_timer(struct loop_timer *t)
{
	struct named_timer *n = container_of(t, struct named_timer, t);

	saw(n->name);
	if (n->cancel)
		loop_timer_cancel(n->cancel);
	if (n->again > 0) {
		n->again--;
		loop_timer_set(t, now_ms());
	} else if (n->end) {
		loop_done();
	}
}

struct named_fd {
	struct loop_fd f;
	char name;
	int pipe[2];
	struct loop_fd *remove;	/* take this one out when it runs */
};

static void on_fd(struct loop_fd *f, short revents)
{
	struct named_fd *n = container_of(f, struct named_fd, f);
	char c;

	(void)revents;
	saw(n->name);
	if (read(f->fd, &c, 1) < 0) {
		/* nothing: the test only counts the call */
	}
	if (n->remove)
		loop_fd_remove(n->remove);
	loop_fd_remove(f);
	loop_done();
}

/* Marks each round of the loop: stays readable. */
static void on_round(struct loop_fd *f, short revents)
{
	(void)f;
	(void)revents;
	saw('f');
}

static void named_pipe(struct named_fd *n, char name)
{
	memset(n, 0, sizeof *n);	/* slot 0: not registered */
	n->name = name;
	if (pipe2(n->pipe, O_CLOEXEC) < 0)
		exit(2);
	n->f.fd = n->pipe[0];
	n->f.events = POLLIN;
	n->f.cb = on_fd;
}

struct child {
	struct loop_process p;
	int status;
};

static void on_child(struct loop_process *p, int status)
{
	struct child *c = container_of(p, struct child, p);

	c->status = status;
	saw('c');
}

static pid_t child_exiting(int code, unsigned ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		usleep(ms * 1000);
		_exit(code);
	}
	return pid;
}

static void on_sig(int sig)
{
	saw(sig == SIGUSR1 ? '1' : sig == SIGUSR2 ? '2' : '?');
	loop_done();
}

/* Ends the loop after a while whatever happens. */
static void on_deadline(struct loop_timer *t)
{
	(void)t;
	saw('!');
	loop_done();
}

int main(void)
{
	struct loop_timer deadline = { 0 };

	if (loop_init() < 0) {
		printf("FAIL loop_init: %s\n", strerror(errno));
		return 1;
	}
	deadline.cb = on_deadline;

	TEST("timers: in order of due time, equal ones in the order they were set") {
		struct named_timer a = { { 0 }, 'a', 0, 0, NULL }, b = { { 0 }, 'b', 0, 0, NULL },
		    c = { { 0 }, 'c', 0, 1, NULL };
		long long now = now_ms();

		a.t.cb = b.t.cb = c.t.cb = on_timer;
		reset();
		loop_timer_set(&c.t, now + 30);
		loop_timer_set(&a.t, now + 10);
		loop_timer_set(&b.t, now + 10);
		loop_run();
		CHECK_STR(seen, "abc");
	}

	TEST("timers: set again for now by its callback, it runs in the next round, "
	     "and a cancelled one does not run") {
		struct named_timer a = { { 0 }, 'a', 2, 1, NULL }, b = { { 0 }, 'b', 0, 0, NULL },
		    x = { { 0 }, 'x', 0, 0, NULL };
		long long now = now_ms();
		struct named_fd round;

		named_pipe(&round, 'f');
		round.f.cb = on_round;
		if (write(round.pipe[1], "x", 1) != 1)
			CHECK(0);
		loop_fd_add(&round.f);
		a.t.cb = b.t.cb = x.t.cb = on_timer;
		b.cancel = &x.t;	/* x is due in the same round, after b */
		reset();
		loop_timer_set(&a.t, now);
		loop_timer_set(&b.t, now);
		loop_timer_set(&x.t, now);
		loop_run();
		/* each round: the fds, then the timers; round 1: a b (x
		 * cancelled by b); then a alone, twice */
		CHECK_STR(seen, "fabfafa");
		loop_timer_cancel(&x.t);
		loop_fd_remove(&round.f);
		close(round.pipe[0]);
		close(round.pipe[1]);
	}

	TEST("fds: one taken out by an earlier callback of the same round is not called") {
		struct named_fd p, q;

		named_pipe(&p, 'p');
		named_pipe(&q, 'q');
		p.remove = &q.f;
		q.remove = &p.f;
		loop_fd_add(&p.f);
		loop_fd_add(&q.f);
		if (write(p.pipe[1], "x", 1) != 1 || write(q.pipe[1], "x", 1) != 1)
			CHECK(0);
		reset();
		loop_run();
		CHECK(nseen == 1);
		close(p.pipe[0]);
		close(p.pipe[1]);
		close(q.pipe[0]);
		close(q.pipe[1]);
	}

	TEST("fds: numbers beyond select()'s FD_SETSIZE are polled") {
		struct rlimit rl;
		struct named_fd n;
		int fd;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FD_SETSIZE + 64 &&
		    rl.rlim_max >= FD_SETSIZE + 64) {
			rl.rlim_cur = FD_SETSIZE + 64;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		named_pipe(&n, 'n');
		if ((fd = fcntl(n.pipe[0], F_DUPFD_CLOEXEC, FD_SETSIZE + 10)) < 0) {
			printf("    (no fd above %d: %s; not tested)\n", FD_SETSIZE, strerror(errno));
		} else {
			n.f.fd = fd;
			loop_fd_add(&n.f);
			if (write(n.pipe[1], "x", 1) != 1)
				CHECK(0);
			reset();
			loop_timer_set(&deadline, now_ms() + 2000);
			loop_run();
			loop_timer_cancel(&deadline);
			CHECK_STR(seen, "n");
			close(fd);
		}
		close(n.pipe[0]);
		close(n.pipe[1]);
	}

	TEST("children: each exit goes to its own callback; loop_done waits for them; "
	     "a child nobody registered is reaped") {
		struct child a = { { 0 }, -1 }, b = { { 0 }, -1 };
		pid_t stray;

		a.p.cb = b.p.cb = on_child;
		reset();
		a.p.pid = child_exiting(3, 50);
		b.p.pid = child_exiting(4, 150);
		stray = child_exiting(5, 10);
		loop_process_add(&a.p);
		loop_process_add(&b.p);
		loop_done();	/* returns only once both are reaped */
		loop_timer_set(&deadline, now_ms() + 5000);
		loop_run();
		loop_timer_cancel(&deadline);
		CHECK_STR(seen, "cc");
		CHECK(WIFEXITED(a.status) && WEXITSTATUS(a.status) == 3);
		CHECK(WIFEXITED(b.status) && WEXITSTATUS(b.status) == 4);
		CHECK(waitpid(stray, NULL, WNOHANG) < 0 && errno == ECHILD);
	}

	TEST("signals: handed to their callbacks in the loop, in the order they came") {
		CHECK(loop_signal(SIGUSR1, on_sig) == 0);
		CHECK(loop_signal(SIGUSR2, on_sig) == 0);
		CHECK(loop_signal(SIGCHLD, on_sig) < 0);
		reset();
		kill(getpid(), SIGUSR2);
		kill(getpid(), SIGUSR1);
		kill(getpid(), SIGUSR2);	/* the same again in one round: once */
		loop_run();
		CHECK_STR(seen, "21");
	}

	loop_free();
	UNIT_EXIT();
}
