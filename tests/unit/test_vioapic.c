/* The virtual I/O APIC (vplat/ioapic.c) against the 82093AA datasheet:
 * register file and reset state, edge and level pins, remote IRR and the
 * EOI that delivers again, masking, polarity, the EOI register. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vplat/ioapic.h"
#include "vplat/ioapic_regs.h"

static struct ioapic_msg msgs[16];
static int nmsgs;
static bool accept = true;

static bool record(void *ctx, const struct ioapic_msg *msg)
{
	(void)ctx;
	if (nmsgs < 16)
		msgs[nmsgs] = *msg;
	nmsgs++;
	return accept;
}

static void fresh(struct ioapic *io)
{
	ioapic_init(io, 2, record, NULL);
	nmsgs = 0;
	accept = true;
}

static uint32_t reg_read(struct ioapic *io, uint32_t reg)
{
	ioapic_mmio_write(io, IOAPIC_IOREGSEL, reg);
	return ioapic_mmio_read(io, IOAPIC_IOWIN);
}

static void reg_write(struct ioapic *io, uint32_t reg, uint32_t value)
{
	ioapic_mmio_write(io, IOAPIC_IOREGSEL, reg);
	ioapic_mmio_write(io, IOAPIC_IOWIN, value);
}

static void route(struct ioapic *io, unsigned pin, uint64_t rte)
{
	reg_write(io, IOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)(rte >> 32));
	reg_write(io, IOAPIC_REG_REDIR + 2 * pin, (uint32_t)rte);
}

static void test_registers_and_reset(void **state)
{
	struct ioapic io;

	(void)state;
	fresh(&io);
	assert_int_equal(reg_read(&io, IOAPIC_REG_ID), 2u << 24);
	assert_int_equal(reg_read(&io, IOAPIC_REG_VER), 0x00170020);
	assert_int_equal(reg_read(&io, IOAPIC_REG_ARB), 2u << 24);
	assert_int_equal(ioapic_mmio_read(&io, IOAPIC_IOREGSEL), IOAPIC_REG_ARB);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		assert_int_equal(reg_read(&io, IOAPIC_REG_REDIR + 2 * pin), IOAPIC_RTE_MASKED);
		assert_int_equal(reg_read(&io, IOAPIC_REG_REDIR + 2 * pin + 1), 0);
	}
	/* ID: bits 27:24 only, and ARB follows it; VER and ARB are read-only */
	reg_write(&io, IOAPIC_REG_ID, 0xffffffff);
	assert_int_equal(reg_read(&io, IOAPIC_REG_ID), 0x0f000000);
	assert_int_equal(reg_read(&io, IOAPIC_REG_ARB), 0x0f000000);
	reg_write(&io, IOAPIC_REG_VER, 0);
	assert_int_equal(reg_read(&io, IOAPIC_REG_VER), 0x00170020);
	/* an entry: reserved bits, delivery status and remote IRR read 0 */
	reg_write(&io, IOAPIC_REG_REDIR + 6, 0xffffffff);
	reg_write(&io, IOAPIC_REG_REDIR + 7, 0xffffffff);
	assert_int_equal(reg_read(&io, IOAPIC_REG_REDIR + 6), 0x1afff);
	assert_int_equal(reg_read(&io, IOAPIC_REG_REDIR + 7), 0xff000000);
	/* past the table, and other offsets */
	assert_int_equal(reg_read(&io, IOAPIC_REG_REDIR + 2 * IOAPIC_PINS), 0);
	assert_int_equal(ioapic_mmio_read(&io, IOAPIC_EOI), 0);
	assert_int_equal(ioapic_mmio_read(&io, 0x20), 0);
	assert_int_equal(nmsgs, 0);
}

static void test_edge_delivers_on_rising_edges(void **state)
{
	struct ioapic io;

	(void)state;
	fresh(&io);
	route(&io, 4, 0x44 | (3ull << IOAPIC_RTE_DEST_SHIFT));
	ioapic_set_irq(&io, 4, true);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x44);
	assert_int_equal(msgs[0].dest, 3);
	assert_int_equal(msgs[0].delivery, IOAPIC_DELIVERY_FIXED);
	assert_false(msgs[0].logical);
	assert_false(msgs[0].level);
	ioapic_set_irq(&io, 4, true); /* still high: no edge */
	assert_int_equal(nmsgs, 1);
	ioapic_set_irq(&io, 4, false);
	ioapic_set_irq(&io, 4, true);
	assert_int_equal(nmsgs, 2);
	/* no remote IRR for edge entries, and the EOI does nothing */
	assert_int_equal(reg_read(&io, IOAPIC_REG_REDIR + 8) & IOAPIC_RTE_REMOTE_IRR, 0);
	ioapic_eoi(&io, 0x44);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(io.delivered, 2);
	/* other pins, and pins past the last, are left alone */
	ioapic_set_irq(&io, 5, true);
	ioapic_set_irq(&io, IOAPIC_PINS, true);
	assert_int_equal(nmsgs, 2);
}

static void test_masked_never_delivers(void **state)
{
	struct ioapic io;

	(void)state;
	fresh(&io);
	route(&io, 1, 0x51 | IOAPIC_RTE_MASKED);
	ioapic_set_irq(&io, 1, true);
	/* an edge while masked is lost, unmasking does not bring it back */
	route(&io, 1, 0x51);
	assert_int_equal(nmsgs, 0);
	route(&io, 2, 0x52 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED);
	ioapic_set_irq(&io, 2, true);
	assert_int_equal(nmsgs, 0);
	/* a level pin still asserted delivers when unmasked */
	route(&io, 2, 0x52 | IOAPIC_RTE_LEVEL);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].vector, 0x52);
	assert_true(msgs[0].level);
}

static void test_level_remote_irr_and_eoi(void **state)
{
	struct ioapic io;
	uint64_t rte = 0x61 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_DEST_LOGICAL |
		       ((uint64_t)IOAPIC_DELIVERY_LOWEST << IOAPIC_RTE_DELIVERY_SHIFT) |
		       (0x0full << IOAPIC_RTE_DEST_SHIFT);

	(void)state;
	fresh(&io);
	route(&io, 9, rte);
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(nmsgs, 1);
	assert_true(msgs[0].logical);
	assert_int_equal(msgs[0].delivery, IOAPIC_DELIVERY_LOWEST);
	assert_int_equal(msgs[0].dest, 0x0f);
	assert_true(reg_read(&io, IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR);
	/* remote IRR holds it: asserting again, or rewriting the entry, sends nothing */
	ioapic_set_irq(&io, 9, true);
	route(&io, 9, rte);
	assert_int_equal(nmsgs, 1);
	/* the EOI of another vector does nothing; its own delivers again (still high) */
	ioapic_eoi(&io, 0x62);
	assert_int_equal(nmsgs, 1);
	ioapic_eoi(&io, 0x61);
	assert_int_equal(nmsgs, 2);
	assert_true(reg_read(&io, IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR);
	/* lowered, then the EOI through the EOI register: nothing more */
	ioapic_set_irq(&io, 9, false);
	ioapic_mmio_write(&io, IOAPIC_EOI, 0x61);
	assert_int_equal(nmsgs, 2);
	assert_false(reg_read(&io, IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR);
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(nmsgs, 3);
	/* switching the entry to edge drops remote IRR */
	route(&io, 9, rte & ~IOAPIC_RTE_LEVEL);
	assert_false(reg_read(&io, IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR);
}

/* A message no local APIC took leaves remote IRR clear: the next assertion
 * or EOI tries again. */
static void test_level_not_accepted(void **state)
{
	struct ioapic io;

	(void)state;
	fresh(&io);
	accept = false;
	route(&io, 3, 0x70 | IOAPIC_RTE_LEVEL);
	ioapic_set_irq(&io, 3, true);
	assert_int_equal(nmsgs, 1);
	assert_false(reg_read(&io, IOAPIC_REG_REDIR + 6) & IOAPIC_RTE_REMOTE_IRR);
	assert_int_equal(io.delivered, 0);
	accept = true;
	ioapic_set_irq(&io, 3, true);
	assert_int_equal(nmsgs, 2);
	assert_int_equal(io.delivered, 1);
}

static void test_active_low_polarity(void **state)
{
	struct ioapic io;

	(void)state;
	fresh(&io);
	ioapic_set_irq(&io, 11, true); /* idle high */
	route(&io, 11, 0x80 | IOAPIC_RTE_POLARITY_LOW);
	assert_int_equal(nmsgs, 0);
	ioapic_set_irq(&io, 11, false); /* asserted: low */
	assert_int_equal(nmsgs, 1);
	ioapic_set_irq(&io, 11, true);
	assert_int_equal(nmsgs, 1);
	/* level, active low: delivers while low */
	route(&io, 12, 0x81 | IOAPIC_RTE_POLARITY_LOW | IOAPIC_RTE_LEVEL);
	assert_int_equal(nmsgs, 2);
	ioapic_set_irq(&io, 12, true);
	ioapic_eoi(&io, 0x81);
	assert_int_equal(nmsgs, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers_and_reset),
		cmocka_unit_test(test_edge_delivers_on_rising_edges),
		cmocka_unit_test(test_masked_never_delivers),
		cmocka_unit_test(test_level_remote_irr_and_eoi),
		cmocka_unit_test(test_level_not_accepted),
		cmocka_unit_test(test_active_low_polarity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
