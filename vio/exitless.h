/* Exitless interrupt delivery, the pure part (ELI as ELVIS uses it, paper 001
 * §2.4; design.md, "Exitless interrupts"). While a vCPU runs with physical
 * interrupts passed through to its guest, the CPU delivers every interrupt
 * through the IDT the guest's IDTR names. The hypervisor backs the guest
 * pages of that IDT, for this vCPU only, with a shadow copy (nested paging)
 * in which:
 *   - exception gates 0-31 are the guest's own: no physical interrupt uses
 *     those vectors (the local APIC refuses vectors below 16, the hypervisor
 *     programs none below 32), so guest faults need no exit;
 *   - the gate of each physical vector assigned to this vCPU on this core
 *     is a copy of the guest's gate for the guest vector it stands for;
 *   - every other gate is not present, so any other interrupt (the host's
 *     timer, a kick, an exitless IPI meant for a vCPU that left the core)
 *     raises #NP with the IDT bit set, which exits to the hypervisor.
 * Physical vectors are allocated per core, so two VMs that both use guest
 * vector 0x22 on one core get different ones. An allocation is never taken
 * back: an IPI already on its way always finds the owner it was sent for.
 *
 * No kernel/ or arch/ include: host-tested (tests/unit/test_exitless.c). */
#ifndef VIO_EXITLESS_H
#define VIO_EXITLESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The physical vectors the hypervisor hands out for exitless delivery: above
 * the exceptions and the legacy PIC's range, below the hypervisor's own
 * (VEC_TIMER 0xf0 and up), so an exitless vector in service never holds off
 * a host interrupt (SDM Vol. 3A §11.8.3: priority by vector class). */
#define EXITLESS_VEC_FIRST 0x30
#define EXITLESS_VEC_LAST  0xef

#define IDT_GATE_BYTES	   16
#define IDT_GATE_PRESENT   0x80 /* bit 47 of a gate: byte 5, bit 7 */
#define IDT_GATE_TYPE_BYTE 5
#define IDT_VECTORS	   256

/* #NP error code (SDM Vol. 3A §6.13): EXT, IDT, and the vector in 10:3. */
#define NP_ERROR_EXT	     0x1u
#define NP_ERROR_IDT	     0x2u
#define NP_ERROR_VECTOR(err) (((err) >> 3) & 0xffu)

#define EXITLESS_NO_OWNER (-1)

/* One core's physical vectors: who owns each, for which guest vector. Only
 * the core itself allocates (at a vCPU's entry); other cores read. */
struct exitless_vectors {
	int32_t owner[IDT_VECTORS]; /* a vCPU's global id, or EXITLESS_NO_OWNER */
	uint8_t guest_vector[IDT_VECTORS];
};

void exitless_vectors_init(struct exitless_vectors *t);
/* The physical vector of (owner, guest_vector) on this core, allocated on
 * first use: the guest vector itself when it is free and in range, else the
 * highest free one. -1 when the core has none left. */
int exitless_vector_alloc(struct exitless_vectors *t, int32_t owner, uint8_t guest_vector);
/* The physical vector already allocated to (owner, guest_vector), or -1. */
int exitless_vector_find(const struct exitless_vectors *t, int32_t owner, uint8_t guest_vector);
/* Who physical vector `pv` was allocated to; false when nobody. */
bool exitless_vector_owner(const struct exitless_vectors *t, uint8_t pv, int32_t *owner,
			   uint8_t *guest_vector);

/* Fills `shadow` (len bytes: the guest pages that hold the IDT) from `guest`
 * (the same pages' current contents). The IDT starts `idt_off` bytes into
 * them and ends at `idt_off + idt_limit`. gate_of[pv] is the guest vector
 * physical vector pv stands for, or 0 when pv is not assigned. Bytes that
 * are not gates are copied as they are. */
void exitless_shadow_build(uint8_t *shadow, const uint8_t *guest, size_t len, size_t idt_off,
			   uint32_t idt_limit, const uint8_t gate_of[IDT_VECTORS]);
/* Whether the guest's own gate for `vector` is present in `guest` (the same
 * layout as above): a #NP on it is then the hypervisor's doing. */
bool exitless_guest_gate_present(const uint8_t *guest, size_t len, size_t idt_off,
				 uint32_t idt_limit, uint8_t vector);

#endif
