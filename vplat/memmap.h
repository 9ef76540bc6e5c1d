/* A VM's guest-physical memory map as firmware reports it (the e820 map of
 * Linux's zero page, the memory map of multiboot): RAM from 0 with the
 * PC's holes: the EBDA and BIOS area below 1 MiB reserved, where the ACPI
 * tables live; the PCI configuration window (ECAM) reserved, because Linux
 * only uses an MMCONFIG area that firmware reserves (PCI Firmware Spec §4.1.2). */
#ifndef VPLAT_MEMMAP_H
#define VPLAT_MEMMAP_H

#include <stdint.h>

#define MEMMAP_MAX 8

enum memmap_type { MEMMAP_RAM = 1, MEMMAP_RESERVED = 2 }; /* e820 and multiboot types */

struct memmap_range {
	uint64_t base, size;
	enum memmap_type type;
};

struct memmap {
	struct memmap_range r[MEMMAP_MAX];
	unsigned n;
};

#define MEMMAP_LOW_RAM_END 0x9fc00ull  /* 639 KiB: the EBDA starts here */
#define MEMMAP_BIOS_AREA   0xe0000ull  /* to 1 MiB: BIOS area, firmware tables */
#define MEMMAP_HIGH_RAM	   0x100000ull /* 1 MiB */

/* RAM of `ram_bytes` from 0 (ram_bytes > 1 MiB), and a reserved window
 * [ecam_base, +ecam_size) when ecam_size is not 0. */
void memmap_build(struct memmap *m, uint64_t ram_bytes, uint64_t ecam_base, uint64_t ecam_size);

#endif
