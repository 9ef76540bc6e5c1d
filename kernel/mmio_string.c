/* MOVS and STOS on MMIO (SDM Vol. 2B, MOVS/MOVSB/MOVSW/MOVSD/MOVSQ, STOS and
 * the REP prefix), as Linux's memcpy_toio/memset_io use them: element by
 * element, RSI and RDI stepping by the element size (backwards when
 * RFLAGS.DF is set), RCX counting down under REP. Each side is the device, or
 * guest RAM reached through the guest's page tables (flat 64-bit segments). A
 * long REP is done in chunks: RIP stays on the instruction until RCX is 0, so
 * the guest re-executes it and interrupts can come in between, as on
 * hardware. */
#include <string.h>

#include "arch/x86_64/guest_walk.h"
#include "arch/x86_64/insn_decode.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/regs.h"
#include "kernel/mmio.h"
#include "kernel/vm.h"

#define ELEMENTS_PER_EXIT 4096
#define RFLAGS_DF	  (1u << 10)

/* One element at guest-linear `gva`: the device's register or guest RAM. */
static bool access(struct vcpu *v, const struct mmio_region *r, uint64_t gva, unsigned size,
		   bool write, uint64_t *value)
{
	uint64_t gpa;

	if (guest_walk(vm_virt()->vcpu_cr3(v->hw), gva, mmio_guest_read64, v->vm, &gpa))
		return false;
	if (gpa >= r->base && gpa - r->base + size <= r->size) {
		if (write)
			r->write(r->dev, v, gpa - r->base, size, *value);
		else
			*value = r->read(r->dev, v, gpa - r->base, size);
		return true;
	}
	return vcpu_access_ram(v, gva, size, write, value);
}

static bool string_element(struct vcpu *v, const struct mmio_region *r, const struct insn_mmio *i)
{
	uint64_t value = v->regs.rax;

	if (i->kind == INSN_MMIO_MOVS && !access(v, r, v->regs.rsi, i->size, false, &value))
		return false;
	return access(v, r, v->regs.rdi, i->size, true, &value);
}

int mmio_emulate_string(struct vcpu *v, const struct mmio_region *r, const struct insn_mmio *i)
{
	int64_t step = vm_virt()->vcpu_rflags(v->hw) & RFLAGS_DF ? -(int64_t)i->size : i->size;
	uint64_t left = i->rep ? v->regs.rcx : 1;

	for (unsigned n = 0; left && n < ELEMENTS_PER_EXIT; n++, left--) {
		if (!string_element(v, r, i))
			return -1;
		v->regs.rdi += step;
		if (i->kind == INSN_MMIO_MOVS)
			v->regs.rsi += step;
		if (i->rep)
			v->regs.rcx--;
	}
	return left ? 1 : 0;
}
