/* What each regular and turbo core does once the VMs are built (design.md,
 * data flow 4): ask the two-class scheduler (sched/) for its next vCPU, run
 * it until the slice deadline the scheduler gave, and tell the scheduler when
 * it halts; halt the core itself when there is nothing to run (no busy
 * waiting). Time goes to the scheduler in ns.
 *
 * Locking (docs/scheduler.md, "Locking"): one lock per class of cores. The
 * regular lock serializes the regular cores' picks and every block, wake and
 * statistics read of a regular vCPU, with the regular half of the scheduler
 * (sched.h, "concurrency") and the regular timer queue; the turbo lock the
 * same for the turbo class. A call is of the class of the core that picks or
 * of the vCPU it is about, so a turbo core's pick never waits for a regular
 * core; only a wake of a turbo vCPU (an IPI or a device interrupt raised on a
 * regular core) takes the turbo lock from elsewhere. No code holds both, so
 * there is no order between them. What a core looks at on every pass through
 * its loop needs no lock: its deadline (an atomic word in the scheduler) and
 * its class's earliest timer (an atomic copy here). `sched_lock=global` on
 * the command line gives both classes one lock and takes it for those looks
 * too, as the hypervisor did before (for the benchmark's comparison).
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
#include "arch/x86_64/vtd/vtd.h"
#include "kernel/core_loop.h"
#include "kernel/io_core.h"
#include "kernel/vdev.h"
#include "kernel/log.h"
#include "kernel/manifest.h"
#include "kernel/lockstat.h"
#include "kernel/mem.h"
#include "kernel/test_irq.h"
#include "kernel/timerq.h"
#include "kernel/vm.h"
#include "sched/sched.h"

/* The scheduler's storage, by sched id, sized by core_loop_init for the VMs
 * and vCPUs that were built (page allocator): at the build's limits,
 * MANIFEST_MAX_VMS * (MANIFEST_MAX_VCPUS + 1) vCPUs, it would be 1.6 MiB. */
static struct sched sched __attribute__((aligned(64)));
static struct sched_vm *sched_vms;
static struct sched_vcpu *sched_vcpus;
static struct vcpu **vcpu_of;
static unsigned nvcpus;

/* One class's lock and what it protects besides its half of the scheduler: the
 * APIC-timer deadlines of its blocked vCPUs (keyed by their index within the
 * class) and the `blocked` flag of its vCPUs. */
struct class_lock {
	struct stat_lock *lock;
	struct timerq timers;
	struct vcpu **by_index; /* the class's vCPUs, by index within the class */
	unsigned count;		/* how many (set-up) */
	uint64_t next_timer;	/* the earliest in `timers` (TSC, 0: none): an atomic copy */
} __attribute__((aligned(64))); /* the two never share a cache line */

static struct stat_lock locks[SCHED_NR_CLASSES] __attribute__((aligned(64))) = {
	STAT_LOCK_INIT("sched.regular"), STAT_LOCK_INIT("sched.turbo")};
static struct stat_lock global_lock = STAT_LOCK_INIT("sched"); /* sched_lock=global */
static bool global, lock_stats_every_round;
static struct class_lock classes[SCHED_NR_CLASSES];
static unsigned *class_index; /* by sched id: its index within its class */

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

/* The class of this core (fixed at set-up): -1 for a core the scheduler
 * does not have (an I/O core waking a vCPU). */
static int my_class(void)
{
	return sched_core_class(&sched, this_cpu()->index);
}

static enum sched_class class_of(const struct vcpu *v)
{
	return (enum sched_class)sched_vcpu_class(&sched, v->sched_id);
}

static uint64_t lock_class(enum sched_class cls)
{
	int mine = my_class();

	return stat_lock_irqsave(classes[cls].lock, mine == SCHED_REGULAR ? LOCKSTAT_REGULAR
						    : mine == SCHED_TURBO ? LOCKSTAT_TURBO
									  : LOCKSTAT_OTHER);
}

static void unlock_class(enum sched_class cls, uint64_t flags)
{
	stat_unlock_irqrestore(classes[cls].lock, flags);
}

/* --- the timer queues: under their class's lock -------------------------- */

static void publish_next_timer(struct class_lock *c)
{
	unsigned id;
	uint64_t due;

	if (!timerq_peek(&c->timers, &id, &due))
		due = 0;
	__atomic_store_n(&c->next_timer, due, __ATOMIC_RELAXED);
}

static void timer_set(const struct vcpu *v, uint64_t due)
{
	struct class_lock *c = &classes[class_of(v)];

	timerq_set(&c->timers, class_index[v->sched_id], due);
	publish_next_timer(c);
}

static void timer_remove(const struct vcpu *v)
{
	struct class_lock *c = &classes[class_of(v)];

	timerq_remove(&c->timers, class_index[v->sched_id]);
	publish_next_timer(c);
}

/* A core told to look again: an IPI unless it is this one. */
static void kick(int core)
{
	if (core >= 0 && (uint32_t)core != this_cpu()->index)
		lapic_send_ipi(cpus[core].apic_id, VEC_KICK);
}

/* Under its class's lock: a blocked vCPU becomes runnable. */
static int wake_locked(struct vcpu *v, uint64_t now)
{
	struct sched_kick k;

	if (!v->blocked)
		return -1;
	v->blocked = false;
	timer_remove(v);
	k = sched_wake(&sched, v->sched_id, now_ns(now));
	return k.core;
}

void core_loop_wake(struct vcpu *v)
{
	enum sched_class cls = class_of(v);
	uint64_t flags;
	int core;

	/* running already, or halted with interrupts off for good: an IPI storm
	 * at such a vCPU must not take the scheduler's lock at each IPI */
	if (!__atomic_load_n(&v->blocked, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&v->halted_for_good, __ATOMIC_RELAXED))
		return;
	flags = lock_class(cls);
	core = wake_locked(v, rdtsc());
	unlock_class(cls, flags);
	kick(core);
}

/* The vCPU halted: out of the scheduler until an interrupt. One that came
 * between its HLT and here is not lost: the IRR is looked at under the lock
 * that the waker's sched_wake takes (its class's). */
static void block(struct vcpu *v, uint64_t now)
{
	enum sched_class cls = class_of(v);
	uint64_t flags = lock_class(cls);
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
		timer_set(v, vcpu_next_event(v));
	unlock_class(cls, flags);
	kick(core);
}

/* Blocked vCPUs of this core's class whose APIC timer is due wake up;
 * returns the earliest timer still to come of them (0: none), for the core's
 * own timer. Only the due ones are looked at (the timer queue), so a guest
 * exit costs the same however many vCPUs are blocked; and with none due, the
 * atomic copy of the earliest says so without the lock. Each class's cores
 * see to its own blocked vCPUs: a vCPU blocks on a core of its class, which
 * arms its timer for it (idle, or running another vCPU). */
static uint64_t wake_timers(enum sched_class cls, uint64_t now)
{
	struct class_lock *c = &classes[cls];
	uint64_t flags, due = __atomic_load_n(&c->next_timer, __ATOMIC_RELAXED);
	unsigned id;

	if (!global && (!due || due > now))
		return due;
	flags = lock_class(cls);
	while (timerq_peek(&c->timers, &id, &due) && due <= now) {
		struct vcpu *v = c->by_index[id];

		if (v->vm->state != VM_STOPPED && vcpu_ready(v, now)) {
			kick(wake_locked(v, now)); /* the expiry raised its interrupt */
			continue;
		}
		due = v->vm->state == VM_STOPPED ? 0 : vcpu_next_event(v);
		if (due > now) /* a periodic timer's next tick */
			timer_set(v, due);
		else /* masked, or its VM stopped: nothing will wake it by time */
			timer_remove(v);
	}
	due = c->next_timer;
	unlock_class(cls, flags);
	return due;
}

static struct sched_pick pick_next(uint64_t now)
{
	enum sched_class cls = (enum sched_class)my_class();
	uint64_t flags = lock_class(cls);
	struct sched_pick p = sched_pick_next(&sched, this_cpu()->index, now_ns(now));

	unlock_class(cls, flags);
	return p;
}

/* The core's deadline: one word the scheduler stores atomically, so no lock
 * (but the old one's, with sched_lock=global). */
static uint64_t core_deadline(void)
{
	uint64_t ns, flags = 0;
	enum sched_class cls = (enum sched_class)my_class();

	if (global)
		flags = lock_class(cls);
	ns = sched_core_deadline(&sched, this_cpu()->index);
	if (global)
		unlock_class(cls, flags);
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
	return earliest(earliest(wake_timers((enum sched_class)my_class(), now), test_irq_next()),
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

/* The vCPU the core ran last stays loaded, its x87/SSE registers included,
 * while the core keeps picking it. A vCPU another core picks is loaded there
 * only once this core has put it away (running_on -1): its VMCS and its
 * FPU state are in memory by then. */
static void switch_to(struct vcpu **last, struct vcpu *next)
{
	int me = (int)this_cpu()->index;

	if (*last == next)
		return;
	if (*last) {
		exitless_vcpu_put(*last);
		vm_virt()->vcpu_put((*last)->hw);
		fxsave((*last)->fpu);
		__atomic_store_n(&(*last)->running_on, -1, __ATOMIC_RELEASE);
	}
	*last = next;
	if (next) {
		while (__atomic_load_n(&next->running_on, __ATOMIC_ACQUIRE) != -1)
			cpu_relax();
		next->cpu = (uint32_t)me;
		__atomic_store_n(&next->running_on, me, __ATOMIC_RELEASE);
		fxrstor(next->fpu);
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
		struct class_lock *c = &classes[cls];

		v->sched_id = sched_add_vcpu(&sched, id, cls);
		if (v->sched_id < 0)
			return -1;
		vcpu_of[v->sched_id] = v;
		class_index[v->sched_id] = c->count;
		c->by_index[c->count++] = v;
		nvcpus++;
		sched_wake(&sched, v->sched_id, now_ns(now)); /* every vCPU starts runnable */
	}
	return id < 0 ? -1 : 0;
}

int core_loop_init(const struct manifest *m, const struct core_loop_opts *opts)
{
	struct sched_params p = {
		.regular_slice_ns = (uint64_t)m->regular_slice_us * 1000,
		.turbo_slice_ns = (uint64_t)m->turbo_slice_us * 1000,
		.turbo_preempt = m->turbo_preempt,
		.turbo_preempt_min_ns = (uint64_t)m->turbo_preempt_min_us * 1000,
	};
	uint64_t now = rdtsc();
	unsigned max_vcpus = 0, per_class[SCHED_NR_CLASSES] = {0};
	struct timerq_entry *heap;
	int *pos;

	for (unsigned i = 0; i < vm_count(); i++) {
		max_vcpus += vm_get(i)->nvcpus;
		per_class[SCHED_TURBO] += vm_get(i)->turbo_vcpu >= 0;
	}
	per_class[SCHED_REGULAR] = max_vcpus - per_class[SCHED_TURBO];
	sched_vms = mem_zalloc(vm_count() * sizeof(*sched_vms));
	sched_vcpus = mem_zalloc(max_vcpus * sizeof(*sched_vcpus));
	vcpu_of = mem_zalloc(max_vcpus * sizeof(*vcpu_of));
	class_index = mem_zalloc(max_vcpus * sizeof(*class_index));
	if (!sched_vms || !sched_vcpus || !vcpu_of || !class_index ||
	    sched_init(&sched, &p, sched_vms, vm_count(), sched_vcpus, max_vcpus, now_ns(now)))
		return -1;
	global = opts->one_lock;
	lock_stats_every_round = opts->lock_stats;
	for (unsigned cls = 0; cls < SCHED_NR_CLASSES; cls++) {
		unsigned n = per_class[cls] ? per_class[cls] : 1; /* mem_zalloc(0) fails */
		struct class_lock *c = &classes[cls];

		*c = (struct class_lock){.lock = global ? &global_lock : &locks[cls],
					 .by_index = mem_zalloc(n * sizeof(*c->by_index))};
		heap = mem_zalloc(n * sizeof(*heap));
		pos = mem_zalloc(n * sizeof(*pos));
		if (!c->by_index || !heap || !pos)
			return -1;
		timerq_init(&c->timers, heap, pos, n);
		lockstat_register(c->lock);
	}
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

/* Each class under its own lock, one after the other (never both at once). */
void core_loop_vm_usage(const struct vm *vm, uint64_t *regular_us, uint64_t *turbo_us)
{
	*regular_us = *turbo_us = 0;
	for (unsigned cls = 0; cls < SCHED_NR_CLASSES; cls++) {
		uint64_t flags = lock_class((enum sched_class)cls);
		uint64_t *sum = cls == SCHED_TURBO ? turbo_us : regular_us;
		struct sched_vcpu_stats st;

		/* charged up to now; the accounting is left to the class's own calls */
		sched_charge_class(&sched, (enum sched_class)cls, now_ns(rdtsc()));
		for (unsigned i = 0; i < vm->nvcpus; i++)
			if (class_of(&vm->vcpus[i]) == cls &&
			    !sched_vcpu_stats(&sched, vm->vcpus[i].sched_id, &st))
				*sum += st.consumed_ns / 1000;
		unlock_class((enum sched_class)cls, flags);
	}
}

/* `@core_stats` for every core of the scheduler, then `@stats` per VM. */
void core_loop_report_stats(void)
{
	vtd_check_faults(); /* what the IOMMUs blocked since the last round */
	for (uint32_t c = 0; c < cpu_count; c++) {
		int cls = sched_core_class(&sched, c);
		struct sched_core_stats st;
		uint64_t flags;
		struct record r;

		if (cls < 0)
			continue;
		flags = lock_class((enum sched_class)cls);
		sched_core_stats(&sched, c, &st);
		unlock_class((enum sched_class)cls, flags);
		record_begin(&r, "core_stats");
		record_uint(&r, "cpu", c);
		record_str(&r, "role",
			   manifest_role_name(cls == SCHED_TURBO ? MANIFEST_ROLE_TURBO
								 : MANIFEST_ROLE_REGULAR));
		record_uint(&r, "picks", st.picks);
		record_uint(&r, "idle_picks", st.idle_picks);
		record_uint(&r, "preemptions", st.preemptions);
		record_uint(&r, "busy_us", st.busy_ns / 1000);
		record_emit(&r);
	}
	if (lock_stats_every_round)
		lockstat_report(false);
	for (unsigned i = 0; i < vm_count(); i++)
		if (vm_get(i)->state != VM_STOPPED) {
			vm_report_stats(vm_get(i), "stats");
			vdev_report_stats(vm_get(i), false);
		}
}
