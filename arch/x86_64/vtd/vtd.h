/* The machine's VT-d remapping units (issue 11, point 4): found from the ACPI
 * DMAR table at boot, each given a root table and its translation enabled,
 * so that no device can DMA anywhere until a driver maps its buffers. */
#ifndef ARCH_X86_64_VTD_VTD_H
#define ARCH_X86_64_VTD_VTD_H

struct acpi_info;
struct boot_info;

/* Boot CPU, after ACPI and host PCI and before the APs: reports one @iommu
 * record per unit, or one @dma_unprotected record when DMA stays
 * unprotected (no DMAR table, a malformed one, iommu=off). */
void vtd_init(const struct acpi_info *acpi, const struct boot_info *bi);
/* Reports and clears the faults the units recorded since the last call, as
 * @iommu_fault records. Any CPU; callers are serialized inside. */
void vtd_check_faults(void);

#endif
