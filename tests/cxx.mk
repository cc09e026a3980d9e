# cxx.mk - C++ markers: tests/unit/cxx_markers.cc with a second translation
# unit (tests/lib/cxx_tu2.cc) and a dlopen'd C++ library (tests/lib/cxx_dl.cc),
# built with $(CXX) and, in plain native builds, clang++ too.  The program
# exports its symbols (-rdynamic), so that the library's vague-linkage
# descriptors may bind to the program's copies: the case of a descriptor
# owned by another object.

CXX_DEPS := tests/unit/cxx_markers.cc tests/lib/cxx_tu2.cc tests/lib/cxx_inline.h tests/tap.h \
	$(B)/.staged

$(T)/lib/libcxx_dl.so: tests/lib/cxx_dl.cc tests/lib/cxx_inline.h $(B)/.staged
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) $(PKG_CFLAGS) -fPIC -shared -o $@ $< $(PKG_LIBS)

$(T)/unit/cxx_markers: $(CXX_DEPS) $(T)/lib/libcxx_dl.so
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) $(PKG_CFLAGS) -rdynamic -o $@ tests/unit/cxx_markers.cc \
		tests/lib/cxx_tu2.cc $(PKG_LIBS) -lpthread -ldl

ifeq ($(TARGET)$(SAN),native)
CLANGXX ?= clang++
EXTRA_TEST_BINS += $(T)/cxx/cxx_markers-clang $(T)/cxx/cxx_markers-gxx-O0

$(T)/lib/libcxx_dl_clang.so: tests/lib/cxx_dl.cc tests/lib/cxx_inline.h $(B)/.staged
	@mkdir -p $(dir $@)
	$(CLANGXX) $(TEST_CXXFLAGS) $(PKG_CFLAGS) -fPIC -shared -o $@ $< $(PKG_LIBS)

$(T)/cxx/cxx_markers-clang: $(CXX_DEPS) $(T)/lib/libcxx_dl_clang.so
	@mkdir -p $(dir $@)
	$(CLANGXX) $(TEST_CXXFLAGS) $(PKG_CFLAGS) -DCXX_DL_LIB='"cxx_dl_clang"' -rdynamic \
		-o $@ tests/unit/cxx_markers.cc tests/lib/cxx_tu2.cc $(PKG_LIBS) -lpthread -ldl

# -O0: nothing inlined, every inline function and template emitted in both units.
$(T)/cxx/cxx_markers-gxx-O0: $(CXX_DEPS) $(T)/lib/libcxx_dl.so
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) -O0 $(PKG_CFLAGS) -o $@ tests/unit/cxx_markers.cc \
		tests/lib/cxx_tu2.cc $(PKG_LIBS) -lpthread -ldl
endif
