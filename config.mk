# poni build settings. Every line can be overridden on the command line
# (make CC=musl-gcc LDFLAGS=-static); the project's own flags in the
# Makefile are kept and yours are appended to them.

VERSION = 0.1.0

# where "make install" puts things (DESTDIR is honoured too)
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

# INI = 1 also reads INI configs, through the system's inih library
# (Debian: libinih-dev). Cross builds point INI_CFLAGS and INI_LIBS (or
# PKG_CONFIG_PATH) at an inih built for the target.
INI =
INI_CFLAGS = `pkg-config --cflags inih`
INI_LIBS = `pkg-config --libs inih`
