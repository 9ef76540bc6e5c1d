/* The VM's I/O APIC and COM1 (kernel/vplat_devices.h): the glue between the
 * pure models in vplat/ and the VM's MMIO and port dispatch, its log and its
 * vCPUs. One lock per VM serializes both models (the UART's interrupt line
 * goes straight into the I/O APIC); interrupt delivery under it only sets
 * IRR bits, wakes and kicks. */
#include "arch/x86_64/apic_regs.h"
#include "drivers/uart16550_regs.h"
#include "kernel/guest_line.h"
#include "kernel/mem.h"
#include "kernel/mmio.h"
#include "kernel/spinlock.h"
#include "kernel/vcpu.h"
#include "kernel/vm.h"
#include "kernel/vplat_devices.h"
#include "vplat/acpi_build.h"
#include "vplat/ioapic.h"
#include "vplat/ioapic_regs.h"
#include "vplat/vuart16550.h"

#define XAPIC_BROADCAST 0xff
#define COM1_PORT_COUNT UART_REGS
#define BYTE_BITS	8

struct vplat {
	struct vm *vm;
	struct spinlock lock;
	struct ioapic ioapic;
	struct vuart com1;
	struct guest_line line;
};

/* An I/O APIC message is an interrupt message like an IPI (82093AA §3.2.4,
 * SDM Vol. 3A §11.6.2): 8-bit physical or logical destinations. */
static bool ioapic_deliver(void *ctx, const struct ioapic_msg *msg)
{
	struct vplat *p = ctx;
	struct vlapic_ipi ipi = {
		.dest = msg->dest,
		.delivery = (uint32_t)msg->delivery << 8, /* the ICR's encoding */
		.vector = msg->vector,
		.logical = msg->logical,
		.broadcast = msg->dest == XAPIC_BROADCAST,
	};

	return vcpu_deliver_message(p->vm, &ipi, msg->level) > 0;
}

static uint64_t ioapic_read(void *dev, struct vcpu *v, uint64_t offset, unsigned size)
{
	struct vplat *p = dev;
	uint64_t flags = spin_lock_irqsave(&p->lock);
	uint32_t value = ioapic_mmio_read(&p->ioapic, offset);

	(void)v;
	(void)size;
	spin_unlock_irqrestore(&p->lock, flags);
	return value;
}

static void ioapic_write(void *dev, struct vcpu *v, uint64_t offset, unsigned size, uint64_t value)
{
	struct vplat *p = dev;
	uint64_t flags = spin_lock_irqsave(&p->lock);

	(void)v;
	(void)size;
	ioapic_mmio_write(&p->ioapic, offset, (uint32_t)value);
	spin_unlock_irqrestore(&p->lock, flags);
}

void vplat_eoi(struct vm *vm, uint8_t vector)
{
	struct vplat *p = vm->plat;
	uint64_t flags;

	if (!p)
		return;
	flags = spin_lock_irqsave(&p->lock);
	ioapic_eoi(&p->ioapic, vector);
	spin_unlock_irqrestore(&p->lock, flags);
}

static void com1_tx(void *ctx, uint8_t byte)
{
	struct vplat *p = ctx;

	guest_line_put(&p->line, (char)byte);
}

static void com1_irq(void *ctx, bool level)
{
	struct vplat *p = ctx;

	ioapic_set_irq(&p->ioapic, COM1_IRQ, level);
}

/* A wider access reaches the registers one byte after the other, as the
 * bus splits it for an 8-bit device. */
static uint32_t com1_read(void *dev, uint16_t port, unsigned size)
{
	struct vplat *p = dev;
	uint64_t flags = spin_lock_irqsave(&p->lock);
	uint32_t value = 0;

	for (unsigned i = 0; i < size && port - COM1_PORT + i < UART_REGS; i++)
		value |= (uint32_t)vuart_read(&p->com1, port - COM1_PORT + i) << (BYTE_BITS * i);
	spin_unlock_irqrestore(&p->lock, flags);
	return value;
}

static void com1_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct vplat *p = dev;
	uint64_t flags = spin_lock_irqsave(&p->lock);

	for (unsigned i = 0; i < size && port - COM1_PORT + i < UART_REGS; i++)
		vuart_write(&p->com1, port - COM1_PORT + i, (uint8_t)(value >> (BYTE_BITS * i)));
	spin_unlock_irqrestore(&p->lock, flags);
}

/* The ACPI sleep registers (vplat/acpi_build.h): SLP_EN with \_S5's type
 * powers the VM off; the wake-status write before it and reads do nothing. */
static uint32_t sleep_read(void *dev, uint16_t port, unsigned size)
{
	(void)dev;
	(void)port;
	(void)size;
	return 0;
}

static void sleep_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct vplat *p = dev;

	(void)port;
	(void)size;
	if ((value & ACPI_SLP_EN) && ((value >> ACPI_SLP_TYP_SHIFT) & 7) == VACPI_S5_SLP_TYP)
		vm_stop(p->vm, "powered off by the guest (ACPI S5)", 0);
}

const char *vplat_attach(struct vm *vm)
{
	struct vplat *p = mem_zalloc(sizeof(*p));
	struct mmio_region io = {IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE, "io-apic",
				 ioapic_read,	      ioapic_write,	p};
	struct pio_range com1 = {COM1_PORT, COM1_PORT_COUNT, "com1", com1_read, com1_write, p};
	struct pio_range sleep = {VPLAT_SLEEP_PORT, 1, "acpi-sleep", sleep_read, sleep_write, p};

	if (!p)
		return "no memory for its I/O APIC and UART";
	p->vm = vm;
	p->lock = (struct spinlock)SPINLOCK_INIT;
	ioapic_init(&p->ioapic, vacpi_ioapic_id(vm->nvcpus), ioapic_deliver,
		    p); /* as the MADT says */
	vuart_init(&p->com1, com1_tx, com1_irq, p);
	guest_line_init(&p->line, vm, true);
	vm->plat = p;
	if (mmio_register(vm, &io))
		return "no room for the I/O APIC in its MMIO table";
	if (pio_register(vm, &com1))
		return "no room for COM1 in its port table";
	if (pio_register(vm, &sleep))
		return "no room for the ACPI sleep port in its port table";
	return NULL;
}
