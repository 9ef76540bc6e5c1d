/* Page allocator tests on a fake physical memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "kernel/pmm.h"

#define MIB	 (1024ull * 1024)
#define FAKE_RAM (64 * MIB)

static uint8_t *fake_ram;

static void *fake_p2v(uint64_t phys)
{
	assert_true(phys < FAKE_RAM);
	return fake_ram + phys;
}

static int setup(void **state)
{
	(void)state;
	fake_ram = calloc(1, FAKE_RAM);
	return fake_ram ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(fake_ram);
	return 0;
}

static bool in(const struct pmm_range *r, size_t n, uint64_t a)
{
	for (size_t i = 0; i < n; i++)
		if (a >= r[i].base && a < r[i].base + r[i].len)
			return true;
	return false;
}

/* A PC-like map: low memory, a hole, two high ranges, firmware overlaps. */
static const struct pmm_range usable[] = {
	{0x0, 0x9fc00},
	{0x100000, 30 * MIB},
	{0x100000, 1 * MIB},	      /* duplicate, overlapping */
	{40 * MIB + 0x800, 20 * MIB}, /* unaligned base: rounded inward */
};
static const struct pmm_range reserved[] = {
	{0x0, 0x100000},      /* low memory */
	{0x200000, 0x180000}, /* the hypervisor image */
	{8 * MIB + 1, 0x10},  /* unaligned: rounded outward to one page */
	{20 * MIB, 2 * MIB},  /* a module */
};

static void test_never_hands_out_reserved_or_unusable(void **state)
{
	struct pmm p;
	uint64_t a, n = 0, before;

	(void)state;
	assert_int_equal(pmm_init(&p, usable, 4, reserved, 4, fake_p2v), PMM_OK);
	before = pmm_free_pages(&p);
	assert_true(before > 0);
	while ((a = pmm_alloc(&p, 1, 1)) != PMM_NO_MEMORY) {
		assert_int_equal(a % PMM_PAGE_SIZE, 0);
		assert_true(a != 0);
		assert_true(in(usable, 4, a) && in(usable, 4, a + PMM_PAGE_SIZE - 1));
		assert_false(in(reserved, 4, a));
		assert_false(a >= p.bitmap_phys && a < p.bitmap_phys + PMM_PAGE_SIZE);
		assert_false(a == 40 * MIB); /* the partial page below an unaligned base */
		n++;
	}
	assert_int_equal(n, before);
	assert_int_equal(pmm_free_pages(&p), 0);
}

static void test_expected_page_count(void **state)
{
	const struct pmm_range u[] = {{0x100000, 16 * MIB}};
	const struct pmm_range r[] = {{0x200000, 0x100000}};
	struct pmm p;

	(void)state;
	assert_int_equal(pmm_init(&p, u, 1, r, 1, fake_p2v), PMM_OK);
	assert_int_equal(pmm_usable_pages(&p), 16 * MIB / PMM_PAGE_SIZE);
	/* minus the reserved MiB and the one-page bitmap */
	assert_int_equal(pmm_free_pages(&p), 15 * MIB / PMM_PAGE_SIZE - 1);
}

static void test_alignment_and_contiguity(void **state)
{
	struct pmm p;
	uint64_t a;

	(void)state;
	assert_int_equal(pmm_init(&p, usable, 4, reserved, 4, fake_p2v), PMM_OK);
	a = pmm_alloc(&p, 512, 512);
	assert_int_not_equal(a, PMM_NO_MEMORY);
	assert_int_equal(a % (2 * MIB), 0);
	for (uint64_t off = 0; off < 2 * MIB; off += PMM_PAGE_SIZE) {
		assert_false(pmm_is_free(&p, a + off));
		assert_false(in(reserved, 4, a + off));
	}
	/* 40 MiB contiguous does not exist anywhere in this map */
	assert_int_equal(pmm_alloc(&p, 40 * MIB / PMM_PAGE_SIZE, 1), PMM_NO_MEMORY);
	/* a non-power-of-two alignment is refused */
	assert_int_equal(pmm_alloc(&p, 1, 3), PMM_NO_MEMORY);
}

static void test_free_and_double_free(void **state)
{
	struct pmm p;
	uint64_t a, before;

	(void)state;
	assert_int_equal(pmm_init(&p, usable, 4, reserved, 4, fake_p2v), PMM_OK);
	before = pmm_free_pages(&p);
	a = pmm_alloc(&p, 8, 1);
	assert_int_equal(pmm_free_pages(&p), before - 8);
	assert_int_equal(pmm_free(&p, a, 8), PMM_OK);
	assert_int_equal(pmm_free_pages(&p), before);
	assert_int_equal(pmm_free(&p, a, 1), PMM_ERR_NOT_ALLOCATED);
	assert_int_equal(pmm_free(&p, a + 1, 1), PMM_ERR_RANGE);
	assert_int_equal(pmm_free(&p, 0, 1), PMM_ERR_RANGE);
	assert_int_equal(pmm_free(&p, FAKE_RAM * 4, 1), PMM_ERR_RANGE);
	assert_int_equal(pmm_free_pages(&p), before);
	/* freed pages come back */
	assert_int_equal(pmm_alloc(&p, 8, 1), a);
}

static void test_fragmentation(void **state)
{
	const struct pmm_range u[] = {{0x100000, 64 * PMM_PAGE_SIZE}};
	uint64_t pages[63];
	struct pmm p;

	(void)state;
	assert_int_equal(pmm_init(&p, u, 1, NULL, 0, fake_p2v), PMM_OK);
	for (int i = 0; i < 63; i++)
		pages[i] = pmm_alloc(&p, 1, 1);
	assert_int_equal(pmm_free_pages(&p), 0);
	for (int i = 0; i < 63; i += 2)
		assert_int_equal(pmm_free(&p, pages[i], 1), PMM_OK);
	assert_int_equal(pmm_alloc(&p, 2, 1), PMM_NO_MEMORY); /* only holes of one */
	assert_int_equal(pmm_free(&p, pages[1], 1), PMM_OK);
	assert_int_equal(pmm_alloc(&p, 3, 1), pages[0]);
}

static void test_no_room_for_bitmap(void **state)
{
	const struct pmm_range u[] = {{0x100000, 4 * PMM_PAGE_SIZE}};
	const struct pmm_range r[] = {{0x100000, 4 * PMM_PAGE_SIZE}};
	struct pmm p;

	(void)state;
	assert_int_equal(pmm_init(&p, u, 1, r, 1, fake_p2v), PMM_ERR_NO_ROOM);
	assert_int_equal(pmm_init(&p, u, 0, r, 1, fake_p2v), PMM_ERR_NO_ROOM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_never_hands_out_reserved_or_unusable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expected_page_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alignment_and_contiguity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_and_double_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragmentation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_room_for_bitmap, setup, teardown),
	};

	return cmocka_run_group_tests_name("pmm", tests, NULL, NULL);
}
