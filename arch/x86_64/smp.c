/* AP start-up with INIT-SIPI-SIPI (SDM Vol. 3A §9.4.4.1), all the APs at
 * once: one INIT each, one wait for all, then the SIPIs. They share one
 * trampoline page; each takes a stack slot in arrival order and then finds
 * its struct cpu by its APIC ID. Starting 254 APs takes about as long as
 * starting one. */
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/mem.h"

#define AP_STACK_PAGES	 4     /* 16 KiB, and right above it the IST stacks: */
#define AP_IST_PAGES	 3     /* IST_STACKS * IST_STACK_SIZE / PAGE_SIZE */
#define AP_INIT_DELAY_US 10000 /* INIT to SIPI, where the processor needs it */
#define AP_SIPI_DELAY_US 200   /* first SIPI to second */
_Static_assert(AP_IST_PAGES *PAGE_SIZE == IST_STACKS * IST_STACK_SIZE, "AP_IST_PAGES");

/* The trampoline's parameter block (ap_trampoline.S); the far pointers and
 * the GDT base hold offsets into the page until the page base is added. */
struct ap_params {
	uint64_t cr3;
	uint64_t entry;
	uint64_t stacks; /* virtual address of the stack tops, one per slot */
	uint32_t slots;
	uint32_t next; /* the next free slot: each AP takes one with a locked XADD */
	uint32_t jump32;
	uint16_t cs32;
	uint32_t jump64;
	uint16_t cs64;
	uint16_t gdt_limit;
	uint32_t gdt_base;
} __attribute__((packed));
_Static_assert(sizeof(struct ap_params) == 50, "struct ap_params is the block in ap_trampoline.S");

extern const char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_params[];
extern uint64_t boot_pml4[512];

struct cpu cpus[MAX_CPUS];
uint32_t cpu_count;
static void (*ap_main_fn)(void);
static int cpus_stopping;
static uint64_t ap_stack_tops[MAX_CPUS];
static uint32_t aps_online;

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

static struct cpu *cpu_by_apic_id(uint32_t apic_id)
{
	for (uint32_t i = 1; i < cpu_count; i++)
		if (cpus[i].apic_id == apic_id)
			return &cpus[i];
	return NULL;
}

/* First C code on an AP, on its slot's stack and the trampoline's page
 * tables. The slot says nothing about which CPU this is: the APIC ID does. */
static __attribute__((noreturn)) void ap_entry(uint32_t slot)
{
	struct cpu *c;

	lapic_enable();
	c = cpu_by_apic_id(lapic_id());
	if (!c || c->online)
		cpu_halt_forever(); /* not one we started: it cannot even say so */
	c->stack_top = ap_stack_tops[slot];
	c->ist_stacks = (uint8_t *)(uintptr_t)ap_stack_tops[slot];
	cpu_setup(c);
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	__atomic_fetch_add(&aps_online, 1, __ATOMIC_RELEASE);
	ap_main_fn();
	cpu_halt_forever();
}

/* Whether INIT needs the SDM's 10 ms before the SIPI. Virtual CPUs, Intel's
 * family 6 and AMD's (and Hygon's) family 0Fh and later do not (Linux has
 * skipped the wait on them since 4.3: smp_quirk_init_udelay); older ones get
 * it, once for all the APs. */
static bool init_needs_delay(void)
{
	struct cpuid_regs v = cpuid(0, 0), f = cpuid(1, 0);
	uint32_t family = (f.eax >> 8) & 0xf;

	if (family == 0xf)
		family += (f.eax >> 20) & 0xff;
	if (f.ecx & (1u << 31)) /* running under a hypervisor */
		return false;
	if (v.ebx == 0x756e6547) /* "Genu"ineIntel */
		return family < 6;
	if (v.ebx == 0x68747541 || v.ebx == 0x6f677948) /* "Auth"enticAMD, "Hygo"nGenuine */
		return family < 0xf;
	return true;
}

/* Waits until `want` APs are online or `us` have passed. */
static void wait_for_aps(uint32_t want, uint64_t us)
{
	uint64_t deadline = rdtsc() + tsc_from_us(us);

	while (__atomic_load_n(&aps_online, __ATOMIC_ACQUIRE) < want && rdtsc() < deadline)
		cpu_relax();
}

/* Sends a SIPI to each of the first n APs not yet online. One already out of
 * its wait-for-SIPI state (still in the trampoline) ignores it. */
static void send_sipis(uint32_t n, uint8_t page)
{
	for (uint32_t i = 1; i <= n; i++)
		if (!__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
			lapic_send_startup(cpus[i].apic_id, page);
}

uint32_t smp_start_aps(uint64_t trampoline_phys, void (*ap_main)(void))
{
	uint8_t *page = phys_to_virt(trampoline_phys);
	size_t params_offset = (uintptr_t)ap_trampoline_params - (uintptr_t)ap_trampoline_start;
	struct ap_params *params = (void *)(page + params_offset);
	uint8_t vector = (uint8_t)(trampoline_phys >> 12);
	uint32_t base = (uint32_t)trampoline_phys;
	uint32_t n = 0;

	ap_main_fn = ap_main;
	/* From the page allocator, so that the build's CPU limit costs no stack
	 * for CPUs the machine does not have: each slot's stack, and above its
	 * top the IST stacks of the AP that takes it. The APs left without one
	 * stay offline; the boot says so. */
	while (n + 1 < cpu_count) {
		uint64_t stack = mem_alloc_pages(AP_STACK_PAGES + AP_IST_PAGES, 1);

		if (!stack)
			break;
		ap_stack_tops[n++] =
			(uint64_t)(uintptr_t)phys_to_virt(stack) + AP_STACK_PAGES * PAGE_SIZE;
	}
	if (!n)
		return 0;
	memcpy(page, ap_trampoline_start,
	       (uintptr_t)ap_trampoline_end - (uintptr_t)ap_trampoline_start);
	params->cr3 = virt_to_phys(boot_pml4);
	params->entry = (uint64_t)(uintptr_t)ap_entry;
	params->stacks = (uint64_t)(uintptr_t)ap_stack_tops;
	params->slots = n;
	params->next = 0;
	params->jump32 += base;
	params->jump64 += base;
	params->gdt_base += base;

	smp_fence_before_ipi();
	for (uint32_t i = 1; i <= n; i++)
		lapic_send_init(cpus[i].apic_id);
	if (init_needs_delay())
		tsc_delay_us(AP_INIT_DELAY_US);
	send_sipis(n, vector);
	wait_for_aps(n, AP_SIPI_DELAY_US);
	send_sipis(n, vector);
	return n;
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
