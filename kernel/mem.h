/* Physical memory for the rest of the hypervisor: the page allocator behind a
 * lock, set up from the boot memory map. */
#ifndef KERNEL_MEM_H
#define KERNEL_MEM_H

#include <stdbool.h>
#include <stdint.h>

struct boot_info;

struct mem_stats {
	uint64_t usable_bytes;	 /* RAM the firmware lists as available */
	uint64_t reserved_bytes; /* of that, held by the hypervisor, loader, modules */
	uint64_t free_pages;
	unsigned regions;
};

/* Returns NULL or the reason the allocator could not be set up. */
const char *mem_init(const struct boot_info *bi);
uint64_t mem_alloc_pages(uint64_t npages, uint64_t align_pages); /* 0 when out of memory */
void mem_free_pages(uint64_t phys, uint64_t npages);
void mem_get_stats(struct mem_stats *s);
/* Allocates, checks and frees pages: none may overlap a reserved range, each
 * must hold what is written to it, and every page must come back. */
bool mem_selftest(const struct boot_info *bi, const char **why);

#endif
