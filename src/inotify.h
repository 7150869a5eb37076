/* The one inotify instance of the daemon, shared by every watcher, so
 * that the number of syncs is bounded by memory and watches, not by
 * fs.inotify.max_user_instances. A watcher is a client: it adds and
 * removes watches through the hub, and gets the events of its own watch
 * descriptors. */
#ifndef PONI_INOTIFY_H
#define PONI_INOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/inotify.h>

/* The one mask of every watch: inotify replaces the mask of a watch
 * that is added again, and two clients watching one directory share
 * its watch, so each filters what it does not want itself. */
#define INO_EVENTS (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | \
	IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
	IN_MOVE_SELF | IN_EXCL_UNLINK)

/* Embedded in the client's own struct (container_of finds it again). */
struct ino_client {
	/* Each event on a descriptor it holds, IN_Q_OVERFLOW (wd -1) and
	 * IN_IGNORED (after which the hub has forgotten the descriptor)
	 * included. It must not leave the hub from here. */
	void (*event)(struct ino_client *c, const struct inotify_event *ev);
	/* Once after each batch in which it got events. */
	void (*batch_end)(struct ino_client *c);
	/* The hub's. */
	uint32_t id;
	int touched;
	struct ino_client *next_touched;
	size_t held;		/* descriptors held */
};

void ino_join(struct ino_client *c);
/* Let go of every descriptor still held, and leave. */
void ino_leave(struct ino_client *c);
/* Watch path (lookup: IN_ONLYDIR, IN_DONT_FOLLOW) with INO_EVENTS; the
 * instance is created on first use, and tried again on each call while
 * it could not be. The wd (the same for each client watching the same
 * directory; adding it again is a no-op), or -1 with errno. */
int ino_add(struct ino_client *c, const char *path, uint32_t lookup);
/* Let go of wd: its watch is removed when no client holds it any more. */
void ino_rm(struct ino_client *c, int wd);
/* Whether the instance exists (false after it could not be created:
 * then nothing can be watched, and ino_add logged why, once). */
int ino_ready(void);
/* /proc/sys/fs/inotify/NAME (max_user_watches...), or -1. */
long ino_sysctl(const char *name);
/* Close the instance, free the table (every client has left). */
void ino_close(void);

#endif
