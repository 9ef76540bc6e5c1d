/* libFuzzer harness for the ACPI tables (drivers/acpi*.c): acpi_find_rsdp, acpi_parse (RSDT or
 * XSDT, MADT, FADT, the DSDT's \_S5, DMAR, MCFG), acpi_for_each_table and acpi_find_s5, with
 * physical memory reached only through the map callback. The callback hands out a fresh heap
 * copy of exactly the bytes asked for, so AddressSanitizer flags any read past what the parser
 * mapped (a field beyond a table's length, a checksum over more than the RSDP). Beyond
 * "no crash":
 *   - a failure says why (a non-empty, NUL-terminated message);
 *   - a success found a usable CPU and kept every count within its array, and every ECAM
 *     window it took from the MCFG is 1 MiB aligned with its buses in order;
 *   - every table acpi_for_each_table reports has a length that covers its header and a
 *     checksum that sums to zero.
 *
 * Input: byte 0 is the mode, then either
 *   - (bit 7 set) raw memory from physical 0xe0000, the BIOS area acpi_find_rsdp scans; the
 *     bytes are also searched for \_S5 directly; or
 *   - tables one after another, each as long as its header's length says (the rest of the
 *     input when that length is too short or too long), at 0x100000 plus their offset. The
 *     harness writes the RSDP (revision 2 with an XSDT if bit 0, else revision 0 with an RSDT)
 *     and the root table listing them all; it fixes every table's checksum unless bit 1 is
 *     set, and with bit 2 points each FADT's DSDT fields at the first DSDT, so the fuzzer need
 *     not find checksums and addresses itself.
 * Seeds: the tables captured from QEMU and Bochs, tests/unit/data/acpi/ (tests/fuzz/seeds.py). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/acpi.h"

#define RAW	    0x80
#define XSDT	    0x01
#define NO_FIX	    0x02
#define FIX_DSDT    0x04
#define BIOS_AREA   0xe0000u
#define ROOT_BASE   0x80000u
#define TABLE_BASE  0x100000u
#define MAX_TABLES  32
#define MAX_MAPS    1024
#define HDR	    sizeof(struct acpi_sdt_header)
#define FADT_DSDT   offsetof(struct acpi_fadt, dsdt)
#define FADT_X_DSDT offsetof(struct acpi_fadt, x_dsdt)
#define CHECK(c)    ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fake physical memory: a few regions, and the copies handed out for this input. */
static struct region {
	uint64_t phys;
	const uint8_t *bytes;
	size_t len;
} regions[3];
static unsigned nregions;
static void *maps[MAX_MAPS];
static unsigned nmaps;

static const void *fake_map(uint64_t phys, size_t len)
{
	for (unsigned i = 0; i < nregions; i++) {
		const struct region *r = &regions[i];
		void *copy;

		if (phys < r->phys || phys - r->phys > r->len || len > r->len - (phys - r->phys))
			continue;
		if (nmaps == MAX_MAPS || !(copy = malloc(len ? len : 1)))
			return NULL;
		memcpy(copy, r->bytes + (phys - r->phys), len);
		maps[nmaps++] = copy;
		return copy;
	}
	return NULL;
}

static void add_region(uint64_t phys, const uint8_t *bytes, size_t len)
{
	regions[nregions++] = (struct region){phys, bytes, len};
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void fix_checksum(uint8_t *t, size_t len, size_t at)
{
	t[at] = 0;
	t[at] = (uint8_t)-sum(t, len);
}

static void check_table(const struct acpi_sdt_header *t, uint64_t phys, void *ctx)
{
	(void)phys;
	(void)ctx;
	CHECK(t->length >= HDR && sum((const uint8_t *)t, t->length) == 0);
}

static void parse(const void *rsdp)
{
	static struct acpi_info info;
	char err[128];

	if (!rsdp)
		return;
	memset(err, 0x5a, sizeof(err));
	if (acpi_parse(rsdp, fake_map, &info, err, sizeof(err))) {
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
	} else {
		CHECK(info.ncpus >= 1 && info.ncpus <= ACPI_MAX_CPUS);
		CHECK(info.nioapics <= ACPI_MAX_IOAPICS && info.noverrides <= ACPI_MAX_OVERRIDES);
		CHECK(info.necam <= ACPI_MAX_ECAM && !(info.necam && info.mcfg_unusable));
		for (uint32_t i = 0; i < info.necam; i++)
			CHECK(info.ecam[i].end_bus >= info.ecam[i].start_bus && info.ecam[i].base &&
			      !(info.ecam[i].base & 0xfffff));
	}
	(void)acpi_for_each_table(rsdp, fake_map, check_table, NULL);
}

/* Lays the tables out from `in` into `t` and returns how many; the offsets in off[]. */
static unsigned layout(const uint8_t *in, size_t size, uint8_t *t, size_t off[MAX_TABLES],
		       uint8_t flags)
{
	size_t len[MAX_TABLES], at = 0;
	unsigned n = 0, dsdt = MAX_TABLES;

	memcpy(t, in, size);
	while (n < MAX_TABLES && size - at >= HDR) {
		uint32_t l = get32(t + at + 4);

		off[n] = at;
		len[n] = l >= HDR && l <= size - at ? l : size - at;
		if (dsdt == MAX_TABLES && !memcmp(t + at, ACPI_SIG_DSDT, 4))
			dsdt = n;
		at += len[n++];
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = t + off[i];

		if ((flags & FIX_DSDT) && dsdt < n && !memcmp(p, ACPI_SIG_FADT, 4)) {
			uint64_t phys = TABLE_BASE + off[dsdt];

			if (len[i] >= FADT_DSDT + 4)
				memcpy(p + FADT_DSDT, &phys, 4);
			if (len[i] >= FADT_X_DSDT + 8)
				memcpy(p + FADT_X_DSDT, &phys, 8);
		}
		if (!(flags & NO_FIX) && get32(p + 4) == len[i])
			fix_checksum(p, len[i], offsetof(struct acpi_sdt_header, checksum));
	}
	return n;
}

static void structured(const uint8_t *in, size_t size, uint8_t flags)
{
	static uint8_t root[HDR + 8 * MAX_TABLES];
	struct acpi_rsdp rsdp = {.signature = "RSD PTR ", .oem_id = "FUZZ"};
	size_t off[MAX_TABLES], entry = flags & XSDT ? 8 : 4;
	uint8_t *t = malloc(size ? size : 1);
	unsigned n;

	if (!t)
		return;
	n = layout(in, size, t, off, flags);
	memset(root, 0, sizeof(root));
	memcpy(root, flags & XSDT ? ACPI_SIG_XSDT : ACPI_SIG_RSDT, 4);
	for (unsigned i = 0; i < n; i++) {
		uint64_t phys = TABLE_BASE + off[i];

		memcpy(root + HDR + i * entry, &phys, entry);
	}
	((struct acpi_sdt_header *)root)->length = (uint32_t)(HDR + n * entry);
	fix_checksum(root, HDR + n * entry, offsetof(struct acpi_sdt_header, checksum));
	rsdp.revision = flags & XSDT ? 2 : 0;
	rsdp.rsdt_address = flags & XSDT ? 0 : ROOT_BASE;
	rsdp.xsdt_address = flags & XSDT ? ROOT_BASE : 0;
	rsdp.length = sizeof(rsdp);
	fix_checksum((uint8_t *)&rsdp, ACPI_RSDP_V1_LENGTH, offsetof(struct acpi_rsdp, checksum));
	fix_checksum((uint8_t *)&rsdp, sizeof(rsdp), offsetof(struct acpi_rsdp, extended_checksum));
	add_region(BIOS_AREA, (const uint8_t *)&rsdp, sizeof(rsdp));
	add_region(ROOT_BASE, root, HDR + n * entry);
	add_region(TABLE_BASE, t, size);
	CHECK(acpi_find_rsdp(fake_map) == BIOS_AREA);
	parse(fake_map(BIOS_AREA, sizeof(rsdp)));
	nregions = 0;
	free(t);
}

static void raw(const uint8_t *mem, size_t size)
{
	uint64_t phys;
	uint8_t a, b;

	(void)acpi_find_s5(mem, size, &a, &b);
	add_region(BIOS_AREA, mem, size);
	phys = acpi_find_rsdp(fake_map);
	if (phys) {
		CHECK(phys >= BIOS_AREA && (phys & 15) == 0);
		parse(fake_map(phys, sizeof(struct acpi_rsdp)));
	}
	nregions = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & RAW)
		raw(data + 1, size - 1);
	else
		structured(data + 1, size - 1, data[0]);
	while (nmaps)
		free(maps[--nmaps]);
	return 0;
}
