/* The per-CPU one-shot timer (design.md, "time"): the TSC-deadline timer where
 * the CPU has it, else the LAPIC timer in one-shot mode. */
#ifndef ARCH_X86_64_TIMER_H
#define ARCH_X86_64_TIMER_H

#include <stdint.h>

struct trap_frame;

/* Boot CPU: chooses the implementation and calibrates it against the TSC. */
void timer_init_bsp(void);
/* Every CPU: routes the timer to its vector, masked until armed. */
void timer_init_cpu(void);
/* Fires VEC_TIMER once, at TSC value `deadline` (or as soon after as it can). */
void timer_arm_deadline(uint64_t deadline);
void timer_cancel(void);
const char *timer_kind(void);
/* Arms a one-shot, waits for it with interrupts on, returns the measured
 * delay in microseconds (0 if it never fired). */
uint64_t timer_selftest(uint64_t delay_us);

#endif
