/*
 * VMX world switch: vmx_enter(regs, launched) returns 0 after a VM exit, 1
 * when VMLAUNCH/VMRESUME itself failed (SDM Vol. 3C §30.2: VMfail sets CF
 * or ZF and execution goes on after the instruction).
 *
 * The host state the CPU reloads on an exit (§27.5) has RSP = HOST_RSP and
 * RIP = HOST_RIP = vmx_exit_entry; HOST_RSP is written here, just before the
 * entry, pointing at the saved `regs` pointer.
 */
#include "arch/x86_64/virt_regs_offsets.h"
#include "arch/x86_64/vmx/vmx_defs.h"

	.text
	.global vmx_enter, vmx_exit_entry
vmx_enter:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi			/* regs, for the exit path */
	mov $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax

	cmp $0, %esi			/* launched? (mov does not touch flags) */
	mov REG_RAX(%rdi), %rax
	mov REG_RBX(%rdi), %rbx
	mov REG_RCX(%rdi), %rcx
	mov REG_RDX(%rdi), %rdx
	mov REG_RSI(%rdi), %rsi
	mov REG_RBP(%rdi), %rbp
	mov REG_R8(%rdi), %r8
	mov REG_R9(%rdi), %r9
	mov REG_R10(%rdi), %r10
	mov REG_R11(%rdi), %r11
	mov REG_R12(%rdi), %r12
	mov REG_R13(%rdi), %r13
	mov REG_R14(%rdi), %r14
	mov REG_R15(%rdi), %r15
	mov REG_RDI(%rdi), %rdi
	jne 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* VMfail: nothing of the guest ran */
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	mov $1, %eax
	ret

vmx_exit_entry:
	push %rdi			/* the guest's RDI */
	mov 8(%rsp), %rdi		/* regs */
	mov %rax, REG_RAX(%rdi)
	mov %rbx, REG_RBX(%rdi)
	mov %rcx, REG_RCX(%rdi)
	mov %rdx, REG_RDX(%rdi)
	mov %rsi, REG_RSI(%rdi)
	mov %rbp, REG_RBP(%rdi)
	mov %r8, REG_R8(%rdi)
	mov %r9, REG_R9(%rdi)
	mov %r10, REG_R10(%rdi)
	mov %r11, REG_R11(%rdi)
	mov %r12, REG_R12(%rdi)
	mov %r13, REG_R13(%rdi)
	mov %r14, REG_R14(%rdi)
	mov %r15, REG_R15(%rdi)
	pop %rax
	mov %rax, REG_RDI(%rdi)
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	xor %eax, %eax
	ret

	.section .note.GNU-stack, "", @progbits
