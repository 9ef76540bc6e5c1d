/* Physical page allocator: one bit per 4 KiB page frame from address 0 to the
 * top of usable memory. Pure logic (it also builds on the host): the caller
 * passes the memory map and a way to reach physical memory, and serializes
 * calls. */
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PMM_PAGE_SIZE 4096ull
#define PMM_NO_MEMORY (~0ull)

struct pmm_range {
	uint64_t base, len;
};

struct pmm {
	uint64_t *bitmap;     /* bit set = page free */
	uint64_t npages;      /* frames covered by the bitmap */
	uint64_t usable;      /* frames the memory map lists as usable */
	uint64_t free;	      /* frames free now */
	uint64_t hint;	      /* a word index to start searching at */
	uint64_t bitmap_phys; /* where the bitmap itself lives */
};

enum pmm_status {
	PMM_OK = 0,
	PMM_ERR_NO_ROOM = -1, /* no usable place for the bitmap */
	PMM_ERR_RANGE = -2,   /* an address outside the managed memory */
	PMM_ERR_NOT_ALLOCATED = -3,
};

/* Builds the allocator: usable ranges are rounded inward to pages, reserved
 * ones outward; reserved wins where they overlap; page 0 is never handed out.
 * The bitmap is placed in usable memory that nothing reserves, and reserved. */
int pmm_init(struct pmm *p, const struct pmm_range *usable, size_t n_usable,
	     const struct pmm_range *reserved, size_t n_reserved, void *(*phys_to_virt)(uint64_t));
/* `npages` contiguous pages whose first frame number is a multiple of
 * `align_pages` (a power of two); PMM_NO_MEMORY when there is no such run. */
uint64_t pmm_alloc(struct pmm *p, uint64_t npages, uint64_t align_pages);
/* Frees pages; a page that is not allocated (double free) or outside the
 * managed memory is an error and nothing is changed. */
int pmm_free(struct pmm *p, uint64_t phys, uint64_t npages);
bool pmm_is_free(const struct pmm *p, uint64_t phys);
uint64_t pmm_free_pages(const struct pmm *p);
uint64_t pmm_usable_pages(const struct pmm *p);

#endif
