/* The direct map beyond the first 4 GiB that entry.S maps. It uses 1 GiB pages
 * where the CPU has them (one PDPT covers 512 GiB) and 2 MiB pages otherwise,
 * from a static pool of page directories so that no allocator is needed yet
 * (Intel SDM Vol. 3A §4.5). Memory-mapped devices are mapped write-back here
 * too: the firmware's MTRRs mark them uncacheable, and UC in an MTRR wins over
 * WB in the page tables (§12.11.4.1). Registers the hypervisor drives itself
 * (an MMIO console UART) get an uncached mapping of their own in the device
 * window, which does not depend on the MTRRs (§12.12.3: PCD+PWT select PAT
 * entry 3, UC at reset). */
#include <stdbool.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/regs.h"

#define PTE_P		0x001ull
#define PTE_W		0x002ull
#define PTE_PWT		0x008ull
#define PTE_PCD		0x010ull
#define PTE_PS		0x080ull
#define PTE_ADDR	0x000ffffffffff000ull
#define GIB		(1ull << 30)
#define BOOT_MAPPED_END (4 * GIB)
#define PD_POOL_GIB	60 /* without 1 GiB pages: 4 + 60 GiB of direct map */
#define PML4_DIRECT_MAP 256
#define PML4_DEVICE	510 /* DEVICE_WINDOW_BASE */

extern uint64_t boot_pml4[512];
static uint64_t direct_pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t pd_pool[PD_POOL_GIB][512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t direct_map_end = BOOT_MAPPED_END;
/* The device window: one page table, 512 pages of uncached device registers. */
static uint64_t device_pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t device_pd[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t device_pt[512] __attribute__((aligned(PAGE_SIZE)));
static unsigned device_pages_used;

static uint64_t table_entry(const void *table)
{
	return virt_to_phys(table) | PTE_P | PTE_W;
}

/* The first PDPT of the direct map is the boot PDPT (PML4[256]); copy its
 * four entries into our own, writable, full-size one. */
static void direct_map_take_over(void)
{
	const uint64_t *boot_pdpt = phys_to_virt(boot_pml4[PML4_DIRECT_MAP] & PTE_ADDR);

	if (boot_pml4[PML4_DIRECT_MAP] == table_entry(direct_pdpt))
		return;
	memcpy(direct_pdpt, boot_pdpt, 4 * sizeof(uint64_t));
	boot_pml4[PML4_DIRECT_MAP] = table_entry(direct_pdpt);
}

uint64_t paging_extend_direct_map(uint64_t end)
{
	bool huge = cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_PDPE1GB;
	uint64_t limit = huge ? 512 * GIB : BOOT_MAPPED_END + PD_POOL_GIB * GIB;

	if (end > limit)
		end = limit;
	if (end <= direct_map_end)
		return direct_map_end;
	direct_map_take_over();
	for (uint64_t gib = direct_map_end / GIB; gib * GIB < end; gib++) {
		uint64_t *pd;

		if (huge) {
			direct_pdpt[gib] = (gib * GIB) | PTE_P | PTE_W | PTE_PS;
			continue;
		}
		pd = pd_pool[gib - BOOT_MAPPED_END / GIB];
		for (int i = 0; i < 512; i++)
			pd[i] = (gib * GIB + ((uint64_t)i << 21)) | PTE_P | PTE_W | PTE_PS;
		direct_pdpt[gib] = table_entry(pd);
	}
	direct_map_end = (end + GIB - 1) & ~(GIB - 1);
	write_cr3(read_cr3());
	return direct_map_end;
}

uint64_t paging_direct_map_end(void)
{
	return direct_map_end;
}

void paging_drop_identity_map(void)
{
	boot_pml4[0] = 0;
	write_cr3(read_cr3());
}

void *paging_map_device(uint64_t phys, uint64_t len)
{
	uint64_t first = phys & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t pages = (phys + len - first + PAGE_SIZE - 1) / PAGE_SIZE;
	void *virt;

	if (!len || phys + len < phys || (phys + len - 1) > PTE_ADDR ||
	    pages > 512 - device_pages_used)
		return NULL;
	if (!boot_pml4[PML4_DEVICE]) {
		device_pd[0] = table_entry(device_pt);
		device_pdpt[0] = table_entry(device_pd);
		boot_pml4[PML4_DEVICE] = table_entry(device_pdpt);
	}
	virt = (void *)(uintptr_t)(DEVICE_WINDOW_BASE + (uint64_t)device_pages_used * PAGE_SIZE +
				   (phys - first));
	for (uint64_t i = 0; i < pages; i++) /* new entries: nothing to flush */
		device_pt[device_pages_used++] =
			(first + i * PAGE_SIZE) | PTE_P | PTE_W | PTE_PCD | PTE_PWT;
	return virt;
}
