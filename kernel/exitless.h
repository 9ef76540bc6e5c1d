/* Exitless interrupt delivery (ELI as ELVIS uses it: paper 001 §2.4; issue 9;
 * the pure part is vio/exitless.h). A device interrupt for a vCPU that is in
 * guest mode right now is a physical IPI to its core, with a vector of that
 * core's that stands for the guest's vector; the guest's own handler runs
 * with no exit. The invariants, and where each is kept:
 *
 * 1. No host interrupt reaches guest code, no VM another's: while exitless,
 *    the vCPU's nested root (a clone of the VM's) backs the guest's IDT pages
 *    with a shadow whose only present gates at 32 and above are this vCPU's
 *    vectors on this core (exitless_enter). Anything else raises #NP, which
 *    exits and is handled as the host interrupt it is (exitless_np).
 * 2. The guest cannot tell: its IDTR is its own (never changed, so SIDT
 *    needs no intercept); LIDT exits, the vCPU runs it once with exitless
 *    off and rebuilds the shadow for the new table; its IDT pages are
 *    read-only in every root of the VM and a write is applied to the guest's
 *    page and to every shadow (exitless_idt_write). What it cannot be kept
 *    from: reading the IDT's bytes shows the shadow's gates.
 * 3. Nothing is lost: an IPI that finds its vCPU gone (the core in the host,
 *    or another vCPU there) is handled by the host, which sets the vCPU's
 *    virtual IRR and wakes it (exitless_host_irq); physical vectors are
 *    never given back, so an IPI always finds the vCPU it was sent for.
 * 4. EOI: an exitless vector in service is retired on the physical APIC:
 *    by the guest itself through the x2APIC EOI MSR, passed through while no
 *    injected (virtual) interrupt is in service; otherwise by the exit
 *    handler of the EOI write (exitless_eoi). One still in service when the
 *    vCPU leaves the core moves to its virtual ISR (exitless_vcpu_put).
 * 5. A virtual interrupt to inject, an event to deliver again, or a guest
 *    that has no full IDT: that entry is not exitless; NMIs always exit. */
#ifndef KERNEL_EXITLESS_H
#define KERNEL_EXITLESS_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/nested_pt.h"
#include "arch/x86_64/virt.h"
#include "kernel/spinlock.h"

struct vcpu;
struct vm;

#define EXITLESS_MAX_IDT_PAGES 8 /* guest pages a VM's vCPUs may shadow at once */

/* A VM's IDT pages that are read-only in its roots (some vCPU shadows them),
 * and a generation that each change of one of them bumps. */
struct vm_exitless {
	struct spinlock lock;
	uint64_t page[EXITLESS_MAX_IDT_PAGES];
	unsigned users[EXITLESS_MAX_IDT_PAGES];
	uint32_t generation;
};

struct vcpu_exitless {
	bool enabled;	    /* the manifest's io.interrupts and a CPU that can */
	int32_t id;	    /* its owner id in the cores' vector tables */
	uint32_t wanted[8]; /* guest vectors its devices send it (any core) */
	bool in_guest;	    /* running exitless right now (its core writes) */
	bool skip_once;	    /* the next entry is not exitless (LIDT, INT n) */
	/* the shadow, built on its core at entry */
	int core; /* the core whose vectors the shadow's gates are, or -1 */
	uint32_t built_generation, built_wanted[8];
	uint64_t idt_base;
	uint16_t idt_limit;
	unsigned npages; /* guest pages under the IDT: 1 or 2, 0 if none */
	uint64_t idt_gpa[2];
	uint64_t shadow_hpa; /* two pages */
	struct nested_pt_clone npt;
	uint8_t gate_of[256];
	bool hw_exitless, hw_eoi_passthrough, flush;
	bool reported;
	/* counters (@vm_stats, @stats) */
	uint64_t sent;	    /* IPIs the I/O core sent straight to the guest */
	uint64_t missed;    /* ... that found the vCPU gone: delivered by the host */
	uint64_t entries;   /* entries with exitless delivery on */
	uint64_t skipped;   /* entries with it off because of an injection or event */
	uint64_t np_exits;  /* #NP exits: host interrupts that met the shadow */
	uint64_t eoi_exits; /* EOIs of exitless vectors that exited (xAPIC) */
	uint64_t idt_builds, idt_writes;
};

/* At boot, once: the cores' vector tables and the host's handlers. */
int exitless_init(void);
/* When the VM is built: whether its vCPUs use exitless delivery. */
void exitless_vcpu_init(struct vcpu *v, bool enabled);

/* Any core (a device's interrupt): true when it was sent to the guest as a
 * physical IPI; false when the caller must use the IRR and a wake-up. */
bool exitless_send(struct vcpu *v, uint8_t vector);
/* On the vCPU's core, right before it enters: chooses the mode of this
 * entry (shadow built, backend told); true when exitless. */
bool exitless_enter(struct vcpu *v);
/* Right after the exit: a host interrupt the exit caught on its way into
 * the guest is handled now. False when the exit needs nothing more. */
void exitless_exit(struct vcpu *v, struct virt_exit *x);
/* Exit handlers: #NP, LIDT and its kin, a write to a shadowed IDT page, and
 * an EOI (true when it retired an exitless vector). */
bool exitless_np(struct vcpu *v, const struct virt_exit *x);
bool exitless_descriptor_table(struct vcpu *v, const struct virt_exit *x);
bool exitless_idt_write(struct vcpu *v, const struct virt_exit *x);
bool exitless_eoi(struct vcpu *v);
/* The core stops running the vCPU: exitless vectors still in service move
 * to its virtual ISR, so the physical APIC holds nothing of it. */
void exitless_vcpu_put(struct vcpu *v);
struct record;
/* Its vCPUs' exitless counters summed into a VM's `@stats`/`@vm_stats`
 * (nothing when none of them uses exitless delivery). */
void exitless_record_sums(struct record *r, const struct vm *vm);
/* `@delivery`: which mechanism the vCPU uses, once, at its first entry. */
void exitless_report(struct vcpu *v);

#endif
