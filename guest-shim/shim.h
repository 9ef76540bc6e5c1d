/* guest-shim: corevisor's own test guest (docs/architecture.md). */
#ifndef GUEST_SHIM_SHIM_H
#define GUEST_SHIM_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/hypercall.h"
#include "lib/config.h"

/* The most vCPUs a VM has: per-vCPU arrays are indexed by the vCPU's index. */
#define SHIM_MAX_VCPUS (CONFIG_MAX_VCPUS + 1)
/* The timer and ipi workloads give each vCPU vectors of its own: they take
 * vCPUs 0 to 15 only (16 vectors from each base). */
#define SHIM_VEC_TIMER	0x30 /* + the vCPU's index */
#define SHIM_VEC_IPI	0x50 /* + the receiving vCPU's index */
#define SHIM_VEC_DEVICE 0x60 /* test-irq's interrupts */
#define SHIM_VEC_DONE	0x4f /* a vCPU tells vCPU 0 it has finished */
#define SHIM_VEC_UART	0x44 /* COM1's interrupt through the I/O APIC (workload=uart) */

/* virtio workloads: queue interrupts, configuration changes, and the wake-up
 * vCPU 0 sends the irq vCPU when the workload is over */
#define SHIM_VEC_VIRTIO	       0x70 /* + 2 * (PCI device number - 1) + queue */
#define SHIM_VEC_VIRTIO_CONFIG 0xb0
#define SHIM_VEC_WAKE	       0xb1

extern uint64_t shim_cpuid_count[SHIM_MAX_VCPUS];
extern volatile uint64_t shim_irq_count[256];

void shim_hypercall_init(uint32_t vcpu);
/* The VM's number of vCPUs (HV_CPUID_FEATURES). */
uint32_t shim_vcpu_count(void);
void shim_install_idt(void);
/* Copies the IDT to a second page and loads that one (LIDT mid-run); writes
 * every gate of the loaded one again, unchanged. */
void shim_reload_idt(void);
void shim_rewrite_idt(void);
/* Before shim_install_idt, alike on every vCPU: exception `vector` (0-31)
 * enters at `entry` instead of the stub that reports it and ends the VM. */
void shim_exception_override(unsigned vector, const void *entry);
uint64_t shim_hypercall(uint64_t nr, uint64_t a0, uint64_t a1);
void shim_print(const char *s);
void shim_report(uint64_t key, uint64_t value);

/* The value of `key=` in the command line, or `def`. */
uint64_t shim_arg_uint(const char *cmdline, const char *key, uint64_t def);
/* Element `index` (from 0) of a comma-separated list `key=a,b,c`, the last
 * one when the list is shorter, or `def`. */
uint64_t shim_arg_list_uint(const char *cmdline, const char *key, unsigned index, uint64_t def);
bool shim_arg_is(const char *cmdline, const char *key, const char *value);

void shim_wrmsr(uint32_t msr, uint64_t value);
void shim_apic_enable(bool x2apic);
void shim_apic_write(uint32_t reg, uint32_t value);
uint32_t shim_apic_read(uint32_t reg);
uint32_t shim_apic_id(void);
void shim_apic_send_ipi(uint32_t dest, uint8_t vector);
uint64_t shim_timer_khz(void);
void shim_wait_irqs(uint8_t vector, uint64_t count);
/* vCPU 0, interrupts off: halts until the `others` other vCPUs have finished
 * their workload, and takes their IPIs (main.c's finish()). */
void shim_wait_vcpus_done(uint32_t others);

void shim_run_timer(const char *cmdline, uint32_t vcpu);
void shim_run_ipi(uint64_t n, uint32_t vcpu);
void shim_run_irq_latency(const char *cmdline, uint32_t vcpu);
void shim_device_interrupt(void);
uint32_t shim_irq_vcpu(void);
/* The value of `key=`, up to the next space or the end, or NULL. */
const char *shim_arg_value(const char *cmdline, const char *key);

/* virtio workloads (guest-shim/virtio.h) */
void shim_run_blk(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu);
void shim_run_blk_bench(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu);
void shim_run_blk_irq(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu);
void shim_run_net(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu, bool ping);
void shim_run_vio_bad(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu);
void shim_run_forge(void);
/* workload=uart (uart.c): COM1 polled, then interrupt-driven */
void shim_run_uart(const char *cmdline);
void shim_uart_interrupt(void);
/* workload=chaos (chaos.c): its #GP handler goes in before the IDT. */
void shim_chaos_hooks(void);
void shim_run_chaos(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu);

#endif
