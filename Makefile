# markers - build, install, test.  GNU make; objects out of tree in $(B).
#
#   make                 library (and, later, the CLI) into $(B)
#   make install PREFIX=/usr/local [DESTDIR=...]
#   make check           the fast tier: build, stage-install, run tests/ under prove
#   make check-long      stress tests with more iterations, then the sanitizer builds
#   make check SAN=address|thread    an ASan+UBSan or TSan build of everything
#   make check TARGET=i386           a -m32 build (TARGET=aarch64: cross, under qemu)

PREFIX ?= /usr/local
TARGET ?= native
SAN ?=
CC ?= cc
B ?= build/$(TARGET)$(if $(SAN),-$(SAN))

ifeq ($(TARGET),i386)
  CC := gcc -m32
  CXX := g++ -m32
endif
ifeq ($(TARGET),aarch64)
  # Cross build; the tests run under qemu-user.
  CC := aarch64-linux-gnu-gcc
  CXX := aarch64-linux-gnu-g++
  RUN := qemu-aarch64 -L /usr/aarch64-linux-gnu
endif
ifeq ($(SAN),address)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ifeq ($(SAN),thread)
  SANFLAGS := -fsanitize=thread
endif

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wno-unused-parameter
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) $(SANFLAGS) -fPIC -fvisibility=hidden \
	-Iinclude -Isrc/lib -Isrc/common
LIBS := -lpthread -ldl

# The library: src/lib/*.c, one subsystem per directory below it, and
# src/common/ (what the library and the CLI share, e.g. the control
# protocol).  The patcher is chosen from the compiler's target, not from a
# TARGET name, so that a native aarch64 build compiles no x86 code:
# arch/x86*.c where code patching exists, arch/none.c elsewhere.
ARCH := $(firstword $(subst -, ,$(shell $(CC) -dumpmachine)))
ifneq ($(filter x86_64 i386 i486 i586 i686,$(ARCH)),)
  PATCH_SRCS := $(wildcard src/lib/arch/x86*.c)
else
  PATCH_SRCS := src/lib/arch/none.c
endif
# gcc -m32 still reports the x86_64 triplet: both are x86, one patcher.
LIB_SRCS := $(wildcard src/lib/*.c src/lib/tracer/*.c src/lib/control/*.c src/common/*.c) \
	$(PATCH_SRCS)
LIB_OBJS := $(patsubst src/%.c,$(B)/obj/%.o,$(LIB_SRCS))

HEADERS := include/markers.h $(wildcard include/markers/*.h include/markers/impl/*.h)
STAGE := $(abspath $(B)/stage)

all: $(B)/lib/libmarkers.so $(B)/lib/libmarkers.a $(B)/lib/pkgconfig/markers.pc

# -MMD: each object also depends on every header it includes (the .d files),
# so a change in any subsystem's private header rebuilds what uses it.
$(B)/obj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJS:.o=.d)

# -z nodelete: the library's own threads and its SIGTRAP handler run its
# code, so a dlclose() must never unmap it (no dlopen() call needed for
# that, which a static link would warn about).
$(B)/lib/libmarkers.so: $(LIB_OBJS) src/lib/libmarkers.map
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -shared -Wl,-soname,libmarkers.so.1 -Wl,-z,nodelete \
		-Wl,--version-script=src/lib/libmarkers.map -o $@ $(LIB_OBJS) $(LIBS)

$(B)/lib/libmarkers.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/lib/pkgconfig/markers.pc: markers.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' $< > $@

install: all
	install -d $(DESTDIR)$(PREFIX)/include/markers/impl $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/markers.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(wildcard include/markers/*.h) $(DESTDIR)$(PREFIX)/include/markers/
	install -m 644 $(wildcard include/markers/impl/*.h) $(DESTDIR)$(PREFIX)/include/markers/impl/
	install -m 755 $(B)/lib/libmarkers.so $(DESTDIR)$(PREFIX)/lib/libmarkers.so.1
	ln -sf libmarkers.so.1 $(DESTDIR)$(PREFIX)/lib/libmarkers.so
	install -m 644 $(B)/lib/libmarkers.a $(DESTDIR)$(PREFIX)/lib/
	sed -e 's|@PREFIX@|$(PREFIX)|g' markers.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/markers.pc

# The tests build against the staged installation, as a user would.
stage:
	$(MAKE) --no-print-directory install PREFIX=$(STAGE) DESTDIR= B=$(B)

# Each part brings its own rules: the CLI, the tests, the benchmarks.
# The CLI is a host tool: built for the native target only (it reads the
# ELF files and talks to the processes of every target).
ifeq ($(TARGET),native)
-include src/cli/cli.mk
endif
include tests/tests.mk
-include bench/bench.mk

clean:
	rm -rf build

.PHONY: all install stage clean check check-long deps

# The bundled example, built against the staged installation like a user's program.
# (In a SAN build with the sanitizer too: its runtime must be loaded before the library.)
$(B)/examples/service: examples/service.c $(B)/.staged
	@mkdir -p $(dir $@)
	$(CC) -O2 -g $(WARN) $(SANFLAGS) -I$(STAGE)/include -o $@ $< -L$(STAGE)/lib -Wl,-rpath,$(STAGE)/lib -lmarkers -lpthread

# The README's main command: record the example with `markers record` (its markers on from
# its first instruction), which prints a summary, then show the first events of the trace.
DEMO_TRACE := $(B)/demo-trace
demo: $(B)/examples/service
	@rm -rf $(DEMO_TRACE)
	$(STAGE)/bin/markers record -o $(DEMO_TRACE) -- $(B)/examples/service -n 2000 -t 2 -w 3
	@echo
	$(STAGE)/bin/markers view --limit 20 $(DEMO_TRACE)
	@echo
	@echo "More: $(STAGE)/bin/markers view | stats | export --format=chrome $(DEMO_TRACE)"

test: check
.PHONY: demo test
