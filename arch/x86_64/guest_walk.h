/* Translating a guest-linear address to guest-physical by walking the
 * guest's own 4-level page tables (SDM Vol. 3A §4.5), to fetch the bytes of
 * an instruction that touched MMIO. Pure logic: guest memory is read through
 * the caller's function, so the unit tests run it on fake memory. */
#ifndef ARCH_X86_64_GUEST_WALK_H
#define ARCH_X86_64_GUEST_WALK_H

#include <stdbool.h>
#include <stdint.h>

/* Reads the 8-byte entry at guest-physical `gpa`; false when it is not RAM. */
typedef bool (*guest_read64_fn)(void *ctx, uint64_t gpa, uint64_t *value);

/* 0 and *gpa, or -1 when a level is not present or not RAM. */
int guest_walk(uint64_t cr3, uint64_t gva, guest_read64_fn read, void *ctx, uint64_t *gpa);

#endif
