/* What the VT-x backend's files share: the vCPU, VMREAD/VMWRITE, the
 * control-value helpers. Nothing outside arch/x86_64/vmx/ includes it. */
#ifndef ARCH_X86_64_VMX_VMX_INTERNAL_H
#define ARCH_X86_64_VMX_VMX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/virt.h"

struct virt_vcpu {
	uint64_t vmcs_pa;
	uint64_t eptp;
	uint16_t vpid;
	bool loaded;	     /* the VMCS was set up (controls, guest state) */
	int cpu;	     /* the CPU it is active on, -1 when cleared */
	bool launched;	     /* VMLAUNCH done: VMRESUME from now on */
	bool invept_pending; /* npt_flush: INVEPT before the next entry */
	uint32_t pin_controls;
	uint32_t exception_bitmap;
	uint32_t proc_controls;
	uint32_t proc2_controls;
	uint32_t *virtual_apic; /* the virtual-APIC page (APICv), or NULL */
	uint64_t virtual_apic_pa;
	bool apicv_on;		/* virtual-interrupt delivery is on for this entry */
	bool exitless;		/* physical interrupts go through the guest's IDT */
	uint64_t exitless_eptp; /* ... backed by this EPT (its clone) */
	struct virt_entry_state entry;
	uint64_t syscall_msrs[5]; /* vmx_msrs.c: while not loaded on a CPU */
	struct virt_vcpu *next;	  /* every vCPU created, newest first (vmx.c) */
};

static inline void vmwrite(uint64_t field, uint64_t value)
{
	__asm__ volatile("vmwrite %1, %0" ::"r"(field), "rm"(value) : "cc", "memory");
}

static inline uint64_t vmread(uint64_t field)
{
	uint64_t value;

	__asm__ volatile("vmread %1, %0" : "=rm"(value) : "r"(field) : "cc");
	return value;
}

/* A control value with the bits the CPU forces to 1 set and those it does
 * not allow cleared (SDM appendix A.3): low half = allowed 0, high = allowed 1. */
uint32_t adjust_controls(uint32_t want, uint32_t msr);
uint32_t control_msr(uint32_t plain, uint32_t true_msr);
/* Makes the vCPU's VMCS current on this CPU, setting it up at first use. */
int vmx_activate(struct virt_vcpu *v);

extern uint64_t vmx_msr_bitmap_pa;     /* every MSR access exits */
extern uint64_t vmx_msr_bitmap_eoi_pa; /* ... but WRMSR to the x2APIC EOI */

/* APIC virtualization (vmx_apicv.c). */
bool vmx_apicv_supported(void);
/* At VMCS set-up: the fields APICv needs, with it off. */
void vmx_apicv_setup(struct virt_vcpu *v);
int vmx_apicv_create(struct virt_vcpu *v);
bool vmx_apic_enter(struct virt_vcpu *v, const struct virt_apic_regs *r);
/* Clears the WRMSR exit bit of `msr` (0-0x1fff) in an MSR bitmap (§24.6.9). */
void vmx_msr_allow_write(uint8_t *bitmap, uint32_t msr);
/* Every MSR intercepted but those the guest owns outright (vmx_msrs.c). */
void vmx_msr_bitmap_init(uint8_t *bitmap);
/* The guest's SYSCALL MSRs, which VM entries and exits leave alone, in the
 * CPU while the vCPU is loaded on it (vmx_msrs.c). */
void vmx_guest_msrs_load(struct virt_vcpu *v);
void vmx_guest_msrs_save(struct virt_vcpu *v);
enum virt_msr_result vmx_vcpu_msr(struct virt_vcpu *v, uint32_t msr, bool write, uint64_t *value);
/* The MSR bitmap the vCPU's current mode calls for. */
uint64_t vmx_msr_bitmap(const struct virt_vcpu *v, bool eoi_passthrough);
void vmx_apic_exit(struct virt_vcpu *v, struct virt_apic_regs *r);

#endif
