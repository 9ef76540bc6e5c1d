/*
 * Application-processor start-up code. smp.c copies it to a page below 1 MiB
 * and sends INIT-SIPI-SIPI with that page's number (SDM Vol. 3A §9.4.4); the
 * AP starts here in real mode at CS:0 = page:0, climbs through protected mode
 * into long mode (§10.8.5) with the boot page tables, takes its stack and
 * per-CPU pointer from the parameter block at the end, and jumps to ap_entry.
 * It is position-independent: every address is the page base (kept in EBX)
 * plus an offset.
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

	/* The GDT pointer and the far-jump targets need absolute addresses. */
	lea OFF(tr_gdt)(%ebx), %eax
	mov %eax, OFF(tr_gdt_ptr) + 2
	lea OFF(tr_protected)(%ebx), %eax
	mov %eax, OFF(tr_jump32)
	lea OFF(tr_long)(%ebx), %eax
	mov %eax, OFF(tr_jump64)

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
	mov OFF(tr_stack)(%rbx), %rsp
	mov OFF(tr_cpu)(%rbx), %rdi
	mov OFF(tr_entry)(%rbx), %rax
	xor %ebp, %ebp
	jmp *%rax

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
tr_gdt_end:
tr_gdt_ptr:
	.word tr_gdt_end - tr_gdt - 1
	.long 0
tr_jump32:
	.long 0
	.word 0x08
tr_jump64:
	.long 0
	.word 0x18

	/* Parameter block, filled by smp.c before each start (struct ap_params). */
	.balign 8
	.global ap_trampoline_params
ap_trampoline_params:
tr_cr3:
	.quad 0
tr_stack:
	.quad 0
tr_cpu:
	.quad 0
tr_entry:
	.quad 0
ap_trampoline_end:

	.section .note.GNU-stack, "", @progbits
