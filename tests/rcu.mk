# rcu.mk - the RCU's own tests: tests/unit/rcu_*.c call the library's
# internal RCU (src/lib/rcu.h) and link the static library, whose hidden
# symbols a static link resolves.
RCU_TESTS := $(patsubst tests/unit/%.c,$(T)/unit/%,$(wildcard tests/unit/rcu_*.c))

$(RCU_TESTS): $(T)/unit/rcu_%: tests/unit/rcu_%.c tests/unit/rcu_util.h src/lib/rcu.h src/lib/tsan.h tests/tap.h $(B)/.staged
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(PKG_CFLAGS) -Isrc/lib -o $@ $< $(STAGE)/lib/libmarkers.a -lpthread -ldl
