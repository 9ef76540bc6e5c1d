/* Firmware leaves the 8259 pair mapped to vectors 8-15, on top of the CPU
 * exceptions, with the PIT's IRQ 0 unmasked: its first tick would look like
 * a double fault. Remap the pair above the exceptions, then mask every line
 * (a masked 8259 can still raise a spurious IRQ 7/15, now at a harmless
 * vector). */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pic8259.h"

void pic8259_disable(void)
{
	outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, 1 << PIC_CASCADE_IRQ);
	outb(PIC2_DATA, PIC_CASCADE_IRQ);
	outb(PIC1_DATA, PIC_ICW4_8086);
	outb(PIC2_DATA, PIC_ICW4_8086);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}
