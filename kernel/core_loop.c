/* What each regular and turbo core does once the VMs are built (design.md,
 * data flow 4): ask the two-class scheduler (sched/) for its next vCPU, run
 * it until the slice deadline the scheduler gave, and tell the scheduler when
 * it halts; halt the core itself when there is nothing to run (no busy
 * waiting). One lock serializes the scheduler; time goes to it in ns.
 *
 * Wake-ups: an interrupt for a blocked vCPU (an IPI, a device, its APIC
 * timer) calls sched_wake, which names a core to kick: now (VEC_KICK) or,
 * for turbo preemption, once the running vCPU has had its minimum time, in
 * which case the core learns it from sched_core_deadline at its next look. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/core_loop.h"
#include "kernel/io_core.h"
#include "kernel/vdev.h"
#include "kernel/log.h"
#include "kernel/manifest.h"
#include "kernel/mem.h"
#include "kernel/spinlock.h"
#include "kernel/test_irq.h"
#include "kernel/timerq.h"
#include "kernel/vm.h"
#include "sched/sched.h"

/* The scheduler's storage, by sched id, sized by core_loop_init for the VMs
 * and vCPUs that were built (page allocator): at the build's limits,
 * MANIFEST_MAX_VMS * (MANIFEST_MAX_VCPUS + 1) vCPUs, it would be 1.6 MiB. */
static struct sched sched;
static struct sched_vm *sched_vms;
static struct sched_vcpu *sched_vcpus;
static struct vcpu **vcpu_of;
/* The APIC-timer deadlines of blocked vCPUs, by sched id, under the lock. */
static struct timerq timers;
static struct timerq_entry *timer_heap;
static int *timer_pos;
static unsigned nvcpus;
static struct spinlock lock = SPINLOCK_INIT;
static int stats_core = -1;		 /* the core that prints the periodic stats */
static uint64_t stats_every, next_stats; /* TSC cycles; 0: no periodic stats */

static uint64_t now_ns(uint64_t tsc)
{
	return tsc_to_ns(tsc);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* A core told to look again: an IPI unless it is this one. */
static void kick(int core)
{
	if (core >= 0 && (uint32_t)core != this_cpu()->index)
		lapic_send_ipi(cpus[core].apic_id, VEC_KICK);
}

/* Under the lock: a blocked vCPU becomes runnable. */
static int wake_locked(struct vcpu *v, uint64_t now)
{
	struct sched_kick k;

	if (!v->blocked)
		return -1;
	v->blocked = false;
	timerq_remove(&timers, (unsigned)v->sched_id);
	k = sched_wake(&sched, v->sched_id, now_ns(now));
	return k.core;
}

void core_loop_wake(struct vcpu *v)
{
	uint64_t flags;
	int core;

	/* running already, or halted with interrupts off for good: an IPI storm
	 * at such a vCPU must not take the scheduler's lock at each IPI */
	if (!__atomic_load_n(&v->blocked, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&v->halted_for_good, __ATOMIC_RELAXED))
		return;
	flags = spin_lock_irqsave(&lock);
	core = wake_locked(v, rdtsc());
	spin_unlock_irqrestore(&lock, flags);
	kick(core);
}

/* The vCPU halted: out of the scheduler until an interrupt. One that came
 * between its HLT and here is not lost: the IRR is looked at under the lock
 * that the waker's sched_wake takes. */
static void block(struct vcpu *v, uint64_t now)
{
	uint64_t flags = spin_lock_irqsave(&lock);
	int core = -1;

	sched_block(&sched, v->sched_id, now_ns(now));
	/* A full barrier (XCHG): a waker sets the IRR (a locked RMW) and then
	 * looks at `blocked` without the lock; this CPU sets `blocked` and then
	 * looks at the IRR. Without it both could miss the other (store
	 * buffering, SDM Vol. 3A §9.2.3.4) and the wake-up would be lost. */
	__atomic_store_n(&v->blocked, true, __ATOMIC_SEQ_CST);
	if (v->vm->state != VM_STOPPED && vcpu_ready(v, now))
		core = wake_locked(v, now);
	else if (v->vm->state != VM_STOPPED && vcpu_next_event(v))
		timerq_set(&timers, (unsigned)v->sched_id, vcpu_next_event(v));
	spin_unlock_irqrestore(&lock, flags);
	kick(core);
}

/* Blocked vCPUs whose APIC timer is due wake up; returns the earliest timer
 * still to come of the blocked ones (0: none), for the core's own timer. Only
 * the due ones are looked at (the timer queue), so a guest exit costs the
 * same however many vCPUs are blocked. */
static uint64_t wake_timers(uint64_t now)
{
	uint64_t flags = spin_lock_irqsave(&lock), due;
	unsigned id;

	while (timerq_peek(&timers, &id, &due) && due <= now) {
		struct vcpu *v = vcpu_of[id];

		if (v->vm->state != VM_STOPPED && vcpu_ready(v, now)) {
			kick(wake_locked(v, now)); /* the expiry raised its interrupt */
			continue;
		}
		due = v->vm->state == VM_STOPPED ? 0 : vcpu_next_event(v);
		if (due > now) /* a periodic timer's next tick */
			timerq_set(&timers, id, due);
		else /* masked, or its VM stopped: nothing will wake it by time */
			timerq_remove(&timers, id);
	}
	if (!timerq_peek(&timers, &id, &due))
		due = 0;
	spin_unlock_irqrestore(&lock, flags);
	return due;
}

static struct sched_pick pick_next(uint64_t now)
{
	uint64_t flags = spin_lock_irqsave(&lock);
	struct sched_pick p = sched_pick_next(&sched, this_cpu()->index, now_ns(now));

	spin_unlock_irqrestore(&lock, flags);
	return p;
}

static uint64_t core_deadline(void)
{
	uint64_t flags = spin_lock_irqsave(&lock);
	uint64_t ns = sched_core_deadline(&sched, this_cpu()->index);

	spin_unlock_irqrestore(&lock, flags);
	return ns == SCHED_NEVER ? 0 : tsc_from_ns(ns);
}

/* Device interrupts, sleeping vCPUs' timers and the stats line: whatever is
 * due now; returns when the next of them is (0: nothing planned). */
static uint64_t housekeeping(uint64_t now)
{
	if (stats_every && (int)this_cpu()->index == stats_core && now >= next_stats) {
		core_loop_report_stats();
		next_stats = now + stats_every;
	}
	test_irq_poll(now);
	return earliest(earliest(wake_timers(now), test_irq_next()),
			(int)this_cpu()->index == stats_core && stats_every ? next_stats : 0);
}

/* Runs `v` until the core's deadline from the scheduler (its slice end, or
 * earlier when a turbo preemption moves it), a halt or its VM's end, leaving
 * the guest for housekeeping when that is due. */
static void run(struct vcpu *v)
{
	for (;;) {
		uint64_t now = rdtsc(), next = housekeeping(now), slice_end = core_deadline();

		if (v->vm->state == VM_STOPPED || v->halted || !slice_end || now >= slice_end)
			return;
		if (!v->vm->start_tsc)
			__atomic_compare_exchange_n(&v->vm->start_tsc, &(uint64_t){0}, now, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		vcpu_run_until(v, earliest(slice_end, next));
	}
}

/* Nothing to run: halt until the next event. Housekeeping may just have
 * woken a vCPU for this very core (a due device interrupt or timer), which
 * moves its deadline to now: then it picks again instead. */
static void idle(uint64_t now)
{
	uint64_t next = housekeeping(now), due = core_deadline(), wake = earliest(due, next);

	if (due && due <= rdtsc())
		return;
	if (wake)
		timer_arm_deadline(wake);
	else
		timer_cancel();
	cpu_wait_for_interrupt();
}

/* The vCPU the core ran last stays loaded while it keeps picking it. */
static void switch_to(struct vcpu **last, struct vcpu *next)
{
	if (*last && *last != next) {
		exitless_vcpu_put(*last);
		vm_virt()->vcpu_put((*last)->hw);
		__atomic_store_n(&(*last)->running_on, -1, __ATOMIC_RELEASE);
	}
	*last = next;
	if (next) {
		next->cpu = this_cpu()->index;
		__atomic_store_n(&next->running_on, (int)this_cpu()->index, __ATOMIC_RELEASE);
	}
}

static void loop(void)
{
	struct vcpu *last = NULL;

	while (!vm_all_stopped()) {
		uint64_t now = rdtsc();
		struct sched_pick p = pick_next(now);
		struct vcpu *v = p.vcpu >= 0 ? vcpu_of[p.vcpu] : NULL;

		switch_to(&last, v);
		if (!v) {
			idle(now);
			continue;
		}
		if (v->vm->state != VM_STOPPED)
			run(v);
		if (v->vm->state == VM_STOPPED || v->halted)
			block(v, rdtsc());
	}
	switch_to(&last, NULL);
}

void core_loop_run(const struct manifest *m)
{
	enum manifest_role role = manifest_cpu_role(m, this_cpu()->index);

	if (!vm_count())
		return;
	if (role == MANIFEST_ROLE_IO) {
		io_core_run(m);
		return;
	}
	if (vm_virt()->cpu_enable()) {
		log_printf("cpu %u cannot enable virtualization: it runs no vCPU\n",
			   this_cpu()->index);
		return; /* its class's other cores take the work */
	}
	loop();
	timer_cancel();
}

/* --- set-up and statistics ---------------------------------------------- */

static void add_cores(const struct manifest *m)
{
	for (uint32_t c = 0; c < cpu_count; c++) {
		enum manifest_role role = manifest_cpu_role(m, c);

		if (!cpus[c].online || role == MANIFEST_ROLE_IO)
			continue;
		sched_add_core(&sched, c,
			       role == MANIFEST_ROLE_TURBO ? SCHED_TURBO : SCHED_REGULAR);
		if (role == MANIFEST_ROLE_REGULAR && stats_core < 0)
			stats_core = (int)c;
	}
}

static int add_vm(struct vm *vm, uint64_t now)
{
	int id = sched_add_vm(&sched, vm->cfg->weight);

	for (unsigned i = 0; id >= 0 && i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		enum sched_class cls = (int)i == vm->turbo_vcpu ? SCHED_TURBO : SCHED_REGULAR;

		v->sched_id = sched_add_vcpu(&sched, id, cls);
		if (v->sched_id < 0)
			return -1;
		vcpu_of[v->sched_id] = v;
		nvcpus++;
		sched_wake(&sched, v->sched_id, now_ns(now)); /* every vCPU starts runnable */
	}
	return id < 0 ? -1 : 0;
}

int core_loop_init(const struct manifest *m)
{
	struct sched_params p = {
		.regular_slice_ns = (uint64_t)m->regular_slice_us * 1000,
		.turbo_slice_ns = (uint64_t)m->turbo_slice_us * 1000,
		.turbo_preempt = m->turbo_preempt,
		.turbo_preempt_min_ns = (uint64_t)m->turbo_preempt_min_us * 1000,
	};
	uint64_t now = rdtsc();
	unsigned max_vcpus = 0;

	for (unsigned i = 0; i < vm_count(); i++)
		max_vcpus += vm_get(i)->nvcpus;
	sched_vms = mem_zalloc(vm_count() * sizeof(*sched_vms));
	sched_vcpus = mem_zalloc(max_vcpus * sizeof(*sched_vcpus));
	vcpu_of = mem_zalloc(max_vcpus * sizeof(*vcpu_of));
	timer_heap = mem_zalloc(max_vcpus * sizeof(*timer_heap));
	timer_pos = mem_zalloc(max_vcpus * sizeof(*timer_pos));
	if (!sched_vms || !sched_vcpus || !vcpu_of || !timer_heap || !timer_pos ||
	    sched_init(&sched, &p, sched_vms, vm_count(), sched_vcpus, max_vcpus, now_ns(now)))
		return -1;
	timerq_init(&timers, timer_heap, timer_pos, max_vcpus);
	add_cores(m);
	stats_every = tsc_from_us((uint64_t)m->stats_interval_ms * 1000);
	next_stats = now + stats_every;
	for (unsigned i = 0; i < vm_count(); i++)
		if (add_vm(vm_get(i), now)) {
			vm_stop(vm_get(i), "the scheduler has no room for its vCPUs", 0);
			return -1;
		}
	return 0;
}

void core_loop_vm_usage(const struct vm *vm, uint64_t *regular_us, uint64_t *turbo_us)
{
	uint64_t flags = spin_lock_irqsave(&lock);
	struct sched_vcpu_stats st;

	*regular_us = *turbo_us = 0;
	sched_account(&sched, now_ns(rdtsc()));
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (!sched_vcpu_stats(&sched, vm->vcpus[i].sched_id, &st))
			*((int)i == vm->turbo_vcpu ? turbo_us : regular_us) +=
				st.consumed_ns / 1000;
	spin_unlock_irqrestore(&lock, flags);
}

/* `@core_stats` for every core of the scheduler, then `@stats` per VM. */
void core_loop_report_stats(void)
{
	for (uint32_t c = 0; c < cpu_count; c++) {
		struct sched_core_stats st;
		uint64_t flags = spin_lock_irqsave(&lock);
		int err = sched_core_stats(&sched, c, &st);
		struct record r;

		spin_unlock_irqrestore(&lock, flags);
		if (err)
			continue;
		record_begin(&r, "core_stats");
		record_uint(&r, "cpu", c);
		record_str(&r, "role",
			   manifest_role_name(sched.cores[c].cls == SCHED_TURBO
						      ? MANIFEST_ROLE_TURBO
						      : MANIFEST_ROLE_REGULAR));
		record_uint(&r, "picks", st.picks);
		record_uint(&r, "idle_picks", st.idle_picks);
		record_uint(&r, "preemptions", st.preemptions);
		record_uint(&r, "busy_us", st.busy_ns / 1000);
		record_emit(&r);
	}
	for (unsigned i = 0; i < vm_count(); i++)
		if (vm_get(i)->state != VM_STOPPED) {
			vm_report_stats(vm_get(i), "stats");
			vdev_report_stats(vm_get(i), false);
		}
}
