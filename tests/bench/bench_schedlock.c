/* The scheduler's locks on the host (issue 12): what kernel/core_loop.c's cores do with sched/,
 * under the old locking (one lock, also taken for the deadline and timer looks at every pass
 * through a core's loop) and the new (one lock per class, those looks lock-free), with 64, 1 024
 * and 16 384 busy vCPUs: 12 regular and 4 turbo cores, N/4 VMs of 3 regular and 1 turbo vCPU, all
 * always runnable (spinners); regular core 0 also reads the statistics every 500 ms as the
 * kernel's stats core does (every core's, then each VM's CPU time, class by class).
 *
 * By default a model on a simulated clock, so that the figures do not depend on how many host
 * CPUs there are and what else runs on them: the cores' events (a pick at each deadline, 30 ms
 * regular and 0.1 ms turbo slices; in the old locking two looks under the lock before it) are
 * taken in time order, each lock is granted first come, first served (a ticket lock), and every
 * critical section runs the real sched/ call at its simulated time and lasts what that call took
 * on this host (TSC). The waits follow: a turbo core's pick waits for whoever holds its lock,
 * e.g. a regular core running the regular accounting. With the argument `threads` (and a seconds
 * count, 2 by default), the same on 16 host threads with ticket spinlocks, sleeping until their
 * deadlines: meaningful on a host with 16 idle CPUs, not on a shared 2-CPU one. Prints one JSON
 * document. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "sched/sched.h"

#define NR_REGULAR   12
#define NR_TURBO     4
#define NR_CORES     (NR_REGULAR + NR_TURBO)
#define MAX_VCPUS    16384
#define MAX_VMS	     (MAX_VCPUS / 4)
#define STATS_NS     500000000ull
#define HIST_BUCKETS 48 /* log2(ns) */

enum { BY_REGULAR, BY_TURBO, NR_BY };

struct counts {
	uint64_t acquisitions, contended, behind[NR_BY];
	uint64_t behind_regular_wait_max; /* the longest wait that began behind a regular holder */
	uint64_t wait_ns, wait_max, hold_ns, hold_max;
	uint64_t wait_hist[HIST_BUCKETS];
};

struct tlock {
	volatile uint32_t next, owner;
	uint64_t held_since; /* TSC */
	unsigned held_by;
	struct counts by[NR_BY];
	char pad[64];
};

static struct tlock locks[SCHED_NR_CLASSES];
static bool one_lock;
static struct sched s;
static struct sched_vm vms[MAX_VMS];
static struct sched_vcpu vcpus[MAX_VCPUS];
static uint64_t t0_ns, end_ns;
static double tsc_per_ns;
static pthread_barrier_t start;

struct core {
	unsigned id;
	enum sched_class cls;
	uint64_t picks, late_hist[HIST_BUCKETS], late_max;
	pthread_t thread;
} cores[NR_CORES];

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return mono_ns() - t0_ns;
}

static unsigned bucket(uint64_t ns)
{
	unsigned b = 0;

	while (ns > 1 && b + 1 < HIST_BUCKETS) {
		ns >>= 1;
		b++;
	}
	return b;
}

static struct tlock *lock_of(enum sched_class cls)
{
	return &locks[one_lock ? SCHED_REGULAR : cls];
}

static void lock(enum sched_class cls, unsigned by)
{
	struct tlock *l = lock_of(cls);
	uint64_t t = __rdtsc(), got, wait;
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	bool contended = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket;
	unsigned holder = contended ? __atomic_load_n(&l->held_by, __ATOMIC_RELAXED) : 0;
	struct counts *c = &l->by[by];

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
		_mm_pause();
	got = __rdtsc();
	wait = (uint64_t)((double)(got - t) / tsc_per_ns);
	l->held_since = got;
	__atomic_store_n(&l->held_by, by, __ATOMIC_RELAXED);
	c->acquisitions++;
	if (contended) {
		c->contended++;
		c->behind[holder]++;
		if (holder == BY_REGULAR && wait > c->behind_regular_wait_max)
			c->behind_regular_wait_max = wait;
	}
	c->wait_ns += wait;
	if (wait > c->wait_max)
		c->wait_max = wait;
	c->wait_hist[bucket(wait)]++;
}

static void unlock(enum sched_class cls)
{
	struct tlock *l = lock_of(cls);
	struct counts *c = &l->by[l->held_by];
	uint64_t hold = (uint64_t)((double)(__rdtsc() - l->held_since) / tsc_per_ns);

	c->hold_ns += hold;
	if (hold > c->hold_max)
		c->hold_max = hold;
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

static void sleep_until(uint64_t ns)
{
	uint64_t abs = t0_ns + ns;
	struct timespec ts = {.tv_sec = (time_t)(abs / 1000000000ull),
			      .tv_nsec = (long)(abs % 1000000000ull)};

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* What the kernel's stats core reads every interval (core_loop_report_stats). */
static void read_stats(unsigned by)
{
	static volatile uint64_t sink;

	for (unsigned c = 0; c < NR_CORES; c++) {
		struct sched_core_stats st = {0};

		lock(cores[c].cls, by);
		sched_core_stats(&s, c, &st);
		unlock(cores[c].cls);
		sink += st.busy_ns;
	}
	for (uint32_t vm = 0; vm < s.nr_vms; vm++)
		for (unsigned cls = 0; cls < SCHED_NR_CLASSES; cls++) {
			struct sched_vcpu_stats st;

			lock((enum sched_class)cls, by);
			sched_charge_class(&s, (enum sched_class)cls, now_ns());
			for (unsigned k = 0; k < 4;
			     k++) /* its vCPUs: 3 regular, then the turbo one */
				if ((k == 3) == (cls == SCHED_TURBO) &&
				    !sched_vcpu_stats(&s, (int)(vm * 4 + k), &st))
					sink += st.consumed_ns;
			unlock((enum sched_class)cls);
		}
}

static void *core_main(void *arg)
{
	struct core *c = arg;
	unsigned by = c->cls == SCHED_TURBO ? BY_TURBO : BY_REGULAR;
	bool stats = c->id == 0;
	uint64_t next_stats = STATS_NS, deadline = 0;

	prctl(PR_SET_TIMERSLACK, 1UL);
	pthread_barrier_wait(&start);
	for (;;) {
		uint64_t now = now_ns(), late = now > deadline ? now - deadline : 0;

		if (now >= end_ns)
			break;
		lock(c->cls, by);
		sched_pick_next(&s, c->id, now);
		unlock(c->cls);
		c->picks++;
		if (c->picks > 1) {
			c->late_hist[bucket(late)]++;
			if (late > c->late_max)
				c->late_max = late;
		}
		for (;;) { /* "in the guest" until the deadline; each wake-up is a pass */
			if (one_lock) { /* the old loop: deadline and timer looks under the lock */
				lock(c->cls, by);
				deadline = sched_core_deadline(&s, c->id);
				unlock(c->cls);
				lock(c->cls, by);
				unlock(c->cls);
			} else {
				deadline = sched_core_deadline(&s, c->id);
			}
			if (stats && now_ns() >= next_stats) {
				read_stats(by);
				next_stats += STATS_NS;
			}
			if (now_ns() >= deadline || now_ns() >= end_ns)
				break;
			sleep_until(stats && next_stats < deadline ? next_stats : deadline);
		}
	}
	return NULL;
}

static void setup(int nvcpus)
{
	struct sched_params p;

	sched_default_params(&p);
	if (sched_init(&s, &p, vms, MAX_VMS, vcpus, MAX_VCPUS, 0))
		abort();
	for (unsigned c = 0; c < NR_CORES; c++) {
		cores[c] =
			(struct core){.id = c, .cls = c < NR_REGULAR ? SCHED_REGULAR : SCHED_TURBO};
		sched_add_core(&s, c, cores[c].cls);
	}
	for (int i = 0; i < nvcpus / 4; i++) {
		int vm = sched_add_vm(&s, 256);

		for (int k = 0; k < 4; k++)
			sched_wake(&s, sched_add_vcpu(&s, vm, k == 3 ? SCHED_TURBO : SCHED_REGULAR),
				   0);
	}
	memset(locks, 0, sizeof(locks));
}

static uint64_t percentile(const uint64_t *hist, double q)
{
	uint64_t total = 0, seen = 0;

	for (int b = 0; b < HIST_BUCKETS; b++)
		total += hist[b];
	for (int b = 0; b < HIST_BUCKETS; b++) {
		seen += hist[b];
		if (total && (double)seen >= q * (double)total)
			return 2ull << b; /* the bucket's upper bound */
	}
	return 0;
}

static void print_counts(const char *lock_name, const char *by, const struct counts *c, bool last)
{
	double n = c->acquisitions ? (double)c->acquisitions : 1;

	printf("        {\"lock\": \"%s\", \"by\": \"%s\", \"acquisitions\": %llu, ", lock_name, by,
	       (unsigned long long)c->acquisitions);
	printf("\"contended\": %llu, \"contended_pct\": %.2f, \"behind_regular\": %llu, "
	       "\"behind_turbo\": %llu, \"behind_regular_wait_max_ns\": %llu, ",
	       (unsigned long long)c->contended, 100.0 * (double)c->contended / n,
	       (unsigned long long)c->behind[BY_REGULAR], (unsigned long long)c->behind[BY_TURBO],
	       (unsigned long long)c->behind_regular_wait_max);
	printf("\"wait_mean_ns\": %.0f, \"wait_p99_ns\": %llu, \"wait_max_ns\": %llu, ",
	       (double)c->wait_ns / n, (unsigned long long)percentile(c->wait_hist, 0.99),
	       (unsigned long long)c->wait_max);
	printf("\"hold_mean_ns\": %.0f, \"hold_max_ns\": %llu}%s\n", (double)c->hold_ns / n,
	       (unsigned long long)c->hold_max, last ? "" : ",");
}

static const char *const by_names[NR_BY] = {"regular", "turbo"};
static const char *const class_locks[SCHED_NR_CLASSES] = {"sched.regular", "sched.turbo"};

/* The turbo and regular cores' pick rates and how late the turbo picks were. */
static void print_pick_rates(uint64_t turbo_picks, uint64_t regular_picks, double seconds,
			     const uint64_t *late_hist, uint64_t late_max)
{
	printf("      \"turbo_picks_per_core_s\": %.0f, \"regular_picks_per_core_s\": %.1f, "
	       "\"turbo_pick_late_p50_ns\": %llu, \"turbo_pick_late_p99_ns\": %llu, "
	       "\"turbo_pick_late_max_ns\": %llu,\n",
	       (double)turbo_picks / NR_TURBO / seconds,
	       (double)regular_picks / NR_REGULAR / seconds,
	       (unsigned long long)percentile(late_hist, 0.5),
	       (unsigned long long)percentile(late_hist, 0.99), (unsigned long long)late_max);
}

/* One JSON row per lock and kind of taker that took it at all. */
static void print_lock_rows(const struct counts *const by[SCHED_NR_CLASSES], bool one)
{
	int rows = 0, row = 0;

	for (int l = 0; l < (one ? 1 : SCHED_NR_CLASSES); l++)
		for (int b = 0; b < NR_BY; b++)
			rows += by[l][b].acquisitions > 0;
	for (int l = 0; l < (one ? 1 : SCHED_NR_CLASSES); l++)
		for (int b = 0; b < NR_BY; b++)
			if (by[l][b].acquisitions)
				print_counts(one ? "sched" : class_locks[l], by_names[b], &by[l][b],
					     ++row == rows);
}

static void run(int nvcpus, bool one, double seconds, bool last)
{
	uint64_t turbo_picks = 0, regular_picks = 0, late_hist[HIST_BUCKETS] = {0}, late_max = 0;
	double load[3] = {0};

	one_lock = one;
	setup(nvcpus);
	pthread_barrier_init(&start, NULL, NR_CORES + 1);
	for (unsigned c = 0; c < NR_CORES; c++)
		pthread_create(&cores[c].thread, NULL, core_main, &cores[c]);
	t0_ns = mono_ns();
	end_ns = (uint64_t)(seconds * 1e9);
	pthread_barrier_wait(&start);
	for (unsigned c = 0; c < NR_CORES; c++)
		pthread_join(cores[c].thread, NULL);
	pthread_barrier_destroy(&start);
	getloadavg(load, 3);
	for (unsigned c = 0; c < NR_CORES; c++) {
		if (cores[c].cls == SCHED_TURBO) {
			turbo_picks += cores[c].picks;
			for (int b = 0; b < HIST_BUCKETS; b++)
				late_hist[b] += cores[c].late_hist[b];
			if (cores[c].late_max > late_max)
				late_max = cores[c].late_max;
		} else {
			regular_picks += cores[c].picks;
		}
	}
	printf("    {\"vcpus\": %d, \"vms\": %d, \"locking\": \"%s\", \"seconds\": %.1f, "
	       "\"load_avg_1min\": %.2f,\n",
	       nvcpus, nvcpus / 4, one ? "one lock" : "per class", seconds, load[0]);
	print_pick_rates(turbo_picks, regular_picks, seconds, late_hist, late_max);
	printf("      \"locks\": [\n");
	print_lock_rows((const struct counts *[]){locks[0].by, locks[1].by}, one);
	printf("      ]}%s\n", last ? "" : ",");
}

/* --- the model: simulated time, measured critical sections --------------------------------- */

struct mlock {
	uint64_t free_at; /* simulated ns at which the holder releases it */
	unsigned holder;
	uint64_t busy_ns;
	struct counts by[NR_BY];
};

static struct mlock mlocks[SCHED_NR_CLASSES];

static struct mlock *mlock_of(enum sched_class cls)
{
	return &mlocks[one_lock ? SCHED_REGULAR : cls];
}

/* Asks for the lock at simulated time t; returns when it is granted. */
static uint64_t macquire(enum sched_class cls, unsigned by, uint64_t t)
{
	struct mlock *l = mlock_of(cls);
	struct counts *c = &l->by[by];
	uint64_t got = t > l->free_at ? t : l->free_at, wait = got - t;

	c->acquisitions++;
	if (wait) {
		c->contended++;
		c->behind[l->holder]++;
		if (l->holder == BY_REGULAR && wait > c->behind_regular_wait_max)
			c->behind_regular_wait_max = wait;
	}
	c->wait_ns += wait;
	if (wait > c->wait_max)
		c->wait_max = wait;
	c->wait_hist[bucket(wait)]++;
	return got;
}

/* The holder got it at `got` and its critical section took `cost`: returns the release time. */
static uint64_t mrelease(enum sched_class cls, unsigned by, uint64_t got, uint64_t cost)
{
	struct mlock *l = mlock_of(cls);
	struct counts *c = &l->by[by];

	l->free_at = got + cost;
	l->holder = by;
	l->busy_ns += cost;
	c->hold_ns += cost;
	if (cost > c->hold_max)
		c->hold_max = cost;
	return got + cost;
}

/* What a critical section cost, from the TSC; if the host switched this thread out meanwhile
 * (its context-switch counts moved), the time is not the call's: the last clean figure of the same
 * kind of section stands in for it. */
enum { K_LOOK, K_REGULAR_PICK, K_TURBO_PICK, K_STATS, NR_KINDS };
static uint64_t last_clean[NR_KINDS], disturbed;

static long switches(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

struct timing {
	long sw;
	uint64_t tsc;
};

static struct timing timing_start(void)
{
	struct timing t = {.sw = switches()};

	t.tsc = __rdtsc();
	return t;
}

static uint64_t timing_end(struct timing t, int kind)
{
	uint64_t cost = (uint64_t)((double)(__rdtsc() - t.tsc) / tsc_per_ns) + 1;

	if (switches() != t.sw) {
		disturbed++;
		return last_clean[kind] ? last_clean[kind] : cost;
	}
	last_clean[kind] = cost;
	return cost;
}

/* A critical section at simulated time t: the lock, then `what` run for real and timed. */
#define LOCKED(cls, by, t, kind, what)                                                             \
	({                                                                                         \
		uint64_t got_ = macquire((cls), (by), (t));                                        \
		struct timing tm_ = timing_start();                                                \
		(void)got_;                                                                        \
		what;                                                                              \
		mrelease((cls), (by), got_, timing_end(tm_, (kind)));                              \
	})

/* Section `pos` of the stats core's round (core_loop_report_stats: every core's statistics, then
 * each VM's CPU time, class by class), asked for at simulated time t; returns when it is done.
 * The sections are separate acquisitions, so other cores' picks come in between. */
static uint64_t model_stats(unsigned pos, uint64_t t)
{
	static volatile uint64_t sink;
	unsigned vm = (pos - NR_CORES) / 2, cls = (pos - NR_CORES) % 2;

	if (pos < NR_CORES) {
		struct sched_core_stats st = {0};

		t = LOCKED(cores[pos].cls, BY_REGULAR, t, K_STATS, sched_core_stats(&s, pos, &st));
		sink += st.busy_ns;
		return t;
	}
	return LOCKED((enum sched_class)cls, BY_REGULAR, t, K_STATS, {
		struct sched_vcpu_stats st;

		sched_charge_class(&s, (enum sched_class)cls, got_);
		for (unsigned k = 0; k < 4; k++)
			if ((k == 3) == (cls == SCHED_TURBO) &&
			    !sched_vcpu_stats(&s, (int)(vm * 4 + k), &st))
				sink += st.consumed_ns;
	});
}

static void model(int nvcpus, bool one, double seconds, bool last)
{
	uint64_t next[NR_CORES], end = (uint64_t)(seconds * 1e9), next_stats = STATS_NS;
	uint64_t round = STATS_NS; /* when the stats core's current round began */
	unsigned stats_pos = 0;
	uint64_t late_hist[HIST_BUCKETS] = {0}, late_max = 0, turbo_picks = 0, regular_picks = 0;

	one_lock = one;
	setup(nvcpus);
	memset(mlocks, 0, sizeof(mlocks));
	memset(last_clean, 0, sizeof(last_clean));
	disturbed = 0;
	for (unsigned c = 0; c < NR_CORES; c++)
		next[c] = 0;
	for (;;) {
		unsigned c = 0;
		uint64_t t, got, done, deadline;
		unsigned by;

		for (unsigned k = 1; k < NR_CORES; k++)
			if (next[k] < next[c])
				c = k;
		t = next[c];
		if (next_stats <= t) { /* a section of the stats core's round comes first */
			next_stats = model_stats(stats_pos, next_stats);
			if (++stats_pos == NR_CORES + 2 * s.nr_vms) {
				stats_pos = 0;
				round += STATS_NS;
				next_stats = next_stats > round ? next_stats : round;
			}
			continue;
		}
		if (t >= end)
			break;
		by = cores[c].cls == SCHED_TURBO ? BY_TURBO : BY_REGULAR;
		if (one) /* the old loop: the deadline and the timers looked at under the lock */
			for (int look = 0; look < 2; look++)
				t = LOCKED(cores[c].cls, by, t, K_LOOK,
					   (void)sched_core_deadline(&s, c));
		got = macquire(cores[c].cls, by, t);
		{
			struct timing tm = timing_start();

			sched_pick_next(&s, c, got);
			done = mrelease(
				cores[c].cls, by, got,
				timing_end(tm, by == BY_TURBO ? K_TURBO_PICK : K_REGULAR_PICK));
		}
		if (by == BY_TURBO) {
			uint64_t late = got - next[c];

			turbo_picks++;
			late_hist[bucket(late)]++;
			if (late > late_max)
				late_max = late;
		} else {
			regular_picks++;
		}
		deadline = sched_core_deadline(&s, c);
		next[c] = deadline > done ? deadline : done;
	}
	printf("    {\"vcpus\": %d, \"vms\": %d, \"locking\": \"%s\", \"simulated_s\": %.1f, "
	       "\"sections_disturbed\": %llu,\n",
	       nvcpus, nvcpus / 4, one ? "one lock" : "per class", seconds,
	       (unsigned long long)disturbed);
	print_pick_rates(turbo_picks, regular_picks, seconds, late_hist, late_max);
	printf("      \"lock_busy_pct\": {");
	for (int l = 0; l < (one ? 1 : SCHED_NR_CLASSES); l++)
		printf("%s\"%s\": %.2f", l ? ", " : "", one ? "sched" : class_locks[l],
		       100.0 * (double)mlocks[l].busy_ns / (double)end);
	printf("},\n      \"locks\": [\n");
	print_lock_rows((const struct counts *[]){mlocks[0].by, mlocks[1].by}, one);
	printf("      ]}%s\n", last ? "" : ",");
}

int main(int argc, char **argv)
{
	static const int sizes[] = {64, 1024, 16384};
	bool threads = argc > 1 && !strcmp(argv[1], "threads");
	double seconds = threads ? (argc > 2 ? atof(argv[2]) : 2.0) : 1.0;
	uint64_t m0 = mono_ns(), c0 = __rdtsc();
	struct timespec pause = {.tv_nsec = 50000000};

	nanosleep(&pause, NULL);
	tsc_per_ns = (double)(__rdtsc() - c0) / (double)(mono_ns() - m0);
	printf("{\n  \"benchmark\": \"schedlock\",\n");
	printf("  \"setup\": {\"mode\": \"%s\", \"regular_cores\": %d, \"turbo_cores\": %d, "
	       "\"vcpus_per_vm\": \"3 regular + 1 turbo\", \"regular_slice_ms\": 30, "
	       "\"turbo_slice_us\": 100, \"stats_every_ms\": %llu, \"host_cpus\": %ld, "
	       "\"tsc_per_ns\": %.3f},\n",
	       threads ? "threads" : "model", NR_REGULAR, NR_TURBO, STATS_NS / 1000000,
	       sysconf(_SC_NPROCESSORS_ONLN), tsc_per_ns);
	printf("  \"runs\": [\n");
	for (int k = 0; k < 3; k++)
		for (int one = 1; one >= 0; one--) {
			if (threads)
				run(sizes[k], one, seconds, k == 2 && one == 0);
			else
				model(sizes[k], one, seconds, k == 2 && one == 0);
		}
	printf("  ],\n  \"notes\": \"wait and hold in ns per acquisition (p99 from log2 buckets: "
	       "an upper bound); late = how long after its deadline a turbo core picked (the lock "
	       "looks and the wait); behind_*: whom a contended acquisition found holding the "
	       "lock; model: simulated time, each critical section as long as the real call took "
	       "on this host\"\n}\n");
	return 0;
}
