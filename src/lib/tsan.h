/*
 * tsan.h - what a ThreadSanitizer build of the library must tell it
 * (private).  In other builds the macros are the plain operations.
 */
#ifndef MARKERS_TSAN_H
#define MARKERS_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define MARKERS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MARKERS_TSAN 1
#endif
#endif

#ifdef MARKERS_TSAN
/*
 * A fence: GCC does not instrument __atomic_thread_fence (-Wtsan), so a
 * TSan build makes the runtime call that clang emits for one, which fences
 * too.  Neither runtime models fences in its happens-before: whoever
 * relies on one for that says so to TSan another way.
 */
void __tsan_atomic_thread_fence(int order);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
#define marker__fence(order) __tsan_atomic_thread_fence(order)
/* Accesses of the calling thread that TSan does not watch, between the two. */
#define marker__tsan_ignore_begin() __tsan_ignore_thread_begin()
#define marker__tsan_ignore_end() __tsan_ignore_thread_end()
#else
#define marker__fence(order) __atomic_thread_fence(order)
#define marker__tsan_ignore_begin() ((void)0)
#define marker__tsan_ignore_end() ((void)0)
#endif

#endif /* MARKERS_TSAN_H */
