/*
 * guest-shim entry. The hypervisor starts every vCPU here in 64-bit mode
 * (docs/architecture.md, "guest entry state"): RSP at the top of its own
 * stack, RDI = the command line's address, RSI = the RAM size, RDX = the
 * vCPU's index: shim_main's three arguments. shim_main never returns.
 */
	.section .text.entry, "ax"
	.global guest_start
guest_start:
	and $-16, %rsp
	call shim_main
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
