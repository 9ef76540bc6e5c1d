/*
 * guest-shim's interrupt entry points, vectors 32-255: each saves the
 * registers a C call may clobber, passes its vector to shim_interrupt(),
 * which counts it and signals EOI, and returns with IRETQ. The CPU aligned
 * RSP to 16 and pushed 5 quadwords; nine more keep the call aligned.
 */
	.text
	.balign 16
	.global shim_interrupt_stubs
shim_interrupt_stubs:
	.set vec, 32
	.rept 224
	.balign 16
	push %rdi
	mov $vec, %edi
	jmp interrupt_common
	.set vec, vec + 1
	.endr

interrupt_common:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %r8
	push %r9
	push %r10
	push %r11
	call shim_interrupt
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	pop %rdi
	iretq

	.section .note.GNU-stack, "", @progbits
