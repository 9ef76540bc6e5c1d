/* The physical page allocator of the hypervisor, fed by the boot memory map. */
#include <string.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "kernel/bootinfo.h"
#include "kernel/mem.h"
#include "kernel/pmm.h"
#include "kernel/spinlock.h"

#define SELFTEST_PAGES 64
#define OBJECT_ALIGN   64 /* mem_alloc_object: a cache line each */
/* Below 1 MiB live the BIOS data, the EBDA, option ROMs and the APs' start-up
 * page: the allocator leaves all of it alone. */
#define LOW_MEMORY_END 0x100000

static struct pmm pmm;
static struct spinlock pmm_lock = SPINLOCK_INIT;

static void *direct_map(uint64_t phys)
{
	return phys_to_virt(phys);
}

const char *mem_init(const struct boot_info *bi)
{
	struct pmm_range usable[BOOT_MAX_RANGES], reserved[BOOT_MAX_RANGES + 1];
	uint64_t top = 0;

	for (unsigned i = 0; i < bi->n_usable; i++) {
		usable[i] = (struct pmm_range){bi->usable[i].base, bi->usable[i].len};
		if (usable[i].base + usable[i].len > top)
			top = usable[i].base + usable[i].len;
	}
	for (unsigned i = 0; i < bi->n_reserved; i++)
		reserved[i] = (struct pmm_range){bi->reserved[i].base, bi->reserved[i].len};
	reserved[bi->n_reserved] = (struct pmm_range){0, LOW_MEMORY_END};
	/* Memory the direct map cannot reach is left out of the allocator. */
	top = paging_extend_direct_map(top);
	for (unsigned i = 0; i < bi->n_usable; i++)
		if (usable[i].base + usable[i].len > top)
			usable[i].len = usable[i].base < top ? top - usable[i].base : 0;
	if (pmm_init(&pmm, usable, bi->n_usable, reserved, bi->n_reserved + 1, direct_map))
		return "no room for the page allocator's bitmap in usable memory";
	return NULL;
}

uint64_t mem_alloc_pages(uint64_t npages, uint64_t align_pages)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);
	uint64_t phys = pmm_alloc(&pmm, npages, align_pages);

	spin_unlock_irqrestore(&pmm_lock, flags);
	return phys == PMM_NO_MEMORY ? 0 : phys;
}

void mem_free_pages(uint64_t phys, uint64_t npages)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);

	pmm_free(&pmm, phys, npages);
	spin_unlock_irqrestore(&pmm_lock, flags);
}

void *mem_zalloc(uint64_t bytes)
{
	uint64_t pages = bytes ? (bytes + PAGE_SIZE - 1) / PAGE_SIZE : 1;
	uint64_t phys = mem_alloc_pages(pages, 1);

	return phys ? memset(phys_to_virt(phys), 0, pages * PAGE_SIZE) : NULL;
}

void *mem_alloc_object(uint64_t bytes)
{
	static uint8_t *chunk;
	static uint64_t used = PAGE_SIZE;
	static struct spinlock lock = SPINLOCK_INIT;
	uint64_t size = (bytes + OBJECT_ALIGN - 1) & ~(OBJECT_ALIGN - 1), flags;
	void *p = NULL;

	if (!size || size > PAGE_SIZE)
		return NULL;
	flags = spin_lock_irqsave(&lock);
	if (used + size > PAGE_SIZE) {
		uint8_t *next = mem_zalloc(PAGE_SIZE);

		if (next) {
			chunk = next;
			used = 0;
		}
	}
	if (used + size <= PAGE_SIZE) {
		p = chunk + used;
		used += size;
	}
	spin_unlock_irqrestore(&lock, flags);
	return p;
}

void mem_get_stats(struct mem_stats *s)
{
	uint64_t flags = spin_lock_irqsave(&pmm_lock);

	s->usable_bytes = pmm_usable_pages(&pmm) * PAGE_SIZE;
	s->free_pages = pmm_free_pages(&pmm);
	s->reserved_bytes = s->usable_bytes - s->free_pages * PAGE_SIZE;
	s->regions = boot_info.n_usable;
	spin_unlock_irqrestore(&pmm_lock, flags);
}

static bool overlaps_reserved(const struct boot_info *bi, uint64_t phys, uint64_t len)
{
	for (unsigned i = 0; i < bi->n_reserved; i++) {
		const struct boot_range *r = &bi->reserved[i];

		if (phys < r->base + r->len && r->base < phys + len)
			return true;
	}
	return false;
}

/* The highest free page must be reachable through the direct map: a map that
 * stops short of the top of RAM faults here, at boot, not in a guest later. */
static bool top_page_reachable(void)
{
	for (uint64_t pfn = pmm.npages; pfn-- > 0;) {
		volatile uint64_t *p;

		if (!pmm_is_free(&pmm, pfn * PAGE_SIZE))
			continue;
		p = phys_to_virt(pfn * PAGE_SIZE);
		*p = pfn;
		return *p == pfn;
	}
	return false;
}

/* Takes pages one by one plus one 2 MiB-aligned block, writes a pattern that
 * names each page, checks it reads back, and gives everything back. */
bool mem_selftest(const struct boot_info *bi, const char **why)
{
	uint64_t pages[SELFTEST_PAGES], before = pmm_free_pages(&pmm), block;
	struct mem_stats s;

	if (!top_page_reachable()) {
		*why = "the highest free page does not hold what is written to it";
		return false;
	}

	for (int i = 0; i < SELFTEST_PAGES; i++) {
		pages[i] = mem_alloc_pages(1, 1);
		if (!pages[i] || overlaps_reserved(bi, pages[i], PAGE_SIZE)) {
			*why = pages[i] ? "allocator handed out a reserved page" : "out of memory";
			return false;
		}
		memset(phys_to_virt(pages[i]), i + 1, PAGE_SIZE);
	}
	block = mem_alloc_pages(512, 512);
	if (!block || (block & 0x1fffff) || overlaps_reserved(bi, block, 512 * PAGE_SIZE)) {
		*why = "2 MiB-aligned block allocation failed";
		return false;
	}
	for (int i = 0; i < SELFTEST_PAGES; i++) {
		const uint8_t *p = phys_to_virt(pages[i]);

		if (p[0] != (uint8_t)(i + 1) || p[PAGE_SIZE - 1] != (uint8_t)(i + 1)) {
			*why = "two allocations share a page";
			return false;
		}
		mem_free_pages(pages[i], 1);
	}
	mem_free_pages(block, 512);
	mem_get_stats(&s);
	*why = s.free_pages == before ? NULL : "pages were lost";
	return s.free_pages == before;
}
