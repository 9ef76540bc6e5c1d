/* The IDT: one table shared by all CPUs (it is read-only after boot); each CPU
 * loads it. Gates are interrupt gates, so handlers run with IF clear. */
#include <stddef.h>

#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"

#define ISR_STUB_SIZE  16
#define GATE_INTERRUPT 0x8e /* present, DPL0, 64-bit interrupt gate */

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern char isr_stubs[];
static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
irq_handler_fn irq_handlers[IDT_ENTRIES];

static uint8_t idt_ist_for(unsigned vector)
{
	switch (vector) {
	case VEC_DF:
		return IST_DOUBLE_FAULT;
	case VEC_NMI:
		return IST_NMI;
	case VEC_MC:
		return IST_MACHINE_CHECK;
	default:
		return 0;
	}
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_ENTRIES; v++) {
		uint64_t addr = (uint64_t)(uintptr_t)(isr_stubs + v * ISR_STUB_SIZE);

		idt[v] = (struct idt_gate){
			.offset_lo = addr & 0xffff,
			.selector = GDT_SEL_CODE,
			.ist = idt_ist_for(v),
			.type = GATE_INTERRUPT,
			.offset_mid = (addr >> 16) & 0xffff,
			.offset_hi = addr >> 32,
		};
	}
}

void idt_load(void)
{
	struct idt_ptr ptr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

	__asm__ volatile("lidt %0" ::"m"(ptr));
}

void irq_register(uint8_t vector, irq_handler_fn fn)
{
	irq_handlers[vector] = fn;
}
