# poni - inotify to rsync daemon
# See LICENSE file for copyright and license details.
.POSIX:

include config.mk

# The project's flags come first and the user's are appended, so
# "make CC=musl-gcc CFLAGS=-Os LDFLAGS=-static" keeps the warnings and
# feature macros.
# INI=1 adds INI configs through the system's inih (see config.mk).
INI_CPPFLAGS_1 = -DPONI_INI $(INI_CFLAGS)
INI_LDLIBS_1 = $(INI_LIBS)

override CPPFLAGS := -D_GNU_SOURCE -DVERSION=\"$(VERSION)\" \
	-DSYSCONFDIR=\"$(SYSCONFDIR)\" $(INI_CPPFLAGS_$(INI)) $(CPPFLAGS)
override CFLAGS := -std=c99 -pedantic -Wall -Wextra $(WERROR) $(CFLAGS)
override LDFLAGS := $(LDFLAGS)
LDLIBS = $(INI_LDLIBS_$(INI))

SRC = src/main.c src/format.c src/log.c src/util.c src/yaml.c src/config.c \
	src/config_yaml.c src/config_ini.c src/config_file.c src/rsync.c src/rsync_options.c src/exclude.c \
	src/exclude_file.c src/match.c src/spawn.c src/wdtree.c src/inotify.c src/watch.c src/sshmaster.c \
	src/pathset.c src/mounts.c src/sync.c src/runq.c src/target.c src/move.c src/sftp.c \
	src/sshrename.c src/loop.c src/daemon.c src/status.c src/alert.c
OBJ = $(SRC:.c=.o)
HDR = src/format.h src/log.h src/util.h src/yaml.h src/config.h src/rsync.h \
	src/exclude.h src/exclude_file.h src/match.h src/config_yaml.h src/config_ini.h src/config_file.h \
	src/spawn.h src/sshmaster.h src/wdtree.h src/inotify.h src/watch.h src/pathset.h src/mounts.h \
	src/sync.h src/runq.h src/target.h src/move.h src/sftp.h src/sshrename.h src/loop.h src/daemon.h \
	src/status.h src/alert.h

# unit tests: one per pure module, linked with just what they test
UNIT = tests/unit_format tests/unit_yaml tests/unit_config tests/unit_rsync \
	tests/unit_exclude tests/unit_mounts tests/unit_wdtree tests/unit_loop tests/unit_runq \
	tests/unit_inotify tests/unit_pathset tests/unit_sftp
UNIT_SRC = tests/unit_format.c tests/unit_yaml.c tests/unit_config.c tests/unit_rsync.c \
	tests/unit_exclude.c tests/unit_mounts.c tests/unit_wdtree.c tests/unit_loop.c \
	tests/unit_runq.c tests/unit_inotify.c tests/unit_pathset.c tests/unit_sftp.c tests/unit.h
# tests/sys_exclude.sh's helper: poni's exclude matcher against rsync;
# tests/sys_sftp.sh's: renames through src/sshrename.c
TEST_BIN = tests/exclude_rsync tests/rsync_arg_check tests/sftp_try
CONFIG_OBJ = src/config.o src/config_yaml.o src/config_ini.o src/yaml.o src/rsync.o src/rsync_options.o \
	src/exclude_file.o src/mounts.o \
	src/exclude.o src/match.o src/util.o src/log.o src/format.o

all: poni

poni: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $(OBJ) $(LDFLAGS) $(LDLIBS)

$(OBJ): $(HDR) config.mk Makefile .build-flags

.c.o:
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The compiler and flags of the last build: when they change (make, then
# make CC=musl-gcc LDFLAGS=-static) this file does and everything is
# built again, so the objects of two compilers never mix.
.build-flags: FORCE
	@f='$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(LDLIBS)'; \
	[ "$$f" = "$$(cat $@ 2>/dev/null)" ] || printf '%s\n' "$$f" > $@

tests/unit_format: tests/unit_format.c tests/unit.h src/format.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_format.c src/format.o $(LDFLAGS)
tests/unit_yaml: tests/unit_yaml.c tests/unit.h src/yaml.o src/format.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_yaml.c src/yaml.o src/format.o $(LDFLAGS)
tests/unit_config: tests/unit_config.c tests/unit.h $(CONFIG_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_config.c $(CONFIG_OBJ) $(LDFLAGS) $(LDLIBS)
tests/unit_rsync: tests/unit_rsync.c tests/unit.h $(CONFIG_OBJ) src/spawn.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_rsync.c $(CONFIG_OBJ) src/spawn.o $(LDFLAGS) $(LDLIBS)
tests/unit_exclude: tests/unit_exclude.c tests/unit.h src/exclude.o src/match.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_exclude.c src/exclude.o src/match.o $(LDFLAGS)
# mounts.c again, reading a test fstab and a test OpenWrt fstab
tests/unit_mounts: tests/unit_mounts.c tests/unit.h src/mounts.c src/mounts.h src/util.o src/log.o src/format.o
	$(CC) $(CPPFLAGS) -DFSTAB_FILE='"tests/mounts/fstab"' -DUCI_FSTAB_FILE='"tests/mounts/uci"' \
		$(CFLAGS) -o $@ tests/unit_mounts.c src/mounts.c src/util.o src/log.o src/format.o $(LDFLAGS)
tests/unit_wdtree: tests/unit_wdtree.c tests/unit.h src/wdtree.o src/util.o src/log.o src/format.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_wdtree.c src/wdtree.o src/util.o src/log.o \
		src/format.o $(LDFLAGS)
tests/unit_runq: tests/unit_runq.c tests/unit.h src/runq.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_runq.c src/runq.o $(LDFLAGS)
tests/unit_loop: tests/unit_loop.c tests/unit.h src/loop.o src/util.o src/log.o src/format.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_loop.c src/loop.o src/util.o src/log.o \
		src/format.o $(LDFLAGS)
tests/unit_inotify: tests/unit_inotify.c tests/unit.h src/inotify.o src/loop.o src/util.o src/log.o \
		src/format.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_inotify.c src/inotify.o src/loop.o src/util.o \
		src/log.o src/format.o $(LDFLAGS)
tests/unit_pathset: tests/unit_pathset.c tests/unit.h src/pathset.o src/util.o src/log.o src/format.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_pathset.c src/pathset.o src/util.o src/log.o \
		src/format.o $(LDFLAGS)
tests/unit_sftp: tests/unit_sftp.c tests/unit.h $(CONFIG_OBJ) src/sftp.o src/spawn.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_sftp.c $(CONFIG_OBJ) src/sftp.o src/spawn.o \
		$(LDFLAGS) $(LDLIBS)
unit: $(UNIT)
SFTP_TRY_OBJ = src/sshrename.o src/sftp.o src/spawn.o src/loop.o $(CONFIG_OBJ)
tests/sftp_try: tests/sftp_try.c $(SFTP_TRY_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/sftp_try.c $(SFTP_TRY_OBJ) $(LDFLAGS) $(LDLIBS)
tests/exclude_rsync: tests/exclude_rsync.c src/exclude.o src/match.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/exclude_rsync.c src/exclude.o src/match.o $(LDFLAGS)
# tests/sys_rsync_args.sh's helper: poni's verdict on rsync options
tests/rsync_arg_check: tests/rsync_arg_check.c src/rsync.h src/rsync_options.o src/util.o \
		src/log.o src/format.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/rsync_arg_check.c src/rsync_options.o src/util.o \
		src/log.o src/format.o $(LDFLAGS)

# make check: build everything, make sure the test tools are there
# (installed when run as root, else named), run every test.
check: poni $(UNIT) $(TEST_BIN)
	@tests/deps.sh
	@tests/run.sh

# make fuzz: the config parser and builder under libFuzzer (clang) for
# FUZZ_SECONDS; make check runs it for 30 s only.
FUZZ_SECONDS = 600
fuzz:
	@tests/fuzz.sh $(FUZZ_SECONDS)

# make demo: mirror demo/src to demo/dst with a local config, so a
# newcomer sees poni at work. Ctrl-C stops it.
demo: poni
	@tests/demo.sh

# make static, make cross: small static binaries (see config.mk). Each
# is built by this Makefile in its own tree build/NAME, whose files are
# symbolic links to the ones here: the objects of different compilers
# never mix, and the plain build is left alone. TREE_GOALS=unit builds
# the unit tests there too, for make check-cross.
TREE = Makefile config.mk $(SRC) $(HDR) $(UNIT_SRC)
TREE_GOALS =
BUILD_TREE = mkdir -p build/$$name/src build/$$name/tests && \
	for f in $(TREE); do ln -sf "$$PWD/$$f" build/$$name/$$f || exit 1; done && \
	(cd build/$$name && $(MAKE) CC="$$cc" CFLAGS='$(STATIC_CFLAGS)' \
		LDFLAGS='$(STATIC_LDFLAGS)' poni $(TREE_GOALS)) && \
	cp build/$$name/poni poni-$$name.tmp && mv -f poni-$$name.tmp poni-$$name

static: poni-static
cross: poni-x86_64 poni-armhf poni-aarch64

poni-static: FORCE
	@name=static cc='$(STATIC_CC)'; $(BUILD_TREE)
poni-x86_64: FORCE
	@name=x86_64 cc='$(CC_x86_64)'; $(BUILD_TREE)
poni-armhf: FORCE
	@name=armhf cc='$(CC_armhf)'; $(BUILD_TREE)
poni-aarch64: FORCE
	@name=aarch64 cc='$(CC_aarch64)'; $(BUILD_TREE)

# make size: the size of each static binary built so far.
size:
	@found=; for f in poni-static poni-x86_64 poni-armhf poni-aarch64; do \
		[ -f $$f ] || continue; found=1; \
		wc -c < $$f | awk -v f=$$f '{ printf "%-13s %7d bytes %6.1f KiB\n", f, $$1, $$1 / 1024 }'; \
	done; [ -n "$$found" ] || echo "no static binary yet: make static, or make cross"

# make check-cross: make cross with the unit tests, then run each
# binary's unit tests and system tests, under qemu-user for ARM (see
# tests/cross.sh).
check-cross:
	@tests/deps.sh cross
	@$(MAKE) cross TREE_GOALS=unit
	@tests/cross.sh x86_64 armhf aarch64

clean:
	rm -f poni $(OBJ) $(UNIT) $(TEST_BIN) .build-flags poni-static poni-x86_64 \
		poni-armhf poni-aarch64
	rm -rf build

install: poni
	mkdir -p $(DESTDIR)$(PREFIX)/sbin
	cp -f poni $(DESTDIR)$(PREFIX)/sbin/poni
	chmod 755 $(DESTDIR)$(PREFIX)/sbin/poni
	mkdir -p $(DESTDIR)$(MANPREFIX)/man8 $(DESTDIR)$(MANPREFIX)/man5
	sed 's/VERSION/$(VERSION)/g' poni.8 > $(DESTDIR)$(MANPREFIX)/man8/poni.8
	sed 's/VERSION/$(VERSION)/g' poni.conf.5 > $(DESTDIR)$(MANPREFIX)/man5/poni.conf.5
	chmod 644 $(DESTDIR)$(MANPREFIX)/man8/poni.8 $(DESTDIR)$(MANPREFIX)/man5/poni.conf.5
	mkdir -p $(DESTDIR)$(SYSCONFDIR)/poni
	[ -e $(DESTDIR)$(SYSCONFDIR)/poni/config.yml ] || \
		cp poni.conf.sample $(DESTDIR)$(SYSCONFDIR)/poni/config.yml

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/poni \
		$(DESTDIR)$(MANPREFIX)/man8/poni.8 \
		$(DESTDIR)$(MANPREFIX)/man5/poni.conf.5

FORCE:

.PHONY: all unit check fuzz demo static cross size check-cross clean install uninstall
