/* AP start-up with the universal INIT-SIPI-SIPI sequence (SDM Vol. 3A
 * §9.4.4.1), one AP at a time: the APs share one trampoline page and its
 * parameter block. */
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/mem.h"

#define AP_STACK_PAGES	    4 /* 16 KiB */
#define AP_START_TIMEOUT_US 200000

struct ap_params {
	uint64_t cr3;
	uint64_t stack;
	uint64_t cpu;
	uint64_t entry;
};

extern const char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_params[];
extern uint64_t boot_pml4[512];

struct cpu cpus[MAX_CPUS];
uint32_t cpu_count;
static void (*ap_main_fn)(void);
static int cpus_stopping;

void smp_register_cpus(const uint32_t *apic_ids, uint32_t n, uint32_t bsp_apic_id)
{
	cpu_count = 1;
	cpus[0].apic_id = bsp_apic_id;
	for (uint32_t i = 0; i < n && cpu_count < MAX_CPUS; i++) {
		if (apic_ids[i] == bsp_apic_id)
			continue;
		cpus[cpu_count].index = cpu_count;
		cpus[cpu_count].apic_id = apic_ids[i];
		cpu_count++;
	}
}

/* First C code on an AP, still on the trampoline's page tables. */
static __attribute__((noreturn)) void ap_entry(struct cpu *c)
{
	cpu_setup(c);
	lapic_enable();
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	ap_main_fn();
	cpu_halt_forever();
}

static bool smp_start_one(struct cpu *c, uint8_t page)
{
	uint64_t deadline;

	lapic_send_init(c->apic_id);
	tsc_delay_us(10000);
	for (int sipi = 0; sipi < 2 && !c->online; sipi++) {
		lapic_send_startup(c->apic_id, page);
		deadline = rdtsc() + tsc_from_us(sipi ? AP_START_TIMEOUT_US : 200);
		while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && rdtsc() < deadline)
			cpu_relax();
	}
	return c->online;
}

uint32_t smp_start_aps(uint64_t trampoline_phys, void (*ap_main)(void))
{
	uint8_t *page = phys_to_virt(trampoline_phys);
	size_t params_offset = (uintptr_t)ap_trampoline_params - (uintptr_t)ap_trampoline_start;
	struct ap_params *params = (void *)(page + params_offset);
	uint32_t started = 0;

	ap_main_fn = ap_main;
	memcpy(page, ap_trampoline_start,
	       (uintptr_t)ap_trampoline_end - (uintptr_t)ap_trampoline_start);
	for (uint32_t i = 1; i < cpu_count; i++) {
		/* From the page allocator, so that the build's CPU limit costs no
		 * stack for CPUs the machine does not have. */
		uint64_t stack = mem_alloc_pages(AP_STACK_PAGES, 1);

		if (!stack)
			continue; /* it stays offline; the boot says so */
		params->cr3 = virt_to_phys(boot_pml4);
		params->stack =
			(uint64_t)(uintptr_t)phys_to_virt(stack) + AP_STACK_PAGES * PAGE_SIZE;
		params->cpu = (uint64_t)(uintptr_t)&cpus[i];
		params->entry = (uint64_t)(uintptr_t)ap_entry;
		cpus[i].stack_top = params->stack;
		if (smp_start_one(&cpus[i], (uint8_t)(trampoline_phys >> 12)))
			started++;
	}
	return started;
}

bool smp_stopping(void)
{
	return __atomic_load_n(&cpus_stopping, __ATOMIC_ACQUIRE);
}

void smp_stop_others(void)
{
	if (__atomic_exchange_n(&cpus_stopping, 1, __ATOMIC_ACQ_REL))
		return; /* another CPU is already stopping everybody */
	if (cpu_count > 1)
		lapic_send_nmi_all_but_self();
}
