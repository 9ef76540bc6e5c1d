/* Gathering a guest's bytes into console lines (kernel/guest_line.h). */
#include "kernel/guest_line.h"
#include "kernel/log.h"
#include "kernel/vm.h"

void guest_line_init(struct guest_line *l, struct vm *vm, bool crlf)
{
	l->vm = vm;
	l->len = 0;
	l->crlf = crlf;
}

/* A line the VM's log budget has no room for is dropped (and counted). */
static void flush(struct guest_line *l)
{
	if (vm_log_allowed(l->vm, VM_LOG_TEXT, vm_guest_text_chars(l->vm, l->bytes, l->len)))
		log_guest_text(l->vm->cfg->name, l->bytes, l->len);
	l->len = 0;
}

/* A serial terminal's line end is CR LF (Linux's tty adds the CR, ONLCR):
 * on a UART the CR before a newline is not the line's text. */
void guest_line_put(struct guest_line *l, char c)
{
	if (c == '\n' && l->crlf && l->len && l->bytes[l->len - 1] == '\r')
		l->len--;
	if (c == '\n' || l->len >= GUEST_LINE_MAX)
		flush(l);
	if (c != '\n')
		l->bytes[l->len++] = c;
}
