/* The time of day (kernel/wallclock.h). */
#include "kernel/wallclock.h"
#include "arch/x86_64/cmos_rtc.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "kernel/log.h"

static uint64_t boot_epoch, boot_epoch_tsc; /* boot_epoch 0: unknown */

void wallclock_init(void)
{
	struct record r;
	uint64_t epoch;

	if (!cmos_rtc_read_epoch(&epoch)) {
		log_printf("wall clock: the CMOS RTC gives no date; guests start in 1970\n");
		epoch = 0;
	}
	boot_epoch = epoch;
	boot_epoch_tsc = rdtsc();
	record_begin(&r, "wallclock");
	record_uint(&r, "epoch", boot_epoch);
	record_str(&r, "source", boot_epoch ? "cmos-rtc" : "none");
	record_emit(&r);
}

void wallclock_at(uint64_t tsc, uint64_t *sec, uint32_t *nsec)
{
	uint64_t ns = tsc >= boot_epoch_tsc ? tsc_to_ns(tsc - boot_epoch_tsc) : 0;

	*sec = boot_epoch ? boot_epoch + ns / 1000000000 : 0;
	*nsec = boot_epoch ? (uint32_t)(ns % 1000000000) : 0;
}
