# variants.mk - tests/progs/variant.c built the ways a user may build:
# each binary checks itself.  Static linking needs the archive and the
# libpthread and libdl; sanitizers do not link statically, so SAN builds skip it.
V := $(T)/variants
VARIANT_DEPS := tests/progs/variant.c tests/tap.h $(B)/.staged
VARIANT_CFLAGS = -g $(WARN) $(SANFLAGS) -Itests $(PKG_CFLAGS)
CLANG ?= clang
CLANGXX ?= clang++

# clang's sanitizer runtimes differ from gcc's, with which the library is
# built: the clang variants and the static one run in plain builds only.
VARIANTS := pie nopie O0 O3-gc-sections cxx
ifeq ($(TARGET)$(SAN),native)
  VARIANTS += clang clang-nopie clangxx
endif
ifeq ($(SAN),)
  VARIANTS += static
endif

# Strict ISO: markers.h promises no diagnostic under -pedantic -Werror for
# C11, C17 (and gnu11), C++11 to C++20, gcc and clang.  _POSIX_C_SOURCE is
# for tests/tap.h (readlink); markers.h needs no feature macro.
STRICT := -Wall -Wextra -pedantic -Werror -D_POSIX_C_SOURCE=200809L
STRICT_C := c11 c17 gnu11
STRICT_CXX := c++11 c++14 c++17 c++20
VARIANTS += $(addprefix strict-,$(STRICT_C) $(STRICT_CXX))
ifeq ($(TARGET)$(SAN),native)
  VARIANTS += $(addprefix strict-clang-,$(STRICT_C) $(STRICT_CXX))
endif
EXTRA_TEST_BINS += $(addprefix $(V)/variant-,$(VARIANTS))

STRICT_FLAGS = -O2 -g $(STRICT) $(SANFLAGS) -Itests $(PKG_CFLAGS)
$(addprefix $(V)/variant-strict-,$(STRICT_C)): $(V)/variant-strict-%: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -std=$* $(STRICT_FLAGS) -o $@ $< $(PKG_LIBS)
$(addprefix $(V)/variant-strict-,$(STRICT_CXX)): $(V)/variant-strict-%: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CXX) -x c++ -std=$* $(STRICT_FLAGS) -o $@ $< $(PKG_LIBS)
$(addprefix $(V)/variant-strict-clang-,$(STRICT_C)): $(V)/variant-strict-clang-%: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=$* $(STRICT_FLAGS) -o $@ $< $(PKG_LIBS)
$(addprefix $(V)/variant-strict-clang-,$(STRICT_CXX)): $(V)/variant-strict-clang-%: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CLANGXX) -x c++ -std=$* $(STRICT_FLAGS) -o $@ $< $(PKG_LIBS)

$(V)/variant-pie: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -fPIE -pie $(VARIANT_CFLAGS) -o $@ $< $(PKG_LIBS)
$(V)/variant-nopie: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -fno-pie -no-pie $(VARIANT_CFLAGS) -o $@ $< $(PKG_LIBS)
$(V)/variant-O0: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O0 $(VARIANT_CFLAGS) -o $@ $< $(PKG_LIBS)
$(V)/variant-O3-gc-sections: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O3 -ffunction-sections -fdata-sections -Wl,--gc-sections \
		$(VARIANT_CFLAGS) -o $@ $< $(PKG_LIBS)
# --fatal-warnings: a static link must be quiet (glibc warns about dlopen
# and friends in static programs; the library calls none of them).
$(V)/variant-static: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -static -Wl,--fatal-warnings $(VARIANT_CFLAGS) -o $@ $< \
		$(STAGE)/lib/libmarkers.a -lpthread -ldl
$(V)/variant-cxx: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CXX) -x c++ -std=gnu++17 -O2 $(VARIANT_CFLAGS) -o $@ $< $(PKG_LIBS)
$(V)/variant-clang: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=gnu11 -O2 $(VARIANT_CFLAGS) -o $@ $< $(PKG_LIBS)
$(V)/variant-clang-nopie: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=gnu11 -O2 -fno-pie -no-pie $(VARIANT_CFLAGS) -o $@ $< $(PKG_LIBS)
$(V)/variant-clangxx: $(VARIANT_DEPS)
	@mkdir -p $(dir $@)
	$(CLANGXX) -x c++ -std=gnu++17 -O2 $(VARIANT_CFLAGS) -o $@ $< $(PKG_LIBS)
