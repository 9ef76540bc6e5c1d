/* Guest-physical to host-physical page tables, shared by EPT and NPT: both
 * are four-level radix trees of 512 entries; only the entry bits differ.
 * Pure logic over table pages that nested_pt_alloc_table() provides (the
 * kernel's page allocator, or the host test's), so it is host-tested. */
#ifndef ARCH_X86_64_NESTED_PT_H
#define ARCH_X86_64_NESTED_PT_H

#include <stdint.h>

#define NESTED_PT_4K 0x1000ull
#define NESTED_PT_2M 0x200000ull

struct nested_pt_format {
	uint64_t table;	  /* bits of an entry that points to the next level */
	uint64_t leaf_2m; /* bits of a 2 MiB leaf */
	uint64_t leaf_4k; /* bits of a 4 KiB leaf */
};

/* Provided by the environment: a zeroed page for a table (its physical
 * address, 0 when out of memory), and where a table page can be accessed. */
uint64_t nested_pt_alloc_table(void);
uint64_t *nested_pt_table(uint64_t pa);

uint64_t nested_pt_create(void);
/* Maps one page of `size` (NESTED_PT_4K or NESTED_PT_2M), both addresses
 * aligned to it. A 4 KiB page inside a 2 MiB leaf splits the leaf first; a
 * 2 MiB page where 4 KiB pages are is refused. 0, or -1. */
int nested_pt_map(const struct nested_pt_format *f, uint64_t root, uint64_t gpa, uint64_t hpa,
		  uint64_t size);
/* Unmaps one page of `size`, splitting a 2 MiB leaf to unmap 4 KiB of it.
 * The caller flushes the TLBs of the vCPUs that use `root`. 0, or -1. */
int nested_pt_unmap(const struct nested_pt_format *f, uint64_t root, uint64_t gpa, uint64_t size);
/* The host-physical address `gpa` maps to, or -1 when it is not mapped. */
int nested_pt_translate(const struct nested_pt_format *f, uint64_t root, uint64_t gpa,
			uint64_t *hpa);

#endif
