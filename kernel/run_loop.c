/* What each core does once the VMs are built: run the vCPUs placed on it,
 * round robin with the manifest's regular slice, skipping halted ones and
 * halting the core itself, until its timer or a kick, when all of them are
 * halted (no busy waiting). A stand-in for the two-class scheduler (issue 4),
 * which will decide what runs where; the vCPU side (kernel/vcpu.c) stays. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/tsc.h"
#include "kernel/manifest.h"
#include "kernel/test_irq.h"
#include "kernel/vm.h"

struct core_run {
	uint64_t slice;	      /* TSC cycles */
	uint64_t stats_every; /* TSC cycles; 0: no periodic stats */
	uint64_t next_stats;
	struct vcpu *mine[MANIFEST_MAX_VMS * MANIFEST_MAX_VCPUS];
	unsigned n;
};

static unsigned collect_mine(const struct manifest *m, struct core_run *cr)
{
	uint32_t self = this_cpu()->index;

	cr->n = 0;
	for (unsigned i = 0; i < vm_count(); i++) {
		struct vm *vm = vm_get(i);

		for (unsigned v = 0; v < vm->nvcpus; v++)
			if (vm->vcpus[v].cpu == self)
				cr->mine[cr->n++] = &vm->vcpus[v];
	}
	cr->slice = tsc_from_us(manifest_cpu_role(m, self) == MANIFEST_ROLE_TURBO
					? m->turbo_slice_us
					: m->regular_slice_us);
	cr->stats_every = tsc_from_us((uint64_t)m->stats_interval_ms * 1000);
	cr->next_stats = cr->stats_every ? rdtsc() + cr->stats_every : ~0ull;
	return cr->n;
}

/* A VM's periodic stats come from the core of its first vCPU. */
static void report_periodic_stats(struct core_run *cr, uint64_t now)
{
	for (unsigned i = 0; i < cr->n; i++)
		if (cr->mine[i]->id == 0 && cr->mine[i]->vm->state != VM_STOPPED)
			vm_report_stats(cr->mine[i]->vm, "stats");
	cr->next_stats = now + cr->stats_every;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* Nothing to run: halt until the next vCPU timer, the next stats line, or
 * a kick (an IPI for one of ours, or its VM stopping). */
static void idle_until_event(const struct core_run *cr)
{
	uint64_t wake = earliest(cr->stats_every ? cr->next_stats : 0, test_irq_next());

	for (unsigned i = 0; i < cr->n; i++)
		if (cr->mine[i]->vm->state != VM_STOPPED)
			wake = earliest(wake, vcpu_next_event(cr->mine[i]));
	if (wake)
		timer_arm_deadline(wake);
	else
		timer_cancel();
	cpu_wait_for_interrupt();
}

static void mark_running(struct vm *vm)
{
	enum vm_state ready = VM_READY;

	/* never over a concurrent stop */
	__atomic_compare_exchange_n(&vm->state, &ready, VM_RUNNING, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
}

/* One round over this core's vCPUs; false once all their VMs have stopped. */
static bool run_round(struct core_run *cr)
{
	bool alive = false, ran = false;

	for (unsigned i = 0; i < cr->n; i++) {
		struct vcpu *v = cr->mine[i];
		uint64_t now = rdtsc(), end = now + cr->slice;

		if (v->vm->state == VM_STOPPED)
			continue;
		alive = true;
		if (cr->stats_every && now >= cr->next_stats)
			report_periodic_stats(cr, now);
		test_irq_poll(now);
		if (!vcpu_ready(v, now))
			continue;
		if (!v->vm->start_tsc) /* the first entry of any of its vCPUs */
			__atomic_compare_exchange_n(&v->vm->start_tsc, &(uint64_t){0}, now, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		mark_running(v->vm);
		vcpu_run_until(v, earliest(earliest(end, cr->next_stats), test_irq_next()));
		ran = true;
	}
	if (alive && !ran)
		idle_until_event(cr);
	return alive;
}

void vm_run_this_cpu(const struct manifest *m)
{
	static struct core_run runs[MAX_CPUS];
	struct core_run *cr = &runs[this_cpu()->index];

	if (!collect_mine(m, cr))
		return;
	if (vm_virt()->cpu_enable()) {
		for (unsigned i = 0; i < cr->n; i++)
			vm_stop(cr->mine[i]->vm, "this CPU cannot enable virtualization", 0);
		return;
	}
	while (run_round(cr))
		;
	timer_cancel();
}
