/* Virtual machines: built from the manifest, run on the cores of their role,
 * stopped (alone) when they misbehave. */
#ifndef KERNEL_VM_H
#define KERNEL_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/virt.h"
#include "kernel/mmio.h"

struct manifest;
struct manifest_vm;
struct boot_info;

enum vm_state { VM_READY, VM_RUNNING, VM_STOPPED };

struct vm {
	const struct manifest_vm *cfg;
	uint32_t index;
	uint32_t cpu; /* the core that runs its vCPU */
	uint64_t ram_hpa, ram_bytes;
	uint64_t npt_root;
	struct virt_vcpu *vcpu; /* vCPU 0; more come with the scheduler */
	struct virt_regs regs;
	enum vm_state state;
	uint64_t exits[VIRT_EXIT_COUNT];
	struct mmio_region mmio[VM_MAX_MMIO_REGIONS];
	unsigned nmmio;
	struct pio_range pio[VM_MAX_PIO_RANGES];
	unsigned npio;
	uint64_t hypercall_window_start, hypercalls_in_window;
	uint64_t start_tsc;	      /* its first VM entry */
	uint64_t first_hypercall_tsc; /* its first hypercall exit */
};

/* Builds every valid VM of the manifest; reports each one that cannot be
 * built (`@vm_stopped`) and leaves the others. Returns how many were built. */
unsigned vm_build_all(const struct manifest *m, const struct boot_info *bi);
/* Runs the VMs placed on this CPU, round robin with the manifest's regular
 * slice, printing `@stats` every stats_interval_ms, until each has stopped. */
void vm_run_this_cpu(const struct manifest *m);
/* Ends a VM with a reason (`@vm_stopped`, `@vm_stats`); the others go on. */
void vm_stop(struct vm *vm, const char *reason, uint64_t rip);
/* True once every VM built has stopped. */
bool vm_all_stopped(void);
const struct virt_ops *vm_virt(void);

#endif
