/*
 * The out-of-line call of a site (markers/impl/fire-x86.h on x86-64: a jump
 * to a stub that preserves every register): the probes get every argument
 * type as marker_fire() hands it; values the compiler keeps in registers
 * across an enabled site survive a probe that overwrites every register the
 * ABI lets it; a leaf function's red zone survives; and a backtrace taken in
 * a probe climbs through the stub to the site's callers.  Every architecture
 * runs the argument and backtrace checks; the register checks are x86-64's.
 */
#include <execinfo.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <markers.h>
#include "tap.h"

static char got[512];
static int hits;

/* Prints the arguments from the type codes, reading the promoted types. */
static void args_probe(const struct marker *m, void *priv, const char *fmt, va_list *ap)
{
	size_t n = 0;

	(void)priv;
	(void)fmt;
	hits++;
	got[0] = 0;
	for (const char *t = m->types; *t && n < sizeof(got) - 64; t++) {
		switch (*t) {
		case 'b': case 'h': case 'i':
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%d ", va_arg(*ap, int));
			break;
		case 'B': case 'H': case 'I':
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%u ", va_arg(*ap, unsigned int));
			break;
		case 'l': case 'L':
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%lld ", va_arg(*ap, long long));
			break;
		case 'f': case 'd':
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%g ", va_arg(*ap, double));
			break;
		case 'D':
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%Lg ", va_arg(*ap, long double));
			break;
		case 's':
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%s ", va_arg(*ap, const char *));
			break;
		default:
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%p ", va_arg(*ap, void *));
		}
	}
}

enum colour { RED = 3 };

static __attribute__((noinline)) void fire_all_types(int k)
{
	signed char c = (signed char)(-3 - k);
	unsigned char uc = 250;
	short s = -300;
	unsigned short us = 65000;
	unsigned int u = 4000000000u;
	long long ll = -1234567890123LL;
	unsigned long long ull = 18446744073709551615ULL;
	float f = 1.5f;
	double d = -2.25;
	bool b = true;

	trace_mark(fs_twelve, "%hhd %hhu %hd %hu %u %lld %llu %f %f %s %p %d", c, uc, s, us, u, ll,
		   ull, f, d, "str", (void *)0x1234, (int)b);
	trace_mark(fs_none, "%s", "");
	trace_mark(fs_enum_ld, "%d %Lg %d", RED, (long double)k + 0.5L, k);
}

/*
 * Overwrites every register a C function may clobber, as a probe that
 * calls into glibc (whose string functions use the vector registers) may.
 */
static void trash_probe(const struct marker *m, void *priv, const char *fmt, va_list *ap)
{
	(void)m;
	(void)priv;
	(void)fmt;
	(void)ap;
	hits++;
#ifdef __x86_64__
	__asm__ volatile("movq $-1, %%rax\n\tmovq $-1, %%rcx\n\tmovq $-1, %%rdx\n\t"
			 "movq $-1, %%rsi\n\tmovq $-1, %%rdi\n\tmovq $-1, %%r8\n\t"
			 "movq $-1, %%r9\n\tmovq $-1, %%r10\n\tmovq $-1, %%r11\n\t"
			 "pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm1, %%xmm1\n\t"
			 "pcmpeqd %%xmm2, %%xmm2\n\tpcmpeqd %%xmm3, %%xmm3\n\t"
			 "pcmpeqd %%xmm4, %%xmm4\n\tpcmpeqd %%xmm5, %%xmm5\n\t"
			 "pcmpeqd %%xmm6, %%xmm6\n\tpcmpeqd %%xmm7, %%xmm7\n\t"
			 "pcmpeqd %%xmm8, %%xmm8\n\tpcmpeqd %%xmm9, %%xmm9\n\t"
			 "pcmpeqd %%xmm10, %%xmm10\n\tpcmpeqd %%xmm11, %%xmm11\n\t"
			 "pcmpeqd %%xmm12, %%xmm12\n\tpcmpeqd %%xmm13, %%xmm13\n\t"
			 "pcmpeqd %%xmm14, %%xmm14\n\tpcmpeqd %%xmm15, %%xmm15"
			 : : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm0",
			   "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
			   "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc");
	if (__builtin_cpu_supports("avx"))
		__asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\tvpcmpeqd %%ymm3, %%ymm3, %%ymm3\n\t"
				 "vpcmpeqd %%ymm7, %%ymm7, %%ymm7\n\tvpcmpeqd %%ymm9, %%ymm9, %%ymm9\n\t"
				 "vpcmpeqd %%ymm12, %%ymm12, %%ymm12\n\tvpcmpeqd %%ymm15, %%ymm15, %%ymm15"
				 : : : "xmm0", "xmm3", "xmm7", "xmm9", "xmm12", "xmm15");
#endif
}

/*
 * Many values live across the site: the compiler keeps them in whatever
 * registers it likes, caller-saved ones included, since it sees no call.
 */
static __attribute__((noinline)) uint64_t mix(const uint64_t *in, int n, bool site)
{
	uint64_t a = 1, b = 2, c = 3, e = 5, f = 7, g = 11, h = 13, k = 17, l = 19, m = 23;
	double x = 1.0, y = 0.5, z = 0.25;

	for (int i = 0; i < n; i++) {
		uint64_t v = in[i];

		a += v;
		b ^= v * 3;
		c += a >> 3;
		e = e * 31 + b;
		f ^= c + e;
		g += f >> 5;
		h = h * 7 + g;
		k ^= h;
		l += k * 5;
		m ^= l >> 7;
		x = x * 0.999 + (double)(v & 255);
		y += x * 0.001;
		z = z * 0.5 + y;
		if (site)
			trace_mark(fs_mix, "v %llu", (unsigned long long)v);
	}
	return a ^ b ^ c ^ e ^ f ^ g ^ h ^ k ^ l ^ m ^ (uint64_t)x ^ (uint64_t)(y * 1000) ^
	       (uint64_t)(z * 1000);
}

#ifdef __x86_64__
typedef double v4d __attribute__((vector_size(32)));

/* 256-bit values live across the site (in %ymm registers) where the CPU has AVX. */
static __attribute__((noinline, target("avx"))) double vec(int n, bool site)
{
	v4d a = {1, 2, 3, 4}, b = {0.5, 0.25, 0.125, 2}, c = {1, 1, 1, 1};

	for (int i = 0; i < n; i++) {
		a = a * b + c;
		b = b * 0.9 + 0.05;
		if (site)
			trace_mark(fs_vec, "i %d", i);
	}
	return a[0] + a[1] + a[2] + a[3] + b[0] + b[1] + b[2] + b[3];
}
#endif

/* A leaf function with its locals in the red zone, below %rsp. */
static __attribute__((noinline)) int leaf(int seed)
{
	volatile int buf[24];
	int sum = 0;

	for (int i = 0; i < 24; i++)
		buf[i] = seed * i;
	trace_mark(fs_leaf, "seed %d", seed);
	for (int i = 0; i < 24; i++)
		sum += buf[i] == seed * i;
	return sum;
}

static void *frames[64];
static int nframes;

static void bt_probe(const struct marker *m, void *priv, const char *fmt, va_list *ap)
{
	(void)m;
	(void)priv;
	(void)fmt;
	(void)ap;
	nframes = backtrace(frames, 64);
}

static __attribute__((noinline)) void bt_site(int i)
{
	trace_mark(fs_bt, "i %d", i);
	__asm__ volatile("" ::: "memory"); /* no tail call */
}

/* The caller of the site's function: a backtrace from the probe must reach it. */
__attribute__((noinline)) void fs_outer(int i)
{
	bt_site(i);
	__asm__ volatile("" ::: "memory");
}

/* A return address in the @len bytes after @fn. */
static int frame_in(uintptr_t fn, size_t len)
{
	for (int i = 0; i < nframes; i++)
		if ((uintptr_t)frames[i] > fn && (uintptr_t)frames[i] < fn + len)
			return 1;
	return 0;
}

int main(void)
{
	uint64_t in[1000];
	uint64_t want, have;

	plan(9);
	for (int i = 0; i < 1000; i++)
		in[i] = (uint64_t)i * 0x9e3779b97f4a7c15ULL;

	ok(marker_probe_register("fs_twelve", "%hhd %hhu %hd %hu %u %lld %llu %f %f %s %p %d",
				 args_probe, NULL) == 0 &&
	   marker_probe_register("fs_none", "%s", args_probe, NULL) == 0 &&
	   marker_probe_register("fs_enum_ld", "%d %Lg %d", args_probe, NULL) == 0,
	   "probes connected");
	fire_all_types(0);
	is_int(hits, 3, "three sites fired");
	fire_all_types(1);
	is_str(got, "3 1.5 1 ", "enum, long double (the ordinary call) and int");
	hits = 0;
	marker_probe_unregister("fs_enum_ld", args_probe, NULL);
	fire_all_types(2);
	is_str(got, " ", "a string argument");
	marker_probe_unregister("fs_none", args_probe, NULL);
	fire_all_types(3);
	is_str(got, "-6 250 -300 65000 4000000000 -1234567890123 -1 1.5 -2.25 str 0x1234 1 ",
	       "twelve arguments of every width, promoted as marker_fire() promotes them");

	want = mix(in, 1000, false);
	hits = 0;
	marker_probe_register("fs_mix", "v %llu", trash_probe, NULL);
	have = mix(in, 1000, true);
	ok(hits == 1000 && have == want,
	   "values live across an enabled site survive a probe that overwrites every scratch register (%d hits)",
	   hits);

#ifdef __x86_64__
	if (__builtin_cpu_supports("avx")) {
		double vw = vec(200, false), vh;

		marker_probe_register("fs_vec", "i %d", trash_probe, NULL);
		vh = vec(200, true);
		ok(vh == vw, "256-bit vector values survive it too (%g, %g)", vh, vw);
	} else {
		ok(1, "# SKIP no AVX");
	}
#else
	ok(1, "# SKIP the register-preserving call is x86-64's");
#endif

	marker_probe_register("fs_leaf", "seed %d", trash_probe, NULL);
	is_int(leaf(7), 24, "a leaf function's red zone survives an enabled site");

	marker_probe_register("fs_bt", "i %d", bt_probe, NULL);
	fs_outer(1);
	ok(nframes > 3 && frame_in((uintptr_t)fs_outer, 64) &&
	   frame_in((uintptr_t)main, 4096),
	   "a backtrace from a probe climbs through the stub to the site's callers (%d frames)",
	   nframes);
	return done();
}
