/* INS and OUTS (SDM Vol. 2A, INS/INSB/INSW/INSD and Vol. 2B, OUTS), as
 * drivers use them for data ports: element by element between the port's
 * device (or, with none, all-ones reads and dropped writes) and guest RAM at
 * RDI or RSI, stepping backwards when RFLAGS.DF is set, RCX counting down
 * under REP. 64-bit addressing is assumed: SVM's IOIO exit does not give the
 * address size. Long REPs go in chunks, resumed by re-execution. */
#include "arch/x86_64/virt.h"
#include "kernel/mmio.h"
#include "kernel/vm.h"

#define ELEMENTS_PER_EXIT 4096
#define RFLAGS_DF	  (1u << 10)

static bool pio_element(struct vcpu *v, const struct pio_range *r, const struct virt_exit *x,
			uint64_t mask)
{
	uint64_t value = mask;

	if (x->io.in) {
		if (r)
			value = r->read(r->dev, x->io.port, x->io.size) & mask;
		return vcpu_access_ram(v, v->regs.rdi, x->io.size, true, &value);
	}
	if (!vcpu_access_ram(v, v->regs.rsi, x->io.size, false, &value))
		return false;
	if (r)
		r->write(r->dev, x->io.port, x->io.size, (uint32_t)(value & mask));
	return true;
}

int pio_emulate_string(struct vcpu *v, const struct virt_exit *x)
{
	const struct pio_range *r = pio_find(v->vm, x->io.port);
	uint64_t mask = x->io.size == 4 ? 0xffffffffull : (1ull << (8 * x->io.size)) - 1;
	int64_t step =
		vm_virt()->vcpu_rflags(v->hw) & RFLAGS_DF ? -(int64_t)x->io.size : x->io.size;
	uint64_t left = x->io.rep ? v->regs.rcx : 1;

	for (unsigned n = 0; left && n < ELEMENTS_PER_EXIT; n++, left--) {
		if (!pio_element(v, r, x, mask))
			return -1;
		if (x->io.in)
			v->regs.rdi += step;
		else
			v->regs.rsi += step;
		if (x->io.rep)
			v->regs.rcx--;
	}
	return left ? 1 : 0;
}
