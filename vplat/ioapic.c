/* The virtual I/O APIC (vplat/ioapic.h). Register semantics follow the Intel
 * 82093AA datasheet §3.2; the EOI register those of the version 0x20
 * I/O(x)APICs; remote IRR and the EOI message SDM Vol. 3A §11.8.5. */
#include <string.h>

#include "vplat/ioapic.h"
#include "vplat/ioapic_regs.h"

#define REDIR_LAST (IOAPIC_REG_REDIR + 2 * IOAPIC_PINS - 1)

void ioapic_init(struct ioapic *io, uint8_t id, bool (*deliver)(void *, const struct ioapic_msg *),
		 void *ctx)
{
	memset(io, 0, sizeof(*io));
	io->id = ((uint32_t)id << IOAPIC_ID_SHIFT) & IOAPIC_ID_MASK;
	/* every entry masked after reset (§3.2.4) */
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
	io->deliver = deliver;
	io->ctx = ctx;
}

/* The pin's input is active: high, or low with polarity "active low". */
static bool asserted(const struct ioapic *io, unsigned pin)
{
	bool high = io->pins & (1u << pin);

	return high != ((io->rte[pin] & IOAPIC_RTE_POLARITY_LOW) != 0);
}

/* Sends the entry's message; a level entry that a local APIC took waits
 * for its EOI with remote IRR set. */
static void send(struct ioapic *io, unsigned pin)
{
	uint64_t rte = io->rte[pin];
	struct ioapic_msg msg = {
		.vector = (uint8_t)(rte & IOAPIC_RTE_VECTOR),
		.delivery =
			(uint8_t)((rte & IOAPIC_RTE_DELIVERY_MASK) >> IOAPIC_RTE_DELIVERY_SHIFT),
		.dest = (uint8_t)(rte >> IOAPIC_RTE_DEST_SHIFT),
		.logical = rte & IOAPIC_RTE_DEST_LOGICAL,
		.level = rte & IOAPIC_RTE_LEVEL,
	};

	if (!io->deliver || !io->deliver(io->ctx, &msg))
		return;
	io->delivered++;
	if (msg.level)
		io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
}

/* A level pin delivers whenever it is asserted, unmasked and not waiting
 * for an EOI. */
static void service_level(struct ioapic *io, unsigned pin)
{
	uint64_t rte = io->rte[pin];

	if ((rte & IOAPIC_RTE_LEVEL) && !(rte & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) &&
	    asserted(io, pin))
		send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned gsi, bool level)
{
	bool was;

	if (gsi >= IOAPIC_PINS)
		return;
	was = asserted(io, gsi);
	if (level)
		io->pins |= 1u << gsi;
	else
		io->pins &= ~(1u << gsi);
	if (io->rte[gsi] & IOAPIC_RTE_LEVEL)
		service_level(io, gsi);
	else if (!was && asserted(io, gsi) && !(io->rte[gsi] & IOAPIC_RTE_MASKED))
		send(io, gsi); /* a masked edge is lost, not held (§2.4) */
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		if ((io->rte[pin] & IOAPIC_RTE_VECTOR) != vector ||
		    !(io->rte[pin] & IOAPIC_RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
		service_level(io, pin); /* still asserted: again */
	}
}

/* --- the register file ------------------------------------------------------ */

static uint32_t read_register(const struct ioapic *io, uint8_t reg)
{
	switch (reg) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB: /* loaded with the ID whenever the ID is written (§3.2.1) */
		return io->id;
	case IOAPIC_REG_VER:
		return (IOAPIC_PINS - 1) << IOAPIC_VER_SHIFT_MAX | IOAPIC_VERSION;
	}
	if (reg < IOAPIC_REG_REDIR || reg > REDIR_LAST)
		return 0;
	return (uint32_t)(io->rte[(reg - IOAPIC_REG_REDIR) / 2] >> (reg & 1 ? 32 : 0));
}

/* Remote IRR is meaningless for an edge entry: it clears when the entry
 * becomes edge-triggered, as a driver switching modes expects. */
static void write_entry(struct ioapic *io, unsigned pin, bool high, uint32_t value)
{
	uint64_t rte = io->rte[pin], keep = high ? 0xffffffffull : 0xffffffffull << 32;
	uint64_t v = high ? (uint64_t)value << 32 : value;

	rte = (rte & keep) | (v & ~keep & IOAPIC_RTE_WRITABLE) |
	      (rte & (IOAPIC_RTE_REMOTE_IRR | IOAPIC_RTE_DELIVERY_STAT));
	if (!(rte & IOAPIC_RTE_LEVEL))
		rte &= ~IOAPIC_RTE_REMOTE_IRR;
	io->rte[pin] = rte;
	service_level(io, pin); /* unmasked while asserted */
}

static void write_register(struct ioapic *io, uint8_t reg, uint32_t value)
{
	if (reg == IOAPIC_REG_ID)
		io->id = value & IOAPIC_ID_MASK;
	else if (reg >= IOAPIC_REG_REDIR && reg <= REDIR_LAST)
		write_entry(io, (reg - IOAPIC_REG_REDIR) / 2, reg & 1, value);
	/* VER and ARB are read-only */
}

uint32_t ioapic_mmio_read(struct ioapic *io, uint64_t offset)
{
	if (offset == IOAPIC_IOREGSEL)
		return io->regsel;
	if (offset == IOAPIC_IOWIN)
		return read_register(io, io->regsel);
	return 0; /* the EOI register is write-only; the rest is reserved */
}

void ioapic_mmio_write(struct ioapic *io, uint64_t offset, uint32_t value)
{
	if (offset == IOAPIC_IOREGSEL)
		io->regsel = (uint8_t)value;
	else if (offset == IOAPIC_IOWIN)
		write_register(io, io->regsel, value);
	else if (offset == IOAPIC_EOI)
		ioapic_eoi(io, (uint8_t)value);
}
