/* Virtual machines: built from the manifest, run on the cores of their role,
 * stopped (alone) when they misbehave. */
#ifndef KERNEL_VM_H
#define KERNEL_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/virt.h"
#include "kernel/mmio.h"

#include "kernel/manifest.h"
#include "kernel/spinlock.h"
#include "kernel/vcpu.h"
#include "kernel/vmsr.h"

/* What a VM may put on the console, in console characters: its text (the
 * console hypercall, the debug port) VM_LOG_TEXT_CHARS_PER_S on average,
 * VM_LOG_TEXT_BURST at once; its reports (`@guest_report`, `@mark`,
 * `@vio_error`) VM_LOG_REPORT_CHARS_PER_S per vCPU, VM_LOG_REPORT_BURST at
 * once. The console is one synchronous UART (115 200 baud: about 11 500
 * characters a second) whose lock every CPU takes for whole lines, so a guest
 * that could log without end would hold up every other VM's records: a text
 * line (200 bytes, up to 4 characters each escaped) holds it for up to 70 ms,
 * a report for 7 ms. guest-shim's spinners report 1 600 characters a second. */
#define VM_LOG_TEXT_CHARS_PER_S	  512
#define VM_LOG_TEXT_BURST	  2048
#define VM_LOG_REPORT_CHARS_PER_S 2048
#define VM_LOG_REPORT_BURST	  2048

enum vm_log_kind { VM_LOG_TEXT, VM_LOG_REPORT, VM_LOG_KINDS };

struct boot_info;

enum vm_state { VM_READY, VM_RUNNING, VM_STOPPED };

struct vm {
	const struct manifest_vm *cfg;
	uint32_t index;
	uint64_t ram_hpa, ram_bytes;
	uint64_t npt_root;
	struct vcpu
		*vcpus; /* nvcpus of them (page allocator): the regular ones, then the turbo one */
	unsigned nvcpus;
	int turbo_vcpu; /* its index, or -1 */
	volatile enum vm_state state;
	struct mmio_region mmio[VM_MAX_MMIO_REGIONS];
	unsigned nmmio;
	struct pio_range pio[VM_MAX_PIO_RANGES];
	unsigned npio;
	struct vm_pci *pci;		   /* its virtio devices (kernel/vdev.h), or NULL */
	struct vplat *plat;		   /* its I/O APIC and COM1 (kernel/vplat_devices.h) */
	uint64_t start_tsc;		   /* its first VM entry */
	uint64_t first_hypercall_tsc;	   /* its first hypercall exit */
	struct spinlock log_lock;	   /* its log budgets: */
	uint64_t log_credit[VM_LOG_KINDS]; /* characters x 10^6 */
	uint64_t log_tsc[VM_LOG_KINDS];	   /* when each was topped up */
	uint64_t log_dropped;		   /* lines and reports refused */
	struct vm_exitless eli;		   /* its shadowed IDT pages */
	struct vmsr_seen msr_seen;	   /* unknown MSRs it touched (log_lock) */
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
/* Takes `chars` console characters from the VM's budget for `kind`; false
 * (and counted as `ratelimited_log`) when it has not that many left. */
bool vm_log_allowed(struct vm *vm, enum vm_log_kind kind, uint64_t chars);
/* The console characters log_guest_text() writes for these guest bytes. */
uint64_t vm_guest_text_chars(const struct vm *vm, const char *bytes, uint64_t len);
/* `@stats` (periodic) or `@vm_stats` (final) for a VM. */
void vm_report_stats(const struct vm *vm, const char *type);
/* `bytes` of the VM's RAM from guest-physical `gpa`, in the direct map; NULL
 * when any of them is outside its RAM. */
void *vm_ram(const struct vm *vm, uint64_t gpa, uint64_t bytes);
/* The VMs built, for the run loops. */
unsigned vm_count(void);
struct vm *vm_get(unsigned i);

#endif
