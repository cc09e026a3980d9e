# control.mk - tests of `markers list` (offline and live), the control
# channel, enable/disable -p, and the fuzz targets of their parsers.
#
#   make check       the fast tier: shell tests tests/cli_list*.t, cli_control*.t,
#                    and each fuzz target replayed over its regression corpus
#   make fuzz        libFuzzer (clang) on both targets for FUZZ_TIME seconds each
#                    (default 60); new inputs go to $(B)/fuzz/, crashes to the
#                    current directory: add them to tests/fuzz/corpus/ once fixed

CTL_T := $(T)/control
FUZZ_SRC_elf := src/cli/elf_markers.c
FUZZ_SRC_proto := src/common/proto.c
FUZZ_INC := -Isrc/cli -Isrc/common -Iinclude -Itests
FUZZ_LIBS_elf := -lelf
FUZZ_TIME ?= 60

# A long-running instrumented program for the live tests, and the bundled example.
$(CTL_T)/busy: tests/control/busy.c $(B)/.staged
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS) -lpthread

# Regression corpus replays: TAP programs run by prove in the fast tier.
$(CTL_T)/replay_%: tests/fuzz/replay.c tests/fuzz/fuzz_%.c tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(FUZZ_INC) -DCORPUS='"tests/fuzz/corpus/$*"' -o $@ \
		tests/fuzz/replay.c tests/fuzz/fuzz_$*.c $(FUZZ_SRC_$*) $(FUZZ_LIBS_$*)

$(CTL_T)/replay_elf $(B)/fuzz/fuzz_elf: src/cli/elf_markers.c src/cli/elf_markers.h
$(CTL_T)/replay_proto $(B)/fuzz/fuzz_proto: src/common/proto.c src/common/proto.h

# The ELF reader is the CLI's, a native tool (libelf is native only).
ifeq ($(TARGET),native)
EXTRA_TEST_BINS += $(CTL_T)/replay_elf $(CTL_T)/replay_proto
endif
test-bins: $(CTL_T)/busy $(B)/examples/service $(TEST_LIBS)

# libFuzzer builds: clang only, ASan+UBSan.
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$(FUZZ_INC) -o $@ $< $(FUZZ_SRC_$*) $(FUZZ_LIBS_$*)

# Seeds: the regression corpus, plus real instrumented objects of this build.
fuzz: $(B)/fuzz/fuzz_elf $(B)/fuzz/fuzz_proto $(B)/examples/service $(TEST_LIBS)
	@mkdir -p $(B)/fuzz/work-elf $(B)/fuzz/work-proto
	for f in $(B)/examples/service $(TEST_LIBS); do \
		strip -o $(B)/fuzz/work-elf/seed-$$(basename $$f) $$f; done
	$(B)/fuzz/fuzz_elf -max_total_time=$(FUZZ_TIME) -max_len=65536 -timeout=10 \
		$(B)/fuzz/work-elf tests/fuzz/corpus/elf
	$(B)/fuzz/fuzz_proto -max_total_time=$(FUZZ_TIME) -timeout=10 \
		$(B)/fuzz/work-proto tests/fuzz/corpus/proto
.PHONY: fuzz
