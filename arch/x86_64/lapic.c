/* Local APIC access, x2APIC (MSRs) or xAPIC (MMIO). SDM Vol. 3A ch. 11. */
#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/regs.h"

static volatile uint32_t *xapic_regs;

static uint32_t xapic_read(uint32_t reg)
{
	return xapic_regs[reg / 4];
}

static void xapic_write(uint32_t reg, uint32_t val)
{
	xapic_regs[reg / 4] = val;
}

static void xapic_send_icr(uint32_t dest, uint32_t icr_low)
{
	while (xapic_read(APIC_ICR_LOW) & APIC_ICR_PENDING)
		cpu_relax();
	xapic_write(APIC_ICR_HIGH, dest << 24);
	xapic_write(APIC_ICR_LOW, icr_low); /* the low write sends */
}

static uint32_t xapic_id(void)
{
	return xapic_read(APIC_ID) >> 24;
}

static uint32_t x2apic_read(uint32_t reg)
{
	return (uint32_t)rdmsr(X2APIC_MSR_BASE + reg / 16);
}

static void x2apic_write(uint32_t reg, uint32_t val)
{
	wrmsr(X2APIC_MSR_BASE + reg / 16, val);
}

/* In x2APIC mode the ICR is one 64-bit MSR and the destination is a full
 * 32-bit APIC id (SDM §11.12.9). */
static void x2apic_send_icr(uint32_t dest, uint32_t icr_low)
{
	wrmsr(X2APIC_MSR_BASE + APIC_ICR_LOW / 16, ((uint64_t)dest << 32) | icr_low);
}

static uint32_t x2apic_id(void)
{
	return x2apic_read(APIC_ID);
}

static const struct lapic_ops xapic_ops = {"xapic", xapic_read, xapic_write, xapic_send_icr,
					   xapic_id};
static const struct lapic_ops x2apic_ops = {"x2apic", x2apic_read, x2apic_write, x2apic_send_icr,
					    x2apic_id};
static const struct lapic_ops *lapic = &xapic_ops;

void lapic_init_bsp(uint64_t xapic_phys)
{
	xapic_regs = phys_to_virt(xapic_phys ? xapic_phys : XAPIC_DEFAULT_BASE);
	if (cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC)
		lapic = &x2apic_ops;
}

/* Software-enables the APIC with a spurious vector and a clean LVT: nothing
 * is delivered through LINT0/LINT1 (the legacy PIC stays off). */
void lapic_enable(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE) | IA32_APIC_BASE_EN;

	if (lapic == &x2apic_ops)
		base |= IA32_APIC_BASE_EXTD;
	wrmsr(MSR_IA32_APIC_BASE, base);
	lapic->write(APIC_TPR, 0);
	lapic->write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	lapic->write(APIC_LVT_LINT1, APIC_LVT_MASKED);
	lapic->write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	lapic->write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	lapic->write(APIC_SVR, APIC_SVR_ENABLE | 0xff);
}

bool lapic_is_x2apic(void)
{
	return lapic == &x2apic_ops;
}

uint32_t lapic_id(void)
{
	return lapic->id();
}

void lapic_eoi(void)
{
	lapic->write(APIC_EOI, 0);
}

uint32_t lapic_read(uint32_t reg)
{
	return lapic->read(reg);
}

void lapic_write(uint32_t reg, uint32_t val)
{
	lapic->write(reg, val);
}

void lapic_send_ipi(uint32_t dest, uint8_t vector)
{
	lapic->send_icr(dest, APIC_ICR_DELIVERY_FIXED | APIC_ICR_LEVEL_ASSERT | vector);
}

void lapic_send_init(uint32_t dest)
{
	lapic->send_icr(dest,
			APIC_ICR_DELIVERY_INIT | APIC_ICR_LEVEL_ASSERT | APIC_ICR_TRIGGER_LEVEL);
}

void lapic_send_startup(uint32_t dest, uint8_t page)
{
	lapic->send_icr(dest, APIC_ICR_DELIVERY_STARTUP | APIC_ICR_LEVEL_ASSERT | page);
}

void lapic_send_nmi_all_but_self(void)
{
	lapic->send_icr(0, APIC_ICR_DELIVERY_NMI | APIC_ICR_LEVEL_ASSERT | APIC_ICR_ALL_BUT_SELF);
}
