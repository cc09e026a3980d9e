/*
 * markers/impl/args.h - splitting a trace_mark() argument list, and the
 * compile-time type signature of its arguments.  Not API: included by
 * markers.h.
 *
 * Every macro here takes the whole list that follows the marker's name,
 * the format first: (format, args...).  The format is always there, so no
 * macro is ever called with an empty variadic part and none needs the
 * comma-swallowing ##__VA_ARGS__: all of it is ISO C99/C11 and C++11,
 * quiet under -pedantic.
 *
 *	MARKER__FORMAT(format, args...)	the format
 *	MARKER__NARGS(format, args...)	the number of args, 0 to MARKER_MAX_ARGS
 *	MARKER__TYPES(format, args...)	one type code per arg, each followed by a
 *					comma (codes in markers/abi.h), computed
 *					from the types without evaluating the
 *					args: _Generic in C, templates in C++
 *	MARKER__CALL(f, x, format, args...)	f(x, args...), or f(x) without args
 */
#ifndef MARKERS_IMPL_ARGS_H
#define MARKERS_IMPL_ARGS_H

#include "../abi.h"

#define MARKER__CAT_(a, b) a##b
#define MARKER__CAT(a, b) MARKER__CAT_(a, b)

/* The trailing "~" keeps the variadic part of the helper non-empty. */
#define MARKER__FORMAT(...) MARKER__FORMAT_(__VA_ARGS__, ~)
#define MARKER__FORMAT_(format, ...) format

#define MARKER__NTH(f, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, n, ...) n
#define MARKER__NARGS(...) MARKER__NTH(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, ~)
/* 0 without args, 1 with: selects the call below. */
#define MARKER__HAS_ARGS(...) MARKER__NTH(__VA_ARGS__, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, ~)

#define MARKER__CALL(f, x, ...) MARKER__CAT(MARKER__CALL_, MARKER__HAS_ARGS(__VA_ARGS__))(f, x, __VA_ARGS__)
#define MARKER__CALL_0(f, x, format) f(x)
#define MARKER__CALL_1(f, x, format, ...) f(x, __VA_ARGS__)

/* MARKER__TC_(a): the type code of @a, a constant; MARKER__TC(a): with a comma. */
#define MARKER__TC(a) MARKER__TC_(a),
#ifndef __cplusplus
#define MARKER__TC_(a)                                                          \
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
		default: (__builtin_classify_type(a) == 5 ? 'p' : '?'))
#else
#include <type_traits>
#include <cstddef>
/* One return statement: a C++11 constexpr function. */
template <typename T>
constexpr char marker__type_code()
{
	return std::is_same<T, char *>::value || std::is_same<T, const char *>::value ? 's'
	     : std::is_pointer<T>::value || std::is_same<T, std::nullptr_t>::value ? 'p'
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
#define MARKER__TC_(a) marker__type_code<typename std::decay<decltype(a)>::type>()
#endif

/* MARKER__Tn(format, a1, ..., an): the codes of a1..an; the format is carried along. */
#define MARKER__T0(f)
#define MARKER__T1(f, a) MARKER__TC(a)
#define MARKER__T2(f, a, ...) MARKER__TC(a) MARKER__T1(f, __VA_ARGS__)
#define MARKER__T3(f, a, ...) MARKER__TC(a) MARKER__T2(f, __VA_ARGS__)
#define MARKER__T4(f, a, ...) MARKER__TC(a) MARKER__T3(f, __VA_ARGS__)
#define MARKER__T5(f, a, ...) MARKER__TC(a) MARKER__T4(f, __VA_ARGS__)
#define MARKER__T6(f, a, ...) MARKER__TC(a) MARKER__T5(f, __VA_ARGS__)
#define MARKER__T7(f, a, ...) MARKER__TC(a) MARKER__T6(f, __VA_ARGS__)
#define MARKER__T8(f, a, ...) MARKER__TC(a) MARKER__T7(f, __VA_ARGS__)
#define MARKER__T9(f, a, ...) MARKER__TC(a) MARKER__T8(f, __VA_ARGS__)
#define MARKER__T10(f, a, ...) MARKER__TC(a) MARKER__T9(f, __VA_ARGS__)
#define MARKER__T11(f, a, ...) MARKER__TC(a) MARKER__T10(f, __VA_ARGS__)
#define MARKER__T12(f, a, ...) MARKER__TC(a) MARKER__T11(f, __VA_ARGS__)
#define MARKER__TYPES(...) MARKER__CAT(MARKER__T, MARKER__NARGS(__VA_ARGS__))(__VA_ARGS__)

#endif /* MARKERS_IMPL_ARGS_H */
