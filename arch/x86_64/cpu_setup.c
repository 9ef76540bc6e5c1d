/* Per-CPU processor state: descriptor tables and the per-CPU pointer. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/trap.h"

void cpu_setup(struct cpu *c)
{
	c->self = c;
	gdt_load(&c->gdt, &c->tss);
	idt_load();
	/* GS is loaded by gdt_load's segment reloads only for DS/ES/SS; the
	 * base is set afterwards, through the MSR, so nothing clobbers it. */
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
}
