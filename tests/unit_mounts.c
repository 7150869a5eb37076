/* The mount table helpers: canonical paths, "within", and the mounts a
 * path depends on from a test /etc/fstab (tests/mounts/fstab) and a test
 * OpenWrt /etc/config/fstab (tests/mounts/uci), built in with
 * -DFSTAB_FILE and -DUCI_FSTAB_FILE. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/mounts.h"
#include "unit.h"

static bool has(char **list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

int main(void)
{
	char *p, **l;

	TEST("mounts: canonical_path tidies what does not exist") {
		p = canonical_path("/nonexistent-poni//a/./b/../c/");
		CHECK_STR(p, "/nonexistent-poni/a/c");
		free(p);
		p = canonical_path("/");
		CHECK_STR(p, "/");
		free(p);
		p = canonical_path("/nonexistent-poni/../..");
		CHECK_STR(p, "/");
		free(p);
	}
	TEST("mounts: canonical_path follows symbolic links as far as they exist") {
		char dir[] = "/tmp/poni-unit.XXXXXX", real[64], link[160];
		if (mkdtemp(dir)) {
			snprintf(real, sizeof real, "%s/real", dir);
			snprintf(link, sizeof link, "%s/link/x/../y", dir);
			CHECK(mkdir(real, 0700) == 0);
			snprintf(link, sizeof link, "%s/link", dir);
			CHECK(symlink(real, link) == 0);
			snprintf(link, sizeof link, "%s/link/x/../y", dir);
			p = canonical_path(link);
			snprintf(link, sizeof link, "%s/y", real);
			CHECK_STR(p, link);
			free(p);
			snprintf(link, sizeof link, "%s/link", dir);
			unlink(link);
			rmdir(real);
			rmdir(dir);
		}
	}
	TEST("mounts: path_within is by whole components") {
		CHECK(path_within("/a/b", "/a"));
		CHECK(path_within("/a", "/a"));
		CHECK(path_within("/anything", "/"));
		CHECK(!path_within("/ab", "/a"));
		CHECK(!path_within("/a", "/a/b"));
	}
	TEST("mounts: the /etc/fstab entry that holds a path (noauto, escapes, the deepest)") {
		l = mounts_of("/mnt/poni-test-usb/backup", false);
		CHECK(has(l, "/mnt/poni-test-usb"));
		CHECK(!has(l, "/mnt/poni-test-usb/deeper"));
		CHECK_STR(mounts_missing(l), "/mnt/poni-test-usb");
		mounts_free(l);
		l = mounts_of("/mnt/poni-test-usb/deeper/x", false);
		CHECK(has(l, "/mnt/poni-test-usb/deeper") && !has(l, "/mnt/poni-test-usb"));
		mounts_free(l);
		l = mounts_of("/mnt/poni test disk", false);
		CHECK(has(l, "/mnt/poni test disk"));
		mounts_free(l);
		l = mounts_of("/mnt/poni-test-no/x", false);	/* a comment */
		CHECK(!mounts_missing(l));
		mounts_free(l);
		l = mounts_of("/srv/poni-test", false);		/* "/" is no reason to wait */
		CHECK(!mounts_missing(l) && l[0] && !l[1]);
		mounts_free(l);
	}
	TEST("mounts: OpenWrt's /etc/config/fstab: enabled mount sections only") {
		l = mounts_of("/mnt/poni-test-sda1/data", false);
		CHECK(has(l, "/mnt/poni-test-sda1"));
		mounts_free(l);
		l = mounts_of("/mnt/poni-test-bare", false);
		CHECK(has(l, "/mnt/poni-test-bare"));
		mounts_free(l);
		l = mounts_of("/mnt/poni-test-off/data", false);
		CHECK(!has(l, "/mnt/poni-test-off"));
		mounts_free(l);
	}
	TEST("mounts: the mount that holds a path, and those below it") {
		l = mounts_of("/", true);
		CHECK(has(l, "/"));
		CHECK(has(l, "/proc"));
		CHECK(!mounts_missing(l));
		mounts_free(l);
		l = mounts_of("/proc/self", false);
		CHECK(has(l, "/proc") && !has(l, "/"));
		mounts_free(l);
	}
	TEST("mounts: mounts_equal ignores order") {
		char *a[] = { "/x", "/y", NULL }, *b[] = { "/y", "/x", NULL }, *c[] = { "/x", NULL };
		CHECK(mounts_equal(a, b));
		CHECK(!mounts_equal(a, c) && !mounts_equal(c, a));
	}
	mounts_open();
	mounts_close();
	UNIT_EXIT();
}
