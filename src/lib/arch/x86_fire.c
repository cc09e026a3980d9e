/*
 * arch/x86_fire.c - marker_abi_fire_stub, the x86 sites' way into the
 * probes that leaves every register as it was (markers/impl/fire-x86.h
 * says why and what an x86-64 site hands it, fire-i386.h an i386 site).
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

#elif defined(__i386__)

/*
 * i386: the site calls here through area[1], `call *4(%reg)`, with the
 * area in whichever register the compiler chose (markers/impl/fire-i386.h):
 * an ordinary call, the return address at (%esp), so the usual CFA (%esp
 * + 4 on entry) describes the frame, and no red zone to step over.  The
 * stub saves every general register, finds which one holds the
 * area from the call's own encoding just before the return address
 * (ff 50+reg 04: the ModRM byte names the register), aligns the stack to
 * 16 bytes as the ABI wants at a call, calls marker__fire_area(area)
 * (probes.c), restores every register and returns.  Any other encoding
 * (an assembler that chose a 32-bit displacement, %esp) traps (ud2) rather
 * than reading a wrong area: a site built so is a build to fix.
 */
#define PUSH(r, off) "pushl %" #r "\n\t.cfi_adjust_cfa_offset 4\n\t.cfi_offset %" #r ", -" #off "\n\t"
#define POP(r) "popl %" #r "\n\t.cfi_adjust_cfa_offset -4\n\t.cfi_restore %" #r "\n\t"

__asm__(".text\n\t"
	".p2align 4\n\t"
	".globl marker_abi_fire_stub\n\t"
	".type marker_abi_fire_stub, @function\n"
	"marker_abi_fire_stub:\n\t"
	".cfi_startproc\n\t"
	"endbr32\n\t"
	/* %eax %ecx %edx %ebx, a word for %esp, %ebp %esi %edi: pushal's layout,
	   %eax at 28(%esp), pushed one by one (pushal and popal are microcoded:
	   5 ns more an event on a Xeon) */
	PUSH(eax, 8) PUSH(ecx, 12) PUSH(edx, 16) PUSH(ebx, 20)
	"subl $4, %esp\n\t"
	".cfi_adjust_cfa_offset 4\n\t"
	PUSH(ebp, 28) PUSH(esi, 32) PUSH(edi, 36)
	".cfi_remember_state\n\t"
	"movl 32(%esp), %ecx\n\t"	/* the return address */
	"cmpb $0xff, -3(%ecx)\n\t"
	"jne 9f\n\t"
	"cmpb $4, -1(%ecx)\n\t"
	"jne 9f\n\t"
	"movzbl -2(%ecx), %eax\n\t"
	"xorl $0x50, %eax\n\t"		/* the register's number, 0 to 7 */
	"cmpl $7, %eax\n\t"
	"ja 9f\n\t"
	"cmpl $4, %eax\n\t"		/* %esp: never an area */
	"je 9f\n\t"
	"negl %eax\n\t"
	"movl 28(%esp,%eax,4), %eax\n\t"	/* register n is at 28 - 4n */
	"movl %esp, %ebp\n\t"
	".cfi_def_cfa_register %ebp\n\t"
	"andl $-16, %esp\n\t"
	"subl $12, %esp\n\t"
	"pushl %eax\n\t"
	"call marker__fire_area\n\t"
	"movl %ebp, %esp\n\t"
	".cfi_def_cfa_register %esp\n\t"
	POP(edi) POP(esi) POP(ebp)
	"addl $4, %esp\n\t"
	".cfi_adjust_cfa_offset -4\n\t"
	POP(ebx) POP(edx) POP(ecx) POP(eax)
	"ret\n"
	".cfi_restore_state\n"
	"9:\tud2\n\t"
	".cfi_endproc\n\t"
	".size marker_abi_fire_stub, .-marker_abi_fire_stub\n\t"
	".previous");

#endif /* __x86_64__, __i386__ */
