/* Four-level, 4-KiB/2-MiB/1-GiB guest page walk (SDM Vol. 3A §4.5, tables
 * 4-15 to 4-20). Access rights are not checked: the CPU already did that for
 * the access that exited. */
#include "arch/x86_64/guest_walk.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_LARGE   (1ull << 7)
#define PTE_ADDR    0x000ffffffffff000ull

int guest_walk(uint64_t cr3, uint64_t gva, guest_read64_fn read, void *ctx, uint64_t *gpa)
{
	uint64_t table = cr3 & PTE_ADDR;

	for (int level = 3; level >= 0; level--) {
		unsigned shift = 12 + 9 * (unsigned)level;
		uint64_t entry;

		if (!read(ctx, table + ((gva >> shift) & 511) * 8, &entry) ||
		    !(entry & PTE_PRESENT))
			return -1;
		/* PS in a PDPTE (level 2) or PDE (level 1) maps a 1 GiB or 2 MiB page */
		if (level == 0 || ((level == 1 || level == 2) && (entry & PTE_LARGE))) {
			uint64_t page_mask = (1ull << shift) - 1;

			*gpa = ((entry & PTE_ADDR) & ~page_mask) | (gva & page_mask);
			return 0;
		}
		table = entry & PTE_ADDR;
	}
	return -1;
}
