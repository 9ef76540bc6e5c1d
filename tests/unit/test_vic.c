/* vIC (vio/vic.c) against paper 004: Table 1 and Algorithm 1 for every CIF,
 * the long-run delivery ratio of Algorithm 2's counter, epoch recalculation,
 * the Low-IOPS and Low-CIF modes (§3.2), our max_delay bound, and the IPI
 * filter of §3.3 with its deadline. Time is in ns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vio/vic.h"

#define US 1000ull
#define MS 1000000ull

/* Table 1 as printed (cif_threshold 4): the ratio and its percentage column. */
static void table1(unsigned cif, unsigned *cu, unsigned *su, unsigned *pct)
{
	if (cif <= 3) {
		*cu = 1, *su = 1, *pct = 100;
	} else if (cif <= 7) {
		*cu = 4, *su = 5, *pct = 80;
	} else if (cif <= 11) {
		*cu = 3, *su = 4, *pct = 75;
	} else if (cif <= 15) {
		*cu = 2, *su = 3, *pct = 66;
	} else { /* 8 / CIF, with Algorithm 1's integer skipUp = cif / 8 */
		*cu = 1, *su = cif / 8, *pct = 100 / (cif / 8);
	}
}

/* Algorithm 1 for any cifThreshold t, written by bands of t, at IOPS above
 * the threshold. */
static void alg1(unsigned t, unsigned cif, unsigned *cu, unsigned *su)
{
	static const unsigned band_cu[] = {1, 4, 3, 2}, band_su[] = {1, 5, 4, 3};
	unsigned band = cif / t;

	if (band < 4) {
		*cu = band_cu[band], *su = band_su[band];
	} else {
		*cu = 1, *su = cif / (2 * t);
	}
}

/* Completions every `step` from `*now` (steady IOPS = 1e9 / step) until two
 * epochs have ended (the first one, begun by vic_init and not by a
 * completion, measures a little low) and the counter is at the start of a
 * cycle. */
static void warm_up(struct vic *v, unsigned cif, uint64_t step, uint64_t *now)
{
	while (v->recalcs < 2 || v->counter != 1) {
		*now += step;
		vic_on_completion(v, cif, *now);
	}
}

static uint64_t run(struct vic *v, unsigned cif, uint64_t step, uint64_t *now, uint64_t n)
{
	uint64_t delivered = 0;

	for (uint64_t i = 0; i < n; i++) {
		*now += step;
		delivered += vic_on_completion(v, cif, *now);
	}
	return delivered;
}

static void test_table1(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;

	(void)state;
	for (unsigned cif = 1; cif <= 64; cif++) {
		unsigned cu, su, ecu, esu, pct;

		vic_ratio(&p, cif, 100000, &cu, &su);
		table1(cif, &ecu, &esu, &pct);
		assert_int_equal(cu, ecu);
		assert_int_equal(su, esu);
		assert_int_equal(100 * cu / su, pct);
	}
	/* "e.g., CIF = 64: 12%" */
	{
		unsigned cu, su;

		vic_ratio(&p, 64, 100000, &cu, &su);
		assert_int_equal(100 * cu / su, 12);
		/* "for 6.25% countUp = 1 and skipUp = 16" */
		vic_ratio(&p, 128, 100000, &cu, &su);
		assert_int_equal(cu, 1);
		assert_int_equal(su, 16);
	}
	/* below iopsThreshold, or cifThreshold 0 (no division by zero) */
	for (unsigned cif = 0; cif <= 64; cif++) {
		unsigned cu, su;

		vic_ratio(&p, cif, 1999, &cu, &su);
		assert_int_equal(cu, 1);
		assert_int_equal(su, 1);
		p.cif_threshold = 0;
		vic_ratio(&p, cif, 100000, &cu, &su);
		assert_true(cu >= 1 && su >= cu);
		p.cif_threshold = 4;
	}
}

/* (1) For every CIF 1..64 held steady at 100k IOPS, Algorithm 2 delivers
 * exactly countUp of every skipUp completions over about 100 000 of them (a
 * multiple of skipUp). */
static void check_long_run(unsigned t)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	const uint64_t step = 10 * US;

	p.cif_threshold = t;
	for (unsigned cif = 1; cif <= 64; cif++) {
		struct vic v;
		uint64_t now = 0, delivered, n;
		unsigned cu, su;

		if (t == 4) {
			unsigned pct;

			table1(cif, &cu, &su, &pct);
		} else {
			alg1(t, cif, &cu, &su);
		}
		if (cif <= 1) /* the last request in flight is always signalled */
			cu = su = 1;
		vic_init(&v, &p, now);
		warm_up(&v, cif, step, &now);
		assert_int_equal(v.iops, 100000);
		assert_int_equal(v.count_up, cu);
		assert_int_equal(v.skip_up, su);
		n = (100000 + su - 1) / su * su;
		delivered = run(&v, cif, step, &now, n);
		assert_int_equal(delivered, n / su * cu);
		assert_int_equal(v.forced_by_deadline, 0);
		assert_true(v.recalcs >= 5); /* epochs ended on the way, R kept */
		assert_int_equal(v.interrupts + v.coalesced, v.completions);
		assert_true(v.max_batch <= su - cu + 1);
	}
}

static void test_long_run_ratio_every_cif(void **state)
{
	(void)state;
	check_long_run(4);
	check_long_run(2); /* the paper's TPC-C runs used cifThreshold 2 to 4 */
	check_long_run(3);
}

/* §3.2.2's two series of <counter, deliver?>. */
static void test_counter_series(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;
	uint64_t now = 0;
	static const bool three_of_four[] = {true, true, false, true};
	static const bool one_of_five[] = {false, false, false, false, true};

	(void)state;
	vic_init(&v, &p, now);
	warm_up(&v, 8, 10 * US, &now); /* CIF 8: 3/4 */
	for (unsigned r = 0; r < 3; r++) {
		for (unsigned i = 0; i < 4; i++) {
			assert_int_equal(v.counter, i + 1);
			now += 10 * US;
			assert_int_equal(vic_on_completion(&v, 8, now), three_of_four[i]);
		}
	}
	vic_init(&v, &p, now);
	warm_up(&v, 40, 10 * US, &now); /* CIF 40: skipUp 40/8 = 5, 1/5 */
	assert_int_equal(v.skip_up, 5);
	for (unsigned r = 0; r < 3; r++) {
		for (unsigned i = 0; i < 5; i++) {
			assert_int_equal(v.counter, i + 1);
			now += 10 * US;
			assert_int_equal(vic_on_completion(&v, 40, now), one_of_five[i]);
		}
	}
}

/* (2) One recalculation per epoch, at the first completion more than
 * epoch_ns after the epoch began (A2:6, strictly greater). */
static void test_epoch_once_per_epoch(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;
	uint64_t now = 0;

	(void)state;
	vic_init(&v, &p, 0);
	/* R = 1 before the first epoch ends, whatever the CIF */
	assert_true(vic_on_completion(&v, 32, 1));
	assert_true(vic_on_completion(&v, 32, 2));
	assert_true(vic_on_completion(&v, 32, p.epoch_ns));
	assert_int_equal(v.recalcs, 0);
	vic_on_completion(&v, 32, p.epoch_ns + 1);
	assert_int_equal(v.recalcs, 1);
	assert_int_equal(v.epoch_start, p.epoch_ns + 1);
	/* 3 completions over 200 ms + 1 ns: 14 IOPS, below the threshold */
	assert_int_equal(v.iops, 14);
	assert_int_equal(v.skip_up, 1);

	/* 100 µs steps for ten more epochs: one recalculation each */
	now = v.epoch_start;
	for (unsigned e = 0; e < 10; e++) {
		uint64_t before = v.recalcs;

		for (unsigned i = 0; i < 2001; i++) { /* 200.1 ms */
			now += 100 * US;
			vic_on_completion(&v, 32, now);
		}
		assert_int_equal(v.recalcs, before + 1);
		assert_int_equal(v.iops, 10000);
		assert_int_equal(v.count_up, 1);
		assert_int_equal(v.skip_up, 4);
	}
}

/* (2) R follows a changed CIF at the next epoch end, not before; the CIF used
 * is the one of the completion that ends the epoch (A2:7 passes `cif`). */
static void test_epoch_follows_cif(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;
	uint64_t now = 0, step = 50 * US, start;

	(void)state;
	vic_init(&v, &p, now);
	warm_up(&v, 8, step, &now);
	assert_int_equal(v.count_up, 3);
	assert_int_equal(v.skip_up, 4);
	/* CIF rises to 32: 3/4 until the epoch ends, then 8/32 = 1/4 */
	start = v.recalcs;
	while (v.recalcs == start) {
		now += step;
		vic_on_completion(&v, 32, now);
		if (v.recalcs == start) {
			assert_int_equal(v.count_up, 3);
			assert_int_equal(v.skip_up, 4);
		}
	}
	assert_int_equal(v.count_up, 1);
	assert_int_equal(v.skip_up, 4);
	/* steady 32, but the epoch-ending completion has CIF 12: 2/3 for
	 * the whole next epoch */
	while (now + step - v.epoch_start <= p.epoch_ns) {
		now += step;
		vic_on_completion(&v, 32, now);
	}
	start = v.recalcs;
	now += step;
	vic_on_completion(&v, 12, now);
	assert_int_equal(v.recalcs, start + 1);
	assert_int_equal(v.count_up, 2);
	assert_int_equal(v.skip_up, 3);
	/* CIF 64 for the next epoch: 2/3 holds, and the ratio is 2/3 */
	while (v.counter != 1) {
		now += step;
		vic_on_completion(&v, 64, now);
	}
	{
		uint64_t d = 0;

		for (unsigned i = 0; i < 3000; i++) {
			now += step;
			d += vic_on_completion(&v, 64, now);
		}
		assert_int_equal(v.recalcs, start + 1);
		assert_int_equal(d, 2000);
	}
	while (v.recalcs == start + 1) {
		now += step;
		vic_on_completion(&v, 64, now);
	}
	assert_int_equal(v.skip_up, 8);
}

/* (3) Low-IOPS mode: below 2000 completions/s nothing is coalesced, at
 * 2000/s Algorithm 1's "<" lets coalescing start. */
static void test_low_iops(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;
	uint64_t now = 0, forced;

	(void)state;
	vic_init(&v, &p, now);
	for (unsigned i = 0; i < 2000; i++) { /* 600 µs: 1666 IOPS, 1.2 s */
		now += 600 * US;
		assert_true(vic_on_completion(&v, 32, now));
	}
	assert_true(v.recalcs >= 5);
	assert_int_equal(v.iops, 1666);
	assert_int_equal(v.coalesced, 0);
	assert_int_equal(vic_deadline(&v), 0);

	/* 500 µs: exactly 2000 IOPS; R = 1/4, but a completion held longer
	 * than max_delay_ns (200 µs) is carried by the next one: 1/2 */
	vic_init(&v, &p, 0);
	now = 0;
	warm_up(&v, 32, 500 * US, &now);
	assert_int_equal(v.iops, 2000);
	assert_int_equal(v.skip_up, 4);
	forced = v.forced_by_deadline;
	assert_int_equal(run(&v, 32, 500 * US, &now, 4000), 2000);
	assert_int_equal(v.forced_by_deadline - forced, 2000);
	/* without the bound (the paper's scheme): 1/4 */
	p.max_delay_ns = 0;
	vic_init(&v, &p, 0);
	now = 0;
	warm_up(&v, 32, 500 * US, &now);
	assert_int_equal(run(&v, 32, 500 * US, &now, 4000), 1000);

	/* The workload pauses for a second: the completion that ends the epoch
	 * sees the low rate, R = 1 for the next epoch. */
	now += 1000 * MS;
	assert_true(vic_on_completion(&v, 32, now));
	assert_int_equal(v.skip_up, 1);
	assert_true(v.iops < 2000);
	assert_int_equal(run(&v, 32, 10 * US, &now, 1000), 1000);
}

/* (3) Low-CIF mode: CIF below the threshold is delivered at any rate and
 * starts the counter's cycle over (A2:8-10). */
static void test_low_cif(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;
	uint64_t now = 0;

	(void)state;
	vic_init(&v, &p, now);
	for (unsigned cif = 1; cif <= 3; cif++)
		assert_int_equal(run(&v, cif, 10 * US, &now, 50000), 50000);
	assert_true(v.recalcs >= 2);
	assert_int_equal(v.coalesced, 0);
	assert_int_equal(v.low_cif, 150000);

	/* in the middle of a 1/8 cycle */
	vic_init(&v, &p, 0);
	now = 0;
	warm_up(&v, 64, 10 * US, &now);
	assert_int_equal(v.skip_up, 8);
	now += 10 * US;
	assert_false(vic_on_completion(&v, 64, now));
	now += 10 * US;
	assert_false(vic_on_completion(&v, 64, now));
	assert_int_equal(v.held, 2);
	now += 10 * US;
	assert_true(vic_on_completion(&v, 3, now)); /* carries the two held */
	assert_int_equal(v.held, 0);
	assert_int_equal(v.counter, 1);
	assert_int_equal(vic_deadline(&v), 0);
}

/* (4) A held completion is signalled by the timer at held_since +
 * max_delay_ns, not before and never later. */
static void test_max_delay_timer(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;
	uint64_t now = 0, held_at;

	(void)state;
	vic_init(&v, &p, now);
	assert_false(vic_on_timer(&v, 1000 * MS)); /* nothing held */
	warm_up(&v, 64, 10 * US, &now);
	now += 10 * US;
	assert_false(vic_on_completion(&v, 64, now));
	held_at = now;
	assert_int_equal(vic_deadline(&v), held_at + 200 * US);
	now += 10 * US;
	assert_false(vic_on_completion(&v, 64, now));
	/* the oldest held one sets the deadline */
	assert_int_equal(vic_deadline(&v), held_at + 200 * US);
	assert_false(vic_on_timer(&v, held_at + 200 * US - 1));
	assert_int_equal(v.held, 2);
	assert_true(vic_on_timer(&v, held_at + 200 * US));
	assert_int_equal(v.held, 0);
	assert_int_equal(v.forced_by_deadline, 1);
	assert_int_equal(vic_deadline(&v), 0);
	assert_false(vic_on_timer(&v, held_at + 300 * US)); /* once */
	/* the forced interrupt started a new cycle */
	assert_int_equal(v.counter, 1);

	/* a late timer: the next completion after the deadline carries them */
	now = held_at + 300 * US;
	assert_false(vic_on_completion(&v, 64, now));
	held_at = now;
	now += 200 * US;
	assert_true(vic_on_completion(&v, 64, now));
	assert_int_equal(v.forced_by_deadline, 2);

	/* max_delay_ns 0: the paper's scheme, no timer */
	p.max_delay_ns = 0;
	vic_init(&v, &p, 0);
	now = 0;
	warm_up(&v, 64, 10 * US, &now);
	now += 10 * US;
	assert_false(vic_on_completion(&v, 64, now));
	assert_int_equal(vic_deadline(&v), 0);
	assert_false(vic_on_timer(&v, now + 1000 * MS));
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rand64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* (4) Random arrivals and CIF with the timer firing at vic_deadline: every
 * completion is signalled within max_delay_ns of its arrival; the timer
 * fires only when due. */
static void test_max_delay_random(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;
	uint64_t now = 0, oldest = 0, worst = 0, timer_fires = 0;
	bool holding = false;

	(void)state;
	vic_init(&v, &p, now);
	for (unsigned i = 0; i < 400000; i++) {
		uint64_t next = now + 1 + rand64() % (i % 50000 < 25000 ? 60 * US : 600 * US);
		unsigned cif = 1 + (unsigned)(rand64() % ((i / 1000) % 2 ? 64 : 12));
		uint64_t d = vic_deadline(&v);

		assert_int_equal(d != 0, v.held != 0);
		if (d && d <= next) {
			assert_false(vic_on_timer(&v, d - 1));
			assert_true(vic_on_timer(&v, d));
			assert_true(d - oldest <= p.max_delay_ns);
			worst = d - oldest > worst ? d - oldest : worst;
			holding = false;
			timer_fires++;
		}
		now = next;
		if (vic_on_completion(&v, cif, now)) {
			assert_true(!holding || now - oldest <= p.max_delay_ns);
			holding = false;
		} else if (!holding) {
			holding = true;
			oldest = now;
			assert_int_equal(v.held_since, now);
		}
	}
	assert_true(v.coalesced > 0);
	assert_true(v.forced_by_deadline > 0);
	assert_int_equal(worst, p.max_delay_ns);
	/* every completion was held or interrupted; the timer's are extra */
	assert_int_equal(v.interrupts - timer_fires + v.coalesced, v.completions);
	assert_true(v.forced_by_deadline >= timer_fires);
}

/* (4) Queue depth 1 (CIF 1, the paper's dd) is never held, at any rate and
 * even with cif_threshold 1. */
static void test_qd1_never_delayed(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;
	uint64_t now = 0;

	(void)state;
	for (unsigned t = 0; t <= 4; t++) {
		p.cif_threshold = t;
		vic_init(&v, &p, 0);
		now = 0;
		for (unsigned i = 0; i < 100000; i++) {
			now += 5 * US; /* 200k IOPS */
			assert_true(vic_on_completion(&v, 1, now));
			assert_int_equal(vic_deadline(&v), 0);
		}
		assert_true(v.recalcs >= 2);
		assert_int_equal(v.iops, 200000);
		assert_int_equal(v.coalesced, 0);
	}
}

static void test_disabled(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;
	uint64_t now = 0;

	(void)state;
	p.enabled = false;
	vic_init(&v, &p, 0);
	assert_int_equal(run(&v, 64, 10 * US, &now, 100000), 100000);
	assert_int_equal(v.coalesced, 0);
	assert_int_equal(v.interrupts, 100000);
}

/* A clock that goes back restarts the epoch instead of ending it. */
static void test_clock_back(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;

	(void)state;
	vic_init(&v, &p, 1000 * MS);
	assert_true(vic_on_completion(&v, 32, 10 * MS));
	assert_int_equal(v.recalcs, 0);
	assert_int_equal(v.epoch_start, 10 * MS);
}

/* (5) §3.3: the kick is skipped when the guest took an interrupt less than
 * ipi_threshold_ns ago, and sent by the timer at the latest threshold after
 * the post. */
static void test_ipi_threshold(void **state)
{
	struct vic_ipi s;
	const uint64_t t = 100 * US;

	(void)state;
	vic_ipi_init(&s, t);
	/* never stamped: kick */
	assert_true(vic_ipi_need(&s, 5, true));
	assert_int_equal(vic_ipi_deadline(&s), 0);
	/* not in guest mode: no IPI, nothing pending */
	assert_false(vic_ipi_need(&s, 6, false));
	assert_int_equal(vic_ipi_deadline(&s), 0);
	assert_int_equal(s.ipis, 1);
	assert_int_equal(s.ipis_skipped, 0);

	/* stamped at 1 ms: a post 99.999 µs later is not kicked */
	vic_ipi_delivered(&s, 1 * MS);
	assert_false(vic_ipi_need(&s, 1 * MS + t - 1, true));
	assert_int_equal(s.ipis_skipped, 1);
	assert_int_equal(vic_ipi_deadline(&s), 1 * MS + t);
	assert_false(vic_ipi_on_timer(&s, 1 * MS + t - 1, true));
	assert_true(vic_ipi_on_timer(&s, 1 * MS + t, true));
	assert_int_equal(s.ipis_forced, 1);
	assert_int_equal(vic_ipi_deadline(&s), 0);
	assert_false(vic_ipi_on_timer(&s, 1 * MS + t + 1, true));

	/* at threshold or more: kick */
	assert_true(vic_ipi_need(&s, 1 * MS + t, true));
	assert_true(vic_ipi_need(&s, 5 * MS, true));

	/* skipped, then the vCPU enters with the interrupt pending: seen */
	vic_ipi_delivered(&s, 10 * MS);
	assert_false(vic_ipi_need(&s, 10 * MS + 20 * US, true));
	assert_int_equal(vic_ipi_deadline(&s), 10 * MS + t);
	vic_ipi_delivered(&s, 10 * MS + 30 * US);
	assert_int_equal(vic_ipi_deadline(&s), 0);
	assert_false(vic_ipi_on_timer(&s, 10 * MS + t, true));

	/* a stamp at the post's own time may have missed it */
	assert_false(vic_ipi_need(&s, 10 * MS + 40 * US, true));
	vic_ipi_delivered(&s, 10 * MS + 40 * US);
	assert_int_equal(vic_ipi_deadline(&s), 10 * MS + 40 * US + t);

	/* the vCPU left guest mode: its next entry sees the IRR */
	assert_false(vic_ipi_on_timer(&s, 20 * MS, false));
	assert_int_equal(vic_ipi_deadline(&s), 0);

	/* a stamp from the future (another core's clock): kick */
	vic_ipi_delivered(&s, 30 * MS);
	assert_true(vic_ipi_need(&s, 29 * MS, true));

	/* a kick sent clears a pending skipped one */
	vic_ipi_delivered(&s, 40 * MS);
	assert_false(vic_ipi_need(&s, 40 * MS + 10 * US, true));
	assert_true(vic_ipi_need(&s, 40 * MS + t + 10 * US, true));
	assert_int_equal(vic_ipi_deadline(&s), 0);

	/* threshold 0: every post to a running vCPU is kicked */
	vic_ipi_init(&s, 0);
	vic_ipi_delivered(&s, 1);
	assert_true(vic_ipi_need(&s, 1, true));
}

/* (5) A compute-bound guest (it enters with an interrupt pending only after
 * a kick) and posts every 10 µs: kicks go out about once per threshold, and
 * every post is seen within the threshold of it (timer included). */
static void test_ipi_bound(void **state)
{
	struct vic_ipi s;
	const uint64_t t = 100 * US, step = 10 * US;
	uint64_t now = 0, unseen = 0, worst = 0;
	bool have_unseen = false;

	(void)state;
	vic_ipi_init(&s, t);
	for (unsigned i = 0; i < 100000; i++) {
		uint64_t next = now + step, d = vic_ipi_deadline(&s);
		bool kick = false;

		if (d && d < next) {
			assert_true(vic_ipi_on_timer(&s, d, true));
			now = d;
			kick = true;
		} else {
			now = next;
			kick = vic_ipi_need(&s, now, true);
			if (!have_unseen) {
				have_unseen = true;
				unseen = now;
			}
		}
		if (kick) { /* the vCPU exits and enters again 1 µs later */
			vic_ipi_delivered(&s, now + US);
			worst = now + US - unseen > worst ? now + US - unseen : worst;
			have_unseen = false;
		}
		assert_true(!have_unseen || now - unseen <= t);
	}
	assert_true(worst <= t + US);
	assert_true(s.ipis + s.ipis_forced < 100000 / 9);
	assert_true(s.ipis_skipped > 80000);
}

/* The statistics the I/O core reports: every decision by the CIF it came
 * with (CIF 64 and more in the last bin) and those that interrupted at once;
 * the longest wait of a held completion, to the interrupt that signalled it
 * (a completion's or the timer's). */
static void test_cif_histogram_and_hold(void **state)
{
	struct vic_params p = VIC_PARAMS_DEFAULT;
	struct vic v;
	uint64_t now = 0, total = 0, delivered;

	(void)state;
	p.max_delay_ns = 0;
	vic_init(&v, &p, now);
	warm_up(&v, 32, 10 * US, &now);
	for (unsigned b = 0; b < VIC_CIF_BINS; b++)
		total += v.cif_completions[b];
	assert_int_equal(total, v.completions);
	assert_int_equal(v.cif_completions[32], v.completions);
	delivered = v.cif_delivered[32];
	assert_int_equal(run(&v, 32, 10 * US, &now, 400), 100); /* 1 of skipUp 4 */
	assert_int_equal(v.cif_delivered[32] - delivered, 100);
	/* three held in a row between interrupts, 10 us apart */
	assert_int_equal(v.max_hold, 30 * US);
	assert_true(vic_on_completion(&v, 1, now += 10 * US)); /* Low-CIF */
	assert_int_equal(v.cif_completions[1], 1);
	assert_int_equal(v.cif_delivered[1], 1);
	vic_on_completion(&v, 64, now += 10 * US);
	vic_on_completion(&v, 1000, now += 10 * US);
	assert_int_equal(v.cif_completions[VIC_CIF_BINS - 1], 2);

	/* queue depth 1: nothing ever held, so no wait at all */
	vic_init(&v, &VIC_PARAMS_DEFAULT, 0);
	now = 0;
	assert_int_equal(run(&v, 1, 10 * US, &now, 1000), 1000);
	assert_int_equal(v.max_hold, 0);
	assert_int_equal(v.cif_delivered[1], 1000);

	/* a timer-forced interrupt ends the wait too */
	vic_init(&v, &VIC_PARAMS_DEFAULT, 0);
	now = 0;
	warm_up(&v, 64, 10 * US, &now);
	assert_false(vic_on_completion(&v, 64, now += 10 * US));
	assert_true(vic_on_timer(&v, now + 200 * US));
	assert_int_equal(v.max_hold, 200 * US);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table1),
		cmocka_unit_test(test_long_run_ratio_every_cif),
		cmocka_unit_test(test_counter_series),
		cmocka_unit_test(test_epoch_once_per_epoch),
		cmocka_unit_test(test_epoch_follows_cif),
		cmocka_unit_test(test_low_iops),
		cmocka_unit_test(test_low_cif),
		cmocka_unit_test(test_max_delay_timer),
		cmocka_unit_test(test_max_delay_random),
		cmocka_unit_test(test_qd1_never_delayed),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_ipi_threshold),
		cmocka_unit_test(test_ipi_bound),
		cmocka_unit_test(test_cif_histogram_and_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
