/* libFuzzer harness for the virtual I/O APIC (vplat/ioapic.c): the input is a sequence of
 * what a guest and its devices do to it: IOREGSEL, IOWIN and EOI-register writes, register
 * reads, pin level changes, local APIC EOIs, and local APICs that accept messages or not.
 * Beyond "no crash", after every step (82093AA §3.2, SDM Vol. 3A §11.8.5):
 *   - every message comes from an unmasked entry whose pin is asserted and, if level, whose
 *     remote IRR was clear;
 *   - remote IRR is set only on level entries; delivery status is never set; VER is
 *     0x00170020; ID and ARB hold bits 27:24 only, alike; reserved entry bits read 0;
 *   - no level interrupt is stuck: while the local APICs have accepted every message, a level
 *     entry that is unmasked and asserted waits for an EOI (remote IRR set). A refused one
 *     is offered again only at its pin's next event or an EOI, so after the first refusal
 *     the check is off.
 *
 * Input: 6-byte records: op, arg, le32 value. Seeds: the unit tests' sequences (routing an
 * edge and a level pin, EOIs, masking) from tests/fuzz/seeds.py. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vplat/ioapic.h"
#include "vplat/ioapic_regs.h"

#define RECORD	 6
#define CHECK(c) ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool accepting;
static const struct ioapic *current;

static bool asserted(const struct ioapic *io, unsigned pin)
{
	bool high = io->pins & (1u << pin);

	return high != ((io->rte[pin] & IOAPIC_RTE_POLARITY_LOW) != 0);
}

/* Some entry may have sent it: unmasked, asserted, its vector, remote IRR clear if level. */
static bool on_deliver(void *ctx, const struct ioapic_msg *msg)
{
	bool found = false;

	(void)ctx;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t rte = current->rte[pin];

		if ((rte & IOAPIC_RTE_VECTOR) == msg->vector && !(rte & IOAPIC_RTE_MASKED) &&
		    asserted(current, pin) && msg->level == !!(rte & IOAPIC_RTE_LEVEL) &&
		    !(msg->level && (rte & IOAPIC_RTE_REMOTE_IRR)))
			found = true;
	}
	CHECK(found);
	return accepting;
}

static uint32_t reg_read(struct ioapic *io, uint8_t reg)
{
	ioapic_mmio_write(io, IOAPIC_IOREGSEL, reg);
	return ioapic_mmio_read(io, IOAPIC_IOWIN);
}

static void check_state(struct ioapic *io, bool offered_all)
{
	uint8_t saved = io->regsel;

	CHECK(reg_read(io, IOAPIC_REG_VER) == 0x00170020);
	CHECK(!(reg_read(io, IOAPIC_REG_ID) & ~IOAPIC_ID_MASK));
	CHECK(reg_read(io, IOAPIC_REG_ARB) == reg_read(io, IOAPIC_REG_ID));
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t rte = io->rte[pin];
		uint32_t lo = reg_read(io, (uint8_t)(IOAPIC_REG_REDIR + 2 * pin));
		uint32_t hi = reg_read(io, (uint8_t)(IOAPIC_REG_REDIR + 2 * pin + 1));

		CHECK(lo == (uint32_t)rte && hi == (uint32_t)(rte >> 32));
		CHECK(!(lo & (IOAPIC_RTE_DELIVERY_STAT | 0xfffe0000u)) && !(hi & 0x00ffffffu));
		if (rte & IOAPIC_RTE_REMOTE_IRR)
			CHECK(rte & IOAPIC_RTE_LEVEL);
		if (offered_all && (rte & IOAPIC_RTE_LEVEL) && !(rte & IOAPIC_RTE_MASKED) &&
		    asserted(io, pin))
			CHECK(rte & IOAPIC_RTE_REMOTE_IRR);
	}
	ioapic_mmio_write(io, IOAPIC_IOREGSEL, saved);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t offsets[] = {IOAPIC_IOREGSEL, IOAPIC_IOWIN, IOAPIC_EOI, 0x20};
	struct ioapic io;
	bool refused = false;

	accepting = true;
	current = &io;
	ioapic_init(&io, 0, on_deliver, NULL);
	for (size_t at = 0; at + RECORD <= size; at += RECORD) {
		uint8_t op = data[at], arg = data[at + 1];
		uint32_t value;

		memcpy(&value, data + at + 2, sizeof(value));
		switch (op % 5) {
		case 0:
			ioapic_mmio_write(&io, offsets[arg % 4], value);
			break;
		case 1:
			(void)ioapic_mmio_read(&io, offsets[arg % 4]);
			break;
		case 2:
			ioapic_set_irq(&io, arg % (IOAPIC_PINS + 2), value & 1);
			break;
		case 3:
			ioapic_eoi(&io, arg);
			break;
		case 4:
			accepting = !accepting;
			refused = true;
			break;
		}
		check_state(&io, !refused);
	}
	return 0;
}
