/*
 * arch/x86_fire.c - marker_abi_fire_stub, the x86-64 sites' way into the
 * probes that leaves every register as it was (markers/impl/fire-x86.h
 * says why and what the site hands it).
 *
 * The site jumps here with %rdi = its argument area and %r11 = the address
 * to return to, %rsp untouched: the caller's red zone (128 bytes below
 * %rsp, where a leaf function keeps locals) is live.  The stub steps below
 * it, saves what a C call may clobber (%rax %rcx %rdx %rsi %rdi %r8-%r10,
 * %xmm0-15, or %ymm0-15 where the CPU has AVX: code built with -mavx may
 * keep 256-bit values there, and glibc's string functions clobber their
 * upper halves), aligns the stack, calls marker__fire_area, restores, and
 * jumps back through %r11 (no ret: a shadow stack has no entry for it).
 * The flags are the site's "cc" clobber; %r11 the site restores from the
 * area; AVX-512 state and x87 registers the site never leaves live
 * (fire-x86.h).
 *
 * Unwinding (gdb's bt from a probe, perf, a C++ exception): the CFI below
 * says where the return address is at every instruction: in %r11 on
 * entry, then in the slot it is pushed to, the CFA being the caller's %rsp.
 * The caller's own CFI is right at the return point, since its %rsp never
 * moved.
 */
#include <stdint.h>
#include <string.h>

#include "registry.h"

#ifdef __x86_64__

/*
 * What the stub saves of the vector registers: 0 %xmm0-15 (no AVX); 1
 * %ymm0-15 when XGETBV(1) says their upper halves are in use, %xmm0-15
 * when they are clean (glibc's AVX functions end in vzeroupper, and SSE
 * code never dirties them); 2 %ymm0-15 always (AVX without XGETBV(1)).
 * Restoring a clean register with a 256-bit load would leave the upper
 * state dirty, and the SSE code that follows pays for it on every
 * instruction (measured: 0.5 us per event on an AVX-512 Xeon).  Set at load.
 */
unsigned char marker__x86_ymm;

static __attribute__((constructor(101))) void detect_avx(void)
{
	unsigned int a, b, c, d;

	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx"))
		return;
	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(1));
	marker__x86_ymm = (a & 4) ? 1 : 2; /* CPUID.(0DH,1):EAX[2]: XGETBV with ECX=1 */
}

/* Called by the stub only: area[0] the descriptor, area[2...] the arguments. */
void marker__fire_area(const uint64_t *area) __attribute__((used));
void marker__fire_area(const uint64_t *area)
{
	/*
	 * The x86-64 ABI's va_list: both register areas marked used up, so
	 * that va_arg() reads every argument from the "stack" area, which is
	 * laid out as a variadic call's stack arguments (8-byte slots).
	 */
	struct {
		unsigned int gp_offset, fp_offset;
		const void *overflow_arg_area, *reg_save_area;
	} v = {48, 176, area + 2, NULL};
	va_list args;

	_Static_assert(sizeof(va_list) == sizeof(v), "the x86-64 va_list");
	memcpy(args, &v, sizeof(v));
	marker__fire_va((const struct marker *)(uintptr_t)area[0], args);
}

#define SAVE_X(i) "movaps %xmm" #i ", " #i "*16(%rsp)\n\t"
#define LOAD_X(i) "movaps " #i "*16(%rsp), %xmm" #i "\n\t"
#define SAVE_Y(i) "vmovdqa %ymm" #i ", " #i "*32(%rsp)\n\t"
#define LOAD_Y(i) "vmovdqa " #i "*32(%rsp), %ymm" #i "\n\t"
#define ALL16(m)                                                                            \
	m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9) m(10) m(11) m(12) m(13) m(14) m(15)
/* Push one register saved at CFA-off. */
#define PUSH(r, off) "pushq %" #r "\n\t.cfi_adjust_cfa_offset 8\n\t.cfi_offset %" #r ", -" #off "\n\t"
#define POP(r) "popq %" #r "\n\t.cfi_adjust_cfa_offset -8\n\t.cfi_restore %" #r "\n\t"

__asm__(".text\n\t"
	".p2align 4\n\t"
	".globl marker_abi_fire_stub\n\t"
	".type marker_abi_fire_stub, @function\n"
	"marker_abi_fire_stub:\n\t"
	".cfi_startproc simple\n\t"
	".cfi_def_cfa %rsp, 0\n\t"	/* the CFA: the caller's %rsp */
	".cfi_register %rip, %r11\n\t"
	"endbr64\n\t"
	"leaq -128(%rsp), %rsp\n\t"	/* below the caller's red zone */
	".cfi_adjust_cfa_offset 128\n\t"
	"pushq %r11\n\t"
	".cfi_adjust_cfa_offset 8\n\t"
	".cfi_offset %rip, -136\n\t"
	PUSH(rax, 144) PUSH(rcx, 152) PUSH(rdx, 160) PUSH(rsi, 168) PUSH(rdi, 176)
	PUSH(r8, 184) PUSH(r9, 192) PUSH(r10, 200) PUSH(rbp, 208)
	"movq %rsp, %rbp\n\t"
	".cfi_def_cfa_register %rbp\n\t"
	"andq $-32, %rsp\n\t"
	"movzbl marker__x86_ymm(%rip), %eax\n\t"
	"testl %eax, %eax\n\t"
	"jz 1f\n\t"
	"cmpl $2, %eax\n\t"
	"je 2f\n\t"
	"movl $1, %ecx\n\t"
	"xgetbv\n\t"			/* XINUSE: bit 2, the upper halves */
	"testb $4, %al\n\t"
	"jnz 2f\n"
	"1:\tsubq $256, %rsp\n\t"
	ALL16(SAVE_X)
	"call marker__fire_area\n\t"
	ALL16(LOAD_X)
	"jmp 3f\n"
	"2:\tsubq $512, %rsp\n\t"
	ALL16(SAVE_Y)
	"call marker__fire_area\n\t"
	ALL16(LOAD_Y)
	"3:\tmovq %rbp, %rsp\n\t"
	".cfi_def_cfa_register %rsp\n\t"
	POP(rbp) POP(r10) POP(r9) POP(r8) POP(rdi) POP(rsi) POP(rdx) POP(rcx) POP(rax)
	"popq %r11\n\t"
	".cfi_adjust_cfa_offset -8\n\t"
	".cfi_register %rip, %r11\n\t"
	"leaq 128(%rsp), %rsp\n\t"
	".cfi_adjust_cfa_offset -128\n\t"
	"jmp *%r11\n\t"
	".cfi_endproc\n\t"
	".size marker_abi_fire_stub, .-marker_abi_fire_stub\n\t"
	".previous");

#endif /* __x86_64__ */
