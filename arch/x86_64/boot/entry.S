/*
 * Multiboot2 entry. GRUB leaves us in 32-bit protected mode with paging off,
 * EAX = the bootloader magic and EBX = the physical address of the boot
 * information (multiboot2 spec §3.3). We build the boot page tables, switch to
 * long mode (Intel SDM Vol. 3A §10.8.5) and jump to the linked, high-half
 * address of the rest of the hypervisor.
 */
#include "arch/x86_64/boot/multiboot2.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/regs.h"

#define PHYS(sym)  ((sym) - KERNEL_VMA)
#define PTE_P      0x001
#define PTE_W      0x002
#define PTE_PS     0x080
#define PTE_TABLE  (PTE_P | PTE_W)
#define PTE_LARGE  (PTE_P | PTE_W | PTE_PS)

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* entry address tag: GRUB jumps here (a physical address) */
	.balign 8
	.word MB2_HEADER_TAG_ENTRY, 0
	.long 12
	.long PHYS(_start)
	.balign 8
	.word MB2_HEADER_TAG_END, 0
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	mov %eax, %edi			/* bootloader magic, kept for kmain */
	mov %ebx, %esi			/* boot information, physical */
	rdtsc				/* boot time is measured from here */
	mov %eax, PHYS(boot_entry_tsc)
	mov %edx, PHYS(boot_entry_tsc) + 4
	mov $PHYS(boot_stack_top), %esp

	/* No long mode: say so on COM1 and stop (nothing else is set up yet). */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	test $CPUID_80000001_EDX_LM, %edx
	jz no_long_mode

	/* Identity-map 0..4 GiB with 2 MiB pages: four page directories. */
	mov $PHYS(boot_pd), %ebx
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $PTE_LARGE, %eax
	mov %eax, (%ebx, %ecx, 8)
	mov %ecx, %eax
	shr $11, %eax			/* bits 32+ of the address: (ecx << 21) >> 32 */
	mov %eax, 4(%ebx, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jb 1b

	/* PDPT_low[0..3] -> the four directories: identity and direct map. */
	mov $PHYS(boot_pdpt_low), %ebx
	mov $PHYS(boot_pd) + PTE_TABLE, %eax
	xor %ecx, %ecx
2:	mov %eax, (%ebx, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jb 2b

	/* PDPT_high[510] -> the first directory: KERNEL_VMA maps phys 0..1 GiB. */
	movl $PHYS(boot_pd) + PTE_TABLE, PHYS(boot_pdpt_high) + 510 * 8

	movl $PHYS(boot_pdpt_low) + PTE_TABLE, PHYS(boot_pml4)			/* identity */
	movl $PHYS(boot_pdpt_low) + PTE_TABLE, PHYS(boot_pml4) + 256 * 8	/* direct map */
	movl $PHYS(boot_pdpt_high) + PTE_TABLE, PHYS(boot_pml4) + 511 * 8	/* image */

	mov %cr4, %eax
	or $(X86_CR4_PAE | X86_CR4_PGE), %eax
	mov %eax, %cr4
	mov $PHYS(boot_pml4), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $(EFER_LME | EFER_NXE), %eax
	wrmsr
	mov %cr0, %eax
	or $(X86_CR0_PG | X86_CR0_WP | X86_CR0_PE), %eax
	mov %eax, %cr0

	lgdt PHYS(boot_gdt_ptr)
	ljmp $0x08, $PHYS(long_mode_entry)

no_long_mode:
	mov $PHYS(no_lm_msg), %esi
3:	lodsb
	test %al, %al
	jz 5f
	mov %al, %bl
	mov $0x3fd, %dx			/* COM1 line status: wait for THR empty */
4:	inb %dx, %al
	test $0x20, %al
	jz 4b
	mov $0x3f8, %dx
	mov %bl, %al
	outb %al, %dx
	jmp 3b
5:	hlt
	jmp 5b

	.code64
long_mode_entry:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	movabs $high_entry, %rax
	jmp *%rax

	.text
high_entry:
	movabs $boot_stack_top, %rsp
	xor %ebp, %ebp
	/* rdi = magic, rsi = boot information (physical): kmain's arguments */
	mov %edi, %edi
	mov %esi, %esi
	call kmain
	cli
6:	hlt
	jmp 6b

	.section .boot.rodata, "a"
no_lm_msg:
	.asciz "corevisor: this CPU has no long mode; stopped.\r\n"
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long PHYS(boot_gdt)

	.data
	.balign 8
	.global boot_entry_tsc
boot_entry_tsc:
	.quad 0

	.section .bss.boot, "aw", @nobits
	.balign 4096
	.global boot_pml4
boot_pml4:
	.skip 4096
boot_pdpt_low:
	.skip 4096
boot_pdpt_high:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.balign 16
	.global boot_stack_top
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
