# SPDX-License-Identifier: MIT
# labutil.mk - the build rules every lab folder shares; included by the lab's Makefile after
# it sets PROGS (and LDLIBS if it needs more). Identical in every lab folder.
#
#   make                 build the lab's programs in this folder
#   make CC=clang        another compiler (gcc and clang both build warning-free)
#   make WERROR=1        warnings become errors (CI uses this)
#   make SANITIZE=1      AddressSanitizer + UndefinedBehaviorSanitizer
#   make V=1             show each compiler command (by default one short line a file)
#   make clean
#
# A change of compiler or flags rebuilds everything: the flags are kept in .buildflags.
# The lab kit and the helper sources are compiled once into objects that every program
# links.

CC ?= cc
# DWARF 4: valgrind 3.19 cannot read the DWARF 5 that clang 14 writes by default.
CFLAGS ?= -O2 -g -gdwarf-4
WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wundef -Wvla -Wcast-qual -Wpointer-arith -Wwrite-strings
# glibc declares F_SETSIG, F_SETOWN_EX and friends only with _GNU_SOURCE.
LAB_CPPFLAGS := -std=gnu11 -D_GNU_SOURCE
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
ifeq ($(SANITIZE),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif
LAB_CFLAGS := $(LAB_CPPFLAGS) $(WARNINGS) $(SANFLAGS) $(CFLAGS) $(CPPFLAGS)
LAB_LDFLAGS := $(SANFLAGS) $(LDFLAGS)

# Quiet unless V=1: "CC <lab>/<file>" instead of the whole command line; nothing with -s.
ifeq ($(V),1)
Q :=
say = @:
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q := @
say = @:
else
Q := @
say = @echo '  CC      $(notdir $(CURDIR))/$(1)'
endif

LAB_OBJS := labutil.o $(EXTRA_SRCS:.c=.o)

.PHONY: all clean progs FORCE
all: $(PROGS)

$(LAB_OBJS): %.o: %.c labutil.h .buildflags $(EXTRA_DEPS)
	$(call say,$@)
	$(Q)$(CC) $(LAB_CFLAGS) -c -o $@ $<

$(PROGS): %: %.c labutil.h $(LAB_OBJS) .buildflags $(EXTRA_DEPS)
	$(call say,$@)
	$(Q)$(CC) $(LAB_CFLAGS) -o $@ $< $(LAB_OBJS) $(LAB_LDFLAGS) $(LDLIBS)

.buildflags: FORCE
	@echo '$(CC) $(LAB_CFLAGS) $(LAB_LDFLAGS) $(LDLIBS)' | cmp -s - $@ || \
	    echo '$(CC) $(LAB_CFLAGS) $(LAB_LDFLAGS) $(LDLIBS)' > $@

clean:
	$(Q)rm -f $(PROGS) $(LAB_OBJS) .buildflags

progs:
	@echo $(PROGS)
