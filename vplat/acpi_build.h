/* The ACPI tables of a VM: RSDP, XSDT, FADT, DSDT, MADT and MCFG that the
 * loader writes into guest RAM, so that Linux finds the vCPUs, the I/O APIC,
 * the PCI host bridge and its ECAM, COM1 and the soft-off register without
 * acpi=off. Pure logic: the tables are built into a caller's buffer that the
 * guest will see at a given guest-physical address.
 *
 * The platform is hardware-reduced (ACPI 6.5 §4.1): no SCI, no PM timer, no
 * PM1 blocks, no 8259; power-off goes through the FADT's sleep registers. */
#ifndef VPLAT_ACPI_BUILD_H
#define VPLAT_ACPI_BUILD_H

#include <stddef.h>
#include <stdint.h>

/* The windows the static DSDT (vplat/dsdt.asl) describes; they are the ones
 * of kernel/vdev.h (VDEV_ECAM_BASE, VDEV_HOLE_BASE, VDEV_HOLE_SIZE). */
#define VACPI_ECAM_BASE	    0xb0000000ull
#define VACPI_ECAM_SIZE	    0x100000ull /* bus 0 only: 32 devices x 8 functions x 4 KiB */
#define VACPI_PCI_MMIO_BASE 0xc0000000ull
#define VACPI_PCI_MMIO_SIZE 0x3ec00000ull /* up to the I/O APIC at 0xfec00000 */

/* Where the loader puts the tables: the BIOS area, which Linux also scans for
 * the RSDP (ACPI 6.5 §5.2.5.1) when the zero page names none. */
#define VACPI_GPA  0xe0000ull
#define VACPI_SIZE 0x20000u

struct vacpi_config {
	uint32_t ncpus;	      /* local APICs, APIC IDs 0..ncpus-1 (x2APIC entries for IDs >= 255) */
	uint64_t ioapic_base; /* 0xfec00000 */
	uint8_t ioapic_id;    /* vacpi_ioapic_id(ncpus) */
	uint64_t ecam_base;   /* VACPI_ECAM_BASE: bus 0 only, 1 MiB */
	uint64_t pci_mmio_base; /* VACPI_PCI_MMIO_BASE */
	uint64_t pci_mmio_size; /* VACPI_PCI_MMIO_SIZE */
	uint16_t sleep_port; /* FADT SLEEP_CONTROL_REG and SLEEP_STATUS_REG (I/O space, 8 bits) */
};

/* The sleep port, as Linux uses it to power off (ACPICA's extended sleep, ACPI
 * 6.5 §4.8.3.7): it first writes WAK_STS (0x80) to clear the status register,
 * then SLP_TYP << 2 | SLP_EN to the control register, 0x34 for \_S5's type 5
 * (VACPI_S5_SLP_TYP); both registers are the one port, so its handler acts on
 * writes with SLP_EN (bit 5) set and ignores the others. A sleep_port of 0
 * makes the registers absent (GAS address 0) and leaves Linux no way to power
 * off. */
#define VACPI_S5_SLP_TYP 5 /* vplat/dsdt.asl's \_S5 */

/* An I/O APIC ID that no vCPU's APIC ID equals, where one exists: ncpus for
 * up to 254 vCPUs. With 255 and more, every 8-bit ID is also an APIC ID (the
 * MADT's I/O APIC ID is one byte, §5.2.12.3) and 0 is returned: x86-64 Linux
 * needs I/O APIC IDs unique only among I/O APICs; the shared ID space was an
 * APIC-bus (pre-xAPIC) constraint. */
uint8_t vacpi_ioapic_id(uint32_t ncpus);

/* Writes RSDP (first, 16-byte aligned, at `gpa`), XSDT, FADT, DSDT, MADT and
 * MCFG into buf, which the guest sees at guest-physical `gpa`; returns the
 * bytes used, or 0 when `size` is too small or the configuration is one these
 * tables cannot describe (no vCPU, `gpa` not 16-byte aligned, an I/O APIC
 * above 4 GiB, PCI windows other than the DSDT's). Nothing is written past `size`; a build that
 * fails leaves no RSDP at `gpa` (the RSDP is written last, over zeroes). */
size_t vacpi_build(uint8_t *buf, size_t size, uint64_t gpa, const struct vacpi_config *cfg);

#endif
