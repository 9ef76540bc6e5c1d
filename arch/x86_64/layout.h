/* The hypervisor's virtual address space (documented in docs/architecture.md).
 *
 *   0xffffffff80000000  KERNEL_VMA: the image, linked here (-mcmodel=kernel),
 *                       mapping physical 0..1 GiB with 2 MiB pages: the image
 *                       (.bss included) must end below 1 GiB (linker.ld)
 *   0xffffff0000000000  DEVICE_WINDOW_BASE: 2 MiB of uncached device registers
 *                       the hypervisor drives (paging_map_device)
 *   0xffff800000000000  DIRECT_MAP_BASE: all physical memory, 1:1 offset
 *   0x0000000000000000  identity map of the first 4 GiB, only while booting
 *                       (the APs' trampoline needs it); removed afterwards
 */
#ifndef ARCH_X86_64_LAYOUT_H
#define ARCH_X86_64_LAYOUT_H

#define KERNEL_VMA	   0xffffffff80000000
#define KERNEL_PHYS	   0x00200000
#define DIRECT_MAP_BASE	   0xffff800000000000
#define DEVICE_WINDOW_BASE 0xffffff0000000000
#define PAGE_SIZE	   4096
#define BOOT_STACK_SIZE	   16384

#ifndef __ASSEMBLY__
#include <stdint.h>

static inline void *phys_to_virt(uint64_t phys)
{
	return (void *)(uintptr_t)(phys + DIRECT_MAP_BASE);
}

static inline uint64_t virt_to_phys(const void *virt)
{
	uintptr_t v = (uintptr_t)virt;

	return v >= KERNEL_VMA ? v - KERNEL_VMA : v - DIRECT_MAP_BASE;
}
#endif

#endif
