# tests.mk - the test tiers.  Every test builds against the staged
# installation (pkg-config), as a user's program would.
#
#   tests/unit/NAME.c     one TAP program per file, run by prove
#   tests/unit/NAME.cc    the same in C++
#   tests/lib/NAME.c      instrumented shared libraries the tests dlopen or link
#   tests/*.t             shell tests (CLI end to end, compile-fail)
#   tests/*.mk            further rules of a part (patching, tracer, CLI)

T := $(B)/tests
PKG_CFLAGS = -I$(STAGE)/include
PKG_LIBS = -L$(STAGE)/lib -Wl,-rpath,$(STAGE)/lib -lmarkers
TEST_CFLAGS := -std=gnu11 -O2 -g $(WARN) $(SANFLAGS) -Itests
TEST_CXXFLAGS := -std=gnu++17 -O2 -g $(WARN) $(SANFLAGS) -Itests
CXX ?= c++

UNIT_C := $(wildcard tests/unit/*.c)
UNIT_CXX := $(wildcard tests/unit/*.cc)
TEST_LIBS := $(patsubst tests/lib/%.c,$(T)/lib/lib%.so,$(wildcard tests/lib/*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(T)/unit/%,$(UNIT_C)) \
	$(patsubst tests/unit/%.cc,$(T)/unit/%,$(UNIT_CXX))

$(T)/lib/lib%.so: tests/lib/%.c $(B)/.staged
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(PKG_CFLAGS) -fPIC -shared -o $@ $< $(PKG_LIBS)

$(T)/unit/%: tests/unit/%.c tests/tap.h $(B)/.staged $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS) -L$(T)/lib -Wl,-rpath,$(abspath $(T)/lib) -lpthread -ldl

$(T)/unit/%: tests/unit/%.cc tests/tap.h $(B)/.staged
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS) -lpthread -ldl

$(B)/.staged: $(B)/lib/libmarkers.so $(B)/lib/libmarkers.a $(if $(filter native,$(TARGET)),$(B)/bin/markers) $(HEADERS)
	$(MAKE) --no-print-directory stage
	@touch $@

-include $(filter-out tests/tests.mk,$(wildcard tests/*.mk))

test-bins: $(UNIT_BINS) $(EXTRA_TEST_BINS)

# Environment of every test: where the build is, how to run a target binary.
TEST_ENV = MARKERS_BUILD=$(abspath $(B)) MARKERS_STAGE=$(STAGE) MARKERS_CC="$(CC) $(SANFLAGS)" \
	MARKERS_CXX="$(CXX) $(SANFLAGS)" MARKERS_RUN="$(RUN)" MARKERS_SANFLAGS="$(SANFLAGS)"

SHELL_TESTS := $(wildcard tests/*.t)

# One prove run, one summary line.  Shell tests (mostly the CLI's, a
# native tool) run in the native build only, but for TARGET_SHELL_TESTS,
# which check the target's own binaries (not under an emulator).
# TSan refuses new threads in a child forked from a threaded process, and
# the library's control listener is restarted in every fork child.
ifeq ($(SAN),thread)
  TEST_ENV += TSAN_OPTIONS="die_after_fork=0 $(TSAN_OPTIONS)"
endif

# qemu-user (7.2) aborts when a child forked from a threaded process starts a
# thread, as the control listener does in every fork child: under qemu the
# tests run without the control channel (the CLI's tests are native anyway).
ifneq ($(RUN),)
  TEST_ENV += MARKERS_CONTROL=0
endif

check: test-bins
	$(TEST_ENV) prove --exec '$(RUN)' $(PROVEFLAGS) $(UNIT_BINS) $(EXTRA_TEST_BINS) \
		$(if $(filter native,$(TARGET)),$(SHELL_TESTS),$(if $(RUN),,$(TARGET_SHELL_TESTS)))

check-long:
	$(MAKE) check MARKERS_TEST_SCALE=100
	./scripts/deps.sh san && $(MAKE) check SAN=address
	$(MAKE) check SAN=thread
	./scripts/deps.sh i386 && $(MAKE) check TARGET=i386
	./scripts/deps.sh aarch64 && $(MAKE) check TARGET=aarch64
	$(MAKE) fuzz FUZZ_TIME=60

export MARKERS_TEST_SCALE
.SECONDARY:
