/* libFuzzer harness for the virtual local APIC (kernel/vlapic.c): the input is a sequence of
 * what a guest and the hypervisor do to one vCPU's APIC: xAPIC page reads and writes, MSR
 * reads and writes (IA32_APIC_BASE, IA32_TSC_DEADLINE, the x2APIC range), time passing with
 * the timer expiring, interrupts requested, the pending one accepted, and a round of
 * hardware delivery (vlapic_hw_take, a CPU that delivers and EOIs what the input says,
 * vlapic_hw_give). Beyond "no crash", after every step (SDM Vol. 3A ch. 11):
 *   - IA32_APIC_BASE has no reserved bit and never x2APIC without EN; the xAPIC page reads 0
 *     in x2APIC mode; ESR holds only the illegal-vector bits; a software-disabled APIC has
 *     every LVT masked; vectors 0-15 never reach IRR or ISR;
 *   - the pending vector is -1 or a requested vector whose class beats the PPR;
 *   - an armed count-down timer expires one period (initial count times a divisor) after
 *     it was loaded and its current count is within its initial count; an expiry leaves the
 *     timer disarmed or due in the future;
 *   - an IPI handed out has a legal vector if fixed or lowest-priority, and x2APIC broadcast
 *     only to all-ones;
 *   - hardware delivery counts what the CPU delivered and hands back its IRR, ISR and TPR.
 *
 * Input: byte 0 is the APIC ID, then 12-byte records: op, arg, le16 offset, le64 value. Seeds:
 * the unit tests' sequences: enable, x2APIC switch, timer modes, IPIs (tests/fuzz/seeds.py). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/regs.h"
#include "kernel/vlapic.h"

#define RECORD	    12
#define MAX_NOW	    (1ull << 62) /* time never wraps */
#define LEGAL	    16		 /* the first legal vector */
#define ESR_ILLEGAL (APIC_ESR_ILLEGAL_VECTOR | APIC_ESR_ILLEGAL_VECTOR >> 1)
#define CHECK(c)    ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_ipi(void *ctx, const struct vlapic_ipi *ipi)
{
	const struct vlapic *l = ctx;

	CHECK(ipi->vector >= LEGAL || (ipi->delivery != APIC_ICR_DELIVERY_FIXED &&
				       ipi->delivery != APIC_ICR_DELIVERY_LOWEST));
	CHECK(!(ipi->shorthand & ~APIC_ICR_SHORTHAND_MASK));
	if (vlapic_x2apic_mode(l))
		CHECK(ipi->broadcast == (ipi->dest == 0xffffffffu));
	else
		CHECK(ipi->dest <= 0xff && ipi->broadcast == (ipi->dest == 0xff));
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

static void check_state(struct vlapic *l, uint64_t now)
{
	uint32_t lvts[] = {l->lvt_timer,   l->lvt_lint0, l->lvt_lint1, l->lvt_error,
			   l->lvt_thermal, l->lvt_perf,	 l->lvt_cmci};
	uint32_t mode = l->lvt_timer & APIC_LVT_TIMER_MODE;
	bool x2 = vlapic_x2apic_mode(l);
	int v = vlapic_pending_vector(l);
	uint64_t ppr = 0;

	CHECK(!(l->apic_base & ~(IA32_APIC_BASE_MASK | IA32_APIC_BASE_BSP | IA32_APIC_BASE_EXTD |
				 IA32_APIC_BASE_EN)));
	CHECK(!x2 || (l->apic_base & IA32_APIC_BASE_EN));
	CHECK(!(l->esr & ~ESR_ILLEGAL));
	CHECK(!(l->irr[0] & 0xffff) && !(l->isr[0] & 0xffff));
	if (!(l->svr & APIC_SVR_ENABLE))
		for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
			CHECK(lvts[i] & APIC_LVT_MASKED);
	if (x2)
		CHECK(vlapic_msr_read(l, X2APIC_MSR_BASE + (APIC_PPR >> 4), now, &ppr));
	else
		ppr = vlapic_mmio_read(l, APIC_PPR, now);
	CHECK(ppr <= 0xff);
	if (v >= 0)
		CHECK(v >= LEGAL && (l->irr[v / 32] >> (v % 32) & 1) &&
		      (unsigned)v >> 4 > ppr >> 4);
	if (x2)
		CHECK(vlapic_mmio_read(l, APIC_ID, now) == 0 &&
		      vlapic_mmio_read(l, APIC_SVR, now) == 0);
	if (l->timer_deadline && mode != APIC_LVT_TIMER_TSCDEADLINE) {
		uint64_t count = x2 ? 0 : vlapic_mmio_read(l, APIC_TIMER_CURRENT, now);

		uint64_t diff = l->timer_deadline - l->timer_start, times;

		/* a period of the divisor in force when it was loaded (DCR may change since) */
		CHECK(l->timer_initial && l->timer_deadline > l->timer_start &&
		      diff % l->timer_initial == 0);
		times = diff / l->timer_initial;
		CHECK(times <= 128 && !(times & (times - 1)));
		CHECK(count <= l->timer_initial);
	}
}

/* One round of hardware delivery: the CPU delivers the taken vectors `deliver` selects,
 * EOIs the in-service ones `eoi` selects, and sets the TPR to `tpr`. */
static void hw_round(struct vlapic *l, uint64_t deliver, uint64_t eoi, uint32_t tpr)
{
	uint32_t taken[8], irr[8], isr[8], out_tpr, expect_isr[8];
	unsigned delivered = 0;

	vlapic_hw_take(l, taken, isr, &out_tpr);
	for (int w = 0; w < 8; w++) {
		uint32_t d = taken[w] & (uint32_t)(deliver >> (4 * w) | deliver << (w + 3));

		irr[w] = taken[w] & ~d;
		isr[w] = (isr[w] | d) & ~(uint32_t)(eoi >> (4 * w) | eoi << (w + 5));
		expect_isr[w] = isr[w];
		delivered += (unsigned)__builtin_popcount(d);
		CHECK(l->irr[w] == 0);
	}
	CHECK(vlapic_hw_give(l, taken, irr, isr, tpr) == delivered);
	for (int w = 0; w < 8; w++)
		CHECK(l->irr[w] == irr[w] && l->isr[w] == expect_isr[w]);
	CHECK(l->tpr == (tpr & 0xff));
}

static uint32_t pick_msr(uint8_t arg, uint16_t off)
{
	switch (arg % 4) {
	case 0:
		return MSR_IA32_APIC_BASE;
	case 1:
		return MSR_IA32_TSC_DEADLINE;
	case 2:
		return X2APIC_MSR_BASE + (off & 0xff);
	default:
		return off; /* anything: vlapic_handles_msr decides */
	}
}

static void step(struct vlapic *l, const uint8_t *r, uint64_t *now)
{
	uint8_t op = r[0] % 9, arg = r[1];
	uint16_t off = (uint16_t)le(r + 2, 2);
	uint64_t value = le(r + 4, 8), got;
	uint32_t msr = pick_msr(arg, off);
	int v;

	switch (op) {
	case 0:
		(void)vlapic_mmio_read(l, off & 0xfff, *now);
		break;
	case 1:
		vlapic_mmio_write(l, off & 0xfff, (uint32_t)value, *now);
		break;
	case 2:
		if (vlapic_handles_msr(msr))
			(void)vlapic_msr_read(l, msr, *now, &got);
		break;
	case 3:
		if (vlapic_handles_msr(msr))
			(void)vlapic_msr_write(l, msr, value, *now);
		break;
	case 4: /* time passes, as far as the timer's deadline if arg says so */
		if ((arg & 1) && vlapic_timer_deadline(l) > *now)
			*now = vlapic_timer_deadline(l) + (value & 0xff);
		else
			*now += value & 0xffffffffu;
		if (*now >= MAX_NOW)
			*now = MAX_NOW;
		if (vlapic_timer_deadline(l) && vlapic_timer_deadline(l) <= *now) {
			vlapic_timer_expire(l, *now);
			CHECK(!vlapic_timer_deadline(l) || vlapic_timer_deadline(l) > *now);
		}
		break;
	case 5:
		vlapic_set_irr(l, arg);
		break;
	case 6:
		v = vlapic_pending_vector(l);
		if (v >= 0)
			vlapic_accept(l, (uint8_t)v);
		break;
	case 7:
		hw_round(l, value, value >> 8 | (uint64_t)off << 48, arg);
		break;
	default: /* EOI the way the guest's mode does it */
		if (vlapic_x2apic_mode(l))
			(void)vlapic_msr_write(l, X2APIC_MSR_BASE + (APIC_EOI >> 4), 0, *now);
		else
			vlapic_mmio_write(l, APIC_EOI, 0, *now);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vlapic l;
	uint64_t now = 1000;

	if (size < 1)
		return 0;
	vlapic_init(&l, data[0], data[0] == 0, on_ipi, &l);
	for (size_t i = 1; i + RECORD <= size; i += RECORD) {
		step(&l, data + i, &now);
		check_state(&l, now);
	}
	return 0;
}
