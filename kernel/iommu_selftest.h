/* A deliberate DMA outside every domain, for the IOMMU's tests
 * (`iommu_selftest` on the command line; kernel/iommu_selftest.c). */
#ifndef KERNEL_IOMMU_SELFTEST_H
#define KERNEL_IOMMU_SELFTEST_H

struct boot_info;

/* Boot CPU, after vtd_init and before the APs; nothing without the option. */
void iommu_selftest_run(const struct boot_info *bi);

#endif
