/* TSC calibration against PIT channel 2 in mode 0: the gate starts the count,
 * OUT2 rises at terminal count; the TSC cycles in between give its rate. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pit.h"
#include "arch/x86_64/tsc.h"

#define CALIBRATION_MS 20

uint64_t tsc_khz;

static uint64_t tsc_measure_pit_window(void)
{
	uint16_t count = PIT_HZ * CALIBRATION_MS / 1000;
	uint8_t ctrl = inb(SYS_CTRL_B);
	uint64_t start;

	outb(SYS_CTRL_B, (ctrl & ~SYS_CTRL_B_SPKR) & ~SYS_CTRL_B_GATE2);
	outb(PIT_MODE_CMD, PIT_CH2_MODE0_LOHI);
	outb(PIT_CH2_DATA, count & 0xff);
	outb(PIT_CH2_DATA, count >> 8);
	outb(SYS_CTRL_B, (ctrl & ~SYS_CTRL_B_SPKR) | SYS_CTRL_B_GATE2);
	start = rdtsc();
	while (!(inb(SYS_CTRL_B) & SYS_CTRL_B_OUT2))
		cpu_relax();
	return rdtsc() - start;
}

/* The smallest of three windows: an emulator that is descheduled in the middle
 * of one only ever makes a window longer. */
void tsc_calibrate(void)
{
	uint64_t best = ~0ull;

	for (int i = 0; i < 3; i++) {
		uint64_t cycles = tsc_measure_pit_window();

		if (cycles < best)
			best = cycles;
	}
	tsc_khz = best / CALIBRATION_MS;
}

uint64_t tsc_to_us(uint64_t cycles)
{
	return cycles * 1000 / tsc_khz;
}

uint64_t tsc_from_us(uint64_t us)
{
	return us * tsc_khz / 1000;
}

/* Split so that neither product overflows for any TSC value of the next
 * centuries (no 128-bit division in a freestanding kernel). */
uint64_t tsc_to_ns(uint64_t cycles)
{
	return cycles / tsc_khz * 1000000 + cycles % tsc_khz * 1000000 / tsc_khz;
}

uint64_t tsc_from_ns(uint64_t ns)
{
	return ns / 1000000 * tsc_khz + ns % 1000000 * tsc_khz / 1000000;
}

void tsc_delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + tsc_from_us(us);

	while (rdtsc() < end)
		cpu_relax();
}
