/* Intel 8259A programmable interrupt controllers (data sheet, "Initialization
 * command words"). The hypervisor uses the local APIC and IOAPIC only. */
#ifndef ARCH_X86_64_PIC8259_H
#define ARCH_X86_64_PIC8259_H

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

#define PIC_ICW1_INIT_ICW4 0x11 /* edge triggered, cascade, ICW4 follows */
#define PIC_ICW4_8086	   0x01
#define PIC_CASCADE_IRQ	   2
#define PIC_VECTOR_BASE	   0x20 /* out of the exception range, then masked */

void pic8259_disable(void);

#endif
