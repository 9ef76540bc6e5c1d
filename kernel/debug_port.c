/* The per-VM debug console on port 0xe9: bytes are gathered into a line and
 * logged as "[vm] line" at a newline or when the line is full, through
 * log_guest_text, which escapes whatever is not printable. Reads give 0xe9,
 * the value that tells a guest the port exists (Bochs' convention). */
#include "kernel/debug_port.h"
#include "kernel/log.h"
#include "kernel/manifest.h"
#include "kernel/mmio.h"
#include "kernel/spinlock.h"
#include "kernel/vm.h"

#define LINE_MAX_CHARS 120

/* The VM's vCPUs may write the port at once: the lock keeps `len` within
 * the line. */
struct debug_port {
	struct vm *vm;
	struct spinlock lock;
	char line[LINE_MAX_CHARS]; /* raw guest bytes, never a newline */
	unsigned len;
};

static struct debug_port ports[MANIFEST_MAX_VMS];

/* A line the VM's log budget has no room for is dropped (and counted). */
static void flush_line(struct debug_port *d)
{
	if (vm_log_allowed(d->vm, VM_LOG_TEXT, vm_guest_text_chars(d->vm, d->line, d->len)))
		log_guest_text(d->vm->cfg->name, d->line, d->len);
	d->len = 0;
}

static uint32_t debug_port_read(void *dev, uint16_t port, unsigned size)
{
	(void)dev;
	(void)port;
	(void)size;
	return DEBUG_PORT;
}

static void debug_port_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct debug_port *d = dev;
	char c = (char)(value & 0xff);
	uint64_t flags;

	(void)port;
	(void)size;
	flags = spin_lock_irqsave(&d->lock);
	if (c == '\n' || d->len >= LINE_MAX_CHARS)
		flush_line(d);
	if (c != '\n')
		d->line[d->len++] = c;
	spin_unlock_irqrestore(&d->lock, flags);
}

int debug_port_attach(struct vm *vm)
{
	struct debug_port *d = &ports[vm->index];
	struct pio_range r = {DEBUG_PORT, 1, "debug-port", debug_port_read, debug_port_write, d};

	d->vm = vm;
	d->lock = (struct spinlock)SPINLOCK_INIT;
	d->len = 0;
	return pio_register(vm, &r);
}
