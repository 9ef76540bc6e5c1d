/* Calendar arithmetic (vplat/calendar.h). Days from the civil date by the
 * usual March-based year (the leap day last), which needs no table. */
#include "vplat/calendar.h"

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of y-m-d (y >= 1970). */
static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d)
{
	uint64_t yy = m <= 2 ? y - 1 : y; /* years start in March */
	uint64_t mm = m <= 2 ? m + 9 : m - 3;
	uint64_t era_days = yy * 365 + yy / 4 - yy / 100 + yy / 400;

	/* 719468: the same count for 1970-01-01 */
	return era_days + (153 * mm + 2) / 5 + d - 1 - 719468;
}

bool calendar_to_epoch(const struct calendar_time *t, uint64_t *epoch)
{
	if (t->year < 1970 || t->month < 1 || t->month > 12 || t->day < 1 ||
	    t->day > days_in_month(t->year, t->month) || t->hour > 23 || t->minute > 59 ||
	    t->second > 59)
		return false;
	*epoch = days_since_epoch(t->year, t->month, t->day) * 86400 + t->hour * 3600 +
		 t->minute * 60 + t->second;
	return true;
}

static bool from_bcd(uint8_t v, bool binary, unsigned *out)
{
	if (binary) {
		*out = v;
		return true;
	}
	if ((v & 0xf) > 9 || (v >> 4) > 9)
		return false;
	*out = (v >> 4) * 10 + (v & 0xf);
	return true;
}

/* MC146818 register numbers */
enum { RTC_SECONDS = 0, RTC_MINUTES = 2, RTC_HOURS = 4, RTC_DAY = 7, RTC_MONTH = 8, RTC_YEAR = 9 };
#define RTC_HOUR_PM 0x80

bool calendar_from_rtc(const uint8_t regs[10], uint8_t century, bool binary, bool hours24,
		       struct calendar_time *t)
{
	uint8_t hour = regs[RTC_HOURS];
	bool pm = !hours24 && (hour & RTC_HOUR_PM);
	unsigned c, y;

	if (!hours24)
		hour &= (uint8_t)~RTC_HOUR_PM;
	if (!from_bcd(regs[RTC_SECONDS], binary, &t->second) ||
	    !from_bcd(regs[RTC_MINUTES], binary, &t->minute) || !from_bcd(hour, binary, &t->hour) ||
	    !from_bcd(regs[RTC_DAY], binary, &t->day) ||
	    !from_bcd(regs[RTC_MONTH], binary, &t->month) ||
	    !from_bcd(regs[RTC_YEAR], binary, &y) || !from_bcd(century, binary, &c))
		return false;
	if (!hours24) /* 12 AM is hour 0, 12 PM hour 12 */
		t->hour = (t->hour % 12) + (pm ? 12 : 0);
	t->year = c * 100 + y;
	return true;
}
