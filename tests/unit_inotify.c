/* inotify.c, the one instance shared by every watcher, on real
 * directories: random steps of clients adding and removing watches
 * checked against a model (the same wd for the same directory, each
 * event to exactly the clients holding its wd, one end of batch each,
 * the kernel's watches exactly the directories someone holds), a
 * directory removed under two holders, and clients leaving. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/format.h"
#include "../src/inotify.h"
#include "../src/loop.h"
#include "../src/util.h"
#include "unit.h"

#define NDIRS 24
#define NCLIENTS 4

struct client {
	struct ino_client c;
	int got[NDIRS];		/* events with a name, by directory */
	int ignored[NDIRS];	/* IN_IGNORED */
	int stray;		/* events of a directory it does not hold */
	int batches;		/* ends of batch */
};

static char dirs[NDIRS][PATH_MAX];
static int wd_of[NDIRS];	/* while someone holds it */
static int holds[NCLIENTS][NDIRS];
static struct client cl[NCLIENTS];

static int dir_of(int wd)
{
	int j;

	for (j = 0; j < NDIRS; j++)
		if (wd_of[j] == wd)
			return j;
	return -1;
}

static void on_event(struct ino_client *c, const struct inotify_event *ev)
{
	struct client *k = container_of(c, struct client, c);
	int j = dir_of(ev->wd);

	if (j < 0 || !holds[k - cl][j])
		k->stray++;
	else if (ev->mask & IN_IGNORED)
		k->ignored[j]++;
	else if (ev->len)
		k->got[j]++;
}

static void on_batch_end(struct ino_client *c)
{
	container_of(c, struct client, c)->batches++;
}

static void on_pump(struct loop_timer *t)
{
	(void)t;
	loop_done();
}

/* Let the loop read what is queued. */
static void pump(void)
{
	struct loop_timer t = { 0 };

	t.cb = on_pump;
	loop_timer_set(&t, now_ms() + 40);
	loop_run();
}

/* The watches of this process's inotify instances, by the kernel. */
static int kernel_watches(void)
{
	char path[64], target[64], line[256];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && (de = readdir(d))) {
		ssize_t len;
		FILE *f;
		format(path, sizeof path, "/proc/self/fd/%s", de->d_name);
		len = readlink(path, target, sizeof target - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (strcmp(target, "anon_inode:inotify") != 0)
			continue;
		format(path, sizeof path, "/proc/self/fdinfo/%s", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof line, f))
			n += strncmp(line, "inotify wd:", 11) == 0;
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

static int held_dirs(void)
{
	int j, k, n = 0;

	for (j = 0; j < NDIRS; j++)
		for (k = 0; k < NCLIENTS; k++)
			if (holds[k][j]) {
				n++;
				break;
			}
	return n;
}

static int someone_holds(int j)
{
	int k;

	for (k = 0; k < NCLIENTS; k++)
		if (holds[k][j])
			return 1;
	return 0;
}

static void touch_all(int step)
{
	char path[PATH_MAX + 32];
	int j, fd;

	for (j = 0; j < NDIRS; j++) {
		format(path, sizeof path, "%s/f%d", dirs[j], step);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
			close(fd);
	}
}

/* Remove the files of directory path. */
static void empty(const char *path)
{
	char file[PATH_MAX + 32];
	DIR *d = opendir(path);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		format(file, sizeof file, "%s/%s", path, de->d_name);
		unlink(file);
	}
	if (d)
		closedir(d);
}

static void reset_counts(void)
{
	int k;

	for (k = 0; k < NCLIENTS; k++) {
		memset(cl[k].got, 0, sizeof cl[k].got);
		memset(cl[k].ignored, 0, sizeof cl[k].ignored);
		cl[k].stray = cl[k].batches = 0;
	}
}

int main(void)
{
	char top[] = "/tmp/poni-unit-inotify.XXXXXX";
	int j, k, step;

	if (loop_init() < 0 || !mkdtemp(top)) {
		printf("FAIL unit_inotify setup: %s\n", strerror(errno));
		return 1;
	}
	for (j = 0; j < NDIRS; j++) {
		format(dirs[j], sizeof dirs[j], "%s/d%d", top, j);
		mkdir(dirs[j], 0700);
	}
	for (k = 0; k < NCLIENTS; k++) {
		cl[k].c.event = on_event;
		cl[k].c.batch_end = on_batch_end;
		ino_join(&cl[k].c);
	}

	TEST("inotify: random adds and removes by 4 clients on 24 directories: one wd a "
	     "directory, each event to its holders, one end of batch, the kernel's "
	     "watches those held") {
		srand(1);
		for (step = 1; step <= 600; step++) {
			k = rand() % NCLIENTS;
			j = rand() % NDIRS;
			if (holds[k][j]) {
				ino_rm(&cl[k].c, wd_of[j]);
				holds[k][j] = 0;
				if (!someone_holds(j))
					wd_of[j] = 0;
			} else {
				int wd = ino_add(&cl[k].c, dirs[j], IN_ONLYDIR);
				CHECK(wd > 0);
				CHECK(!someone_holds(j) || wd == wd_of[j]);
				/* added again by a holder: nothing changes */
				CHECK(ino_add(&cl[k].c, dirs[j], IN_ONLYDIR) == wd);
				wd_of[j] = wd;
				holds[k][j] = 1;
			}
			if (step % 40)
				continue;
			pump();		/* the IN_IGNORED of removed watches */
			reset_counts();
			touch_all(step);
			pump();
			for (k = 0; k < NCLIENTS; k++) {
				int any = 0;
				for (j = 0; j < NDIRS; j++) {
					CHECK(!cl[k].got[j] == !holds[k][j]);
					any |= holds[k][j];
				}
				CHECK(cl[k].stray == 0);
				CHECK(cl[k].batches == any);
			}
			CHECK(kernel_watches() == held_dirs());
		}
		CHECK(ino_ready());
	}

	TEST("inotify: a directory removed under two holders: both get IN_IGNORED, the "
	     "hub forgets it, and a late ino_rm of it is harmless") {
		for (k = 0; k < 2; k++)
			if (!holds[k][0]) {
				wd_of[0] = ino_add(&cl[k].c, dirs[0], IN_ONLYDIR);
				holds[k][0] = 1;
			}
		pump();
		reset_counts();
		empty(dirs[0]);
		CHECK(rmdir(dirs[0]) == 0);
		pump();
		for (k = 0; k < NCLIENTS; k++)
			CHECK(cl[k].ignored[0] == holds[k][0]);
		for (k = 0; k < NCLIENTS; k++) {
			if (holds[k][0])
				ino_rm(&cl[k].c, wd_of[0]);	/* already forgotten */
			holds[k][0] = 0;
		}
		wd_of[0] = 0;
		CHECK(kernel_watches() == held_dirs());
		mkdir(dirs[0], 0700);
		wd_of[0] = ino_add(&cl[0].c, dirs[0], IN_ONLYDIR);
		holds[0][0] = 1;
		CHECK(wd_of[0] > 0);
		CHECK(kernel_watches() == held_dirs());
	}

	TEST("inotify: clients leaving let go of what they held, the others keep theirs") {
		for (j = 0; j < NDIRS; j++)
			for (k = 0; k < 2; k++)
				if (!holds[k][j]) {
					wd_of[j] = ino_add(&cl[k].c, dirs[j], IN_ONLYDIR);
					holds[k][j] = 1;
				}
		ino_leave(&cl[0].c);
		memset(holds[0], 0, sizeof holds[0]);
		CHECK(kernel_watches() == NDIRS);
		pump();
		reset_counts();
		touch_all(1000);
		pump();
		for (j = 0; j < NDIRS; j++)
			CHECK(cl[1].got[j] > 0);
		for (k = 1; k < NCLIENTS; k++) {
			ino_leave(&cl[k].c);
			memset(holds[k], 0, sizeof holds[k]);
		}
		CHECK(kernel_watches() == 0);
		/* ids are given again */
		for (k = 0; k < 100; k++) {
			ino_join(&cl[0].c);
			CHECK(ino_add(&cl[0].c, dirs[1], IN_ONLYDIR) > 0);
			ino_leave(&cl[0].c);
		}
		CHECK(kernel_watches() == 0);
	}

	ino_close();
	loop_free();
	for (j = 0; j < NDIRS; j++) {
		empty(dirs[j]);
		rmdir(dirs[j]);
	}
	rmdir(top);
	UNIT_EXIT();
}
