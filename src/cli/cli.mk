# cli.mk - the `markers` command: src/cli/*.c, installed as bin/markers.
# It also carries the control channel's wire format (src/lib/control/proto.c),
# which the library and the CLI share.
CLI_SRCS := $(wildcard src/cli/*.c)
CLI_OBJS := $(patsubst src/%.c,$(B)/obj/%.o,$(CLI_SRCS)) $(B)/obj/cli-shared/proto.o
CLI_LIBS := -lelf
CLI_CFLAGS = -std=gnu11 $(CFLAGS) $(WARN) $(SANFLAGS) -Iinclude -Isrc/cli -Isrc/lib/control

all: $(B)/bin/markers

$(B)/obj/cli/%.o: src/cli/%.c $(wildcard src/cli/*.h) src/lib/control/proto.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -c -o $@ $<

$(B)/obj/cli-shared/proto.o: src/lib/control/proto.c src/lib/control/proto.h
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
