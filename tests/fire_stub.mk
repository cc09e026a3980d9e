# fire_stub.mk - tests/unit/fire_stub.c (the sites' register-preserving
# call) built more ways: as C++ (whose sites store their arguments through
# templates), with clang (which picks the operands' registers its own way;
# on i386 clang -m32), and on i386 with SSE arithmetic.
# tests/fire_stub_gdb.t takes gdb's backtraces in the first three, in the
# native and the i386 builds.
FS := $(T)/fire_stub
FS_DEPS := tests/unit/fire_stub.c tests/tap.h $(B)/.staged

EXTRA_TEST_BINS += $(FS)/fire_stub-cxx
$(FS)/fire_stub-cxx: $(FS_DEPS)
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) $(PKG_CFLAGS) -x c++ $< -x none -o $@ $(PKG_LIBS) -lpthread -ldl

# clang's sanitizer runtimes differ from gcc's, with which the library is built.
FS_CLANG := $(if $(SAN),,$(if $(filter native,$(TARGET)),clang,$(if $(filter i386,$(TARGET)),clang -m32)))
ifneq ($(FS_CLANG),)
EXTRA_TEST_BINS += $(FS)/fire_stub-clang
$(FS)/fire_stub-clang: $(FS_DEPS)
	@mkdir -p $(dir $@)
	$(FS_CLANG) $(TEST_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS) -lpthread -ldl
endif

# i386 with SSE arithmetic: doubles live in %xmm registers across the sites,
# which the asm must declare clobbered (markers/impl/fire-i386.h).
ifeq ($(TARGET),i386)
EXTRA_TEST_BINS += $(FS)/fire_stub-sse
$(FS)/fire_stub-sse: $(FS_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -msse2 -mfpmath=sse $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS) -lpthread -ldl
endif

# Shell tests that check a target's binaries (the others are the native CLI's).
TARGET_SHELL_TESTS += tests/fire_stub_gdb.t
