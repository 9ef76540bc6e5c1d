/* DMAR parsing (Intel VT-d spec chapter 8): the remapping units, the device
 * scopes each one covers, and the memory regions firmware keeps using for DMA.
 * Pure logic: it reads only the bytes it is handed, so the unit tests and the
 * fuzzer run it on captured and malformed tables. */
#ifndef ARCH_X86_64_VTD_DMAR_H
#define ARCH_X86_64_VTD_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DMAR_MAX_UNITS	8u
#define DMAR_MAX_SCOPES 32u /* per unit or reserved region */
#define DMAR_MAX_PATH	4u  /* bridges crossed from the start bus, plus the device */
#define DMAR_MAX_RMRR	8u
#define DMAR_SCOPE_TEXT 40u /* the longest dmar_format_scope writes */

/* One device scope: a device (or a bridge and everything below it) named by
 * its start bus and a path of (device, function) hops through bridges. */
struct dmar_dev_scope {
	uint8_t type; /* DMAR_SCOPE_* */
	uint8_t enumeration_id;
	uint8_t start_bus;
	uint8_t npath;
	uint8_t path[DMAR_MAX_PATH]; /* devfn: device << 3 | function */
};

struct dmar_unit {
	uint64_t register_base;
	uint64_t register_bytes; /* 2^size pages */
	uint16_t segment;
	bool include_pci_all; /* every device of the segment not in another unit's scope */
	uint32_t nscopes;
	struct dmar_dev_scope scopes[DMAR_MAX_SCOPES];
	uint32_t scopes_ignored; /* beyond DMAR_MAX_SCOPES, or of an unknown type */
};

struct dmar_rmrr_info {
	uint16_t segment;
	uint64_t base, limit;
	uint32_t nscopes;
	struct dmar_dev_scope scopes[DMAR_MAX_SCOPES];
	uint32_t scopes_ignored;
};

struct dmar_info {
	uint8_t host_address_width; /* bits, the table's value plus one */
	bool intr_remap, x2apic_opt_out, dma_ctrl_opt_in;
	uint32_t nunits;
	struct dmar_unit units[DMAR_MAX_UNITS];
	uint32_t units_ignored; /* beyond DMAR_MAX_UNITS */
	uint32_t nrmrr;
	struct dmar_rmrr_info rmrr[DMAR_MAX_RMRR];
	uint32_t rmrr_ignored;
	uint32_t atsr, rhsa, andd, satc, unknown; /* counted, not used */
};

/* Reads a DMAR table of `len` bytes (the caller has checked its checksum and
 * that `len` bytes are readable): 0 with `out` filled, or -1 with a constant
 * string in *why naming the problem; then `out` holds no unit, since a table
 * that is wrong anywhere cannot be trusted to name every device. */
int dmar_parse(const void *table, size_t len, struct dmar_info *out, const char **why);
/* "00:1f.2", "00:1c.0/00.0" (a path through a bridge), "bridge=00:1c.0",
 * "ioapic0=ff:00.0", "hpet0=...", "acpi0=..."; at most DMAR_SCOPE_TEXT bytes. */
void dmar_format_scope(const struct dmar_dev_scope *s, char *buf, size_t len);

#endif
