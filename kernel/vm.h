/* Virtual machines: built from the manifest, run on the cores of their role,
 * stopped (alone) when they misbehave. */
#ifndef KERNEL_VM_H
#define KERNEL_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/virt.h"
#include "kernel/mmio.h"

#include "kernel/manifest.h"
#include "kernel/vcpu.h"

struct boot_info;

enum vm_state { VM_READY, VM_RUNNING, VM_STOPPED };

struct vm {
	const struct manifest_vm *cfg;
	uint32_t index;
	uint64_t ram_hpa, ram_bytes;
	uint64_t npt_root;
	struct vcpu vcpus[MANIFEST_MAX_VCPUS + 1]; /* the regular ones, then the turbo one */
	unsigned nvcpus;
	int turbo_vcpu; /* its index, or -1 */
	volatile enum vm_state state;
	struct mmio_region mmio[VM_MAX_MMIO_REGIONS];
	unsigned nmmio;
	struct pio_range pio[VM_MAX_PIO_RANGES];
	unsigned npio;
	struct vm_pci *pci;	      /* its virtio devices (kernel/vdev.h), or NULL */
	uint64_t start_tsc;	      /* its first VM entry */
	uint64_t first_hypercall_tsc; /* its first hypercall exit */
};

/* Builds every valid VM of the manifest; reports each one that cannot be
 * built (`@vm_stopped`) and leaves the others. Returns how many were built. */
unsigned vm_build_all(const struct manifest *m, const struct boot_info *bi);
/* Ends a VM with a reason (`@vm_stopped`, `@vm_stats`); the others go on.
 * Its vCPUs on other cores leave the guest at their next exit. */
void vm_stop(struct vm *vm, const char *reason, uint64_t rip);
/* True once every VM built has stopped. */
bool vm_all_stopped(void);
const struct virt_ops *vm_virt(void);
/* The vCPU that takes every interrupt of the VM's devices: its turbo vCPU
 * when it has one, else vCPU 0 (vTurbo §3). Devices route through this. */
struct vcpu *vm_device_irq_target(struct vm *vm);
/* `@stats` (periodic) or `@vm_stats` (final) for a VM. */
void vm_report_stats(const struct vm *vm, const char *type);
/* The VMs built, for the run loops. */
unsigned vm_count(void);
struct vm *vm_get(unsigned i);

#endif
