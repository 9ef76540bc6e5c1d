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
/* Zeroed pages for `bytes` (whole pages), as a pointer into the direct map;
 * NULL when out of memory. For state sized by what the manifest asks for,
 * which the build's limits would make too large to be static. */
void *mem_zalloc(uint64_t bytes);
/* Zeroed memory for a small object (up to a page) that lives as long as the
 * hypervisor: carved out of pages, 64-byte aligned, never freed. */
void *mem_alloc_object(uint64_t bytes);
void mem_get_stats(struct mem_stats *s);
/* Allocates, checks and frees pages: none may overlap a reserved range, each
 * must hold what is written to it, and every page must come back. */
bool mem_selftest(const struct boot_info *bi, const char **why);

#endif
