/* The test-irq device (docs/manifest.md): raises an interrupt for its VM at
 * programmed times and records when it did, so a guest can measure the
 * latency from the interrupt being raised to its handler with the TSC (when
 * interrupts come faster than they are taken, they merge in the IRR as on
 * hardware, and the latency counts from the oldest one). Its
 * interrupts go to the VM's turbo vCPU when it has one, else to vCPU 0
 * (issue 4: "interrupts on the turbo vCPU"). */
#ifndef KERNEL_TEST_IRQ_H
#define KERNEL_TEST_IRQ_H

#include <stdint.h>

#define TEST_IRQ_BASE	       0x3fd00000ull /* below test-mmio */
#define TEST_IRQ_SIZE	       0x1000
#define TEST_IRQ_ID	       0x51524954u /* "TIRQ" */
#define TEST_IRQ_REG_ID	       0x00	   /* r */
#define TEST_IRQ_REG_VECTOR    0x08	   /* rw: the vector it raises */
#define TEST_IRQ_REG_COUNT     0x10	   /* rw: how many more it raises */
#define TEST_IRQ_REG_PERIOD_US 0x18	   /* w: starts (non-zero) or stops (0) it */
#define TEST_IRQ_REG_RAISED    0x20	   /* r: TSC of the oldest one not acknowledged */
#define TEST_IRQ_REG_FIRED     0x28	   /* r: how many it raised */
#define TEST_IRQ_REG_ACK       0x30	   /* w: the handler has taken them */

struct vm;

/* 0, or -1 with the reason when it cannot be placed in this VM. */
int test_irq_attach(struct vm *vm, const char **why);
/* Any core: raises the interrupts that are due at `now` (TSC). */
void test_irq_poll(uint64_t now);
/* The TSC of the next interrupt any device is due to raise, or 0. */
uint64_t test_irq_next(void);

#endif
