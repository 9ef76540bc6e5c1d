/*
 * guest-shim entry. The virtualization core (not yet built) will start the
 * guest here in 64-bit mode; until then the image only has to exist so that
 * manifests can name it, and it idles.
 */
	.section .text.entry, "ax"
	.global guest_start
guest_start:
	hlt
	jmp guest_start

	.section .note.GNU-stack, "", @progbits
