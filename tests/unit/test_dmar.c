/* DMAR parsing (arch/x86_64/vtd/dmar.c): the table QEMU's `-device intel-iommu` gives
 * (tests/unit/data/acpi/qemu-q35-iommu, captured by tools/capture-acpi), and synthetic
 * tables for what QEMU never shows (RMRR, ATSR, bridges, several units) and for every way a
 * table can be malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/vtd/dmar.h"
#include "arch/x86_64/vtd/dmar_tables.h"

#define CAPTURED  "tests/unit/data/acpi/qemu-q35-iommu/DMAR.bin"
#define MAX_TABLE 8192

static struct dmar_info info;

/* --- a synthetic table, built structure by structure ----------------------- */

static uint8_t t[MAX_TABLE];
static size_t tlen;
static size_t open_struct; /* where the structure being built starts */

static void put(const void *p, size_t n)
{
	assert_true(tlen + n <= sizeof(t));
	memcpy(t + tlen, p, n);
	tlen += n;
}

static void put16(uint16_t v)
{
	put(&v, 2);
}

static void put64(uint64_t v)
{
	put(&v, 8);
}

static void begin_table(uint8_t haw, uint8_t flags)
{
	struct dmar_table h = {
		.header = {.signature = "DMAR"}, .host_address_width = haw, .flags = flags};

	memset(t, 0, sizeof(t));
	tlen = 0;
	put(&h, sizeof(h));
}

static void end_struct(void)
{
	uint16_t len = (uint16_t)(tlen - open_struct);

	memcpy(t + open_struct + 2, &len, 2);
}

static void begin_drhd(uint8_t flags, uint8_t size, uint16_t segment, uint64_t base)
{
	open_struct = tlen;
	put16(DMAR_TYPE_DRHD);
	put16(0);
	put(&flags, 1);
	put(&size, 1);
	put16(segment);
	put64(base);
}

static void begin_rmrr(uint64_t base, uint64_t limit)
{
	open_struct = tlen;
	put16(DMAR_TYPE_RMRR);
	put16(0);
	put16(0);
	put16(0);
	put64(base);
	put64(limit);
}

static void other_struct(uint16_t type, size_t body)
{
	uint8_t zero[64] = {0};

	open_struct = tlen;
	put16(type);
	put16(0);
	put(zero, body);
	end_struct();
}

/* A scope of `npath` hops: path[] holds device, function pairs. */
static void scope(uint8_t type, uint8_t id, uint8_t bus, const uint8_t *path, unsigned npath)
{
	uint8_t h[6] = {type, (uint8_t)(6 + 2 * npath), 0, 0, id, bus};

	put(h, sizeof(h));
	put(path, 2 * npath);
}

static void endpoint(uint8_t bus, uint8_t dev, uint8_t fn)
{
	uint8_t path[2] = {dev, fn};

	scope(DMAR_SCOPE_ENDPOINT, 0, bus, path, 1);
}

static int parse(const char **why)
{
	struct dmar_table *h = (struct dmar_table *)t;

	h->header.length = (uint32_t)tlen;
	*why = NULL;
	return dmar_parse(t, tlen, &info, why);
}

static void expect_rejected(const char *reason)
{
	const char *why;

	assert_int_equal(parse(&why), -1);
	assert_non_null(why);
	assert_string_equal(why, reason);
	assert_int_equal(info.nunits, 0); /* nothing of a bad table is used */
	assert_int_equal(info.nrmrr, 0);
}

static void scope_text(const struct dmar_dev_scope *s, char *buf)
{
	dmar_format_scope(s, buf, DMAR_SCOPE_TEXT);
}

/* --- the captured table ---------------------------------------------------- */

static void test_qemu_intel_iommu(void **state)
{
	static const char *const expected[] = {"ioapic0=ff:00.0", "00:00.0", "00:01.0", "00:02.0",
					       "00:1f.0",	  "00:1f.2", "00:1f.3"};
	FILE *f = fopen(CAPTURED, "rb");
	const struct dmar_unit *u;
	const char *why = NULL;
	char text[DMAR_SCOPE_TEXT];
	size_t len;

	(void)state;
	assert_non_null(f);
	len = fread(t, 1, sizeof(t), f);
	fclose(f);
	assert_int_equal(len, 120);
	assert_int_equal(dmar_parse(t, len, &info, &why), 0);
	assert_null(why);
	assert_int_equal(info.host_address_width, 39);
	assert_true(info.intr_remap);
	assert_false(info.x2apic_opt_out);
	assert_int_equal(info.nunits, 1);
	u = &info.units[0];
	assert_int_equal(u->register_base, 0xfed90000);
	assert_int_equal(u->register_bytes, 4096);
	assert_int_equal(u->segment, 0);
	assert_false(u->include_pci_all);
	assert_int_equal(u->nscopes, 7);
	assert_int_equal(u->scopes_ignored, 0);
	for (unsigned i = 0; i < 7; i++) {
		scope_text(&u->scopes[i], text);
		assert_string_equal(text, expected[i]);
	}
	assert_int_equal(u->scopes[0].type, DMAR_SCOPE_IOAPIC);
	assert_int_equal(u->scopes[5].type, DMAR_SCOPE_ENDPOINT);
	assert_int_equal(u->scopes[5].path[0], 0x1f << 3 | 2);
	assert_int_equal(info.nrmrr + info.atsr + info.rhsa + info.andd + info.satc + info.unknown,
			 0);
}

/* Every truncation of the captured table is refused: lengths are checked first. */
static void test_qemu_table_truncated(void **state)
{
	FILE *f = fopen(CAPTURED, "rb");
	uint8_t full[120];
	const char *why;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fread(full, 1, sizeof(full), f), sizeof(full));
	fclose(f);
	for (size_t len = 0; len < sizeof(full); len++) {
		uint8_t *copy = malloc(len ? len : 1); /* exactly len bytes, for ASan */

		memcpy(copy, full, len);
		why = NULL;
		assert_int_equal(dmar_parse(copy, len, &info, &why), -1);
		assert_non_null(why);
		free(copy);
	}
}

/* --- synthetic tables ------------------------------------------------------ */

static void test_units_rmrr_and_skipped_structures(void **state)
{
	uint8_t through_bridge[4] = {0x1c, 0, 0, 0};
	uint8_t bridge[2] = {0x1c, 4};
	char text[DMAR_SCOPE_TEXT];
	const char *why;

	(void)state;
	begin_table(45, DMAR_FLAG_X2APIC_OPT_OUT | DMAR_FLAG_DMA_CTRL_OPT_IN);
	begin_drhd(0, 1, 0, 0xfed90000);
	endpoint(0, 2, 0);
	scope(DMAR_SCOPE_ENDPOINT, 0, 0, through_bridge, 2);
	scope(DMAR_SCOPE_BRIDGE, 0, 0, bridge, 1);
	end_struct();
	begin_drhd(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed91000);
	scope(DMAR_SCOPE_HPET, 3, 0, (const uint8_t[]){0x1f, 0}, 1);
	scope(9, 0, 0, (const uint8_t[]){0, 0}, 1); /* a scope type of a later spec */
	end_struct();
	begin_rmrr(0x7c000000, 0x7c0fffff);
	endpoint(0, 0x14, 0);
	end_struct();
	other_struct(DMAR_TYPE_ATSR, 4);
	other_struct(DMAR_TYPE_RHSA, 16);
	other_struct(DMAR_TYPE_SATC, 4);
	other_struct(77, 0);
	assert_int_equal(parse(&why), 0);
	assert_int_equal(info.host_address_width, 46);
	assert_false(info.intr_remap);
	assert_true(info.x2apic_opt_out && info.dma_ctrl_opt_in);
	assert_int_equal(info.nunits, 2);
	assert_int_equal(info.units[0].register_bytes, 8192);
	assert_int_equal(info.units[0].nscopes, 3);
	scope_text(&info.units[0].scopes[1], text);
	assert_string_equal(text, "00:1c.0/00.0");
	scope_text(&info.units[0].scopes[2], text);
	assert_string_equal(text, "bridge=00:1c.4");
	assert_true(info.units[1].include_pci_all);
	assert_int_equal(info.units[1].nscopes, 1);
	assert_int_equal(info.units[1].scopes_ignored, 1);
	scope_text(&info.units[1].scopes[0], text);
	assert_string_equal(text, "hpet3=00:1f.0");
	assert_int_equal(info.nrmrr, 1);
	assert_int_equal(info.rmrr[0].base, 0x7c000000);
	assert_int_equal(info.rmrr[0].limit, 0x7c0fffff);
	assert_int_equal(info.rmrr[0].nscopes, 1);
	assert_int_equal(info.rmrr[0].scopes[0].path[0], 0x14 << 3);
	assert_int_equal(info.atsr, 1);
	assert_int_equal(info.rhsa, 1);
	assert_int_equal(info.satc, 1);
	assert_int_equal(info.andd, 0);
	assert_int_equal(info.unknown, 1);
}

static void test_more_than_the_tables_hold(void **state)
{
	const char *why;

	(void)state;
	begin_table(38, 0);
	for (unsigned i = 0; i < DMAR_MAX_UNITS + 2; i++) {
		begin_drhd(0, 0, 0, 0xfed00000 + 0x1000ull * i);
		end_struct();
	}
	begin_drhd(0, 0, 0, 0xfee00000);
	end_struct();
	assert_int_equal(parse(&why), 0);
	assert_int_equal(info.nunits, DMAR_MAX_UNITS);
	assert_int_equal(info.units_ignored, 3);

	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0xfed90000);
	for (unsigned i = 0; i < DMAR_MAX_SCOPES + 5; i++)
		endpoint(1, (uint8_t)(i & 31), (uint8_t)(i >> 5));
	end_struct();
	for (unsigned i = 0; i < DMAR_MAX_RMRR + 1; i++) {
		begin_rmrr(0x1000ull * i, 0x1000ull * i + 0xfff);
		end_struct();
	}
	assert_int_equal(parse(&why), 0);
	assert_int_equal(info.units[0].nscopes, DMAR_MAX_SCOPES);
	assert_int_equal(info.units[0].scopes_ignored, 5);
	assert_int_equal(info.units[0].scopes[DMAR_MAX_SCOPES - 1].path[0],
			 ((DMAR_MAX_SCOPES - 1) & 31) << 3);
	assert_int_equal(info.nrmrr, DMAR_MAX_RMRR);
	assert_int_equal(info.rmrr_ignored, 1);
}

static void test_malformed_header(void **state)
{
	const char *why = NULL;

	(void)state;
	begin_table(38, 0);
	assert_int_equal(dmar_parse(t, 47, &info, &why), -1);
	assert_string_equal(why, "the DMAR table is shorter than 48 bytes");
	expect_rejected("the DMAR table lists no remapping unit");
	begin_drhd(0, 0, 0, 0xfed90000);
	end_struct();
	memcpy(t, "DMAX", 4);
	expect_rejected("the DMAR header's signature or length is wrong");
	memcpy(t, "DMAR", 4);
	((struct dmar_table *)t)->header.length = (uint32_t)tlen + 1; /* says more than there is */
	assert_int_equal(dmar_parse(t, tlen, &info, &why), -1);
	assert_string_equal(why, "the DMAR header's signature or length is wrong");
}

static void test_malformed_structures(void **state)
{
	(void)state;
	begin_table(38, 0);
	put16(DMAR_TYPE_DRHD); /* half a header */
	expect_rejected("a remapping structure's header is cut off by the table's end");

	begin_table(38, 0);
	put16(DMAR_TYPE_ATSR);
	put16(3);
	expect_rejected("a remapping structure is shorter than its header");

	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0xfed90000);
	end_struct();
	memcpy(t + open_struct + 2, &(uint16_t){17}, 2); /* one byte past the table */
	expect_rejected("a remapping structure reaches past the table's end");

	begin_table(38, 0);
	other_struct(DMAR_TYPE_DRHD, 8);
	expect_rejected("a DRHD is shorter than 16 bytes");

	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0xfed90800);
	end_struct();
	expect_rejected("a DRHD's register base is 0 or not 4 KiB aligned");

	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0);
	end_struct();
	expect_rejected("a DRHD's register base is 0 or not 4 KiB aligned");

	begin_table(38, 0);
	begin_drhd(0, 15, 0, 0xfffffffffffff000ull);
	end_struct();
	expect_rejected("a DRHD's register set wraps around");

	begin_table(38, 0);
	other_struct(DMAR_TYPE_RMRR, 12);
	expect_rejected("an RMRR is shorter than 24 bytes");

	begin_table(38, 0);
	begin_rmrr(0x1000, 0x1ffe);
	end_struct();
	expect_rejected("an RMRR's region is not whole 4 KiB pages from base to limit");

	begin_table(38, 0);
	begin_rmrr(0x3000, 0x1fff);
	end_struct();
	expect_rejected("an RMRR's region is not whole 4 KiB pages from base to limit");
}

static void test_malformed_scopes(void **state)
{
	uint8_t five_hops[10] = {0};

	(void)state;
	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0xfed90000);
	put(&(uint8_t[4]){1, 8, 0, 0}, 4); /* 4 of a scope's 6 header bytes */
	end_struct();
	expect_rejected("a device scope is cut off by its structure's end");

	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0xfed90000);
	put(&(uint8_t[8]){1, 9, 0, 0, 0, 0, 1, 0}, 8);
	end_struct();
	expect_rejected("a device scope's length is not 6 + 2 bytes per path entry");

	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0xfed90000);
	put(&(uint8_t[6]){1, 6, 0, 0, 0, 0}, 6); /* no path at all */
	end_struct();
	expect_rejected("a device scope's length is not 6 + 2 bytes per path entry");

	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0xfed90000);
	put(&(uint8_t[8]){1, 10, 0, 0, 0, 0, 1, 0}, 8); /* says 10, its structure has 8 */
	end_struct();
	expect_rejected("a device scope reaches past its structure's end");

	/* a scope that fits the table but not its structure: the next one follows */
	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0xfed90000);
	endpoint(0, 1, 0);
	end_struct();
	t[open_struct + 16 + 1] = 10;
	begin_drhd(0, 0, 0, 0xfed91000);
	end_struct();
	expect_rejected("a device scope reaches past its structure's end");

	begin_table(38, 0);
	begin_rmrr(0x1000, 0x1fff);
	endpoint(0, 32, 0);
	end_struct();
	expect_rejected("a device scope's path names device > 31 or function > 7");

	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0xfed90000);
	endpoint(0, 3, 8);
	end_struct();
	expect_rejected("a device scope's path names device > 31 or function > 7");

	begin_table(38, 0);
	begin_drhd(0, 0, 0, 0xfed90000);
	scope(DMAR_SCOPE_ENDPOINT, 0, 0, five_hops, 5);
	end_struct();
	expect_rejected("a device scope's path crosses too many bridges");
}

static void test_scope_text(void **state)
{
	struct dmar_dev_scope s = {DMAR_SCOPE_IOAPIC, 255, 0xff, 4, {0xff, 0xff, 0xff, 0xff}};
	char text[DMAR_SCOPE_TEXT], small[8];

	(void)state;
	scope_text(&s, text);
	assert_string_equal(text, "ioapic255=ff:1f.7/1f.7/1f.7/1f.7");
	assert_true(strlen(text) < DMAR_SCOPE_TEXT);
	s.type = DMAR_SCOPE_NAMESPACE;
	s.enumeration_id = 1;
	s.npath = 1;
	scope_text(&s, text);
	assert_string_equal(text, "acpi1=ff:1f.7");
	dmar_format_scope(&s, small, sizeof(small));
	assert_string_equal(small, "acpi1=f"); /* cut, still terminated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_intel_iommu),
		cmocka_unit_test(test_qemu_table_truncated),
		cmocka_unit_test(test_units_rmrr_and_skipped_structures),
		cmocka_unit_test(test_more_than_the_tables_hold),
		cmocka_unit_test(test_malformed_header),
		cmocka_unit_test(test_malformed_structures),
		cmocka_unit_test(test_malformed_scopes),
		cmocka_unit_test(test_scope_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
