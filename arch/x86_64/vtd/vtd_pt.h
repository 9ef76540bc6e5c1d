/* VT-d second-level page tables (Intel VT-d spec §9.8, §3.7), and the root
 * and context tables that give a device (bus, devfn) its domain (§9.1, §9.3).
 * Pure logic: table pages come from the caller's allocator and are reached
 * through its `virt`, so the unit tests walk the tables on the host. */
#ifndef ARCH_X86_64_VTD_VTD_PT_H
#define ARCH_X86_64_VTD_VTD_PT_H

#include <stdbool.h>
#include <stdint.h>

#define VTD_PERM_R 1u
#define VTD_PERM_W 2u

struct vtd_pt_mem {
	uint64_t (*alloc_page)(void *ctx); /* a zeroed 4 KiB page's address; 0 when out */
	void (*free_page)(void *ctx, uint64_t phys);
	void *(*virt)(void *ctx, uint64_t phys);
	/* writes back entries the unit reads, when its walks do not snoop the
	 * caches (ECAP.C clear); NULL when they do */
	void (*flush)(void *ctx, const void *p, uint64_t len);
	void *ctx;
};

/* One address space for DMA: what its devices may read and write. */
struct vtd_domain {
	const struct vtd_pt_mem *mem;
	uint64_t top;	 /* the top-level table */
	unsigned levels; /* 3, 4 or 5: IOVAs of 39, 48 or 57 bits */
	uint16_t id;
	uint64_t tables; /* table pages held, the top one included */
};

/* 0, or -1 when `levels` is not 3-5 or no page is left. */
int vtd_domain_init(struct vtd_domain *d, const struct vtd_pt_mem *mem, unsigned levels,
		    uint16_t id);
/* Maps the 4 KiB page at `iova` to `hpa` with VTD_PERM_* `perm` (at least
 * one): 0; -1 when an address is unaligned or too wide, `perm` is empty, the
 * page is mapped already, or no table page is left. */
int vtd_map(struct vtd_domain *d, uint64_t iova, uint64_t hpa, unsigned perm);
/* Removes the page at `iova` and frees the tables it leaves empty (never the
 * top one): 0, or -1 when it was not mapped. The caller invalidates the IOTLB. */
int vtd_unmap(struct vtd_domain *d, uint64_t iova);
/* Walks the tables as the hardware does: true with *hpa and *perm when
 * `iova` is mapped. */
bool vtd_translate(const struct vtd_domain *d, uint64_t iova, uint64_t *hpa, unsigned *perm);
/* Frees every table of the domain. */
void vtd_domain_destroy(struct vtd_domain *d);

/* The root table, legacy mode: a context table per bus, on demand. */
struct vtd_root {
	const struct vtd_pt_mem *mem;
	uint64_t phys;
};

int vtd_root_init(struct vtd_root *r, const struct vtd_pt_mem *mem);
/* Points (bus, devfn) at domain `d`: 0, or -1 when no page is left for the
 * bus's context table. The caller invalidates the context cache. */
int vtd_context_set(struct vtd_root *r, uint8_t bus, uint8_t devfn, const struct vtd_domain *d);
void vtd_context_clear(struct vtd_root *r, uint8_t bus, uint8_t devfn);
/* Reads (bus, devfn)'s context entry back: true with its domain id, top
 * table and levels when it is present. */
bool vtd_context_get(const struct vtd_root *r, uint8_t bus, uint8_t devfn, uint16_t *id,
		     uint64_t *top, unsigned *levels);
/* Frees the context tables and the root table. */
void vtd_root_destroy(struct vtd_root *r);

#endif
