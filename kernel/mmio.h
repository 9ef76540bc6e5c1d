/* Emulated device registers in a VM's guest-physical space (design.md, data
 * flow 2: "MMIO/PIO dispatch"): devices register their ranges; an access the
 * nested page tables do not map lands here through the instruction decoder. */
#ifndef KERNEL_MMIO_H
#define KERNEL_MMIO_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct virt_exit;

#define VM_MAX_MMIO_REGIONS 8

struct mmio_region {
	uint64_t base, size;
	const char *name;
	uint64_t (*read)(void *dev, uint64_t offset, unsigned size);
	void (*write)(void *dev, uint64_t offset, unsigned size, uint64_t value);
	void *dev;
};

int mmio_register(struct vm *vm, const struct mmio_region *r);
const struct mmio_region *mmio_find(const struct vm *vm, uint64_t gpa);
/* Decodes and performs the access at the exit's RIP; false when the VM had
 * to be stopped (an instruction that cannot be fetched or emulated). */
bool mmio_emulate(struct vm *vm, const struct virt_exit *x, const struct mmio_region *r);

#endif
