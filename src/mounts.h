/* The mount table, as the kernel shows it in /proc/self/mountinfo, and
 * the mounts /etc/fstab expects: which file systems a source or a target
 * lives on, whether they are still mounted, and a descriptor that tells
 * the loop when the table changed. */
#ifndef PONI_MOUNTS_H
#define PONI_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

/* Open /proc/self/mountinfo. Its descriptor (-1 without /proc) shows
 * POLLPRI (and POLLERR) to poll() after each change of the table; call
 * mounts_changed then. */
int mounts_open(void);
int mounts_fd(void);
void mounts_changed(void);
void mounts_close(void);

/* The mount points that path depends on, as a list of strings (free
 * with mounts_free): the one that holds it, those below it (when
 * below is true), and the /etc/fstab entry that holds it when that is
 * not "/". Empty when the table cannot be read. */
char **mounts_of(const char *path, bool below);
void mounts_free(char **list);
/* The first of list that is not mounted now, or NULL. */
const char *mounts_missing(char *const *list);
/* Whether two lists hold the same mount points. */
bool mounts_equal(char *const *a, char *const *b);

/* path made absolute and free of symbolic links, ".", ".." and double
 * slashes, as far as it exists; the rest taken as written. */
char *canonical_path(const char *path);
/* Whether path is dir or lies below it (both canonical). */
bool path_within(const char *path, const char *dir);

#endif
