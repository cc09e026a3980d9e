# patch.mk - the patching tests (x86 code rewriting; elsewhere they check
# that sites work from the flag).

# patch_table links the shared library of sites and dlopens the other.
$(T)/unit/patch_table: tests/unit/patch_table.c tests/unit/patch_util.h tests/tap.h \
		$(B)/.staged $(T)/lib/libpatch_shared.so $(T)/lib/libpatch_dl.so
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS) -L$(T)/lib \
		-Wl,-rpath,$(abspath $(T)/lib) -lpatch_shared -lpthread -ldl

# The signal tests share their child and signal-thread helpers.
$(T)/unit/patch_trap $(T)/unit/patch_sigmask: tests/unit/patch_child.h tests/unit/patch_util.h
$(T)/unit/patch_toggle: tests/unit/patch_util.h

# patch_trap dlopens libpatch_dl.
$(T)/unit/patch_trap: $(T)/lib/libpatch_dl.so
$(T)/unit/patch_stress: $(T)/lib/libpatch_dl.so

# tests/unit/patch_build.c built the ways a user may build it; each binary
# checks that its sites are patched.  Like variants.mk: clang builds in plain
# native builds only (its sanitizer runtimes differ from gcc's), static ones
# without sanitizers.
PV := $(T)/patch-variants
PV_DEPS := tests/unit/patch_build.c tests/unit/patch_util.h tests/tap.h $(B)/.staged
PV_FLAGS = -g $(WARN) $(SANFLAGS) -Itests -Itests/unit $(PKG_CFLAGS)
PV_C := -x c -std=gnu11
PV_CXX := -x c++ -std=gnu++17
PV_COMMA := ,
CLANG ?= clang
CLANGXX ?= clang++

PATCH_VARIANTS := gcc-O0 gcc-O1 gcc-O3 gcc-nopie gcc-gc-sections gcc-shared gxx-O0 gxx-O3
ifeq ($(TARGET)$(SAN),native)
  PATCH_VARIANTS += clang-O0 clang-O3 clang-nopie clang-shared clangxx-O2
endif
ifeq ($(SAN),)
  PATCH_VARIANTS += gcc-static
endif
EXTRA_TEST_BINS += $(addprefix $(PV)/patch_build-,$(PATCH_VARIANTS))

# $(call pv_build,compiler and language,flags)
pv_build = @mkdir -p $(PV) && $(1) $(2) $(PV_FLAGS) -o $@ tests/unit/patch_build.c $(PKG_LIBS)

$(PV)/patch_build-gcc-O0: $(PV_DEPS) ; $(call pv_build,$(CC) $(PV_C),-O0)
$(PV)/patch_build-gcc-O1: $(PV_DEPS) ; $(call pv_build,$(CC) $(PV_C),-O1)
$(PV)/patch_build-gcc-O3: $(PV_DEPS) ; $(call pv_build,$(CC) $(PV_C),-O3)
$(PV)/patch_build-gcc-nopie: $(PV_DEPS) ; $(call pv_build,$(CC) $(PV_C),-O2 -fno-pie -no-pie)
$(PV)/patch_build-gcc-gc-sections: $(PV_DEPS)
	$(call pv_build,$(CC) $(PV_C),-O2 -ffunction-sections -fdata-sections -Wl$(PV_COMMA)--gc-sections)
$(PV)/patch_build-gxx-O0: $(PV_DEPS) ; $(call pv_build,$(CXX) $(PV_CXX),-O0)
$(PV)/patch_build-gxx-O3: $(PV_DEPS) ; $(call pv_build,$(CXX) $(PV_CXX),-O3)
$(PV)/patch_build-clang-O0: $(PV_DEPS) ; $(call pv_build,$(CLANG) $(PV_C),-O0)
$(PV)/patch_build-clang-O3: $(PV_DEPS) ; $(call pv_build,$(CLANG) $(PV_C),-O3)
$(PV)/patch_build-clang-nopie: $(PV_DEPS) ; $(call pv_build,$(CLANG) $(PV_C),-O2 -fno-pie -no-pie)
$(PV)/patch_build-clangxx-O2: $(PV_DEPS) ; $(call pv_build,$(CLANGXX) $(PV_CXX),-O2)
$(PV)/patch_build-gcc-static: $(PV_DEPS)
	@mkdir -p $(PV)
	$(CC) $(PV_C) -O2 -static $(PV_FLAGS) -o $@ tests/unit/patch_build.c \
		-x none $(STAGE)/lib/libmarkers.a -lpthread -ldl

# The sites in a -fPIC shared library, main in the program.
$(PV)/libpb_%.so: $(PV_DEPS)
	@mkdir -p $(PV)
	$(if $(filter clang,$*),$(CLANG),$(CC)) $(PV_C) -O2 -fPIC -shared -DPB_LIB_ONLY $(PV_FLAGS) \
		-o $@ tests/unit/patch_build.c $(PKG_LIBS)
$(PV)/patch_build-%-shared: $(PV)/libpb_%.so $(PV_DEPS)
	$(if $(filter clang,$*),$(CLANG),$(CC)) $(PV_C) -O2 -DPB_MAIN_ONLY $(PV_FLAGS) -o $@ \
		tests/unit/patch_build.c -L$(PV) -Wl,-rpath,$(abspath $(PV)) -lpb_$* $(PKG_LIBS)

# A debugger attaching between switches (tests/patch_attach.t runs it under
# gdb); a child made without atfork handlers switching.
$(T)/unit/patch_attach $(T)/unit/patch_rawfork $(T)/unit/patch_closefds: tests/unit/patch_util.h
$(T)/unit/patch_closefds $(T)/unit/tracer_closefds: tests/unit/closefds_util.h
