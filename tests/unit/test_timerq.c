/* The timer queue (kernel/timerq.c) against a plain array: after every
 * random set, move and removal the earliest entry is the array's minimum,
 * and removed ids are gone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel/timerq.h"

#define IDS 64

static struct timerq_entry heap[IDS];
static int pos[IDS];

/* The earliest due of the reference, or 0 (ids hold due+1 so 0 is absent). */
static uint64_t reference_min(const uint64_t *ref, unsigned *id)
{
	uint64_t best = 0;

	for (unsigned i = 0; i < IDS; i++)
		if (ref[i] && (!best || ref[i] < best)) {
			best = ref[i];
			*id = i;
		}
	return best;
}

static void test_empty_and_single(void **state)
{
	struct timerq q;
	unsigned id;
	uint64_t due;

	(void)state;
	timerq_init(&q, heap, pos, IDS);
	assert_false(timerq_peek(&q, &id, &due));
	timerq_set(&q, 7, 100);
	assert_true(timerq_peek(&q, &id, &due));
	assert_int_equal(id, 7);
	assert_int_equal(due, 100);
	timerq_set(&q, 7, 50); /* moved, not added twice */
	assert_int_equal(q.n, 1);
	timerq_remove(&q, 7);
	timerq_remove(&q, 7); /* absent: nothing happens */
	assert_false(timerq_peek(&q, &id, &due));
	timerq_set(&q, IDS, 1); /* out of range: ignored */
	assert_int_equal(q.n, 0);
}

static void test_random_against_reference(void **state)
{
	uint64_t ref[IDS] = {0}, rng = 88172645463325252ull;
	struct timerq q;

	(void)state;
	timerq_init(&q, heap, pos, IDS);
	for (int step = 0; step < 200000; step++) {
		unsigned id, rid = 0;
		uint64_t due, want;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		id = rng % IDS;
		if ((rng >> 8) % 3 == 0) {
			timerq_remove(&q, id);
			ref[id] = 0;
		} else {
			due = (rng >> 16) % 1000;
			timerq_set(&q, id, due);
			ref[id] = due + 1;
		}
		want = reference_min(ref, &rid);
		if (!want) {
			assert_false(timerq_peek(&q, &id, &due));
			continue;
		}
		assert_true(timerq_peek(&q, &id, &due));
		assert_int_equal(due + 1, want); /* ties may name either id */
		assert_int_equal(ref[id], want);
		assert_true(timerq_contains(&q, id));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_single),
		cmocka_unit_test(test_random_against_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
