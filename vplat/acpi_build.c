/* The VM's ACPI tables laid out one after the other in the caller's buffer:
 * RSDP first (it must be 16-byte aligned, ACPI 6.5 §5.2.5.1), then the XSDT
 * that lists the FADT, MADT and MCFG, and the DSDT the FADT points to. Every
 * table starts on a 16-byte boundary. */
#include <string.h>

#include "vplat/acpi_internal.h"

#define OEM_ID		 "CRVSR "
#define OEM_TABLE_ID	 "COREVISR"
#define OEM_REVISION	 1u
#define CREATOR_ID	 "CRVS"
#define CREATOR_REVISION 1u
#define TABLE_ALIGN	 16u
#define XSDT_ENTRIES	 3u /* FADT, MADT, MCFG; the DSDT is reached through the FADT */

uint8_t vacpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

void *vacpi_alloc(struct vacpi_buf *b, size_t len, uint64_t *gpa)
{
	size_t at = (b->used + TABLE_ALIGN - 1) & ~(size_t)(TABLE_ALIGN - 1);

	if (at > b->size || len > b->size - at)
		return NULL;
	memset(b->base + b->used, 0, at + len - b->used); /* the padding too: no stale bytes */
	b->used = at + len;
	*gpa = b->gpa + at;
	return b->base + at;
}

void vacpi_header(struct acpi_sdt_header *h, const char sig[4], uint32_t len, uint8_t revision)
{
	memcpy(h->signature, sig, sizeof(h->signature));
	h->length = len;
	h->revision = revision;
	memcpy(h->oem_id, OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = OEM_REVISION;
	memcpy(&h->creator_id, CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = CREATOR_REVISION;
}

void vacpi_seal(struct acpi_sdt_header *h)
{
	h->checksum = 0;
	h->checksum = (uint8_t)-vacpi_checksum(h, h->length);
}

uint8_t vacpi_ioapic_id(uint32_t ncpus)
{
	return ncpus <= ACPI_MADT_XAPIC_MAX_ID ? (uint8_t)ncpus : 0;
}

/* The static DSDT describes fixed windows; a configuration with others would
 * give the guest an MCFG and a DSDT that disagree. The MADT's I/O APIC address
 * is 32 bits wide (§5.2.12.3). */
static int config_usable(const struct vacpi_config *cfg, uint64_t gpa)
{
	return cfg->ncpus && !(gpa % ACPI_RSDP_ALIGN) && cfg->ioapic_base <= UINT32_MAX &&
	       cfg->ecam_base == VACPI_ECAM_BASE && cfg->pci_mmio_base == VACPI_PCI_MMIO_BASE &&
	       cfg->pci_mmio_size == VACPI_PCI_MMIO_SIZE;
}

static void write_rsdp(struct acpi_rsdp *r, uint64_t xsdt)
{
	memcpy(r->signature, ACPI_SIG_RSDP, sizeof(r->signature));
	memcpy(r->oem_id, OEM_ID, sizeof(r->oem_id));
	r->revision = ACPI_RSDP_REVISION;
	r->rsdt_address = 0; /* XSDT only: every OS reading revision 2 takes it */
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = (uint8_t)-vacpi_checksum(r, ACPI_RSDP_V1_LENGTH);
	r->extended_checksum = (uint8_t)-vacpi_checksum(r, sizeof(*r));
}

static void write_xsdt(struct acpi_sdt_header *x, const uint64_t entries[XSDT_ENTRIES])
{
	uint32_t len = sizeof(*x) + XSDT_ENTRIES * sizeof(uint64_t);

	vacpi_header(x, ACPI_SIG_XSDT, len, ACPI_XSDT_REVISION);
	memcpy(x + 1, entries, XSDT_ENTRIES * sizeof(uint64_t)); /* unaligned, little-endian */
	vacpi_seal(x);
}

size_t vacpi_build(uint8_t *buf, size_t size, uint64_t gpa, const struct vacpi_config *cfg)
{
	struct vacpi_buf b = {buf, size, 0, gpa};
	uint64_t rsdp_gpa, xsdt_gpa, dsdt, entries[XSDT_ENTRIES];
	struct acpi_rsdp *rsdp;
	struct acpi_sdt_header *xsdt;

	if (!config_usable(cfg, gpa))
		return 0;
	rsdp = vacpi_alloc(&b, sizeof(*rsdp), &rsdp_gpa);
	xsdt = vacpi_alloc(&b, sizeof(*xsdt) + sizeof(entries), &xsdt_gpa);
	if (!rsdp || !xsdt)
		return 0;
	dsdt = vacpi_build_dsdt(&b);
	entries[0] = dsdt ? vacpi_build_fadt(&b, dsdt, cfg) : 0;
	entries[1] = entries[0] ? vacpi_build_madt(&b, cfg) : 0;
	entries[2] = entries[1] ? vacpi_build_mcfg(&b, cfg) : 0;
	if (!entries[2])
		return 0;
	write_xsdt(xsdt, entries);
	write_rsdp(rsdp, xsdt_gpa);
	return b.used;
}
