/* The hypervisor's own page tables (layout.h shows the address space). */
#ifndef ARCH_X86_64_PAGING_H
#define ARCH_X86_64_PAGING_H

#include <stdint.h>

/* Extends the direct map to cover physical memory up to `end`; returns the
 * end actually covered (it is bounded by the static page-table pool). */
uint64_t paging_extend_direct_map(uint64_t end);
uint64_t paging_direct_map_end(void);
/* Maps `len` bytes of device registers at physical `phys` uncached (UC) in
 * the device window and returns their address; NULL when the window (2 MiB)
 * is full. Boot CPU only, before the APs start: mappings are never removed. */
void *paging_map_device(uint64_t phys, uint64_t len);
/* Removes the boot-time identity map of low memory once no CPU needs it. */
void paging_drop_identity_map(void);

#endif
