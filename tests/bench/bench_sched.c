/* Cost of the scheduler's decisions (sched/) on the host as the number of vCPUs grows, to show
 * that pick and wake do not depend on it (O(1)) while the accounting, once per period, is linear.
 * Up to 16 384 vCPUs: the storage is the caller's, and nothing in sched/ has a smaller limit
 * (65 536 VMs, 2^31 vCPUs).
 *
 * For each size: N/2 VMs with one regular and one turbo vCPU each, on 4 regular and 1 turbo
 * cores, all vCPUs runnable. Each figure is the median, over REPS repetitions, of the mean cost
 * of one call in a timed batch (clock_gettime(CLOCK_MONOTONIC) around the batch). Prints one
 * JSON document on stdout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sched/sched.h"

#define MAX_VCPUS   16384
#define MAX_VMS	    (MAX_VCPUS / 2)
#define NR_REGULAR  4
#define NR_TURBO    1
#define NR_CORES    (NR_REGULAR + NR_TURBO)
#define REPS	    9
#define PICK_ITERS  200000
#define ACCT_ITERS  2000
#define TURBO_ITERS 20000
#define WAKE_CALLS  100000

static struct sched s;
static struct sched_vm vms[MAX_VMS];
static struct sched_vcpu vcpus[MAX_VCPUS];
static struct sched_params params;
static uint64_t now; /* the simulated clock handed to the scheduler */
static volatile int sink;

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* nvcpus / per_vm VMs of per_vm - 1 regular vCPUs and one turbo vCPU, all runnable. */
static void setup(int nvcpus, int per_vm)
{
	sched_default_params(&params);
	now = 0;
	if (sched_init(&s, &params, vms, MAX_VMS, vcpus, MAX_VCPUS, now) != 0)
		abort();
	for (unsigned c = 0; c < NR_CORES; c++)
		sched_add_core(&s, c, c < NR_REGULAR ? SCHED_REGULAR : SCHED_TURBO);
	for (int i = 0; i < nvcpus / per_vm; i++) {
		int vm = sched_add_vm(&s, 256);

		for (int k = 0; k < per_vm - 1; k++)
			sched_wake(&s, sched_add_vcpu(&s, vm, SCHED_REGULAR), now);
		sched_wake(&s, sched_add_vcpu(&s, vm, SCHED_TURBO), now);
	}
	for (unsigned c = 0; c < NR_CORES; c++)
		sched_pick_next(&s, c, now);
	/* A few accounting periods so that credits and priorities are in their steady state. */
	for (int i = 0; i < 2000; i++) {
		now += params.turbo_slice_ns;
		sched_pick_next(&s, NR_REGULAR + (unsigned)(i % NR_TURBO), now);
		if (i % 300 == 0)
			for (unsigned c = 0; c < NR_REGULAR; c++)
				sched_pick_next(&s, c, now);
	}
}

/* One decision at the end of a slice: charge, requeue, pop the best. The clock moves by 1 ns per
 * call, so accounting (measured on its own below) practically never falls into this batch. */
static double bench_pick(void)
{
	uint64_t t0 = wall_ns();
	int acc = 0;

	for (int i = 0; i < PICK_ITERS; i++) {
		now++;
		acc += sched_pick_next(&s, (unsigned)(i % NR_CORES), now).vcpu;
	}
	sink = acc;
	return (double)(wall_ns() - t0) / PICK_ITERS;
}

/* What one pair of wall_ns() calls costs: subtracted from the short batches below. */
static double timer_overhead(void)
{
	double v[REPS];

	for (int r = 0; r < REPS; r++) {
		uint64_t sum = 0;

		for (int i = 0; i < 1000; i++) {
			uint64_t a = wall_ns();

			sum += wall_ns() - a;
		}
		v[r] = (double)sum / 1000;
	}
	return median(v, REPS);
}

/* Every waiting vCPU blocks, then all are woken: a wake enqueues, and looks for an idle core or
 * (turbo) a core to preempt. Then every core re-picks (untimed), so that each batch finds the
 * preemption state fresh. Batches repeat until WAKE_CALLS calls were timed; each batch's time
 * has the timer's own cost taken off. */
static void bench_block_wake(int nvcpus, double overhead, double *block_ns, double *wake_ns)
{
	static int waiting[MAX_VCPUS];
	double block_sum = 0, wake_sum = 0;
	long calls = 0;

	while (calls < WAKE_CALLS) {
		int n = 0;
		uint64_t t0, t1, t2, t3;

		for (int i = 0; i < nvcpus; i++) {
			struct sched_vcpu_stats st;

			sched_vcpu_stats(&s, i, &st);
			if (st.runnable && !st.running)
				waiting[n++] = i;
		}
		if (n == 0)
			abort();
		now++;
		t0 = wall_ns();
		for (int i = 0; i < n; i++)
			sched_block(&s, waiting[i], now);
		t1 = wall_ns();
		t2 = wall_ns();
		for (int i = 0; i < n; i++)
			sink = sched_wake(&s, waiting[i], now).core;
		t3 = wall_ns();
		block_sum += (double)(t1 - t0) - overhead;
		wake_sum += (double)(t3 - t2) - overhead;
		calls += n;
		for (unsigned c = 0; c < NR_CORES; c++)
			sched_pick_next(&s, c, ++now);
	}
	*block_ns = block_sum / (double)calls;
	*wake_ns = wake_sum / (double)calls;
}

/* One accounting run every `step` ns of simulated time: regular accounting (which also ticks
 * the turbo credits) with step = the regular slice, the turbo tick alone with the turbo slice.
 * Past 1 024 vCPUs fewer iterations (the same total work), at least 100. */
static double bench_account(uint64_t step, int iters, int nvcpus)
{
	if (nvcpus > 1024)
		iters = iters * 1024 / nvcpus > 100 ? iters * 1024 / nvcpus : 100;

	uint64_t t0 = wall_ns();

	for (int i = 0; i < iters; i++) {
		now += step;
		sched_account(&s, now);
	}
	return (double)(wall_ns() - t0) / iters;
}

/* One series: for each size, the median of REPS runs of each measurement, as JSON rows. */
static void series(const int *sizes, int nsizes, int per_vm, double overhead)
{
	for (int k = 0; k < nsizes; k++) {
		double pick[REPS], wake[REPS], block[REPS], acct[REPS], tick[REPS];

		setup(sizes[k], per_vm);
		for (int r = 0; r < REPS; r++) {
			pick[r] = bench_pick();
			bench_block_wake(sizes[k], overhead, &block[r], &wake[r]);
			acct[r] = bench_account(params.regular_slice_ns, ACCT_ITERS, sizes[k]);
			tick[r] = bench_account(params.turbo_slice_ns, TURBO_ITERS, sizes[k]);
		}
		printf("    {\"vcpus\": %d, \"vms\": %d, \"pick_ns\": %.1f, \"wake_ns\": %.1f, "
		       "\"block_ns\": %.1f, \"accounting_ns\": %.1f, \"turbo_accounting_ns\": "
		       "%.1f}%s\n",
		       sizes[k], sizes[k] / per_vm, median(pick, REPS), median(wake, REPS),
		       median(block, REPS), median(acct, REPS), median(tick, REPS),
		       k + 1 < nsizes ? "," : "");
	}
}

int main(void)
{
	static const int sizes[] = {8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
	static const int wide[] = {1024, 16384};
	double overhead = timer_overhead();

	printf("{\n  \"benchmark\": \"sched\",\n");
	printf("  \"setup\": {\"regular_cores\": %d, \"turbo_cores\": %d, \"vcpus_per_vm\": "
	       "\"1 regular + 1 turbo\", \"reps\": %d, \"statistic\": \"median of per-call "
	       "means\"},\n",
	       NR_REGULAR, NR_TURBO, REPS);
	printf("  \"decision_cost\": [\n");
	series(sizes, (int)(sizeof(sizes) / sizeof(sizes[0])), 2, overhead);
	printf("  ],\n");
	/* The layout of the manifest's coming limits (256 VMs of up to 64 vCPUs): few VMs, so the
	 * O(VMs) turbo tick stays small while the regular accounting still sees every vCPU. */
	printf("  \"decision_cost_64_per_vm\": [\n");
	series(wide, (int)(sizeof(wide) / sizeof(wide[0])), 64, overhead);
	printf("  ],\n");
	printf("  \"timer_overhead_ns\": %.1f,\n", overhead);
	printf("  \"notes\": \"pick and wake are per call; accounting_ns is one regular accounting "
	       "(every %llu ns of simulated time, O(VMs + vCPUs)), turbo_accounting_ns one turbo "
	       "tick (every %llu ns, O(VMs)); decision_cost: N/2 VMs of 1 regular + 1 turbo vCPU, "
	       "decision_cost_64_per_vm: N/64 VMs of 63 regular + 1 turbo vCPU\"\n}\n",
	       (unsigned long long)params.regular_slice_ns,
	       (unsigned long long)params.turbo_slice_ns);
	return 0;
}
