/* The time of day: the host's CMOS RTC read once at boot, carried forward by
 * the TSC. Guests get it through their wall clock (kernel/vmsr.c). */
#ifndef KERNEL_WALLCLOCK_H
#define KERNEL_WALLCLOCK_H

#include <stdint.h>

/* Reads the RTC; logs the date (`@wallclock`). Boot CPU, after TSC calibration. */
void wallclock_init(void);
/* Seconds and nanoseconds since 1970 at TSC `tsc` (0 and 0 when the RTC gave
 * no date: guests then start in 1970). */
void wallclock_at(uint64_t tsc, uint64_t *sec, uint32_t *nsec);

#endif
