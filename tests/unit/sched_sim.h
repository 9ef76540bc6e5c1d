/* A discrete-event simulator that drives sched/ the way the kernel does (header-only, for
 * tests/unit/test_sched.c; include it after <cmocka.h>).
 *
 * Cores call sched_pick_next when their one-shot timer fires (at the deadline of their last
 * pick, or earlier when a kick says so) and when their vCPU blocks; a kicked core whose deadline
 * has moved (a cancelled preemption) just re-arms, as the kernel's kick handler will. vCPUs run
 * workloads: always idle, CPU-bound, or interrupt-driven (an interrupt every `period` brings
 * `burst` of work; with no work left the vCPU halts). Every decision is checked against the
 * simulator's own view: the class of the core, never a halted vCPU, never one vCPU on two cores,
 * the slice length, the kick's core and time, and (between events) that no core of a class sits
 * idle while a runnable vCPU of that class waits. */
#ifndef TESTS_UNIT_SCHED_SIM_H
#define TESTS_UNIT_SCHED_SIM_H

#include <stdint.h>
#include <stdlib.h>

#include "sched/sched.h"

/* As many as a manifest may have (lib/config.h): 256 VMs of 64 regular vCPUs and a turbo one. */
#define SIM_MAX_VMS   CONFIG_MAX_VMS
#define SIM_MAX_VCPUS (CONFIG_MAX_VMS * (CONFIG_MAX_VCPUS + 1))
#define SIM_NEVER     UINT64_MAX
#define SIM_US	      1000ull
#define SIM_MS	      1000000ull

enum sim_load {
	SIM_IDLE,     /* never runnable (a turbo vCPU of a VM without I/O) */
	SIM_CPU,      /* always runnable, never halts */
	SIM_PERIODIC, /* interrupt-driven: `burst` of work every `period`, halts when done */
};

struct sim_vcpu {
	enum sched_class cls;
	enum sim_load load;
	int vm;
	uint64_t period, burst, next_irq;
	uint64_t jitter; /* each interrupt comes up to this much later than its period says */
	uint64_t work;	 /* left to do (SIM_PERIODIC) */
	bool runnable;	 /* the simulator's view: woken and not halted */
	int core;	 /* running on, -1 if not */
	uint64_t run_start;
	uint64_t ran_ns;
	uint64_t cores_used; /* mask of the cores 0-63 it ran on */
	/* Wait: runnable but not running; latency: from an interrupt to the first run after it. */
	uint64_t waiting_since, max_wait;
	bool lat_pending;
	uint64_t lat_since, lat_max, lat_sum, lat_n;
};

struct sim_core {
	bool present;
	enum sched_class cls;
	int vcpu; /* running, -1 if none */
	uint64_t timer_at;
	bool entered; /* has made its first pick (entering its loop, it picks unconditionally) */
};

struct sim {
	struct sched s;
	struct sched_params p;
	struct sched_vm vms[SIM_MAX_VMS];
	struct sched_vcpu svcpus[SIM_MAX_VCPUS];
	struct sim_vcpu v[SIM_MAX_VCPUS]; /* indexed by the scheduler's vCPU id */
	struct sim_core c[SCHED_MAX_CPUS];
	int nv;
	uint64_t now;
	uint64_t picks, kicks, events;
	uint64_t rearms; /* timers that found their preemption cancelled */
	uint64_t rng;	 /* xorshift state for the jitter */
};

static inline struct sim *sim_new(const struct sched_params *p)
{
	struct sim *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->p = *p;
	m->rng = 0x853c49e6748fea9bull;
	assert_int_equal(sched_init(&m->s, p, m->vms, SIM_MAX_VMS, m->svcpus, SIM_MAX_VCPUS, 0), 0);
	for (int i = 0; i < SCHED_MAX_CPUS; i++) {
		m->c[i].vcpu = -1;
		m->c[i].timer_at = SIM_NEVER;
	}
	return m;
}

static inline void sim_add_core(struct sim *m, unsigned core, enum sched_class cls)
{
	assert_int_equal(sched_add_core(&m->s, core, cls), 0);
	m->c[core].present = true;
	m->c[core].cls = cls;
	m->c[core].timer_at = 0; /* every core enters its loop with a pick at time 0 */
}

static inline int sim_add_vm(struct sim *m, unsigned weight)
{
	int vm = sched_add_vm(&m->s, weight);

	assert_true(vm >= 0);
	return vm;
}

/* A vCPU with its workload; SIM_PERIODIC: the first interrupt comes at `phase`. */
static inline int sim_add_vcpu(struct sim *m, int vm, enum sched_class cls, enum sim_load load,
			       uint64_t period, uint64_t burst, uint64_t phase)
{
	int id = sched_add_vcpu(&m->s, vm, cls);
	struct sim_vcpu *v;

	assert_true(id >= 0);
	assert_int_equal(id, m->nv);
	v = &m->v[m->nv++];
	*v = (struct sim_vcpu){.cls = cls, .load = load, .vm = vm, .core = -1};
	v->period = period;
	v->burst = burst;
	v->next_irq = load == SIM_PERIODIC ? phase : SIM_NEVER;
	if (load == SIM_CPU) {
		v->runnable = true;
		(void)sched_wake(&m->s, id, 0); /* the cores pick at time 0 anyway */
	}
	return id;
}

static inline uint64_t sim_slice(const struct sim *m, enum sched_class cls)
{
	return cls == SCHED_TURBO ? m->p.turbo_slice_ns : m->p.regular_slice_ns;
}

/* The vCPU on `core` stops running (slice end, kick or halt): count what it did. */
static inline void sim_stop(struct sim *m, unsigned core)
{
	struct sim_core *c = &m->c[core];
	struct sim_vcpu *v;
	uint64_t ran;

	if (c->vcpu < 0)
		return;
	v = &m->v[c->vcpu];
	ran = m->now - v->run_start;
	v->ran_ns += ran;
	if (v->load == SIM_PERIODIC)
		v->work -= ran;
	v->core = -1;
	c->vcpu = -1;
	if (v->runnable)
		v->waiting_since = m->now;
}

static inline void sim_pick(struct sim *m, unsigned core)
{
	struct sim_core *c = &m->c[core];
	struct sched_pick p;
	struct sim_vcpu *v;

	sim_stop(m, core);
	p = sched_pick_next(&m->s, core, m->now);
	m->picks++;
	c->entered = true;
	if (p.vcpu < 0) {
		assert_true(p.until_ns == SCHED_NEVER);
		c->timer_at = SIM_NEVER;
		return;
	}
	assert_true(p.vcpu < m->nv);
	v = &m->v[p.vcpu];
	/* The two classes never mix (vTurbo §3.1), a halted vCPU is never picked, and a vCPU
	 * runs on one core at a time. */
	assert_int_equal(v->cls, c->cls);
	assert_true(v->runnable);
	assert_int_equal(v->core, -1);
	assert_true(p.until_ns == m->now + sim_slice(m, c->cls));
	if (m->now - v->waiting_since > v->max_wait)
		v->max_wait = m->now - v->waiting_since;
	if (v->lat_pending) {
		uint64_t lat = m->now - v->lat_since;

		v->lat_pending = false;
		v->lat_sum += lat;
		v->lat_n++;
		if (lat > v->lat_max)
			v->lat_max = lat;
	}
	v->core = (int)core;
	v->run_start = m->now;
	if (core < 64)
		v->cores_used |= 1ull << core;
	c->vcpu = p.vcpu;
	c->timer_at = p.until_ns;
}

static inline void sim_apply_kick(struct sim *m, int vcpu, struct sched_kick k)
{
	if (k.core < 0)
		return;
	m->kicks++;
	assert_true(k.core < SCHED_MAX_CPUS && m->c[k.core].present);
	assert_int_equal(m->c[k.core].cls, m->v[vcpu].cls);
	assert_true(k.at_ns >= m->now);
	assert_true(k.at_ns == sched_core_deadline(&m->s, (unsigned)k.core));
	if (k.at_ns < m->c[k.core].timer_at)
		m->c[k.core].timer_at = k.at_ns;
}

static inline void sim_irq(struct sim *m, int id)
{
	struct sim_vcpu *v = &m->v[id];

	v->work += v->burst;
	v->next_irq += v->period;
	if (v->jitter) {
		m->rng ^= m->rng << 13;
		m->rng ^= m->rng >> 7;
		m->rng ^= m->rng << 17;
		v->next_irq += m->rng % v->jitter;
	}
	if (!v->runnable) {
		v->runnable = true;
		v->waiting_since = m->now;
	}
	if (v->core < 0 && !v->lat_pending) {
		v->lat_pending = true;
		v->lat_since = m->now;
	}
	sim_apply_kick(m, id, sched_wake(&m->s, id, m->now));
}

static inline uint64_t sim_next_event(const struct sim *m)
{
	uint64_t t = SIM_NEVER;

	for (int i = 0; i < m->nv; i++) {
		const struct sim_vcpu *v = &m->v[i];

		if (v->next_irq < t)
			t = v->next_irq;
		if (v->core >= 0 && v->load == SIM_PERIODIC && v->run_start + v->work < t)
			t = v->run_start + v->work;
	}
	for (int c = 0; c < SCHED_MAX_CPUS; c++)
		if (m->c[c].present && m->c[c].timer_at < t)
			t = m->c[c].timer_at;
	return t;
}

/* Between events: no idle core while a runnable vCPU of its class waits (work conservation),
 * and the scheduler never moved a core's deadline earlier without a kick. */
static inline void sim_check_state(const struct sim *m)
{
	bool idle[SCHED_NR_CLASSES] = {false, false};

	for (int c = 0; c < SCHED_MAX_CPUS; c++) {
		if (!m->c[c].present)
			continue;
		assert_true(!m->c[c].entered ||
			    sched_core_deadline(&m->s, (unsigned)c) >= m->c[c].timer_at);
		if (m->c[c].vcpu < 0 && m->c[c].timer_at == SIM_NEVER)
			idle[m->c[c].cls] = true;
	}
	for (int i = 0; i < m->nv; i++) {
		const struct sim_vcpu *v = &m->v[i];

		if (v->runnable && v->core < 0 && idle[v->cls])
			fail_msg("core of class %d idle while vCPU %d waits at %llu", v->cls, i,
				 (unsigned long long)m->now);
	}
}

static inline void sim_step(struct sim *m)
{
	m->events++;
	for (int i = 0; i < m->nv; i++)
		while (m->v[i].next_irq <= m->now)
			sim_irq(m, i);
	for (unsigned c = 0; c < SCHED_MAX_CPUS; c++) {
		int id = m->c[c].vcpu;

		if (id >= 0 && m->v[id].load == SIM_PERIODIC &&
		    m->v[id].run_start + m->v[id].work <= m->now) {
			/* Its work is done: it executes HLT. */
			sim_stop(m, c);
			m->v[id].runnable = false;
			sched_block(&m->s, id, m->now);
			sim_pick(m, c);
		}
	}
	for (unsigned c = 0; c < SCHED_MAX_CPUS; c++) {
		if (!m->c[c].present || m->c[c].timer_at > m->now)
			continue;
		if (m->c[c].entered && sched_core_deadline(&m->s, c) > m->now) {
			m->c[c].timer_at = sched_core_deadline(&m->s, c); /* stale kick: re-arm */
			m->rearms++;
		} else {
			sim_pick(m, c);
		}
	}
}

/* Runs the machine until `end`; the running vCPUs are counted up to `end`. */
static inline void sim_run_until(struct sim *m, uint64_t end)
{
	for (;;) {
		uint64_t t = sim_next_event(m);

		if (t > m->now)
			sim_check_state(m);
		if (t > end)
			break;
		m->now = t;
		sim_step(m);
	}
	m->now = end;
	for (unsigned c = 0; c < SCHED_MAX_CPUS; c++) {
		int id = m->c[c].vcpu;

		if (id >= 0) {
			m->v[id].ran_ns += end - m->v[id].run_start;
			if (m->v[id].load == SIM_PERIODIC)
				m->v[id].work -= end - m->v[id].run_start;
			m->v[id].run_start = end;
		}
	}
	sched_account(&m->s, end);
}

/* Restarts the latency and wait statistics (after a warm-up). */
static inline void sim_reset_latency(struct sim *m)
{
	for (int i = 0; i < m->nv; i++) {
		struct sim_vcpu *v = &m->v[i];

		v->lat_max = v->lat_sum = v->lat_n = 0;
		v->max_wait = 0;
		if (v->runnable && v->core < 0)
			v->waiting_since = m->now;
	}
}

static inline uint64_t sim_vm_consumed(const struct sim *m, int vm, enum sched_class cls)
{
	struct sched_vm_stats st;

	assert_int_equal(sched_vm_stats(&m->s, vm, &st), 0);
	return st.consumed_ns[cls];
}

#endif
