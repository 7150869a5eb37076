/* Exclude patterns as rsync reads them from poni's config: the check of
 * one --exclude value, and rsync's exclude files (--exclude-from). */
#ifndef PONI_EXCLUDE_FILE_H
#define PONI_EXCLUDE_FILE_H

#include <stddef.h>

/* Whether rsync reads --exclude=VALUE as the pattern poni matches: NULL,
 * or msg saying what is wrong and what to write instead. */
const char *exclude_check(const char *value, char *msg, size_t msglen);

/* Largest exclude file poni reads. */
#define EXCLUDE_FILE_MAX (1024 * 1024)

/* Append the patterns of an rsync exclude file to *list (*n of them), as
 * rsync's --exclude-from reads it: a pattern a line (\n, \r or \r\n end
 * one, nothing is trimmed), blank lines and lines starting with ; or #
 * skipped, a leading "- " (an exclude rule) dropped. Returns 0; or -1
 * with *line 0 and errno (the file), or with *line the bad pattern's
 * line and msg. */
int exclude_file_read(const char *path, char ***list, size_t *n, int *line,
		      char *msg, size_t msglen);

#endif
