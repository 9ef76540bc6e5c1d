/* What the VM's ACPI tables hold beyond drivers/acpi_tables.h (which has the
 * fields the hypervisor reads from its own firmware): the rest of the ACPI 6
 * FADT, the MCFG, and the flag and register bits, named after ACPI 6.5 and
 * the PCI Firmware Specification 3.2. */
#ifndef VPLAT_ACPI_REGS_H
#define VPLAT_ACPI_REGS_H

#include <stdint.h>

#include "drivers/acpi_tables.h"

/* Table revisions written (ACPI 6.5 §5.2): the FADT of ACPI 6.5 is revision
 * 6, minor 5; MADT revision 5 is ACPI 6.3's, the first with online-capable. */
#define ACPI_RSDP_REVISION	2
#define ACPI_XSDT_REVISION	1
#define ACPI_FADT_REVISION	6
#define ACPI_FADT_MINOR_VERSION 5
#define ACPI_MADT_REVISION	5
#define ACPI_MCFG_REVISION	1
#define ACPI_RSDP_ALIGN		16 /* §5.2.5.1: on a 16-byte boundary */

/* FADT Fixed Feature Flags (§5.2.9, Table 5.10). */
#define ACPI_FADT_PWR_BUTTON	  (1u << 4)  /* no fixed power button */
#define ACPI_FADT_SLP_BUTTON	  (1u << 5)  /* no fixed sleep button */
#define ACPI_FADT_HEADLESS	  (1u << 12) /* no local video or input devices */
#define ACPI_FADT_HW_REDUCED_ACPI (1u << 20)

/* FADT IA-PC Boot Architecture Flags (§5.2.9.3, Table 5.11). An unset
 * LEGACY_DEVICES (bit 0) and 8042 (bit 1) say there are neither. */
#define ACPI_IAPC_VGA_NOT_PRESENT      (1u << 2)
#define ACPI_IAPC_MSI_NOT_SUPPORTED    (1u << 3)
#define ACPI_IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

/* Sleep Control and Sleep Status Registers of hardware-reduced platforms
 * (§4.8.3.7): the OS writes SLP_TYP (from \_Sx) and SLP_EN to enter a state. */
#define ACPI_SLEEP_CTL_SLP_TYP_SHIFT 2
#define ACPI_SLEEP_CTL_SLP_TYP_MASK  (7u << ACPI_SLEEP_CTL_SLP_TYP_SHIFT)
#define ACPI_SLEEP_CTL_SLP_EN	     (1u << 5)
#define ACPI_SLEEP_STS_WAK_STS	     (1u << 7)

/* The FADT from ACPI 2.0 to 6.5 (§5.2.9, Table 5.9): drivers/acpi_tables.h's
 * part up to X_DSDT, then the 64-bit register blocks, the sleep registers and
 * the hypervisor vendor identity. 276 bytes. */
struct acpi_fadt6 {
	struct acpi_fadt base;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char hypervisor_vendor_id[8];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_fadt) == 148, "FADT up to X_DSDT is 148 bytes (Table 5.9)");
_Static_assert(sizeof(struct acpi_fadt6) == 276, "ACPI 6 FADT is 276 bytes (Table 5.9)");

/* MCFG: struct acpi_mcfg and acpi_mcfg_alloc, as the host parser reads them
 * (drivers/acpi_tables.h). */

/* ACPI 6.5 §5.2.12.12: x2APIC entries are for IDs the 8-bit entry cannot
 * hold; 0xff is the xAPIC broadcast ID, so it is no CPU's in a type-0 entry. */
#define ACPI_MADT_XAPIC_MAX_ID 0xfeu

#endif
