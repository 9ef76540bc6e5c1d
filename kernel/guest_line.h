/* A guest's console line in the making: bytes a guest writes one at a time
 * (the debug port, a UART) are gathered until a newline or GUEST_LINE_MAX
 * bytes, then logged as "[vm] line" through log_guest_text (escaped, never
 * a record) if the VM's text budget has room. The caller serializes. */
#ifndef KERNEL_GUEST_LINE_H
#define KERNEL_GUEST_LINE_H

#include <stdbool.h>

#define GUEST_LINE_MAX 120

struct vm;

struct guest_line {
	struct vm *vm;
	char bytes[GUEST_LINE_MAX]; /* raw guest bytes, never a newline */
	unsigned len;
	bool crlf; /* a CR right before the newline is part of the line end */
};

void guest_line_init(struct guest_line *l, struct vm *vm, bool crlf);
void guest_line_put(struct guest_line *l, char c);

#endif
