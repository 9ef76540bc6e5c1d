/* The DMA Remapping Reporting table (Intel VT-d spec, rev 4.1, chapter 8):
 * after the ACPI header, the host address width and flags, then remapping
 * structures one after another, each starting with a 16-bit type and a
 * 16-bit length. Only what corevisor reads. */
#ifndef ARCH_X86_64_VTD_DMAR_TABLES_H
#define ARCH_X86_64_VTD_DMAR_TABLES_H

#include <stdint.h>

#include "drivers/acpi_tables.h"

struct dmar_table { /* §8.1 */
	struct acpi_sdt_header header;
	uint8_t host_address_width; /* the DMA physical address width, minus one */
	uint8_t flags;
	uint8_t reserved[10];
} __attribute__((packed));

#define DMAR_FLAG_INTR_REMAP	  (1u << 0)
#define DMAR_FLAG_X2APIC_OPT_OUT  (1u << 1)
#define DMAR_FLAG_DMA_CTRL_OPT_IN (1u << 2)

struct dmar_struct_header { /* §8.2: every remapping structure starts so */
	uint16_t type;
	uint16_t length;
} __attribute__((packed));

#define DMAR_TYPE_DRHD 0 /* DMA remapping hardware unit, §8.3 */
#define DMAR_TYPE_RMRR 1 /* reserved memory region, §8.4 */
#define DMAR_TYPE_ATSR 2 /* root port ATS capability, §8.5 */
#define DMAR_TYPE_RHSA 3 /* remapping hardware static affinity, §8.6 */
#define DMAR_TYPE_ANDD 4 /* ACPI name-space device declaration, §8.7 */
#define DMAR_TYPE_SATC 5 /* SoC integrated address translation cache, §8.8 */

struct dmar_drhd { /* §8.3 */
	struct dmar_struct_header h;
	uint8_t flags;
	uint8_t size; /* bits 3:0: the register set is 2^N pages */
	uint16_t segment;
	uint64_t register_base;
	/* device scopes follow */
} __attribute__((packed));

#define DMAR_DRHD_INCLUDE_PCI_ALL (1u << 0)
#define DMAR_DRHD_SIZE_MASK	  0x0fu

struct dmar_rmrr { /* §8.4 */
	struct dmar_struct_header h;
	uint16_t reserved;
	uint16_t segment;
	uint64_t base;
	uint64_t limit; /* the last byte, inclusive */
			/* device scopes follow */
} __attribute__((packed));

struct dmar_scope { /* §8.3.1 */
	uint8_t type;
	uint8_t length; /* 6 + 2 bytes per path entry */
	uint8_t flags;
	uint8_t reserved;
	uint8_t enumeration_id; /* I/O APIC id, HPET number, ACPI device number */
	uint8_t start_bus;
	/* path: (device, function) byte pairs follow */
} __attribute__((packed));

#define DMAR_SCOPE_ENDPOINT  1 /* a PCI endpoint device */
#define DMAR_SCOPE_BRIDGE    2 /* a PCI-PCI bridge and all below it */
#define DMAR_SCOPE_IOAPIC    3
#define DMAR_SCOPE_HPET	     4
#define DMAR_SCOPE_NAMESPACE 5 /* an ACPI name-space device (ANDD) */

#endif
