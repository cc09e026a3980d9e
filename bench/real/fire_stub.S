/*
 * fire_stub.S - the prototype of real_sites.h's KIND_stub: marker_fire(rdi,
 * rsi) with every register and the flags' users preserved (the caller's
 * asm says it clobbers nothing but "cc" and memory).  The stack is aligned
 * here, since the call comes from the middle of any function.
 */
	.text
	.globl real_fire_stub
	.type real_fire_stub, @function
real_fire_stub:
	pushq %rbp
	movq %rsp, %rbp
	andq $-16, %rsp
	pushq %rax; pushq %rcx; pushq %rdx; pushq %rsi
	pushq %rdi; pushq %r8; pushq %r9; pushq %r10
	pushq %r11; pushq %r11	/* twice: 16-byte alignment */
	subq $256, %rsp
	movdqu %xmm0, 0(%rsp); movdqu %xmm1, 16(%rsp); movdqu %xmm2, 32(%rsp); movdqu %xmm3, 48(%rsp)
	movdqu %xmm4, 64(%rsp); movdqu %xmm5, 80(%rsp); movdqu %xmm6, 96(%rsp); movdqu %xmm7, 112(%rsp)
	movdqu %xmm8, 128(%rsp); movdqu %xmm9, 144(%rsp); movdqu %xmm10, 160(%rsp); movdqu %xmm11, 176(%rsp)
	movdqu %xmm12, 192(%rsp); movdqu %xmm13, 208(%rsp); movdqu %xmm14, 224(%rsp); movdqu %xmm15, 240(%rsp)
	xorl %eax, %eax		/* variadic: no vector registers used */
	call marker_fire@PLT
	movdqu 0(%rsp), %xmm0; movdqu 16(%rsp), %xmm1; movdqu 32(%rsp), %xmm2; movdqu 48(%rsp), %xmm3
	movdqu 64(%rsp), %xmm4; movdqu 80(%rsp), %xmm5; movdqu 96(%rsp), %xmm6; movdqu 112(%rsp), %xmm7
	movdqu 128(%rsp), %xmm8; movdqu 144(%rsp), %xmm9; movdqu 160(%rsp), %xmm10; movdqu 176(%rsp), %xmm11
	movdqu 192(%rsp), %xmm12; movdqu 208(%rsp), %xmm13; movdqu 224(%rsp), %xmm14; movdqu 240(%rsp), %xmm15
	addq $256, %rsp
	popq %r11; popq %r11
	popq %r10; popq %r9; popq %r8; popq %rdi
	popq %rsi; popq %rdx; popq %rcx; popq %rax
	movq %rbp, %rsp
	popq %rbp
	ret
	.size real_fire_stub, .-real_fire_stub
	.section .note.GNU-stack,"",@progbits
