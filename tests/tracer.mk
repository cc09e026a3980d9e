# tracer.mk - the tracer's tests: tests/unit/tracer_*.c are built by tests.mk.
# They run babeltrace2 (scripts/deps.sh installs it) on the traces they write.

# tracer_ids sets a library-internal knob (the event-table hash's bits): it
# links the static library, whose hidden symbols a static link resolves.
$(T)/unit/tracer_ids: tests/unit/tracer_ids.c tests/tap.h $(B)/.staged
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(STAGE)/lib/libmarkers.a -lpthread -ldl
