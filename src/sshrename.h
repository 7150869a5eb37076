/* Renames on an ssh target, without a remote shell: one ssh child
 * (through poni's master when there is one) per batch, asking the
 * host's sshd for its sftp subsystem, which renames each path with
 * plain SFTP RENAME (never over an existing target). sftp-server follows
 * symbolic links in the directories above a path: a rename is asked
 * for only when each of those (below dir) is a directory on the target
 * (LSTAT first), so that no link leads it out of the target. Run in
 * the event loop: it never blocks, and it is bounded in time. */
#ifndef PONI_SSHRENAME_H
#define PONI_SSHRENAME_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "loop.h"
#include "sftp.h"
#include "spawn.h"

/* A child that has not ended this long after its start is killed: the
 * renames it did not confirm are transfers then. */
#define SSHRENAME_TIMEOUT_MS (30L * 1000)

struct sshrename {
	bool *ok;		/* the caller's: rename i was done */
	size_t n;
	char *error;		/* once done: why renames were not done (for
				 * the log; "" when all were tried), or NULL */
	void (*done)(struct sshrename *r);
	/* its own */
	bool *made;		/* the caller's, or NULL */
	char *dir, **from, **to;	/* copies */
	bool *parents;		/* copy, or NULL */
	char **dirs;		/* the directories above them, sorted */
	size_t ndirs;
	bool *dir_ok;		/* each a directory, not a link, on the target */
	bool *dir_missing;	/* or not there at all */
	size_t nops;		/* the mkdirs and renames asked for, in order: */
	size_t *op_move;	/* the move each is for */
	bool *op_rename;	/* a rename, or a mkdir */
	bool *op_ok;
	bool renaming;		/* past the directories, renaming */
	struct proc proc;
	struct buf req;		/* the requests, and how much went */
	size_t req_sent;
	struct sftp_answers answers;
	size_t got;		/* bytes of answer */
	struct loop_fd in, out, err;
	struct loop_process child;
	struct loop_timer timer;	/* the time bound */
	long long started;
	bool timed_out;
};

/* Rename dir/from[i] to dir/to[i] on s's host, in order, through the
 * master at control (or NULL); from[i] and to[i] are relative to dir
 * (which is not checked: the user's remote_path). With parents[i] (if
 * parents is not NULL), directories above to[i] that the target lacks
 * are made first (mode 0700), and made[i] tells whether one was (if
 * made is not NULL); never one where an earlier move of the batch
 * lands, nor below. Returns 0, and done(r) is called from the
 * loop once the child is reaped, with ok[i] set for each rename the
 * server confirmed (none when its answer is cut short or garbled);
 * from, to and dir may go once this returns, ok and r must stay.
 * Returns -1 when no child could be started: every ok[i] false, error
 * set, done not called. */
int sshrename_start(struct sshrename *r, const struct sync_conf *s, const char *control,
    const char *dir, char *const from[], char *const to[], const bool *parents, size_t n,
    bool *ok, bool *made, void (*done)(struct sshrename *r));
/* Whether a child runs (done not called yet). */
bool sshrename_running(const struct sshrename *r);
/* Stop the child now (poni stops): SIGTERM to its process group; done
 * still comes once it is reaped. */
void sshrename_stop(struct sshrename *r);
/* Free what start and done left (error). */
void sshrename_clear(struct sshrename *r);

#endif
