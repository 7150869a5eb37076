/* The local target as poni found it (see target.h). The first run takes
 * the directory it finds in place (or the one it makes); from then on
 * the target must be that directory, on the same mounts. One that went
 * away (its disk unmounted, the directory removed) is waited for; a
 * different one is synced in full. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mounts.h"
#include "target.h"
#include "util.h"

void target_init(struct target *t, const char *path, const char *label, bool window_given)
{
	memset(t, 0, sizeof *t);
	t->path = path;
	t->label = label;
	t->window_given = window_given;
	t->mtime_window = -1;
}

void target_clear(struct target *t)
{
	mounts_free(t->mounts);
	t->mounts = NULL;
}

/* How finely a directory's file system keeps modification times: -1 to
 * the nanosecond, 0 to the second, else by how many seconds a time may
 * move (FAT keeps even seconds). Probed with a file of its own. */
static int probe_window(const char *dir)
{
	struct timespec t[2] = { { 1000000001, 123456789 }, { 1000000001, 123456789 } };
	char *path = xasprintf("%s/.poni-probe.XXXXXX", dir);
	int fd = mkostemp(path, O_CLOEXEC), window = -1;
	long long moved;
	struct stat st;

	if (fd >= 0 && futimens(fd, t) == 0 && stat(path, &st) == 0) {
		moved = (long long)st.st_mtim.tv_sec - t[1].tv_sec;
		if (moved < 0)
			moved = -moved;
		if (moved)
			window = moved < 60 ? (int)moved : 60;
		else if (st.st_mtim.tv_nsec != t[1].tv_nsec)
			window = 0;
	}
	if (fd >= 0) {
		unlink(path);
		close(fd);
	}
	free(path);
	return window;
}

/* Take st as the target to keep in step: remember which directory it
 * is and on which mounts, and how it keeps times. */
static void adopt(struct target *t, const struct stat *st)
{
	if (t->mounts && st->st_dev == t->dev && st->st_ino == t->ino)
		return;
	mounts_free(t->mounts);
	t->mounts = mounts_of(t->path, false);
	t->dev = st->st_dev;
	t->ino = st->st_ino;
	t->mtime_window = probe_window(t->path);
	if (t->mtime_window >= 0 && !t->window_given)
		log_info("sync %s: the target keeps modification times to %s; full runs "
		    "compare them with --modify-window=%d", t->label,
		    t->mtime_window ? "even seconds or coarser" : "the second", t->mtime_window);
}

void target_record(struct target *t)
{
	struct stat st;

	if (stat(t->path, &st) == 0)
		adopt(t, &st);
}

enum target_check target_check(struct target *t, char **why)
{
	char **fresh = t->mounts ? NULL : mounts_of(t->path, false);
	const char *gone = mounts_missing(t->mounts ? t->mounts : fresh);
	enum target_check found = TARGET_SAME;
	struct stat st;

	if (gone) {
		*why = xasprintf("the target's file system %s is not mounted", gone);
		found = TARGET_GONE;
	} else if (stat(t->path, &st) < 0) {
		if (t->mounts) {
			*why = xasprintf("the target %s is gone: %s", t->path,
			    errno == ENOENT ? "removed since the last run" : strerror(errno));
			found = TARGET_GONE;
		} else {
			found = TARGET_NEW;
		}
	} else if (!t->mounts) {
		adopt(t, &st);	/* found in place: this one */
	} else if (st.st_dev != t->dev || st.st_ino != t->ino) {
		found = TARGET_OTHER;
	}
	mounts_free(fresh);
	return found;
}
