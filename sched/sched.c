/* Scheduling decisions of the two-class credit scheduler (sched/sched.h, docs/scheduler.md).
 *
 * One run queue per core class, shared by all the cores of that class: regular vCPUs migrate
 * freely among the regular cores and turbo vCPUs among the turbo cores (vTurbo §3.1 pins each
 * kind to its pool), and a core of a class can never see a vCPU of the other class. A core takes
 * the head of the best non-empty list, BOOST, then UNDER, then OVER (Xen credit1's priorities),
 * so it never idles while anything of its class waits, even a vCPU out of credit. A call of one
 * class touches that class's data only (sched.h, "concurrency"), so the caller can lock the two
 * classes apart. */
#include "sched/sched_internal.h"

#define DEFAULT_REGULAR_SLICE_NS 30000000ull /* vTurbo §3.1: Xen's default 30 ms */
#define DEFAULT_TURBO_SLICE_NS	 100000ull   /* vTurbo §3.1: 0.1 ms */
#define DEFAULT_TURBO_MIN_NS	 20000ull    /* a running turbo vCPU keeps the core 20 µs */
#define MAX_VMS			 65536u	     /* keeps sum(w) * w of the accounting in 64 bits */

static const struct sched_kick no_kick = {.core = -1, .at_ns = 0};

void sched_default_params(struct sched_params *p)
{
	p->regular_slice_ns = DEFAULT_REGULAR_SLICE_NS;
	p->turbo_slice_ns = DEFAULT_TURBO_SLICE_NS;
	p->turbo_preempt = true;
	p->turbo_preempt_min_ns = DEFAULT_TURBO_MIN_NS;
}

static bool slice_ok(uint64_t ns)
{
	return ns >= SCHED_MIN_SLICE_NS && ns <= SCHED_MAX_SLICE_NS;
}

int sched_init(struct sched *s, const struct sched_params *p, struct sched_vm *vms,
	       unsigned max_vms, struct sched_vcpu *vcpus, unsigned max_vcpus, uint64_t now_ns)
{
	if (!slice_ok(p->regular_slice_ns) || !slice_ok(p->turbo_slice_ns) ||
	    p->turbo_slice_ns > p->regular_slice_ns || max_vms > MAX_VMS ||
	    max_vcpus > (unsigned)INT32_MAX)
		return -1;
	*s = (struct sched){
		.p = *p,
		.vms = vms,
		.vcpus = vcpus,
		.max_vms = max_vms,
		.max_vcpus = max_vcpus,
	};
	for (unsigned c = 0; c < SCHED_MAX_CPUS; c++) {
		s->cores[c].cur = NO_VCPU;
		s->cores[c].kick_for = NO_VCPU;
		s->cores[c].deadline = SCHED_NEVER;
	}
	for (unsigned cls = 0; cls < SCHED_NR_CLASSES; cls++) {
		struct sched_pool *pool = &s->pool[cls];

		for (unsigned prio = 0; prio < SCHED_NR_PRIOS; prio++)
			pool->head[prio] = pool->tail[prio] = NO_VCPU;
		pool->period_last = pool->tick_last = now_ns;
	}
	return 0;
}

int sched_add_core(struct sched *s, unsigned core, enum sched_class cls)
{
	if (core >= SCHED_MAX_CPUS || s->cores[core].present ||
	    (cls != SCHED_REGULAR && cls != SCHED_TURBO))
		return -1;
	s->cores[core].present = true;
	s->cores[core].cls = (uint8_t)cls;
	/* It starts idle: the first wake of a vCPU of its class kicks it. */
	coreset_add(&s->pool[cls].cores, core);
	coreset_add(&s->pool[cls].idle, core);
	return 0;
}

int sched_add_vm(struct sched *s, unsigned weight)
{
	struct sched_vm *vm;

	if (weight == 0 || weight > SCHED_MAX_WEIGHT || s->nr_vms >= s->max_vms)
		return -1;
	vm = &s->vms[s->nr_vms];
	*vm = (struct sched_vm){.weight = weight, .turbo_vcpu = NO_VCPU};
	return (int)s->nr_vms++;
}

int sched_add_vcpu(struct sched *s, int vm, enum sched_class cls)
{
	int id = (int)s->nr_vcpus;

	if (vm < 0 || (uint32_t)vm >= s->nr_vms || s->nr_vcpus >= s->max_vcpus ||
	    (cls != SCHED_REGULAR && cls != SCHED_TURBO) || coreset_empty(&s->pool[cls].cores))
		return -1;
	if (cls == SCHED_TURBO && s->vms[vm].turbo_vcpu != NO_VCPU)
		return -1; /* vTurbo gives each VM one turbo vCPU */
	s->vcpus[id] = (struct sched_vcpu){
		.next = NO_VCPU,
		.prev = NO_VCPU,
		.vm = vm,
		.core = NO_CORE,
		.last_core = NO_CORE,
		.kicked_core = NO_CORE,
		.cls = (uint8_t)cls,
		.state = VCPU_BLOCKED,
	};
	s->vms[vm].nr_vcpus[cls]++;
	if (cls == SCHED_TURBO)
		s->vms[vm].turbo_vcpu = id;
	s->nr_vcpus++;
	return id;
}

static bool vcpu_ok(const struct sched *s, int vcpu)
{
	return vcpu >= 0 && (uint32_t)vcpu < s->nr_vcpus;
}

static bool core_ok(const struct sched *s, unsigned core)
{
	return core < SCHED_MAX_CPUS && s->cores[core].present;
}

/* --- pending kicks ---------------------------------------------------------------------------- */

/* Core `core` re-picks now: whatever was pending for it is done. */
static void clear_kick(struct sched *s, unsigned core)
{
	struct sched_core *c = &s->cores[core];

	coreset_del(&s->pool[c->cls].kicked, core);
	if (c->kick_for != NO_VCPU)
		s->vcpus[c->kick_for].kicked_core = NO_CORE;
	c->kick_for = NO_VCPU;
}

/* The boosted vCPU a preemption of `core` was for no longer needs it (another core took it, or it
 * blocked): the core keeps its vCPU to the end of the slice. The caller's timer may still fire at
 * the old time; the core then finds a later deadline and re-arms. */
static void cancel_preemption(struct sched *s, int vcpu)
{
	int core = s->vcpus[vcpu].kicked_core;

	if (core == NO_CORE)
		return;
	clear_kick(s, (unsigned)core);
	set_deadline(&s->cores[core], s->cores[core].slice_until);
}

/* --- pick ------------------------------------------------------------------------------------- */

/* The vCPU that was running on the core goes back to the tail of its list (round robin within a
 * priority); its credit after the charge decides the list. */
static void stop_current(struct sched *s, struct sched_core *c, uint64_t now_ns)
{
	int id = c->cur;
	struct sched_vcpu *v = &s->vcpus[id];

	sched_charge(s, id, now_ns);
	v->core = NO_CORE;
	c->cur = NO_VCPU;
	runq_append(s, id, credit_prio(v));
}

static int runq_pop_best(struct sched *s, enum sched_class cls)
{
	struct sched_pool *rq = &s->pool[cls];

	for (unsigned prio = 0; prio < SCHED_NR_PRIOS; prio++) {
		int id = rq->head[prio];

		if (id != NO_VCPU) {
			runq_remove(s, id);
			return id;
		}
	}
	return NO_VCPU;
}

static struct sched_pick go_idle(struct sched *s, unsigned core)
{
	struct sched_core *c = &s->cores[core];

	coreset_add(&s->pool[c->cls].idle, core);
	set_deadline(c, SCHED_NEVER);
	c->idle_picks++;
	return (struct sched_pick){.vcpu = NO_VCPU, .until_ns = SCHED_NEVER};
}

static struct sched_pick run_vcpu(struct sched *s, unsigned core, int id, uint64_t now_ns)
{
	struct sched_core *c = &s->cores[core];
	struct sched_vcpu *v = &s->vcpus[id];
	uint64_t slice = c->cls == SCHED_TURBO ? s->p.turbo_slice_ns : s->p.regular_slice_ns;

	/* A boosted vCPU taken by another core than the one preempted for it frees that core. */
	cancel_preemption(s, id);
	v->state = VCPU_RUNNING;
	v->core = (int16_t)core;
	v->last_core = (int16_t)core;
	v->charged_to = now_ns;
	v->picks++;
	c->cur = id;
	c->slice_start = now_ns;
	c->slice_until = now_ns + slice;
	set_deadline(c, c->slice_until);
	return (struct sched_pick){.vcpu = id, .until_ns = c->slice_until};
}

struct sched_pick sched_pick_next(struct sched *s, unsigned core, uint64_t now_ns)
{
	struct sched_core *c;
	int id;

	if (!core_ok(s, core))
		return (struct sched_pick){.vcpu = NO_VCPU, .until_ns = SCHED_NEVER};
	c = &s->cores[core];
	c->picks++;
	if (c->cur != NO_VCPU)
		stop_current(s, c, now_ns);
	coreset_del(&s->pool[c->cls].idle, core);
	clear_kick(s, core);
	/* Accounting is due at the end of a slice: the pick that sees it runs it (Algorithm 2),
	 * the class's own. */
	sched_account_due(s, (enum sched_class)c->cls, now_ns);
	id = runq_pop_best(s, c->cls);
	if (id == NO_VCPU)
		return go_idle(s, core);
	return run_vcpu(s, core, id, now_ns);
}

/* --- block and wake --------------------------------------------------------------------------- */

void sched_block(struct sched *s, int vcpu, uint64_t now_ns)
{
	struct sched_vcpu *v;

	if (!vcpu_ok(s, vcpu))
		return;
	v = &s->vcpus[vcpu];
	if (v->state == VCPU_BLOCKED)
		return;
	if (v->state == VCPU_RUNNING) {
		struct sched_core *c = &s->cores[v->core];

		sched_charge(s, vcpu, now_ns);
		c->cur = NO_VCPU;
		set_deadline(c, now_ns); /* the core must pick another vCPU now */
		v->core = NO_CORE;
	} else {
		runq_remove(s, vcpu);
		cancel_preemption(s, vcpu);
	}
	v->state = VCPU_BLOCKED;
	sched_runnable_add(s, v, -1);
}

/* An idle core of the vCPU's class that no earlier kick already claimed; its last core first
 * (its cache may still be warm). */
static struct sched_kick kick_idle_core(struct sched *s, const struct sched_vcpu *v,
					uint64_t now_ns)
{
	struct sched_pool *rq = &s->pool[v->cls];
	struct sched_coreset free = coreset_minus(rq->idle, &rq->kicked);
	unsigned core;

	if (coreset_empty(&free))
		return no_kick;
	if (v->last_core != NO_CORE && coreset_has(&free, (unsigned)v->last_core))
		core = (unsigned)v->last_core;
	else
		core = (unsigned)coreset_next(&free, 0);
	coreset_add(&rq->kicked, core);
	set_deadline(&s->cores[core], now_ns);
	rq->idle_kicks++;
	return (struct sched_kick){.core = (int)core, .at_ns = now_ns};
}

/* Beyond vTurbo: an interrupt for a waiting turbo vCPU should not wait for the turbo slices of
 * every vCPU queued before it. Only a vCPU with credit left may preempt (as Xen's BOOST), so
 * interrupts cannot buy a VM more than its turbo share. */
static bool may_preempt(const struct sched *s, const struct sched_vcpu *v)
{
	return v->cls == SCHED_TURBO && s->p.turbo_preempt && v->credit >= 0;
}

/* When core c may be preempted: once its vCPU has run the minimum. */
static uint64_t preempt_time(const struct sched *s, const struct sched_core *c, uint64_t now_ns)
{
	uint64_t at = c->slice_start + s->p.turbo_preempt_min_ns;

	return at > now_ns ? at : now_ns;
}

/* Is core a a better victim than core b? One running an OVER vCPU first (it is past its share),
 * then the one that can be preempted soonest. */
static bool better_victim(const struct sched *s, unsigned a, unsigned b, uint64_t now_ns)
{
	const struct sched_core *ca = &s->cores[a], *cb = &s->cores[b];
	bool over_a = s->vcpus[ca->cur].credit < 0, over_b = s->vcpus[cb->cur].credit < 0;

	if (over_a != over_b)
		return over_a;
	return preempt_time(s, ca, now_ns) < preempt_time(s, cb, now_ns);
}

/* The turbo core to preempt for boosted vCPU `vcpu`, and when. O(#turbo cores). */
static struct sched_kick preempt_turbo_core(struct sched *s, int vcpu, uint64_t now_ns)
{
	struct sched_pool *rq = &s->pool[SCHED_TURBO];
	struct sched_coreset busy = coreset_minus(coreset_minus(rq->cores, &rq->idle), &rq->kicked);
	int best = NO_CORE;
	struct sched_core *c;

	if (s->vcpus[vcpu].kicked_core != NO_CORE)
		return no_kick; /* a preemption for it is already on its way */
	for (int core = coreset_next(&busy, 0); core != NO_CORE;
	     core = coreset_next(&busy, (unsigned)core + 1)) {
		if (s->cores[core].cur == NO_VCPU)
			return no_kick; /* its vCPU just blocked: it is about to pick anyway */
		if (best == NO_CORE || better_victim(s, (unsigned)core, (unsigned)best, now_ns))
			best = core;
	}
	if (best == NO_CORE)
		return no_kick; /* every turbo core is already re-picking */
	c = &s->cores[best];
	coreset_add(&rq->kicked, (unsigned)best);
	c->kick_for = vcpu;
	s->vcpus[vcpu].kicked_core = (int16_t)best;
	if (preempt_time(s, c, now_ns) >= c->slice_until)
		return no_kick; /* its slice ends first: the pick then takes the boosted vCPU */
	set_deadline(c, preempt_time(s, c, now_ns));
	c->preemptions++;
	rq->preempt_kicks++;
	return (struct sched_kick){.core = best, .at_ns = preempt_time(s, c, now_ns)};
}

struct sched_kick sched_wake(struct sched *s, int vcpu, uint64_t now_ns)
{
	struct sched_vcpu *v;
	struct sched_kick k;

	if (!vcpu_ok(s, vcpu))
		return no_kick;
	v = &s->vcpus[vcpu];
	v->wakes++;
	if (v->state == VCPU_RUNNING)
		return no_kick; /* it will see the interrupt itself */
	sched_account_due(s, (enum sched_class)v->cls, now_ns);
	if (v->state == VCPU_BLOCKED) {
		sched_runnable_add(s, v, +1);
		runq_append(s, vcpu, may_preempt(s, v) ? SCHED_BOOST : credit_prio(v));
	} else if (may_preempt(s, v) && v->prio != SCHED_BOOST) {
		/* An interrupt for a turbo vCPU that was already waiting. */
		runq_remove(s, vcpu);
		runq_append(s, vcpu, SCHED_BOOST);
	}
	k = kick_idle_core(s, v, now_ns);
	if (k.core == NO_CORE && v->prio == SCHED_BOOST)
		k = preempt_turbo_core(s, vcpu, now_ns);
	return k;
}

/* --- queries ---------------------------------------------------------------------------------- */

uint64_t sched_core_deadline(const struct sched *s, unsigned core)
{
	return core_ok(s, core) ? __atomic_load_n(&s->cores[core].deadline, __ATOMIC_RELAXED)
				: SCHED_NEVER;
}

int sched_vcpu_class(const struct sched *s, int vcpu)
{
	return vcpu_ok(s, vcpu) ? s->vcpus[vcpu].cls : -1;
}

int sched_core_class(const struct sched *s, unsigned core)
{
	return core_ok(s, core) ? s->cores[core].cls : -1;
}

unsigned sched_queued(const struct sched *s, enum sched_class cls)
{
	return cls == SCHED_REGULAR || cls == SCHED_TURBO ? s->pool[cls].nr_queued : 0;
}

int sched_vm_stats(const struct sched *s, int vm, struct sched_vm_stats *out)
{
	const struct sched_vm *m;

	if (vm < 0 || (uint32_t)vm >= s->nr_vms)
		return -1;
	m = &s->vms[vm];
	*out = (struct sched_vm_stats){
		.consumed_ns = {m->part[SCHED_REGULAR].consumed_ns,
				m->part[SCHED_TURBO].consumed_ns},
		.window_ns = {s->pool[SCHED_REGULAR].window_ns, s->pool[SCHED_TURBO].window_ns},
		.fair_share_ns = m->fair_share_ns,
		.alloc_ns = {m->part[SCHED_REGULAR].alloc_ns, m->part[SCHED_TURBO].alloc_ns},
	};
	return 0;
}

int sched_vcpu_stats(const struct sched *s, int vcpu, struct sched_vcpu_stats *out)
{
	const struct sched_vcpu *v;

	if (!vcpu_ok(s, vcpu))
		return -1;
	v = &s->vcpus[vcpu];
	*out = (struct sched_vcpu_stats){
		.consumed_ns = v->consumed_ns,
		.picks = v->picks,
		.wakes = v->wakes,
		.credit_ns = v->credit,
		.last_core = v->last_core,
		.runnable = v->state != VCPU_BLOCKED,
		.running = v->state == VCPU_RUNNING,
	};
	return 0;
}

int sched_core_stats(const struct sched *s, unsigned core, struct sched_core_stats *out)
{
	const struct sched_core *c;

	if (!core_ok(s, core))
		return -1;
	c = &s->cores[core];
	*out = (struct sched_core_stats){
		.picks = c->picks,
		.idle_picks = c->idle_picks,
		.preemptions = c->preemptions,
		.busy_ns = c->busy_ns,
		.vcpu = c->cur,
	};
	return 0;
}

int sched_class_stats(const struct sched *s, enum sched_class cls, struct sched_class_stats *out)
{
	const struct sched_pool *rq;

	if (cls != SCHED_REGULAR && cls != SCHED_TURBO)
		return -1;
	rq = &s->pool[cls];
	*out = (struct sched_class_stats){
		.queued = rq->nr_queued,
		.idle_kicks = rq->idle_kicks,
		.preempt_kicks = rq->preempt_kicks,
		.accountings = cls == SCHED_REGULAR ? rq->periods : rq->ticks,
	};
	for (int core = coreset_next(&rq->cores, 0); core != NO_CORE;
	     core = coreset_next(&rq->cores, (unsigned)core + 1)) {
		const struct sched_core *c = &s->cores[core];

		out->cores++;
		out->picks += c->picks;
		out->idle_picks += c->idle_picks;
		out->busy_ns += c->busy_ns;
	}
	return 0;
}
