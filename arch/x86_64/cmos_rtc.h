/* The PC's real-time clock (MC146818-compatible CMOS RTC, ports 0x70/0x71):
 * read once at boot for the host's wall clock. */
#ifndef ARCH_X86_64_CMOS_RTC_H
#define ARCH_X86_64_CMOS_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define CMOS_INDEX	   0x70
#define CMOS_DATA	   0x71
#define CMOS_NMI_DISABLE   0x80 /* bit 7 of the index port */
#define RTC_STATUS_A	   0x0a
#define RTC_STATUS_B	   0x0b
#define RTC_CENTURY	   0x32 /* the FADT's default CENTURY index */
#define RTC_A_UIP	   0x80 /* an update is in progress: the time registers change */
#define RTC_B_24H	   0x02
#define RTC_B_BINARY	   0x04
#define RTC_TIME_REGISTERS 10

/* Seconds since 1970 (UTC if the RTC keeps UTC, as Linux hosts and QEMU
 * do); false when the RTC's registers make no date. */
bool cmos_rtc_read_epoch(uint64_t *epoch);

#endif
