/* The test-mmio device (docs/manifest.md): registers for MMIO tests. */
#ifndef KERNEL_TEST_MMIO_H
#define KERNEL_TEST_MMIO_H

#include <stdint.h>

#define TEST_MMIO_BASE	      0x3fe00000ull /* below 1 GiB: guest-shim's map covers it */
#define TEST_MMIO_SIZE	      0x1000
#define TEST_MMIO_ID	      0x45524f43u /* "CORE" */
#define TEST_MMIO_REG_ID      0x00
#define TEST_MMIO_REG_SCRATCH 0x08
#define TEST_MMIO_REG_WRITES  0x10

struct vm;

/* 0, or -1 with the reason when it cannot be placed in this VM. */
int test_mmio_attach(struct vm *vm, const char **why);

#endif
