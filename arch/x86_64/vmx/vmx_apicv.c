/* APIC virtualization on VT-x (SDM Vol. 3C ch. 30): for a guest whose local
 * APIC is in x2APIC mode, "virtualize x2APIC mode", "use TPR shadow" and
 * "virtual-interrupt delivery" let the CPU deliver the interrupts requested
 * in the virtual-APIC page (RVI) when the guest can take them, with no
 * interrupt-window exit, and virtualize WRMSR to TPR and EOI (no exit).
 * The virtual LAPIC (kernel/vlapic.c) stays the register file: its IRR, ISR
 * and TPR go into the page before an entry and come back after the exit.
 * Every other x2APIC access still exits: ICR, the timer, reads. */
#include <string.h>

#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/vmx/vmx_defs.h"
#include "arch/x86_64/vmx/vmx_internal.h"
#include "kernel/mem.h"

#define APICV_PROC	     PROC_USE_TPR_SHADOW
#define APICV_PROC2	     (PROC2_VIRTUALIZE_X2APIC | PROC2_VIRTUAL_INTR_DELIVERY)
#define MSR_BITMAP_WRITE_LOW 2048 /* byte offset of the write bits of MSRs 0-0x1fff */

static uint64_t x2apic_msr_bitmap_pa; /* all exits but WRMSR to TPR and EOI */

bool vmx_apicv_supported(void)
{
	uint64_t proc =
		rdmsr(control_msr(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED));
	uint64_t proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);

	return (proc >> 32 & APICV_PROC) == APICV_PROC &&
	       (proc2 >> 32 & APICV_PROC2) == APICV_PROC2;
}

void vmx_msr_allow_write(uint8_t *bitmap, uint32_t msr)
{
	bitmap[MSR_BITMAP_WRITE_LOW + msr / 8] &= (uint8_t) ~(1u << (msr % 8));
}

static int x2apic_bitmap_ready(void)
{
	uint8_t *bitmap;

	if (x2apic_msr_bitmap_pa)
		return 0;
	x2apic_msr_bitmap_pa = mem_alloc_pages(1, 1);
	if (!x2apic_msr_bitmap_pa)
		return -1;
	bitmap = phys_to_virt(x2apic_msr_bitmap_pa);
	vmx_msr_bitmap_init(bitmap);
	vmx_msr_allow_write(bitmap, X2APIC_MSR_BASE + (APIC_TPR >> 4));
	vmx_msr_allow_write(bitmap, X2APIC_MSR_EOI);
	return 0;
}

int vmx_apicv_create(struct virt_vcpu *v)
{
	if (!vmx_apicv_supported())
		return 0;
	v->virtual_apic_pa = mem_alloc_pages(1, 1);
	if (!v->virtual_apic_pa || x2apic_bitmap_ready())
		return -1;
	v->virtual_apic = memset(phys_to_virt(v->virtual_apic_pa), 0, PAGE_SIZE);
	return 0;
}

void vmx_apicv_setup(struct virt_vcpu *v)
{
	if (!v->virtual_apic)
		return;
	vmwrite(VMCS_VIRTUAL_APIC_PAGE, v->virtual_apic_pa);
	vmwrite(VMCS_TPR_THRESHOLD, 0); /* required with virtual-interrupt delivery */
	for (int i = 0; i < 4; i++)
		vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * i, 0); /* edge-triggered: no EOI exits */
	vmwrite(VMCS_GUEST_INTR_STATUS, 0);
	v->apicv_on = false;
}

static void set_apicv(struct virt_vcpu *v, bool on)
{
	if (v->apicv_on == on)
		return;
	v->apicv_on = on;
	v->proc_controls = on ? v->proc_controls | APICV_PROC : v->proc_controls & ~APICV_PROC;
	v->proc2_controls = on ? v->proc2_controls | APICV_PROC2 : v->proc2_controls & ~APICV_PROC2;
	vmwrite(VMCS_PROC_CONTROLS, v->proc_controls);
	vmwrite(VMCS_PROC2_CONTROLS, v->proc2_controls);
	vmwrite(VMCS_MSR_BITMAP, vmx_msr_bitmap(v, false));
}

uint64_t vmx_msr_bitmap(const struct virt_vcpu *v, bool eoi_passthrough)
{
	if (v->apicv_on)
		return x2apic_msr_bitmap_pa;
	return eoi_passthrough ? vmx_msr_bitmap_eoi_pa : vmx_msr_bitmap_pa;
}

static int highest_vector(const uint32_t *bits)
{
	for (int w = 7; w >= 0; w--)
		if (bits[w])
			return w * 32 + 31 - __builtin_clz(bits[w]);
	return 0;
}

bool vmx_apic_enter(struct virt_vcpu *v, const struct virt_apic_regs *r)
{
	if (!v->virtual_apic || vmx_activate(v))
		return false;
	set_apicv(v, r != NULL);
	if (!r)
		return false;
	for (int i = 0; i < 8; i++) {
		v->virtual_apic[(APIC_IRR >> 2) + 4 * i] = r->irr[i];
		v->virtual_apic[(APIC_ISR >> 2) + 4 * i] = r->isr[i];
	}
	v->virtual_apic[APIC_TPR >> 2] = r->tpr;
	vmwrite(VMCS_GUEST_INTR_STATUS, highest_vector(r->irr) | highest_vector(r->isr) << 8);
	return true;
}

void vmx_apic_exit(struct virt_vcpu *v, struct virt_apic_regs *r)
{
	for (int i = 0; i < 8; i++) {
		r->irr[i] = v->virtual_apic[(APIC_IRR >> 2) + 4 * i];
		r->isr[i] = v->virtual_apic[(APIC_ISR >> 2) + 4 * i];
	}
	r->tpr = v->virtual_apic[APIC_TPR >> 2] & 0xff;
}
