/* Guest page walks over a fake guest memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/guest_walk.h"

#define MEM (64 * 4096)
static uint64_t mem[MEM / 8];

static bool read64(void *ctx, uint64_t gpa, uint64_t *v)
{
	(void)ctx;
	if (gpa + 8 > MEM)
		return false;
	*v = mem[gpa / 8];
	return true;
}

static void set(uint64_t table, unsigned index, uint64_t entry)
{
	mem[table / 8 + index] = entry;
}

static void test_walks(void **state)
{
	uint64_t gpa;

	(void)state;
	memset(mem, 0, sizeof(mem));
	/* PML4 at 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000 */
	set(0x1000, 0, 0x2000 | 3);
	set(0x2000, 0, 0x3000 | 3);
	set(0x3000, 0, 0x4000 | 3);
	set(0x4000, 5, 0x7000 | 3);	      /* 4 KiB: 0x5000 -> 0x7000 */
	set(0x3000, 1, 0x00600000 | 0x83);    /* 2 MiB: 0x200000 -> 0x600000 */
	set(0x2000, 1, 0x80000000ull | 0x83); /* 1 GiB: 0x40000000 -> 0x80000000 */
	set(0x1000, 1, 0x5000 | 3);	      /* gva 1<<39 -> PDPT at 0x5000 */
	set(0x5000, 0, 0x6000 | 3);
	set(0x6000, 0, 0x8000 | 3);
	set(0x8000, 1, 0x9000 | 3);

	assert_int_equal(guest_walk(0x1000, 0x5123, read64, NULL, &gpa), 0);
	assert_int_equal(gpa, 0x7123);
	assert_int_equal(guest_walk(0x1000, 0x201234, read64, NULL, &gpa), 0);
	assert_int_equal(gpa, 0x601234);
	assert_int_equal(guest_walk(0x1000, 0x40000000ull + 0x12345678, read64, NULL, &gpa), 0);
	assert_int_equal(gpa, 0x80000000ull + 0x12345678);
	assert_int_equal(guest_walk(0x1000, (1ull << 39) + 0x1abc, read64, NULL, &gpa), 0);
	assert_int_equal(gpa, 0x9abc);
	/* not present at each level */
	assert_int_equal(guest_walk(0x1000, 0x6000, read64, NULL, &gpa), -1);
	assert_int_equal(guest_walk(0x1000, 2ull << 39, read64, NULL, &gpa), -1);
	/* a table outside guest memory */
	set(0x4000, 7, 0x7000 | 3);
	set(0x3000, 2, (MEM + 0x1000) | 3);
	assert_int_equal(guest_walk(0x1000, 0x400000, read64, NULL, &gpa), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_walks)};

	return cmocka_run_group_tests_name("guest_walk", tests, NULL, NULL);
}
