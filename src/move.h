/* Moves on the target: a file or directory that poni saw renamed within
 * the source is renamed on the target too, so that its data is not sent
 * again. The engine (sync.c) records the moves of a run in order and,
 * before the run's rsyncs, gives them to the mover of the sync's
 * transport; a move the mover made leaves its two paths to a quick
 * check (size and time: no data), one it did not make to a normal
 * transfer, so the replica converges either way. */
#ifndef PONI_MOVE_H
#define PONI_MOVE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct move {
	char *from, *to;	/* relative to the source directory */
	bool is_dir;		/* a directory: the engine sets it to what the
				 * source's "to" is now, if it is there */
	bool parents;		/* the source has to's directory: the mover may
				 * make what the target lacks of it */
	bool done;		/* the mover renamed it on the target */
	bool made;		/* and made directories above "to" for it */
};

/* Make moves[0..n) on the target of conf, in order, setting done for
 * each one made. The paths on the target are remote_path/PREFIX/from
 * and remote_path/PREFIX/to (PREFIX as rsync_list_base gives it). A move
 * is made only when "from" is there with the same type (directory or
 * not) as is_dir says and "to" is not (nothing is overwritten), both
 * inside the target. With parents, the directories above "to" that the
 * target lacks are made (mode 0700: rsync gives them theirs), and made
 * is set. control is the sync's ssh master, or NULL. Called
 * at the start of a run, before its rsyncs; it must not take long. */
typedef void mover_fn(const struct sync_conf *conf, const char *control,
		      const char *prefix, struct move *moves, size_t n);

/* The mover of a local target: renameat(2) from directory fds opened
 * one component at a time without following symbolic links, so that no
 * link on the target leads a rename outside it. */
mover_fn move_local;

#endif
