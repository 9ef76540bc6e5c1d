/* Calendar arithmetic for wall clocks (the host's CMOS RTC, guests' clocks):
 * pure, host-tested. */
#ifndef VPLAT_CALENDAR_H
#define VPLAT_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

struct calendar_time {
	unsigned year; /* full, e.g. 2026 */
	unsigned month, day, hour, minute, second;
};

/* Seconds since 1970-01-01 00:00:00 UTC; false for a date it cannot be
 * (month 13, day 31 of a 30-day month, a year before 1970). */
bool calendar_to_epoch(const struct calendar_time *t, uint64_t *epoch);

/* The MC146818 RTC's registers as read (BCD unless `binary`, 12-hour with
 * bit 7 = PM unless `hours24`), to a calendar time: false if a field is not
 * valid BCD. The century comes separately (register 0x32, or 20). */
bool calendar_from_rtc(const uint8_t regs[10], uint8_t century, bool binary, bool hours24,
		       struct calendar_time *t);

#endif
