/*
 * Application-processor start-up code. smp.c copies it to a page below 1 MiB,
 * fills in the absolute addresses below and the parameter block at the end, and
 * sends every AP INIT-SIPI-SIPI with that page's number (SDM Vol. 3A §9.4.4);
 * all the APs run it at once. Each starts here in real mode at CS:0 = page:0,
 * takes the next free slot with a locked XADD (the SDM's own start-up example
 * counts its APs that way), climbs through protected mode into long mode
 * (§10.8.5) with the boot page tables, loads its slot's stack and jumps to
 * ap_entry(slot), which finds its struct cpu by its APIC ID. The code writes
 * nothing but the slot counter, so the APs can share it. It is
 * position-independent: every address is the page base (kept in EBX) plus an
 * offset.
 */
#include "arch/x86_64/regs.h"

#define OFF(sym) ((sym) - ap_trampoline_start)

	.section .rodata
	.code16
	.global ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	xor %ebx, %ebx
	mov %ax, %bx
	shl $4, %ebx			/* EBX = physical base of this page */

	lgdtl OFF(tr_gdt_ptr)
	mov %cr0, %eax
	or $X86_CR0_PE, %eax
	mov %eax, %cr0
	ljmpl *OFF(tr_jump32)

	.code32
tr_protected:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $1, %esi
	lock xadd %esi, OFF(tr_next)(%ebx)	/* ESI = this AP's slot */
	mov %cr4, %eax
	or $(X86_CR4_PAE | X86_CR4_PGE), %eax
	mov %eax, %cr4
	mov OFF(tr_cr3)(%ebx), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $(EFER_LME | EFER_NXE), %eax
	wrmsr
	mov %cr0, %eax
	and $~(X86_CR0_CD | X86_CR0_NW), %eax	/* INIT leaves caching disabled */
	or $(X86_CR0_PG | X86_CR0_WP), %eax
	mov %eax, %cr0
	ljmpl *OFF(tr_jump64)(%ebx)

	.code64
tr_long:
	mov %ebx, %ebx			/* upper halves are undefined after the switch */
	mov %esi, %esi
	cmp OFF(tr_slots)(%rbx), %esi
	jae tr_no_slot			/* an AP nobody started: it has no stack */
	mov OFF(tr_stacks)(%rbx), %rax
	mov (%rax,%rsi,8), %rsp
	push $0				/* a return address: the ABI's stack alignment */
	mov %esi, %edi
	mov OFF(tr_entry)(%rbx), %rax
	xor %ebp, %ebp
	jmp *%rax
tr_no_slot:
	cli
	hlt
	jmp tr_no_slot

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
tr_gdt_end:

	/* The parameter block (struct ap_params), filled by smp.c before the
	 * first SIPI. */
	.balign 8
	.global ap_trampoline_params
ap_trampoline_params:
tr_cr3:
	.quad 0
tr_entry:
	.quad 0				/* ap_entry */
tr_stacks:
	.quad 0				/* uint64_t stack_top[slots], virtual */
tr_slots:
	.long 0
tr_next:
	.long 0				/* the next free slot */
tr_jump32:
	.long OFF(tr_protected)		/* smp.c adds the page base to these three */
	.word 0x08
tr_jump64:
	.long OFF(tr_long)
	.word 0x18
tr_gdt_ptr:
	.word tr_gdt_end - tr_gdt - 1
	.long OFF(tr_gdt)
ap_trampoline_end:

	.section .note.GNU-stack, "", @progbits
