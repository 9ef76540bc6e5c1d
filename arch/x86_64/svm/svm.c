/* AMD SVM behind the virt_ops interface (AMD64 APM Vol. 2, ch. 15). Written
 * for the CPUs the project meets: with or without next-RIP saving (QEMU's TCG
 * has none: then the exit handlers give the instruction length), always
 * flushing with TLB_CONTROL (no flush-by-ASID there either). */
#include <string.h>

#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/nested_pt.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/svm/svm_defs.h"
#include "arch/x86_64/svm/vmcb.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/virt.h"
#include "kernel/mem.h"

#define NPT_PRESENT 0x001ull
#define NPT_WRITE   0x002ull
#define NPT_USER    0x004ull /* nested walks are user accesses (APM §15.25.5) */
#define NPT_LARGE   0x080ull
#define NPT_ADDR    0x000ffffffffff000ull
#define NPT_TABLE   (NPT_PRESENT | NPT_WRITE | NPT_USER)
#define PAT_DEFAULT 0x0007040600070406ull

struct virt_vcpu {
	struct vmcb *vmcb;
	uint64_t vmcb_pa;
	uint64_t host_save_pa;	/* VMSAVE area of the host's own state */
	bool flush_pending;	/* npt_flush: TLB_CONTROL at the next VMRUN */
	struct virt_vcpu *next; /* every vCPU created, newest first */
	uint64_t vm_root;	/* the VM's nested root (n_cr3 when not exitless) */
};

static bool has_nrip_save;
static uint64_t iopm_pa, msrpm_pa; /* shared: every port and MSR intercepted */
static uint64_t msrpm_eoi_pa;	   /* ... but writes to the x2APIC EOI MSR */

void svm_enter(uint64_t vmcb_pa, struct virt_regs *regs, uint64_t host_save_pa);

static void *page_zalloc(uint64_t npages, uint64_t *pa)
{
	*pa = mem_alloc_pages(npages, 1);
	if (!*pa)
		return NULL;
	return memset(phys_to_virt(*pa), 0, npages * PAGE_SIZE);
}

static int svm_cpu_enable(void)
{
	uint64_t hsave, vm_cr;

	/* Disabled by firmware (APM §15.4)? Bochs has no VM_CR: then it is not. */
	if (!rdmsr_safe(MSR_VM_CR, &vm_cr) && (vm_cr & VM_CR_SVMDIS))
		return -1;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	if (!page_zalloc(1, &hsave))
		return -1;
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	has_nrip_save = cpuid(0x8000000a, 0).edx & CPUID_8000000A_EDX_NRIPS;
	return 0;
}

static const struct nested_pt_format npt_format = {NPT_TABLE, NPT_TABLE | NPT_LARGE, NPT_TABLE};

static int svm_npt_map(uint64_t root, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	return nested_pt_map(&npt_format, root, gpa, hpa, size);
}

static int svm_npt_unmap(uint64_t root, uint64_t gpa, uint64_t size)
{
	return nested_pt_unmap(&npt_format, root, gpa, size);
}

static int svm_npt_protect(uint64_t root, uint64_t gpa, bool writable)
{
	return nested_pt_set_writable(&npt_format, root, gpa, writable);
}

static int svm_npt_clone(struct nested_pt_clone *c, uint64_t base, const uint64_t *gpa,
			 const uint64_t *hpa, unsigned n)
{
	return nested_pt_clone(&npt_format, c, base, gpa, hpa, n);
}

/* MSRs VMRUN/VMSAVE/VMLOAD switch with the VMCB (APM §15.5.1, §15.30.4
 * VMLOAD/VMSAVE): the guest reads and writes them without an exit. EFER and
 * PAT stay intercepted: EFER.SVME must stay set under the guest (§15.5.1),
 * and svm_vcpu_msr keeps both in the VMCB. */
static const uint32_t vmcb_msrs[] = {
	MSR_FS_BASE,
	MSR_GS_BASE,
	MSR_KERNEL_GS_BASE,
	MSR_STAR,
	MSR_LSTAR,
	MSR_CSTAR,
	MSR_SYSCALL_MASK,
	MSR_IA32_SYSENTER_CS,
	MSR_IA32_SYSENTER_ESP,
	MSR_IA32_SYSENTER_EIP,
};

static void msrpm_pass(uint8_t *pm, uint32_t msr)
{
	uint32_t range = msr < SVM_MSRPM_RANGE_MSRS ? 0 : msr >= 0xc0010000 ? 2 : 1;
	uint32_t bit = SVM_MSRPM_WRITE_BIT(msr & (SVM_MSRPM_RANGE_MSRS - 1)) - 1;

	pm += range * SVM_MSRPM_RANGE_BYTES;
	pm[bit / 8] &= (uint8_t) ~(3u << (bit % 8)); /* the read bit and the write bit */
}

static void msrpm_init(uint8_t *pm)
{
	memset(pm, 0xff, SVM_MSRPM_PAGES * PAGE_SIZE);
	for (unsigned i = 0; i < sizeof(vmcb_msrs) / sizeof(vmcb_msrs[0]); i++)
		msrpm_pass(pm, vmcb_msrs[i]);
}

static bool bitmaps_ready(void)
{
	if (iopm_pa)
		return true;
	if (!page_zalloc(SVM_IOPM_PAGES, &iopm_pa) || !page_zalloc(SVM_MSRPM_PAGES, &msrpm_pa) ||
	    !page_zalloc(SVM_MSRPM_PAGES, &msrpm_eoi_pa))
		return false;
	memset(phys_to_virt(iopm_pa), 0xff, SVM_IOPM_PAGES * PAGE_SIZE);
	msrpm_init(phys_to_virt(msrpm_pa));
	msrpm_init(phys_to_virt(msrpm_eoi_pa));
	((uint8_t *)phys_to_virt(msrpm_eoi_pa))[SVM_MSRPM_WRITE_BIT(X2APIC_MSR_EOI) / 8] &=
		(uint8_t) ~(1u << (SVM_MSRPM_WRITE_BIT(X2APIC_MSR_EOI) % 8));
	return true;
}

static void setup_control(struct vmcb_control *c, uint64_t npt_root, uint32_t asid)
{
	c->intercept_exceptions = 0;
	c->intercept_misc3 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_CPUID |
			     SVM_INTERCEPT_HLT | SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR |
			     SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_INVD;
	/* VMRUN must be intercepted (APM §15.5.1); the other SVM instructions
	 * would let the guest touch host state. */
	c->intercept_misc4 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
			     SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			     SVM_INTERCEPT_SKINIT;
	c->iopm_base_pa = iopm_pa;
	c->msrpm_base_pa = msrpm_pa;
	c->guest_asid = asid;
	c->tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	/* Physical interrupts exit the guest whatever the guest's IF: the host's
	 * IF at VMRUN decides (APM §15.21.1). Exitless delivery (the I/O-core
	 * issue) will clear this for the vCPUs that take IPIs directly. */
	c->int_control = SVM_V_INTR_MASKING;
	c->np_enable = 1;
	c->n_cr3 = npt_root;
}

/* vCPUs are created on the boot CPU only, while VMs are built, as many as
 * the VMs have (mem_alloc_object); npt_flush walks the list. */
static struct virt_vcpu *svm_vcpus;

static struct virt_vcpu *svm_vcpu_create(uint64_t npt_root, uint32_t asid, uint32_t unused)
{
	struct virt_vcpu *v;

	(void)unused;
	if (!bitmaps_ready() || !(v = mem_alloc_object(sizeof(*v))))
		return NULL;
	v->vmcb = page_zalloc(1, &v->vmcb_pa);
	if (!v->vmcb || !page_zalloc(1, &v->host_save_pa))
		return NULL;
	setup_control(&v->vmcb->control, npt_root, asid ? asid : 1);
	v->vm_root = npt_root;
	v->next = svm_vcpus;
	__atomic_store_n(&svm_vcpus, v, __ATOMIC_RELEASE);
	return v;
}

static void set_segment(struct vmcb_segment *s, uint16_t sel, uint16_t attrib, uint32_t limit)
{
	*s = (struct vmcb_segment){sel, attrib, limit, 0};
}

/* Real mode after INIT-SIPI (SDM Vol. 3A §9.1.1 Table 9-1 for the rest):
 * SVM runs it natively, under nested paging. */
static void set_real_mode_entry(struct vmcb_save *s, const struct virt_entry_state *e)
{
	s->cs = (struct vmcb_segment){e->cs_selector, SVM_SEG_REAL_CODE, 0xffff,
				      (uint64_t)e->cs_selector << 4};
	set_segment(&s->ds, 0, SVM_SEG_REAL_DATA, 0xffff);
	s->es = s->ss = s->fs = s->gs = s->ds;
	set_segment(&s->tr, 0, SVM_SEG_TSS16_BUSY, 0xffff);
	set_segment(&s->ldtr, 0, SVM_SEG_LDT, 0xffff);
	set_segment(&s->gdtr, 0, 0, 0xffff);
	set_segment(&s->idtr, 0, 0, 0xffff);
	s->efer = EFER_SVME;
	s->cr0 = X86_CR0_ET | X86_CR0_NE;
	s->cr4 = s->cr3 = 0;
}

static void svm_vcpu_set_entry(struct virt_vcpu *v, const struct virt_entry_state *e)
{
	struct vmcb_save *s = &v->vmcb->save;

	s->cpl = 0;
	s->rflags = 2; /* bit 1 is always set */
	s->rip = e->rip;
	s->rsp = e->rsp;
	s->dr7 = 0x400;
	s->dr6 = 0xffff0ff0;
	s->g_pat = PAT_DEFAULT;
	if (e->real_mode) {
		set_real_mode_entry(s, e);
		return;
	}
	set_segment(&s->cs, 0x08, e->long_mode ? SVM_SEG_CODE64 : SVM_SEG_CODE32, 0xffffffff);
	set_segment(&s->ds, 0x10, SVM_SEG_DATA, 0xffffffff);
	s->es = s->ss = s->fs = s->gs = s->ds;
	set_segment(&s->tr, 0, SVM_SEG_TSS64, 0x67);
	set_segment(&s->ldtr, 0, SVM_SEG_LDT, 0);
	set_segment(&s->gdtr, 0, 0, 0);
	set_segment(&s->idtr, 0, 0, 0); /* no IDT: a guest fault is a triple fault */
	/* 64-bit mode with paging, or flat 32-bit protected mode without */
	s->efer = (e->long_mode ? EFER_LME | EFER_LMA : 0) | EFER_SVME; /* SVME: §15.5.1 */
	s->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | (e->long_mode ? X86_CR0_PG : 0);
	s->cr4 = e->long_mode ? X86_CR4_PAE : 0;
	s->cr3 = e->long_mode ? e->cr3 : 0;
}

/* EXITINTINFO's event, normalized (APM §15.7.2). */
static void decode_vectoring(uint64_t info, struct virt_exit *x)
{
	static const enum virt_event_type types[8] = {
		[0] = VIRT_EVENT_EXTINT,
		[2] = VIRT_EVENT_NMI,
		[3] = VIRT_EVENT_EXCEPTION,
		[4] = VIRT_EVENT_SOFTWARE,
	};

	if (!(info & SVM_EVENTINJ_VALID))
		return;
	x->vectoring = types[(info & SVM_EVENTINJ_TYPE_MASK) >> 8];
	x->vectoring_vector = (uint8_t)(info & SVM_EVENTINJ_VECTOR);
	/* QEMU's TCG labels an external interrupt an exception; no exception
	 * has a vector above 31 (design.md, emulator facts) */
	if (x->vectoring == VIRT_EVENT_EXCEPTION && x->vectoring_vector >= 32)
		x->vectoring = VIRT_EVENT_EXTINT;
}

/* The normalized exit of what the VMCB says (APM appendix C). */
static void decode_exit(const struct vmcb *vmcb, struct virt_exit *x)
{
	const struct vmcb_control *c = &vmcb->control;
	uint64_t info1 = c->exit_info1;

	memset(x, 0, sizeof(*x));
	x->vendor_code = c->exit_code;
	x->rip = vmcb->save.rip;
	decode_vectoring(c->exit_int_info, x);
	if (has_nrip_save && c->next_rip > x->rip)
		x->insn_len = (uint8_t)(c->next_rip - x->rip);
	switch (c->exit_code) {
	case SVM_EXIT_CPUID:
		x->reason = VIRT_EXIT_CPUID;
		x->insn_len = 2;
		break;
	case SVM_EXIT_HLT:
		x->reason = VIRT_EXIT_HLT;
		x->insn_len = 1;
		break;
	case SVM_EXIT_VMMCALL:
		x->reason = VIRT_EXIT_HYPERCALL;
		x->insn_len = 3;
		break;
	case SVM_EXIT_MSR:
		x->reason = info1 ? VIRT_EXIT_MSR_WRITE : VIRT_EXIT_MSR_READ;
		x->insn_len = 2;
		break;
	case SVM_EXIT_IOIO:
		x->reason = VIRT_EXIT_IO;
		x->io.port = (uint16_t)(info1 >> SVM_IOIO_PORT_SHIFT);
		x->io.size = (info1 >> SVM_IOIO_SZ_SHIFT) & 7;
		x->io.in = info1 & SVM_IOIO_TYPE_IN;
		x->io.string = info1 & SVM_IOIO_STR;
		x->io.rep = info1 & SVM_IOIO_REP;
		/* EXITINFO2 holds the next RIP even without next-RIP saving */
		x->insn_len = (uint8_t)(c->exit_info2 - x->rip);
		break;
	case SVM_EXIT_NPF:
		x->reason = VIRT_EXIT_NESTED_PAGE_FAULT;
		x->npf.gpa = c->exit_info2;
		x->npf.write = info1 & SVM_NPF_WRITE;
		x->npf.fetch = info1 & SVM_NPF_FETCH;
		break;
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
		x->reason = VIRT_EXIT_EXTERNAL_INTERRUPT;
		break;
	case SVM_EXIT_VINTR:
		x->reason = VIRT_EXIT_INTERRUPT_WINDOW;
		break;
	case SVM_EXIT_SHUTDOWN:
		x->reason = VIRT_EXIT_TRIPLE_FAULT;
		break;
	case SVM_EXIT_IDTR_WRITE:
		x->reason = VIRT_EXIT_DESCRIPTOR_TABLE;
		break;
	case SVM_EXIT_INVALID:
		x->reason = VIRT_EXIT_INVALID_STATE;
		break;
	default:
		x->reason = VIRT_EXIT_OTHER;
		if (c->exit_code >= SVM_EXIT_EXCP_BASE && c->exit_code <= SVM_EXIT_EXCP_LAST) {
			x->reason = VIRT_EXIT_EXCEPTION;
			x->exception.vector = (uint32_t)(c->exit_code - SVM_EXIT_EXCP_BASE);
			x->exception.error = (uint32_t)info1;
		}
	}
}

/* After an exit: an event whose delivery the exit interrupted is delivered
 * again (EXITINTINFO, APM §15.7.2; test its valid bit, not the vector: QEMU
 * leaves old vectors there), and any interrupt-window request ends; the
 * caller asks again if it must. */
static void after_exit(struct vmcb_control *c)
{
	c->tlb_control = 0;
	c->event_inject = c->exit_int_info & SVM_EVENTINJ_VALID ? c->exit_int_info : 0;
	c->int_control &= ~(SVM_V_IRQ | SVM_V_INTR_PRIO_MAX | SVM_V_IGN_TPR);
	c->intercept_misc3 &= ~SVM_INTERCEPT_VINTR;
}

/* Without flush-by-ASID (QEMU) the flush is TLB_CONTROL = flush all, at
 * each affected vCPU's next VMRUN (APM §15.16.1). */
static void svm_npt_flush(uint64_t root)
{
	for (struct virt_vcpu *v = __atomic_load_n(&svm_vcpus, __ATOMIC_ACQUIRE); v; v = v->next)
		if (v->vmcb->control.n_cr3 == root)
			__atomic_store_n(&v->flush_pending, true, __ATOMIC_RELEASE);
}

/* The host's one-shot timer bounds the run: its interrupt exits the guest
 * (INTR intercept with V_INTR_MASKING). */
static void svm_vcpu_run(struct virt_vcpu *v, struct virt_regs *regs, struct virt_exit *exit,
			 uint64_t deadline)
{
	timer_arm_deadline(deadline);
	if (__atomic_exchange_n(&v->flush_pending, false, __ATOMIC_ACQ_REL))
		v->vmcb->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	v->vmcb->save.rax = regs->rax;
	svm_enter(v->vmcb_pa, regs, v->host_save_pa);
	regs->rax = v->vmcb->save.rax;
	after_exit(&v->vmcb->control);
	decode_exit(v->vmcb, exit);
}

static void svm_vcpu_put(struct virt_vcpu *v)
{
	(void)v; /* the VMCB and the host save area serve any CPU */
}

static void svm_vcpu_skip_instruction(struct virt_vcpu *v, const struct virt_exit *exit)
{
	v->vmcb->save.rip += exit->insn_len;
	v->vmcb->control.int_state &= ~1u; /* the shadow of a skipped STI/MOV SS ends */
}

static uint64_t svm_vcpu_rip(const struct virt_vcpu *v)
{
	return v->vmcb->save.rip;
}

static void svm_vcpu_inject_exception(struct virt_vcpu *v, uint8_t vector, bool has_error,
				      uint32_t error)
{
	v->vmcb->control.event_inject = vector | SVM_EVENTINJ_TYPE_EXCEPTION | SVM_EVENTINJ_VALID |
					(has_error ? SVM_EVENTINJ_ERROR_VALID : 0) |
					((uint64_t)error << 32);
}

/* An external interrupt goes in only when the guest could take one now:
 * its (virtual) IF set, no interrupt shadow, no event already queued;
 * otherwise a virtual interrupt request makes the VINTR exit say when. */
static bool svm_vcpu_inject_interrupt(struct virt_vcpu *v, uint8_t vector)
{
	struct vmcb_control *c = &v->vmcb->control;

	if (!(v->vmcb->save.rflags & RFLAGS_IF) || (c->int_state & SVM_INT_STATE_SHADOW) ||
	    (c->event_inject & SVM_EVENTINJ_VALID)) {
		c->int_control |= SVM_V_IRQ | SVM_V_INTR_PRIO_MAX | SVM_V_IGN_TPR;
		c->intercept_misc3 |= SVM_INTERCEPT_VINTR;
		return false;
	}
	c->event_inject = vector | SVM_EVENTINJ_TYPE_INTR | SVM_EVENTINJ_VALID;
	return true;
}

/* Exitless: the INTR intercept off and V_INTR_MASKING clear, so a physical
 * interrupt waits for the guest's own IF and is delivered through its IDT
 * (APM §15.21.1; design.md: with V_INTR_MASKING set the guest's CLI would not
 * hold it); #NP and LIDT exit. A change of nested root flushes the ASID's
 * translations, which were made through the other root. */
static bool svm_vcpu_set_delivery(struct virt_vcpu *v, const struct virt_delivery *d)
{
	struct vmcb_control *c = &v->vmcb->control;
	uint64_t root = d->exitless ? d->npt_root : v->vm_root;

	if (d->exitless) {
		c->intercept_misc3 =
			(c->intercept_misc3 & ~SVM_INTERCEPT_INTR) | SVM_INTERCEPT_IDTR_WRITE;
		c->int_control &= ~SVM_V_INTR_MASKING;
		c->intercept_exceptions |= 1u << VEC_NP;
	} else {
		c->intercept_misc3 =
			(c->intercept_misc3 | SVM_INTERCEPT_INTR) & ~SVM_INTERCEPT_IDTR_WRITE;
		c->int_control |= SVM_V_INTR_MASKING;
		c->intercept_exceptions &= ~(1u << VEC_NP);
	}
	c->msrpm_base_pa = d->exitless && d->eoi_passthrough ? msrpm_eoi_pa : msrpm_pa;
	if (c->n_cr3 != root || d->flush) {
		c->n_cr3 = root;
		c->tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	}
	return true;
}

static void svm_vcpu_cancel_event(struct virt_vcpu *v)
{
	v->vmcb->control.event_inject = 0;
}

static bool svm_vcpu_event_queued(struct virt_vcpu *v)
{
	return v->vmcb->control.event_inject & SVM_EVENTINJ_VALID;
}

static uint64_t svm_vcpu_idtr(const struct virt_vcpu *v, uint16_t *limit)
{
	*limit = (uint16_t)v->vmcb->save.idtr.limit;
	return v->vmcb->save.idtr.base;
}

static uint64_t svm_vcpu_rflags(const struct virt_vcpu *v)
{
	return v->vmcb->save.rflags;
}

static uint64_t svm_vcpu_cr3(const struct virt_vcpu *v)
{
	return v->vmcb->save.cr3;
}

static enum virt_msr_result svm_vcpu_msr(struct virt_vcpu *v, uint32_t msr, bool write,
					 uint64_t *value)
{
	struct vmcb_save *s = &v->vmcb->save;

	if (msr == MSR_EFER) {
		if (!write) {
			*value = s->efer & ~EFER_SVME; /* the guest never set it */
			return VIRT_MSR_DONE;
		}
		if (*value & ~EFER_GUEST_BITS)
			return VIRT_MSR_FAULT;
		/* LMA is the CPU's to set when paging turns on (APM §14.6.2) */
		s->efer = (*value & ~EFER_LMA) | (s->efer & EFER_LMA) | EFER_SVME;
		return VIRT_MSR_DONE;
	}
	if (msr == MSR_IA32_PAT) {
		if (write && !pat_valid(*value))
			return VIRT_MSR_FAULT;
		if (write)
			s->g_pat = *value;
		else
			*value = s->g_pat;
		return VIRT_MSR_DONE;
	}
	return VIRT_MSR_NOT_MINE;
}

const struct virt_ops svm_ops = {
	.name = "svm",
	.cpu_enable = svm_cpu_enable,
	.npt_create = nested_pt_create,
	.npt_map = svm_npt_map,
	.npt_unmap = svm_npt_unmap,
	.npt_flush = svm_npt_flush,
	.npt_protect = svm_npt_protect,
	.npt_clone = svm_npt_clone,
	.vcpu_create = svm_vcpu_create,
	.vcpu_set_entry = svm_vcpu_set_entry,
	.vcpu_run = svm_vcpu_run,
	.vcpu_put = svm_vcpu_put,
	.vcpu_skip_instruction = svm_vcpu_skip_instruction,
	.vcpu_inject_exception = svm_vcpu_inject_exception,
	.vcpu_inject_interrupt = svm_vcpu_inject_interrupt,
	.vcpu_set_delivery = svm_vcpu_set_delivery,
	.vcpu_cancel_event = svm_vcpu_cancel_event,
	.vcpu_event_queued = svm_vcpu_event_queued,
	.vcpu_idtr = svm_vcpu_idtr,
	.vcpu_rip = svm_vcpu_rip,
	.vcpu_rflags = svm_vcpu_rflags,
	.vcpu_cr3 = svm_vcpu_cr3,
	.vcpu_msr = svm_vcpu_msr,
	.hypercall_is_vmmcall = true,
};
