/* Building VMs from the manifest and running them.
 *
 * Guest entry state (docs/architecture.md): the image's ELF segments at their
 * physical addresses; 64-bit mode with page tables at GUEST_PAGE_TABLES that
 * identity-map the first GiB with 2 MiB pages; RSP at the top of RAM (or of
 * that GiB); RDI = the guest-physical address of the command line, RSI = the
 * RAM size in bytes. RAM is one host-contiguous block, mapped from GPA 0 by
 * nested paging; nothing else is mapped, so any other access stops the VM.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/tsc.h"
#include "kernel/bootinfo.h"
#include "kernel/elf.h"
#include "kernel/log.h"
#include "kernel/manifest.h"
#include "kernel/debug_port.h"
#include "kernel/mem.h"
#include "kernel/test_mmio.h"
#include "kernel/vm.h"
#include "kernel/vmexit.h"

#define MIB		  (1024ull * 1024)
#define LARGE_PAGE	  (2 * MIB)
#define GUEST_PAGE_TABLES 0x10000 /* PML4, PDPT, PD: three pages */
#define GUEST_CMDLINE	  0x13000
#define GUEST_IMAGE_MIN	  0x100000 /* images load at 1 MiB or above */
#define GUEST_MAPPED_TOP  (1ull << 30)
#define PTE_P_W		  0x003ull
#define PTE_LARGE	  0x083ull

static struct vm vms[MANIFEST_MAX_VMS];
static unsigned nvms;
static unsigned vms_stopped;
static const struct virt_ops *virt;

const struct virt_ops *vm_virt(void)
{
	return virt;
}

static void report_vm_error(const char *name, const char *reason)
{
	struct record r;

	log_printf("VM %s not started: %s\n", name, reason);
	record_begin(&r, "vm_stopped");
	record_str(&r, "vm", name);
	record_str(&r, "reason", reason);
	record_emit(&r);
}

static void build_guest_page_tables(uint8_t *ram)
{
	uint64_t *pml4 = (uint64_t *)(ram + GUEST_PAGE_TABLES);
	uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;

	pml4[0] = (GUEST_PAGE_TABLES + 0x1000) | PTE_P_W;
	pdpt[0] = (GUEST_PAGE_TABLES + 0x2000) | PTE_P_W;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i * LARGE_PAGE) | PTE_LARGE;
}

static const char *load_guest(struct vm *vm, const struct boot_info *bi, uint64_t *entry)
{
	static char err[96];
	const struct boot_module *mod = boot_find_module(bi, vm->cfg->image);
	uint8_t *ram = phys_to_virt(vm->ram_hpa);
	char why[64];

	memset(ram, 0, vm->ram_bytes);
	if (elf_load(phys_to_virt(mod->start), mod->end - mod->start, ram, vm->ram_bytes,
		     GUEST_IMAGE_MIN, entry, why, sizeof(why))) {
		snprintf(err, sizeof(err), "image \"%s\": %s", vm->cfg->image, why);
		return err;
	}
	build_guest_page_tables(ram);
	memcpy(ram + GUEST_CMDLINE, vm->cfg->cmdline, strlen(vm->cfg->cmdline) + 1);
	return NULL;
}

/* The devices the hypervisor emulates in this VM (others come with their issues). */
static const char *attach_devices(struct vm *vm)
{
	const char *why = NULL;

	if (debug_port_attach(vm))
		return "cannot register the debug port";
	for (uint32_t d = 0; d < vm->cfg->ndevices; d++)
		if (vm->cfg->devices[d].type == MANIFEST_DEVICE_TEST_MMIO &&
		    test_mmio_attach(vm, &why))
			return why;
	return NULL;
}

static const char *build_one(struct vm *vm, const struct boot_info *bi)
{
	struct virt_entry_state entry = {0};
	uint64_t top;
	const char *err;

	vm->ram_bytes = ((uint64_t)vm->cfg->memory_mib * MIB + LARGE_PAGE - 1) & ~(LARGE_PAGE - 1);
	vm->ram_hpa = mem_alloc_pages(vm->ram_bytes / PAGE_SIZE, LARGE_PAGE / PAGE_SIZE);
	if (!vm->ram_hpa)
		return "no contiguous host memory for its RAM";
	vm->npt_root = virt->npt_create();
	if (!vm->npt_root)
		return "no memory for its nested page tables";
	for (uint64_t off = 0; off < vm->ram_bytes; off += LARGE_PAGE)
		if (virt->npt_map_2m(vm->npt_root, off, vm->ram_hpa + off))
			return "no memory for its nested page tables";
	err = load_guest(vm, bi, &entry.rip);
	if (err)
		return err;
	vm->vcpu = virt->vcpu_create(vm->npt_root, vm->index + 1, vm->index + 1);
	if (!vm->vcpu)
		return "no memory for its vCPU";
	top = vm->ram_bytes < GUEST_MAPPED_TOP ? vm->ram_bytes : GUEST_MAPPED_TOP;
	entry.rsp = top;
	entry.cr3 = GUEST_PAGE_TABLES;
	entry.long_mode = true;
	virt->vcpu_set_entry(vm->vcpu, &entry);
	vm->regs.rdi = GUEST_CMDLINE;
	vm->regs.rsi = vm->ram_bytes;
	return attach_devices(vm);
}

/* VM i runs on the i-th regular core, round robin. */
static uint32_t place(const struct manifest *m, unsigned i)
{
	uint32_t regular[MAX_CPUS], n = 0;

	for (uint32_t c = 0; c < cpu_count; c++)
		if (manifest_cpu_role(m, c) == MANIFEST_ROLE_REGULAR)
			regular[n++] = c;
	return n ? regular[i % n] : 0;
}

unsigned vm_build_all(const struct manifest *m, const struct boot_info *bi)
{
	const char *why = NULL;

	virt = virt_detect(&why);
	for (uint32_t i = 0; i < m->nvms; i++) {
		struct vm *vm = &vms[nvms];
		const char *err;

		if (!m->vms[i].valid)
			continue;
		if (!virt) {
			report_vm_error(m->vms[i].name, why);
			continue;
		}
		*vm = (struct vm){.cfg = &m->vms[i], .index = nvms, .cpu = place(m, nvms)};
		err = build_one(vm, bi);
		if (err) {
			report_vm_error(m->vms[i].name, err);
			continue;
		}
		nvms++;
	}
	return nvms;
}

/* `@vm_stats` when a VM stops, `@stats` periodically while it runs. */
static void report_stats(const struct vm *vm, const char *type)
{
	struct record r;
	char key[32];

	record_begin(&r, type);
	record_str(&r, "vm", vm->cfg->name);
	record_uint(&r, "cpu", vm->cpu);
	for (unsigned i = 0; i < VIRT_EXIT_COUNT; i++) {
		snprintf(key, sizeof(key), "exit_%s", vmexit_reason_name(i));
		record_uint(&r, key, vm->exits[i]);
	}
	if (vm->first_hypercall_tsc)
		record_uint(&r, "first_hypercall_us",
			    tsc_to_us(vm->first_hypercall_tsc - vm->start_tsc));
	record_emit(&r);
}

void vm_stop(struct vm *vm, const char *reason, uint64_t rip)
{
	struct record r;

	vm->state = VM_STOPPED;
	log_printf("VM %s stopped: %s (guest RIP 0x%llx)\n", vm->cfg->name, reason,
		   (unsigned long long)rip);
	record_begin(&r, "vm_stopped");
	record_str(&r, "vm", vm->cfg->name);
	record_str(&r, "reason", reason);
	record_hex(&r, "rip", rip);
	record_emit(&r);
	report_stats(vm, "vm_stats");
	__atomic_fetch_add(&vms_stopped, 1, __ATOMIC_RELEASE);
}

bool vm_all_stopped(void)
{
	return __atomic_load_n(&vms_stopped, __ATOMIC_ACQUIRE) == nvms;
}

/* What one CPU needs while it time-slices its VMs. */
struct cpu_run {
	uint64_t slice;	      /* TSC cycles */
	uint64_t stats_every; /* TSC cycles; 0: no periodic stats */
	uint64_t next_stats;
	struct vm *mine[MANIFEST_MAX_VMS];
	unsigned n;
};

static void report_periodic_stats(struct cpu_run *cr, uint64_t now)
{
	for (unsigned i = 0; i < cr->n; i++)
		if (cr->mine[i]->state != VM_STOPPED)
			report_stats(cr->mine[i], "stats");
	cr->next_stats = now + cr->stats_every;
}

/* Runs a VM until its slice ends or it stops. A stand-in for the two-class
 * scheduler (issue 4): round robin over the VMs placed on this CPU. */
static void run_slice(struct vm *vm, struct cpu_run *cr)
{
	uint64_t slice_end = rdtsc() + cr->slice;
	struct virt_exit exit;

	vm->state = VM_RUNNING;
	if (!vm->start_tsc)
		vm->start_tsc = rdtsc();
	for (;;) {
		uint64_t now = rdtsc();

		if (cr->stats_every && now >= cr->next_stats)
			report_periodic_stats(cr, now);
		if (now >= slice_end)
			return;
		virt->vcpu_run(vm->vcpu, &vm->regs, &exit,
			       slice_end < cr->next_stats ? slice_end : cr->next_stats);
		if (!vmexit_handle(vm, &exit))
			return;
	}
}

static unsigned collect_mine(const struct manifest *m, struct cpu_run *cr)
{
	uint32_t self = this_cpu()->index;

	cr->n = 0;
	for (unsigned i = 0; i < nvms; i++)
		if (vms[i].cpu == self)
			cr->mine[cr->n++] = &vms[i];
	cr->slice = tsc_from_us(m->regular_slice_us);
	cr->stats_every = tsc_from_us((uint64_t)m->stats_interval_ms * 1000);
	cr->next_stats = cr->stats_every ? rdtsc() + cr->stats_every : ~0ull;
	return cr->n;
}

void vm_run_this_cpu(const struct manifest *m)
{
	struct cpu_run cr;
	unsigned running;

	if (!collect_mine(m, &cr))
		return;
	if (virt->cpu_enable()) {
		for (unsigned i = 0; i < cr.n; i++)
			vm_stop(cr.mine[i], "this CPU cannot enable virtualization", 0);
		return;
	}
	do {
		running = 0;
		for (unsigned i = 0; i < cr.n; i++) {
			if (cr.mine[i]->state == VM_STOPPED)
				continue;
			run_slice(cr.mine[i], &cr);
			running += cr.mine[i]->state != VM_STOPPED;
		}
	} while (running);
	timer_cancel();
}
