/* Bitmap page allocator. A bitmap costs 32 KiB per GiB and answers "is this
 * page free" exactly, which the boot self-test and the unit tests rely on;
 * allocation scans words from a hint, skipping full words 64 pages at once. */
#include <string.h>

#include "kernel/pmm.h"

#define BITS 64ull

static uint64_t page_up(uint64_t a)
{
	return (a + PMM_PAGE_SIZE - 1) / PMM_PAGE_SIZE;
}

static uint64_t page_down(uint64_t a)
{
	return a / PMM_PAGE_SIZE;
}

static bool bit_get(const struct pmm *p, uint64_t pfn)
{
	return p->bitmap[pfn / BITS] >> (pfn % BITS) & 1;
}

static void bit_set(struct pmm *p, uint64_t pfn, bool free)
{
	if (free)
		p->bitmap[pfn / BITS] |= 1ull << (pfn % BITS);
	else
		p->bitmap[pfn / BITS] &= ~(1ull << (pfn % BITS));
}

/* Marks frames [first, end) free or used, counting only real changes. */
static void mark(struct pmm *p, uint64_t first, uint64_t end, bool free)
{
	if (end > p->npages)
		end = p->npages;
	for (uint64_t pfn = first; pfn < end; pfn++) {
		if (bit_get(p, pfn) == free)
			continue;
		bit_set(p, pfn, free);
		p->free += free ? 1 : (uint64_t)-1;
	}
}

static bool overlaps(const struct pmm_range *r, size_t n, uint64_t base, uint64_t len)
{
	for (size_t i = 0; i < n; i++)
		if (base < r[i].base + r[i].len && r[i].base < base + len)
			return true;
	return false;
}

/* The lowest page-aligned spot of `bytes` inside one usable range that no
 * reserved range touches. */
static uint64_t find_bitmap_home(const struct pmm_range *usable, size_t n_usable,
				 const struct pmm_range *reserved, size_t n_reserved,
				 uint64_t bytes)
{
	for (size_t i = 0; i < n_usable; i++) {
		uint64_t end = page_down(usable[i].base + usable[i].len) * PMM_PAGE_SIZE;
		uint64_t at = page_up(usable[i].base) * PMM_PAGE_SIZE;

		for (at = at ? at : PMM_PAGE_SIZE; at + bytes <= end; at += PMM_PAGE_SIZE)
			if (!overlaps(reserved, n_reserved, at, bytes))
				return at;
	}
	return PMM_NO_MEMORY;
}

static uint64_t count_usable_top(const struct pmm_range *usable, size_t n)
{
	uint64_t top = 0;

	for (size_t i = 0; i < n; i++)
		if (page_down(usable[i].base + usable[i].len) > top)
			top = page_down(usable[i].base + usable[i].len);
	return top;
}

int pmm_init(struct pmm *p, const struct pmm_range *usable, size_t n_usable,
	     const struct pmm_range *reserved, size_t n_reserved, void *(*phys_to_virt)(uint64_t))
{
	uint64_t npages = count_usable_top(usable, n_usable);
	uint64_t bytes = (npages + BITS - 1) / BITS * sizeof(uint64_t);
	uint64_t home = find_bitmap_home(usable, n_usable, reserved, n_reserved, bytes);

	memset(p, 0, sizeof(*p));
	if (home == PMM_NO_MEMORY || !npages)
		return PMM_ERR_NO_ROOM;
	p->bitmap = phys_to_virt(home);
	p->bitmap_phys = home;
	p->npages = npages;
	memset(p->bitmap, 0, bytes);
	for (size_t i = 0; i < n_usable; i++)
		mark(p, page_up(usable[i].base), page_down(usable[i].base + usable[i].len), true);
	mark(p, 0, 1, false);
	p->usable = p->free;
	for (size_t i = 0; i < n_reserved; i++)
		mark(p, page_down(reserved[i].base), page_up(reserved[i].base + reserved[i].len),
		     false);
	mark(p, page_down(home), page_up(home + bytes), false);
	return PMM_OK;
}

static bool run_is_free(const struct pmm *p, uint64_t first, uint64_t npages)
{
	for (uint64_t pfn = first; pfn < first + npages; pfn++)
		if (!bit_get(p, pfn))
			return false;
	return true;
}

/* Scans aligned candidates from `start`; a word with no free bit lets the
 * scan jump 64 frames. */
static uint64_t search(const struct pmm *p, uint64_t start, uint64_t end, uint64_t npages,
		       uint64_t align)
{
	uint64_t pfn = (start + align - 1) & ~(align - 1);

	while (pfn + npages <= end) {
		if (!p->bitmap[pfn / BITS] && align < BITS) {
			pfn = ((pfn / BITS + 1) * BITS + align - 1) & ~(align - 1);
			continue;
		}
		if (run_is_free(p, pfn, npages))
			return pfn;
		pfn += align;
	}
	return PMM_NO_MEMORY;
}

uint64_t pmm_alloc(struct pmm *p, uint64_t npages, uint64_t align_pages)
{
	uint64_t align = align_pages ? align_pages : 1;
	uint64_t pfn;

	if (!npages || (align & (align - 1)) || npages > p->free)
		return PMM_NO_MEMORY;
	pfn = search(p, p->hint * BITS, p->npages, npages, align);
	if (pfn == PMM_NO_MEMORY)
		pfn = search(p, 0, p->npages, npages, align);
	if (pfn == PMM_NO_MEMORY)
		return PMM_NO_MEMORY;
	mark(p, pfn, pfn + npages, false);
	p->hint = (pfn + npages) / BITS;
	return pfn * PMM_PAGE_SIZE;
}

int pmm_free(struct pmm *p, uint64_t phys, uint64_t npages)
{
	uint64_t first = phys / PMM_PAGE_SIZE;

	if (phys % PMM_PAGE_SIZE || !first || first + npages > p->npages || first + npages < first)
		return PMM_ERR_RANGE;
	for (uint64_t pfn = first; pfn < first + npages; pfn++)
		if (bit_get(p, pfn))
			return PMM_ERR_NOT_ALLOCATED;
	mark(p, first, first + npages, true);
	if (first / BITS < p->hint)
		p->hint = first / BITS;
	return PMM_OK;
}

bool pmm_is_free(const struct pmm *p, uint64_t phys)
{
	uint64_t pfn = phys / PMM_PAGE_SIZE;

	return pfn < p->npages && bit_get(p, pfn);
}

uint64_t pmm_free_pages(const struct pmm *p)
{
	return p->free;
}

uint64_t pmm_usable_pages(const struct pmm *p)
{
	return p->usable;
}
