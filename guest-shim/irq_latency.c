/* Interrupt latency through the test-irq device (kernel/test_irq.h): the
 * device records the TSC when it raises an interrupt (the oldest one not yet
 * acknowledged, when several merged); the handler reads the TSC again and
 * acknowledges, and the difference is how long the interrupt waited for a
 * vCPU to take it: what vTurbo's turbo core shortens. The vCPU that takes the
 * VM's device interrupts (its turbo vCPU, else vCPU 0; CPUID
 * HV_CPUID_FEATURES ECX) programs the device and waits, halted; p50, p99 and
 * the maximum are reported in nanoseconds. */
#include "guest-shim/shim.h"
#include "kernel/test_irq.h"

#define MAX_SAMPLES  2048
#define REPORT_EVERY 1000

static uint64_t samples[MAX_SAMPLES];
static volatile uint64_t nsamples, fired_seen;

static volatile uint64_t *device_register(uint64_t offset)
{
	return (volatile uint64_t *)(uintptr_t)(TEST_IRQ_BASE + offset);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* From shim_interrupt, for SHIM_VEC_DEVICE: one sample, in TSC cycles. */
void shim_device_interrupt(void)
{
	/* RAISED before the TSC: a raise after this interrupt's (once the last
	 * one was acknowledged) can then never look like a negative latency. */
	uint64_t raised = *device_register(TEST_IRQ_REG_RAISED), now = rdtsc();

	*device_register(TEST_IRQ_REG_ACK) = 1;
	fired_seen = *device_register(TEST_IRQ_REG_FIRED);
	if (raised && nsamples < MAX_SAMPLES)
		samples[nsamples++] = now - raised;
}

static void sort(uint64_t *a, uint64_t n)
{
	for (uint64_t i = 1; i < n; i++) {
		uint64_t v = a[i], j = i;

		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

/* The p-th percentile (nearest rank) of the sorted samples, in ns. */
static uint64_t percentile_ns(uint64_t n, unsigned p, uint64_t tsc_khz)
{
	uint64_t rank = (n * p + 99) / 100;

	return samples[rank ? rank - 1 : 0] * 1000000 / tsc_khz;
}

uint32_t shim_irq_vcpu(void)
{
	uint32_t a = HV_CPUID_FEATURES, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c == 0xffffffffu ? 0 : c;
}

/* The samples so far: count, p50, p99, max; then a fresh start. */
static void report_samples(uint64_t khz)
{
	uint64_t n = nsamples;

	sort(samples, n);
	shim_report(HR_IRQ_COUNT, n);
	if (n) {
		shim_report(HR_IRQ_P50_NS, percentile_ns(n, 50, khz));
		shim_report(HR_IRQ_P99_NS, percentile_ns(n, 99, khz));
		shim_report(HR_IRQ_MAX_NS, samples[n - 1] * 1000000 / khz);
	}
	nsamples = 0;
}

/* n=N interrupts (at most MAX_SAMPLES), reported at the end; n=0 for ever,
 * reported every REPORT_EVERY (the demo's live figures). */
void shim_run_irq_latency(const char *cmdline, uint32_t vcpu)
{
	uint64_t n = shim_arg_uint(cmdline, "n", 100), khz = shim_timer_khz();
	uint64_t batch = !n ? REPORT_EVERY : n < MAX_SAMPLES ? n : MAX_SAMPLES;

	if (vcpu != shim_irq_vcpu())
		return;
	*device_register(TEST_IRQ_REG_VECTOR) = SHIM_VEC_DEVICE;
	*device_register(TEST_IRQ_REG_COUNT) = n ? batch : ~0ull;
	*device_register(TEST_IRQ_REG_PERIOD_US) = shim_arg_uint(cmdline, "period_us", 1000);
	for (uint64_t until = batch;; until += batch) {
		while (fired_seen < until) /* until the handler has taken the last one */
			__asm__ volatile("sti; hlt; cli" ::: "memory");
		report_samples(khz);
		if (n)
			return;
	}
}
