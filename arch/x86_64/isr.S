/*
 * Entry stubs for all 256 vectors. Each pushes a uniform frame (an error code
 * of 0 where the CPU pushes none, then the vector) and jumps to one common
 * path that saves the general registers and calls trap_dispatch().
 */
#include "arch/x86_64/trap.h"

/* Vectors for which the CPU pushes an error code (SDM Vol. 3A table 6-1). */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.balign 16
	.global isr_stubs
isr_stubs:
	.set vec, 0
	.rept IDT_ENTRIES
	.balign 16
	.if !HAS_ERROR_CODE(vec)
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	mov %rsp, %rdi
	mov %rsp, %rbx			/* callee-saved: the frame, across the call */
	and $-16, %rsp			/* the ABI wants a 16-byte aligned call */
	call trap_dispatch
	mov %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	add $16, %rsp			/* vector and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
