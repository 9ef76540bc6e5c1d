/* The per-VM debug console on port 0xe9: bytes are gathered into a line and
 * logged as "[vm] line" at a newline or when the line is full
 * (kernel/guest_line.h), escaped. Reads give 0xe9, the value that tells a
 * guest the port exists (Bochs' convention). */
#include "kernel/debug_port.h"
#include "kernel/guest_line.h"
#include "kernel/manifest.h"
#include "kernel/mmio.h"
#include "kernel/spinlock.h"
#include "kernel/vm.h"

/* The VM's vCPUs may write the port at once: the lock keeps the line
 * whole. */
struct debug_port {
	struct spinlock lock;
	struct guest_line line;
};

static struct debug_port ports[MANIFEST_MAX_VMS];

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
	uint64_t flags;

	(void)port;
	(void)size;
	flags = spin_lock_irqsave(&d->lock);
	guest_line_put(&d->line, (char)(value & 0xff));
	spin_unlock_irqrestore(&d->lock, flags);
}

int debug_port_attach(struct vm *vm)
{
	struct debug_port *d = &ports[vm->index];
	struct pio_range r = {DEBUG_PORT, 1, "debug-port", debug_port_read, debug_port_write, d};

	d->lock = (struct spinlock)SPINLOCK_INIT;
	guest_line_init(&d->line, vm, false);
	return pio_register(vm, &r);
}
