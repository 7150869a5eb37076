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

SRC = src/main.c src/log.c src/util.c src/yaml.c src/config.c \
	src/config_yaml.c src/config_ini.c src/rsync.c src/exclude.c src/spawn.c \
	src/watch.c src/sshmaster.c src/pathset.c src/sync.c src/loop.c
OBJ = $(SRC:.c=.o)
HDR = src/log.h src/util.h src/yaml.h src/config.h src/rsync.h \
	src/exclude.h src/config_yaml.h src/config_ini.h src/spawn.h src/sshmaster.h src/watch.h src/pathset.h src/sync.h src/loop.h

# unit tests: one per pure module, linked with just what they test
UNIT = tests/unit_yaml tests/unit_config tests/unit_rsync tests/unit_exclude
CONFIG_OBJ = src/config.o src/config_yaml.o src/config_ini.o src/yaml.o src/rsync.o \
	src/util.o src/log.o

all: poni

poni: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $(OBJ) $(LDFLAGS) $(LDLIBS)

$(OBJ): $(HDR) config.mk Makefile

.c.o:
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

tests/unit_yaml: tests/unit_yaml.c tests/unit.h src/yaml.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_yaml.c src/yaml.o $(LDFLAGS)
tests/unit_config: tests/unit_config.c tests/unit.h $(CONFIG_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_config.c $(CONFIG_OBJ) $(LDFLAGS) $(LDLIBS)
tests/unit_rsync: tests/unit_rsync.c tests/unit.h $(CONFIG_OBJ) src/spawn.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_rsync.c $(CONFIG_OBJ) src/spawn.o $(LDFLAGS) $(LDLIBS)
tests/unit_exclude: tests/unit_exclude.c tests/unit.h src/exclude.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit_exclude.c src/exclude.o $(LDFLAGS)

# make check: build everything, make sure the test tools are there
# (installed when run as root, else named), run every test.
check: poni $(UNIT)
	@tests/deps.sh
	@tests/run.sh

# make demo: mirror demo/src to demo/dst with a local config, so a
# newcomer sees poni at work. Ctrl-C stops it.
demo: poni
	@tests/demo.sh

clean:
	rm -f poni $(OBJ) $(UNIT)

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

.PHONY: all check demo clean install uninstall
