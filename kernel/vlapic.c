/* The virtual local APIC (kernel/vlapic.h). Register semantics follow the
 * Intel SDM Vol. 3A ch. 11: §11.4 (IA32_APIC_BASE), §11.5.4 (timer), §11.6
 * (ICR), §11.8 (IRR/ISR, priorities, EOI), §11.12 (x2APIC). */
#include <string.h>

#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/regs.h"
#include "kernel/vlapic.h"

#define VLAPIC_VERSION	   0x00060014u /* integrated APIC, 7 LVT entries */
#define SVR_WRITABLE	   0x000011ffu /* vector, enable, EOI-broadcast suppression */
#define LVT_TIMER_WRITABLE (APIC_LVT_VECTOR | APIC_LVT_MASKED | APIC_LVT_TIMER_MODE)
#define LVT_WRITABLE	   (APIC_LVT_VECTOR | (7u << 8) | APIC_LVT_MASKED)
#define LVT_LINT_WRITABLE  (LVT_WRITABLE | (1u << 13) | (1u << 15))
#define DCR_WRITABLE	   0xbu
#define APIC_BASE_RESERVED                                                                         \
	(~(IA32_APIC_BASE_MASK | IA32_APIC_BASE_BSP | IA32_APIC_BASE_EXTD | IA32_APIC_BASE_EN))
#define XAPIC_BROADCAST	   0xffu
#define X2APIC_BROADCAST   0xffffffffu
#define X2APIC_MSR_ICR	   (X2APIC_MSR_BASE + (APIC_ICR_LOW >> 4))
#define FIRST_LEGAL_VECTOR 16
#define VECTOR_CLASS(v)	   ((uint32_t)(v) >> 4)

static void mask_all_lvts(struct vlapic *l)
{
	uint32_t *lvts[] = {&l->lvt_timer,   &l->lvt_lint0, &l->lvt_lint1, &l->lvt_error,
			    &l->lvt_thermal, &l->lvt_perf,  &l->lvt_cmci};

	for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		*lvts[i] |= APIC_LVT_MASKED;
}

void vlapic_init(struct vlapic *l, uint32_t id, bool bsp,
		 void (*send_ipi)(void *ctx, const struct vlapic_ipi *ipi), void *ctx)
{
	memset(l, 0, sizeof(*l));
	l->id = id;
	/* The state after RESET (SDM §11.4.7.1): enabled in xAPIC mode at the
	 * default base, software-disabled, every LVT masked, flat model. */
	l->apic_base = XAPIC_DEFAULT_BASE | IA32_APIC_BASE_EN | (bsp ? IA32_APIC_BASE_BSP : 0);
	l->svr = 0xff;
	l->dfr = 0xffffffffu;
	mask_all_lvts(l);
	l->send_ipi = send_ipi;
	l->ctx = ctx;
}

bool vlapic_x2apic_mode(const struct vlapic *l)
{
	return l->apic_base & IA32_APIC_BASE_EXTD;
}

static bool software_enabled(const struct vlapic *l)
{
	return l->svr & APIC_SVR_ENABLE;
}

/* --- IRR, ISR and priorities (SDM §11.8.3) ---------------------------------- */

static int highest_bit(const uint32_t *bits)
{
	for (int w = 7; w >= 0; w--) {
		uint32_t word = __atomic_load_n(&bits[w], __ATOMIC_ACQUIRE);

		if (word)
			return w * 32 + 31 - __builtin_clz(word);
	}
	return -1;
}

static uint32_t processor_priority(const struct vlapic *l)
{
	int isrv = highest_bit(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : VECTOR_CLASS(isrv);

	return VECTOR_CLASS(l->tpr) >= isr_class ? l->tpr & 0xff : isr_class << 4;
}

void vlapic_set_irr(struct vlapic *l, uint8_t vector)
{
	if (vector < FIRST_LEGAL_VECTOR) {
		l->esr |= APIC_ESR_ILLEGAL_VECTOR;
		return;
	}
	__atomic_fetch_or(&l->irr[vector / 32], 1u << (vector % 32), __ATOMIC_RELEASE);
}

/* The TMR bit goes in before the IRR bit, so whoever accepts the vector
 * sees its trigger mode. */
void vlapic_set_irr_trigger(struct vlapic *l, uint8_t vector, bool level)
{
	uint32_t bit = 1u << (vector % 32);

	if (level)
		__atomic_fetch_or(&l->tmr[vector / 32], bit, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&l->tmr[vector / 32], ~bit, __ATOMIC_RELEASE);
	vlapic_set_irr(l, vector);
}

int vlapic_pending_vector(const struct vlapic *l)
{
	int v = highest_bit(l->irr);

	if (v < 0 || !(l->apic_base & IA32_APIC_BASE_EN))
		return -1;
	return VECTOR_CLASS(v) > VECTOR_CLASS(processor_priority(l)) ? v : -1;
}

void vlapic_accept(struct vlapic *l, uint8_t vector)
{
	__atomic_fetch_and(&l->irr[vector / 32], ~(1u << (vector % 32)), __ATOMIC_ACQ_REL);
	l->isr[vector / 32] |= 1u << (vector % 32);
}

int vlapic_highest_isr(const struct vlapic *l)
{
	return highest_bit(l->isr);
}

void vlapic_set_isr(struct vlapic *l, uint8_t vector)
{
	l->isr[vector / 32] |= 1u << (vector % 32);
}

/* A retired level-triggered vector's EOI goes on to the I/O APIC (SDM
 * §11.8.5; EOI-broadcast suppression is not offered). */
static void level_eoi(struct vlapic *l, int v)
{
	uint32_t bit = 1u << (v % 32);

	if (!(__atomic_fetch_and(&l->tmr[v / 32], ~bit, __ATOMIC_ACQ_REL) & bit))
		return;
	if (l->level_eoi)
		l->level_eoi(l->ctx, (uint8_t)v);
}

/* EOI retires the highest in-service interrupt (SDM §11.8.5). */
static void eoi(struct vlapic *l)
{
	int v = highest_bit(l->isr);

	if (v < 0)
		return;
	l->isr[v / 32] &= ~(1u << (v % 32));
	l->eois++;
	level_eoi(l, v);
}

/* --- the timer (SDM §11.5.4) ------------------------------------------------ */

static uint32_t timer_mode(const struct vlapic *l)
{
	return l->lvt_timer & APIC_LVT_TIMER_MODE;
}

/* Divide configuration bits 3, 1:0 (SDM figure 11-10): 0b111 divides by 1. */
static uint64_t timer_divisor(const struct vlapic *l)
{
	uint32_t code = ((l->timer_dcr >> 1) & 4) | (l->timer_dcr & 3);

	return code == 7 ? 1 : 2ull << code;
}

static uint64_t timer_count_cycles(const struct vlapic *l)
{
	return (uint64_t)l->timer_initial * timer_divisor(l);
}

/* A periodic timer's period is at least timer_min_period (as KVM's
 * min_timer_period_us): a shorter one would expire again before the guest
 * ran an instruction after the last expiry. */
static bool timer_clamps(const struct vlapic *l)
{
	return timer_mode(l) == APIC_LVT_TIMER_PERIODIC &&
	       timer_count_cycles(l) < l->timer_min_period;
}

static uint64_t timer_period(const struct vlapic *l)
{
	return timer_clamps(l) ? l->timer_min_period : timer_count_cycles(l);
}

static void timer_load(struct vlapic *l, uint64_t now)
{
	l->timer_start = now;
	l->timer_deadline = l->timer_initial ? now + timer_period(l) : 0;
	if (l->timer_initial && timer_clamps(l))
		l->timer_clamped++;
}

static uint32_t timer_current_count(const struct vlapic *l, uint64_t now)
{
	uint64_t elapsed;

	if (!l->timer_deadline || timer_mode(l) == APIC_LVT_TIMER_TSCDEADLINE)
		return 0;
	elapsed = (now - l->timer_start) / timer_divisor(l);
	if (timer_mode(l) == APIC_LVT_TIMER_PERIODIC)
		return l->timer_initial - (uint32_t)(elapsed % l->timer_initial);
	return elapsed >= l->timer_initial ? 0 : l->timer_initial - (uint32_t)elapsed;
}

uint64_t vlapic_timer_deadline(const struct vlapic *l)
{
	return l->timer_deadline;
}

/* Ticks missed while the vCPU was not running collapse into one interrupt,
 * as they would in a real IRR; the period stays anchored to its start. */
void vlapic_timer_expire(struct vlapic *l, uint64_t now)
{
	if (!l->timer_deadline || l->timer_deadline > now)
		return;
	if (!(l->lvt_timer & APIC_LVT_MASKED)) {
		vlapic_set_irr(l, l->lvt_timer & APIC_LVT_VECTOR);
		l->timer_fired++;
	}
	if (timer_mode(l) == APIC_LVT_TIMER_PERIODIC && l->timer_initial) {
		uint64_t period = timer_period(l), missed = (now - l->timer_deadline) / period;

		l->timer_start = l->timer_deadline + missed * period;
		l->timer_deadline = l->timer_start + period;
	} else {
		l->timer_deadline = 0;
	}
}

static void write_lvt_timer(struct vlapic *l, uint32_t value)
{
	uint32_t old_mode = timer_mode(l);

	l->lvt_timer = value & LVT_TIMER_WRITABLE;
	if (!software_enabled(l))
		l->lvt_timer |= APIC_LVT_MASKED;
	if (timer_mode(l) != old_mode) /* a mode change disarms the timer */
		l->timer_deadline = 0;
}

/* --- interprocessor interrupts (SDM §11.6) ---------------------------------- */

bool vlapic_is_destination(const struct vlapic *l, const struct vlapic_ipi *ipi, bool is_sender)
{
	switch (ipi->shorthand) {
	case APIC_ICR_SELF:
		return is_sender;
	case APIC_ICR_ALL:
		return true;
	case APIC_ICR_ALL_BUT_SELF:
		return !is_sender;
	}
	if (ipi->broadcast)
		return true;
	if (!ipi->logical)
		return ipi->dest == l->id;
	if (vlapic_x2apic_mode(l)) /* cluster in 31:16, member bitmap in 15:0 */
		return (ipi->dest >> 16) == (l->ldr >> 16) && (ipi->dest & l->ldr & 0xffff);
	return (ipi->dest & (l->ldr >> 24)) != 0; /* flat model */
}

static void send_ipi(struct vlapic *l)
{
	struct vlapic_ipi ipi = {
		.shorthand = l->icr_low & APIC_ICR_SHORTHAND_MASK,
		.delivery = l->icr_low & APIC_ICR_DELIVERY_MASK,
		.vector = (uint8_t)(l->icr_low & APIC_ICR_VECTOR),
		.logical = l->icr_low & APIC_ICR_DEST_LOGICAL,
		.deassert = (l->icr_low & APIC_ICR_TRIGGER_LEVEL) &&
			    !(l->icr_low & APIC_ICR_LEVEL_ASSERT),
	};

	ipi.dest = vlapic_x2apic_mode(l) ? l->icr_high : l->icr_high >> 24;
	ipi.broadcast = ipi.dest == (vlapic_x2apic_mode(l) ? X2APIC_BROADCAST : XAPIC_BROADCAST);
	if ((ipi.delivery == APIC_ICR_DELIVERY_FIXED || ipi.delivery == APIC_ICR_DELIVERY_LOWEST) &&
	    ipi.vector < FIRST_LEGAL_VECTOR) {
		l->esr |= APIC_ESR_ILLEGAL_VECTOR >> 1; /* send illegal vector */
		return;
	}
	l->ipis_sent++;
	if (l->send_ipi)
		l->send_ipi(l->ctx, &ipi);
}

/* --- the register file ------------------------------------------------------ */

static uint32_t *lvt_register(struct vlapic *l, uint32_t offset)
{
	switch (offset) {
	case APIC_LVT_LINT0:
		return &l->lvt_lint0;
	case APIC_LVT_LINT1:
		return &l->lvt_lint1;
	case APIC_LVT_ERROR:
		return &l->lvt_error;
	case APIC_LVT_THERMAL:
		return &l->lvt_thermal;
	case APIC_LVT_PERF:
		return &l->lvt_perf;
	case APIC_LVT_CMCI:
		return &l->lvt_cmci;
	}
	return NULL;
}

static const uint32_t *bank_register(const struct vlapic *l, uint32_t offset)
{
	if (offset >= APIC_ISR && offset < APIC_ISR + 0x80)
		return &l->isr[(offset - APIC_ISR) >> 4];
	if (offset >= APIC_TMR && offset < APIC_TMR + 0x80)
		return &l->tmr[(offset - APIC_TMR) >> 4];
	if (offset >= APIC_IRR && offset < APIC_IRR + 0x80)
		return &l->irr[(offset - APIC_IRR) >> 4];
	return NULL;
}

/* A register's value, or false for an offset with no readable register. */
static bool read_register(struct vlapic *l, uint32_t offset, uint64_t now, uint32_t *value)
{
	const uint32_t *bank = bank_register(l, offset);
	uint32_t *lvt = lvt_register(l, offset);
	bool x2 = vlapic_x2apic_mode(l);

	if (bank || lvt) {
		*value = bank ? __atomic_load_n(bank, __ATOMIC_ACQUIRE) : *lvt;
		return true;
	}
	switch (offset) {
	case APIC_ID:
		*value = x2 ? l->id : l->id << 24;
		return true;
	case APIC_VERSION:
		*value = VLAPIC_VERSION;
		return true;
	case APIC_TPR:
		*value = l->tpr;
		return true;
	case APIC_APR:
		*value = 0;
		return !x2;
	case APIC_PPR:
		*value = processor_priority(l);
		return true;
	case APIC_LDR:
		*value = l->ldr;
		return true;
	case APIC_DFR:
		*value = l->dfr;
		return !x2;
	case APIC_SVR:
		*value = l->svr;
		return true;
	case APIC_ESR:
		*value = l->esr;
		return true;
	case APIC_ICR_LOW:
		*value = l->icr_low;
		return true;
	case APIC_ICR_HIGH:
		*value = l->icr_high;
		return !x2;
	case APIC_LVT_TIMER:
		*value = l->lvt_timer;
		return true;
	case APIC_TIMER_INITIAL:
		*value = l->timer_initial;
		return true;
	case APIC_TIMER_CURRENT:
		*value = timer_current_count(l, now);
		return true;
	case APIC_TIMER_DIVIDE:
		*value = l->timer_dcr;
		return true;
	}
	return false;
}

static void write_svr(struct vlapic *l, uint32_t value)
{
	l->svr = value & SVR_WRITABLE;
	if (software_enabled(l))
		return;
	mask_all_lvts(l); /* software-disabling masks every LVT entry (SDM §11.4.7.2) */
}

static void write_lvt(struct vlapic *l, uint32_t *lvt, uint32_t offset, uint32_t value)
{
	bool lint = offset == APIC_LVT_LINT0 || offset == APIC_LVT_LINT1;

	*lvt = value & (lint ? LVT_LINT_WRITABLE : LVT_WRITABLE);
	if (!software_enabled(l))
		*lvt |= APIC_LVT_MASKED;
}

/* False for an offset with no writable register (x2APIC: #GP). */
static bool write_register(struct vlapic *l, uint32_t offset, uint32_t value, uint64_t now)
{
	uint32_t *lvt = lvt_register(l, offset);
	bool x2 = vlapic_x2apic_mode(l);

	if (lvt) {
		write_lvt(l, lvt, offset, value);
		return true;
	}
	switch (offset) {
	case APIC_ID: /* read-only here, as most CPUs let it be */
		return !x2;
	case APIC_TPR:
		l->tpr = value & 0xff;
		return true;
	case APIC_EOI:
		eoi(l);
		return !x2 || value == 0;
	case APIC_LDR:
		l->ldr = value & 0xff000000u;
		return !x2;
	case APIC_DFR:
		l->dfr = value | 0x0fffffffu;
		return !x2;
	case APIC_SVR:
		write_svr(l, value);
		return true;
	case APIC_ESR:
		l->esr = 0;
		return true;
	case APIC_ICR_LOW:
		l->icr_low = value & ~APIC_ICR_PENDING;
		send_ipi(l);
		return true;
	case APIC_ICR_HIGH:
		l->icr_high = value & 0xff000000u;
		return !x2;
	case APIC_LVT_TIMER:
		write_lvt_timer(l, value);
		return true;
	case APIC_TIMER_INITIAL:
		if (timer_mode(l) != APIC_LVT_TIMER_TSCDEADLINE) {
			l->timer_initial = value;
			timer_load(l, now);
		}
		return true;
	case APIC_TIMER_DIVIDE:
		l->timer_dcr = value & DCR_WRITABLE;
		return true;
	case APIC_SELF_IPI:
		if (x2)
			vlapic_set_irr(l, (uint8_t)value);
		return x2;
	}
	return false;
}

uint32_t vlapic_mmio_read(struct vlapic *l, uint32_t offset, uint64_t now)
{
	uint32_t value = 0;

	if (vlapic_x2apic_mode(l) || !read_register(l, offset & 0xff0, now, &value))
		return 0;
	return value;
}

void vlapic_mmio_write(struct vlapic *l, uint32_t offset, uint32_t value, uint64_t now)
{
	if (!vlapic_x2apic_mode(l))
		(void)write_register(l, offset & 0xff0, value, now);
}

/* --- MSRs ---------------------------------------------------------------------- */

bool vlapic_handles_msr(uint32_t msr)
{
	return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
	       (msr >= X2APIC_MSR_BASE && msr <= X2APIC_MSR_LAST);
}

/* Mode changes allowed by SDM §11.12.5 figure 11-26: disabled <-> xAPIC,
 * xAPIC -> x2APIC, x2APIC -> disabled; the base address stays fixed. */
static bool write_apic_base(struct vlapic *l, uint64_t value)
{
	uint64_t mode = value & (IA32_APIC_BASE_EN | IA32_APIC_BASE_EXTD);
	uint64_t old = l->apic_base & (IA32_APIC_BASE_EN | IA32_APIC_BASE_EXTD);

	if (value & APIC_BASE_RESERVED || mode == IA32_APIC_BASE_EXTD)
		return false;
	if (old == (IA32_APIC_BASE_EN | IA32_APIC_BASE_EXTD) && mode == IA32_APIC_BASE_EN)
		return false;
	if (!old && mode == (IA32_APIC_BASE_EN | IA32_APIC_BASE_EXTD))
		return false;
	l->apic_base = (l->apic_base & ~(uint64_t)(IA32_APIC_BASE_EN | IA32_APIC_BASE_EXTD)) | mode;
	if (mode & IA32_APIC_BASE_EXTD) /* x2APIC: logical ID derived from the ID */
		l->ldr = ((l->id >> 4) << 16) | (1u << (l->id & 0xf));
	return true;
}

bool vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t now, uint64_t *value)
{
	uint32_t v;

	if (msr == MSR_IA32_APIC_BASE) {
		*value = l->apic_base;
		return true;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		*value = timer_mode(l) == APIC_LVT_TIMER_TSCDEADLINE ? l->timer_deadline : 0;
		return true;
	}
	if (!vlapic_x2apic_mode(l) || msr == X2APIC_MSR_BASE + (APIC_EOI >> 4) ||
	    msr == X2APIC_MSR_BASE + (APIC_SELF_IPI >> 4))
		return false;
	if (msr == X2APIC_MSR_ICR) {
		*value = (uint64_t)l->icr_high << 32 | l->icr_low;
		return true;
	}
	if (!read_register(l, (msr - X2APIC_MSR_BASE) << 4, now, &v))
		return false;
	*value = v;
	return true;
}

bool vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t value, uint64_t now)
{
	if (msr == MSR_IA32_APIC_BASE)
		return write_apic_base(l, value);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (timer_mode(l) == APIC_LVT_TIMER_TSCDEADLINE)
			l->timer_deadline = value;
		return true;
	}
	if (!vlapic_x2apic_mode(l))
		return false;
	if (msr == X2APIC_MSR_ICR) {
		l->icr_high = (uint32_t)(value >> 32);
		return write_register(l, APIC_ICR_LOW, (uint32_t)value, now);
	}
	if (value >> 32)
		return false;
	return write_register(l, (msr - X2APIC_MSR_BASE) << 4, (uint32_t)value, now);
}

/* --- hardware virtual-interrupt delivery --------------------------------------- */

/* No libgcc in the kernel, so no __builtin_popcount: the SWAR count. */
static unsigned bits_set(uint32_t x)
{
	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	return (((x + (x >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24;
}

bool vlapic_hw_delivery_possible(const struct vlapic *l)
{
	for (int w = 0; w < 8; w++)
		if (__atomic_load_n(&l->tmr[w], __ATOMIC_ACQUIRE))
			return false;
	return (l->apic_base & (IA32_APIC_BASE_EN | IA32_APIC_BASE_EXTD)) ==
	       (IA32_APIC_BASE_EN | IA32_APIC_BASE_EXTD);
}

void vlapic_hw_take(struct vlapic *l, uint32_t irr[8], uint32_t isr[8], uint32_t *tpr)
{
	for (int w = 0; w < 8; w++) {
		irr[w] = __atomic_exchange_n(&l->irr[w], 0, __ATOMIC_ACQ_REL);
		isr[w] = l->isr[w];
	}
	*tpr = l->tpr;
}

unsigned vlapic_hw_give(struct vlapic *l, const uint32_t taken_irr[8], const uint32_t irr[8],
			const uint32_t isr[8], uint32_t tpr)
{
	unsigned delivered = 0;

	for (int w = 0; w < 8; w++) {
		uint32_t taken = taken_irr[w] & ~irr[w], eoied = (l->isr[w] | taken) & ~isr[w];

		delivered += bits_set(taken);
		l->eois += bits_set(eoied);
		if (irr[w]) /* still requested: back, beside what came meanwhile */
			__atomic_fetch_or(&l->irr[w], irr[w], __ATOMIC_RELEASE);
		l->isr[w] = isr[w];
	}
	l->tpr = tpr & 0xff;
	return delivered;
}
