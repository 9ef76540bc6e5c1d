/*
 * guest-shim's exception entry points, vectors 0-31. Each passes its vector
 * and the faulting RIP to shim_exception(), which reports them and ends the
 * VM. The CPU pushes an error code for some vectors (SDM Vol. 3A table 6-1),
 * which puts RIP one slot further up the stack.
 */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.balign 16
	.global shim_exception_stubs
shim_exception_stubs:
	.set vec, 0
	.rept 32
	.balign 16
	mov $vec, %edi
	.if HAS_ERROR_CODE(vec)
	mov 8(%rsp), %rsi
	.else
	mov (%rsp), %rsi
	.endif
	jmp shim_exception
	.set vec, vec + 1
	.endr

	.section .note.GNU-stack, "", @progbits
