# config.mk: compiler, flags and libraries. Override on the command line (make CC=clang).
VERSION   = 0.1.0
PREFIX   ?= /usr/local
CC       ?= gcc
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
# always: no code reads errno after a math call, and without it GCC cannot
# make sqrtf one vector instruction (lib/simd.h)
MATHFLAGS = -fno-math-errno
WARN      = -Wall -Wextra -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -DUSJ_VERSION='"$(VERSION)"' -Ilib
PKGS      = openblas libtiff-4 msgpack libpng libjpeg jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libcsv ships no pkg-config file on Debian 12.
LDLIBS   += $(PKG_LIBS) -lcsv -lpthread -lm

ifeq ($(SANITIZE),1)
BUILD    ?= build/san
BINDIR   ?= build/san/bin
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
else
BUILD    ?= build/rel
BINDIR   ?= bin
endif
