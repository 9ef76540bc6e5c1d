/* The TSC is the hypervisor's clock (design.md, "time"). */
#ifndef ARCH_X86_64_TSC_H
#define ARCH_X86_64_TSC_H

#include <stdint.h>

extern uint64_t tsc_khz;
extern uint64_t boot_entry_tsc;

void tsc_calibrate(void);
uint64_t tsc_to_us(uint64_t cycles);
uint64_t tsc_from_us(uint64_t us);
uint64_t tsc_to_ns(uint64_t cycles);
uint64_t tsc_from_ns(uint64_t ns);
/* Busy-waits: only for boot-time hardware sequences (INIT-SIPI delays). */
void tsc_delay_us(uint64_t us);

#endif
