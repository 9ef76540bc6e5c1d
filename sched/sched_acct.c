/* Credit accounting: vTurbo Algorithm 2 (Xu et al., ATC 2013, §3.1 and §4).
 *
 * The routines run at the frequencies of their cores' slices, because updating credits faster or
 * slower than the scheduling frequency would leave the UNDER/OVER state of the vCPUs stale
 * (vTurbo §4), and each class runs its own on its own calls (pick, wake, account), so that the
 * two classes can be locked apart (sched.h, "concurrency"):
 *
 * - regular accounting, once per regular slice (the period P), on the regular calls: from what
 *   every VM consumed in the period on both classes, its fair share FS_i = C_tot * w_i / sum(w)
 *   and its regular share FS^R_i = FS_i - (the turbo time it actually used). FS^R_i is handed to
 *   its regular vCPUs as credit for the next period;
 * - the turbo period, also every P, on the turbo calls: its turbo share FS^T_i = C^T_tot * w_i /
 *   sum(w) over the VMs using turbo cores. Only turbo data goes into it;
 * - turbo accounting, once per turbo slice (a tick): each turbo vCPU receives FS^T_i / ratio,
 *   ratio = regular slice / turbo slice (Algorithm 2's vturbo_slice), so that turbo credit is as
 *   fresh as the 0.1 ms decisions that use it.
 *
 * The turbo time the regular accounting needs is the one value that crosses classes: each VM's
 * turbo consumed_ns (and whether its turbo vCPU is runnable), which turbo calls store and the
 * regular accounting loads atomically; it counts the turbo time charged since its last period
 * (a turbo vCPU still running is charged at its next turbo pick, at most a turbo slice later, so
 * that time falls into the next period rather than being lost).
 *
 * As in the paper, C_tot and C^T_tot are the core time consumed in the last period: the cores are
 * work-conserving, so this is the capacity whenever the demand exceeds it, and it makes the
 * credits handed out equal the credits burnt. sum(w) runs over the VMs that were active (ran or
 * were runnable), as Xen's credit1 does, so an idle VM does not dilute the others' credit, and a
 * VM that never uses its turbo vCPU leaves its turbo share to the others (vTurbo Table 1, rows 2
 * and 4). All routines are driven by the caller's calls: no thread. */
#include "sched/sched_internal.h"

/* A window longer than this (an idle machine) is scaled down before the arithmetic below. */
#define WINDOW_LIMIT (1ull << 32)

/* a * b / c without overflow for the operands used here (b <= c, or c * b < 2^64). */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	return (a / c) * b + (a % c) * b / c;
}

/* Credit is kept within one regular slice either way: a vCPU that idled cannot bank more than a
 * slice of priority, and one that ran while OVER (work conservation) does not carry an unbounded
 * debt (Xen's credit1 clips the same way). */
static int64_t clip_credit(const struct sched *s, int64_t credit)
{
	int64_t cap = (int64_t)s->p.regular_slice_ns;

	if (credit > cap)
		return cap;
	if (credit < -cap)
		return -cap;
	return credit;
}

void sched_charge(struct sched *s, int id, uint64_t now_ns)
{
	struct sched_vcpu *v = &s->vcpus[id];
	struct sched_vm_part *part = &s->vms[v->vm].part[v->cls];
	uint64_t ran = now_ns > v->charged_to ? now_ns - v->charged_to : 0;

	v->charged_to = now_ns;
	v->credit = clip_credit(s, v->credit - (int64_t)ran);
	v->period_ns += ran;
	v->consumed_ns += ran;
	part->period_ns += ran;
	SHARED_STORE(part->consumed_ns,
		     part->consumed_ns + ran); /* the regular accounting reads it */
	if (v->core >= 0)
		s->cores[v->core].busy_ns += ran;
}

void sched_runnable_add(struct sched *s, const struct sched_vcpu *v, int delta)
{
	struct sched_vm_part *part = &s->vms[v->vm].part[v->cls];

	SHARED_STORE(part->nr_runnable, part->nr_runnable + (uint32_t)delta);
}

/* A period's consumption must include the class's vCPUs still running, not just those that
 * stopped. */
static void charge_running(struct sched *s, enum sched_class cls, uint64_t now_ns)
{
	const struct sched_coreset *set = &s->pool[cls].cores;

	for (int core = coreset_next(set, 0); core != NO_CORE;
	     core = coreset_next(set, (unsigned)core + 1)) {
		const struct sched_core *c = &s->cores[core];

		if (c->cur >= 0)
			sched_charge(s, c->cur, now_ns);
	}
}

/* A VM is active in the regular period if any of its vCPUs ran or could have run in it. */
static bool vm_active(const struct sched_vm *vm)
{
	const struct sched_vm_part *r = &vm->part[SCHED_REGULAR];

	return r->nr_runnable > 0 || r->period_ns > 0 || vm->turbo_was_runnable ||
	       vm->turbo_period_ns > 0;
}

static bool vm_turbo_active(const struct sched_vm *vm)
{
	const struct sched_vm_part *t = &vm->part[SCHED_TURBO];

	return vm->turbo_vcpu >= 0 && (t->nr_runnable > 0 || t->period_ns > 0);
}

/* A regular vCPU shares its VM's FS^R_i if it ran or could have run in the period. */
static bool vcpu_active(const struct sched_vcpu *v)
{
	return v->state != VCPU_BLOCKED || v->period_ns > 0;
}

struct period_totals {
	uint64_t all;	 /* C_tot (regular) or C^T_tot (turbo), scaled by >> shift */
	uint64_t weight; /* sum(w) over the active (regular) or turbo-active (turbo) VMs */
	uint64_t window; /* the period's length, scaled by >> shift */
	unsigned shift;
};

static struct period_totals start_period(struct sched *s, enum sched_class cls, uint64_t now_ns)
{
	struct sched_pool *pool = &s->pool[cls];
	struct period_totals t = {0};

	charge_running(s, cls, now_ns);
	pool->window_ns = now_ns - pool->period_last;
	pool->period_last = now_ns;
	t.window = pool->window_ns;
	while (t.window > WINDOW_LIMIT) {
		t.window >>= 1;
		t.shift++;
	}
	return t;
}

/* vTurbo Algorithm 2, "regular accounting triggered every 30ms", the regular class's part: from
 * what every VM consumed in the period on both classes (the turbo time read from the turbo part,
 * the one value that crosses classes), FS_i = C_tot * w_i / sum(w) and FS^R_i = FS_i - the turbo
 * time it used, handed to its active regular vCPUs as credit for the next period.
 * O(#VMs + #vCPUs). */
static void regular_accounting(struct sched *s, uint64_t now_ns)
{
	struct period_totals t = start_period(s, SCHED_REGULAR, now_ns);

	for (uint32_t i = 0; i < s->nr_vms; i++) {
		struct sched_vm *vm = &s->vms[i];
		uint64_t turbo = SHARED_LOAD(vm->part[SCHED_TURBO].consumed_ns);

		vm->turbo_period_ns = turbo - vm->turbo_seen_ns;
		vm->turbo_seen_ns = turbo;
		vm->turbo_was_runnable = SHARED_LOAD(vm->part[SCHED_TURBO].nr_runnable) > 0;
		vm->part[SCHED_REGULAR].nr_active = 0;
		t.all += (vm->part[SCHED_REGULAR].period_ns + vm->turbo_period_ns) >> t.shift;
		if (vm_active(vm))
			t.weight += vm->weight;
	}
	for (uint32_t i = 0; i < s->nr_vcpus; i++) {
		const struct sched_vcpu *v = &s->vcpus[i];

		if (v->cls == SCHED_REGULAR && vcpu_active(v))
			s->vms[v->vm].part[SCHED_REGULAR].nr_active++;
	}
	for (uint32_t i = 0; i < s->nr_vms; i++) {
		struct sched_vm *vm = &s->vms[i];
		struct sched_vm_part *r = &vm->part[SCHED_REGULAR];
		uint64_t fs = 0, fs_r, used_t = vm->turbo_period_ns >> t.shift;

		if (vm_active(vm) && t.weight)
			fs = mul_div(t.all, vm->weight, t.weight);
		/* The regular share is what is left of the fair share after the turbo time the VM
		 * really used: turbo use is not extra CPU. */
		fs_r = fs > used_t ? fs - used_t : 0;
		vm->fair_share_ns = fs << t.shift;
		r->alloc_ns = fs_r << t.shift;
		/* Credits are per regular slice, whatever the window really was. */
		r->grant_ns = 0;
		if (r->nr_active)
			r->grant_ns = (int64_t)(mul_div(fs_r, s->p.regular_slice_ns, t.window) /
						r->nr_active);
		r->period_ns = 0;
	}
	for (uint32_t i = 0; i < s->nr_vcpus; i++) {
		struct sched_vcpu *v = &s->vcpus[i];

		if (v->cls != SCHED_REGULAR)
			continue;
		if (vcpu_active(v)) {
			v->credit = clip_credit(
				s, v->credit + s->vms[v->vm].part[SCHED_REGULAR].grant_ns);
			runq_reprioritize(s, (int)i);
		}
		v->period_ns = 0;
	}
	s->pool[SCHED_REGULAR].periods++;
}

/* The turbo class's period (the same length P, on the turbo calls): the turbo share FS^T_i =
 * C^T_tot * w_i / sum(w) over the VMs whose turbo vCPU was active, which needs turbo data only,
 * and the per-tick credit it turns into. O(#VMs). */
static void turbo_period(struct sched *s, uint64_t now_ns)
{
	struct period_totals t = start_period(s, SCHED_TURBO, now_ns);

	for (uint32_t i = 0; i < s->nr_vms; i++) {
		const struct sched_vm *vm = &s->vms[i];

		t.all += vm->part[SCHED_TURBO].period_ns >> t.shift;
		if (vm_turbo_active(vm))
			t.weight += vm->weight;
	}
	for (uint32_t i = 0; i < s->nr_vms; i++) {
		struct sched_vm *vm = &s->vms[i];
		struct sched_vm_part *tp = &vm->part[SCHED_TURBO];
		uint64_t fs_t = 0;

		if (vm_turbo_active(vm) && t.weight)
			fs_t = mul_div(t.all, vm->weight, t.weight);
		tp->alloc_ns = fs_t << t.shift;
		tp->grant_ns = (int64_t)mul_div(fs_t, s->p.turbo_slice_ns, t.window);
		tp->period_ns = 0;
	}
	s->pool[SCHED_TURBO].periods++;
}

/* vTurbo Algorithm 2, "vTurbo accounting triggered every 0.1ms": every turbo vCPU gets its
 * per-tick credit, once per tick that has passed. O(#VMs). */
static void turbo_accounting(struct sched *s, uint64_t now_ns)
{
	struct sched_pool *pool = &s->pool[SCHED_TURBO];
	uint64_t ticks = (now_ns - pool->tick_last) / s->p.turbo_slice_ns;

	pool->tick_last += ticks * s->p.turbo_slice_ns;
	for (uint32_t i = 0; i < s->nr_vms; i++) {
		const struct sched_vm *vm = &s->vms[i];
		int64_t grant = vm->part[SCHED_TURBO].grant_ns;
		/* Every tick that passed counts, however long the turbo cores went without a call
		 * (the vCPU that ran meanwhile was charged all of it); beyond 2P / grant ticks the
		 * credit is at the top of its range whatever it was, which also bounds the product.
		 */
		uint64_t useful = 2 * s->p.regular_slice_ns / (uint64_t)(grant > 0 ? grant : 1) + 1;
		struct sched_vcpu *v;

		if (vm->turbo_vcpu < 0 || grant == 0)
			continue;
		v = &s->vcpus[vm->turbo_vcpu];
		v->credit = clip_credit(s, v->credit + (int64_t)(ticks < useful ? ticks : useful) *
							       grant);
		runq_reprioritize(s, vm->turbo_vcpu);
	}
	pool->ticks++;
}

void sched_account_due(struct sched *s, enum sched_class cls, uint64_t now_ns)
{
	struct sched_pool *pool = &s->pool[cls];

	if (now_ns >= pool->period_last && now_ns - pool->period_last >= s->p.regular_slice_ns) {
		if (cls == SCHED_REGULAR)
			regular_accounting(s, now_ns);
		else
			turbo_period(s, now_ns);
	}
	if (cls == SCHED_TURBO && now_ns >= pool->tick_last &&
	    now_ns - pool->tick_last >= s->p.turbo_slice_ns)
		turbo_accounting(s, now_ns);
}

void sched_account_class(struct sched *s, enum sched_class cls, uint64_t now_ns)
{
	if (cls != SCHED_REGULAR && cls != SCHED_TURBO)
		return;
	charge_running(s, cls, now_ns);
	sched_account_due(s, cls, now_ns);
}

void sched_charge_class(struct sched *s, enum sched_class cls, uint64_t now_ns)
{
	if (cls == SCHED_REGULAR || cls == SCHED_TURBO)
		charge_running(s, cls, now_ns);
}

void sched_account(struct sched *s, uint64_t now_ns)
{
	/* The turbo class first, so that a regular accounting due now counts its running vCPUs'
	 * time to now, as one lock around both would. */
	sched_account_class(s, SCHED_TURBO, now_ns);
	sched_account_class(s, SCHED_REGULAR, now_ns);
}
