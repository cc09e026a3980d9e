# bench.mk - `make bench`: our sites, a plain flag, SDT and LTTng-UST side by
# side, in one run on this machine; the table goes to BENCHMARKS.md.
# Not part of `make check`.  Needs root for LTTng's session daemon (the
# script starts and stops its own).  Takes a few minutes.
#
#   make bench                   install what is missing, build, run everything
#   make bench-bins              build only
#   BENCH_QUICK=1 make bench     fewer rounds, for trying the harness

BB := build/bench
BENCH_PKG = PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config
BENCH_CFLAGS = -std=gnu11 -O2 -g $(WARN) -Ibench -I$(BB) $(shell $(BENCH_PKG) --cflags markers 2>/dev/null)
BENCH_LIBS = $(shell $(BENCH_PKG) --libs markers 2>/dev/null) -lpthread
LTTNG_LIBS := -llttng-ust -ldl
BENCH_KINDS := none flag sdt sdtsem lttng generic immediate jump
STARTUP_KINDS := none ours sdt lttng
RSS_KINDS := none ours lttng
BENCH_BINS := $(BB)/off $(BB)/off-lttng $(BB)/on $(BB)/on-lttng $(BB)/filter $(BB)/switch $(BB)/startup $(BB)/fork_child $(patsubst %,$(BB)/startup-%,$(STARTUP_KINDS)) \
	$(BB)/relay-emit $(patsubst %,$(BB)/rss-%,$(RSS_KINDS))

bench:
	./scripts/deps.sh base bench
	$(MAKE) --no-print-directory bench-bins
	$(MAKE) --no-print-directory bench-real || echo "bench: the real-program rows cannot be built (see above): n/a"
	$(MAKE) --no-print-directory bench-real-i386 || echo "bench: the i386 real-program rows cannot be built (see above): n/a"
	MARKERS_STAGE=$(STAGE) ./bench/run.sh $(BB)

bench-bins: $(B)/.staged
	$(MAKE) --no-print-directory $(BENCH_BINS)

# The workload, one object per kind of instrumentation; the same source text.
$(BB)/off_%.o: bench/off_sites.c bench/off_kinds.h bench/bench_tp.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DKIND_$* -DKIND=$* -c -o $@ $<

$(BB)/bench_tp.o: bench/bench_tp.c bench/bench_tp.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -c -o $@ $<

# LTTng-UST's threads block every signal, which (rightly) keeps our patcher
# from rewriting code: LTTng-UST is measured in processes of its own.
$(BB)/off: bench/off.c bench/bench_util.h bench/bench_markers.h $(patsubst %,$(BB)/off_%.o,$(filter-out lttng,$(BENCH_KINDS)))
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c %.o,$^) $(BENCH_LIBS)

$(BB)/off-lttng: bench/off.c bench/bench_util.h bench/bench_markers.h $(BB)/off_none.o $(BB)/off_lttng.o $(BB)/bench_tp.o
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DBENCH_LTTNG -o $@ $(filter %.c %.o,$^) $(BENCH_LIBS) $(LTTNG_LIBS)

$(BB)/on: bench/on.c bench/bench_util.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c %.o,$^) $(BENCH_LIBS)

# The library's dispatch alone, with an empty probe (bench/fire.c): as
# sites are built by default, and with a plain call of marker_fire().
BENCH_BINS += $(BB)/fire $(BB)/fire-call
$(BB)/fire: bench/fire.c bench/bench_util.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_LIBS)
$(BB)/fire-call: bench/fire.c bench/bench_util.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DMARKERS_NO_FIRE_STUB -o $@ $< $(BENCH_LIBS)

# Filters: a rejected and an accepted event against the unfiltered one.
$(BB)/filter: bench/filter.c bench/bench_util.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c %.o,$^) $(BENCH_LIBS)

$(BB)/on-lttng: bench/on.c bench/bench_util.h $(BB)/bench_tp.o $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DBENCH_LTTNG -o $@ $(filter %.c %.o,$^) $(BENCH_LIBS) $(LTTNG_LIBS)

# 10,101 sites of each optimized kind and of the generic one, generated.
$(BB)/sites_%.c: bench/gen_sites.sh
	@mkdir -p $(dir $@)
	./bench/gen_sites.sh $* > $@

$(BB)/sites_%.o: $(BB)/sites_%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -c -o $@ $<

$(BB)/switch: bench/switch.c bench/bench_util.h $(patsubst %,$(BB)/sites_%.o,generic immediate jump)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c %.o,$^) $(BENCH_LIBS)

# The once-a-second USDT look over the same 30,303 sites; static, for the
# library's internal entry points.
BENCH_BINS += $(BB)/usdt_poll
$(BB)/usdt_poll: bench/usdt_poll.c bench/bench_util.h $(patsubst %,$(BB)/sites_%.o,generic immediate jump)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c %.o,$^) $(STAGE)/lib/libmarkers.a -lpthread -ldl

.PHONY: bench bench-bins

# Start and exit of a program with one instrumentation point, each way.
$(BB)/startup-%: bench/startup_prog.c bench/bench_tp.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DKIND_$* -o $@ $(filter %.c,$^) \
		$(if $(filter ours,$*),$(BENCH_LIBS)) $(if $(filter lttng,$*),$(BB)/bench_tp.o $(LTTNG_LIBS))
$(BB)/startup-lttng: $(BB)/bench_tp.o

$(BB)/startup: bench/startup.c bench/bench_util.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

$(BB)/fork_child: bench/fork_child.c bench/bench_util.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_LIBS)

# The workload of the relay rows (bench/relay.sh), recorded by `markers record`.
$(BB)/relay-emit: bench/relay_emit.c bench/bench_util.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_LIBS)

# Resident memory: uninstrumented, ours, LTTng-UST (bench/rss.c).
$(BB)/rss-%: bench/rss.c bench/bench_tp.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -DKIND_$* -o $@ $(filter %.c,$^) -lpthread \
		$(if $(filter ours,$*),$(BENCH_LIBS)) $(if $(filter lttng,$*),$(BB)/bench_tp.o $(LTTNG_LIBS))
$(BB)/rss-lttng: $(BB)/bench_tp.o

# A real program's hottest loops (bench/real/): lz4 from Debian's sources,
# fetched at bench time (never kept in our tree), patched by lz4.sed with one
# site per decoded sequence and one per encoded match, built once per kind.
REAL_KINDS := none markers sdt flag call
REAL := $(BB)/real

bench-real: $(patsubst %,$(REAL)/lz4-%,$(REAL_KINDS))

$(REAL)/lz4/lib/lz4.c:
	./bench/real/fetch.sh lz4 $(REAL)/lz4

# Exactly three sites, or the upstream text moved under the patch: stop.
$(REAL)/lz4-sites.c: $(REAL)/lz4/lib/lz4.c bench/real/lz4.sed
	@mkdir -p $(dir $@)
	sed -f bench/real/lz4.sed $< >$@.tmp
	@test "$$(grep -c REAL_SITE $@.tmp)" = 3 || { echo "lz4.sed: expected 3 sites in $<"; exit 1; }
	mv $@.tmp $@

# -O3 as lz4's own build; the sites header ahead of the program's text.
$(REAL)/lz4-%: bench/real/lz4_driver.c $(REAL)/lz4-sites.c bench/real/real_sites.h bench/bench_markers.h \
		$(B)/.staged
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O3 -g -DKIND_$* -Ibench -I$(REAL)/lz4/lib $(shell $(BENCH_PKG) --cflags markers) \
		-include bench/real/real_sites.h -o $@ bench/real/lz4_driver.c $(REAL)/lz4-sites.c \
		$(if $(filter markers call,$*),$(BENCH_LIBS))

# The same sites on i386 (gcc -m32, against the i386 build of the library,
# whose sites call the i386 stub: markers/impl/fire-i386.h).  Needs
# gcc-multilib (`./scripts/deps.sh i386`, not installed by `make bench`: on
# Debian 12 it replaces the aarch64 cross compiler); without it the rows say
# n/a.  sys/sdt.h is installed under the native triplet only: searched after
# the system's own.
REAL_I386_STAGE := $(abspath build/i386/stage)
REAL_I386_LIBS := -L$(REAL_I386_STAGE)/lib -Wl,-rpath,$(REAL_I386_STAGE)/lib -lmarkers -lpthread
bench-real-i386: $(patsubst %,$(REAL)/lz4-i386-%,$(REAL_KINDS))

$(REAL)/lz4-i386-%: bench/real/lz4_driver.c $(REAL)/lz4-sites.c bench/real/real_sites.h \
		bench/bench_markers.h $(HEADERS) | real-i386-stage
	@mkdir -p $(dir $@)
	gcc -m32 -std=gnu11 -O3 -g -DKIND_$* -Ibench -I$(REAL)/lz4/lib -I$(REAL_I386_STAGE)/include \
		-idirafter /usr/include/$(shell gcc -dumpmachine) \
		-include bench/real/real_sites.h -o $@ bench/real/lz4_driver.c $(REAL)/lz4-sites.c \
		$(if $(filter markers call,$*),$(REAL_I386_LIBS))

real-i386-stage:
	$(MAKE) --no-print-directory TARGET=i386 build/i386/.staged

.PHONY: bench-real bench-real-i386 real-i386-stage
