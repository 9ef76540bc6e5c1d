/* A virtual CPU: the vendor's vCPU state, the guest's registers, its virtual
 * local APIC, and its exit counters. The scheduler runs it on the cores of
 * its class, one at a time; other cores reach it only through its APIC's IRR,
 * a wake-up in the scheduler and a kick IPI. */
#ifndef KERNEL_VCPU_H
#define KERNEL_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/virt.h"
#include "kernel/exitless.h"
#include "kernel/vlapic.h"

struct vm;

/* The shortest period of a periodic APIC timer (KVM: 200 us); a shorter one is
 * raised to it and counted (`ratelimited_timer` in `@stats`). */
#define VCPU_TIMER_MIN_PERIOD_US 100

struct vcpu {
	struct vm *vm;
	uint32_t id;	/* index in its VM, and its APIC ID */
	uint32_t cpu;	/* the host core that ran it last */
	int sched_id;	/* its id in the scheduler */
	int running_on; /* the core running it now, -1 if none */
	bool blocked;	/* out of the scheduler until an interrupt (under its class's lock) */
	struct virt_vcpu *hw;
	struct virt_regs regs;
	struct vlapic lapic;
	bool halted;	      /* executed HLT: waits for an interrupt (own core only) */
	bool halted_for_good; /* ... with interrupts disabled: nothing wakes it */
	/* INIT and STARTUP IPIs (SDM Vol. 3A §9.4.4): after INIT it waits for
	 * a SIPI (halted for good until then); a SIPI's vector is applied by
	 * the core that runs it next (vcpu_run_until). */
	bool wait_for_sipi;
	int sipi_vector;	/* -1: none pending */
	uint64_t inits_ignored; /* INITs to a vCPU that was running */
	uint64_t exits[VIRT_EXIT_COUNT];
	uint64_t irqs_injected;
	bool apic_hw_on;	  /* the CPU delivers its interrupts (APIC virtualization) */
	struct vcpu_exitless eli; /* exitless delivery (kernel/exitless.h) */
	uint64_t hypercall_window_start, hypercalls_in_window;
	/* x87/SSE registers while it is not loaded on a core (FXSAVE format) */
	uint8_t fpu[512] __attribute__((aligned(16)));
};

/* The vCPU waits for INIT-SIPI, as an application processor after reset. */
void vcpu_wait_for_sipi(struct vcpu *v);
/* Sets up the vCPU's virtual APIC; its IPIs go to the other vCPUs of `vm`.
 * Where it runs is the scheduler's business (kernel/core_loop.c). */
void vcpu_init(struct vcpu *v, struct vm *vm, uint32_t id);
/* Whether it has something to do at `now`: not halted, or halted with an
 * interrupt its APIC would deliver (which ends the halt). */
bool vcpu_ready(struct vcpu *v, uint64_t now);
/* Its next timer event (TSC), or 0. */
uint64_t vcpu_next_event(const struct vcpu *v);
/* Runs it until the TSC passes `end`, it halts, its VM stops, or an external
 * interrupt or deadline exit gives the core a chance to look around. */
void vcpu_run_until(struct vcpu *v, uint64_t end);
/* Makes the core running it, if another, look at it again (an IPI). */
void vcpu_kick(const struct vcpu *v);
/* Any core: interrupt `vector` for the vCPU (a device or an IPI). */
void vcpu_interrupt(struct vcpu *v, uint8_t vector);
/* The same with its trigger mode (level: its EOI reaches the I/O APIC). */
void vcpu_interrupt_trigger(struct vcpu *v, uint8_t vector, bool level);
/* Any core: delivers an MSI message (a virtual device's) to the vCPUs of
 * `vm` it names; returns how many took it (0: it named none, or is not an
 * interrupt message). */
unsigned vcpu_deliver_msi(struct vm *vm, uint64_t address, uint32_t data);
/* Any core: delivers an interrupt message (an I/O APIC's) to the vCPUs of
 * `vm` its destination names, fixed or lowest priority; level-triggered
 * ones set the TMR. Returns how many took it. */
unsigned vcpu_deliver_message(struct vm *vm, const struct vlapic_ipi *ipi, bool level);
/* Registers the xAPIC page of the VM's vCPUs in its MMIO dispatch. */
int vcpu_attach_apic_page(struct vm *vm);

#endif
