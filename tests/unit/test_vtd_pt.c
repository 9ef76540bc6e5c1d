/* VT-d tables (arch/x86_64/vtd/vtd_pt.c) on a fake page allocator that knows which pages are
 * live: map, walk back, unmap (which frees exactly the tables it emptied), the raw entries
 * the hardware reads (Intel VT-d spec §9.1, §9.3, §9.8), and the capability decoding of
 * vtd_cap.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/vtd/vtd_cap.h"
#include "arch/x86_64/vtd/vtd_pt.h"
#include "arch/x86_64/vtd/vtd_regs.h"

#define POOL	  64
#define PAGE	  4096u
#define FAKE_BASE 0x40000000ull /* the "physical" address of pool page 0 */
#define MB	  (1ull << 20)
#define GB	  (1ull << 30)

static struct fake {
	uint64_t *pages[POOL];
	bool live[POOL];
	unsigned allocs, frees, flushes;
	int fail_after; /* allocations left before they fail; -1: never */
} fake;

static uint64_t fake_alloc(void *ctx)
{
	(void)ctx;
	if (fake.fail_after == 0)
		return 0;
	if (fake.fail_after > 0)
		fake.fail_after--;
	for (unsigned i = 0; i < POOL; i++)
		if (!fake.live[i]) {
			fake.live[i] = true;
			memset(fake.pages[i], 0, PAGE);
			fake.allocs++;
			return FAKE_BASE + (uint64_t)i * PAGE;
		}
	return 0;
}

static unsigned page_index(uint64_t phys)
{
	unsigned i = (unsigned)((phys - FAKE_BASE) / PAGE);

	assert_true(phys >= FAKE_BASE && !(phys % PAGE) && i < POOL);
	return i;
}

static void fake_free(void *ctx, uint64_t phys)
{
	unsigned i = page_index(phys);

	(void)ctx;
	assert_true(fake.live[i]); /* never a page twice, never one not handed out */
	fake.live[i] = false;
	fake.frees++;
}

static void *fake_virt(void *ctx, uint64_t phys)
{
	unsigned i = page_index(phys);

	(void)ctx;
	assert_true(fake.live[i]); /* no table is read after it was freed */
	return fake.pages[i];
}

static void fake_flush(void *ctx, const void *p, uint64_t len)
{
	(void)ctx;
	(void)p;
	assert_int_equal(len, 8);
	fake.flushes++;
}

static const struct vtd_pt_mem mem = {fake_alloc, fake_free, fake_virt, NULL, NULL};
static const struct vtd_pt_mem flushing = {fake_alloc, fake_free, fake_virt, fake_flush, NULL};

static unsigned live_pages(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < POOL; i++)
		n += fake.live[i];
	return n;
}

static int setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < POOL; i++) {
		fake.pages[i] = aligned_alloc(PAGE, PAGE);
		fake.live[i] = false;
	}
	fake.allocs = fake.frees = fake.flushes = 0;
	fake.fail_after = -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < POOL; i++)
		free(fake.pages[i]);
	return 0;
}

static uint64_t entry(uint64_t table, unsigned i)
{
	return ((uint64_t *)fake_virt(NULL, table))[i];
}

static void expect_mapped(const struct vtd_domain *d, uint64_t iova, uint64_t hpa, unsigned perm)
{
	uint64_t got;
	unsigned p;

	assert_true(vtd_translate(d, iova + 0x123, &got, &p));
	assert_int_equal(got, hpa + 0x123);
	assert_int_equal(p, perm);
}

static void expect_unmapped(const struct vtd_domain *d, uint64_t iova)
{
	uint64_t got;
	unsigned p;

	assert_false(vtd_translate(d, iova, &got, &p));
}

static void test_domain_levels(void **state)
{
	struct vtd_domain d;

	(void)state;
	assert_int_equal(vtd_domain_init(&d, &mem, 2, 1), -1);
	assert_int_equal(vtd_domain_init(&d, &mem, 6, 1), -1);
	assert_int_equal(live_pages(), 0);
	for (unsigned levels = 3; levels <= 5; levels++) {
		uint64_t top_iova = (1ull << (12 + 9 * levels)) - PAGE;

		assert_int_equal(vtd_domain_init(&d, &mem, levels, 7), 0);
		assert_int_equal(d.tables, 1);
		assert_int_equal(vtd_map(&d, top_iova, 0x5000, VTD_PERM_R), 0);
		assert_int_equal(d.tables, levels);
		expect_mapped(&d, top_iova, 0x5000, VTD_PERM_R);
		assert_int_equal(vtd_map(&d, top_iova + PAGE, 0x6000, VTD_PERM_R),
				 -1); /* too wide */
		assert_int_equal(vtd_unmap(&d, top_iova + PAGE), -1);
		expect_unmapped(&d, top_iova + PAGE);
		vtd_domain_destroy(&d);
		assert_int_equal(live_pages(), 0);
	}
}

/* The entries a 4-level walk reads for one page: tables R+W, the leaf the page's own. */
static void test_raw_entries(void **state)
{
	uint64_t iova = 0x8040201000ull; /* index 1 at every level */
	uint64_t table;
	struct vtd_domain d;

	(void)state;
	assert_int_equal(vtd_domain_init(&d, &mem, 4, 3), 0);
	assert_int_equal(vtd_map(&d, iova, 0x123456789000ull, VTD_PERM_W), 0);
	table = d.top;
	for (unsigned level = 4; level > 1; level--) {
		uint64_t e = entry(table, 1);

		assert_int_equal(e & ~VTD_ADDR_MASK, VTD_SL_R | VTD_SL_W);
		for (unsigned i = 0; i < 512; i++)
			if (i != 1)
				assert_int_equal(entry(table, i), 0);
		table = e & VTD_ADDR_MASK;
	}
	assert_int_equal(entry(table, 1), 0x123456789000ull | VTD_SL_W);
	expect_mapped(&d, iova, 0x123456789000ull, VTD_PERM_W);
	vtd_domain_destroy(&d);
	assert_int_equal(fake.allocs, fake.frees);
}

static void test_unmap_frees_only_what_it_emptied(void **state)
{
	struct vtd_domain d;

	(void)state;
	assert_int_equal(vtd_domain_init(&d, &mem, 4, 1), 0);
	assert_int_equal(vtd_map(&d, 0x1000, 0xa000, VTD_PERM_R | VTD_PERM_W), 0);
	assert_int_equal(vtd_map(&d, 0x2000, 0xb000, VTD_PERM_R), 0);	/* same leaf table */
	assert_int_equal(vtd_map(&d, 2 * MB, 0xc000, VTD_PERM_W), 0);	/* same level-2 table */
	assert_int_equal(vtd_map(&d, 512 * GB, 0xd000, VTD_PERM_R), 0); /* its own chain */
	assert_int_equal(d.tables, 1 + 3 + 1 + 3);
	assert_int_equal(live_pages(), 8);

	assert_int_equal(vtd_unmap(&d, 0x1000), 0);
	assert_int_equal(fake.frees, 0); /* the leaf table still holds 0x2000 */
	expect_unmapped(&d, 0x1000);
	expect_mapped(&d, 0x2000, 0xb000, VTD_PERM_R);
	assert_int_equal(vtd_unmap(&d, 0x1000), -1);

	assert_int_equal(vtd_unmap(&d, 0x2000), 0);
	assert_int_equal(fake.frees, 1); /* that leaf table only: 2 MiB's shares the rest */
	expect_mapped(&d, 2 * MB, 0xc000, VTD_PERM_W);
	expect_mapped(&d, 512 * GB, 0xd000, VTD_PERM_R);

	assert_int_equal(vtd_unmap(&d, 2 * MB), 0);
	assert_int_equal(fake.frees, 4); /* its leaf, level-2 and level-3 tables */
	expect_mapped(&d, 512 * GB, 0xd000, VTD_PERM_R);
	assert_int_equal(vtd_unmap(&d, 512 * GB), 0);
	assert_int_equal(fake.frees, 7);
	assert_int_equal(d.tables, 1);
	assert_int_equal(live_pages(), 1); /* the top table stays */
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(entry(d.top, i), 0);
	/* and the domain is usable again */
	assert_int_equal(vtd_map(&d, 0x1000, 0xe000, VTD_PERM_R), 0);
	expect_mapped(&d, 0x1000, 0xe000, VTD_PERM_R);
	vtd_domain_destroy(&d);
	assert_int_equal(live_pages(), 0);
}

static void test_bad_requests(void **state)
{
	struct vtd_domain d;

	(void)state;
	assert_int_equal(vtd_domain_init(&d, &mem, 3, 1), 0);
	assert_int_equal(vtd_map(&d, 0x1001, 0x2000, VTD_PERM_R), -1);	   /* unaligned IOVA */
	assert_int_equal(vtd_map(&d, 0x1000, 0x2080, VTD_PERM_R), -1);	   /* unaligned HPA */
	assert_int_equal(vtd_map(&d, 0x1000, 1ull << 52, VTD_PERM_R), -1); /* HPA too wide */
	assert_int_equal(vtd_map(&d, 0x1000, 0x2000, 0), -1);		   /* no permission */
	assert_int_equal(vtd_map(&d, 0x1000, 0x2000, 4), -1);		   /* unknown permission */
	assert_int_equal(vtd_map(&d, 1ull << 39, 0x2000, VTD_PERM_R), -1); /* beyond 3 levels */
	assert_int_equal(d.tables, 1);					   /* none made */
	assert_int_equal(vtd_map(&d, 0x1000, 0x2000, VTD_PERM_R), 0);
	assert_int_equal(vtd_map(&d, 0x1000, 0x3000, VTD_PERM_W), -1); /* mapped already */
	expect_mapped(&d, 0x1000, 0x2000, VTD_PERM_R);
	assert_int_equal(vtd_unmap(&d, 0x1800), -1);	 /* unaligned */
	assert_int_equal(vtd_unmap(&d, 1 * GB), -1);	 /* no table there */
	assert_int_equal(vtd_unmap(&d, 1ull << 40), -1); /* beyond the domain */
	expect_unmapped(&d, 1ull << 40);
	vtd_domain_destroy(&d);
	assert_int_equal(live_pages(), 0);
}

static void test_out_of_pages(void **state)
{
	struct vtd_domain d;

	(void)state;
	fake.fail_after = 0;
	assert_int_equal(vtd_domain_init(&d, &mem, 4, 1), -1);
	fake.fail_after = 2; /* the top table and one below it */
	assert_int_equal(vtd_domain_init(&d, &mem, 4, 1), 0);
	assert_int_equal(vtd_map(&d, 0x1000, 0x2000, VTD_PERM_R), -1);
	expect_unmapped(&d, 0x1000);
	fake.fail_after = -1;
	assert_int_equal(vtd_map(&d, 0x1000, 0x2000, VTD_PERM_R), 0); /* reuses what was made */
	assert_int_equal(d.tables, 4);
	vtd_domain_destroy(&d);
	assert_int_equal(live_pages(), 0);
}

static void test_flush_after_every_entry(void **state)
{
	struct vtd_domain d;
	struct vtd_root r;

	(void)state;
	assert_int_equal(vtd_domain_init(&d, &flushing, 3, 1), 0);
	assert_int_equal(vtd_map(&d, 0x1000, 0x2000, VTD_PERM_R), 0);
	assert_int_equal(fake.flushes, 3); /* two table entries and the leaf */
	assert_int_equal(vtd_unmap(&d, 0x1000), 0);
	assert_int_equal(fake.flushes, 6);
	assert_int_equal(vtd_root_init(&r, &flushing), 0);
	assert_int_equal(vtd_context_set(&r, 0, 8, &d), 0);
	assert_int_equal(fake.flushes, 6 + 2 + 3); /* root entry, context entry (3 stores) */
	vtd_root_destroy(&r);
	vtd_domain_destroy(&d);
	assert_int_equal(live_pages(), 0);
}

static void test_context_entries(void **state)
{
	struct vtd_domain a, b;
	struct vtd_root r;
	uint64_t top, *ctx;
	uint16_t id;
	unsigned levels;

	(void)state;
	assert_int_equal(vtd_root_init(&r, &mem), 0);
	assert_int_equal(vtd_domain_init(&a, &mem, 4, 5), 0);
	assert_int_equal(vtd_domain_init(&b, &mem, 3, 0x1234), 0);
	assert_false(vtd_context_get(&r, 0, 0xfa, &id, &top, &levels));
	assert_int_equal(vtd_context_set(&r, 0, 0xfa, &a), 0); /* 00:1f.2 */
	assert_int_equal(vtd_context_set(&r, 0, 0x18, &b), 0); /* 00:03.0 */
	assert_int_equal(vtd_context_set(&r, 1, 0x00, &b), 0); /* 01:00.0 */
	assert_int_equal(live_pages(), 1 + 2 + 2);	       /* root, 2 context, 2 domains */

	/* the raw entries: root §9.1, context §9.3 */
	assert_int_equal(entry(r.phys, 0) & ~VTD_ADDR_MASK, VTD_ROOT_P);
	assert_int_equal(entry(r.phys, 1), 0);
	assert_int_equal(entry(r.phys, 4), 0); /* bus 2: none */
	ctx = fake_virt(NULL, entry(r.phys, 0) & VTD_ADDR_MASK);
	assert_int_equal(ctx[2 * 0xfa], a.top | VTD_CTX_P); /* TT 00, FPD clear */
	assert_int_equal(ctx[2 * 0xfa + 1], 2 | 5 << 8);    /* AW 2: 4 levels; DID 5 */
	assert_int_equal(ctx[2 * 0x18 + 1], 1 | 0x1234 << 8);
	assert_int_equal(ctx[2 * 0x19], 0);

	assert_true(vtd_context_get(&r, 0, 0xfa, &id, &top, &levels));
	assert_int_equal(id, 5);
	assert_int_equal(top, a.top);
	assert_int_equal(levels, 4);
	assert_true(vtd_context_get(&r, 1, 0, &id, &top, &levels));
	assert_int_equal(id, 0x1234);
	assert_int_equal(top, b.top);
	assert_int_equal(levels, 3);
	assert_false(vtd_context_get(&r, 1, 1, &id, &top, &levels));
	assert_false(vtd_context_get(&r, 2, 0, &id, &top, &levels));

	vtd_context_clear(&r, 0, 0xfa);
	vtd_context_clear(&r, 7, 0); /* a bus without a context table: nothing */
	assert_false(vtd_context_get(&r, 0, 0xfa, &id, &top, &levels));
	assert_true(vtd_context_get(&r, 0, 0x18, &id, &top, &levels));
	assert_int_equal(live_pages(), 5);
	vtd_root_destroy(&r);
	assert_int_equal(live_pages(), 2); /* the domains are their owners' */
	vtd_domain_destroy(&a);
	vtd_domain_destroy(&b);
	assert_int_equal(live_pages(), 0);
}

static void test_caps(void **state)
{
	/* QEMU 7.2's intel-iommu: ND 6, SAGAW 39-bit, MGAW 39, FRO 0x220, one fault
	 * register, PSI and friends; ECAP: QI, IR, EIM, PT, IRO 0xf00 */
	uint64_t cap = 6 | 2u << 8 | 38u << 16 | 0x22ull << 24 | 1ull << 39;
	uint64_t ecap = VTD_ECAP_QI | VTD_ECAP_IR | VTD_ECAP_EIM | VTD_ECAP_PT | 0xf0ull << 8;
	struct vtd_caps c;

	(void)state;
	vtd_decode_caps(0x10, cap, ecap, &c);
	assert_int_equal(c.ver_major, 1);
	assert_int_equal(c.ver_minor, 0);
	assert_int_equal(c.sagaw, 2);
	assert_int_equal(c.levels, 3);
	assert_int_equal(c.mgaw, 39);
	assert_int_equal(c.domains, 65536);
	assert_int_equal(c.fault_offset, 0x220);
	assert_int_equal(c.fault_count, 1);
	assert_int_equal(c.iotlb_offset, 0xf00);
	assert_true(c.qi && c.ir && c.eim && c.pass_through);
	assert_false(c.coherent || c.caching_mode || c.write_buffer_flush);
	vtd_decode_caps(0x61, 0 | VTD_CAP_RWBF | VTD_CAP_CM | 0xffull << 40, VTD_ECAP_C, &c);
	assert_int_equal(c.ver_major, 6);
	assert_int_equal(c.ver_minor, 1);
	assert_int_equal(c.domains, 16);
	assert_int_equal(c.fault_count, 256);
	assert_int_equal(c.levels, 0);
	assert_true(c.write_buffer_flush && c.caching_mode && c.coherent);
	assert_false(c.qi || c.ir);

	assert_int_equal(vtd_pick_levels(0x6), 4);
	assert_int_equal(vtd_pick_levels(0xe), 4);
	assert_int_equal(vtd_pick_levels(0x2), 3);
	assert_int_equal(vtd_pick_levels(0xa), 3);
	assert_int_equal(vtd_pick_levels(0x8), 5);
	assert_int_equal(vtd_pick_levels(0x1), 0); /* 2-level (30-bit) only */
	assert_int_equal(vtd_pick_levels(0x10), 0);
	assert_string_equal(vtd_fault_reason(1), "root entry not present");
	assert_string_equal(vtd_fault_reason(5), "write to a page without W");
	assert_string_equal(vtd_fault_reason(0), "other");
	assert_string_equal(vtd_fault_reason(0xd), "request blocked by the context entry's type");
	assert_string_equal(vtd_fault_reason(0xe), "other");
	assert_string_equal(vtd_fault_reason(0x80), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domain_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_frees_only_what_it_emptied, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_after_every_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_context_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
