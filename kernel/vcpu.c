/* Running a vCPU: timer expiry, interrupt injection through the vendor's
 * event injection (or an interrupt-window exit when the guest cannot take it
 * yet, SDM §26.3.1.5 / APM §15.21.4), the world switch, the exit dispatch;
 * and the IPIs its virtual APIC sends. */
#include <string.h>

#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/core_loop.h"
#include "kernel/vcpu.h"
#include "kernel/vm.h"
#include "kernel/vmexit.h"
#include "kernel/vplat_devices.h"

void vcpu_wait_for_sipi(struct vcpu *v)
{
	v->wait_for_sipi = true;
	v->halted = v->halted_for_good = true;
}

/* INIT puts a vCPU in wait-for-SIPI; a STARTUP IPI to one that waits starts
 * it in real mode at vector << 12 (SDM Vol. 3A §9.4.4.1, §11.6.1). A vCPU
 * that is running when INIT comes is not reset (only application
 * processors that are still waiting take part in a guest's start); the INIT
 * is counted and dropped. */
static void deliver_init_sipi(struct vcpu *to, const struct vlapic_ipi *ipi)
{
	if (ipi->delivery == APIC_ICR_DELIVERY_INIT && !ipi->deassert) {
		if (!to->wait_for_sipi)
			to->inits_ignored++;
		return;
	}
	if (ipi->delivery != APIC_ICR_DELIVERY_STARTUP ||
	    !__atomic_exchange_n(&to->wait_for_sipi, false, __ATOMIC_ACQ_REL))
		return; /* a second SIPI finds it started */
	to->sipi_vector = ipi->vector;
	__atomic_store_n(&to->halted_for_good, false, __ATOMIC_RELEASE);
	__atomic_store_n(&to->halted, false, __ATOMIC_RELEASE);
	core_loop_wake(to);
}

/* Fixed and lowest-priority IPIs reach the vCPUs of the sender's VM that the
 * destination names (lowest priority: the first of them, SDM §11.6.2.4
 * leaves the choice to the implementation); INIT and STARTUP start
 * application processors; NMIs are not delivered. A device's edge interrupt
 * may go exitless; a level-triggered one never does, because its EOI must
 * reach the virtual APIC (and through it the I/O APIC). */
static unsigned deliver_to_vm(struct vm *vm, const struct vlapic_ipi *ipi, const struct vcpu *from,
			      bool level)
{
	bool start = ipi->delivery == APIC_ICR_DELIVERY_INIT ||
		     ipi->delivery == APIC_ICR_DELIVERY_STARTUP;
	unsigned n = 0;

	if (ipi->delivery != APIC_ICR_DELIVERY_FIXED && ipi->delivery != APIC_ICR_DELIVERY_LOWEST &&
	    !start)
		return 0;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *to = &vm->vcpus[i];

		if (!vlapic_is_destination(&to->lapic, ipi, to == from))
			continue;
		if (start) {
			if (from && to != from)
				deliver_init_sipi(to, ipi);
			continue;
		}
		if (level)
			vcpu_interrupt_trigger(to, ipi->vector, true);
		else if (from || !exitless_send(to, ipi->vector)) /* a device's: exitless */
			vcpu_interrupt(to, ipi->vector);
		n++;
		if (ipi->delivery == APIC_ICR_DELIVERY_LOWEST)
			break;
	}
	return n;
}

static void deliver_ipi(void *ctx, const struct vlapic_ipi *ipi)
{
	struct vcpu *from = ctx;

	deliver_to_vm(from->vm, ipi, from, false);
}

/* An MSI is an interrupt message like an IPI (SDM Vol. 3A §11.11.1, .2):
 * address bits 19:12 the destination, bit 2 logical mode; data bits 7:0 the
 * vector, bits 10:8 the delivery mode. It goes where it says, never
 * redirected: the guest chose the CPU. */
unsigned vcpu_deliver_msi(struct vm *vm, uint64_t address, uint32_t data)
{
	struct vlapic_ipi ipi = {
		.dest = (uint32_t)(address >> 12) & 0xff,
		.delivery = data & APIC_ICR_DELIVERY_MASK, /* same bits as the ICR */
		.vector = (uint8_t)data,
		.logical = address & (1u << 2),
	};

	if ((address & 0xfff00000u) != 0xfee00000u || ipi.vector < 16)
		return 0;
	ipi.broadcast = ipi.dest == 0xff;
	return deliver_to_vm(vm, &ipi, NULL, false);
}

unsigned vcpu_deliver_message(struct vm *vm, const struct vlapic_ipi *ipi, bool level)
{
	if (ipi->vector < 16)
		return 0;
	return deliver_to_vm(vm, ipi, NULL, level);
}

/* The EOI of a level-triggered interrupt goes back to the VM's I/O APIC. */
static void level_eoi(void *ctx, uint8_t vector)
{
	struct vcpu *v = ctx;

	vplat_eoi(v->vm, vector);
}

#define FXSAVE_FCW   0 /* offsets in the FXSAVE area (SDM Vol. 1 Table 10-2) */
#define FXSAVE_MXCSR 24

void vcpu_init(struct vcpu *v, struct vm *vm, uint32_t id)
{
	v->vm = vm;
	v->id = id;
	v->running_on = -1;
	v->sipi_vector = -1;
	vlapic_init(&v->lapic, id, id == 0, deliver_ipi, v);
	v->lapic.timer_min_period = tsc_from_us(VCPU_TIMER_MIN_PERIOD_US);
	v->lapic.level_eoi = level_eoi;
	/* the x87 and SSE state after INIT (SDM Vol. 3A §10.1.1, Table 10-1):
	 * FCW 0x037f, every exception masked in MXCSR (0x1f80) */
	v->fpu[FXSAVE_FCW] = 0x7f;
	v->fpu[FXSAVE_FCW + 1] = 0x03;
	v->fpu[FXSAVE_MXCSR] = 0x80;
	v->fpu[FXSAVE_MXCSR + 1] = 0x1f;
}

void vcpu_kick(const struct vcpu *v)
{
	int core = __atomic_load_n(&v->running_on, __ATOMIC_ACQUIRE);

	if (core >= 0 && (uint32_t)core != this_cpu()->index)
		lapic_send_ipi(cpus[core].apic_id, VEC_KICK);
}

void vcpu_interrupt(struct vcpu *v, uint8_t vector)
{
	vcpu_interrupt_trigger(v, vector, false);
}

void vcpu_interrupt_trigger(struct vcpu *v, uint8_t vector, bool level)
{
	vlapic_set_irr_trigger(&v->lapic, vector, level);
	core_loop_wake(v);
	vcpu_kick(v);
}

bool vcpu_ready(struct vcpu *v, uint64_t now)
{
	vlapic_timer_expire(&v->lapic, now);
	if (v->halted && !v->halted_for_good && vlapic_pending_vector(&v->lapic) >= 0)
		v->halted = false;
	return !v->halted;
}

/* Only an expiry that can change something is an event: not a masked
 * timer's, nor the timer of a vCPU halted for good (interrupts off) or halted
 * with its timer's interrupt already waiting (kept out by priority). Such a
 * timer at its shortest period would make every core leave its guest 10 000
 * times a second to look at it (core_loop.c, wake_timers); its ticks are
 * counted when the vCPU runs again. */
uint64_t vcpu_next_event(const struct vcpu *v)
{
	const struct vlapic *l = &v->lapic;
	uint32_t vector = l->lvt_timer & APIC_LVT_VECTOR;

	if ((l->lvt_timer & APIC_LVT_MASKED) || v->halted_for_good ||
	    (v->halted &&
	     __atomic_load_n(&l->irr[vector / 32], __ATOMIC_RELAXED) & (1u << (vector % 32))))
		return 0;
	return vlapic_timer_deadline(l);
}

/* The highest deliverable interrupt goes in now if the guest can take it;
 * else the backend arms an interrupt-window exit and it waits in the IRR. */
static void offer_interrupt(struct vcpu *v)
{
	int vector = vlapic_pending_vector(&v->lapic);

	if (vector >= 0 && vm_virt()->vcpu_inject_interrupt(v->hw, (uint8_t)vector)) {
		vlapic_accept(&v->lapic, (uint8_t)vector);
		v->irqs_injected++;
	}
}

/* With hardware virtual-interrupt delivery the CPU takes the APIC's IRR,
 * ISR and TPR for the run; otherwise the highest deliverable interrupt is
 * offered for injection. Returns whether the CPU has the registers. */
static bool prepare_interrupts(struct vcpu *v, struct virt_apic_regs *taken)
{
	const struct virt_ops *virt = vm_virt();

	/* Not for an exitless vCPU: the EOI of an injected interrupt must exit,
	 * so that its next entry can be exitless again (kernel/exitless.h) */
	if (virt->vcpu_apic_enter && !v->eli.enabled && vlapic_hw_delivery_possible(&v->lapic)) {
		vlapic_hw_take(&v->lapic, taken->irr, taken->isr, &taken->tpr);
		v->apic_hw_on = virt->vcpu_apic_enter(v->hw, taken);
		if (v->apic_hw_on)
			return true;
		vlapic_hw_give(&v->lapic, taken->irr, taken->irr, taken->isr, taken->tpr);
	} else if (v->apic_hw_on) { /* the guest left x2APIC mode: the CPU gives it up */
		virt->vcpu_apic_enter(v->hw, NULL);
		v->apic_hw_on = false;
	}
	offer_interrupt(v);
	return false;
}

static void finish_interrupts(struct vcpu *v, const struct virt_apic_regs *taken)
{
	struct virt_apic_regs now;

	vm_virt()->vcpu_apic_exit(v->hw, &now);
	v->irqs_injected += vlapic_hw_give(&v->lapic, taken->irr, now.irr, now.isr, now.tpr);
}

/* A STARTUP IPI's vector takes effect here, on the core that will run the
 * vCPU (VT-x writes the state into the VMCS current on this CPU). */
static void start_from_sipi(struct vcpu *v)
{
	int vector = __atomic_exchange_n(&v->sipi_vector, -1, __ATOMIC_ACQ_REL);

	if (vector < 0)
		return;
	vm_virt()->vcpu_set_entry(
		v->hw, &(struct virt_entry_state){.real_mode = true,
						  .cs_selector = (uint16_t)(vector << 8)});
	memset(&v->regs, 0, sizeof(v->regs));
}

void vcpu_run_until(struct vcpu *v, uint64_t end)
{
	struct virt_apic_regs taken;
	struct virt_exit exit;

	start_from_sipi(v);
	for (;;) {
		uint64_t now = rdtsc(), deadline = end, timer;
		bool hw_apic;

		if (now >= end || v->vm->state == VM_STOPPED || !vcpu_ready(v, now))
			return;
		timer = vcpu_next_event(v);
		if (timer && timer < deadline)
			deadline = timer;
		hw_apic = !exitless_enter(v) && prepare_interrupts(v, &taken);
		vm_virt()->vcpu_run(v->hw, &v->regs, &exit, deadline);
		exitless_exit(v, &exit);
		if (hw_apic)
			finish_interrupts(v, &taken);
		if (!vmexit_handle(v, &exit) || exit.reason == VIRT_EXIT_EXTERNAL_INTERRUPT ||
		    exit.reason == VIRT_EXIT_DEADLINE)
			return;
	}
}

/* The xAPIC page at its default base, per vCPU as on hardware: the access
 * reaches the APIC of the vCPU that made it. Aligned 32-bit accesses only
 * (SDM §11.4.1); others read zero and are dropped. */
static uint64_t apic_page_read(void *dev, struct vcpu *v, uint64_t offset, unsigned size)
{
	(void)dev;
	if (size != 4 || offset & 0xf)
		return 0;
	return vlapic_mmio_read(&v->lapic, (uint32_t)offset, rdtsc());
}

static void apic_page_write(void *dev, struct vcpu *v, uint64_t offset, unsigned size,
			    uint64_t value)
{
	(void)dev;
	if (offset == APIC_EOI && exitless_eoi(v))
		return;
	if (size == 4 && !(offset & 0xf))
		vlapic_mmio_write(&v->lapic, (uint32_t)offset, (uint32_t)value, rdtsc());
}

int vcpu_attach_apic_page(struct vm *vm)
{
	const struct mmio_region r = {XAPIC_DEFAULT_BASE, 0x1000,	   "local APIC",
				      apic_page_read,	  apic_page_write, NULL};

	return mmio_register(vm, &r);
}
