/* The virtual local APIC of one vCPU (Intel SDM Vol. 3A ch. 11): the xAPIC
 * register page and the x2APIC MSRs over one register file, the timer in its
 * three modes, IRR/ISR with priorities, EOI, and IPIs handed to the VM to
 * deliver. Pure logic, host-tested: time is the TSC value the caller passes,
 * and the timer counts at the TSC rate divided by the divide configuration
 * (the "bus clock" is the TSC clock; CPUID 0x40000010 tells the guest both).
 *
 * Concurrency: other CPUs only ever call vlapic_set_irr(); every other
 * function runs on the CPU that runs the vCPU. */
#ifndef KERNEL_VLAPIC_H
#define KERNEL_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* An interprocessor interrupt the guest asked for through the ICR. */
struct vlapic_ipi {
	uint32_t dest;	    /* APIC ID, or logical destination if `logical` */
	uint32_t shorthand; /* 0, APIC_ICR_SELF, APIC_ICR_ALL, APIC_ICR_ALL_BUT_SELF */
	uint32_t delivery;  /* APIC_ICR_DELIVERY_* */
	uint8_t vector;
	bool logical;
	bool broadcast; /* dest is all-ones for this mode */
	bool deassert;	/* an INIT level de-assert: does nothing (SDM §11.6.1) */
};

struct vlapic {
	uint32_t id;
	uint64_t apic_base; /* IA32_APIC_BASE: EN, EXTD, BSP */
	uint32_t tpr, svr, ldr, dfr, esr, icr_low, icr_high;
	uint32_t lvt_timer, lvt_lint0, lvt_lint1, lvt_error, lvt_thermal, lvt_perf, lvt_cmci;
	uint32_t timer_initial, timer_dcr;
	uint64_t timer_start;	 /* TSC when the count was loaded */
	uint64_t timer_deadline; /* TSC of the next expiry; 0: disarmed */
	uint32_t irr[8], isr[8], tmr[8];
	/* Delivery of an IPI to the VM's vCPUs (the sender's context). */
	void (*send_ipi)(void *ctx, const struct vlapic_ipi *ipi);
	void *ctx;
	/* The shortest period a periodic timer gets, in TSC cycles (0: none): a
	 * count of 1 at divide 1 would expire at every entry, and the vCPU
	 * would spend all its time exiting for it. Set by the owner after
	 * vlapic_init; `timer_clamped` counts the periods it raised. */
	uint64_t timer_min_period, timer_clamped;
	/* The EOI of a level-triggered vector (its TMR bit set), for the I/O
	 * APIC that sent it (SDM §11.8.5): set by the owner, NULL for none. */
	void (*level_eoi)(void *ctx, uint8_t vector);
	uint64_t timer_fired, ipis_sent, eois;
};

void vlapic_init(struct vlapic *l, uint32_t id, bool bsp,
		 void (*send_ipi)(void *ctx, const struct vlapic_ipi *ipi), void *ctx);

bool vlapic_x2apic_mode(const struct vlapic *l);
/* The xAPIC page (offset within it); 32-bit aligned accesses. In x2APIC mode
 * the page reads as zeros and ignores writes. */
uint32_t vlapic_mmio_read(struct vlapic *l, uint32_t offset, uint64_t now);
void vlapic_mmio_write(struct vlapic *l, uint32_t offset, uint32_t value, uint64_t now);
/* IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range. False means the
 * access raises #GP in the guest (SDM §11.12.1.2). */
bool vlapic_handles_msr(uint32_t msr);
bool vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t now, uint64_t *value);
bool vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t value, uint64_t now);

/* Any CPU: the interrupt `vector` is requested (edge-triggered). */
void vlapic_set_irr(struct vlapic *l, uint8_t vector);
/* Any CPU: the same with its trigger mode, which goes into the TMR (SDM
 * §11.8.4): a level-triggered vector's EOI is passed to `level_eoi`. */
void vlapic_set_irr_trigger(struct vlapic *l, uint8_t vector, bool level);
/* The highest requested vector the processor priority lets through, or -1. */
int vlapic_pending_vector(const struct vlapic *l);
/* The highest vector in service, or -1. */
int vlapic_highest_isr(const struct vlapic *l);
/* An interrupt delivered past this APIC (exitless) is in service here now. */
void vlapic_set_isr(struct vlapic *l, uint8_t vector);
/* The vector is being delivered: IRR to ISR (SDM §11.8.4). */
void vlapic_accept(struct vlapic *l, uint8_t vector);
/* The timer's next expiry as a TSC value, or 0; and its expiry at `now`. */
uint64_t vlapic_timer_deadline(const struct vlapic *l);
void vlapic_timer_expire(struct vlapic *l, uint64_t now);
/* Hardware virtual-interrupt delivery (VT-x APICv): the registers it works
 * from. vlapic_hw_take moves the requested vectors out of the IRR into *r
 * (other CPUs may request more meanwhile: they stay in the IRR), with ISR and
 * TPR; vlapic_hw_give takes the registers back after the exit: what the CPU
 * delivered left its IRR for its ISR, and EOIs cleared ISR bits. Returns how
 * many interrupts the CPU delivered. Both on the vCPU's own CPU. */
void vlapic_hw_take(struct vlapic *l, uint32_t irr[8], uint32_t isr[8], uint32_t *tpr);
unsigned vlapic_hw_give(struct vlapic *l, const uint32_t taken_irr[8], const uint32_t irr[8],
			const uint32_t isr[8], uint32_t tpr);
/* Whether the CPU may deliver for this APIC: enabled, in x2APIC mode, and no
 * level-triggered vector requested or in service (their EOI must exit). */
bool vlapic_hw_delivery_possible(const struct vlapic *l);
/* Whether an IPI or logical destination names this APIC. */
bool vlapic_is_destination(const struct vlapic *l, const struct vlapic_ipi *ipi, bool is_sender);

#endif
