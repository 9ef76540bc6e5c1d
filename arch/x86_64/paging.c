/* The direct map beyond the first 4 GiB that entry.S maps. It uses 1 GiB pages
 * where the CPU has them (one PDPT covers 512 GiB) and 2 MiB pages otherwise,
 * from a static pool of page directories so that no allocator is needed yet
 * (Intel SDM Vol. 3A §4.5). Memory-mapped devices are mapped write-back here
 * too: the firmware's MTRRs mark them uncacheable, and UC in an MTRR wins over
 * WB in the page tables (§12.11.4.1). */
#include <stdbool.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/regs.h"

#define PTE_P		0x001ull
#define PTE_W		0x002ull
#define PTE_PS		0x080ull
#define PTE_ADDR	0x000ffffffffff000ull
#define GIB		(1ull << 30)
#define BOOT_MAPPED_END (4 * GIB)
#define PD_POOL_GIB	60 /* without 1 GiB pages: 4 + 60 GiB of direct map */
#define PML4_DIRECT_MAP 256

extern uint64_t boot_pml4[512];
static uint64_t direct_pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t pd_pool[PD_POOL_GIB][512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t direct_map_end = BOOT_MAPPED_END;

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
