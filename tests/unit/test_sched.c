/* The two-class credit scheduler (sched/): vTurbo's Table 1, weights, starvation, pinning,
 * blocking, turbo preemption and work conservation, on a simulated clock (sched_sim.h); and the
 * split of its data by class that lets the kernel lock the classes apart (sched.h,
 * "concurrency"), byte for byte and with threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sched/sched.h"
#include "tests/unit/sched_sim.h"

#define REG  SCHED_REGULAR
#define TURB SCHED_TURBO

static struct sched_params default_params(void)
{
	struct sched_params p;

	sched_default_params(&p);
	return p;
}

static double pct(uint64_t part, uint64_t whole)
{
	return 100.0 * (double)part / (double)whole;
}

static void assert_near(double got, double want, double tol, const char *what)
{
	if (got < want - tol || got > want + tol)
		fail_msg("%s: %.2f, expected %.2f +- %.2f", what, got, want, tol);
}

/* --- vTurbo Table 1 ------------------------------------------------------------------------- */

/* Two equal-weight VMs, each with a regular and a turbo vCPU, on one regular and one turbo core.
 * Demands in percent of a core; a turbo demand below 100 is an interrupt-driven vCPU. */
struct table1_row {
	int reg_demand[2], turbo_demand[2];
	/* vTurbo Table 1: allocated FS^R, FS^T and consumed regular, turbo shares. */
	double alloc_r[2], alloc_t[2], used_r[2], used_t[2];
};

static void add_demand(struct sim *m, int vm, enum sched_class cls, int demand, uint64_t phase)
{
	uint64_t period = 1 * SIM_MS;

	if (demand == 0)
		sim_add_vcpu(m, vm, cls, SIM_IDLE, 0, 0, 0);
	else if (demand >= 100)
		sim_add_vcpu(m, vm, cls, SIM_CPU, 0, 0, 0);
	else
		sim_add_vcpu(m, vm, cls, SIM_PERIODIC, period, period * (uint64_t)demand / 100,
			     phase);
}

static void run_table1_row(const struct table1_row *row)
{
	struct sched_params p = default_params();
	struct sim *m = sim_new(&p);
	const uint64_t warmup = 300 * SIM_MS, step = 30 * SIM_MS;
	const int steps = 100; /* 3 s measured, 100 accounting periods */
	uint64_t used0[2][2];
	double alloc[2][2] = {{0}};

	sim_add_core(m, 0, REG);
	sim_add_core(m, 1, TURB);
	for (int i = 0; i < 2; i++) {
		int vm = sim_add_vm(m, 256);

		add_demand(m, vm, REG, row->reg_demand[i], 0);
		add_demand(m, vm, TURB, row->turbo_demand[i], (uint64_t)(i * 317) * SIM_US);
	}
	/* Sample at mid-period so every sample sees a settled allocation. */
	sim_run_until(m, warmup - step / 2);
	for (int vm = 0; vm < 2; vm++)
		for (int cls = 0; cls < 2; cls++)
			used0[vm][cls] = sim_vm_consumed(m, vm, cls);
	for (int k = 0; k < steps; k++) {
		sim_run_until(m, warmup - step / 2 + (uint64_t)(k + 1) * step);
		for (int vm = 0; vm < 2; vm++) {
			struct sched_vm_stats st;

			assert_int_equal(sched_vm_stats(&m->s, vm, &st), 0);
			for (int cls = 0; cls < 2; cls++)
				alloc[vm][cls] += pct(st.alloc_ns[cls], st.window_ns[cls]) / steps;
		}
	}
	for (int vm = 0; vm < 2; vm++) {
		double used_r = pct(sim_vm_consumed(m, vm, REG) - used0[vm][REG], steps * step);
		double used_t = pct(sim_vm_consumed(m, vm, TURB) - used0[vm][TURB], steps * step);

		print_message("  VM%d demand %3d/%3d: allocated FS^R %5.1f FS^T %5.1f, consumed "
			      "%5.1f %5.1f\n",
			      vm + 1, row->reg_demand[vm], row->turbo_demand[vm], alloc[vm][REG],
			      alloc[vm][TURB], used_r, used_t);
		assert_near(alloc[vm][REG], row->alloc_r[vm], 2, "allocated FS^R");
		assert_near(alloc[vm][TURB], row->alloc_t[vm], 2, "allocated FS^T");
		assert_near(used_r, row->used_r[vm], 2, "consumed regular");
		assert_near(used_t, row->used_t[vm], 2, "consumed turbo");
	}
	free(m);
}

static void test_table1_cpu_bound_only(void **state)
{
	(void)state;
	/* Row 1: both want a full regular core and no turbo time. */
	const struct table1_row row = {
		{100, 100}, {0, 0}, {50, 50}, {0, 0}, {50, 50}, {0, 0},
	};
	run_table1_row(&row);
}

static void test_table1_one_turbo_user(void **state)
{
	(void)state;
	/* Row 2: VM2 also saturates the turbo core; its turbo time counts against its fair
	 * share, so VM1 gets the regular core. */
	const struct table1_row row = {
		{100, 100}, {0, 100}, {100, 0}, {0, 100}, {100, 0}, {0, 100},
	};
	run_table1_row(&row);
}

static void test_table1_both_turbo(void **state)
{
	(void)state;
	/* Row 3: both saturate both cores. */
	const struct table1_row row = {
		{100, 100}, {100, 100}, {50, 50}, {50, 50}, {50, 50}, {50, 50},
	};
	run_table1_row(&row);
}

static void test_table1_interrupt_driven(void **state)
{
	(void)state;
	/* Row 4: interrupt-driven turbo demands of 15% and 55%: FS = 170/2 = 85 each, FS^T =
	 * 70/2 = 35 each, FS^R = 85 - 15 = 70 and 85 - 55 = 30. */
	const struct table1_row row = {
		{100, 100}, {15, 55}, {70, 30}, {35, 35}, {70, 30}, {15, 55},
	};
	run_table1_row(&row);
}

/* --- weights ------------------------------------------------------------------------------- */

/* VMs of weights 1 and 2, each with `per_vm` CPU-bound regular vCPUs, on `cores` regular cores;
 * returns the shares of the total regular capacity. */
static void weighted_shares(unsigned cores, int per_vm, double share[2])
{
	struct sched_params p = default_params();
	struct sim *m = sim_new(&p);
	const uint64_t warmup = 300 * SIM_MS, end = warmup + 6000 * SIM_MS;
	uint64_t used0[2];

	for (unsigned c = 0; c < cores; c++)
		sim_add_core(m, c, REG);
	for (int i = 0; i < 2; i++) {
		int vm = sim_add_vm(m, 100 * (unsigned)(i + 1));

		for (int k = 0; k < per_vm; k++)
			sim_add_vcpu(m, vm, REG, SIM_CPU, 0, 0, 0);
	}
	sim_run_until(m, warmup);
	for (int vm = 0; vm < 2; vm++)
		used0[vm] = sim_vm_consumed(m, vm, REG);
	sim_run_until(m, end);
	for (int vm = 0; vm < 2; vm++)
		share[vm] = pct(sim_vm_consumed(m, vm, REG) - used0[vm], (end - warmup) * cores);
	print_message("  %u cores, %d vCPUs per VM: weight 1 %.2f%%, weight 2 %.2f%%\n", cores,
		      per_vm, share[0], share[1]);
	free(m);
}

static void test_weights_one_core(void **state)
{
	double share[2];

	(void)state;
	weighted_shares(1, 1, share);
	assert_near(share[0], 100.0 / 3, 2, "weight 1");
	assert_near(share[1], 200.0 / 3, 2, "weight 2");
}

static void test_weights_several_cores(void **state)
{
	double share[2];

	(void)state;
	weighted_shares(3, 3, share);
	assert_near(share[0], 100.0 / 3, 2, "weight 1 on 3 cores");
	assert_near(share[1], 200.0 / 3, 2, "weight 2 on 3 cores");
	weighted_shares(4, 4, share);
	assert_near(share[0], 100.0 / 3, 2, "weight 1 on 4 cores");
	assert_near(share[1], 200.0 / 3, 2, "weight 2 on 4 cores");
}

/* --- starvation ---------------------------------------------------------------------------- */

static void test_no_starvation_16_vms(void **state)
{
	struct sched_params p = default_params();
	struct sim *m = sim_new(&p);
	const int nvms = 16;
	const unsigned ncores = 2;
	const uint64_t warmup = 300 * SIM_MS, end = warmup + 6000 * SIM_MS;
	/* Round robin would make a vCPU wait (16 / 2 - 1) slices; credit ordering may reorder
	 * within a period, so allow twice the round. */
	const uint64_t bound = 2 * (nvms / ncores) * p.regular_slice_ns;
	uint64_t used0[16], worst = 0;
	int reg[16], turbo[16];

	(void)state;
	for (unsigned c = 0; c < ncores; c++)
		sim_add_core(m, c, REG);
	sim_add_core(m, ncores, TURB);
	for (int i = 0; i < nvms; i++) {
		int vm = sim_add_vm(m, 256);

		reg[i] = sim_add_vcpu(m, vm, REG, SIM_CPU, 0, 0, 0);
		/* 2% of interrupt work each, at different phases. */
		turbo[i] = sim_add_vcpu(m, vm, TURB, SIM_PERIODIC, SIM_MS, 20 * SIM_US,
					(uint64_t)i * 61 * SIM_US);
	}
	sim_run_until(m, warmup);
	sim_reset_latency(m);
	for (int i = 0; i < nvms; i++)
		used0[i] = m->v[reg[i]].ran_ns;
	sim_run_until(m, end);
	for (int i = 0; i < nvms; i++) {
		const struct sim_vcpu *v = &m->v[reg[i]];
		double share = pct(v->ran_ns - used0[i], (end - warmup) * ncores);

		if (v->max_wait > worst)
			worst = v->max_wait;
		assert_true(v->max_wait <= bound);
		assert_near(share, 100.0 / nvms, 2, "share of 16 equal VMs");
		/* The interrupt-driven turbo vCPUs all got their 2%. */
		assert_near(pct(m->v[turbo[i]].ran_ns, end), 2.0, 0.2, "turbo demand");
		assert_true(m->v[turbo[i]].lat_max <= p.turbo_preempt_min_ns);
	}
	print_message("  16 VMs on 2 regular cores: longest wait %.1f ms (bound %.1f ms)\n",
		      (double)worst / 1e6, (double)bound / 1e6);
	free(m);
}

/* A VM that used little for a long time cannot bank credit and then monopolize the core: credit
 * is clipped at one regular slice. */
static void test_no_starvation_after_idle_phase(void **state)
{
	struct sched_params p = default_params();
	struct sim *m = sim_new(&p);
	const uint64_t switch_at = 3000 * SIM_MS, end = switch_at + 1000 * SIM_MS;
	uint64_t used0;
	int light, busy;

	(void)state;
	sim_add_core(m, 0, REG);
	/* 5% for 3 s, then CPU-bound. */
	light = sim_add_vcpu(m, sim_add_vm(m, 1), REG, SIM_PERIODIC, 30 * SIM_MS, 1500 * SIM_US, 0);
	busy = sim_add_vcpu(m, sim_add_vm(m, 1), REG, SIM_CPU, 0, 0, 0);
	sim_run_until(m, switch_at);
	m->v[light].period = m->v[light].burst = 100000 * SIM_MS;
	m->v[light].next_irq = switch_at;
	sim_reset_latency(m);
	used0 = m->v[busy].ran_ns;
	sim_run_until(m, end);
	print_message("  after the switch: busy vCPU waited at most %.0f ms, got %.1f%%\n",
		      (double)m->v[busy].max_wait / 1e6,
		      pct(m->v[busy].ran_ns - used0, end - switch_at));
	assert_true(m->v[busy].max_wait <= 4 * p.regular_slice_ns);
	assert_near(pct(m->v[busy].ran_ns - used0, end - switch_at), 50, 4, "share after switch");
	free(m);
}

/* --- pinning and migration ----------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t rng_range(uint64_t lo, uint64_t hi)
{
	return lo + rng() % (hi - lo + 1);
}

static void add_random_vcpu(struct sim *m, int vm, enum sched_class cls)
{
	switch (rng() % 4) {
	case 0:
		sim_add_vcpu(m, vm, cls, SIM_CPU, 0, 0, 0);
		break;
	case 1:
		sim_add_vcpu(m, vm, cls, SIM_IDLE, 0, 0, 0);
		break;
	default: {
		uint64_t period = rng_range(50, 20000) * SIM_US;

		/* Some bursts exceed the period: the vCPU is then busy for long stretches. */
		sim_add_vcpu(m, vm, cls, SIM_PERIODIC, period, period * rng_range(1, 150) / 100,
			     rng_range(0, period));
		break;
	}
	}
}

/* Random machines and workloads with a fixed seed; sched_sim.h asserts on every pick that the
 * vCPU belongs to the core's class, is runnable and runs nowhere else. */
static void test_migration_stays_in_class(void **state)
{
	int total_vcpus = 0, multi_core_vcpus = 0;
	uint64_t kicks = 0, rearms = 0;

	(void)state;
	rng_state = 0x2545f4914f6cdd1dull;
	for (int scenario = 0; scenario < 60; scenario++) {
		struct sched_params p = default_params();
		struct sim *m;
		unsigned nreg = (unsigned)rng_range(1, 6), nturbo = (unsigned)rng_range(1, 3);
		unsigned core = 0;
		int nvms = (int)rng_range(1, 12);

		p.turbo_preempt = rng() % 2;
		p.turbo_preempt_min_ns = rng_range(0, 50) * SIM_US;
		m = sim_new(&p);
		/* Interleave the classes in the core numbering (at least one of each). */
		for (unsigned i = 0; i < nreg + nturbo; i++)
			sim_add_core(m, core++, i % 2 && i / 2 < nturbo ? TURB : REG);
		for (int i = 0; i < nvms; i++) {
			int vm = sim_add_vm(m, (unsigned)rng_range(1, 1000));
			int nv = (int)rng_range(1, 4);

			for (int k = 0; k < nv; k++)
				add_random_vcpu(m, vm, REG);
			if (rng() % 4)
				add_random_vcpu(m, vm, TURB);
		}
		sim_run_until(m, 2000 * SIM_MS);
		for (int i = 0; i < m->nv; i++) {
			const struct sim_vcpu *v = &m->v[i];
			struct sched_vcpu_stats st;

			for (unsigned c = 0; c < 64 && c < SCHED_MAX_CPUS; c++) /* cores_used */
				if (v->cores_used & (1ull << c))
					assert_int_equal(m->c[c].cls, v->cls);
			if (__builtin_popcountll(v->cores_used) > 1)
				multi_core_vcpus++;
			/* The scheduler's accounting agrees with what really ran. */
			assert_int_equal(sched_vcpu_stats(&m->s, i, &st), 0);
			assert_true(st.consumed_ns == v->ran_ns);
		}
		total_vcpus += m->nv;
		kicks += m->kicks;
		rearms += m->rearms;
		free(m);
	}
	/* Migration inside a pool does happen (it is allowed, and it is what keeps the pool
	 * work-conserving). */
	assert_true(multi_core_vcpus > 0);
	/* Some preemptions were cancelled (another core took the vCPU first): exercised too. */
	assert_true(rearms > 0);
	print_message("  60 scenarios, %d vCPUs, %d ran on more than one core of their class; "
		      "%llu kicks, %llu cancelled preemptions\n",
		      total_vcpus, multi_core_vcpus, (unsigned long long)kicks,
		      (unsigned long long)rearms);
}

/* --- the build's limits --------------------------------------------------------------------- */

/* The most a manifest may ask for (lib/config.h): CONFIG_MAX_VMS VMs, each with
 * CONFIG_MAX_VCPUS CPU-bound regular vCPUs and an interrupt-driven turbo vCPU (16 640 vCPUs), on
 * CONFIG_MAX_CPUS cores, the last 64 turbo. Over 3 s (5.9 rounds of the 16 384 regular vCPUs on
 * 960 cores) every regular vCPU runs within one slice of its fair share and never waits two
 * rounds, the regular cores never idle, and the turbo vCPUs get their demand with the latency
 * bound of the 16-VM test. */
static void test_limits_256_vms_64_vcpus(void **state)
{
	struct sched_params p = default_params();
	struct sim *m = sim_new(&p);
	const int nvms = CONFIG_MAX_VMS, nvcpus = CONFIG_MAX_VCPUS;
	const unsigned nturbo = 64, nreg = SCHED_MAX_CPUS - nturbo;
	const uint64_t warmup = 300 * SIM_MS, window = 3000 * SIM_MS, end = warmup + window;
	const uint64_t period = 250 * SIM_MS, burst = 250 * SIM_US; /* 0.1 % of a core each */
	const uint64_t slice = p.regular_slice_ns, nregular = (uint64_t)nvms * nvcpus;
	const uint64_t round = (nregular + nreg - 1) / nreg * slice;
	const double fair = (double)window * nreg / (double)nregular; /* ns each */
	uint64_t *ran0 = calloc(SIM_MAX_VCPUS, sizeof(uint64_t)), worst = 0, lat = 0;
	uint64_t busy = 0, lo = UINT64_MAX, hi = 0;

	(void)state;
	assert_non_null(ran0);
	for (unsigned c = 0; c < SCHED_MAX_CPUS; c++)
		sim_add_core(m, c, c < nreg ? REG : TURB);
	for (int i = 0; i < nvms; i++) {
		int vm = sim_add_vm(m, 256);

		for (int k = 0; k < nvcpus; k++)
			sim_add_vcpu(m, vm, REG, SIM_CPU, 0, 0, 0);
		sim_add_vcpu(m, vm, TURB, SIM_PERIODIC, period, burst,
			     (uint64_t)i * 997 * SIM_US % period);
	}
	assert_int_equal(m->nv, SIM_MAX_VCPUS);
	sim_run_until(m, warmup);
	sim_reset_latency(m);
	for (int i = 0; i < m->nv; i++)
		ran0[i] = m->v[i].ran_ns;
	sim_run_until(m, end);
	for (int i = 0; i < m->nv; i++) {
		const struct sim_vcpu *v = &m->v[i];
		uint64_t ran = v->ran_ns - ran0[i];

		if (v->cls == TURB) {
			assert_near(pct(v->ran_ns, end), 0.1, 0.01, "turbo demand");
			assert_true(v->lat_max <= p.turbo_preempt_min_ns);
			lat = v->lat_max > lat ? v->lat_max : lat;
			continue;
		}
		busy += ran;
		lo = ran < lo ? ran : lo;
		hi = ran > hi ? ran : hi;
		assert_near((double)ran, fair, (double)slice, "regular vCPU's time (ns)");
		assert_true(v->max_wait <= 2 * round);
		worst = v->max_wait > worst ? v->max_wait : worst;
	}
	assert_true(busy == window * nreg); /* no regular core ever idle */
	print_message("  %d VMs x %d+1 vCPUs on %u regular and %u turbo cores: each regular vCPU "
		      "ran %.0f-%.0f ms of 3 s (fair %.0f), longest wait %.0f ms (round %.0f ms), "
		      "turbo latency <= %.1f us\n",
		      nvms, nvcpus, nreg, nturbo, (double)lo / 1e6, (double)hi / 1e6, fair / 1e6,
		      (double)worst / 1e6, (double)round / 1e6, (double)lat / 1e3);
	free(ran0);
	free(m);
}

/* --- blocking and kicks -------------------------------------------------------------------- */

static struct sched s_direct;
static struct sched_vm vms_direct[8];
static struct sched_vcpu vcpus_direct[16];

static struct sched *direct_init(const struct sched_params *p)
{
	assert_int_equal(sched_init(&s_direct, p, vms_direct, 8, vcpus_direct, 16, 0), 0);
	return &s_direct;
}

static void test_api_rejects_bad_input(void **state)
{
	struct sched_params p = default_params();
	struct sched *s;
	int vm;

	(void)state;
	p.turbo_slice_ns = p.regular_slice_ns + 1;
	assert_int_equal(sched_init(&s_direct, &p, vms_direct, 8, vcpus_direct, 16, 0), -1);
	p = default_params();
	p.regular_slice_ns = 0;
	assert_int_equal(sched_init(&s_direct, &p, vms_direct, 8, vcpus_direct, 16, 0), -1);
	p = default_params();
	s = direct_init(&p);
	assert_int_equal(sched_add_core(s, SCHED_MAX_CPUS, REG), -1);
	assert_int_equal(sched_add_core(s, 3, REG), 0);
	assert_int_equal(sched_add_core(s, 3, TURB), -1);
	assert_int_equal(sched_add_vm(s, 0), -1);
	assert_int_equal(sched_add_vm(s, SCHED_MAX_WEIGHT + 1), -1);
	vm = sched_add_vm(s, 1);
	assert_int_equal(vm, 0);
	assert_int_equal(sched_add_vcpu(s, vm, TURB), -1); /* no turbo core yet */
	assert_int_equal(sched_add_vcpu(s, 5, REG), -1);
	assert_int_equal(sched_add_vcpu(s, vm, REG), 0);
	assert_int_equal(sched_add_core(s, 7, TURB), 0);
	assert_int_equal(sched_add_vcpu(s, vm, TURB), 1);
	assert_int_equal(sched_add_vcpu(s, vm, TURB), -1);   /* one turbo vCPU per VM */
	assert_int_equal(sched_pick_next(s, 4, 0).vcpu, -1); /* not a core */
}

/* Core ids past the first 64-bit word of a core set: the last id works like any other, for
 * idle kicks, turbo preemption and the class statistics. */
static void test_cores_beyond_64(void **state)
{
	struct sched_params p = default_params();
	struct sched *s = direct_init(&p);
	const unsigned hi = SCHED_MAX_CPUS - 1, turbo_hi = SCHED_MAX_CPUS - 2;
	struct sched_class_stats cs;
	struct sched_kick k;
	int vm, a, b, t;

	(void)state;
	assert_int_equal(sched_add_core(s, 63, REG), 0);
	assert_int_equal(sched_add_core(s, hi, REG), 0);
	assert_int_equal(sched_add_core(s, turbo_hi, TURB), 0);
	vm = sched_add_vm(s, 10);
	a = sched_add_vcpu(s, vm, REG);
	b = sched_add_vcpu(s, vm, REG);
	t = sched_add_vcpu(s, vm, TURB);
	for (unsigned c = 0; c < SCHED_MAX_CPUS; c++)
		sched_pick_next(s, c, 0);
	k = sched_wake(s, a, 1000);
	assert_int_equal(k.core, 63); /* the lowest idle core first */
	assert_int_equal(sched_pick_next(s, 63, 1000).vcpu, a);
	k = sched_wake(s, b, 1000);
	assert_int_equal(k.core, (int)hi);
	assert_int_equal(sched_pick_next(s, hi, 1000).vcpu, b);
	k = sched_wake(s, t, 2000);
	assert_int_equal(k.core, (int)turbo_hi);
	assert_int_equal(sched_pick_next(s, turbo_hi, 2000).vcpu, t);
	/* Another VM's turbo vCPU: its only turbo core is busy, so it is preempted. */
	t = sched_add_vcpu(s, sched_add_vm(s, 10), TURB);
	k = sched_wake(s, t, 3000);
	assert_int_equal(k.core, (int)turbo_hi);
	assert_true(k.at_ns == 2000 + p.turbo_preempt_min_ns);
	assert_int_equal(sched_class_stats(s, SCHED_REGULAR, &cs), 0);
	assert_int_equal(cs.cores, 2);
	assert_int_equal(sched_class_stats(s, SCHED_TURBO, &cs), 0);
	assert_int_equal(cs.cores, 1);
}

static void test_block_and_wake(void **state)
{
	struct sched_params p = default_params();
	struct sched *s = direct_init(&p);
	struct sched_pick pk;
	struct sched_kick k;
	struct sched_vcpu_stats st;
	unsigned core_a;
	int vm, a, b, t;

	(void)state;
	assert_int_equal(sched_add_core(s, 0, REG), 0);
	assert_int_equal(sched_add_core(s, 1, TURB), 0);
	assert_int_equal(sched_add_core(s, 2, REG), 0);
	vm = sched_add_vm(s, 10);
	a = sched_add_vcpu(s, vm, REG);
	b = sched_add_vcpu(s, vm, REG);
	t = sched_add_vcpu(s, vm, TURB);

	/* New vCPUs are blocked: every core is idle. */
	for (unsigned c = 0; c < 3; c++) {
		pk = sched_pick_next(s, c, 0);
		assert_int_equal(pk.vcpu, -1);
		assert_true(pk.until_ns == SCHED_NEVER);
		assert_true(sched_core_deadline(s, c) == SCHED_NEVER);
	}
	/* A wake kicks an idle core of the vCPU's class, and two wakes two different cores. */
	k = sched_wake(s, a, 1000);
	assert_true(k.core == 0 || k.core == 2);
	assert_true(k.at_ns == 1000);
	assert_true(sched_core_deadline(s, (unsigned)k.core) == 1000);
	core_a = (unsigned)k.core;
	pk = sched_pick_next(s, core_a, 1000);
	assert_int_equal(pk.vcpu, a);
	assert_true(pk.until_ns == 1000 + p.regular_slice_ns);
	k = sched_wake(s, b, 2000);
	assert_int_equal(k.core, core_a == 0 ? 2 : 0);
	assert_int_equal(sched_pick_next(s, (unsigned)k.core, 2000).vcpu, b);
	/* The turbo vCPU's wake kicks the turbo core, never a regular one. */
	k = sched_wake(s, t, 3000);
	assert_int_equal(k.core, 1);
	assert_int_equal(sched_pick_next(s, 1, 3000).vcpu, t);
	/* Waking a running vCPU changes nothing. */
	k = sched_wake(s, t, 3500);
	assert_int_equal(k.core, -1);

	/* a halts: its core picks nothing else (b runs elsewhere) and idles. */
	sched_block(s, a, 4000);
	assert_true(sched_core_deadline(s, core_a) == 4000);
	pk = sched_pick_next(s, core_a, 4000);
	assert_int_equal(pk.vcpu, -1);
	/* While halted it is never picked, however often the cores re-pick. */
	for (uint64_t now = 5000; now < 200 * SIM_MS; now += SIM_MS) {
		assert_true(sched_pick_next(s, core_a, now).vcpu != a);
		assert_true(sched_pick_next(s, 1, now).vcpu != a);
	}
	assert_int_equal(sched_vcpu_stats(s, a, &st), 0);
	assert_false(st.runnable);
	/* The wake goes to the idle core, which then runs it. */
	k = sched_wake(s, a, 200 * SIM_MS);
	assert_int_equal(k.core, (int)core_a);
	assert_int_equal(sched_pick_next(s, core_a, 200 * SIM_MS).vcpu, a);
	/* Blocking a vCPU that waits in the queue takes it out of the queue. */
	sched_block(s, t, 200 * SIM_MS);
	assert_int_equal(sched_pick_next(s, 1, 200 * SIM_MS).vcpu, -1);
	assert_int_equal(sched_queued(s, TURB), 0);
}

/* With every core of the class busy, a wake of a regular vCPU kicks nobody: it waits for a
 * slice end, and the core whose slice ends takes it. */
static void test_wake_with_busy_cores(void **state)
{
	struct sched_params p = default_params();
	struct sched *s = direct_init(&p);
	int vm, a, b;
	struct sched_kick k;

	(void)state;
	assert_int_equal(sched_add_core(s, 0, REG), 0);
	vm = sched_add_vm(s, 1);
	a = sched_add_vcpu(s, vm, REG);
	b = sched_add_vcpu(s, vm, REG);
	assert_int_equal(sched_wake(s, a, 0).core, 0);
	assert_int_equal(sched_pick_next(s, 0, 0).vcpu, a);
	k = sched_wake(s, b, 10);
	assert_int_equal(k.core, -1);
	assert_int_equal(sched_queued(s, REG), 1);
	assert_int_equal(sched_pick_next(s, 0, p.regular_slice_ns).vcpu, b);
	/* The regular slice alternates them (a went to the tail). */
	assert_int_equal(sched_pick_next(s, 0, 2 * p.regular_slice_ns).vcpu, a);
}

/* --- turbo preemption ---------------------------------------------------------------------- */

static void test_turbo_preempt_kick(void **state)
{
	struct sched_params p = default_params();
	struct sched *s = direct_init(&p);
	int hog, io, io2, io3;
	struct sched_kick k;
	uint64_t t0 = 1000;

	(void)state;
	assert_int_equal(sched_add_core(s, 0, TURB), 0);
	hog = sched_add_vcpu(s, sched_add_vm(s, 1), TURB);
	io = sched_add_vcpu(s, sched_add_vm(s, 1), TURB);
	io2 = sched_add_vcpu(s, sched_add_vm(s, 1), TURB);
	io3 = sched_add_vcpu(s, sched_add_vm(s, 1), TURB);
	sched_wake(s, hog, 0);
	assert_int_equal(sched_pick_next(s, 0, t0).vcpu, hog);
	/* 5 µs into the hog's slice: preempt at the 20 µs minimum. */
	k = sched_wake(s, io, t0 + 5 * SIM_US);
	assert_int_equal(k.core, 0);
	assert_true(k.at_ns == t0 + p.turbo_preempt_min_ns);
	assert_true(sched_core_deadline(s, 0) == k.at_ns);
	/* A second interrupt finds the core already being preempted. */
	assert_int_equal(sched_wake(s, io2, t0 + 6 * SIM_US).core, -1);
	/* The core re-picks at that time and runs the interrupted vCPU first. */
	assert_int_equal(sched_pick_next(s, 0, k.at_ns).vcpu, io);
	sched_block(s, io, k.at_ns + 2 * SIM_US);
	assert_int_equal(sched_pick_next(s, 0, k.at_ns + 2 * SIM_US).vcpu, io2);
	/* After the minimum has passed, the kick is immediate. */
	sched_block(s, io2, k.at_ns + 40 * SIM_US);
	assert_int_equal(sched_pick_next(s, 0, k.at_ns + 40 * SIM_US).vcpu, hog);
	k = sched_wake(s, io3, k.at_ns + 70 * SIM_US);
	assert_int_equal(k.core, 0);
	assert_true(k.at_ns == 1000 + p.turbo_preempt_min_ns + 70 * SIM_US);

	/* Switched off: no kick, the vCPU waits for the slice end. */
	p.turbo_preempt = false;
	s = direct_init(&p);
	assert_int_equal(sched_add_core(s, 0, TURB), 0);
	hog = sched_add_vcpu(s, sched_add_vm(s, 1), TURB);
	io = sched_add_vcpu(s, sched_add_vm(s, 1), TURB);
	sched_wake(s, hog, 0);
	assert_int_equal(sched_pick_next(s, 0, t0).vcpu, hog);
	assert_int_equal(sched_wake(s, io, t0 + 50 * SIM_US).core, -1);
	assert_true(sched_core_deadline(s, 0) == t0 + p.turbo_slice_ns);
}

/* A vCPU that has spent its turbo credit cannot preempt (interrupts do not buy extra share). */
static void test_turbo_preempt_needs_credit(void **state)
{
	struct sched_params p = default_params();
	struct sched *s = direct_init(&p);
	int hog, io;
	uint64_t now = 0;

	(void)state;
	assert_int_equal(sched_add_core(s, 0, TURB), 0);
	hog = sched_add_vcpu(s, sched_add_vm(s, 1), TURB);
	io = sched_add_vcpu(s, sched_add_vm(s, 1), TURB);
	sched_wake(s, io, 0);
	assert_int_equal(sched_pick_next(s, 0, 0).vcpu, io);
	/* Before any accounting io burns 5 ms without credit: it is OVER. */
	sched_block(s, io, 5 * SIM_MS);
	sched_wake(s, hog, 5 * SIM_MS);
	assert_int_equal(sched_pick_next(s, 0, 5 * SIM_MS).vcpu, hog);
	now = 5 * SIM_MS + 50 * SIM_US;
	assert_int_equal(sched_wake(s, io, now).core, -1);
}

/* Latency from an interrupt to the turbo vCPU running, with `nvms` CPU-bound turbo vCPUs. */
static void turbo_latency(int nvms, bool preempt, uint64_t *max_ns, double *mean_ns)
{
	struct sched_params p = default_params();
	struct sim *m;
	int io;

	p.turbo_preempt = preempt;
	m = sim_new(&p);
	sim_add_core(m, 0, REG);
	sim_add_core(m, 1, TURB);
	for (int i = 0; i < nvms; i++) {
		int vm = sim_add_vm(m, 256);

		sim_add_vcpu(m, vm, REG, SIM_CPU, 0, 0, 0);
		sim_add_vcpu(m, vm, TURB, SIM_CPU, 0, 0, 0);
	}
	/* About 0.5% of turbo work, the interrupts at random points of the slices. */
	io = sim_add_vcpu(m, sim_add_vm(m, 256), TURB, SIM_PERIODIC, 900 * SIM_US, 5 * SIM_US, 0);
	m->v[io].jitter = 200 * SIM_US;
	sim_run_until(m, 200 * SIM_MS);
	sim_reset_latency(m);
	sim_run_until(m, 2200 * SIM_MS);
	{
		struct sched_class_stats st;

		assert_int_equal(sched_class_stats(&m->s, TURB, &st), 0);
		assert_int_equal(st.cores, 1);
		assert_true(preempt ? st.preempt_kicks > 1000 : st.preempt_kicks == 0);
		assert_true(st.busy_ns == m->now); /* the turbo core never idled */
	}
	*max_ns = m->v[io].lat_max;
	*mean_ns = (double)m->v[io].lat_sum / (double)m->v[io].lat_n;
	assert_true(m->v[io].lat_n > 1500);
	free(m);
}

static void test_turbo_preempt_latency(void **state)
{
	const int sizes[] = {4, 16, 64};
	uint64_t on_max[3], off_max[3];
	double on_mean[3], off_mean[3];
	struct sched_params p = default_params();

	(void)state;
	for (int i = 0; i < 3; i++) {
		turbo_latency(sizes[i], true, &on_max[i], &on_mean[i]);
		turbo_latency(sizes[i], false, &off_max[i], &off_mean[i]);
		print_message("  %2d busy turbo vCPUs: preempt on max %6.1f us mean %6.1f us; "
			      "off max %7.1f us mean %7.1f us\n",
			      sizes[i], (double)on_max[i] / 1e3, on_mean[i] / 1e3,
			      (double)off_max[i] / 1e3, off_mean[i] / 1e3);
		/* On: within the minimum run time, whatever the number of VMs. */
		assert_true(on_max[i] <= p.turbo_preempt_min_ns + 1 * SIM_US);
		/* Off: it waits for the end of the running vCPU's slice (no longer: the busy
		 * vCPUs are OVER, so the interrupted one, UNDER, is next). */
		assert_true(off_max[i] > 2 * p.turbo_preempt_min_ns);
		assert_true(off_max[i] <= p.turbo_slice_ns);
		assert_true(off_mean[i] > 4 * on_mean[i]);
	}
	/* The latency with preemption does not grow with the number of VMs. */
	assert_true(on_max[2] <= on_max[0] + 1 * SIM_US);
	assert_true(on_mean[2] <= on_mean[0] + 1 * SIM_US);
}

/* --- work conservation --------------------------------------------------------------------- */

/* A light VM with a huge weight cannot keep the cores idle: the CPU-bound vCPUs of the others
 * run OVER. (sched_sim.h also checks, between all events of every test, that no core idles while
 * a vCPU of its class waits.) */
static void test_work_conserving(void **state)
{
	struct sched_params p = default_params();
	struct sim *m = sim_new(&p);
	const uint64_t end = 3000 * SIM_MS;
	uint64_t busy = 0;
	int light, cpu;

	(void)state;
	sim_add_core(m, 0, REG);
	sim_add_core(m, 1, REG);
	sim_add_core(m, 2, TURB);
	light = sim_add_vm(m, 1000);
	sim_add_vcpu(m, light, REG, SIM_PERIODIC, 10 * SIM_MS, 2 * SIM_MS, 0);
	sim_add_vcpu(m, light, REG, SIM_PERIODIC, 7 * SIM_MS, 1 * SIM_MS, 3 * SIM_MS);
	sim_add_vcpu(m, light, TURB, SIM_PERIODIC, 1 * SIM_MS, 100 * SIM_US, 0);
	cpu = sim_add_vm(m, 1);
	sim_add_vcpu(m, cpu, REG, SIM_CPU, 0, 0, 0);
	sim_add_vcpu(m, cpu, REG, SIM_CPU, 0, 0, 0);
	sim_add_vcpu(m, cpu, TURB, SIM_CPU, 0, 0, 0);
	sim_run_until(m, end);
	for (unsigned c = 0; c < 3; c++) {
		struct sched_core_stats st;

		assert_int_equal(sched_core_stats(&m->s, c, &st), 0);
		busy += st.busy_ns;
		assert_true(st.busy_ns == end); /* never idle */
	}
	/* The light VM still got all it asked for: 20% + 14.3% regular, 10% turbo. */
	assert_near(pct(sim_vm_consumed(m, light, REG), end), 20 + 100.0 / 7, 1, "light regular");
	assert_near(pct(sim_vm_consumed(m, light, TURB), end), 10, 0.5, "light turbo");
	assert_true(busy == 3 * end);
	free(m);
}

/* An idle core returns "idle", and a machine with idle vCPUs only stays idle. */
static void test_idle_core(void **state)
{
	struct sched_params p = default_params();
	struct sim *m = sim_new(&p);
	int vm;

	(void)state;
	sim_add_core(m, 0, REG);
	sim_add_core(m, 1, TURB);
	vm = sim_add_vm(m, 1);
	sim_add_vcpu(m, vm, REG, SIM_IDLE, 0, 0, 0);
	sim_add_vcpu(m, vm, TURB, SIM_IDLE, 0, 0, 0);
	sim_run_until(m, 100 * SIM_MS);
	assert_int_equal(m->picks, 2); /* one pick each at time 0, then nothing to do */
	assert_int_equal(m->c[0].vcpu, -1);
	assert_true(sched_core_deadline(&m->s, 0) == SCHED_NEVER);
	free(m);
}

/* --- the classes' data are disjoint (sched.h, "concurrency") ------------------------------- */

/* Everything of one class that a call of the other class must leave alone. */
struct class_image {
	struct sched_pool pool;
	struct sched_core cores[SCHED_MAX_CPUS];
	struct sched_vcpu vcpus[SIM_MAX_VCPUS];
	struct sched_vm_part parts[SIM_MAX_VMS];
	/* the regular accounting's own fields of each VM */
	uint64_t fair_share[SIM_MAX_VMS], turbo_seen[SIM_MAX_VMS], turbo_period[SIM_MAX_VMS];
	bool turbo_was_runnable[SIM_MAX_VMS];
};

static void take_image(const struct sim *m, enum sched_class cls, struct class_image *img)
{
	memset(img, 0, sizeof(*img));
	img->pool = m->s.pool[cls];
	for (int c = 0; c < SCHED_MAX_CPUS; c++)
		if (m->s.cores[c].present && m->s.cores[c].cls == cls)
			img->cores[c] = m->s.cores[c];
	for (int i = 0; i < m->nv; i++)
		if (m->svcpus[i].cls == cls)
			img->vcpus[i] = m->svcpus[i];
	for (uint32_t i = 0; i < m->s.nr_vms; i++) {
		img->parts[i] = m->vms[i].part[cls];
		if (cls == REG) {
			img->fair_share[i] = m->vms[i].fair_share_ns;
			img->turbo_seen[i] = m->vms[i].turbo_seen_ns;
			img->turbo_period[i] = m->vms[i].turbo_period_ns;
			img->turbo_was_runnable[i] = m->vms[i].turbo_was_runnable;
		}
	}
}

/* A warm machine: 2 regular and 2 turbo cores, 6 VMs of two regular vCPUs and a turbo vCPU,
 * CPU-bound and interrupt-driven ones, run for 500 ms. */
static struct sim *warm_machine(void)
{
	struct sched_params p = default_params();
	struct sim *m = sim_new(&p);

	sim_add_core(m, 0, REG);
	sim_add_core(m, 1, TURB);
	sim_add_core(m, 2, REG);
	sim_add_core(m, 3, TURB);
	for (int i = 0; i < 6; i++) {
		int vm = sim_add_vm(m, 100 + 50 * (unsigned)i);

		sim_add_vcpu(m, vm, REG, SIM_CPU, 0, 0, 0);
		sim_add_vcpu(m, vm, REG, SIM_PERIODIC, 7 * SIM_MS, 2 * SIM_MS,
			     (uint64_t)i * SIM_MS);
		if (i % 2)
			sim_add_vcpu(m, vm, TURB, SIM_CPU, 0, 0, 0);
		else
			sim_add_vcpu(m, vm, TURB, SIM_PERIODIC, 500 * SIM_US, 40 * SIM_US,
				     (uint64_t)i * 37 * SIM_US);
	}
	sim_run_until(m, 500 * SIM_MS);
	return m;
}

/* Calls of class `cls` only, for 1 s of simulated time from `m->now`: its cores re-pick at their
 * deadlines, its vCPUs block and wake (some wakes while running or queued), and its accounting
 * runs; the simulator's own bookkeeping is not used. */
static void drive_one_class(struct sim *m, enum sched_class cls)
{
	uint64_t step = cls == TURB ? 10 * SIM_US : 500 * SIM_US, end = m->now + 1000 * SIM_MS;
	unsigned k = 0;

	for (uint64_t now = m->now; now < end; now += step, k++) {
		for (unsigned c = 0; c < SCHED_MAX_CPUS; c++)
			if (m->s.cores[c].present && m->s.cores[c].cls == cls &&
			    sched_core_deadline(&m->s, c) <= now)
				sched_pick_next(&m->s, c, now);
		for (int i = 0; i < m->nv; i++) {
			if (m->svcpus[i].cls != cls || (k + (unsigned)i) % 7)
				continue;
			if ((k / 7 + (unsigned)i) % 3 == 0)
				sched_block(&m->s, i, now);
			else
				sched_wake(&m->s, i, now);
		}
		if (k % 50 == 0)
			sched_account_class(&m->s, cls, now);
	}
}

static void check_class_untouched(enum sched_class driven)
{
	enum sched_class other = driven == REG ? TURB : REG;
	struct class_image *before = calloc(1, sizeof(*before)), *after = calloc(1, sizeof(*after));
	struct sim *m = warm_machine();
	struct sched_class_stats st0, st1;

	assert_non_null(before);
	assert_non_null(after);
	take_image(m, other, before);
	assert_int_equal(sched_class_stats(&m->s, driven, &st0), 0);
	drive_one_class(m, driven);
	assert_int_equal(sched_class_stats(&m->s, driven, &st1), 0);
	take_image(m, other, after);
	/* The driven class did work, including its accounting ... */
	assert_true(st1.picks > st0.picks + 100);
	assert_true(st1.accountings > st0.accountings);
	/* ... and left every byte of the other class's data as it was. */
	assert_memory_equal(&before->pool, &after->pool, sizeof(before->pool));
	assert_memory_equal(before->cores, after->cores, sizeof(before->cores));
	assert_memory_equal(before->vcpus, after->vcpus, sizeof(before->vcpus));
	assert_memory_equal(before->parts, after->parts, sizeof(before->parts));
	assert_memory_equal(before->fair_share, after->fair_share, sizeof(before->fair_share));
	assert_memory_equal(before->turbo_seen, after->turbo_seen, sizeof(before->turbo_seen));
	assert_memory_equal(before->turbo_period, after->turbo_period,
			    sizeof(before->turbo_period));
	assert_memory_equal(before->turbo_was_runnable, after->turbo_was_runnable,
			    sizeof(before->turbo_was_runnable));
	free(before);
	free(after);
	free(m);
}

static void test_regular_calls_leave_turbo_data_alone(void **state)
{
	(void)state;
	check_class_untouched(REG);
}

static void test_turbo_calls_leave_regular_data_alone(void **state)
{
	(void)state;
	check_class_untouched(TURB);
}

/* The turbo share comes from the turbo calls alone: with no regular call after set-up (the
 * regular vCPUs never wake), the turbo vCPUs still get FS^T every period and credit every tick. */
static void test_turbo_accounting_needs_no_regular_calls(void **state)
{
	struct sched_params p = default_params();
	struct sched *s = direct_init(&p);
	struct sched_class_stats reg, turbo;
	struct sched_vm_stats st;
	struct sched_vcpu_stats vs;
	int vms[2], tv[2];
	uint64_t now = 0;

	(void)state;
	assert_int_equal(sched_add_core(s, 0, REG), 0);
	assert_int_equal(sched_add_core(s, 1, TURB), 0);
	for (int i = 0; i < 2; i++) {
		vms[i] = sched_add_vm(s, 256);
		assert_true(sched_add_vcpu(s, vms[i], REG) >= 0); /* never woken */
		tv[i] = sched_add_vcpu(s, vms[i], TURB);
		sched_wake(s, tv[i], 0);
	}
	for (; now <= 1000 * SIM_MS; now += p.turbo_slice_ns)
		sched_pick_next(s, 1, now);
	assert_int_equal(sched_class_stats(s, SCHED_REGULAR, &reg), 0);
	assert_int_equal(sched_class_stats(s, SCHED_TURBO, &turbo), 0);
	assert_int_equal(reg.accountings, 0);
	assert_true(turbo.accountings >= 9999); /* a tick per turbo slice */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sched_vm_stats(s, vms[i], &st), 0);
		assert_true(st.window_ns[SCHED_REGULAR] == 0);
		assert_true(st.window_ns[SCHED_TURBO] == p.regular_slice_ns);
		assert_near(pct(st.alloc_ns[SCHED_TURBO], st.window_ns[SCHED_TURBO]), 50, 0.5,
			    "FS^T");
		assert_int_equal(sched_vcpu_stats(s, tv[i], &vs), 0);
		/* Without grants the credit would sink to the clip (-P) after 0.6 s; with them it
		 * stays where the first period, before any grant, left it (about -P/2). */
		assert_true(vs.credit_ns > -(int64_t)p.regular_slice_ns * 3 / 4);
	}
}

/* Turbo credit follows the time that passed, not the number of calls: a turbo core that calls
 * only every 60 ms (an emulator descheduling it, a core stuck in a long exit) charges the vCPU
 * that ran all 60 ms, and the ticks of those 60 ms must all count too. Two equal turbo VMs taking
 * turns then earn what they burn: after each gap the one that ran is back at 0 and the other at
 * +30 ms. (Counting at most one period of ticks per call, as the turbo ticks once did, gave them
 * half: they settled at 0 and -15 ms, and an interrupt-driven vCPU could not preempt.) */
static void test_turbo_credit_across_long_gaps(void **state)
{
	struct sched_params p = default_params();
	struct sched *s = direct_init(&p);
	const uint64_t gap = 2 * p.regular_slice_ns;
	int64_t sum = 0;
	int tv[2];

	(void)state;
	assert_int_equal(sched_add_core(s, 0, TURB), 0);
	for (int i = 0; i < 2; i++) {
		tv[i] = sched_add_vcpu(s, sched_add_vm(s, 256), TURB);
		sched_wake(s, tv[i], 0);
	}
	for (uint64_t now = 0; now <= 3000 * SIM_MS; now += gap)
		sched_pick_next(s, 0, now);
	for (int i = 0; i < 2; i++) {
		struct sched_vcpu_stats st;

		assert_int_equal(sched_vcpu_stats(s, tv[i], &st), 0);
		print_message("  turbo vCPU %d: credit %.1f ms after 60 ms gaps\n", i,
			      (double)st.credit_ns / 1e6);
		sum += st.credit_ns;
	}
	assert_true(sum > -(int64_t)p.regular_slice_ns / 4);
}

/* The kernel's arrangement, with threads: two regular and two turbo "cores", each a thread that
 * re-picks, blocks and wakes under its class's lock (a wake of the other class's vCPU under that
 * class's lock), all at once. Afterwards every structure must still agree with itself: which
 * vCPU runs where, the run-queue and runnable counts, and the time charged. */
#define THREAD_ITERS 200000

struct class_locks {
	struct sim *m;
	pthread_mutex_t lock[SCHED_NR_CLASSES];
	uint64_t clock; /* the shared simulated clock (ns), advanced atomically */
};

struct core_thread {
	struct class_locks *cl;
	unsigned core;
	enum sched_class cls;
	uint64_t rng;
};

static unsigned thread_rng(struct core_thread *t, unsigned n)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return (unsigned)(t->rng % n);
}

static void *core_thread_main(void *arg)
{
	struct core_thread *t = arg;
	struct class_locks *cl = t->cl;
	struct sched *s = &cl->m->s;
	int nv = cl->m->nv;

	for (int i = 0; i < THREAD_ITERS; i++) {
		/* mostly its own class, sometimes the other's vCPUs (a cross-class wake) */
		int v = (int)thread_rng(t, (unsigned)nv);
		enum sched_class vcls = (enum sched_class)sched_vcpu_class(s, v);
		uint64_t now;

		pthread_mutex_lock(&cl->lock[t->cls]);
		now = __atomic_add_fetch(&cl->clock, t->cls == TURB ? 3 * SIM_US : 50 * SIM_US,
					 __ATOMIC_RELAXED);
		sched_pick_next(s, t->core, now);
		if (vcls == t->cls && thread_rng(t, 4) == 0)
			sched_block(s, v, now);
		pthread_mutex_unlock(&cl->lock[t->cls]);

		pthread_mutex_lock(&cl->lock[vcls]);
		now = __atomic_load_n(&cl->clock, __ATOMIC_RELAXED);
		(void)sched_wake(s, v, now);
		(void)sched_core_deadline(s, t->core); /* no lock needed; taken here anyway */
		pthread_mutex_unlock(&cl->lock[vcls]);
	}
	return NULL;
}

static void test_classes_run_concurrently(void **state)
{
	struct sched_params p = default_params();
	struct class_locks cl = {.m = sim_new(&p)};
	struct core_thread th[4] = {
		{&cl, 0, REG, 0x1234567ull},
		{&cl, 1, REG, 0x89abcdefull},
		{&cl, 2, TURB, 0x13579bdfull},
		{&cl, 3, TURB, 0x2468ace0ull},
	};
	pthread_t tid[4];
	struct sim *m = cl.m;
	uint64_t vm_sum[SIM_MAX_VMS][SCHED_NR_CLASSES] = {{0}}, class_sum[2] = {0}, busy[2] = {0};
	unsigned queued[2] = {0}, runnable[SIM_MAX_VMS][2] = {{0}};

	(void)state;
	for (unsigned c = 0; c < 4; c++)
		sim_add_core(m, c, th[c].cls);
	for (int i = 0; i < 8; i++) {
		int vm = sim_add_vm(m, 256);

		for (int k = 0; k < 3; k++)
			sim_add_vcpu(m, vm, REG, SIM_CPU, 0, 0, 0);
		sim_add_vcpu(m, vm, TURB, SIM_CPU, 0, 0, 0);
	}
	for (int c = 0; c < SCHED_NR_CLASSES; c++)
		pthread_mutex_init(&cl.lock[c], NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, core_thread_main, &th[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(tid[i], NULL);

	/* One thread again: everything charged up to the same time. */
	sched_account(&m->s, cl.clock);
	for (int i = 0; i < m->nv; i++) {
		const struct sched_vcpu *v = &m->svcpus[i];
		struct sched_vcpu_stats st;

		assert_int_equal(sched_vcpu_stats(&m->s, i, &st), 0);
		if (st.running) {
			assert_true(v->core >= 0);
			assert_int_equal(m->s.cores[v->core].cur, i);
			assert_int_equal(m->s.cores[v->core].cls, v->cls);
		}
		if (st.runnable && !st.running)
			queued[v->cls]++;
		if (st.runnable)
			runnable[v->vm][v->cls]++;
		vm_sum[v->vm][v->cls] += st.consumed_ns;
		class_sum[v->cls] += st.consumed_ns;
	}
	for (unsigned c = 0; c < 4; c++) {
		struct sched_core_stats cs;

		assert_int_equal(sched_core_stats(&m->s, c, &cs), 0);
		busy[th[c].cls] += cs.busy_ns;
		if (cs.vcpu >= 0)
			assert_int_equal(m->svcpus[cs.vcpu].core, (int)c);
	}
	for (int cls = 0; cls < SCHED_NR_CLASSES; cls++) {
		assert_int_equal(sched_queued(&m->s, (enum sched_class)cls), queued[cls]);
		assert_true(busy[cls] == class_sum[cls]);
		assert_true(class_sum[cls] > 0);
	}
	for (uint32_t vm = 0; vm < m->s.nr_vms; vm++) {
		struct sched_vm_stats st;

		assert_int_equal(sched_vm_stats(&m->s, (int)vm, &st), 0);
		for (int cls = 0; cls < SCHED_NR_CLASSES; cls++) {
			assert_true(st.consumed_ns[cls] == vm_sum[vm][cls]);
			assert_int_equal(m->vms[vm].part[cls].nr_runnable, runnable[vm][cls]);
		}
	}
	print_message("  4 threads x %d rounds: %.1f ms regular and %.1f ms turbo charged, "
		      "consistent\n",
		      THREAD_ITERS, (double)class_sum[REG] / 1e6, (double)class_sum[TURB] / 1e6);
	for (int c = 0; c < SCHED_NR_CLASSES; c++)
		pthread_mutex_destroy(&cl.lock[c]);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_rejects_bad_input),
		cmocka_unit_test(test_cores_beyond_64),
		cmocka_unit_test(test_block_and_wake),
		cmocka_unit_test(test_wake_with_busy_cores),
		cmocka_unit_test(test_idle_core),
		cmocka_unit_test(test_table1_cpu_bound_only),
		cmocka_unit_test(test_table1_one_turbo_user),
		cmocka_unit_test(test_table1_both_turbo),
		cmocka_unit_test(test_table1_interrupt_driven),
		cmocka_unit_test(test_weights_one_core),
		cmocka_unit_test(test_weights_several_cores),
		cmocka_unit_test(test_no_starvation_16_vms),
		cmocka_unit_test(test_no_starvation_after_idle_phase),
		cmocka_unit_test(test_migration_stays_in_class),
		cmocka_unit_test(test_turbo_preempt_kick),
		cmocka_unit_test(test_turbo_preempt_needs_credit),
		cmocka_unit_test(test_turbo_preempt_latency),
		cmocka_unit_test(test_work_conserving),
		cmocka_unit_test(test_limits_256_vms_64_vcpus),
		cmocka_unit_test(test_regular_calls_leave_turbo_data_alone),
		cmocka_unit_test(test_turbo_calls_leave_regular_data_alone),
		cmocka_unit_test(test_turbo_accounting_needs_no_regular_calls),
		cmocka_unit_test(test_turbo_credit_across_long_gaps),
		cmocka_unit_test(test_classes_run_concurrently),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
