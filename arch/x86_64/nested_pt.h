/* Guest-physical to host-physical page tables, shared by EPT and NPT: both
 * are four-level radix trees of 512 entries; only the entry bits differ.
 * Pure logic over table pages that nested_pt_alloc_table() provides (the
 * kernel's page allocator, or the host test's), so it is host-tested. */
#ifndef ARCH_X86_64_NESTED_PT_H
#define ARCH_X86_64_NESTED_PT_H

#include <stdbool.h>
#include <stdint.h>

#define NESTED_PT_4K 0x1000ull
#define NESTED_PT_2M 0x200000ull
/* The write-permission bit, the same in both formats (EPT: W, SDM Vol. 3C
 * §29.3.2; NPT: R/W of a long-mode entry, APM Vol. 2 §5.3). */
#define NESTED_PT_WRITE 0x2ull
/* A directory entry that maps a 2 MiB page, in both formats (EPT bit 7,
 * SDM Vol. 3C §29.3.2; NPT PS, APM Vol. 2 §5.3.4). The CPU sets accessed and
 * dirty bits in entries, so an entry's kind is read from this bit alone. */
#define NESTED_PT_LARGE 0x80ull
/* A clone's own tables: its root, and a PDPT, PD and PT for each of up to
 * two cloned pages. */
#define NESTED_PT_CLONE_TABLES 7

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

/* A vCPU's private view of a VM's tables (exitless delivery's shadow IDT,
 * vio/exitless.h): its own root and its own copies of the tables on the
 * paths to a few pages, sharing every other table with the VM's root. The
 * tables are allocated once and reused at every rebuild. */
struct nested_pt_clone {
	uint64_t tables[NESTED_PT_CLONE_TABLES]; /* [0]: the root */
	unsigned used;
};

/* Makes the 4 KiB page at `gpa` read-only (or writable again) in `root`,
 * splitting a 2 MiB leaf. The caller flushes. 0, or -1 when not mapped. */
int nested_pt_set_writable(const struct nested_pt_format *f, uint64_t root, uint64_t gpa,
			   bool writable);
/* Rebuilds `c` as `base` with the 4 KiB pages gpa[i] mapped read-only to
 * hpa[i] instead (n at most 2). 0, or -1 (out of memory, or a page that
 * `base` does not map). */
int nested_pt_clone(const struct nested_pt_format *f, struct nested_pt_clone *c, uint64_t base,
		    const uint64_t *gpa, const uint64_t *hpa, unsigned n);

#endif
