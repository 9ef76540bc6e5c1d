/* Workloads of the virtual local APIC: its timer in the three modes and IPIs
 * between vCPUs. Each vCPU uses vectors of its own (SHIM_VEC_TIMER + vCPU,
 * SHIM_VEC_IPI + receiving vCPU), so counts never mix. */
#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/regs.h"
#include "guest-shim/shim.h"

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* n=N timer interrupts period_us=P apart, in mode=oneshot|periodic|deadline;
 * reports how many came and the microseconds they took, which can never be
 * less than N periods. */
void shim_run_timer(const char *cmdline, uint32_t vcpu)
{
	uint8_t vector = (uint8_t)(SHIM_VEC_TIMER + vcpu);
	uint64_t n = shim_arg_uint(cmdline, "n", 10),
		 period_us = shim_arg_uint(cmdline, "period_us", 1000);
	uint64_t khz = shim_timer_khz(), ticks = period_us * khz / 1000, start;
	uint64_t base = shim_irq_count[vector];

	shim_apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	start = rdtsc();
	if (shim_arg_is(cmdline, "mode", "periodic")) {
		shim_apic_write(APIC_LVT_TIMER, vector | APIC_LVT_TIMER_PERIODIC);
		shim_apic_write(APIC_TIMER_INITIAL, (uint32_t)ticks);
		shim_wait_irqs(vector, base + n);
		shim_apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
		shim_apic_write(APIC_TIMER_INITIAL, 0);
	} else if (shim_arg_is(cmdline, "mode", "deadline")) {
		shim_apic_write(APIC_LVT_TIMER, vector | APIC_LVT_TIMER_TSCDEADLINE);
		for (uint64_t i = 1; i <= n; i++) {
			shim_wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + ticks);
			shim_wait_irqs(vector, base + i);
		}
	} else {
		shim_apic_write(APIC_LVT_TIMER, vector | APIC_LVT_TIMER_ONESHOT);
		for (uint64_t i = 1; i <= n; i++) {
			shim_apic_write(APIC_TIMER_INITIAL, (uint32_t)ticks);
			shim_wait_irqs(vector, base + i);
		}
	}
	shim_report(HR_TIMER_IRQS, shim_irq_count[vector] - base);
	shim_report(HR_TIMER_US, (rdtsc() - start) * 1000 / khz);
}

/* Ping-pong between vCPUs 0 and 1: n pings from 0, each answered by a pong
 * from 1 before the next; both halt while they wait. Reports what each got.
 * Counts start at boot, not here: vCPU 0's first ping may reach vCPU 1 while
 * that one is still busy with an earlier workload. */
void shim_run_ipi(uint64_t n, uint32_t vcpu)
{
	uint8_t mine = (uint8_t)(SHIM_VEC_IPI + vcpu);
	const uint64_t base = 0;

	if (vcpu > 1)
		return;
	for (uint64_t i = 1; i <= n; i++) {
		if (vcpu == 0) {
			shim_apic_send_ipi(1, SHIM_VEC_IPI + 1);
			shim_wait_irqs(mine, base + i);
		} else {
			shim_wait_irqs(mine, base + i);
			shim_apic_send_ipi(0, SHIM_VEC_IPI + 0);
		}
	}
	shim_report(HR_IPI_RECEIVED, shim_irq_count[mine] - base);
}
