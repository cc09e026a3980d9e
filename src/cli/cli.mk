# cli.mk - the `markers` command: src/cli/*.c, installed as bin/markers.
# It also compiles src/common/ (the control channel's wire format and what
# else the library and the CLI share) with its own flags.
CLI_SRCS := $(wildcard src/cli/*.c)
COMMON_SRCS := $(wildcard src/common/*.c)
CLI_OBJS := $(patsubst src/%.c,$(B)/obj/%.o,$(CLI_SRCS)) \
	$(patsubst src/common/%.c,$(B)/obj/cli-common/%.o,$(COMMON_SRCS))
CLI_LIBS := -lelf
CLI_CFLAGS = -std=gnu11 $(CFLAGS) $(WARN) $(SANFLAGS) -Iinclude -Isrc/cli -Isrc/common

all: $(B)/bin/markers

$(B)/obj/cli/%.o: src/cli/%.c $(wildcard src/cli/*.h) $(wildcard src/common/*.h) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -c -o $@ $<

$(B)/obj/cli-common/%.o: src/common/%.c $(wildcard src/common/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -c -o $@ $<
$(B)/bin/markers: $(CLI_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $(CLI_OBJS) $(CLI_LIBS)

install: install-cli
install-cli: $(B)/bin/markers
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(B)/bin/markers $(DESTDIR)$(PREFIX)/bin/markers
.PHONY: install-cli
