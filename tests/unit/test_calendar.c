/* Calendar arithmetic (vplat/calendar.c): dates to Unix time, and the
 * MC146818 RTC's BCD/binary, 12/24-hour registers to dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vplat/calendar.h"

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static uint64_t epoch_of(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
	struct calendar_time t = {y, mo, d, h, mi, s};
	uint64_t e = 0;

	assert_true(calendar_to_epoch(&t, &e));
	return e;
}

static void known_dates(void **state)
{
	(void)state;
	assert_int_equal(epoch_of(1970, 1, 1, 0, 0, 0), 0);
	assert_int_equal(epoch_of(2000, 2, 29, 12, 0, 0), 951825600);	/* a leap day */
	assert_int_equal(epoch_of(2026, 12, 2, 7, 42, 16), 1796197336); /* this session */
	assert_int_equal(epoch_of(2038, 1, 19, 3, 14, 8), 2147483648ull);
	assert_int_equal(epoch_of(2100, 3, 1, 0, 0, 0), 4107542400ull); /* 2100: no Feb 29 */
}

static void impossible_dates(void **state)
{
	struct calendar_time bad[] = {
		{1969, 12, 31, 23, 59, 59}, {2026, 13, 1, 0, 0, 0}, {2026, 4, 31, 0, 0, 0},
		{2100, 2, 29, 0, 0, 0},	    {2026, 1, 1, 24, 0, 0}, {2026, 0, 1, 0, 0, 0},
	};
	uint64_t e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(calendar_to_epoch(&bad[i], &e));
}

static void rtc_registers(void **state)
{
	/* seconds, -, minutes, -, hours, -, weekday, day, month, year */
	const uint8_t bcd24[10] = {0x16, 0, 0x42, 0, 0x07, 0, 4, 0x02, 0x12, 0x26};
	const uint8_t bcd12pm[10] = {0x00, 0, 0x30, 0, 0x80 | 0x12, 0, 4, 0x31, 0x12, 0x99};
	const uint8_t bcd12am[10] = {0x00, 0, 0x30, 0, 0x12, 0, 4, 0x31, 0x12, 0x99};
	const uint8_t bin[10] = {16, 0, 42, 0, 7, 0, 4, 2, 12, 26};
	const uint8_t broken[10] = {0x1a, 0, 0, 0, 0, 0, 0, 1, 1, 0};
	struct calendar_time t;

	(void)state;
	assert_true(calendar_from_rtc(bcd24, 0x20, false, true, &t));
	assert_int_equal(t.year, 2026);
	assert_int_equal(t.month, 12);
	assert_int_equal(t.day, 2);
	assert_int_equal(t.hour, 7);
	assert_int_equal(t.minute, 42);
	assert_int_equal(t.second, 16);
	assert_true(calendar_from_rtc(bcd12pm, 0x19, false, false, &t));
	assert_int_equal(t.year, 1999);
	assert_int_equal(t.hour, 12); /* 12 PM */
	assert_true(calendar_from_rtc(bcd12am, 0x19, false, false, &t));
	assert_int_equal(t.hour, 0); /* 12 AM */
	assert_true(calendar_from_rtc(bin, 20, true, true, &t));
	assert_int_equal(t.year, 2026);
	assert_int_equal(t.minute, 42);
	assert_false(calendar_from_rtc(broken, 0x20, false, true, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_dates),
		cmocka_unit_test(impossible_dates),
		cmocka_unit_test(rtc_registers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
