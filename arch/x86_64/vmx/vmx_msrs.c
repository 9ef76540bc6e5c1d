/* The guest's MSRs under VT-x. FS/GS bases and the SYSENTER MSRs are in the
 * VMCS guest-state area, loaded at entry and saved at exit (SDM §25.4,
 * §28.3.2), so the guest may read and write them without an exit. The
 * SYSCALL MSRs (KERNEL_GS_BASE, STAR, LSTAR, CSTAR, FMASK) are not switched
 * by VM entries and exits at all: the guest owns them outright too, and they
 * are moved to and from memory when its vCPU comes to or leaves a CPU (the
 * hypervisor never uses SYSCALL or SWAPGS). EFER and PAT are VMCS fields
 * too but stay intercepted, to keep their values valid. */
#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/vmx/vmx_defs.h"
#include "arch/x86_64/vmx/vmx_internal.h"
#include "lib/config.h"

#define MSR_BITMAP_READ_HIGH  1024 /* byte offsets of the four 1 KiB bitmaps (SDM §25.6.9) */
#define MSR_BITMAP_WRITE_LOW  2048
#define MSR_BITMAP_WRITE_HIGH 3072

static const uint32_t vmcs_msrs[] = {MSR_FS_BASE, MSR_GS_BASE, MSR_IA32_SYSENTER_CS,
				     MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP};
static const uint32_t syscall_msrs[5] = {MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
					 MSR_SYSCALL_MASK};
/* whose SYSCALL MSRs each CPU holds */
static struct virt_vcpu *syscall_msrs_owner[CONFIG_MAX_CPUS];

static void pass(uint8_t *bitmap, uint32_t msr)
{
	bool high = msr >= 0xc0000000;
	uint32_t bit = msr & 0x1fff;
	uint8_t mask = (uint8_t) ~(1u << (bit % 8));

	bitmap[(high ? MSR_BITMAP_READ_HIGH : 0) + bit / 8] &= mask;
	bitmap[(high ? MSR_BITMAP_WRITE_HIGH : MSR_BITMAP_WRITE_LOW) + bit / 8] &= mask;
}

void vmx_msr_bitmap_init(uint8_t *bitmap)
{
	for (unsigned i = 0; i < 4096; i++)
		bitmap[i] = 0xff;
	for (unsigned i = 0; i < sizeof(vmcs_msrs) / sizeof(vmcs_msrs[0]); i++)
		pass(bitmap, vmcs_msrs[i]);
	for (unsigned i = 0; i < 5; i++)
		pass(bitmap, syscall_msrs[i]);
}

void vmx_guest_msrs_load(struct virt_vcpu *v)
{
	struct virt_vcpu **owner = &syscall_msrs_owner[this_cpu()->index];

	if (*owner == v)
		return;
	if (*owner)
		vmx_guest_msrs_save(*owner);
	for (unsigned i = 0; i < 5; i++)
		wrmsr(syscall_msrs[i], v->syscall_msrs[i]);
	*owner = v;
}

void vmx_guest_msrs_save(struct virt_vcpu *v)
{
	struct virt_vcpu **owner = &syscall_msrs_owner[this_cpu()->index];

	if (*owner != v)
		return;
	for (unsigned i = 0; i < 5; i++)
		v->syscall_msrs[i] = rdmsr(syscall_msrs[i]);
	*owner = NULL;
}

enum virt_msr_result vmx_vcpu_msr(struct virt_vcpu *v, uint32_t msr, bool write, uint64_t *value)
{
	(void)v; /* the current VMCS is v's: the exit is being handled */
	if (msr == MSR_EFER) {
		uint64_t efer = vmread(VMCS_GUEST_IA32_EFER);

		if (!write) {
			*value = efer;
			return VIRT_MSR_DONE;
		}
		if (*value & ~EFER_GUEST_BITS)
			return VIRT_MSR_FAULT;
		/* LMA is the CPU's to set when paging turns on (SDM §10.8.5) */
		vmwrite(VMCS_GUEST_IA32_EFER, (*value & ~EFER_LMA) | (efer & EFER_LMA));
		return VIRT_MSR_DONE;
	}
	if (msr == MSR_IA32_PAT) {
		if (write && !pat_valid(*value))
			return VIRT_MSR_FAULT;
		if (write)
			vmwrite(VMCS_GUEST_IA32_PAT, *value);
		else
			*value = vmread(VMCS_GUEST_IA32_PAT);
		return VIRT_MSR_DONE;
	}
	return VIRT_MSR_NOT_MINE;
}
