/* Credit accounting: vTurbo Algorithm 2 (Xu et al., ATC 2013, §3.1 and §4).
 *
 * Two routines run at the frequencies of their cores' slices, because updating credits faster or
 * slower than the scheduling frequency would leave the UNDER/OVER state of the vCPUs stale
 * (vTurbo §4):
 *
 * - regular accounting, once per regular slice (the period): from what every VM consumed in the
 *   period, its fair share FS_i = C_tot * w_i / sum(w), its turbo share FS^T_i = C^T_tot * w_i /
 *   sum(w) over the VMs using turbo cores, and its regular share FS^R_i = FS_i - (the turbo time
 *   it actually used). FS^R_i is handed to its regular vCPUs as credit for the next period;
 * - turbo accounting, once per turbo slice (a tick): each turbo vCPU receives FS^T_i / ratio,
 *   ratio = regular slice / turbo slice (Algorithm 2's vturbo_slice), so that turbo credit is as
 *   fresh as the 0.1 ms decisions that use it.
 *
 * As in the paper, C_tot and C^T_tot are the core time consumed in the last period: the cores are
 * work-conserving, so this is the capacity whenever the demand exceeds it, and it makes the
 * credits handed out equal the credits burnt. sum(w) runs over the VMs that were active (ran or
 * were runnable), as Xen's credit1 does, so an idle VM does not dilute the others' credit, and a
 * VM that never uses its turbo vCPU leaves its turbo share to the others (vTurbo Table 1, rows 2
 * and 4). Both routines are driven by the caller's calls (pick, wake, account): no thread. */
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
	struct sched_vm *vm = &s->vms[v->vm];
	uint64_t ran = now_ns > v->charged_to ? now_ns - v->charged_to : 0;

	v->charged_to = now_ns;
	v->credit = clip_credit(s, v->credit - (int64_t)ran);
	v->period_ns += ran;
	v->consumed_ns += ran;
	vm->period_ns[v->cls] += ran;
	vm->consumed_ns[v->cls] += ran;
	if (v->core >= 0)
		s->cores[v->core].busy_ns += ran;
}

/* The period's consumption must include the vCPUs still running, not just those that stopped. */
static void charge_running(struct sched *s, uint64_t now_ns)
{
	for (unsigned cls = 0; cls < SCHED_NR_CLASSES; cls++) {
		const struct sched_coreset *set = &s->rq[cls].cores;

		for (int core = coreset_next(set, 0); core != NO_CORE;
		     core = coreset_next(set, (unsigned)core + 1)) {
			const struct sched_core *c = &s->cores[core];

			if (c->cur >= 0)
				sched_charge(s, c->cur, now_ns);
		}
	}
}

static bool vm_active(const struct sched_vm *vm)
{
	return vm->nr_runnable[SCHED_REGULAR] + vm->nr_runnable[SCHED_TURBO] > 0 ||
	       vm->period_ns[SCHED_REGULAR] + vm->period_ns[SCHED_TURBO] > 0;
}

static bool vm_turbo_active(const struct sched_vm *vm)
{
	return vm->turbo_vcpu >= 0 &&
	       (vm->nr_runnable[SCHED_TURBO] > 0 || vm->period_ns[SCHED_TURBO] > 0);
}

/* A regular vCPU shares its VM's FS^R_i if it ran or could have run in the period. */
static bool vcpu_active(const struct sched_vcpu *v)
{
	return v->state != VCPU_BLOCKED || v->period_ns > 0;
}

struct period_totals {
	uint64_t all, turbo;	       /* C_tot and C^T_tot, scaled by >> shift */
	uint64_t weight, turbo_weight; /* sum(w) over active / turbo-active VMs */
	uint64_t window;	       /* the period's length, scaled by >> shift */
	unsigned shift;
};

static struct period_totals sum_period(struct sched *s, uint64_t window)
{
	struct period_totals t = {.window = window};

	while (t.window > WINDOW_LIMIT) {
		t.window >>= 1;
		t.shift++;
	}
	for (uint32_t i = 0; i < s->nr_vms; i++) {
		struct sched_vm *vm = &s->vms[i];

		vm->nr_active_regular = 0;
		t.all += (vm->period_ns[SCHED_REGULAR] + vm->period_ns[SCHED_TURBO]) >> t.shift;
		t.turbo += vm->period_ns[SCHED_TURBO] >> t.shift;
		if (vm_active(vm))
			t.weight += vm->weight;
		if (vm_turbo_active(vm))
			t.turbo_weight += vm->weight;
	}
	for (uint32_t i = 0; i < s->nr_vcpus; i++) {
		const struct sched_vcpu *v = &s->vcpus[i];

		if (v->cls == SCHED_REGULAR && vcpu_active(v))
			s->vms[v->vm].nr_active_regular++;
	}
	return t;
}

/* FS_i, FS^T_i, FS^R_i of one VM (vTurbo §3.1), and the credit they turn into. */
static void share_vm(struct sched *s, struct sched_vm *vm, const struct period_totals *t)
{
	uint64_t fs = 0, fs_t = 0, fs_r = 0;
	uint64_t used_t = vm->period_ns[SCHED_TURBO] >> t->shift;

	if (vm_active(vm) && t->weight)
		fs = mul_div(t->all, vm->weight, t->weight);
	if (vm_turbo_active(vm) && t->turbo_weight)
		fs_t = mul_div(t->turbo, vm->weight, t->turbo_weight);
	/* The turbo share is given first; the regular share is what is left of the fair share
	 * after the turbo time the VM really used: turbo use is not extra CPU. */
	fs_r = fs > used_t ? fs - used_t : 0;

	vm->fair_share_ns = fs << t->shift;
	vm->alloc_ns[SCHED_REGULAR] = fs_r << t->shift;
	vm->alloc_ns[SCHED_TURBO] = fs_t << t->shift;
	/* Credits are per regular slice, whatever the window really was. */
	vm->regular_grant_ns = 0;
	if (vm->nr_active_regular)
		vm->regular_grant_ns = (int64_t)(mul_div(fs_r, s->p.regular_slice_ns, t->window) /
						 vm->nr_active_regular);
	vm->turbo_grant_ns = (int64_t)mul_div(fs_t, s->p.turbo_slice_ns, t->window);
	vm->period_ns[SCHED_REGULAR] = vm->period_ns[SCHED_TURBO] = 0;
}

/* vTurbo Algorithm 2, "regular accounting triggered every 30ms". O(#VMs + #vCPUs). */
static void regular_accounting(struct sched *s, uint64_t now_ns)
{
	struct period_totals t;

	charge_running(s, now_ns);
	s->acct_window_ns = now_ns - s->acct_last;
	s->acct_last = now_ns;
	t = sum_period(s, s->acct_window_ns);
	for (uint32_t i = 0; i < s->nr_vms; i++)
		share_vm(s, &s->vms[i], &t);
	for (uint32_t i = 0; i < s->nr_vcpus; i++) {
		struct sched_vcpu *v = &s->vcpus[i];

		if (v->cls == SCHED_REGULAR && vcpu_active(v)) {
			v->credit = clip_credit(s, v->credit + s->vms[v->vm].regular_grant_ns);
			runq_reprioritize(s, (int)i);
		}
		v->period_ns = 0;
	}
	s->regular_accts++;
}

/* vTurbo Algorithm 2, "vTurbo accounting triggered every 0.1ms": every turbo vCPU gets its
 * per-tick credit, once per tick that has passed. O(#VMs). */
static void turbo_accounting(struct sched *s, uint64_t now_ns)
{
	uint64_t ticks = (now_ns - s->turbo_tick_last) / s->p.turbo_slice_ns;
	uint64_t max_ticks = s->p.regular_slice_ns / s->p.turbo_slice_ns + 1;

	s->turbo_tick_last += ticks * s->p.turbo_slice_ns;
	if (ticks > max_ticks)
		ticks = max_ticks; /* the credit clips at one regular slice anyway */
	for (uint32_t i = 0; i < s->nr_vms; i++) {
		const struct sched_vm *vm = &s->vms[i];
		struct sched_vcpu *v;

		if (vm->turbo_vcpu < 0 || vm->turbo_grant_ns == 0)
			continue;
		v = &s->vcpus[vm->turbo_vcpu];
		v->credit = clip_credit(s, v->credit + (int64_t)ticks * vm->turbo_grant_ns);
		runq_reprioritize(s, vm->turbo_vcpu);
	}
	s->turbo_ticks++;
}

void sched_account_due(struct sched *s, uint64_t now_ns)
{
	if (now_ns >= s->acct_last && now_ns - s->acct_last >= s->p.regular_slice_ns)
		regular_accounting(s, now_ns);
	if (now_ns >= s->turbo_tick_last && now_ns - s->turbo_tick_last >= s->p.turbo_slice_ns)
		turbo_accounting(s, now_ns);
}

void sched_account(struct sched *s, uint64_t now_ns)
{
	charge_running(s, now_ns);
	sched_account_due(s, now_ns);
}
