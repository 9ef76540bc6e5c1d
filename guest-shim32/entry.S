/*
 * guest-shim32: the smallest 32-bit guest, an ELF32 i386 image. The
 * hypervisor starts it in flat 32-bit protected mode with paging off (the
 * state boot protocols hand over; on VT-x only an unrestricted guest can run
 * it): it reports its CR0 (kernel/hypercall.h, HR_CR0), whose PE and PG bits
 * say which mode it runs in, and powers its VM off. Hypercall ABI: EAX number, EDI and ESI arguments.
 */
#include "kernel/hypercall.h"

	.code32
	.section .text.entry, "ax"
	.global guest32_start
guest32_start:
	movl $HV_CPUID_FEATURES, %eax
	xorl %ecx, %ecx
	cpuid
	movl %eax, %ebp			/* bit 0: VMMCALL, else VMCALL */
	movl %cr0, %esi
	movl $HR_CR0, %edi
	movl $HC_REPORT, %eax
	call hypercall
	xorl %edi, %edi
	movl $HC_POWEROFF, %eax
	call hypercall
1:	hlt
	jmp 1b

hypercall:
	testl $HV_FEATURE_VMMCALL, %ebp
	jz 2f
	vmmcall
	ret
2:	vmcall
	ret

	.section .note.GNU-stack, "", @progbits
