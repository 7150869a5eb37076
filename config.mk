# poni build settings. Every line can be overridden on the command line
# (make CC=musl-gcc LDFLAGS=-static); the project's own flags in the
# Makefile are kept and yours are appended to them. A change of CC or
# of the flags rebuilds everything (the Makefile records them in
# .build-flags), so no "make clean" is needed in between.

VERSION = 0.1.0

# where "make install" puts things (DESTDIR is honoured too); SYSCONFDIR
# also sets the default config, $(SYSCONFDIR)/poni/config.yml
PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man
SYSCONFDIR = /etc

# compiler and the user's flags
CC = cc
CPPFLAGS =
CFLAGS = -O2
LDFLAGS =

# -Werror is on by default: a new compiler's new warning should stop the
# build here, not in the field. "make WERROR=" turns it off.
WERROR = -Werror

# Static builds for routers and boards. A static ./poni:
#   make CC=musl-gcc LDFLAGS=-static
# or cross-compiled, with a compiler named after its target (what
# CROSS_COMPILE=arm-linux-musleabihf- gives elsewhere):
#   make CC=arm-linux-musleabihf-gcc LDFLAGS=-static
# Small stripped static binaries, each built in its own directory
# build/NAME and copied to poni-NAME:
#   make static    poni-static, with STATIC_CC (for this machine)
#   make cross     poni-x86_64, poni-armhf, poni-aarch64, with the
#                  compilers below (Debian: musl-tools, and musl-dev:armhf
#                  and musl-dev:arm64 after dpkg --add-architecture)
#   make size      the size of each
# They use these flags in place of CFLAGS and LDFLAGS. Each saves room:
# -fno-pie (Debian's gcc makes position-independent code by default),
# sections and --gc-sections (leave out what is never called), -flto
# (optimise the program as a whole; given to the link as well, through
# CFLAGS), -DPONI_FORK=_Fork (daemonize with _Fork, without the locking
# that musl's fork adds for threads; poni has one thread; needs musl
# 1.2.3 or later, else remove it), norelro and noseparate-code (no
# padding to page boundaries between segments: 44 KiB on aarch64, whose
# pages may be 64 KiB), common-page-size=64 (no padding to a page
# between the code and the data either; the data stay read-write and
# not executable, in their own segment), -s (strip).
STATIC_CC = musl-gcc
STATIC_CFLAGS = -Os -fno-pie -ffunction-sections -fdata-sections -flto \
	-DPONI_FORK=_Fork
STATIC_LDFLAGS = -static -no-pie -Wl,--gc-sections -Wl,-z,norelro \
	-Wl,-z,noseparate-code -Wl,-z,common-page-size=64 -s
CC_x86_64 = x86_64-linux-musl-gcc
CC_armhf = arm-linux-musleabihf-gcc
CC_aarch64 = aarch64-linux-musl-gcc

# INI = 1 also reads INI configs, through the system's inih library
# (Debian: libinih-dev). Cross builds point INI_CFLAGS and INI_LIBS (or
# PKG_CONFIG_PATH) at an inih built for the target.
INI =
INI_CFLAGS = `pkg-config --cflags inih`
INI_LIBS = `pkg-config --libs inih`
