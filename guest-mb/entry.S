/*
 * guest-mb: a multiboot (version 1) guest that checks what its loader hands
 * over (main.c). Two images are built from it: guest-mb.elf carries the
 * a.out-kludge address fields (header flag 16), so the loader places it by
 * those; guest-mb-elf.elf (MB_PLAIN) has none, so it is loaded by its ELF
 * program headers. Multiboot Specification 0.6.96 §3.1 (header), §3.2
 * (machine state at entry: EAX magic, EBX the boot information, no stack).
 */
#include "kernel/hypercall.h"
#include "vplat/multiboot1_defs.h"

#ifdef MB_PLAIN
#define MB_FLAGS (MB1_HDR_PAGE_ALIGN | MB1_HDR_MEMORY_INFO)
#else
#define MB_FLAGS (MB1_HDR_PAGE_ALIGN | MB1_HDR_MEMORY_INFO | MB1_HDR_ADDRESSES)
#endif
#define STACK_BYTES 16384

	.code32
	.section .mbheader, "a"
	.balign 4
mb_header:
	.long MB1_HEADER_MAGIC
	.long MB_FLAGS
	.long -(MB1_HEADER_MAGIC + MB_FLAGS)
#ifndef MB_PLAIN
	.long mb_header			/* header_addr */
	.long _load_start		/* load_addr */
	.long _edata			/* load_end_addr */
	.long _end			/* bss_end_addr */
	.long mb_start			/* entry_addr */
#endif

	.section .text
	.global mb_start
mb_start:
	/* the state as handed over, before anything changes it; ESP is
	 * undefined (§3.2), so the stack comes first (MOV leaves EFLAGS alone) */
	movl $stack_top, %esp
	movl %eax, entry_eax
	movl %ebx, entry_ebx
	movl %cr0, %ecx
	movl %ecx, entry_cr0
	pushfl
	popl entry_eflags
	call mb_main
	/* mb_main does not return; stay stopped if it did */
1:	cli
	hlt
	jmp 1b

/* guest_poweroff(): the hypercall ends the VM (kernel/hypercall.h), by
 * VMMCALL or VMCALL as CPUID leaf HV_CPUID_FEATURES says. */
	.global guest_poweroff
guest_poweroff:
	movl $HV_CPUID_FEATURES, %eax
	xorl %ecx, %ecx
	cpuid
	movl %eax, %ebp
	xorl %edi, %edi
	movl $HC_POWEROFF, %eax
	testl $HV_FEATURE_VMMCALL, %ebp
	jz 2f
	vmmcall
	jmp 1b
2:	vmcall
	jmp 1b

	.section .bss
	.balign 16
	.global entry_eax, entry_ebx, entry_cr0, entry_eflags
entry_eax:	.long 0
entry_ebx:	.long 0
entry_cr0:	.long 0
entry_eflags:	.long 0
	.balign 16
	.skip STACK_BYTES
stack_top:

	.section .note.GNU-stack, "", @progbits
