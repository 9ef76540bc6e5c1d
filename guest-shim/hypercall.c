/* Hypercalls (kernel/hypercall.h): VMMCALL on AMD, VMCALL on Intel; the
 * hypervisor says which in its CPUID leaf. */
#include "guest-shim/shim.h"

static bool use_vmmcall;
static uint32_t vcpu_count;

void shim_hypercall_init(uint32_t vcpu)
{
	uint32_t a = HV_CPUID_FEATURES, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	shim_cpuid_count[vcpu]++;
	use_vmmcall = a & HV_FEATURE_VMMCALL;
	vcpu_count = b;
}

uint32_t shim_vcpu_count(void)
{
	return vcpu_count;
}

uint64_t shim_hypercall(uint64_t nr, uint64_t a0, uint64_t a1)
{
	uint64_t ret = nr;

	if (use_vmmcall)
		__asm__ volatile("vmmcall" : "+a"(ret) : "D"(a0), "S"(a1) : "memory");
	else
		__asm__ volatile("vmcall" : "+a"(ret) : "D"(a0), "S"(a1) : "memory");
	return ret;
}

void shim_print(const char *s)
{
	uint64_t n = 0;

	while (s[n])
		n++;
	shim_hypercall(HC_CONSOLE_WRITE, (uint64_t)(uintptr_t)s, n);
}

/* The VM's log budget may be spent for a moment (HC_BUSY): a report is
 * what the tests read, so it waits and goes again, 1 ms later. */
void shim_report(uint64_t key, uint64_t value)
{
	while (shim_hypercall(HC_REPORT, key, value) == HC_BUSY) {
		uint32_t lo, hi;
		uint64_t end;

		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		end = ((uint64_t)hi << 32 | lo) + shim_timer_khz();
		do
			__asm__ volatile("pause; rdtsc" : "=a"(lo), "=d"(hi));
		while (((uint64_t)hi << 32 | lo) < end);
	}
}
