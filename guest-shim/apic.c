/* guest-shim's local APIC driver, in x2APIC (MSRs) or xAPIC (the MMIO page)
 * mode, and the interrupt counter every vector above 31 lands in. The
 * hypervisor's CPUID leaf HV_CPUID_TIMING gives the timer's frequency. */
#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/regs.h"
#include "guest-shim/shim.h"

volatile uint64_t shim_irq_count[256];
static bool x2apic;

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

void shim_wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

static volatile uint32_t *xapic_register(uint32_t reg)
{
	return (volatile uint32_t *)(uintptr_t)(XAPIC_DEFAULT_BASE + reg);
}

void shim_apic_write(uint32_t reg, uint32_t value)
{
	if (x2apic)
		shim_wrmsr(X2APIC_MSR_BASE + (reg >> 4), value);
	else
		*xapic_register(reg) = value;
}

uint32_t shim_apic_read(uint32_t reg)
{
	return x2apic ? (uint32_t)rdmsr(X2APIC_MSR_BASE + (reg >> 4)) : *xapic_register(reg);
}

/* This vCPU's APIC ID: all 32 bits in x2APIC mode, bits 31:24 in xAPIC
 * mode (SDM §11.4.6). */
uint32_t shim_apic_id(void)
{
	uint32_t id = shim_apic_read(APIC_ID);

	return x2apic ? id : id >> 24;
}

/* Every vCPU of a VM must use the same mode: the interrupt handler's EOI
 * follows this global. */
void shim_apic_enable(bool use_x2apic)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE) | IA32_APIC_BASE_EN;

	x2apic = use_x2apic;
	if (x2apic)
		shim_wrmsr(MSR_IA32_APIC_BASE, base | IA32_APIC_BASE_EXTD);
	shim_apic_write(APIC_SVR, APIC_SVR_ENABLE | 0xff);
	shim_apic_write(APIC_TPR, 0);
}

void shim_apic_send_ipi(uint32_t dest, uint8_t vector)
{
	if (x2apic) {
		shim_wrmsr(X2APIC_MSR_BASE + (APIC_ICR_LOW >> 4), (uint64_t)dest << 32 | vector);
	} else {
		shim_apic_write(APIC_ICR_HIGH, dest << 24);
		shim_apic_write(APIC_ICR_LOW, vector);
	}
}

/* Timer ticks (and TSC cycles) per microsecond, from HV_CPUID_TIMING. */
uint64_t shim_timer_khz(void)
{
	uint32_t a = HV_CPUID_TIMING, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return b;
}

void shim_interrupt(uint64_t vector);
void shim_interrupt(uint64_t vector)
{
	if (vector == SHIM_VEC_DEVICE)
		shim_device_interrupt();
	else if (vector == SHIM_VEC_UART)
		shim_uart_interrupt();
	__atomic_fetch_add(&shim_irq_count[vector], 1, __ATOMIC_RELEASE);
	shim_apic_write(APIC_EOI, 0);
}

/* Waits, halted, until `count` interrupts of `vector` have arrived. The
 * check runs with IF clear and STI;HLT closes the gap (STI's shadow). */
void shim_wait_irqs(uint8_t vector, uint64_t count)
{
	while (__atomic_load_n(&shim_irq_count[vector], __ATOMIC_ACQUIRE) < count)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}
