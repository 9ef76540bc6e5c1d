/* The virtual local APIC (kernel/vlapic.c) against the SDM's rules: reset
 * state, priorities and EOI order, the three timer modes, IPIs, and the
 * xAPIC/x2APIC mode switches. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/regs.h"
#include "kernel/vlapic.h"

#define MSR(reg) (X2APIC_MSR_BASE + ((reg) >> 4))

static struct vlapic_ipi last_ipi;
static int ipis;

static void record_ipi(void *ctx, const struct vlapic_ipi *ipi)
{
	(void)ctx;
	last_ipi = *ipi;
	ipis++;
}

static void enabled_xapic(struct vlapic *l, uint32_t id)
{
	vlapic_init(l, id, id == 0, record_ipi, NULL);
	vlapic_mmio_write(l, APIC_SVR, APIC_SVR_ENABLE | 0xff, 0);
	ipis = 0;
}

static void enabled_x2apic(struct vlapic *l, uint32_t id)
{
	enabled_xapic(l, id);
	assert_true(vlapic_msr_write(l, MSR_IA32_APIC_BASE,
				     XAPIC_DEFAULT_BASE | IA32_APIC_BASE_EN | IA32_APIC_BASE_EXTD,
				     0));
}

static void test_reset_state(void **state)
{
	struct vlapic l;
	uint64_t base;

	(void)state;
	vlapic_init(&l, 3, false, NULL, NULL);
	assert_int_equal(vlapic_mmio_read(&l, APIC_ID, 0), 3u << 24);
	assert_int_equal(vlapic_mmio_read(&l, APIC_SVR, 0), 0xff);
	assert_int_equal(vlapic_mmio_read(&l, APIC_LVT_TIMER, 0), APIC_LVT_MASKED);
	assert_int_equal(vlapic_mmio_read(&l, APIC_VERSION, 0) & 0xff, 0x14);
	assert_true(vlapic_msr_read(&l, MSR_IA32_APIC_BASE, 0, &base));
	assert_int_equal(base, XAPIC_DEFAULT_BASE | IA32_APIC_BASE_EN);
	/* x2APIC registers #GP in xAPIC mode */
	assert_false(vlapic_msr_read(&l, MSR(APIC_ID), 0, &base));
}

static void test_priority_and_eoi_order(void **state)
{
	struct vlapic l;

	(void)state;
	enabled_xapic(&l, 0);
	assert_int_equal(vlapic_pending_vector(&l), -1);
	vlapic_set_irr(&l, 0x41);
	vlapic_set_irr(&l, 0x62);
	assert_int_equal(vlapic_pending_vector(&l), 0x62);
	vlapic_accept(&l, 0x62);
	/* 0x41 is of a lower class than the one in service */
	assert_int_equal(vlapic_pending_vector(&l), -1);
	assert_int_equal(vlapic_mmio_read(&l, APIC_PPR, 0), 0x60);
	assert_int_equal(vlapic_mmio_read(&l, APIC_ISR + 0x30, 0), 1u << 2);
	vlapic_mmio_write(&l, APIC_EOI, 0, 0);
	assert_int_equal(vlapic_pending_vector(&l), 0x41);
	/* the task priority holds back its class and those below */
	vlapic_mmio_write(&l, APIC_TPR, 0x40, 0);
	assert_int_equal(vlapic_pending_vector(&l), -1);
	vlapic_mmio_write(&l, APIC_TPR, 0x30, 0);
	assert_int_equal(vlapic_pending_vector(&l), 0x41);
	assert_int_equal(l.eois, 1);
}

static void test_illegal_vectors(void **state)
{
	struct vlapic l;

	(void)state;
	enabled_xapic(&l, 0);
	vlapic_set_irr(&l, 7);
	assert_int_equal(vlapic_pending_vector(&l), -1);
	assert_true(l.esr & APIC_ESR_ILLEGAL_VECTOR);
	vlapic_mmio_write(&l, APIC_ICR_LOW, 3, 0);
	assert_int_equal(ipis, 0);
}

static void test_timer_oneshot(void **state)
{
	struct vlapic l;

	(void)state;
	enabled_xapic(&l, 0);
	vlapic_mmio_write(&l, APIC_LVT_TIMER, 0x30 | APIC_LVT_TIMER_ONESHOT, 0);
	vlapic_mmio_write(&l, APIC_TIMER_DIVIDE, 0x3, 0); /* divide by 16 */
	vlapic_mmio_write(&l, APIC_TIMER_INITIAL, 1000, 100);
	assert_int_equal(vlapic_timer_deadline(&l), 100 + 16000);
	assert_int_equal(vlapic_mmio_read(&l, APIC_TIMER_CURRENT, 100 + 1600), 900);
	vlapic_timer_expire(&l, 16099);
	assert_int_equal(vlapic_pending_vector(&l), -1);
	vlapic_timer_expire(&l, 16100);
	assert_int_equal(vlapic_pending_vector(&l), 0x30);
	assert_int_equal(vlapic_timer_deadline(&l), 0);
	assert_int_equal(vlapic_mmio_read(&l, APIC_TIMER_CURRENT, 20000), 0);
}

static void test_timer_periodic_catches_up(void **state)
{
	struct vlapic l;

	(void)state;
	enabled_xapic(&l, 0);
	vlapic_mmio_write(&l, APIC_LVT_TIMER, 0x31 | APIC_LVT_TIMER_PERIODIC, 0);
	vlapic_mmio_write(&l, APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1, 0);
	vlapic_mmio_write(&l, APIC_TIMER_INITIAL, 500, 0);
	vlapic_timer_expire(&l, 500);
	assert_int_equal(vlapic_timer_deadline(&l), 1000);
	/* 3.5 periods late: one interrupt, next expiry stays on the grid */
	vlapic_timer_expire(&l, 2750);
	assert_int_equal(l.timer_fired, 2);
	assert_int_equal(vlapic_timer_deadline(&l), 3000);
	assert_int_equal(vlapic_mmio_read(&l, APIC_TIMER_CURRENT, 2600), 400);
}

/* A periodic count of 1 at divide 1 would expire at every VM entry: the
 * period is raised to timer_min_period (and counted); one-shot is not. */
static void test_timer_periodic_minimum_period(void **state)
{
	struct vlapic l;

	(void)state;
	enabled_xapic(&l, 0);
	l.timer_min_period = 1000;
	vlapic_mmio_write(&l, APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1, 0);
	vlapic_mmio_write(&l, APIC_LVT_TIMER, 0x31 | APIC_LVT_TIMER_PERIODIC, 0);
	vlapic_mmio_write(&l, APIC_TIMER_INITIAL, 1, 100);
	assert_int_equal(vlapic_timer_deadline(&l), 1100);
	assert_int_equal(l.timer_clamped, 1);
	vlapic_timer_expire(&l, 1100);
	assert_int_equal(vlapic_timer_deadline(&l), 2100);
	vlapic_timer_expire(&l, 100000); /* late: one interrupt, the next on the grid */
	assert_int_equal(l.timer_fired, 2);
	assert_int_equal(vlapic_timer_deadline(&l), 100100);
	vlapic_mmio_write(&l, APIC_TIMER_INITIAL, 2000, 200000); /* long enough */
	assert_int_equal(vlapic_timer_deadline(&l), 202000);
	assert_int_equal(l.timer_clamped, 1);
	vlapic_mmio_write(&l, APIC_LVT_TIMER, 0x31 | APIC_LVT_TIMER_ONESHOT, 0);
	vlapic_mmio_write(&l, APIC_TIMER_INITIAL, 1, 300000);
	assert_int_equal(vlapic_timer_deadline(&l), 300001);
	assert_int_equal(l.timer_clamped, 1);
}

static void test_timer_masked_and_tsc_deadline(void **state)
{
	struct vlapic l;
	uint64_t v;

	(void)state;
	enabled_x2apic(&l, 0);
	assert_true(vlapic_msr_write(&l, MSR(APIC_LVT_TIMER),
				     0x32 | APIC_LVT_TIMER_TSCDEADLINE | APIC_LVT_MASKED, 0));
	assert_true(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 5000, 0));
	vlapic_timer_expire(&l, 6000);
	assert_int_equal(vlapic_pending_vector(&l), -1); /* masked: no interrupt */
	assert_true(
		vlapic_msr_write(&l, MSR(APIC_LVT_TIMER), 0x32 | APIC_LVT_TIMER_TSCDEADLINE, 0));
	assert_true(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 7000, 6500));
	assert_true(vlapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, 6500, &v));
	assert_int_equal(v, 7000);
	/* the initial count is ignored in TSC-deadline mode */
	assert_true(vlapic_msr_write(&l, MSR(APIC_TIMER_INITIAL), 1, 6500));
	assert_int_equal(vlapic_timer_deadline(&l), 7000);
	vlapic_timer_expire(&l, 7000);
	assert_int_equal(vlapic_pending_vector(&l), 0x32);
	assert_true(vlapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, 7001, &v));
	assert_int_equal(v, 0);
	/* a mode change disarms */
	assert_true(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 9000, 7001));
	assert_true(vlapic_msr_write(&l, MSR(APIC_LVT_TIMER), 0x32, 7001));
	assert_int_equal(vlapic_timer_deadline(&l), 0);
}

static void test_xapic_ipi(void **state)
{
	struct vlapic l, other;
	struct vlapic_ipi ipi;

	(void)state;
	enabled_xapic(&l, 0);
	vlapic_mmio_write(&l, APIC_ICR_HIGH, 1u << 24, 0);
	vlapic_mmio_write(&l, APIC_ICR_LOW, 0x45, 0);
	assert_int_equal(ipis, 1);
	assert_int_equal(last_ipi.dest, 1);
	assert_int_equal(last_ipi.vector, 0x45);
	assert_false(last_ipi.logical);
	enabled_xapic(&other, 1);
	ipi = last_ipi;
	assert_true(vlapic_is_destination(&other, &ipi, false));
	assert_false(vlapic_is_destination(&l, &ipi, true));
	/* flat logical: LDR bit 1 */
	vlapic_mmio_write(&other, APIC_LDR, 2u << 24, 0);
	ipi = (struct vlapic_ipi){.dest = 0x3, .vector = 0x50, .logical = true};
	assert_true(vlapic_is_destination(&other, &ipi, false));
	ipi.dest = 0x1;
	assert_false(vlapic_is_destination(&other, &ipi, false));
	ipi.shorthand = APIC_ICR_ALL_BUT_SELF;
	assert_true(vlapic_is_destination(&other, &ipi, false));
	assert_false(vlapic_is_destination(&l, &ipi, true));
}

static void test_x2apic_registers(void **state)
{
	struct vlapic l;
	uint64_t v;

	(void)state;
	enabled_x2apic(&l, 0x13);
	assert_true(vlapic_msr_read(&l, MSR(APIC_ID), 0, &v));
	assert_int_equal(v, 0x13);
	assert_true(vlapic_msr_read(&l, MSR(APIC_LDR), 0, &v));
	assert_int_equal(v, (1u << 16) | (1u << 3));
	/* EOI is write-only and takes only 0; ICR is one 64-bit register */
	assert_false(vlapic_msr_read(&l, MSR(APIC_EOI), 0, &v));
	assert_false(vlapic_msr_write(&l, MSR(APIC_EOI), 1, 0));
	assert_true(vlapic_msr_write(&l, MSR(APIC_ICR_LOW), (5ull << 32) | 0x66, 0));
	assert_int_equal(ipis, 1);
	assert_int_equal(last_ipi.dest, 5);
	assert_true(vlapic_msr_write(&l, MSR(APIC_ICR_LOW), 0xffffffffull << 32 | 0x67, 0));
	assert_true(last_ipi.broadcast);
	assert_false(vlapic_msr_write(&l, MSR(APIC_LDR), 1, 0)); /* read-only */
	assert_false(vlapic_msr_write(&l, MSR(APIC_TPR), 1ull << 32, 0));
	/* self IPI */
	assert_true(vlapic_msr_write(&l, MSR(APIC_SELF_IPI), 0x70, 0));
	assert_int_equal(vlapic_pending_vector(&l), 0x70);
	/* the xAPIC page is dead in x2APIC mode */
	assert_int_equal(vlapic_mmio_read(&l, APIC_ID, 0), 0);
}

static void test_mode_transitions(void **state)
{
	struct vlapic l;
	const uint64_t en = XAPIC_DEFAULT_BASE | IA32_APIC_BASE_EN, x2 = en | IA32_APIC_BASE_EXTD;

	(void)state;
	enabled_x2apic(&l, 1);
	assert_false(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, en, 0)); /* x2APIC -> xAPIC */
	assert_true(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, XAPIC_DEFAULT_BASE, 0));
	assert_false(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, x2, 0)); /* disabled -> x2APIC */
	assert_true(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, en, 0));
	assert_false(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, en | (1ull << 63), 0));
	vlapic_set_irr(&l, 0x80);
	assert_true(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, XAPIC_DEFAULT_BASE, 0));
	assert_int_equal(vlapic_pending_vector(&l), -1); /* a disabled APIC delivers nothing */
}

static void test_software_disable_masks_lvts(void **state)
{
	struct vlapic l;

	(void)state;
	enabled_xapic(&l, 0);
	vlapic_mmio_write(&l, APIC_LVT_TIMER, 0x30, 0);
	vlapic_mmio_write(&l, APIC_SVR, 0xff, 0);
	assert_true(vlapic_mmio_read(&l, APIC_LVT_TIMER, 0) & APIC_LVT_MASKED);
	vlapic_mmio_write(&l, APIC_LVT_TIMER, 0x30, 0);
	assert_true(vlapic_mmio_read(&l, APIC_LVT_TIMER, 0) & APIC_LVT_MASKED);
}

/* Hardware delivery takes the requested vectors and gives back what it did
 * not deliver, beside what other CPUs requested meanwhile; EOIs it did clear
 * ISR bits. */
static void test_hardware_delivery_hand_over(void **state)
{
	struct vlapic l;
	uint32_t irr[8], isr[8], tpr, after_irr[8] = {0}, after_isr[8] = {0};

	(void)state;
	enabled_x2apic(&l, 0);
	assert_true(vlapic_hw_delivery_possible(&l));
	vlapic_set_irr(&l, 0x41);
	vlapic_set_irr(&l, 0x62);
	vlapic_accept(&l, 0x62);
	vlapic_set_irr(&l, 0x63);
	vlapic_hw_take(&l, irr, isr, &tpr);
	assert_int_equal(irr[2], 1u << 1);
	assert_int_equal(irr[3], 1u << 3);
	assert_int_equal(isr[3], 1u << 2);
	assert_int_equal(vlapic_pending_vector(&l), -1); /* the CPU has them now */
	vlapic_set_irr(&l, 0x41);			 /* another CPU asks again meanwhile */
	/* the CPU delivered 0x63, the guest EOIed it and 0x62; 0x41 still waits */
	after_irr[2] = 1u << 1;
	assert_int_equal(vlapic_hw_give(&l, irr, after_irr, after_isr, 0x10), 1);
	assert_int_equal(l.eois, 2);
	assert_int_equal(vlapic_pending_vector(&l), 0x41);
	assert_int_equal(vlapic_msr_read(&l, MSR(APIC_TPR), 0, &(uint64_t){0}), true);
	assert_int_equal(l.tpr, 0x10);
	/* xAPIC mode: no hardware delivery */
	enabled_xapic(&l, 1);
	assert_false(vlapic_hw_delivery_possible(&l));
}

static uint8_t level_eoi_vector;
static int level_eois;

static void record_level_eoi(void *ctx, uint8_t vector)
{
	(void)ctx;
	level_eoi_vector = vector;
	level_eois++;
}

/* A level-triggered vector sets its TMR bit (SDM §11.8.4); its EOI clears
 * it and goes on to the I/O APIC (§11.8.5); an edge one's does not. Hardware
 * delivery is off while a level vector is requested or in service. */
static void test_level_triggered_eoi(void **state)
{
	struct vlapic l;
	uint64_t tmr2;

	(void)state;
	enabled_x2apic(&l, 0);
	l.level_eoi = record_level_eoi;
	level_eois = 0;
	vlapic_set_irr_trigger(&l, 0x44, true);
	vlapic_set_irr_trigger(&l, 0x30, false);
	assert_true(vlapic_msr_read(&l, MSR(APIC_TMR + 0x20), 0, &tmr2));
	assert_int_equal(tmr2, 1u << 4);
	assert_false(vlapic_hw_delivery_possible(&l));
	vlapic_accept(&l, 0x44);
	vlapic_accept(&l, 0x30);
	assert_true(vlapic_msr_write(&l, MSR(APIC_EOI), 0, 0)); /* retires 0x44 */
	assert_int_equal(level_eois, 1);
	assert_int_equal(level_eoi_vector, 0x44);
	assert_int_equal(l.tmr[2], 0);
	assert_true(vlapic_hw_delivery_possible(&l));
	assert_true(vlapic_msr_write(&l, MSR(APIC_EOI), 0, 0)); /* 0x30: edge */
	assert_int_equal(level_eois, 1);
	/* an edge request of the vector clears its TMR bit again */
	vlapic_set_irr_trigger(&l, 0x44, true);
	vlapic_set_irr_trigger(&l, 0x44, false);
	assert_int_equal(l.tmr[2], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_priority_and_eoi_order),
		cmocka_unit_test(test_illegal_vectors),
		cmocka_unit_test(test_timer_oneshot),
		cmocka_unit_test(test_timer_periodic_catches_up),
		cmocka_unit_test(test_timer_periodic_minimum_period),
		cmocka_unit_test(test_timer_masked_and_tsc_deadline),
		cmocka_unit_test(test_xapic_ipi),
		cmocka_unit_test(test_x2apic_registers),
		cmocka_unit_test(test_mode_transitions),
		cmocka_unit_test(test_software_disable_masks_lvts),
		cmocka_unit_test(test_hardware_delivery_hand_over),
		cmocka_unit_test(test_level_triggered_eoi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
