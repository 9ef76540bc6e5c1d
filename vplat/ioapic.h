/* A virtual I/O APIC (Intel 82093AA, with the EOI register of version 0x20):
 * 24 interrupt pins routed by a redirection table to local APICs. Pure
 * logic, host-tested: interrupt messages leave through the `deliver`
 * callback; the owner serializes every call (one lock per VM's platform).
 *
 * Edge-triggered pins deliver on each rising edge of the asserted state;
 * level-triggered pins deliver while asserted and remote IRR is clear, and
 * set remote IRR until the local APIC's EOI comes back (ioapic_eoi). Masked
 * pins never deliver; a level pin unmasked while asserted delivers then.
 * Delivery is instant, so delivery status always reads 0 (idle). */
#ifndef VPLAT_IOAPIC_H
#define VPLAT_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_PINS    24
#define IOAPIC_VERSION 0x20

/* One interrupt message, as the redirection entry says. */
struct ioapic_msg {
	uint8_t vector;
	uint8_t delivery; /* IOAPIC_DELIVERY_* */
	uint8_t dest;	  /* APIC ID, or logical destination if `logical` */
	bool logical;
	bool level; /* level-triggered: the EOI must come back */
};

struct ioapic {
	uint32_t id;	/* the ID register's value (bits 27:24) */
	uint8_t regsel; /* IOREGSEL */
	uint32_t pins;	/* electrical level of each pin (bit n: pin n high) */
	uint64_t rte[IOAPIC_PINS];
	/* True when some local APIC accepted the message. */
	bool (*deliver)(void *ctx, const struct ioapic_msg *msg);
	void *ctx;
	uint64_t delivered; /* messages accepted */
};

void ioapic_init(struct ioapic *io, uint8_t id, bool (*deliver)(void *, const struct ioapic_msg *),
		 void *ctx);
/* The register page: `offset` within it, 32-bit accesses. */
uint32_t ioapic_mmio_read(struct ioapic *io, uint64_t offset);
void ioapic_mmio_write(struct ioapic *io, uint64_t offset, uint32_t value);
/* Pin `gsi` is now electrically high (`level`) or low; pins past the last
 * are ignored. */
void ioapic_set_irq(struct ioapic *io, unsigned gsi, bool level);
/* A local APIC's EOI of a level-triggered `vector` (SDM Vol. 3A §11.8.5). */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
