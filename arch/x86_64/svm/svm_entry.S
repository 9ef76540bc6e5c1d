/*
 * SVM world switch: svm_enter(vmcb_pa, regs, host_save_pa).
 *
 * VMRUN swaps RAX, RSP, RIP and the control registers through the VMCB; the
 * other general registers are ours to swap (APM Vol. 2 §15.5). VMLOAD and
 * VMSAVE move the state VMRUN leaves alone (FS/GS bases, TR, LDTR, the SYSCALL
 * MSRs): the guest's around the run, then the host's back, since this
 * hypervisor's GS base and TR must survive the guest (§15.5.2). GIF is clear
 * from CLGI to STGI, so a host interrupt is taken only after the switch back,
 * by the exit handler.
 */
#include "arch/x86_64/virt_regs_offsets.h"

	.text
	.global svm_enter
svm_enter:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rsi			/* regs: needed again after the exit */
	push %rdx			/* host save area */
	push %rdi			/* VMCB */

	mov %rdx, %rax
	vmsave %rax			/* the host's FS/GS bases, TR, ... */
	clgi
	sti				/* with V_INTR_MASKING, the host's IF at VMRUN lets a
					 * physical interrupt exit the guest (APM §15.21.1);
					 * GIF = 0 holds it off the host until then */
	mov %rsi, %rax
	mov REG_RBX(%rax), %rbx
	mov REG_RCX(%rax), %rcx
	mov REG_RDX(%rax), %rdx
	mov REG_RSI(%rax), %rsi
	mov REG_RDI(%rax), %rdi
	mov REG_RBP(%rax), %rbp
	mov REG_R8(%rax), %r8
	mov REG_R9(%rax), %r9
	mov REG_R10(%rax), %r10
	mov REG_R11(%rax), %r11
	mov REG_R12(%rax), %r12
	mov REG_R13(%rax), %r13
	mov REG_R14(%rax), %r14
	mov REG_R15(%rax), %r15
	mov (%rsp), %rax		/* VMCB physical address */
	vmload %rax
	vmrun %rax
	vmsave %rax

	mov 16(%rsp), %rax		/* regs */
	mov %rbx, REG_RBX(%rax)
	mov %rcx, REG_RCX(%rax)
	mov %rdx, REG_RDX(%rax)
	mov %rsi, REG_RSI(%rax)
	mov %rdi, REG_RDI(%rax)
	mov %rbp, REG_RBP(%rax)
	mov %r8, REG_R8(%rax)
	mov %r9, REG_R9(%rax)
	mov %r10, REG_R10(%rax)
	mov %r11, REG_R11(%rax)
	mov %r12, REG_R12(%rax)
	mov %r13, REG_R13(%rax)
	mov %r14, REG_R14(%rax)
	mov %r15, REG_R15(%rax)
	mov 8(%rsp), %rax		/* host save area: our FS/GS/TR back */
	vmload %rax
	cli				/* a pending interrupt waits for the exit handler */
	stgi

	add $24, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

	.section .note.GNU-stack, "", @progbits
