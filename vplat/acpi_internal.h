/* Shared by the table builders of vplat/acpi_*.c; not for the rest of the
 * hypervisor. */
#ifndef VPLAT_ACPI_INTERNAL_H
#define VPLAT_ACPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vplat/acpi_build.h"
#include "vplat/acpi_regs.h"

/* The caller's buffer as the guest will see it: bytes [0, used) are taken. */
struct vacpi_buf {
	uint8_t *base;
	size_t size;
	size_t used;
	uint64_t gpa; /* guest-physical address of base[0] */
};

/* `len` zeroed bytes at the next 16-byte boundary (the padding before them
 * zeroed too), their guest-physical address in *gpa; NULL when they do not
 * fit, and then nothing is written. */
void *vacpi_alloc(struct vacpi_buf *b, size_t len, uint64_t *gpa);
/* Fills the common header (§5.2.6) with corevisor's OEM identity. */
void vacpi_header(struct acpi_sdt_header *h, const char sig[4], uint32_t len, uint8_t revision);
/* Sets h->checksum so that the table's `length` bytes add up to 0. */
void vacpi_seal(struct acpi_sdt_header *h);
uint8_t vacpi_checksum(const void *p, size_t len);

/* Each writes one table and returns its guest-physical address, or 0 when it
 * does not fit. */
uint64_t vacpi_build_dsdt(struct vacpi_buf *b);
uint64_t vacpi_build_fadt(struct vacpi_buf *b, uint64_t dsdt, const struct vacpi_config *cfg);
uint64_t vacpi_build_madt(struct vacpi_buf *b, const struct vacpi_config *cfg);
uint64_t vacpi_build_mcfg(struct vacpi_buf *b, const struct vacpi_config *cfg);

#endif
