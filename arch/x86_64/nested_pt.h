/* Guest-physical to host-physical page tables, shared by EPT and NPT: both
 * are four-level radix trees of 512 entries; only the entry bits differ. */
#ifndef ARCH_X86_64_NESTED_PT_H
#define ARCH_X86_64_NESTED_PT_H

#include <stdint.h>

struct nested_pt_format {
	uint64_t table;	  /* bits of an entry that points to the next level */
	uint64_t leaf_2m; /* bits of a 2 MiB leaf */
};

uint64_t nested_pt_create(void);
int nested_pt_map_2m(const struct nested_pt_format *f, uint64_t root, uint64_t gpa, uint64_t hpa);

#endif
