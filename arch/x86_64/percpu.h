/* Per-CPU data. Each CPU's GS base points at its own struct cpu, so
 * this_cpu() is one instruction and needs no CPU number lookup. */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/gdt.h"
#include "lib/config.h"

#define MAX_CPUS CONFIG_MAX_CPUS

struct cpu {
	struct cpu *self; /* must stay first: this_cpu() reads %gs:0 */
	uint32_t index;	  /* logical id: 0 is the boot CPU, then MADT order */
	uint32_t apic_id;
	uint64_t stack_top;
	uint8_t *ist_stacks; /* gdt.h's IST_STACKS: static (boot CPU) or allocated */
	volatile bool online;
	volatile uint64_t timer_fired_tsc; /* set by the timer interrupt */
	uint64_t timer_armed;		   /* the deadline the timer holds */
	struct gdt gdt;
	struct tss tss;
} __attribute__((aligned(64)));

extern struct cpu cpus[MAX_CPUS];
extern uint32_t cpu_count;

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

/* Loads the GDT, TSS (with c->ist_stacks) and IDT on the calling CPU and
 * points GS at c. */
void cpu_setup(struct cpu *c);

#endif
