/* The MSRs of a vCPU (SDM Vol. 4; APM Vol. 2 App. A). In order:
 * 1. the vendor's control block (EFER, PAT, ...: virt_ops.vcpu_msr);
 * 2. the local APIC's (kernel/vlapic.c);
 * 3. those a stock kernel reads unconditionally on the processors it may
 *    find (where hardware would not fault): answered with what a vCPU has,
 *    writes that change nothing accepted;
 * 4. KVM's clock (the only paravirtual interface offered: kernel/vcpuid.c);
 * 5. every other MSR raises #GP(0), as hardware does for one it lacks: the
 *    features behind them are hidden from CPUID, so a kernel only probes
 *    them with its fault-tolerant accessors. Each is logged once per VM
 *    (`@unknown_msr`), so a gap shows in the log. */
#include <string.h>

#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/tsc.h"
#include "kernel/exitless.h"
#include "kernel/log.h"
#include "kernel/vm.h"
#include "kernel/vmsr.h"
#include "kernel/wallclock.h"

#define MSR_IA32_TSC		0x00000010
#define MSR_IA32_PLATFORM_ID	0x00000017
#define MSR_IA32_FEAT_CTL	0x0000003a
#define MSR_IA32_UCODE_REV	0x0000008b /* AMD: PATCH_LEVEL */
#define MSR_IA32_MISC_ENABLE	0x000001a0
#define MSR_IA32_DEBUGCTL	0x000001d9
#define MSR_K7_HWCR		0xc0010015
#define MSR_AMD64_NB_CFG	0xc001001f /* Linux's amd_bus.c sets EnableCF8ExtCfg */
#define MSR_AMD64_DE_CFG	0xc0011029
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

#define FEAT_CTL_LOCKED		 (1u << 0) /* and nothing enabled: no VMX, no SGX */
#define MISC_ENABLE_FAST_STRING	 (1u << 0)
#define MISC_ENABLE_BTS_UNAVAIL	 (1u << 11) /* no branch trace store */
#define MISC_ENABLE_PEBS_UNAVAIL (1u << 12)
#define HWCR_TSC_FREQ_SEL	 (1u << 24) /* the TSC counts at the P0 frequency */
#define DE_CFG_LFENCE_SERIALIZE	 (1u << 1)
#define KVM_SYSTEM_TIME_ENABLE	 1u
#define PVCLOCK_TSC_STABLE_BIT	 (1u << 0)
#define NSEC_PER_SEC		 1000000000ull
#define UNKNOWN_MSR_CHARS	 100 /* an `@unknown_msr` line, at most */

/* pvclock_vcpu_time_info (Documentation/virt/kvm/x86/msr.rst). */
struct pvclock_time {
	uint32_t version; /* even: consistent */
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time; /* ns at tsc_timestamp */
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

/* ns = ((tsc delta << shift) * mul) >> 32: mul < 2^32 once the scaled
 * frequency is above 1 GHz. */
static void pvclock_scale(uint64_t tsc_hz, int8_t *shift, uint32_t *mul)
{
	*shift = 0;
	while (tsc_hz <= NSEC_PER_SEC) {
		tsc_hz <<= 1;
		(*shift)++;
	}
	*mul = (uint32_t)((NSEC_PER_SEC << 32) / tsc_hz);
}

/* The vCPU's time page: the TSC is the same on every CPU and never
 * adjusted, so one write at enable time stays right (the stable bit). */
static bool kvm_system_time(struct vcpu *v, uint64_t value)
{
	struct pvclock_time t = {.version = 2, .flags = PVCLOCK_TSC_STABLE_BIT};
	uint64_t now = rdtsc();
	uint32_t mul;
	int8_t shift;
	void *page;

	if (!(value & KVM_SYSTEM_TIME_ENABLE))
		return true;
	page = vm_ram(v->vm, value & ~(uint64_t)KVM_SYSTEM_TIME_ENABLE, sizeof(t));
	if (!page)
		return false;
	pvclock_scale(tsc_khz * 1000, &shift, &mul);
	t.tsc_shift = shift;
	t.tsc_to_system_mul = mul;
	t.tsc_timestamp = now;
	t.system_time = tsc_to_us(now - v->vm->start_tsc) * 1000;
	memcpy(page, &t, sizeof(t));
	return true;
}

/* pvclock_wall_clock: the time of day at system time 0, the VM's first
 * entry (kernel/wallclock.c). */
static bool kvm_wall_clock(struct vcpu *v, uint64_t gpa)
{
	uint32_t *wc = vm_ram(v->vm, gpa, 12);
	uint64_t sec;
	uint32_t nsec;

	if (!wc)
		return false;
	wallclock_at(v->vm->start_tsc, &sec, &nsec);
	wc[1] = (uint32_t)sec;
	wc[2] = nsec;
	wc[0] = 2;
	return true;
}

/* Step 3: values and accepted writes (writes are kept nowhere). */
static bool platform_msr(struct vcpu *v, uint32_t msr, bool write, uint64_t *value)
{
	uint64_t r;

	switch (msr) {
	case MSR_IA32_TSC:
		r = rdtsc();
		break;
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_UCODE_REV:
	case MSR_IA32_DEBUGCTL:
	case MSR_AMD64_NB_CFG:
		r = 0;
		break;
	case MSR_IA32_FEAT_CTL:
		r = FEAT_CTL_LOCKED;
		break;
	case MSR_IA32_MISC_ENABLE:
		r = MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
		break;
	case MSR_K7_HWCR:
		r = HWCR_TSC_FREQ_SEL;
		break;
	case MSR_AMD64_DE_CFG:
		r = DE_CFG_LFENCE_SERIALIZE;
		break;
	case MSR_KVM_WALL_CLOCK_NEW:
		return write && kvm_wall_clock(v, *value);
	case MSR_KVM_SYSTEM_TIME_NEW:
		return write && kvm_system_time(v, *value);
	default:
		return false;
	}
	if (!write)
		*value = r;
	return true;
}

/* `@unknown_msr`, the first time the VM touches each (up to
 * VMSR_UNKNOWN_LOGGED of them), charged to its report budget like every
 * record a guest causes: a guest that walks the MSR space cannot hold the
 * console (kernel/vm.h). */
static void log_unknown(struct vcpu *v, uint32_t msr, bool write)
{
	struct vmsr_seen *s = &v->vm->msr_seen;
	struct record r;
	bool first = true;
	uint64_t flags = spin_lock_irqsave(&v->vm->log_lock);

	s->unknown++;
	for (unsigned i = 0; i < s->n && first; i++)
		first = s->msr[i] != msr;
	if (first && s->n < VMSR_UNKNOWN_LOGGED)
		s->msr[s->n++] = msr;
	else
		first = false;
	spin_unlock_irqrestore(&v->vm->log_lock, flags);
	if (!first || !vm_log_allowed(v->vm, VM_LOG_REPORT, UNKNOWN_MSR_CHARS))
		return;
	record_begin(&r, "unknown_msr");
	record_str(&r, "vm", v->vm->cfg->name);
	record_hex(&r, "msr", msr);
	record_str(&r, "access", write ? "write" : "read");
	record_emit(&r);
}

static bool apic_msr(struct vcpu *v, uint32_t msr, bool write, uint64_t *value)
{
	if (!write)
		return vlapic_msr_read(&v->lapic, msr, rdtsc(), value);
	if (msr == X2APIC_MSR_EOI && exitless_eoi(v))
		return true;
	return vlapic_msr_write(&v->lapic, msr, *value, rdtsc());
}

bool vmsr_access(struct vcpu *v, uint32_t msr, bool write, uint64_t *value)
{
	const struct virt_ops *virt = vm_virt();
	enum virt_msr_result own =
		virt->vcpu_msr ? virt->vcpu_msr(v->hw, msr, write, value) : VIRT_MSR_NOT_MINE;

	if (own != VIRT_MSR_NOT_MINE)
		return own == VIRT_MSR_DONE;
	if (vlapic_handles_msr(msr))
		return apic_msr(v, msr, write, value);
	if (platform_msr(v, msr, write, value))
		return true;
	log_unknown(v, msr, write);
	return false;
}
