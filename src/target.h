/* A local target as poni found it: which directory it is, the file
 * systems it depends on, and how finely it keeps modification times.
 * Before each run it must still be that directory on those mounts, so
 * that nothing lands in a bare mount point or a freshly made empty
 * directory and is called synced. */
#ifndef PONI_TARGET_H
#define PONI_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

struct target {
	const char *path;	/* the sync's remote_path (not owned) */
	const char *label;	/* the sync's, for the log (not owned) */
	bool window_given;	/* modify_window is set: no need to say */
	char **mounts;		/* NULL until a run found it */
	dev_t dev;
	ino_t ino;
	int mtime_window;	/* its timestamps: -1 exact, else seconds */
};

enum target_check {
	TARGET_SAME,		/* the last run's directory, or found in place now */
	TARGET_NEW,		/* not there yet: a full run makes it (or rsync
				 * says why it cannot) */
	TARGET_OTHER,		/* not the last run's directory: a full run */
	TARGET_GONE		/* unmounted or removed since the last run: wait */
};

void target_init(struct target *t, const char *path, const char *label, bool window_given);
void target_clear(struct target *t);
/* Before a run. TARGET_GONE sets *why (free it). */
enum target_check target_check(struct target *t, char **why);
/* After a successful run: the target as the run left it. */
void target_record(struct target *t);

#endif
