/* The CPUID a guest sees: the host's processor, less what a vCPU does not
 * have. A stock kernel believes CPUID, so every feature bit left on must be
 * one the vCPU really has:
 * - no VMX/SVM, no MONITOR/MWAIT, no machine check or MTRRs, no
 *   performance counters, no thermal or power management, no speculation
 *   controls: their MSRs are not virtualized (kernel/vmsr.c);
 * - no XSAVE and nothing that needs its state (AVX and its successors, PKU,
 *   AMX): corevisor switches the vCPU's FPU and SSE state with FXSAVE;
 * - no RDTSCP/RDPID: TSC_AUX is the host's;
 * - the virtual local APIC: x2APIC and TSC-deadline modes, its own APIC ID;
 * - an invariant TSC: guests see the host's TSC, which the host keeps in step.
 * Leaves it does not know come back zero. Above 0x40000000: corevisor's own
 * leaves (kernel/hypercall.h), and at 0x40000100 KVM's clock interface only
 * (docs/linux-guests.md, "Time"). */
#include "kernel/vcpuid.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/tsc.h"
#include "kernel/hypercall.h"
#include "kernel/vm.h"

/* Leaf 1 (SDM Vol. 2A, CPUID, Table 3-10/3-11). */
#define L1_ECX_KEEP                                                                                \
	((1u << 0) | (1u << 1) | (1u << 9) | (1u << 13) | (1u << 19) | (1u << 20) | (1u << 22) |   \
	 (1u << 23) | (1u << 25) | (1u << 30)) /* SSE3 PCLMULQDQ SSSE3 CX16 SSE4.1/4.2 MOVBE       \
						  POPCNT AES RDRAND */
#define L1_ECX_SET (CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSCDEADLINE | (1u << 31)) /* hypervisor */
#define L1_EDX_DROP                                                                                \
	((1u << 7) | (1u << 12) | (1u << 14) | (1u << 18) | (1u << 21) | (1u << 22) | (1u << 27) | \
	 (1u << 29) | (1u << 31)) /* MCE MTRR MCA PSN DS ACPI SS TM PBE */
/* Leaf 7.0 (Table 3-8): FSGSBASE BMI1 SMEP BMI2 ERMS RDSEED ADX SMAP
 * CLFLUSHOPT CLWB SHA; ECX: UMIP; EDX: FSRM. */
#define L7_EBX_KEEP                                                                                \
	((1u << 0) | (1u << 3) | (1u << 7) | (1u << 8) | (1u << 9) | (1u << 18) | (1u << 19) |     \
	 (1u << 20) | (1u << 23) | (1u << 24) | (1u << 29))
#define L7_ECX_KEEP (1u << 2)
#define L7_EDX_KEEP (1u << 4)
/* 0x80000001 (APM Vol. 3, E.4.2): ECX LAHF CmpLegacy ABM SSE4A
 * MisAlignSSE 3DNowPrefetch; EDX all but RDTSCP. */
#define LX1_ECX_KEEP ((1u << 0) | (1u << 1) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8))
#define LX1_EDX_DROP (1u << 27)
#define LX8_EBX_KEEP (1u << 0) /* CLZERO */

#define KVM_CPUID_BASE		 0x40000100
#define KVM_CPUID_FEATURES	 0x40000101
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_CLOCK_STABLE (1u << 24)

static struct cpuid_regs basic_leaf(const struct vcpu *v, uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r = cpuid(leaf, sub);

	switch (leaf) {
	case 0:
	case 2:
	case 4:
		return r; /* vendor, caches */
	case 1:
		r.ecx = (r.ecx & L1_ECX_KEEP) | L1_ECX_SET;
		r.edx = (r.edx & ~L1_EDX_DROP) | CPUID_1_EDX_APIC;
		r.ebx = (r.ebx & 0x00ffffff) | v->id << 24;
		return r;
	case 7:
		if (sub != 0)
			break;
		return (struct cpuid_regs){0, r.ebx & L7_EBX_KEEP, r.ecx & L7_ECX_KEEP,
					   r.edx & L7_EDX_KEEP};
	case 0xb:
		r.edx = v->id; /* x2APIC ID */
		return r;
	}
	return (struct cpuid_regs){0, 0, 0, 0};
}

static struct cpuid_regs extended_leaf(uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r = cpuid(leaf, sub);

	switch (leaf) {
	case 0x80000000:
	case 0x80000002:
	case 0x80000003:
	case 0x80000004:
	case 0x80000005:
	case 0x80000006:
		return r; /* highest leaf, brand string, caches */
	case 0x80000001:
		r.ecx &= LX1_ECX_KEEP;
		r.edx &= ~LX1_EDX_DROP;
		return r;
	case 0x80000007:
		return (struct cpuid_regs){0, 0, 0, CPUID_80000007_EDX_INVARIANT_TSC};
	case 0x80000008:
		return (struct cpuid_regs){r.eax, r.ebx & LX8_EBX_KEEP, 0, 0};
	}
	return (struct cpuid_regs){0, 0, 0, 0};
}

/* corevisor's leaves: vendor, features, the TSC and APIC timer frequencies;
 * KVM's: its signature and the clock features alone. */
static struct cpuid_regs hypervisor_leaf(const struct vcpu *v, uint32_t leaf)
{
	switch (leaf) {
	case HV_CPUID_VENDOR:
		return (struct cpuid_regs){HV_CPUID_TIMING, 0x65726f43, 0x69736956, 0x5648726f};
	case HV_CPUID_FEATURES:
		return (struct cpuid_regs){vm_virt()->hypercall_is_vmmcall ? HV_FEATURE_VMMCALL : 0,
					   v->vm->nvcpus, (uint32_t)v->vm->turbo_vcpu, 0};
	case HV_CPUID_TIMING: /* the APIC timer counts TSC cycles */
		return (struct cpuid_regs){(uint32_t)tsc_khz, (uint32_t)tsc_khz, 0, 0};
	case KVM_CPUID_BASE: /* "KVMKVMKVM\0\0\0" */
		return (struct cpuid_regs){KVM_CPUID_FEATURES, 0x4b4d564b, 0x564b4d56, 0x4d};
	case KVM_CPUID_FEATURES:
		return (struct cpuid_regs){KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCK_STABLE, 0,
					   0, 0};
	}
	return (struct cpuid_regs){0, 0, 0, 0};
}

struct cpuid_regs vcpuid(const struct vcpu *v, uint32_t leaf, uint32_t subleaf)
{
	if ((leaf & 0xf0000000) == 0x40000000)
		return hypervisor_leaf(v, leaf);
	if (leaf >= 0x80000000)
		return extended_leaf(leaf, subleaf);
	return basic_leaf(v, leaf, subleaf);
}
