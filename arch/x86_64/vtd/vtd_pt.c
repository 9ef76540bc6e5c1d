/* VT-d second-level page tables and the root and context tables (Intel VT-d
 * spec rev 4.1: §9.1 root entry, §9.3 context entry, §9.8 second-level
 * paging entries, §3.7 the walk). The unit reads these tables while we
 * change them, so every entry is written with one 64-bit store, and a
 * 128-bit entry gets its high half before the low half that holds P. */
#include <string.h>

#include "arch/x86_64/vtd/vtd_pt.h"
#include "arch/x86_64/vtd/vtd_regs.h"

#define SL_PRESENT (VTD_SL_R | VTD_SL_W) /* §9.8: an entry with neither is not present */
#define MIN_LEVELS 3u
#define MAX_LEVELS 5u

static volatile uint64_t *table(const struct vtd_pt_mem *m, uint64_t phys)
{
	return m->virt(m->ctx, phys);
}

static void store(const struct vtd_pt_mem *m, volatile uint64_t *e, uint64_t v)
{
	*e = v;
	if (m->flush)
		m->flush(m->ctx, (const void *)e, sizeof(*e));
}

static unsigned index_at(uint64_t iova, unsigned level)
{
	return (unsigned)(iova >> (VTD_PAGE_SHIFT + VTD_LEVEL_SHIFT * (level - 1))) &
	       (VTD_SL_ENTRIES - 1);
}

int vtd_domain_init(struct vtd_domain *d, const struct vtd_pt_mem *mem, unsigned levels,
		    uint16_t id)
{
	*d = (struct vtd_domain){mem, 0, levels, id, 0};
	if (levels < MIN_LEVELS || levels > MAX_LEVELS)
		return -1;
	d->top = mem->alloc_page(mem->ctx);
	if (!d->top)
		return -1;
	d->tables = 1;
	return 0;
}

/* The table below entry `e`, made when it is not there yet; 0 when out. */
static uint64_t next_table(struct vtd_domain *d, volatile uint64_t *e)
{
	uint64_t phys;

	if (*e & SL_PRESENT)
		return *e & VTD_ADDR_MASK;
	phys = d->mem->alloc_page(d->mem->ctx);
	if (!phys)
		return 0;
	d->tables++;
	/* the permissions of every level are ANDed (§3.7.1): tables allow both */
	store(d->mem, e, phys | VTD_SL_R | VTD_SL_W);
	return phys;
}

static bool iova_fits(const struct vtd_domain *d, uint64_t iova)
{
	return !(iova >> (VTD_PAGE_SHIFT + VTD_LEVEL_SHIFT * d->levels));
}

int vtd_map(struct vtd_domain *d, uint64_t iova, uint64_t hpa, unsigned perm)
{
	uint64_t phys = d->top;
	volatile uint64_t *e;

	if (iova & ((1ull << VTD_PAGE_SHIFT) - 1) || !iova_fits(d, iova) || hpa & ~VTD_ADDR_MASK ||
	    !perm || perm & ~(VTD_PERM_R | VTD_PERM_W))
		return -1;
	for (unsigned level = d->levels; level > 1; level--) {
		phys = next_table(d, &table(d->mem, phys)[index_at(iova, level)]);
		if (!phys)
			return -1;
	}
	e = &table(d->mem, phys)[index_at(iova, 1)];
	if (*e & SL_PRESENT)
		return -1;
	store(d->mem, e,
	      hpa | (perm & VTD_PERM_R ? VTD_SL_R : 0) | (perm & VTD_PERM_W ? VTD_SL_W : 0));
	return 0;
}

static bool table_empty(volatile const uint64_t *t)
{
	for (unsigned i = 0; i < VTD_SL_ENTRIES; i++)
		if (t[i] & SL_PRESENT)
			return false;
	return true;
}

int vtd_unmap(struct vtd_domain *d, uint64_t iova)
{
	volatile uint64_t *path[MAX_LEVELS + 1]; /* path[level]: the entry used there */
	uint64_t phys = d->top;

	if (iova & ((1ull << VTD_PAGE_SHIFT) - 1) || !iova_fits(d, iova))
		return -1;
	for (unsigned level = d->levels; level >= 1; level--) {
		path[level] = &table(d->mem, phys)[index_at(iova, level)];
		if (!(*path[level] & SL_PRESENT))
			return -1;
		phys = *path[level] & VTD_ADDR_MASK;
	}
	store(d->mem, path[1], 0);
	/* free each table the removal emptied, bottom up; the top one stays */
	for (unsigned level = 2; level <= d->levels; level++) {
		uint64_t below = *path[level] & VTD_ADDR_MASK;

		if (!table_empty(table(d->mem, below)))
			break;
		store(d->mem, path[level], 0);
		d->mem->free_page(d->mem->ctx, below);
		d->tables--;
	}
	return 0;
}

bool vtd_translate(const struct vtd_domain *d, uint64_t iova, uint64_t *hpa, unsigned *perm)
{
	uint64_t phys = d->top, e = 0, allowed = SL_PRESENT;

	if (!iova_fits(d, iova))
		return false;
	for (unsigned level = d->levels; level >= 1; level--) {
		e = table(d->mem, phys)[index_at(iova, level)];
		allowed &= e;
		if (!(e & SL_PRESENT) || (level > 1 && e & VTD_SL_PS))
			return false;
		phys = e & VTD_ADDR_MASK;
	}
	*hpa = phys | (iova & ((1ull << VTD_PAGE_SHIFT) - 1));
	*perm = (allowed & VTD_SL_R ? VTD_PERM_R : 0) | (allowed & VTD_SL_W ? VTD_PERM_W : 0);
	return true;
}

static void free_tables(const struct vtd_pt_mem *m, uint64_t phys, unsigned level)
{
	if (level > 1) {
		volatile uint64_t *t = table(m, phys);

		for (unsigned i = 0; i < VTD_SL_ENTRIES; i++)
			if (t[i] & SL_PRESENT)
				free_tables(m, t[i] & VTD_ADDR_MASK, level - 1);
	}
	m->free_page(m->ctx, phys);
}

void vtd_domain_destroy(struct vtd_domain *d)
{
	if (d->top)
		free_tables(d->mem, d->top, d->levels);
	d->top = 0;
	d->tables = 0;
}

/* --- root and context tables --------------------------------------------- */

int vtd_root_init(struct vtd_root *r, const struct vtd_pt_mem *mem)
{
	r->mem = mem;
	r->phys = mem->alloc_page(mem->ctx);
	return r->phys ? 0 : -1;
}

/* Bus `bus`'s context table: its 128-bit entries as pairs of qwords. */
static volatile uint64_t *context_table(const struct vtd_root *r, uint8_t bus, bool make)
{
	volatile uint64_t *root = &table(r->mem, r->phys)[2 * bus];
	uint64_t phys;

	if (*root & VTD_ROOT_P)
		return table(r->mem, *root & VTD_ADDR_MASK);
	if (!make || !(phys = r->mem->alloc_page(r->mem->ctx)))
		return NULL;
	store(r->mem, &root[1], 0);
	store(r->mem, &root[0], phys | VTD_ROOT_P);
	return table(r->mem, phys);
}

int vtd_context_set(struct vtd_root *r, uint8_t bus, uint8_t devfn, const struct vtd_domain *d)
{
	volatile uint64_t *ctx = context_table(r, bus, true);

	if (!ctx)
		return -1;
	ctx += 2 * devfn;
	store(r->mem, &ctx[0], 0); /* not present while it changes */
	store(r->mem, &ctx[1], VTD_CTX_AW(d->levels) | (uint64_t)d->id << VTD_CTX_DID_SHIFT);
	store(r->mem, &ctx[0], d->top | VTD_CTX_TT_SL | VTD_CTX_P);
	return 0;
}

void vtd_context_clear(struct vtd_root *r, uint8_t bus, uint8_t devfn)
{
	volatile uint64_t *ctx = context_table(r, bus, false);

	if (!ctx)
		return;
	store(r->mem, &ctx[2 * devfn], 0);
	store(r->mem, &ctx[2 * devfn + 1], 0);
}

bool vtd_context_get(const struct vtd_root *r, uint8_t bus, uint8_t devfn, uint16_t *id,
		     uint64_t *top, unsigned *levels)
{
	volatile uint64_t *ctx = context_table(r, bus, false);

	if (!ctx || !(ctx[2 * devfn] & VTD_CTX_P))
		return false;
	*top = ctx[2 * devfn] & VTD_ADDR_MASK;
	*id = (uint16_t)((ctx[2 * devfn + 1] >> VTD_CTX_DID_SHIFT) & VTD_CTX_DID_MASK);
	*levels = (unsigned)(ctx[2 * devfn + 1] & VTD_CTX_AW_MASK) + 2;
	return true;
}

void vtd_root_destroy(struct vtd_root *r)
{
	volatile uint64_t *root;

	if (!r->phys)
		return;
	root = table(r->mem, r->phys);
	for (unsigned bus = 0; bus < VTD_ROOT_ENTRIES; bus++)
		if (root[2 * bus] & VTD_ROOT_P)
			r->mem->free_page(r->mem->ctx, root[2 * bus] & VTD_ADDR_MASK);
	r->mem->free_page(r->mem->ctx, r->phys);
	r->phys = 0;
}
