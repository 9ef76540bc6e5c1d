/* The local APIC of the running CPU, in x2APIC mode when the CPU has it and in
 * xAPIC (MMIO) mode otherwise; the choice is made once, at boot, as an ops
 * table, so no caller ever tests for the mode. */
#ifndef ARCH_X86_64_LAPIC_H
#define ARCH_X86_64_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct lapic_ops {
	const char *name;
	uint32_t (*read)(uint32_t reg);
	void (*write)(uint32_t reg, uint32_t val);
	void (*send_icr)(uint32_t dest_apic_id, uint32_t icr_low);
	uint32_t (*id)(void);
};

/* Chooses the mode on the boot CPU; lapic_enable() then runs on every CPU. */
void lapic_init_bsp(uint64_t xapic_phys);
void lapic_enable(void);
bool lapic_is_x2apic(void);
uint32_t lapic_id(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t val);
void lapic_eoi(void);
void lapic_send_ipi(uint32_t dest_apic_id, uint8_t vector);
void lapic_send_init(uint32_t dest_apic_id);
void lapic_send_startup(uint32_t dest_apic_id, uint8_t page);
void lapic_send_nmi_all_but_self(void);

#endif
