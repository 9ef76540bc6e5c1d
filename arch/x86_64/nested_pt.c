/* Nested page tables (EPT: SDM Vol. 3C §29.3; NPT: APM Vol. 2 §15.25). */
#include <stdbool.h>
#include <stddef.h>

#include "arch/x86_64/nested_pt.h"

#define ENTRY_ADDR  0x000ffffffffff000ull
#define ENTRIES	    512
#define INDEX(a, s) (((a) >> (s)) & (ENTRIES - 1))

uint64_t nested_pt_create(void)
{
	return nested_pt_alloc_table();
}

static bool is_leaf_2m(const struct nested_pt_format *f, uint64_t e)
{
	(void)f;
	return e & NESTED_PT_LARGE;
}

/* The next-level table under entry `e`, created when missing and `create`. */
static uint64_t *next_level(const struct nested_pt_format *f, uint64_t *e, bool create)
{
	if (!*e) {
		uint64_t pa = create ? nested_pt_alloc_table() : 0;

		if (!pa)
			return NULL;
		*e = pa | f->table;
	}
	return nested_pt_table(*e & ENTRY_ADDR);
}

static uint64_t *page_directory(const struct nested_pt_format *f, uint64_t root, uint64_t gpa,
				bool create)
{
	uint64_t *pml4 = nested_pt_table(root), *pdpt;

	pdpt = next_level(f, &pml4[INDEX(gpa, 39)], create);
	return pdpt ? next_level(f, &pdpt[INDEX(gpa, 30)], create) : NULL;
}

/* Replaces a 2 MiB leaf by a table of the 512 4 KiB leaves it stood for. */
static uint64_t *split_2m(const struct nested_pt_format *f, uint64_t *pde)
{
	uint64_t base = *pde & ENTRY_ADDR, pa = nested_pt_alloc_table();
	uint64_t *pt;

	if (!pa)
		return NULL;
	pt = nested_pt_table(pa);
	for (uint64_t i = 0; i < ENTRIES; i++)
		pt[i] = (base + i * NESTED_PT_4K) | f->leaf_4k;
	*pde = pa | f->table;
	return pt;
}

/* The page table for `gpa`'s 4 KiB entry, split or created as needed. */
static uint64_t *page_table(const struct nested_pt_format *f, uint64_t *pd, uint64_t gpa,
			    bool create)
{
	uint64_t *pde = &pd[INDEX(gpa, 21)];

	if (is_leaf_2m(f, *pde))
		return split_2m(f, pde);
	return next_level(f, pde, create);
}

int nested_pt_map(const struct nested_pt_format *f, uint64_t root, uint64_t gpa, uint64_t hpa,
		  uint64_t size)
{
	uint64_t *pd = page_directory(f, root, gpa, true), *pt;

	if (!pd || (gpa | hpa) & (size - 1))
		return -1;
	if (size == NESTED_PT_2M) {
		uint64_t *pde = &pd[INDEX(gpa, 21)];

		if (*pde && !is_leaf_2m(f, *pde))
			return -1; /* 4 KiB pages are mapped there */
		*pde = hpa | f->leaf_2m;
		return 0;
	}
	pt = size == NESTED_PT_4K ? page_table(f, pd, gpa, true) : NULL;
	if (!pt)
		return -1;
	pt[INDEX(gpa, 12)] = hpa | f->leaf_4k;
	return 0;
}

int nested_pt_unmap(const struct nested_pt_format *f, uint64_t root, uint64_t gpa, uint64_t size)
{
	uint64_t *pd = page_directory(f, root, gpa, false), *pt;

	if (!pd || gpa & (size - 1))
		return -1;
	if (size == NESTED_PT_2M) {
		if (!is_leaf_2m(f, pd[INDEX(gpa, 21)]))
			return -1;
		pd[INDEX(gpa, 21)] = 0;
		return 0;
	}
	pt = size == NESTED_PT_4K ? page_table(f, pd, gpa, false) : NULL;
	if (!pt || !pt[INDEX(gpa, 12)])
		return -1;
	pt[INDEX(gpa, 12)] = 0;
	return 0;
}

int nested_pt_translate(const struct nested_pt_format *f, uint64_t root, uint64_t gpa,
			uint64_t *hpa)
{
	uint64_t *pd = page_directory(f, root, gpa, false), pde, pte;

	if (!pd || !(pde = pd[INDEX(gpa, 21)]))
		return -1;
	if (is_leaf_2m(f, pde)) {
		*hpa = (pde & ENTRY_ADDR) + (gpa & (NESTED_PT_2M - 1));
		return 0;
	}
	pte = nested_pt_table(pde & ENTRY_ADDR)[INDEX(gpa, 12)];
	if (!pte)
		return -1;
	*hpa = (pte & ENTRY_ADDR) + (gpa & (NESTED_PT_4K - 1));
	return 0;
}

int nested_pt_set_writable(const struct nested_pt_format *f, uint64_t root, uint64_t gpa,
			   bool writable)
{
	uint64_t *pd = page_directory(f, root, gpa, false), *pt, *e;

	pt = pd && pd[INDEX(gpa, 21)] ? page_table(f, pd, gpa, false) : NULL;
	if (!pt || !*(e = &pt[INDEX(gpa, 12)]))
		return -1;
	*e = writable ? *e | NESTED_PT_WRITE : *e & ~NESTED_PT_WRITE;
	return 0;
}

/* The clone's own copy of the table `*e` points to: made from the shared
 * one (or, for a 2 MiB leaf, from the pages it stands for) the first time.
 * Ownership is told by address, never by comparing entries: the CPU sets
 * accessed bits in the base's and the clone's entries independently. */
static uint64_t *own_table(const struct nested_pt_format *f, struct nested_pt_clone *c, uint64_t *e)
{
	uint64_t pa, *t;

	if (!*e)
		return NULL;
	for (unsigned i = 1; i < c->used && !is_leaf_2m(f, *e); i++)
		if (c->tables[i] == (*e & ENTRY_ADDR))
			return nested_pt_table(c->tables[i]);
	if (c->used == NESTED_PT_CLONE_TABLES)
		return NULL;
	pa = c->tables[c->used++];
	t = nested_pt_table(pa);
	if (is_leaf_2m(f, *e))
		for (uint64_t i = 0; i < ENTRIES; i++)
			t[i] = ((*e & ENTRY_ADDR) + i * NESTED_PT_4K) | f->leaf_4k;
	else
		for (uint64_t i = 0; i < ENTRIES; i++)
			t[i] = nested_pt_table(*e & ENTRY_ADDR)[i];
	*e = pa | f->table;
	return t;
}

static int clone_page(const struct nested_pt_format *f, struct nested_pt_clone *c, uint64_t gpa,
		      uint64_t hpa)
{
	uint64_t *t = nested_pt_table(c->tables[0]);

	t = own_table(f, c, &t[INDEX(gpa, 39)]);
	t = t ? own_table(f, c, &t[INDEX(gpa, 30)]) : NULL;
	t = t ? own_table(f, c, &t[INDEX(gpa, 21)]) : NULL;
	if (!t || !t[INDEX(gpa, 12)])
		return -1;
	t[INDEX(gpa, 12)] = (hpa & ENTRY_ADDR) | (f->leaf_4k & ~NESTED_PT_WRITE);
	return 0;
}

int nested_pt_clone(const struct nested_pt_format *f, struct nested_pt_clone *c, uint64_t base,
		    const uint64_t *gpa, const uint64_t *hpa, unsigned n)
{
	for (unsigned i = c->used = 0; i < NESTED_PT_CLONE_TABLES; i++)
		if (!c->tables[i] && !(c->tables[i] = nested_pt_alloc_table()))
			return -1;
	c->used = 1;
	for (uint64_t i = 0; i < ENTRIES; i++)
		nested_pt_table(c->tables[0])[i] = nested_pt_table(base)[i];
	for (unsigned i = 0; i < n; i++)
		if (clone_page(f, c, gpa[i], hpa[i]))
			return -1;
	return 0;
}
