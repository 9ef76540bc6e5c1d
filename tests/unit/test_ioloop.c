/* The I/O core's queue scheduler (vio/ioloop.c) against ELVIS's rules (paper
 * 001, §3): every polling queue visited once per pass with at most the
 * budget of work, a worked queue to the back, the longest wait bounded by one
 * pass, adaptive polling with the notification race, failed queues. Queues
 * are fakes holding a count of work units; in fake time one unit costs one
 * time unit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vio/ioloop.h"

struct fake_queue {
	uint64_t units;		 /* work waiting */
	unsigned last_budget;	 /* what the last work() call was allowed */
	bool notify;		 /* what set_notify last asked for */
	bool fail;		 /* work() returns -1 */
	bool arrive_on_notify;	 /* a unit arrives when notifications are enabled */
	unsigned notify_changes; /* set_notify calls */
};

static uint64_t clock_now; /* fake time: advanced by every unit of work done */

static int fake_work(void *ctx, unsigned budget)
{
	struct fake_queue *f = ctx;
	uint64_t n = f->units < budget ? f->units : budget;

	f->last_budget = budget;
	if (f->fail)
		return -1;
	f->units -= n;
	clock_now += n;
	return (int)n;
}

static bool fake_pending(void *ctx)
{
	const struct fake_queue *f = ctx;

	return f->units > 0;
}

static void fake_set_notify(void *ctx, bool enable)
{
	struct fake_queue *f = ctx;

	f->notify = enable;
	f->notify_changes++;
	if (enable && f->arrive_on_notify)
		f->units++;
}

static const struct ioloop_queue_ops fake_ops = {
	.work = fake_work,
	.pending = fake_pending,
	.set_notify = fake_set_notify,
};

#define NQ 64

static struct ioloop loop;
static struct ioloop_queue lq[NQ];
static struct fake_queue fq[NQ];

static void setup_loop(unsigned n, unsigned budget, uint64_t poll_idle)
{
	clock_now = 1; /* waiting_since 0 means "not waiting" */
	ioloop_init(&loop, budget, poll_idle);
	for (unsigned i = 0; i < n; i++) {
		fq[i] = (struct fake_queue){.notify = true};
		assert_int_equal(ioloop_add(&loop, &lq[i], &fake_ops, &fq[i], clock_now), 0);
		/* added in polling mode: the guest is told not to kick */
		assert_true(lq[i].polling);
		assert_false(fq[i].notify);
	}
}

/* One heavy queue that never runs dry and 63 light ones, each of which gets
 * a full budget's burst now and then: every queue is visited on every pass,
 * and a queue left with work waits at most the length of one pass (in fake
 * time, at most the budgets of all queues). */
static void test_fairness_heavy_and_light(void **state)
{
	const unsigned budget = 8, passes = 200;
	uint64_t max_pass = 0;

	(void)state;
	setup_loop(NQ, budget, 1000000);
	fq[0].units = 1000000;
	for (unsigned p = 0; p < passes; p++) {
		uint64_t start = clock_now;
		unsigned done;

		for (unsigned i = 1; i < NQ; i++)
			fq[i].units += (p % 16 == i % 16) ? 3 * budget : 1;
		done = ioloop_pass(&loop, start);
		assert_int_equal(done, clock_now - start);
		/* the last pass's length is measured by no later visit */
		if (p + 1 < passes && clock_now - start > max_pass)
			max_pass = clock_now - start;
	}
	assert_int_equal(loop.passes, passes);
	for (unsigned i = 0; i < NQ; i++)
		assert_int_equal(lq[i].visits, passes);
	assert_int_equal(lq[0].work_done, (uint64_t)budget * passes);
	/* The heavy queue had work left after every visit: its wait was the
	 * length of every pass, and nobody waited longer. */
	assert_int_equal(lq[0].longest_wait, max_pass);
	assert_int_equal(loop.longest_wait, max_pass);
	assert_true(loop.longest_wait <= (uint64_t)budget * NQ);
	/* a light queue's burst made it wait one pass too */
	assert_true(lq[1].longest_wait > 0 && lq[1].longest_wait <= max_pass);
}

static void test_budget_respected(void **state)
{
	(void)state;
	setup_loop(1, 8, 1000);
	fq[0].units = 100;
	for (unsigned p = 0; p < 12; p++) {
		assert_int_equal(ioloop_pass(&loop, clock_now), 8);
		assert_int_equal(fq[0].last_budget, 8);
		/* still has work: waiting from this pass on */
		assert_int_not_equal(lq[0].waiting_since, 0);
	}
	assert_int_equal(ioloop_pass(&loop, clock_now), 4);
	/* drained: not waiting any more */
	assert_int_equal(lq[0].waiting_since, 0);
	assert_int_equal(lq[0].work_done, 100);
	assert_int_equal(ioloop_pass(&loop, clock_now), 0);
	assert_int_equal(lq[0].polls_idle, 1);
}

static void test_worked_queue_goes_to_back(void **state)
{
	(void)state;
	setup_loop(4, 4, 1000);
	/* A, C work; B, D do not: B, D, A, C */
	fq[0].units = 1;
	fq[2].units = 1;
	assert_int_equal(ioloop_pass(&loop, clock_now), 2);
	assert_ptr_equal(loop.queue[0], &lq[1]);
	assert_ptr_equal(loop.queue[1], &lq[3]);
	assert_ptr_equal(loop.queue[2], &lq[0]);
	assert_ptr_equal(loop.queue[3], &lq[2]);
	/* B works: D, A, C, B */
	fq[1].units = 5;
	assert_int_equal(ioloop_pass(&loop, clock_now), 4);
	assert_ptr_equal(loop.queue[0], &lq[3]);
	assert_ptr_equal(loop.queue[1], &lq[0]);
	assert_ptr_equal(loop.queue[2], &lq[2]);
	assert_ptr_equal(loop.queue[3], &lq[1]);
	/* each queue visited exactly once per pass despite the moves */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(lq[i].visits, 2);
}

static void test_idle_queue_to_notify_and_back_on_kick(void **state)
{
	(void)state;
	setup_loop(1, 8, 100);
	ioloop_pass(&loop, 50);
	ioloop_pass(&loop, 100);
	assert_true(lq[0].polling);
	assert_false(fq[0].notify);
	assert_int_equal(lq[0].polls_idle, 2);
	/* 100 quiet time units since it was added at 1 */
	ioloop_pass(&loop, 101);
	assert_false(lq[0].polling);
	assert_true(fq[0].notify);
	assert_int_equal(lq[0].to_notify, 1);
	assert_true(ioloop_idle(&loop, 101));
	/* not visited in notification mode */
	ioloop_pass(&loop, 150);
	assert_int_equal(lq[0].visits, 3);
	/* the guest kicks */
	fq[0].units = 3;
	ioloop_kick(&loop, &lq[0], 200);
	assert_true(lq[0].polling);
	assert_false(fq[0].notify);
	assert_int_equal(lq[0].kicks, 1);
	assert_false(ioloop_idle(&loop, 200));
	assert_int_equal(ioloop_pass(&loop, 250), 3);
	assert_int_equal(lq[0].longest_wait, 50);
	/* quiet again: polling until poll_idle after its last work */
	ioloop_pass(&loop, 349);
	assert_true(lq[0].polling);
	ioloop_pass(&loop, 350);
	assert_false(lq[0].polling);
	assert_int_equal(lq[0].to_notify, 2);
}

/* A buffer added just before the guest saw notifications enabled brings no
 * kick: the queue must see it and keep polling. */
static void test_notify_race_keeps_polling(void **state)
{
	(void)state;
	setup_loop(1, 8, 10);
	fq[0].arrive_on_notify = true;
	ioloop_pass(&loop, 20);
	assert_true(lq[0].polling);
	assert_false(fq[0].notify);
	assert_int_equal(lq[0].to_notify, 0);
	assert_false(ioloop_idle(&loop, 20));
	assert_int_equal(ioloop_pass(&loop, 25), 1);
	assert_int_equal(lq[0].longest_wait, 5);
}

static void test_failed_queue_leaves_until_kick(void **state)
{
	(void)state;
	setup_loop(2, 8, 1000);
	fq[0].fail = true;
	fq[0].units = 5;
	fq[1].units = 5;
	assert_int_equal(ioloop_pass(&loop, 10), 5);
	assert_true(lq[0].failed);
	assert_int_equal(ioloop_pass(&loop, 20), 0);
	assert_int_equal(lq[0].visits, 1);
	/* the driver reset and set the device up again */
	fq[0].fail = false;
	ioloop_kick(&loop, &lq[0], 30);
	assert_false(lq[0].failed);
	assert_int_equal(ioloop_pass(&loop, 40), 5);
	assert_int_equal(lq[0].visits, 2);
}

static void test_idle(void **state)
{
	(void)state;
	setup_loop(2, 8, 10);
	assert_false(ioloop_idle(&loop, 1));
	fq[1].units = 1;
	ioloop_pass(&loop, 20);
	/* queue 0 went to notifications, queue 1 worked and still polls */
	assert_false(lq[0].polling);
	assert_false(ioloop_idle(&loop, 20));
	ioloop_pass(&loop, 30);
	assert_true(ioloop_idle(&loop, 30));
	/* a failed queue does not keep the core awake */
	fq[1].fail = true;
	ioloop_kick(&loop, &lq[1], 40);
	assert_false(ioloop_idle(&loop, 40));
	ioloop_pass(&loop, 41);
	assert_true(lq[1].failed);
	assert_true(ioloop_idle(&loop, 41));
}

static void test_add_full(void **state)
{
	static struct ioloop_queue many[IOLOOP_MAX_QUEUES + 1];
	static struct fake_queue f;

	(void)state;
	ioloop_init(&loop, 4, 10);
	for (unsigned i = 0; i < IOLOOP_MAX_QUEUES; i++)
		assert_int_equal(ioloop_add(&loop, &many[i], &fake_ops, &f, 1), 0);
	assert_int_equal(ioloop_add(&loop, &many[IOLOOP_MAX_QUEUES], &fake_ops, &f, 1), -1);
	assert_int_equal(loop.nqueues, IOLOOP_MAX_QUEUES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fairness_heavy_and_light),
		cmocka_unit_test(test_budget_respected),
		cmocka_unit_test(test_worked_queue_goes_to_back),
		cmocka_unit_test(test_idle_queue_to_notify_and_back_on_kick),
		cmocka_unit_test(test_notify_race_keeps_polling),
		cmocka_unit_test(test_failed_queue_leaves_until_kick),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_add_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
