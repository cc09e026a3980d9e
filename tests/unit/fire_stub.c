/*
 * The out-of-line call of a site (markers/impl/fire-x86.h on x86-64: a jump
 * to a stub that preserves every register): the probes get every argument
 * type as marker_fire() hands it; values the compiler keeps in registers
 * across an enabled site survive a probe that overwrites every register the
 * ABI lets it; a leaf function's red zone survives; and a backtrace taken in
 * a probe climbs through the stub to the site's callers.  Every architecture
 * runs the argument and backtrace checks; the register checks are x86's.
 * Also built as C++ and with clang (tests/fire_stub.mk).
 */
#include <execinfo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
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
#elif defined(__i386__)
	__asm__ volatile("movl $-1, %%eax\n\tmovl $-1, %%ecx\n\tmovl $-1, %%edx"
			 : : : "eax", "ecx", "edx", "cc");
#ifdef __SSE2__
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm1, %%xmm1\n\t"
			 "pcmpeqd %%xmm2, %%xmm2\n\tpcmpeqd %%xmm3, %%xmm3\n\t"
			 "pcmpeqd %%xmm4, %%xmm4\n\tpcmpeqd %%xmm5, %%xmm5\n\t"
			 "pcmpeqd %%xmm6, %%xmm6\n\tpcmpeqd %%xmm7, %%xmm7"
			 : : : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");
#endif
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

#ifdef __i386__
/*
 * The i386 stub's own contract (markers/impl/fire-i386.h), register by
 * register: `call *4(%reg)` with the area in any of the seven registers a
 * compiler may choose, every other register holding a sentinel; the probe
 * must get the argument and every register must come back as it was.
 */
static const struct marker *regs_desc; /* fs_regs's descriptor, as its probe saw it */
static int regs_seen;

static void regs_probe(const struct marker *m, void *priv, const char *fmt, va_list *ap)
{
	(void)priv;
	(void)fmt;
	regs_desc = m;
	regs_seen = va_arg(*ap, int);
}

static __attribute__((noinline)) void regs_site(int v)
{
	trace_mark(fs_regs, "v %d", v);
}

/* After the call: the eight registers as pushal stores them, copied to out[0..7]. */
#define REGS_CALL(reg)                                                                      \
	__asm__ volatile("pushl %%ebp\n\tpushl %%ebx\n\tpushl %%esi\n\tpushl %%edi\n\t"    \
			 "pushl %[out]\n\tpushl %[area]\n\t"                                \
			 "movl $0x1111a0a0, %%eax\n\tmovl $0x1111c1c1, %%ecx\n\t"           \
			 "movl $0x1111d2d2, %%edx\n\tmovl $0x1111b3b3, %%ebx\n\t"           \
			 "movl $0x1111e5e5, %%ebp\n\tmovl $0x1111f6f6, %%esi\n\t"           \
			 "movl $0x11117777, %%edi\n\t"                                       \
			 "movl (%%esp), %%" reg "\n\t"                                       \
			 "call *4(%%" reg ")\n\t"                                            \
			 "pushal\n\t"                                                        \
			 "movl 36(%%esp), %%eax\n\t"                                         \
			 "movl 0(%%esp), %%ecx\n\tmovl %%ecx, 0(%%eax)\n\t"                  \
			 "movl 4(%%esp), %%ecx\n\tmovl %%ecx, 4(%%eax)\n\t"                  \
			 "movl 8(%%esp), %%ecx\n\tmovl %%ecx, 8(%%eax)\n\t"                  \
			 "movl 16(%%esp), %%ecx\n\tmovl %%ecx, 16(%%eax)\n\t"                \
			 "movl 20(%%esp), %%ecx\n\tmovl %%ecx, 20(%%eax)\n\t"                \
			 "movl 24(%%esp), %%ecx\n\tmovl %%ecx, 24(%%eax)\n\t"                \
			 "movl 28(%%esp), %%ecx\n\tmovl %%ecx, 28(%%eax)\n\t"                \
			 "popal\n\t"                                                         \
			 "addl $8, %%esp\n\t"                                                \
			 "popl %%edi\n\tpopl %%esi\n\tpopl %%ebx\n\tpopl %%ebp"              \
			 : : [area] "r"(area), [out] "r"(out)                                \
			 : "memory", "cc", "eax", "ecx", "edx")

/* One register: 1 if the probe saw @v and every register came back. */
static int regs_one(int which, int v)
{
	/* pushal's order, out[7 - n] for register n; out[3] (%esp) unused. */
	static const unsigned int want[8] = {0x11117777, 0x1111f6f6, 0x1111e5e5, 0,
					     0x1111b3b3, 0x1111d2d2, 0x1111c1c1, 0x1111a0a0};
	static const int num[7] = {0, 1, 2, 3, 5, 6, 7}; /* eax ecx edx ebx ebp esi edi */
	unsigned int area[3] = {(unsigned int)(uintptr_t)regs_desc,
				(unsigned int)(uintptr_t)&marker_abi_fire_stub, (unsigned int)v};
	unsigned int out[8] = {0};
	int bad = 0;

	regs_seen = -1;
	switch (which) {
	case 0: REGS_CALL("eax"); break;
	case 1: REGS_CALL("ecx"); break;
	case 2: REGS_CALL("edx"); break;
	case 3: REGS_CALL("ebx"); break;
	case 4: REGS_CALL("ebp"); break;
	case 5: REGS_CALL("esi"); break;
	case 6: REGS_CALL("edi"); break;
	}
	for (int i = 0; i < 8; i++) {
		unsigned int w = 7 - i == num[which] ? (unsigned int)(uintptr_t)area : want[i];

		if (i != 3 && out[i] != w) {
			diag("register %d after the call: %#x, want %#x", 7 - i, out[i], w);
			bad = 1;
		}
	}
	if (regs_seen != v)
		diag("area in register %d: the probe saw %d, want %d", num[which], regs_seen, v);
	return !bad && regs_seen == v;
}

/*
 * A call the stub cannot read (a 32-bit displacement: ff 90 04 00 00 00)
 * must trap, not read some other register as the area: 1 if a child
 * doing it dies of SIGILL.
 */
static int bad_encoding_traps(void)
{
	unsigned int area[3] = {(unsigned int)(uintptr_t)regs_desc,
				(unsigned int)(uintptr_t)&marker_abi_fire_stub, 7};
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGILL, SIG_DFL);
		__asm__ volatile(".byte 0xff, 0x90\n\t.long 4" : : "a"(area) : "memory", "cc", "ecx", "edx");
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGILL;
}
#endif

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

	plan(10);
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
#elif defined(__i386__)
	{
		int all = 1;

		marker_probe_register("fs_regs", "v %d", regs_probe, NULL);
		regs_site(99);
		for (int i = 0; regs_desc && i < 7; i++)
			all &= regs_one(i, 100 + i);
		ok(regs_desc && all, "the i386 stub finds the area in each of seven registers and preserves all");
	}
#else
	ok(1, "# SKIP the register-preserving call is x86's");
#endif

	marker_probe_register("fs_leaf", "seed %d", trash_probe, NULL);
	is_int(leaf(7), 24, "a leaf function's red zone survives an enabled site");

	marker_probe_register("fs_bt", "i %d", bt_probe, NULL);
	fs_outer(1);
	ok(nframes > 3 && frame_in((uintptr_t)fs_outer, 64) &&
	   frame_in((uintptr_t)main, 4096),
	   "a backtrace from a probe climbs through the stub to the site's callers (%d frames)",
	   nframes);
#ifdef __i386__
	ok(bad_encoding_traps(), "a call the i386 stub cannot read traps (SIGILL)");
#else
	ok(1, "# SKIP the encoding check is i386's");
#endif
	return done();
}
