/* corevisor's boot sequence (design.md, data flow 1): multiboot2 entry → long
 * mode (entry.S) → boot information and console → memory map → allocator →
 * ACPI → host PCI → IOMMU → timers → manifest → APs → boot_done. Each step reports on the
 * console; a step that fails says why. */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/pic8259.h"
#include "arch/x86_64/power.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/vtd/vtd.h"
#include "kernel/bootinfo.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/core_loop.h"
#include "kernel/host_pci.h"
#include "kernel/iommu_selftest.h"
#include "kernel/lockstat.h"
#include "kernel/log.h"
#include "kernel/mem.h"
#include "kernel/panic.h"
#include "kernel/platform.h"
#include "kernel/selftest.h"
#include "kernel/host_ahci.h"
#include "kernel/manifest.h"
#include "kernel/vm.h"
#include "kernel/wallclock.h"

#define COREVISOR_VERSION    "0.1.0"
#define TIMER_SELFTEST_US    500
#define AP_REPORT_TIMEOUT_US 2000000
#define AP_STRAGGLER_US	     10000 /* a kicked AP's time to give up and report */

static volatile uint32_t cpus_reported;
static uint64_t cpu_timer_us[MAX_CPUS]; /* each CPU's timer self-test */
static bool cpu_tested[MAX_CPUS];
static volatile bool vms_released;
static int vms_done_claimed;

static void report_hello(void)
{
	struct record r;

	record_begin(&r, "hello");
	record_str(&r, "version", COREVISOR_VERSION);
	record_str(&r, "cmdline", boot_info.cmdline);
	console_record_fields(&r);
	record_emit(&r);
}

static void report_memory(void)
{
	struct mem_stats s;
	struct record r;
	const char *why = NULL;
	bool ok = mem_selftest(&boot_info, &why);

	mem_get_stats(&s);
	log_printf("memory: %llu KiB usable in %u regions, %llu pages free, self-test %s\n",
		   (unsigned long long)(s.usable_bytes >> 10), s.regions,
		   (unsigned long long)s.free_pages, ok ? "ok" : why);
	record_begin(&r, "memory");
	record_uint(&r, "usable_kib", s.usable_bytes >> 10);
	record_uint(&r, "reserved_kib", s.reserved_bytes >> 10);
	record_uint(&r, "free_pages", s.free_pages);
	record_uint(&r, "regions", s.regions);
	record_hex(&r, "direct_map_end", paging_direct_map_end());
	record_str(&r, "selftest", ok ? "ok" : why);
	record_emit(&r);
}

/* An AP's timer_selftest, halted rather than polling while it waits: the APs
 * test theirs all at once, and under an emulator with fewer host cores than
 * CPUs (QEMU TCG) polling ones would starve each other. If the timer never
 * fires, the boot CPU's kick after AP_REPORT_TIMEOUT_US ends it (0 us). */
static uint64_t ap_timer_selftest(uint64_t delay_us)
{
	struct cpu *c = this_cpu();
	uint64_t start = rdtsc();
	uint64_t give_up = start + tsc_from_us(delay_us * 100);

	timer_arm_deadline(start + tsc_from_us(delay_us));
	while (!c->timer_fired_tsc && rdtsc() < give_up)
		cpu_wait_for_interrupt();
	timer_cancel();
	return c->timer_fired_tsc ? tsc_to_us(c->timer_fired_tsc - start) : 0;
}

/* Every CPU, once up: proves its timer works. The APs do it all at once, and
 * each wakes the boot CPU when done. */
static void cpu_test_timer(void)
{
	uint32_t i = this_cpu()->index;

	timer_init_cpu();
	cpu_timer_us[i] =
		i ? ap_timer_selftest(TIMER_SELFTEST_US) : timer_selftest(TIMER_SELFTEST_US);
	__atomic_store_n(&cpu_tested[i], true, __ATOMIC_RELEASE);
	__atomic_fetch_add(&cpus_reported, 1, __ATOMIC_RELEASE);
	if (i) {
		smp_fence_before_ipi();
		lapic_send_ipi(cpus[0].apic_id, VEC_KICK);
	}
}

/* The boot CPU waits, halted, until CPU i has tested its timer (its kick wakes
 * us) or the deadline has passed (our own timer does then). */
static bool wait_for_cpu(uint32_t i, uint64_t deadline)
{
	while (!__atomic_load_n(&cpu_tested[i], __ATOMIC_ACQUIRE) && rdtsc() < deadline) {
		timer_arm_deadline(deadline); /* again if it fired early (a capped count) */
		cpu_wait_for_interrupt();
	}
	timer_cancel();
	return __atomic_load_n(&cpu_tested[i], __ATOMIC_ACQUIRE);
}

/* Announces CPU i, its role and its timer. The boot CPU does it for every CPU,
 * in index order, so that the boot prints the same whichever AP came up first. */
static void cpu_announce(uint32_t i)
{
	const struct cpu *c = &cpus[i];
	uint64_t timer_us = cpu_timer_us[i];
	struct record r;

	log_printf("cpu %u online: APIC id %u, role %s, %s, timer %s %llu us\n", c->index,
		   c->apic_id, config_cpu_role(c->index), lapic_is_x2apic() ? "x2APIC" : "xAPIC",
		   timer_kind(), (unsigned long long)timer_us);
	record_begin(&r, "cpu_online");
	record_uint(&r, "cpu", c->index);
	record_uint(&r, "apic_id", c->apic_id);
	record_str(&r, "role", config_cpu_role(c->index));
	record_bool(&r, "x2apic", lapic_is_x2apic());
	record_str(&r, "timer", timer_kind());
	record_uint(&r, "timer_us", timer_us);
	record_emit(&r);
}

static void flush_tlb_on_kick(struct trap_frame *tf)
{
	(void)tf;
	write_cr3(read_cr3());
}

static __attribute__((noreturn)) void cpu_idle(void)
{
	for (;;)
		cpu_wait_for_interrupt();
}

static __attribute__((noreturn)) void report_and_power_off(const char *reason);

/* Runs this CPU's VMs; the CPU that sees the last VM stop powers the machine
 * off if the manifest asks for that. */
static __attribute__((noreturn)) void run_vms_then_idle(void)
{
	core_loop_run(config_manifest());
	if (vm_all_stopped() && !__atomic_exchange_n(&vms_done_claimed, 1, __ATOMIC_ACQ_REL) &&
	    config_manifest()->poweroff == MANIFEST_POWEROFF_WHEN_VMS_DONE)
		report_and_power_off("manifest: poweroff when_vms_done");
	cpu_idle();
}

static void ap_main(void)
{
	cpu_test_timer();
	while (!vms_released) /* the kick IPI that follows the release wakes us */
		cpu_wait_for_interrupt();
	run_vms_then_idle();
}

/* VMs are built on the boot CPU, then every CPU runs the ones placed on it. */
static __attribute__((noreturn)) void start_vms(void)
{
	char lock_mode[8];
	struct core_loop_opts opts = {
		.one_lock = boot_cmdline_value(&boot_info, "sched_lock", lock_mode,
					       sizeof(lock_mode)) &&
			    !strcmp(lock_mode, "global"),
		.lock_stats = boot_cmdline_has(&boot_info, "lockstat"),
	};

	if (vm_build_all(config_manifest(), &boot_info) && core_loop_init(config_manifest(), &opts))
		log_printf("scheduler: not every VM could be scheduled\n");
	vms_released = true;
	for (uint32_t i = 1; i < cpu_count; i++)
		if (cpus[i].online)
			lapic_send_ipi(cpus[i].apic_id, VEC_KICK);
	run_vms_then_idle();
}

/* Starts the APs (they all test their timers at once as they come up), waits
 * for each in turn and announces it, so that the boot prints the same
 * whichever finished first, then drops the identity map the trampoline needed
 * (the kick makes every CPU flush its TLB). */
static void start_secondary_cpus(void)
{
	uint64_t deadline;
	bool kicked = false;

	cpu_test_timer();
	cpu_announce(0);
	smp_start_aps(platform_trampoline_page(), ap_main);
	deadline = rdtsc() + tsc_from_us(AP_REPORT_TIMEOUT_US);
	for (uint32_t i = 1; i < cpu_count; i++) {
		if (!wait_for_cpu(i, deadline) && !kicked) {
			/* halted stragglers give up their timer test at the kick */
			for (uint32_t j = i; j < cpu_count; j++)
				if (cpus[j].online &&
				    !__atomic_load_n(&cpu_tested[j], __ATOMIC_ACQUIRE))
					lapic_send_ipi(cpus[j].apic_id, VEC_KICK);
			kicked = true;
			deadline = rdtsc() + tsc_from_us(AP_STRAGGLER_US);
			wait_for_cpu(i, deadline);
		}
		if (__atomic_load_n(&cpu_tested[i], __ATOMIC_ACQUIRE))
			cpu_announce(i);
		else
			log_printf("cpu %u (APIC id %u) %s\n", i, cpus[i].apic_id,
				   cpus[i].online ? "did not finish its timer test"
						  : "did not start");
	}
	paging_drop_identity_map();
	for (uint32_t i = 1; i < cpu_count; i++)
		if (cpus[i].online)
			lapic_send_ipi(cpus[i].apic_id, VEC_KICK);
}

static void report_boot_done(void)
{
	uint64_t boot_us = tsc_to_us(rdtsc() - boot_entry_tsc);
	struct record r;

	log_printf("boot done in %llu us (TSC %llu kHz), %u CPUs\n", (unsigned long long)boot_us,
		   (unsigned long long)tsc_khz, cpus_reported);
	record_begin(&r, "boot_done");
	record_uint(&r, "tsc_khz", tsc_khz);
	record_uint(&r, "boot_us", boot_us);
	record_uint(&r, "cpus", cpus_reported);
	record_emit(&r);
}

static void report_and_power_off(const char *reason)
{
	struct record r;

	lockstat_report(true);
	vtd_check_faults();
	log_printf("powering off: %s\n", reason);
	record_begin(&r, "poweroff");
	record_str(&r, "reason", reason);
	record_emit(&r);
	power_off(0);
}

void kmain(uint64_t magic, uint64_t mbi_phys);
void kmain(uint64_t magic, uint64_t mbi_phys)
{
	const char *err;

	err = multiboot2_parse(magic, mbi_phys, &boot_info);
	console_init(&boot_info); /* the command line picks the console */
	pic8259_disable();
	idt_init();
	cpu_setup(&cpus[0]);
	cpus[0].online = true;
	log_printf("corevisor %s\n", COREVISOR_VERSION);
	if (err)
		panic("%s", err);
	report_hello();
	err = mem_init(&boot_info);
	if (err)
		panic("%s", err);
	report_memory();

	platform_init(&boot_info);
	host_pci_init(platform_acpi());
	vtd_init(platform_acpi(), &boot_info);
	iommu_selftest_run(&boot_info);
	tsc_calibrate();
	wallclock_init();
	timer_init_bsp();
	irq_register(VEC_KICK, flush_tlb_on_kick);

	if (!config_load(&boot_info))
		platform_halt("manifest rejected");
	host_ahci_init(config_manifest());
	start_secondary_cpus();
	report_boot_done();
	selftest_run(&boot_info);
	if (config_poweroff_after_boot())
		report_and_power_off("manifest: poweroff after_boot");
	start_vms();
}
