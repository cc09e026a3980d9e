/*
 * markers/types.h - compile-time type signature of a marker's arguments.
 *
 * __MARKER_TYPES(args...) expands to one character constant per argument
 * followed by a comma (see the codes in markers/abi.h), computed from the
 * arguments' types without evaluating them: _Generic in C, templates in C++.
 * __MARKER_NARGS(args...) counts the arguments (0 to MARKER_MAX_ARGS).
 */
#ifndef MARKERS_TYPES_H
#define MARKERS_TYPES_H

#include "abi.h"

#define __MARKER_CAT_(a, b) a##b
#define __MARKER_CAT(a, b) __MARKER_CAT_(a, b)
#define __MARKER_NTH(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, n, ...) n
#define __MARKER_NARGS(...) \
	__MARKER_NTH(_, ##__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)

#ifndef __cplusplus
#define __MARKER_TC(a)                                                          \
	_Generic((a),                                                           \
		_Bool: 'B', char: ((char)-1 < 0 ? 'b' : 'B'),                   \
		signed char: 'b', unsigned char: 'B',                           \
		short: 'h', unsigned short: 'H',                                \
		int: 'i', unsigned int: 'I',                                    \
		long: (sizeof(long) == 8 ? 'l' : 'i'),                          \
		unsigned long: (sizeof(long) == 8 ? 'L' : 'I'),                 \
		long long: 'l', unsigned long long: 'L',                        \
		float: 'f', double: 'd', long double: 'D',                      \
		char *: 's', const char *: 's',                                 \
		default: (__builtin_classify_type(a) == 5 ? 'p' : '?')),
#else
#include <type_traits>
template <typename T>
constexpr char __marker_type_code()
{
	return std::is_same<T, char *>::value || std::is_same<T, const char *>::value ? 's'
	     : std::is_pointer<T>::value || std::is_null_pointer<T>::value      ? 'p'
	     : std::is_same<T, float>::value                                    ? 'f'
	     : std::is_same<T, double>::value                                   ? 'd'
	     : std::is_same<T, long double>::value                              ? 'D'
	     : std::is_same<T, bool>::value                                     ? 'B'
	     : !(std::is_integral<T>::value || std::is_enum<T>::value)          ? '?'
	     : sizeof(T) == 1 ? (std::is_signed<T>::value ? 'b' : 'B')
	     : sizeof(T) == 2 ? (std::is_signed<T>::value ? 'h' : 'H')
	     : sizeof(T) == 4 ? (std::is_signed<T>::value || std::is_enum<T>::value ? 'i' : 'I')
	     : sizeof(T) == 8 ? (std::is_signed<T>::value ? 'l' : 'L')
	     : '?';
}
#define __MARKER_TC(a) __marker_type_code<typename std::decay<decltype(a)>::type>(),
#endif

#define __MARKER_T0()
#define __MARKER_T1(a) __MARKER_TC(a)
#define __MARKER_T2(a, ...) __MARKER_TC(a) __MARKER_T1(__VA_ARGS__)
#define __MARKER_T3(a, ...) __MARKER_TC(a) __MARKER_T2(__VA_ARGS__)
#define __MARKER_T4(a, ...) __MARKER_TC(a) __MARKER_T3(__VA_ARGS__)
#define __MARKER_T5(a, ...) __MARKER_TC(a) __MARKER_T4(__VA_ARGS__)
#define __MARKER_T6(a, ...) __MARKER_TC(a) __MARKER_T5(__VA_ARGS__)
#define __MARKER_T7(a, ...) __MARKER_TC(a) __MARKER_T6(__VA_ARGS__)
#define __MARKER_T8(a, ...) __MARKER_TC(a) __MARKER_T7(__VA_ARGS__)
#define __MARKER_T9(a, ...) __MARKER_TC(a) __MARKER_T8(__VA_ARGS__)
#define __MARKER_T10(a, ...) __MARKER_TC(a) __MARKER_T9(__VA_ARGS__)
#define __MARKER_T11(a, ...) __MARKER_TC(a) __MARKER_T10(__VA_ARGS__)
#define __MARKER_T12(a, ...) __MARKER_TC(a) __MARKER_T11(__VA_ARGS__)
#define __MARKER_TYPES(...) \
	__MARKER_CAT(__MARKER_T, __MARKER_NARGS(__VA_ARGS__))(__VA_ARGS__)

#endif /* MARKERS_TYPES_H */
