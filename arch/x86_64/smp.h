/* Bringing up the application processors, and stopping them. */
#ifndef ARCH_X86_64_SMP_H
#define ARCH_X86_64_SMP_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_info;

/* Registers the CPUs the firmware lists: the boot CPU becomes logical CPU 0,
 * the others follow in MADT order. */
void smp_register_cpus(const uint32_t *apic_ids, uint32_t n, uint32_t bsp_apic_id);
/* Sends every registered AP INIT-SIPI-SIPI, all at once, and returns how many
 * it started (the others had no stack) without waiting for them: each sets its
 * cpus[].online and runs `ap_main`, concurrently with the others, as soon as
 * it is up. The caller waits for them before the identity map goes. */
uint32_t smp_start_aps(uint64_t trampoline_phys, void (*ap_main)(void));
/* Makes this CPU's earlier stores visible before the IPI it sends next: a
 * WRMSR to the x2APIC ICR is not serializing (SDM Vol. 3A §11.12.3), so the
 * target could otherwise look before they are. */
static inline void smp_fence_before_ipi(void)
{
	__asm__ volatile("mfence; lfence" ::: "memory");
}
/* Stops all other CPUs with an NMI (panic and power-off paths). */
void smp_stop_others(void);
/* True once some CPU has begun stopping the others: their NMI means "halt". */
bool smp_stopping(void);

#endif
