/* The nested page tables (arch/x86_64/nested_pt.c) on host memory: 2 MiB and
 * 4 KiB leaves, splitting a 2 MiB leaf to map or unmap 4 KiB of it, and the
 * refusals. The EPT format is used; NPT differs only in its bits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The code under test, with the table memory this file provides below (it
 * is not among the host sources every test links: only this one does). */
#include "arch/x86_64/nested_pt.c"

#define MIB (1ull << 20)

static const struct nested_pt_format ept = {0x7, 0x7 | 0x30 | 0x80, 0x7 | 0x30};
static unsigned tables, tables_left = ~0u;
static void *allocated[128];

uint64_t nested_pt_alloc_table(void)
{
	void *p;

	if (!tables_left)
		return 0;
	tables_left--;
	p = aligned_alloc(4096, 4096);
	memset(p, 0, 4096);
	assert_true(tables < 128);
	allocated[tables++] = p;
	return (uint64_t)(uintptr_t)p; /* host "physical" = virtual */
}

uint64_t *nested_pt_table(uint64_t pa)
{
	return (uint64_t *)(uintptr_t)pa;
}

static uint64_t translated(uint64_t root, uint64_t gpa)
{
	uint64_t hpa = 0;

	assert_int_equal(nested_pt_translate(&ept, root, gpa, &hpa), 0);
	return hpa;
}

static void test_2m_and_4k_pages(void **state)
{
	uint64_t root = nested_pt_create(), hpa;

	(void)state;
	assert_int_equal(nested_pt_map(&ept, root, 0, 64 * MIB, NESTED_PT_2M), 0);
	assert_int_equal(nested_pt_map(&ept, root, 2 * MIB, 80 * MIB + 0x5000, NESTED_PT_4K), 0);
	assert_int_equal(translated(root, 0x1234), 64 * MIB + 0x1234);
	assert_int_equal(translated(root, 2 * MIB + 0x10), 80 * MIB + 0x5010);
	assert_int_equal(nested_pt_translate(&ept, root, 2 * MIB + 0x1000, &hpa), -1);
	assert_int_equal(nested_pt_translate(&ept, root, 1ull << 39, &hpa), -1);
	/* misaligned, unknown sizes, and 2 MiB over 4 KiB pages are refused */
	assert_int_equal(nested_pt_map(&ept, root, 0x1000, 0, NESTED_PT_2M), -1);
	assert_int_equal(nested_pt_map(&ept, root, 0x800, 0, NESTED_PT_4K), -1);
	assert_int_equal(nested_pt_map(&ept, root, 0, 0, 8192), -1);
	assert_int_equal(nested_pt_map(&ept, root, 2 * MIB, 0, NESTED_PT_2M), -1);
}

static void test_unmap_4k_splits_a_2m_leaf(void **state)
{
	uint64_t root = nested_pt_create(), hpa, before;

	(void)state;
	assert_int_equal(nested_pt_map(&ept, root, 4 * MIB, 32 * MIB, NESTED_PT_2M), 0);
	before = tables;
	assert_int_equal(nested_pt_unmap(&ept, root, 4 * MIB + 0x3000, NESTED_PT_4K), 0);
	assert_int_equal(tables, before + 1); /* the page table the leaf became */
	assert_int_equal(nested_pt_translate(&ept, root, 4 * MIB + 0x3000, &hpa), -1);
	/* the other 511 pages still map where the 2 MiB leaf did */
	assert_int_equal(translated(root, 4 * MIB + 0x2fff), 32 * MIB + 0x2fff);
	assert_int_equal(translated(root, 4 * MIB + 0x4000), 32 * MIB + 0x4000);
	assert_int_equal(translated(root, 6 * MIB - 1), 34 * MIB - 1);
	/* now it is 4 KiB pages: not a 2 MiB leaf any more, and a page goes once */
	assert_int_equal(nested_pt_unmap(&ept, root, 4 * MIB, NESTED_PT_2M), -1);
	assert_int_equal(nested_pt_unmap(&ept, root, 4 * MIB + 0x3000, NESTED_PT_4K), -1);
	assert_int_equal(nested_pt_map(&ept, root, 4 * MIB + 0x3000, 99 * MIB, NESTED_PT_4K), 0);
	assert_int_equal(translated(root, 4 * MIB + 0x3008), 99 * MIB + 8);
}

static void test_unmap_2m_and_nothing_there(void **state)
{
	uint64_t root = nested_pt_create(), hpa;

	(void)state;
	assert_int_equal(nested_pt_unmap(&ept, root, 0, NESTED_PT_2M), -1);
	assert_int_equal(nested_pt_map(&ept, root, 8 * MIB, 8 * MIB, NESTED_PT_2M), 0);
	assert_int_equal(nested_pt_unmap(&ept, root, 8 * MIB, NESTED_PT_2M), 0);
	assert_int_equal(nested_pt_translate(&ept, root, 8 * MIB, &hpa), -1);
}

static void test_out_of_table_memory(void **state)
{
	uint64_t root = nested_pt_create();

	(void)state;
	tables_left = 1; /* the PDPT fits, the PD does not */
	assert_int_equal(nested_pt_map(&ept, root, 1ull << 40, 0, NESTED_PT_2M), -1);
	tables_left = ~0u;
}

static int free_tables(void **state)
{
	(void)state;
	while (tables)
		free(allocated[--tables]);
	return 0;
}

static uint64_t leaf(uint64_t root, uint64_t gpa)
{
	uint64_t *pd = page_directory(&ept, root, gpa, false), pde;

	assert_non_null(pd);
	pde = pd[INDEX(gpa, 21)];
	return is_leaf_2m(&ept, pde) ? pde : nested_pt_table(pde & ENTRY_ADDR)[INDEX(gpa, 12)];
}

/* Write-protecting one 4 KiB page of a 2 MiB leaf splits it; the rest stays
 * writable and maps where it did. */
static void test_set_writable(void **state)
{
	uint64_t root = nested_pt_create();

	(void)state;
	assert_int_equal(nested_pt_map(&ept, root, 0, 64 * MIB, NESTED_PT_2M), 0);
	page_directory(&ept, root, 0, false)[0] |= 0x300; /* accessed and dirty, set by the CPU */
	assert_int_equal(nested_pt_set_writable(&ept, root, 0x3000, false), 0);
	assert_false(leaf(root, 0x3000) & NESTED_PT_WRITE);
	assert_true(leaf(root, 0x4000) & NESTED_PT_WRITE);
	assert_int_equal(translated(root, 0x3123), 64 * MIB + 0x3123);
	assert_int_equal(translated(root, 0x1ff123), 64 * MIB + 0x1ff123);
	assert_int_equal(nested_pt_set_writable(&ept, root, 0x3000, true), 0);
	assert_true(leaf(root, 0x3000) & NESTED_PT_WRITE);
	assert_int_equal(nested_pt_set_writable(&ept, root, 8 * MIB, false), -1);
}

/* A clone maps its pages to its own (read-only) frames and everything else
 * like the base, whose own mappings do not change; a rebuild reuses its
 * tables; pages in other 2 MiB regions and other 512 GiB slots work too. */
static void test_clone(void **state)
{
	uint64_t base = nested_pt_create(), gpa[2] = {0x5000, 6 * MIB + 0x1000};
	uint64_t hpa[2] = {200 * MIB, 300 * MIB + 0x7000};
	struct nested_pt_clone c = {0};
	unsigned before;

	(void)state;
	for (uint64_t off = 0; off < 8 * MIB; off += 2 * MIB)
		assert_int_equal(nested_pt_map(&ept, base, off, 64 * MIB + off, NESTED_PT_2M), 0);
	page_directory(&ept, base, 0, false)[0] |= 0x300; /* accessed and dirty */
	nested_pt_table(base)[0] |= 0x100;		  /* accessed */
	assert_int_equal(nested_pt_map(&ept, base, 1ull << 39, 96 * MIB, NESTED_PT_4K), 0);
	assert_int_equal(nested_pt_clone(&ept, &c, base, gpa, hpa, 2), 0);
	assert_int_equal(translated(c.tables[0], 0x5010), 200 * MIB + 0x10);
	assert_int_equal(translated(c.tables[0], 6 * MIB + 0x1010), 300 * MIB + 0x7010);
	assert_false(leaf(c.tables[0], 0x5000) & NESTED_PT_WRITE);
	assert_int_equal(translated(c.tables[0], 0x6000), 64 * MIB + 0x6000);
	assert_true(leaf(c.tables[0], 0x6000) & NESTED_PT_WRITE);
	assert_int_equal(translated(c.tables[0], 4 * MIB + 5), 64 * MIB + 4 * MIB + 5);
	assert_int_equal(translated(c.tables[0], (1ull << 39) + 8), 96 * MIB + 8);
	assert_int_equal(translated(base, 0x5010), 64 * MIB + 0x5010);
	assert_true(leaf(base, 0x5000) & NESTED_PT_WRITE);
	before = tables;
	gpa[0] = (1ull << 39) + 0;
	assert_int_equal(nested_pt_clone(&ept, &c, base, gpa, hpa, 1), 0);
	assert_int_equal(tables, before);
	assert_int_equal(translated(c.tables[0], (1ull << 39) + 8), 200 * MIB + 8);
	assert_int_equal(translated(c.tables[0], 0x5010), 64 * MIB + 0x5010);
	gpa[0] = 16 * MIB; /* not mapped in the base */
	assert_int_equal(nested_pt_clone(&ept, &c, base, gpa, hpa, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_2m_and_4k_pages),
		cmocka_unit_test(test_unmap_4k_splits_a_2m_leaf),
		cmocka_unit_test(test_unmap_2m_and_nothing_there),
		cmocka_unit_test(test_out_of_table_memory),
		cmocka_unit_test(test_set_writable),
		cmocka_unit_test(test_clone),
	};

	return cmocka_run_group_tests(tests, NULL, free_tables);
}
