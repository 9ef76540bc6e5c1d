/* ACPI table walk: RSDP → RSDT or XSDT → MADT, FADT (→ DSDT), DMAR, MCFG,
 * SPCR. Every table is checked (signature, length, checksum) before it is read;
 * the error names the table, its address and what is wrong. */
#include <stdio.h>
#include <string.h>

#include "drivers/acpi_internal.h"

#define EBDA_SEGMENT_PTR 0x40e
#define BIOS_AREA_START	 0xe0000
#define BIOS_AREA_END	 0x100000
#define MAX_TABLE_LENGTH (16u << 20)

struct walk {
	acpi_map_fn map;
	char *err;
	size_t errlen;
};

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

/* The RSDP's length is firmware's u32: it is checked against what the callers have
 * before the extended checksum reads that many bytes. acpi_parse and
 * acpi_for_each_table get a pointer (the boot loader's copy, or acpi_find_rsdp's
 * mapping of sizeof(struct acpi_rsdp)), not a physical address, so there is no
 * mapping to widen: a revision-2 RSDP must be exactly the 36 bytes mapped, the
 * length of every RSDP from ACPI 2.0 to 6.5. Anything else is refused, with a
 * reason. 0, or -1 with the reason in err. */
static int rsdp_check(const struct acpi_rsdp *r, char *err, size_t errlen)
{
	if (memcmp(r->signature, ACPI_SIG_RSDP, 8) || checksum(r, ACPI_RSDP_V1_LENGTH)) {
		snprintf(err, errlen, "RSDP signature or checksum is wrong");
		return -1;
	}
	if (r->revision < 2)
		return 0;
	if (r->length != sizeof(*r)) {
		snprintf(err, errlen, "RSDP revision %u has length %u, not the %zu bytes mapped",
			 r->revision, r->length, sizeof(*r));
		return -1;
	}
	if (checksum(r, sizeof(*r))) {
		snprintf(err, errlen, "RSDP extended checksum is wrong");
		return -1;
	}
	return 0;
}

static bool rsdp_valid(const struct acpi_rsdp *r)
{
	char err[8];

	return !rsdp_check(r, err, sizeof(err));
}

uint64_t acpi_find_rsdp(acpi_map_fn map)
{
	const uint16_t *ebda_seg = map(EBDA_SEGMENT_PTR, 2);
	uint64_t areas[2][2] = {{0, 0}, {BIOS_AREA_START, BIOS_AREA_END}};

	if (ebda_seg && *ebda_seg) {
		areas[0][0] = (uint64_t)*ebda_seg << 4;
		areas[0][1] = areas[0][0] + 1024;
	}
	for (int a = 0; a < 2; a++) {
		for (uint64_t at = areas[a][0]; at + sizeof(struct acpi_rsdp) <= areas[a][1];
		     at += 16) {
			const struct acpi_rsdp *r = map(at, sizeof(*r));

			if (r && rsdp_valid(r))
				return at;
		}
	}
	return 0;
}

/* Maps a whole table after checking its header and checksum. */
static const struct acpi_sdt_header *map_table(struct walk *w, uint64_t phys, const char *sig)
{
	const struct acpi_sdt_header *h = w->map(phys, sizeof(*h));

	if (!h) {
		snprintf(w->err, w->errlen, "%s at 0x%llx is outside mapped memory",
			 sig ? sig : "table", (unsigned long long)phys);
		return NULL;
	}
	if (sig && memcmp(h->signature, sig, 4)) {
		snprintf(w->err, w->errlen, "table at 0x%llx is not %s", (unsigned long long)phys,
			 sig);
		return NULL;
	}
	if (h->length < sizeof(*h) || h->length > MAX_TABLE_LENGTH) {
		snprintf(w->err, w->errlen, "%.4s at 0x%llx has a bad length %u", h->signature,
			 (unsigned long long)phys, h->length);
		return NULL;
	}
	h = w->map(phys, h->length);
	if (!h || checksum(h, h->length)) {
		snprintf(w->err, w->errlen, "%.4s checksum mismatch at 0x%llx", sig ? sig : "table",
			 (unsigned long long)phys);
		return NULL;
	}
	return h;
}

/* The root table's entries: 64-bit in the XSDT, 32-bit in the RSDT. */
struct root {
	const struct acpi_sdt_header *table;
	uint64_t phys;
	unsigned entry_size;
	unsigned count;
};

static int map_root(struct walk *w, const struct acpi_rsdp *r, struct root *root)
{
	bool xsdt = r->revision >= 2 && r->xsdt_address;
	uint64_t phys = xsdt ? r->xsdt_address : r->rsdt_address;

	root->phys = phys;
	root->table = map_table(w, phys, xsdt ? ACPI_SIG_XSDT : ACPI_SIG_RSDT);
	if (!root->table)
		return -1;
	root->entry_size = xsdt ? 8 : 4;
	root->count = (root->table->length - sizeof(*root->table)) / root->entry_size;
	return 0;
}

static uint64_t root_entry(const struct root *root, unsigned i)
{
	const uint8_t *p = (const uint8_t *)(root->table + 1) + (size_t)i * root->entry_size;
	uint64_t v = 0;

	memcpy(&v, p, root->entry_size); /* little-endian, possibly unaligned */
	return v;
}

/* The DSDT's address, or 0 when the FADT is too short to hold one. */
static uint64_t fadt_dsdt(const struct acpi_fadt *f)
{
	size_t have = f->header.length;

	if (have >= offsetof(struct acpi_fadt, x_dsdt) + 8 && f->x_dsdt)
		return f->x_dsdt;
	if (have >= offsetof(struct acpi_fadt, dsdt) + 4)
		return f->dsdt;
	return 0;
}

int acpi_for_each_table(const void *rsdp, acpi_map_fn map,
			void (*fn)(const struct acpi_sdt_header *t, uint64_t phys, void *ctx),
			void *ctx)
{
	char err[8];
	struct walk w = {map, err, sizeof(err)};
	struct root root;

	if (!rsdp_valid(rsdp) || map_root(&w, rsdp, &root))
		return -1;
	fn(root.table, root.phys, ctx);
	for (unsigned i = 0; i < root.count; i++) {
		uint64_t phys = root_entry(&root, i);
		const struct acpi_sdt_header *t = map_table(&w, phys, NULL);

		if (!t)
			continue;
		fn(t, phys, ctx);
		if (!memcmp(t->signature, ACPI_SIG_FADT, 4)) {
			uint64_t dsdt = fadt_dsdt((const struct acpi_fadt *)t);
			const struct acpi_sdt_header *d =
				dsdt ? map_table(&w, dsdt, ACPI_SIG_DSDT) : NULL;

			if (d)
				fn(d, dsdt, ctx);
		}
	}
	return 0;
}

static void parse_dsdt(struct walk *w, const struct acpi_fadt *fadt, struct acpi_info *out)
{
	uint64_t dsdt = fadt_dsdt(fadt);
	const struct acpi_sdt_header *d = dsdt ? map_table(w, dsdt, ACPI_SIG_DSDT) : NULL;

	if (d)
		out->have_s5 = acpi_find_s5((const uint8_t *)(d + 1), d->length - sizeof(*d),
					    &out->s5_slp_typa, &out->s5_slp_typb);
}

static int parse_table(struct walk *w, const struct acpi_sdt_header *t, uint64_t phys,
		       struct acpi_info *out)
{
	if (!memcmp(t->signature, ACPI_SIG_MADT, 4))
		return acpi_parse_madt((const struct acpi_madt *)t, out, w->err, w->errlen);
	if (!memcmp(t->signature, ACPI_SIG_FADT, 4)) {
		if (acpi_parse_fadt((const struct acpi_fadt *)t, out, w->err, w->errlen))
			return -1;
		parse_dsdt(w, (const struct acpi_fadt *)t, out);
	} else if (!memcmp(t->signature, ACPI_SIG_DMAR, 4)) {
		out->dmar_phys = phys;
	} else if (!memcmp(t->signature, ACPI_SIG_MCFG, 4) && !out->mcfg_phys) {
		out->mcfg_phys = phys; /* a bad MCFG costs ECAM, not the boot */
		(void)acpi_parse_mcfg((const struct acpi_mcfg *)t, t->length, out,
				      &out->mcfg_unusable);
	} else if (!memcmp(t->signature, ACPI_SIG_SPCR, 4) && !out->have_spcr) {
		out->have_spcr = true; /* a bad SPCR costs the console choice, not the boot */
		if (acpi_parse_spcr((const struct acpi_spcr *)t, t->length, &out->spcr,
				    &out->spcr_unusable))
			memset(&out->spcr, 0, sizeof(out->spcr));
	}
	return 0;
}

int acpi_parse(const void *rsdp, acpi_map_fn map, struct acpi_info *out, char *err, size_t errlen)
{
	struct walk w = {map, err, errlen};
	const struct acpi_rsdp *r = rsdp;
	struct root root;
	bool have_madt = false;

	memset(out, 0, sizeof(*out));
	if (rsdp_check(r, err, errlen))
		return -1;
	out->revision = r->revision;
	if (map_root(&w, r, &root))
		return -1;
	for (unsigned i = 0; i < root.count; i++) {
		uint64_t phys = root_entry(&root, i);
		const struct acpi_sdt_header *t = map_table(&w, phys, NULL);

		if (!t)
			return -1;
		if (parse_table(&w, t, phys, out))
			return -1;
		have_madt |= !memcmp(t->signature, ACPI_SIG_MADT, 4);
	}
	if (!have_madt) {
		snprintf(err, errlen, "no MADT: the CPUs cannot be found");
		return -1;
	}
	return 0;
}
