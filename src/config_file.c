/* Loading a config file (see config_file.h): the file's checks, then
 * front end -> builder, the one way data flows. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_file.h"
#include "config_ini.h"
#include "config_yaml.h"
#include "util.h"

#define MAX_CONFIG_SIZE (16 << 20)

/* The config names the commands poni runs, usually as root: like doas,
 * refuse one that someone else could have written. */
static int check_owner(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		format(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		format(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		format(err, errlen,
		    "%s: writable by %s (mode %03o): others could make poni run their commands; "
		    "chmod go-w %s", path, st.st_mode & S_IWOTH ? "everyone" : "its group",
		    (unsigned)(st.st_mode & 0777), path);
		return -1;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		format(err, errlen,
		    "%s: owned by uid %ld, not root, while poni runs as root: "
		    "that user could make poni run their commands; chown root %s",
		    path, (long)st.st_uid, path);
		return -1;
	}
	return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	char *text = NULL;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		format(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (check_owner(fd, path, err, errlen) == 0 &&
	    !(text = read_all(fd, MAX_CONFIG_SIZE, len)))
		format(err, errlen, "%s: cannot read: %s", path,
		    errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
	close(fd);
	return text;
}

struct config *config_load(const char *path, int flags, char *err, size_t errlen)
{
	struct config_builder *b;
	struct config *cfg = NULL;
	size_t len;
	char *text;

	if (!(text = read_file(path, &len, err, errlen)))
		return NULL;
	b = config_builder_new(path);
	if ((config_is_ini(path, text, len) ? config_ini_feed(b, text, len) :
	    config_yaml_feed(b, text, len)) == 0)
		cfg = config_finish(b, flags);
	if (!cfg)
		format(err, errlen, "%s", config_error(b));
	config_builder_free(b);
	free(text);
	return cfg;
}
