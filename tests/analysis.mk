# analysis.mk - filters, latency pairs, snapshots and recovery (tests/analysis/).
#
#   tests/analysis/filter_unit.c   the filter language against a table (src/common/filter.c
#                                  compiled in, as the library and the CLI do)
#   tests/analysis/numbered.c      the instrumented program of tests/cli_analysis_*.t

AN_T := $(T)/analysis

$(AN_T)/filter_unit: tests/analysis/filter_unit.c src/common/filter.c src/common/field_names.c \
		src/common/filter.h src/common/field_names.h tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -Iinclude -Isrc/common -o $@ $< src/common/filter.c \
		src/common/field_names.c

$(AN_T)/numbered: tests/analysis/numbered.c $(B)/.staged
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS) -lpthread

EXTRA_TEST_BINS += $(AN_T)/filter_unit
test-bins: $(AN_T)/numbered
