/* Interrupt and exception entry (Intel SDM Vol. 3A ch. 6). */
#ifndef ARCH_X86_64_TRAP_H
#define ARCH_X86_64_TRAP_H

/* Exception vectors (SDM Vol. 3A table 6-1). */
#define VEC_DE	0
#define VEC_NMI 2
#define VEC_UD	6
#define VEC_DF	8
#define VEC_NP	11
#define VEC_GP	13
#define VEC_PF	14
#define VEC_MC	18

/* Vectors the hypervisor itself uses: high priority classes, above every
 * vector a legacy PIC or a device could be programmed to. */
#define VEC_TIMER    0xf0 /* the per-CPU one-shot timer */
#define VEC_KICK     0xf1 /* IPI: wake a halted CPU to look at its work */
#define VEC_SPURIOUS 0xff

#define IDT_ENTRIES 256

#ifndef __ASSEMBLY__
#include <stdint.h>

/* What the entry stubs (isr.S) push, in memory order. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*irq_handler_fn)(struct trap_frame *tf);

void idt_init(void);
void idt_load(void);
/* Installs the handler of an interrupt vector (32..255). */
void irq_register(uint8_t vector, irq_handler_fn fn);
void trap_dispatch(struct trap_frame *tf);
#endif

#endif
