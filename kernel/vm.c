/* Building VMs from the manifest: RAM, nested page tables, the image
 * (kernel/guest_load.c), vCPUs and devices. RAM is one host-contiguous
 * block, mapped from GPA 0 by nested paging; nothing else is mapped, so any
 * other access is emulated MMIO or stops the VM.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tsc.h"
#include "kernel/bootinfo.h"
#include "kernel/core_loop.h"
#include "kernel/guest_load.h"
#include "kernel/log.h"
#include "kernel/manifest.h"
#include "kernel/debug_port.h"
#include "kernel/mem.h"
#include "kernel/test_irq.h"
#include "kernel/test_mmio.h"
#include "kernel/vdev.h"
#include "kernel/vm.h"
#include "kernel/vmexit.h"
#include "kernel/vplat_devices.h"
#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/nested_pt.h"

#define MIB		 (1024ull * 1024)
#define LARGE_PAGE	 (2 * MIB)
#define VCPU_STACK_BYTES 0x10000

static struct vm vms[MANIFEST_MAX_VMS];
static bool exitless_ready; /* the cores' vector tables exist */
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

/* The devices the hypervisor emulates in this VM (others come with their issues). */
static const char *attach_devices(struct vm *vm, const struct manifest *m,
				  const struct guest_start *start)
{
	const char *why = NULL;

	if (debug_port_attach(vm))
		return "cannot register the debug port";
	if (vcpu_attach_apic_page(vm))
		return "cannot register the local APIC page";
	why = vplat_attach(vm);
	if (why)
		return why;
	for (uint32_t d = 0; d < vm->cfg->ndevices; d++) {
		enum manifest_device_type type = vm->cfg->devices[d].type;

		if ((type == MANIFEST_DEVICE_TEST_MMIO && test_mmio_attach(vm, &why)) ||
		    (type == MANIFEST_DEVICE_TEST_IRQ && test_irq_attach(vm, &why)))
			return why;
	}
	return vdev_attach_all(vm, m, start->acpi_tables);
}

/* vCPU 0 starts as the image's boot protocol says; the others too for
 * guest-shim (RDX = the index, each its own stack VCPU_STACK_BYTES apart
 * below the top of RAM), else they wait for INIT/SIPI. */
static const char *create_vcpus(struct vm *vm, const struct guest_start *start)
{
	uint64_t top = vm->ram_bytes < GUEST_MAPPED_TOP ? vm->ram_bytes : GUEST_MAPPED_TOP;
	unsigned n = vm->cfg->vcpus + vm->cfg->turbo_vcpu;

	if (start->stack_at_top && (uint64_t)n * VCPU_STACK_BYTES >= top)
		return "memory_mib is too small for the stacks of its vCPUs";
	/* only the vCPUs it has: MANIFEST_MAX_VCPUS + 1 in every VM would not fit */
	vm->vcpus = mem_zalloc((uint64_t)n * sizeof(struct vcpu));
	if (!vm->vcpus)
		return "no memory for its vCPUs";
	vm->nvcpus = n;
	vm->turbo_vcpu = vm->cfg->turbo_vcpu ? (int)vm->cfg->vcpus : -1;
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct virt_entry_state entry = start->entry;

		vcpu_init(v, vm, i);
		v->hw = virt->vcpu_create(vm->npt_root, vm->index + 1, vm->index + 1);
		if (!v->hw)
			return "no memory for its vCPUs";
		if (start->stack_at_top)
			entry.rsp = top - i * VCPU_STACK_BYTES;
		virt->vcpu_set_entry(v->hw, &entry);
		v->regs = start->regs;
		if (start->all_vcpus_start)
			v->regs.rdx = i;
		else if (i > 0)
			vcpu_wait_for_sipi(v);
	}
	return NULL;
}

/* Exactly memory_mib: 2 MiB pages, then 4 KiB pages for a tail that is not
 * a multiple of 2 MiB. */
static int map_ram(const struct vm *vm)
{
	uint64_t off = 0;

	for (; off + NESTED_PT_2M <= vm->ram_bytes; off += NESTED_PT_2M)
		if (virt->npt_map(vm->npt_root, off, vm->ram_hpa + off, NESTED_PT_2M))
			return -1;
	for (; off < vm->ram_bytes; off += NESTED_PT_4K)
		if (virt->npt_map(vm->npt_root, off, vm->ram_hpa + off, NESTED_PT_4K))
			return -1;
	return 0;
}

/* A stopped VM's RAM leaves its nested page tables, so none of its vCPUs
 * still running elsewhere can touch it once their TLBs are flushed. */
static void unmap_ram(const struct vm *vm)
{
	uint64_t off = 0;

	for (; off + NESTED_PT_2M <= vm->ram_bytes; off += NESTED_PT_2M)
		virt->npt_unmap(vm->npt_root, off, NESTED_PT_2M);
	for (; off < vm->ram_bytes; off += NESTED_PT_4K)
		virt->npt_unmap(vm->npt_root, off, NESTED_PT_4K);
	virt->npt_flush(vm->npt_root);
}

static uint32_t regular_cores(const struct manifest *m)
{
	uint32_t n = 0;

	for (uint32_t cpu = 0; cpu < cpu_count && cpu < MANIFEST_MAX_CPUS; cpu++)
		n += manifest_cpu_role(m, cpu) == MANIFEST_ROLE_REGULAR;
	return n;
}

/* Device interrupts reach its running vCPUs without an exit when the
 * manifest asks for it, its devices are served by I/O cores, and the guest
 * runs in 64-bit mode (the shadow IDT is found through its page tables).
 *
 * Where only a host interrupt ends a guest's run (SVM: no preemption timer)
 * an exitless vCPU that spins with interrupts off keeps its core: if it
 * waits for another vCPU of its VM queued on the same core (a lock holder,
 * the target of an IPI it waits on), neither ever runs again. A stock Linux
 * did that in 1 of 3 boots with 2 regular vCPUs on one core. So there, the
 * regular vCPUs are exitless only when the VM has no more of them than there
 * are regular cores; the turbo vCPU, which takes the device interrupts, is
 * alone of its VM on the turbo cores and always may be. */
static void use_exitless_delivery(struct vm *vm, const struct manifest *m, bool long_mode)
{
	bool on = m->interrupts == MANIFEST_INTERRUPTS_EXITLESS &&
		  m->io_mode == MANIFEST_IO_SIDECORE && vm->pci && vm->pci->ndev && long_mode &&
		  exitless_ready;
	bool regular_may = virt->deadline_exits_any_guest || vm->cfg->vcpus <= regular_cores(m);

	for (unsigned i = 0; i < vm->nvcpus; i++)
		exitless_vcpu_init(&vm->vcpus[i], on && ((int)i == vm->turbo_vcpu || regular_may));
}

static const char *build_one(struct vm *vm, const struct manifest *m, const struct boot_info *bi)
{
	struct guest_start start;
	const char *err;

	vm->ram_bytes = (uint64_t)vm->cfg->memory_mib * MIB;
	if (vm->ram_bytes > XAPIC_DEFAULT_BASE)
		return "memory_mib reaches the local APIC page at 0xfee00000";
	vm->ram_hpa = mem_alloc_pages(vm->ram_bytes / PAGE_SIZE, LARGE_PAGE / PAGE_SIZE);
	if (!vm->ram_hpa)
		return "no contiguous host memory for its RAM";
	vm->npt_root = virt->npt_create();
	if (!vm->npt_root || map_ram(vm))
		return "no memory for its nested page tables";
	err = guest_load(vm, bi, &start);
	if (!err)
		err = create_vcpus(vm, &start);
	if (!err)
		err = attach_devices(vm, m, &start);
	if (!err)
		use_exitless_delivery(vm, m, start.entry.long_mode);
	return err;
}

/* `@virt`: the backend and whether the CPU virtualizes the APIC itself. */
static void report_virt(void)
{
	bool apicv = virt->apic_virtualization && virt->apic_virtualization();
	struct record r;

	log_printf("virtualization: %s, APIC virtualization %s\n", virt->name,
		   apicv ? "on" : "off");
	record_begin(&r, "virt");
	record_str(&r, "backend", virt->name);
	record_bool(&r, "apic_virtualization", apicv);
	record_emit(&r);
}

unsigned vm_build_all(const struct manifest *m, const struct boot_info *bi)
{
	const char *why = NULL;

	virt = virt_detect(&why);
	if (virt)
		report_virt();
	exitless_ready = virt && virt->vcpu_set_delivery && !exitless_init();
	for (uint32_t i = 0; i < m->nvms; i++) {
		struct vm *vm = &vms[nvms];
		const char *err;

		if (!m->vms[i].valid)
			continue;
		if (!virt) {
			report_vm_error(m->vms[i].name, why);
			continue;
		}
		*vm = (struct vm){.cfg = &m->vms[i], .index = nvms};
		err = build_one(vm, m, bi);
		if (err) {
			report_vm_error(m->vms[i].name, err);
			continue;
		}
		nvms++;
	}
	return nvms;
}

struct vcpu *vm_device_irq_target(struct vm *vm)
{
	return vm->turbo_vcpu >= 0 ? &vm->vcpus[vm->turbo_vcpu] : &vm->vcpus[0];
}

void *vm_ram(const struct vm *vm, uint64_t gpa, uint64_t bytes)
{
	if (gpa >= vm->ram_bytes || bytes > vm->ram_bytes - gpa)
		return NULL;
	return (uint8_t *)phys_to_virt(vm->ram_hpa) + gpa;
}

unsigned vm_count(void)
{
	return nvms;
}

struct vm *vm_get(unsigned i)
{
	return &vms[i];
}

/* Exits per reason and the APIC's work, summed over the vCPUs. */
static void record_vcpu_sums(struct record *r, const struct vm *vm)
{
	uint64_t exits[VIRT_EXIT_COUNT] = {0}, irqs = 0, timer = 0, ipis = 0, clamped = 0;
	char key[32];

	for (unsigned v = 0; v < vm->nvcpus; v++) {
		const struct vcpu *c = &vm->vcpus[v];

		for (unsigned i = 0; i < VIRT_EXIT_COUNT; i++)
			exits[i] += c->exits[i];
		irqs += c->irqs_injected;
		timer += c->lapic.timer_fired;
		ipis += c->lapic.ipis_sent;
		clamped += c->lapic.timer_clamped;
	}
	for (unsigned i = 0; i < VIRT_EXIT_COUNT; i++) {
		snprintf(key, sizeof(key), "exit_%s", vmexit_reason_name(i));
		record_uint(r, key, exits[i]);
	}
	record_uint(r, "irqs", irqs);
	record_uint(r, "timer_irqs", timer);
	record_uint(r, "ipis", ipis);
	record_uint(r, "ratelimited_timer", clamped);
	record_uint(r, "ratelimited_log", __atomic_load_n(&vm->log_dropped, __ATOMIC_RELAXED));
	exitless_record_sums(r, vm);
}

/* Token buckets in characters x 10^6 (one character a second is one token a
 * microsecond), topped up from the TSC at each use; they start full. */
bool vm_log_allowed(struct vm *vm, enum vm_log_kind kind, uint64_t chars)
{
	uint64_t per_s = kind == VM_LOG_TEXT ? VM_LOG_TEXT_CHARS_PER_S
					     : (uint64_t)VM_LOG_REPORT_CHARS_PER_S * vm->nvcpus;
	uint64_t burst =
		(uint64_t)(kind == VM_LOG_TEXT ? VM_LOG_TEXT_BURST : VM_LOG_REPORT_BURST) * 1000000;
	uint64_t now = rdtsc(), flags = spin_lock_irqsave(&vm->log_lock);
	uint64_t *credit = &vm->log_credit[kind];
	bool ok;

	if (!vm->log_tsc[kind]) {
		*credit = burst;
	} else {
		uint64_t us = tsc_to_us(now - vm->log_tsc[kind]);

		*credit += us < burst / per_s ? us * per_s : burst;
		if (*credit > burst)
			*credit = burst;
	}
	vm->log_tsc[kind] = now;
	if (chars > burst / 1000000) /* more than a full budget: one whole budget */
		chars = burst / 1000000;
	ok = chars <= *credit / 1000000;
	if (ok)
		*credit -= chars * 1000000;
	else
		vm->log_dropped++;
	spin_unlock_irqrestore(&vm->log_lock, flags);
	return ok;
}

/* As kernel/log.c writes them: "[name] " and CR LF for each piece between
 * newlines, a backslash doubled, other bytes outside printable ASCII as \xNN. */
uint64_t vm_guest_text_chars(const struct vm *vm, const char *bytes, uint64_t len)
{
	uint64_t line = strlen(vm->cfg->name) + 3 + 2, chars = line;

	for (uint64_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)bytes[i];

		if (c == '\n')
			chars += i + 1 < len ? line : 0;
		else
			chars += c == '\\' ? 2 : c < 0x20 || c >= 0x7f ? 4 : 1;
	}
	return chars;
}

void vm_report_stats(const struct vm *vm, const char *type)
{
	uint64_t regular_us, turbo_us;
	struct record r;

	record_begin(&r, type);
	record_str(&r, "vm", vm->cfg->name);
	record_uint(&r, "cpu", vm->vcpus[0].cpu);
	record_uint(&r, "vcpus", vm->nvcpus);
	record_vcpu_sums(&r, vm);
	core_loop_vm_usage(vm, &regular_us, &turbo_us);
	record_uint(&r, "regular_us", regular_us);
	record_uint(&r, "turbo_us", turbo_us);
	if (vm->first_hypercall_tsc)
		record_uint(&r, "first_hypercall_us",
			    tsc_to_us(vm->first_hypercall_tsc - vm->start_tsc));
	record_emit(&r);
}

void vm_stop(struct vm *vm, const char *reason, uint64_t rip)
{
	struct record r;

	if (__atomic_exchange_n(&vm->state, VM_STOPPED, __ATOMIC_ACQ_REL) == VM_STOPPED)
		return; /* another of its vCPUs stopped it first */
	log_printf("VM %s stopped: %s (guest RIP 0x%llx)\n", vm->cfg->name, reason,
		   (unsigned long long)rip);
	record_begin(&r, "vm_stopped");
	record_str(&r, "vm", vm->cfg->name);
	record_str(&r, "reason", reason);
	record_hex(&r, "rip", rip);
	record_emit(&r);
	vm_report_stats(vm, "vm_stats");
	vdev_report_stats(vm, true);
	if (vm->npt_root)
		unmap_ram(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	__atomic_fetch_add(&vms_stopped, 1, __ATOMIC_RELEASE);
}

bool vm_all_stopped(void)
{
	return __atomic_load_n(&vms_stopped, __ATOMIC_ACQUIRE) == nvms;
}
