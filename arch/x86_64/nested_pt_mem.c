/* Table pages of the nested page tables come from the page allocator and are
 * reached through the direct map. */
#include <string.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/nested_pt.h"
#include "kernel/mem.h"

uint64_t nested_pt_alloc_table(void)
{
	uint64_t pa = mem_alloc_pages(1, 1);

	if (pa)
		memset(phys_to_virt(pa), 0, PAGE_SIZE);
	return pa;
}

uint64_t *nested_pt_table(uint64_t pa)
{
	return phys_to_virt(pa);
}
