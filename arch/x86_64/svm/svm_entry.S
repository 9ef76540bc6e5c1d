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
#include "arch/x86_64/world_switch.inc"

	.text
	.global svm_enter
svm_enter:
	push_callee_saved
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
	mov REG_RDI(%rax), %rdi
	load_guest_gprs %rax
	mov (%rsp), %rax		/* VMCB physical address */
	vmload %rax
	vmrun %rax
	vmsave %rax

	mov 16(%rsp), %rax		/* regs */
	mov %rdi, REG_RDI(%rax)
	store_guest_gprs %rax
	mov 8(%rsp), %rax		/* host save area: our FS/GS/TR back */
	vmload %rax
	cli				/* a pending interrupt waits for the exit handler */
	stgi

	add $24, %rsp
	pop_callee_saved
	ret

	.section .note.GNU-stack, "", @progbits
