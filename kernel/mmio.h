/* Emulated device registers (design.md, data flow 2: "MMIO/PIO dispatch"):
 * devices register their guest-physical or port ranges; an access the nested
 * page tables do not map lands here through the instruction decoder, a port
 * access through the I/O exit. */
#ifndef KERNEL_MMIO_H
#define KERNEL_MMIO_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct virt_exit;

#define VM_MAX_MMIO_REGIONS 8

struct mmio_region {
	uint64_t base, size;
	const char *name;
	/* `v` is the vCPU that made the access. */
	uint64_t (*read)(void *dev, struct vcpu *v, uint64_t offset, unsigned size);
	void (*write)(void *dev, struct vcpu *v, uint64_t offset, unsigned size, uint64_t value);
	void *dev;
};

#define VM_MAX_PIO_RANGES 8

struct pio_range {
	uint16_t base, count;
	const char *name;
	uint32_t (*read)(void *dev, uint16_t port, unsigned size);
	void (*write)(void *dev, uint16_t port, unsigned size, uint32_t value);
	void *dev;
};

int pio_register(struct vm *vm, const struct pio_range *r);
const struct pio_range *pio_find(const struct vm *vm, uint16_t port);

int mmio_register(struct vm *vm, const struct mmio_region *r);
const struct mmio_region *mmio_find(const struct vm *vm, uint64_t gpa);
/* Decodes and performs the access at the exit's RIP; false when the VM had
 * to be stopped (an instruction that cannot be fetched or emulated). */
bool mmio_emulate(struct vcpu *v, const struct virt_exit *x, const struct mmio_region *r);

/* Reads 8 bytes of the VM `ctx`'s RAM, for guest page walks. */
bool mmio_guest_read64(void *ctx, uint64_t gpa, uint64_t *value);

/* `size` bytes of guest RAM at guest-linear `gva` (through the guest's page
 * tables), read into or written from *value; false when that is not RAM. */
bool vcpu_access_ram(struct vcpu *v, uint64_t gva, unsigned size, bool write, uint64_t *value);

struct insn_mmio;
/* MOVS or STOS (kernel/mmio_string.c): 0 when done, 1 when a REP has more
 * to do (the guest executes the instruction again), -1 when an element is
 * neither the device nor RAM. */
int mmio_emulate_string(struct vcpu *v, const struct mmio_region *r, const struct insn_mmio *i);
/* INS or OUTS (kernel/pio_string.c), the same way: 0 done, 1 more, -1 an
 * operand not in RAM. */
int pio_emulate_string(struct vcpu *v, const struct virt_exit *x);

#endif
