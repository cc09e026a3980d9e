/*
 * arch/x86_fire.c - marker_abi_fire_stub, the x86-64 sites' way into the
 * probes that leaves every register as it was (markers/impl/fire-x86.h
 * says why and what the site hands it).
 *
 * The site jumps here with %r11 = its argument area, which holds the
 * address to return to, and %rsp untouched: the caller's red zone (128
 * bytes below %rsp, where a leaf function keeps locals) is live.  The stub
 * steps below it, saves the general registers a C call may clobber (%rax
 * %rcx %rdx %rsi %rdi %r8-%r11), aligns the stack, calls marker__fire_area
 * (probes.c), restores, and jumps back through the area (no ret: a shadow
 * stack has no entry for it).  The flags, the vector registers and the x87
 * stack are the site's clobbers; %r11 the site restores from the area
 * (fire-x86.h).
 *
 * Unwinding (gdb's bt from a probe, perf, a C++ exception): the CFI below
 * says where the return address is at every instruction: in the area on
 * entry and exit, in the slot a copy is pushed to between, the CFA being
 * the caller's %rsp.
 * The caller's own CFI is right at the return point, since its %rsp never
 * moved.
 */
#ifdef __x86_64__

/* Push one register saved at CFA-off. */
#define PUSH(r, off) "pushq %" #r "\n\t.cfi_adjust_cfa_offset 8\n\t.cfi_offset %" #r ", -" #off "\n\t"
#define POP(r) "popq %" #r "\n\t.cfi_adjust_cfa_offset -8\n\t.cfi_restore %" #r "\n\t"

/* The return address is at area+8, the area in %r11: DW_CFA_expression rip, DW_OP_breg11 8. */
#define RA_IN_AREA ".cfi_escape 0x10, 0x10, 0x02, 0x7b, 0x08\n\t"

__asm__(".text\n\t"
	".p2align 4\n\t"
	".globl marker_abi_fire_stub\n\t"
	".type marker_abi_fire_stub, @function\n"
	"marker_abi_fire_stub:\n\t"
	".cfi_startproc simple\n\t"
	".cfi_def_cfa %rsp, 0\n\t"	/* the CFA: the caller's %rsp */
	RA_IN_AREA
	"endbr64\n\t"
	"leaq -128(%rsp), %rsp\n\t"	/* below the caller's red zone */
	".cfi_adjust_cfa_offset 128\n\t"
	"pushq 8(%r11)\n\t"		/* a copy of the return address, for unwinders */
	".cfi_adjust_cfa_offset 8\n\t"
	".cfi_offset %rip, -136\n\t"
	PUSH(rax, 144) PUSH(rcx, 152) PUSH(rdx, 160) PUSH(rsi, 168) PUSH(rdi, 176)
	PUSH(r8, 184) PUSH(r9, 192) PUSH(r10, 200) PUSH(r11, 208) PUSH(rbp, 216)
	"movq %rsp, %rbp\n\t"
	".cfi_def_cfa_register %rbp\n\t"
	"andq $-16, %rsp\n\t"
	"movq %r11, %rdi\n\t"
	"call marker__fire_area\n\t"
	"movq %rbp, %rsp\n\t"
	".cfi_def_cfa_register %rsp\n\t"
	POP(rbp) POP(r11) POP(r10) POP(r9) POP(r8) POP(rdi) POP(rsi) POP(rdx) POP(rcx) POP(rax)
	"leaq 136(%rsp), %rsp\n\t"
	".cfi_adjust_cfa_offset -136\n\t"
	RA_IN_AREA
	"jmp *8(%r11)\n\t"
	".cfi_endproc\n\t"
	".size marker_abi_fire_stub, .-marker_abi_fire_stub\n\t"
	".previous");

#endif /* __x86_64__ */
