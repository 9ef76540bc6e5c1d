/*
 * VMX world switch: vmx_enter(regs, launched) returns 0 after a VM exit, 1
 * when VMLAUNCH/VMRESUME itself failed (SDM Vol. 3C §30.2: VMfail sets CF
 * or ZF and execution goes on after the instruction).
 *
 * The host state the CPU reloads on an exit (§27.5) has RSP = HOST_RSP and
 * RIP = HOST_RIP = vmx_exit_entry; HOST_RSP is written here, just before the
 * entry, pointing at the saved `regs` pointer.
 */
#include "arch/x86_64/world_switch.inc"
#include "arch/x86_64/vmx/vmx_defs.h"

	.text
	.global vmx_enter, vmx_exit_entry
vmx_enter:
	push_callee_saved
	push %rdi			/* regs, for the exit path */
	mov $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax

	cmp $0, %esi			/* launched? (mov does not touch flags) */
	mov REG_RAX(%rdi), %rax
	load_guest_gprs %rdi
	mov REG_RDI(%rdi), %rdi
	jne 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* VMfail: nothing of the guest ran */
	mov $1, %eax
	jmp 3f

vmx_exit_entry:
	push %rdi			/* the guest's RDI */
	mov 8(%rsp), %rdi		/* regs */
	mov %rax, REG_RAX(%rdi)
	store_guest_gprs %rdi
	pop %rax
	mov %rax, REG_RDI(%rdi)
	xor %eax, %eax
3:	add $8, %rsp			/* the regs pointer */
	pop_callee_saved
	ret

	.section .note.GNU-stack, "", @progbits
