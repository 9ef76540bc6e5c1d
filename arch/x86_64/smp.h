/* Bringing up the application processors, and stopping them. */
#ifndef ARCH_X86_64_SMP_H
#define ARCH_X86_64_SMP_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_info;

/* Registers the CPUs the firmware lists: the boot CPU becomes logical CPU 0,
 * the others follow in MADT order. */
void smp_register_cpus(const uint32_t *apic_ids, uint32_t n, uint32_t bsp_apic_id);
/* Starts every registered AP; `ap_main` runs on each. Returns how many came up. */
uint32_t smp_start_aps(uint64_t trampoline_phys, void (*ap_main)(void));
/* Stops all other CPUs with an NMI (panic and power-off paths). */
void smp_stop_others(void);
/* True once some CPU has begun stopping the others: their NMI means "halt". */
bool smp_stopping(void);

#endif
