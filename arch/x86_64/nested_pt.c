/* Nested page tables (EPT: SDM Vol. 3C §29.3; NPT: APM Vol. 2 §15.25). */
#include <string.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/nested_pt.h"
#include "kernel/mem.h"

#define ENTRY_ADDR 0x000ffffffffff000ull

uint64_t nested_pt_create(void)
{
	uint64_t root = mem_alloc_pages(1, 1);

	if (root)
		memset(phys_to_virt(root), 0, PAGE_SIZE);
	return root;
}

/* The next-level table under entry `e`, created when missing. */
static uint64_t *next_level(const struct nested_pt_format *f, uint64_t *e)
{
	if (!*e) {
		uint64_t pa = nested_pt_create();

		if (!pa)
			return NULL;
		*e = pa | f->table;
	}
	return phys_to_virt(*e & ENTRY_ADDR);
}

int nested_pt_map_2m(const struct nested_pt_format *f, uint64_t root, uint64_t gpa, uint64_t hpa)
{
	uint64_t *pml4 = phys_to_virt(root), *pdpt, *pd;

	pdpt = next_level(f, &pml4[(gpa >> 39) & 511]);
	pd = pdpt ? next_level(f, &pdpt[(gpa >> 30) & 511]) : NULL;
	if (!pd)
		return -1;
	pd[(gpa >> 21) & 511] = hpa | f->leaf_2m;
	return 0;
}
