/* Exceptions stop the CPU with a report; interrupts go to their handler. The
 * hypervisor never expects an exception of its own, so every one is a bug
 * that must be reported whole: vector, error code, RIP, registers, CPU. */
#include <stdbool.h>
#include <stdio.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "kernel/log.h"
#include "kernel/panic.h"

extern irq_handler_fn irq_handlers[IDT_ENTRIES];

static const char *const exception_names[32] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound range",
	"#UD invalid opcode",
	"#NM no math coprocessor",
	"#DF double fault",
	"coprocessor overrun",
	"#TS invalid TSS",
	"#NP segment not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"reserved 15",
	"#MF x87 error",
	"#AC alignment check",
	"#MC machine check",
	"#XM SIMD exception",
	"#VE virtualization exception",
	"#CP control protection",
	"reserved 22",
	"reserved 23",
	"reserved 24",
	"reserved 25",
	"reserved 26",
	"reserved 27",
	"#HV hypervisor injection",
	"#VC VMM communication",
	"#SX security exception",
	"reserved 31",
};

static void trap_report(const struct trap_frame *tf, uint32_t cpu)
{
	char line[160];
	struct record r;

	snprintf(line, sizeof(line),
		 "PANIC on CPU %u: exception %s (vector %llu), error code 0x%llx\n", cpu,
		 exception_names[tf->vector], (unsigned long long)tf->vector,
		 (unsigned long long)tf->error);
	log_write_unlocked(line);
	panic_dump_registers(tf);

	record_begin(&r, "panic");
	record_uint(&r, "cpu", cpu);
	record_uint(&r, "vector", tf->vector);
	record_str(&r, "name", exception_names[tf->vector]);
	record_hex(&r, "error", tf->error);
	record_hex(&r, "rip", tf->rip);
	if (tf->vector == VEC_PF)
		record_hex(&r, "cr2", read_cr2());
	record_emit(&r);
}

/* Instructions allowed to fault, with where to resume (cpu.h, rdmsr_safe). */
struct fixup {
	uint64_t fault_rip, resume_rip;
};
extern const struct fixup __fixup_table_start[], __fixup_table_end[];

static bool fixed_up(struct trap_frame *tf)
{
	/* the linker's bounds of one section: cppcheck sees two objects */
	/* cppcheck-suppress comparePointers */
	for (const struct fixup *f = __fixup_table_start; f < __fixup_table_end; f++)
		if (f->fault_rip == tf->rip) {
			tf->rip = f->resume_rip;
			return true;
		}
	return false;
}

void trap_dispatch(struct trap_frame *tf)
{
	if (tf->vector == VEC_GP && fixed_up(tf))
		return;
	if (tf->vector == VEC_NMI && smp_stopping())
		cpu_halt_forever();
	if (tf->vector < 32) {
		trap_report(tf, this_cpu()->index);
		cpu_halt_forever();
	}
	if (irq_handlers[tf->vector])
		irq_handlers[tf->vector](tf);
	if (tf->vector != VEC_SPURIOUS)
		lapic_eoi();
}
