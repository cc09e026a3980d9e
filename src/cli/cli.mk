# cli.mk - the `markers` command: src/cli/*.c, installed as bin/markers.
CLI_SRCS := $(wildcard src/cli/*.c)
CLI_OBJS := $(patsubst src/%.c,$(B)/obj/%.o,$(CLI_SRCS))
CLI_LIBS := -lelf

all: $(B)/bin/markers

$(B)/obj/cli/%.o: src/cli/%.c $(wildcard src/cli/*.h) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(CFLAGS) $(WARN) $(SANFLAGS) -Iinclude -Isrc/cli -c -o $@ $<

$(B)/bin/markers: $(CLI_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $(CLI_OBJS) $(CLI_LIBS)

install: install-cli
install-cli: $(B)/bin/markers
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(B)/bin/markers $(DESTDIR)$(PREFIX)/bin/markers
.PHONY: install-cli
