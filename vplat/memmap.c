/* The VM's firmware memory map (vplat/memmap.h). */
#include "vplat/memmap.h"

static void add(struct memmap *m, uint64_t base, uint64_t size, enum memmap_type type)
{
	if (m->n < MEMMAP_MAX)
		m->r[m->n++] = (struct memmap_range){base, size, type};
}

void memmap_build(struct memmap *m, uint64_t ram_bytes, uint64_t ecam_base, uint64_t ecam_size)
{
	m->n = 0;
	add(m, 0, MEMMAP_LOW_RAM_END, MEMMAP_RAM);
	/* 0xa0000-0xdffff is the VGA and option-ROM hole: not listed at all */
	add(m, MEMMAP_LOW_RAM_END, 0xa0000 - MEMMAP_LOW_RAM_END, MEMMAP_RESERVED);
	add(m, MEMMAP_BIOS_AREA, MEMMAP_HIGH_RAM - MEMMAP_BIOS_AREA, MEMMAP_RESERVED);
	add(m, MEMMAP_HIGH_RAM, ram_bytes - MEMMAP_HIGH_RAM, MEMMAP_RAM);
	if (ecam_size)
		add(m, ecam_base, ecam_size, MEMMAP_RESERVED);
}
