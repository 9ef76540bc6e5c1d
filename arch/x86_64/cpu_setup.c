/* Per-CPU processor state: descriptor tables, the per-CPU pointer, and
 * CR4.OSFXSR so that FXSAVE/FXRSTOR move the XMM registers of the guests
 * (kernel/core_loop.c, switch_to): the hypervisor itself never uses them. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/trap.h"

/* The boot CPU's IST stacks: it is set up before the page allocator, which
 * gives the APs theirs (arch/x86_64/smp.c). */
static uint8_t boot_ist_stacks[IST_STACKS * IST_STACK_SIZE] __attribute__((aligned(16)));

void cpu_setup(struct cpu *c)
{
	c->self = c;
	if (c == &cpus[0])
		c->ist_stacks = boot_ist_stacks;
	gdt_load(&c->gdt, &c->tss, c->ist_stacks);
	idt_load();
	/* GS is loaded by gdt_load's segment reloads only for DS/ES/SS; the
	 * base is set afterwards, through the MSR, so nothing clobbers it. */
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
	write_cr4(read_cr4() | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
}
