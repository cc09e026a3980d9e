# patch.mk - the patching tests (x86 code rewriting; elsewhere they check
# that sites work from the flag).

# patch_table links the shared library of sites and dlopens the other.
$(T)/unit/patch_table: tests/unit/patch_table.c tests/unit/patch_util.h tests/tap.h \
		$(B)/.staged $(T)/lib/libpatch_shared.so $(T)/lib/libpatch_dl.so
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS) -L$(T)/lib \
		-Wl,-rpath,$(abspath $(T)/lib) -lpatch_shared -lpthread -ldl

# patch_trap dlopens libpatch_dl.
$(T)/unit/patch_trap: $(T)/lib/libpatch_dl.so
$(T)/unit/patch_stress: $(T)/lib/libpatch_dl.so
