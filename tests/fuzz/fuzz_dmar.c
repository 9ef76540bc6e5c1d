/* libFuzzer harness for DMAR parsing (arch/x86_64/vtd/dmar.c): dmar_parse on a heap copy of
 * exactly the input's bytes, so AddressSanitizer flags any read past the table, then
 * dmar_format_scope on every scope it kept. Beyond "no crash":
 *   - a failure says why (a non-empty string) and keeps no unit and no reserved region;
 *   - a success kept every count within its array, each unit's registers 4 KiB aligned and
 *     nonzero, each reserved region whole pages, each scope a path of 1 to DMAR_MAX_PATH
 *     hops with devices below 32 and functions below 8, and each scope's text fits.
 *
 * Input: byte 0 is the mode; with bit 0 set the harness writes the "DMAR" signature and the
 * input's length into the header (so the fuzzer need not find them itself), else the bytes
 * go in as they are. The rest is the table.
 * Seeds: QEMU's table (tests/unit/data/acpi/qemu-q35-iommu) and synthetic ones
 * (tests/fuzz/seeds.py). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/vtd/dmar.h"

#define FIX_HEADER 0x01
#define CHECK(c)   ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_scopes(const struct dmar_dev_scope *s, uint32_t n)
{
	char text[DMAR_SCOPE_TEXT];

	CHECK(n <= DMAR_MAX_SCOPES);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(s[i].npath >= 1 && s[i].npath <= DMAR_MAX_PATH);
		dmar_format_scope(&s[i], text, sizeof(text));
		CHECK(memchr(text, '\0', sizeof(text)) != NULL && text[0]);
	}
}

static void check(const struct dmar_info *info)
{
	CHECK(info->nunits >= 1 || info->units_ignored);
	CHECK(info->nunits <= DMAR_MAX_UNITS && info->nrmrr <= DMAR_MAX_RMRR);
	for (uint32_t i = 0; i < info->nunits; i++) {
		const struct dmar_unit *u = &info->units[i];

		CHECK(u->register_base && !(u->register_base & 0xfff));
		CHECK(u->register_bytes >= 4096 && u->register_base + u->register_bytes > 0);
		check_scopes(u->scopes, u->nscopes);
	}
	for (uint32_t i = 0; i < info->nrmrr; i++) {
		const struct dmar_rmrr_info *r = &info->rmrr[i];

		CHECK(!(r->base & 0xfff) && (r->limit & 0xfff) == 0xfff && r->limit >= r->base);
		check_scopes(r->scopes, r->nscopes);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dmar_info info;
	const char *why = NULL;
	uint8_t *t;

	if (size < 1)
		return 0;
	t = malloc(size - 1 ? size - 1 : 1);
	if (!t)
		return 0;
	memcpy(t, data + 1, size - 1);
	if (data[0] & FIX_HEADER && size - 1 >= 8) {
		uint32_t len = (uint32_t)(size - 1);

		memcpy(t, "DMAR", 4);
		memcpy(t + 4, &len, 4);
	}
	if (dmar_parse(t, size - 1, &info, &why)) {
		CHECK(why && why[0]);
		CHECK(!info.nunits && !info.nrmrr);
	} else {
		check(&info);
	}
	free(t);
	return 0;
}
