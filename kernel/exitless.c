/* Exitless interrupt delivery: the kernel's side (kernel/exitless.h has the
 * invariants; vio/exitless.c the vector tables and the shadow builder). */
#include <string.h>

#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/guest_walk.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "kernel/exitless.h"
#include "kernel/log.h"
#include "kernel/mem.h"
#include "kernel/mmio.h"
#include "kernel/vcpu.h"
#include "kernel/vm.h"
#include "vio/exitless.h"

#define IDT_FULL_LIMIT (IDT_VECTORS * IDT_GATE_BYTES - 1)

/* Each core's physical vectors, allocated by the core itself. */
static struct exitless_vectors *core_vectors[MAX_CPUS];

static int32_t owner_id(const struct vcpu *v)
{
	return (int32_t)(v->vm->index << 8 | v->id);
}

static struct vcpu *owner_vcpu(int32_t id)
{
	unsigned vm = (unsigned)id >> 8, vcpu = (unsigned)id & 0xff;

	if (vm >= vm_count() || vcpu >= vm_get(vm)->nvcpus)
		return NULL;
	return &vm_get(vm)->vcpus[vcpu];
}

static bool wants(const uint32_t *set, uint8_t vector)
{
	return __atomic_load_n(&set[vector / 32], __ATOMIC_RELAXED) & (1u << (vector % 32));
}

static bool wants_any(const struct vcpu_exitless *e)
{
	for (int i = 0; i < 8; i++)
		if (__atomic_load_n(&e->wanted[i], __ATOMIC_RELAXED))
			return true;
	return false;
}

/* The highest vector in service on this CPU's APIC, or -1. */
static int physical_in_service(void)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t isr = lapic_read(APIC_ISR + (uint32_t)i * 0x10);

		if (isr)
			return i * 32 + 31 - __builtin_clz(isr);
	}
	return -1;
}

/* --- the host's side: an exitless IPI that found its vCPU gone ----------- */

/* On the host's IDT for every exitless vector, and called for one that met
 * a shadow's not-present gate: the vCPU it was allocated to gets it through
 * its virtual APIC (IRR, wake-up, kick), wherever it is now. */
static void exitless_host_irq(struct trap_frame *tf)
{
	struct exitless_vectors *t = core_vectors[this_cpu()->index];
	struct vcpu *v;
	int32_t owner;
	uint8_t vector;

	if (!t || !exitless_vector_owner(t, (uint8_t)tf->vector, &owner, &vector) ||
	    !(v = owner_vcpu(owner)))
		return;
	__atomic_fetch_add(&v->eli.missed, 1, __ATOMIC_RELAXED);
	vcpu_interrupt(v, vector);
}

int exitless_init(void)
{
	for (uint32_t c = 0; c < cpu_count; c++) {
		uint64_t pa;

		if (!cpus[c].online)
			continue;
		pa = mem_alloc_pages((sizeof(struct exitless_vectors) + PAGE_SIZE - 1) / PAGE_SIZE,
				     1);
		if (!pa)
			return -1;
		core_vectors[c] = phys_to_virt(pa);
		exitless_vectors_init(core_vectors[c]);
	}
	for (unsigned v = EXITLESS_VEC_FIRST; v <= EXITLESS_VEC_LAST; v++)
		irq_register((uint8_t)v, exitless_host_irq);
	return 0;
}

void exitless_vcpu_init(struct vcpu *v, bool enabled)
{
	struct vcpu_exitless *e = &v->eli;

	memset(e, 0, sizeof(*e));
	e->id = owner_id(v);
	e->core = -1;
	e->enabled = enabled && vm_virt()->vcpu_set_delivery;
}

/* --- the sender's side ----------------------------------------------------- */

bool exitless_send(struct vcpu *v, uint8_t vector)
{
	struct vcpu_exitless *e = &v->eli;
	int core, pv;

	if (!e->enabled)
		return false;
	if (!wants(e->wanted, vector))
		__atomic_fetch_or(&e->wanted[vector / 32], 1u << (vector % 32), __ATOMIC_RELAXED);
	/* Loaded on a core, in guest mode or between an exit and its next
	 * entry: the IPI then waits in that core's APIC and reaches the guest
	 * at the entry (or the host handles it, exitless_host_irq). */
	core = __atomic_load_n(&v->running_on, __ATOMIC_ACQUIRE);
	if (core < 0 || (uint32_t)core == this_cpu()->index || !core_vectors[core])
		return false;
	pv = exitless_vector_find(core_vectors[core], e->id, vector);
	if (pv < 0)
		return false; /* its core allocates one at the vCPU's next entry */
	lapic_send_ipi(cpus[core].apic_id, (uint8_t)pv);
	__atomic_fetch_add(&e->sent, 1, __ATOMIC_RELAXED);
	return true;
}

/* --- the shadow IDT ---------------------------------------------------------- */

/* Marks the VM's shadows stale and makes the vCPUs that run one leave the
 * guest, so each rebuilds its own before it enters again. */
static void shadows_stale(struct vm *vm)
{
	__atomic_fetch_add(&vm->eli.generation, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (__atomic_load_n(&vm->vcpus[i].eli.in_guest, __ATOMIC_ACQUIRE))
			vcpu_kick(&vm->vcpus[i]);
}

/* One more (or one fewer) shadow of guest page `gpa`: the first makes it
 * read-only in the VM's root, the last writable again. Under the lock. */
static bool page_use(struct vm *vm, uint64_t gpa, int delta)
{
	struct vm_exitless *x = &vm->eli;
	int free = -1;

	for (int i = 0; i < EXITLESS_MAX_IDT_PAGES; i++) {
		if (x->users[i] && x->page[i] == gpa) {
			x->users[i] += (unsigned)delta;
			if (x->users[i])
				return false;
			vm_virt()->npt_protect(vm->npt_root, gpa, true);
			return true;
		}
		if (!x->users[i] && free < 0)
			free = i;
	}
	if (delta < 0 || free < 0)
		return false;
	x->page[free] = gpa;
	x->users[free] = 1;
	vm_virt()->npt_protect(vm->npt_root, gpa, false);
	return true;
}

/* The vCPU's shadowed pages become `gpa[0..n)`. A change of the VM's
 * read-only pages flushes its root and makes every other shadow stale: a
 * clone's own tables copied the old permissions. */
static void set_idt_pages(struct vcpu *v, const uint64_t *gpa, unsigned n)
{
	struct vcpu_exitless *e = &v->eli;
	struct vm *vm = v->vm;
	uint64_t flags = spin_lock_irqsave(&vm->eli.lock);
	bool changed = false;

	for (unsigned i = 0; i < n; i++)
		changed |= page_use(vm, gpa[i], 1);
	for (unsigned i = 0; i < e->npages; i++)
		changed |= page_use(vm, e->idt_gpa[i], -1);
	spin_unlock_irqrestore(&vm->eli.lock, flags);
	memcpy(e->idt_gpa, gpa, n * sizeof(*gpa));
	e->npages = n;
	if (changed) {
		vm_virt()->npt_flush(vm->npt_root);
		shadows_stale(vm);
	}
}

/* The guest-physical address of the IDT, which must be one contiguous RAM
 * range; -1 when it is not (then no exitless entry). */
static int64_t idt_address(struct vcpu *v, uint64_t base, uint16_t limit)
{
	uint64_t first, last, cr3 = vm_virt()->vcpu_cr3(v->hw);

	if (guest_walk(cr3, base, mmio_guest_read64, v->vm, &first) ||
	    guest_walk(cr3, base + limit, mmio_guest_read64, v->vm, &last) ||
	    last - first != limit || last >= v->vm->ram_bytes)
		return -1;
	return (int64_t)first;
}

/* The gates of this core's vectors for the vCPU's wanted guest vectors. */
static void assign_gates(struct vcpu_exitless *e, struct exitless_vectors *t,
			 const uint32_t *wanted)
{
	memset(e->gate_of, 0, sizeof(e->gate_of));
	for (unsigned g = 0; g < IDT_VECTORS; g++) {
		int pv;

		if (!(wanted[g / 32] & (1u << (g % 32))))
			continue;
		pv = exitless_vector_alloc(t, e->id, (uint8_t)g);
		if (pv >= 0)
			e->gate_of[pv] = (uint8_t)g;
	}
}

/* Builds the shadow for the guest's IDT at `base` (limit `limit`) and this
 * core's vectors, and the clone that maps it. */
static bool shadow_build(struct vcpu *v, uint64_t base, uint16_t limit, const uint32_t *wanted)
{
	struct vcpu_exitless *e = &v->eli;
	struct vm *vm = v->vm;
	int64_t at = limit == IDT_FULL_LIMIT ? idt_address(v, base, limit) : -1;
	uint64_t gpa[2], hpa[2];
	unsigned n;

	if (at < 0) {
		set_idt_pages(v, gpa, 0);
		return false;
	}
	/* only a vCPU that devices interrupt gets a shadow (and, in
	 * nested_pt_clone, its tables): in most VMs one */
	if (!e->shadow_hpa && !(e->shadow_hpa = mem_alloc_pages(2, 1)))
		return false;
	hpa[0] = e->shadow_hpa;
	hpa[1] = e->shadow_hpa + PAGE_SIZE;
	gpa[0] = (uint64_t)at & ~(PAGE_SIZE - 1);
	n = (((uint64_t)at + limit) >> 12) - ((uint64_t)at >> 12) + 1;
	gpa[1] = gpa[0] + PAGE_SIZE;
	if (n != e->npages || memcmp(gpa, e->idt_gpa, n * sizeof(*gpa)))
		set_idt_pages(v, gpa, n);
	e->built_generation = __atomic_load_n(&vm->eli.generation, __ATOMIC_ACQUIRE);
	assign_gates(e, core_vectors[this_cpu()->index], wanted);
	exitless_shadow_build(phys_to_virt(e->shadow_hpa),
			      (const uint8_t *)phys_to_virt(vm->ram_hpa) + gpa[0], n * PAGE_SIZE,
			      (uint64_t)at & (PAGE_SIZE - 1), limit, e->gate_of);
	if (vm_virt()->npt_clone(&e->npt, vm->npt_root, gpa, hpa, n))
		return false;
	e->flush = true;
	e->idt_builds++;
	return true;
}

/* The shadow fits this core, the guest's IDTR, its IDT's contents and the
 * vectors its devices use; rebuilt when one of them changed. */
static bool shadow_ready(struct vcpu *v)
{
	struct vcpu_exitless *e = &v->eli;
	int core = (int)this_cpu()->index;
	uint32_t wanted[8];
	uint16_t limit;
	uint64_t base = vm_virt()->vcpu_idtr(v->hw, &limit);

	for (int i = 0; i < 8; i++)
		wanted[i] = __atomic_load_n(&e->wanted[i], __ATOMIC_RELAXED);
	if (e->npages && e->core == core && base == e->idt_base && limit == e->idt_limit &&
	    e->built_generation == __atomic_load_n(&v->vm->eli.generation, __ATOMIC_ACQUIRE) &&
	    !memcmp(wanted, e->built_wanted, sizeof(wanted)))
		return true;
	e->core = core;
	e->idt_base = base;
	e->idt_limit = limit;
	memcpy(e->built_wanted, wanted, sizeof(wanted));
	if (shadow_build(v, base, limit, wanted))
		return true;
	e->core = -1; /* try again at the next entry */
	return false;
}

/* --- entry and exit -------------------------------------------------------- */

/* Nothing to inject and nothing to deliver again: the guest's own IDT need
 * not be used for this entry. */
static bool nothing_to_inject(struct vcpu *v)
{
	return vlapic_pending_vector(&v->lapic) < 0 && !vm_virt()->vcpu_event_queued(v->hw);
}

static void set_mode(struct vcpu *v, bool on)
{
	struct vcpu_exitless *e = &v->eli;
	bool eoi = on && vlapic_x2apic_mode(&v->lapic) && lapic_is_x2apic() &&
		   vlapic_highest_isr(&v->lapic) < 0;
	struct virt_delivery d = {on, e->npt.tables[0], e->flush, eoi};

	if (on == e->hw_exitless && eoi == e->hw_eoi_passthrough && !e->flush)
		return;
	if (!vm_virt()->vcpu_set_delivery(v->hw, &d)) {
		log_printf("vm %s vcpu %u: this CPU cannot deliver interrupts exitless\n",
			   v->vm->cfg->name, v->id);
		e->enabled = false;
		d.exitless = false;
		vm_virt()->vcpu_set_delivery(v->hw, &d);
	}
	e->hw_exitless = d.exitless;
	e->hw_eoi_passthrough = d.eoi_passthrough;
	e->flush = false;
}

bool exitless_enter(struct vcpu *v)
{
	struct vcpu_exitless *e = &v->eli;
	bool on;

	if (!e->reported)
		exitless_report(v);
	if (!e->enabled)
		return false;
	/* the shadow (and this core's vectors) first, even for an entry that
	 * injects: the next device interrupt then finds its vector */
	on = wants_any(e) && shadow_ready(v) && !e->skip_once && nothing_to_inject(v);
	e->skip_once = false;
	if (on && v->apic_hw_on) { /* the shadow's gates deliver, not the CPU's APICv */
		vm_virt()->vcpu_apic_enter(v->hw, NULL);
		v->apic_hw_on = false;
	}
	set_mode(v, on);
	on = e->hw_exitless;
	if (on)
		e->entries++;
	else if (wants_any(e))
		e->skipped++;
	__atomic_store_n(&e->in_guest, on, __ATOMIC_RELEASE);
	return on;
}

/* A physical interrupt that was on its way into the guest when the exit
 * came: the host's, or an exitless one whose delivery did not finish. It
 * was accepted by the APIC, so it is handled (and EOIed) here, never
 * delivered again into the guest. */
static void host_interrupt(uint8_t vector)
{
	struct trap_frame tf = {.vector = vector};

	if (vector >= 32)
		trap_dispatch(&tf);
}

void exitless_exit(struct vcpu *v, struct virt_exit *x)
{
	struct vcpu_exitless *e = &v->eli;

	if (!__atomic_load_n(&e->in_guest, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&e->in_guest, false, __ATOMIC_RELEASE);
	if (x->vectoring != VIRT_EVENT_EXTINT)
		return;
	vm_virt()->vcpu_cancel_event(v->hw);
	if (x->reason == VIRT_EXIT_EXCEPTION && x->exception.vector == VEC_NP)
		e->np_exits++;
	host_interrupt(x->vectoring_vector);
	x->reason = VIRT_EXIT_EXTERNAL_INTERRUPT;
}

/* A #NP that no host interrupt caused. A gate the shadow took away but the
 * guest has (INT n): the instruction runs again, once, through the guest's
 * own IDT. Any other is the guest's own fault, and it gets it. */
bool exitless_np(struct vcpu *v, const struct virt_exit *x)
{
	struct vcpu_exitless *e = &v->eli;
	uint32_t err = x->exception.error;
	uint8_t vector = NP_ERROR_VECTOR(err);
	const uint8_t *ram = phys_to_virt(v->vm->ram_hpa);

	vm_virt()->vcpu_cancel_event(v->hw);
	if (e->npages && (err & NP_ERROR_IDT) && vector >= 32 &&
	    exitless_guest_gate_present(ram + e->idt_gpa[0], e->npages * PAGE_SIZE,
					e->idt_base & (PAGE_SIZE - 1), e->idt_limit, vector)) {
		e->skip_once = true;
		return true;
	}
	vm_virt()->vcpu_inject_exception(v->hw, VEC_NP, true, err);
	return true;
}

/* LIDT (and on VT-x every descriptor-table instruction): executed again,
 * natively, with exitless delivery off for that entry; the next exitless
 * entry sees the new IDTR and builds its shadow. */
bool exitless_descriptor_table(struct vcpu *v, const struct virt_exit *x)
{
	(void)x;
	v->eli.skip_once = true;
	return true;
}

/* --- writes to a shadowed IDT page, and EOIs ------------------------------ */

static uint64_t idt_page_read(void *dev, struct vcpu *v, uint64_t offset, unsigned size)
{
	uint64_t value = 0;

	memcpy(&value, (const uint8_t *)phys_to_virt(v->vm->ram_hpa) + (uintptr_t)dev + offset,
	       size);
	return value;
}

static void idt_page_write(void *dev, struct vcpu *v, uint64_t offset, unsigned size,
			   uint64_t value)
{
	memcpy((uint8_t *)phys_to_virt(v->vm->ram_hpa) + (uintptr_t)dev + offset, &value, size);
	v->eli.idt_writes++;
	shadows_stale(v->vm);
}

static bool idt_page_shadowed(struct vm *vm, uint64_t page)
{
	uint64_t flags = spin_lock_irqsave(&vm->eli.lock);
	bool found = false;

	for (int i = 0; i < EXITLESS_MAX_IDT_PAGES && !found; i++)
		found = vm->eli.users[i] && vm->eli.page[i] == page;
	spin_unlock_irqrestore(&vm->eli.lock, flags);
	return found;
}

bool exitless_idt_write(struct vcpu *v, const struct virt_exit *x)
{
	uint64_t page = x->npf.gpa & ~(PAGE_SIZE - 1);
	struct mmio_region r = {page,	       PAGE_SIZE,      "IDT page",
				idt_page_read, idt_page_write, (void *)(uintptr_t)page};

	if (!x->npf.write || page >= v->vm->ram_bytes || !idt_page_shadowed(v->vm, page))
		return false;
	mmio_emulate(v, x, &r);
	return true;
}

/* The highest vector in service physically, when it is an exitless vector
 * of this vCPU on this core: its guest vector, or -1. */
static int own_in_service(const struct vcpu *v)
{
	struct exitless_vectors *t = core_vectors[this_cpu()->index];
	int pv = physical_in_service();
	int32_t owner;
	uint8_t vector;

	if (!t || pv < EXITLESS_VEC_FIRST || pv > EXITLESS_VEC_LAST ||
	    !exitless_vector_owner(t, (uint8_t)pv, &owner, &vector) || owner != v->eli.id)
		return -1;
	return vector;
}

bool exitless_eoi(struct vcpu *v)
{
	int vector;

	if (!v->eli.enabled || (vector = own_in_service(v)) < 0 ||
	    vlapic_highest_isr(&v->lapic) > vector)
		return false;
	lapic_eoi();
	v->eli.eoi_exits++;
	return true;
}

void exitless_vcpu_put(struct vcpu *v)
{
	int vector;

	if (!v->eli.enabled)
		return;
	while ((vector = own_in_service(v)) >= 0) {
		lapic_eoi();
		vlapic_set_isr(&v->lapic, (uint8_t)vector);
	}
}

void exitless_report(struct vcpu *v)
{
	const struct virt_ops *virt = vm_virt();
	struct record r;
	bool apicv = virt->apic_virtualization && virt->apic_virtualization();

	v->eli.reported = true;
	record_begin(&r, "delivery");
	record_str(&r, "vm", v->vm->cfg->name);
	record_uint(&r, "vcpu", v->id);
	record_str(&r, "mechanism", v->eli.enabled ? "exitless" : apicv ? "apicv" : "inject");
	/* x2APIC guests on an x2APIC host EOI on the physical APIC themselves;
	 * on an xAPIC host (QEMU's TCG) each EOI is one exit */
	record_str(&r, "eoi",
		   !v->eli.enabled     ? "virtual"
		   : lapic_is_x2apic() ? "passthrough"
				       : "exit");
	record_emit(&r);
}

void exitless_record_sums(struct record *r, const struct vm *vm)
{
	struct vcpu_exitless sum = {0};

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct vcpu_exitless *e = &vm->vcpus[i].eli;

		sum.enabled |= e->enabled;
		sum.sent += __atomic_load_n(&e->sent, __ATOMIC_RELAXED);
		sum.missed += __atomic_load_n(&e->missed, __ATOMIC_RELAXED);
		sum.entries += e->entries;
		sum.skipped += e->skipped;
		sum.np_exits += e->np_exits;
		sum.eoi_exits += e->eoi_exits;
		sum.idt_builds += e->idt_builds;
		sum.idt_writes += e->idt_writes;
	}
	if (!sum.enabled)
		return;
	record_uint(r, "exitless_sent", sum.sent);
	record_uint(r, "exitless_missed", sum.missed);
	record_uint(r, "exitless_entries", sum.entries);
	record_uint(r, "exitless_skipped", sum.skipped);
	record_uint(r, "exitless_np_exits", sum.np_exits);
	record_uint(r, "exitless_eoi_exits", sum.eoi_exits);
	record_uint(r, "exitless_idt_builds", sum.idt_builds);
	record_uint(r, "exitless_idt_writes", sum.idt_writes);
}
