/* Reading the CMOS RTC (arch/x86_64/cmos_rtc.h). The time registers are read
 * outside an update (status A's UIP clear) and again until two readings
 * agree, so a second that ticks in between cannot mix (MC146818 data sheet,
 * "update cycle"). */
#include "arch/x86_64/cmos_rtc.h"
#include "arch/x86_64/cpu.h"
#include "vplat/calendar.h"

#define READ_TRIES 1000

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, CMOS_NMI_DISABLE | reg);
	return inb(CMOS_DATA);
}

static bool read_time(uint8_t regs[RTC_TIME_REGISTERS])
{
	for (unsigned i = 0; i < READ_TRIES && (cmos_read(RTC_STATUS_A) & RTC_A_UIP); i++)
		cpu_relax();
	if (cmos_read(RTC_STATUS_A) & RTC_A_UIP)
		return false;
	for (uint8_t r = 0; r < RTC_TIME_REGISTERS; r++)
		regs[r] = cmos_read(r);
	return true;
}

bool cmos_rtc_read_epoch(uint64_t *epoch)
{
	uint8_t a[RTC_TIME_REGISTERS], b[RTC_TIME_REGISTERS];
	struct calendar_time t;
	uint8_t status_b, century;
	bool same = false;

	for (unsigned i = 0; i < READ_TRIES && !same; i++) {
		if (!read_time(a) || !read_time(b))
			return false;
		same = true;
		for (unsigned r = 0; r < RTC_TIME_REGISTERS; r++)
			same = same && a[r] == b[r];
	}
	status_b = cmos_read(RTC_STATUS_B);
	century = cmos_read(RTC_CENTURY);
	if (century == 0 || century == 0xff) /* no century register */
		century = (status_b & RTC_B_BINARY) ? 20 : 0x20;
	return same &&
	       calendar_from_rtc(b, century, status_b & RTC_B_BINARY, status_b & RTC_B_24H, &t) &&
	       calendar_to_epoch(&t, epoch);
}
