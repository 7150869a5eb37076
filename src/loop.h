/* The event loop, in the shape of OpenWrt libubox's uloop: file
 * descriptors, timers and child processes are registered with a
 * callback, and signals are handed to callbacks; the loop knows none of
 * its clients. Each registration is a struct that the client embeds in
 * its own (container_of finds the client again), so registering never
 * allocates, and nothing registered may be freed before it is removed.
 * Callbacks run one at a time and must not block. */
#ifndef PONI_LOOP_H
#define PONI_LOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* An fd polled for events (poll(2)'s: POLLIN, POLLPRI); cb gets what
 * poll reported, POLLHUP and POLLERR included. */
struct loop_fd {
	int fd;
	short events;
	void (*cb)(struct loop_fd *f, short revents);
	size_t slot;		/* the loop's: 0 when not registered */
};
void loop_fd_add(struct loop_fd *f);
void loop_fd_remove(struct loop_fd *f);	/* no-op when not registered */

/* A one-shot timer: cb runs once now_ms() has reached due. */
struct loop_timer {
	long long due;
	void (*cb)(struct loop_timer *t);
	struct loop_timer *next, **pprev;	/* the loop's */
};
void loop_timer_set(struct loop_timer *t, long long due);	/* or move it */
void loop_timer_cancel(struct loop_timer *t);	/* no-op when not set */

/* A child: cb runs once it has been reaped, with its wait status. */
struct loop_process {
	pid_t pid;
	void (*cb)(struct loop_process *p, int status);
	struct loop_process *next;	/* the loop's */
};
void loop_process_add(struct loop_process *p);

/* The self-pipe and SIGCHLD (children are reaped with WNOHANG and
 * handed to their callback; one registered by nobody is just reaped);
 * SIGPIPE ignored. 0, or -1 with errno. */
int loop_init(void);
/* Catch sig and run cb for it in the loop (the handler itself only
 * writes to the self-pipe). Several at once run in the order they came,
 * each once. 0, or -1 with errno. */
int loop_signal(int sig, void (*cb)(int sig));
/* Run until loop_done() was called and every registered child has been
 * reaped. */
void loop_run(void);
void loop_done(void);
/* Close the self-pipe, free the tables. */
void loop_free(void);

#endif
