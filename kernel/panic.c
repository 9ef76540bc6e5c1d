/* Fatal errors. The report is written without the console lock: the CPU that
 * panics may hold it, and a report that deadlocks is no report. */
#include <stdarg.h>
#include <stdio.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "kernel/log.h"
#include "kernel/panic.h"

void panic_dump_registers(const struct trap_frame *tf)
{
	char line[160];

	snprintf(line, sizeof(line), "  RIP %016llx  CS %04llx  RFLAGS %016llx\n",
		 (unsigned long long)tf->rip, (unsigned long long)tf->cs,
		 (unsigned long long)tf->rflags);
	log_write_unlocked(line);
#define REG_LINE(a, b, c)                                                                          \
	snprintf(line, sizeof(line), "  %-3s %016llx  %-3s %016llx  %-3s %016llx\n", #a,           \
		 (unsigned long long)tf->a, #b, (unsigned long long)tf->b, #c,                     \
		 (unsigned long long)tf->c);                                                       \
	log_write_unlocked(line)
	REG_LINE(rax, rbx, rcx);
	REG_LINE(rdx, rsi, rdi);
	REG_LINE(rbp, rsp, r8);
	REG_LINE(r9, r10, r11);
	REG_LINE(r12, r13, r14);
#undef REG_LINE
	snprintf(line, sizeof(line), "  r15 %016llx  cr2 %016llx  cr3 %016llx\n",
		 (unsigned long long)tf->r15, (unsigned long long)read_cr2(),
		 (unsigned long long)read_cr3());
	log_write_unlocked(line);
}

void panic(const char *fmt, ...)
{
	char msg[256], line[320];
	struct record r;
	va_list ap;

	irq_disable();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "PANIC on CPU %u: %s\n", this_cpu()->index, msg);
	log_write_unlocked(line);
	record_begin(&r, "panic");
	record_uint(&r, "cpu", this_cpu()->index);
	record_str(&r, "reason", msg);
	record_emit(&r);
	smp_stop_others();
	cpu_halt_forever();
}
