#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

struct trap_frame;

/* Reports a fatal error of the hypervisor itself, with the CPU and caller,
 * and stops every CPU. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
void panic_dump_registers(const struct trap_frame *tf);

#endif
