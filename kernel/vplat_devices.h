/* The virtual platform every VM gets (issue 10): an I/O APIC at
 * guest-physical 0xfec00000 and a 16550A UART as COM1 (ports 0x3f8-0x3ff,
 * ISA IRQ 4 = I/O APIC pin 4), and the ACPI sleep port; their models in vplat/. The UART's lines
 * reach the log as "[vm] text", as the debug port's do; the I/O APIC delivers to the vCPUs' virtual
 * local APICs, and their EOIs of level-triggered vectors come back to it. */
#ifndef KERNEL_VPLAT_DEVICES_H
#define KERNEL_VPLAT_DEVICES_H

#include <stdint.h>

struct vm;

/* The FADT's sleep control and status registers (one port): the guest's
 * soft-off (vplat/acpi_build.h). */
#define VPLAT_SLEEP_PORT   0x600
#define ACPI_SLP_EN	   (1u << 5) /* ACPI 6.5 §4.8.3.7, sleep control register */
#define ACPI_SLP_TYP_SHIFT 2

/* Builds and registers the VM's devices; NULL, or why it could not. */
const char *vplat_attach(struct vm *vm);
/* A vCPU's EOI of level-triggered `vector` (any core). */
void vplat_eoi(struct vm *vm, uint8_t vector);

#endif
