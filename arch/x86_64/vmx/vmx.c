/* Intel VT-x behind the virt_ops interface (SDM Vol. 3C, ch. 23-29). Every
 * control is derived from the (true) capability MSRs, so the same code runs
 * on Bochs' models and on servers. A VMCS is set up on the CPU that runs it,
 * at its first entry: VMPTRLD binds it to that CPU. */
#include <string.h>

#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/nested_pt.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/virt.h"
#include "arch/x86_64/vmx/vmx_defs.h"
#include "arch/x86_64/vmx/vmx_internal.h"
#include "kernel/log.h"
#include "kernel/mem.h"

/* Every vCPU created (on the boot CPU only, as many as the VMs have:
 * mem_alloc_object), newest first; npt_flush walks the list. */
static struct virt_vcpu *vmx_vcpus;
static uint64_t current_vmcs[MAX_CPUS]; /* what VMPTRLD made current, per CPU */
uint64_t vmx_msr_bitmap_pa, vmx_msr_bitmap_eoi_pa;
static uint64_t io_bitmap_pa;	 /* shared: every port exits */
static unsigned preemption_rate; /* the timer ticks at TSC >> this (read at VMXON) */
static const struct nested_pt_format ept_format = {EPT_RWX, EPT_RWX | EPT_MT_WB | EPT_LARGE,
						   EPT_RWX | EPT_MT_WB};

int vmx_enter(struct virt_regs *regs, int launched);
extern char vmx_exit_entry[];

/* A control value with the bits the CPU forces to 1 set and those it does
 * not allow cleared (SDM appendix A.3): low half = allowed 0, high = allowed 1. */
uint32_t adjust_controls(uint32_t want, uint32_t msr)
{
	uint64_t cap = rdmsr(msr);

	return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

uint32_t control_msr(uint32_t plain, uint32_t true_msr)
{
	return rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS ? true_msr : plain;
}

bool vmx_usable(const char **why)
{
	uint64_t proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;

	if (!(proc2 & PROC2_ENABLE_EPT)) {
		*why = "VT-x without EPT";
		return false;
	}
	if (!(proc2 & PROC2_ENABLE_VPID)) {
		*why = "VT-x without VPID";
		return false;
	}
	if (!(rdmsr(control_msr(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED)) >> 32 &
	      PIN_PREEMPTION_TIMER)) {
		*why = "VT-x without the VMX-preemption timer";
		return false;
	}
	return true;
}

static uint64_t fixed_bits(uint64_t value, uint32_t fixed0, uint32_t fixed1)
{
	return (value | rdmsr(fixed0)) & rdmsr(fixed1);
}

/* VMXON (SDM §23.7): feature-control lock, the CR0/CR4 fixed bits, CR4.VMXE. */
static int vmx_cpu_enable(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL), region;
	uint8_t failed;

	if (!(fc & FEATURE_CONTROL_LOCKED))
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX);
	else if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX))
		return -1; /* locked off by the firmware */
	write_cr0(fixed_bits(read_cr0(), MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1));
	write_cr4(fixed_bits(read_cr4() | X86_CR4_VMXE, MSR_IA32_VMX_CR4_FIXED0,
			     MSR_IA32_VMX_CR4_FIXED1));
	preemption_rate = rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_PREEMPTION_RATE;
	region = mem_alloc_pages(1, 1);
	if (!region)
		return -1;
	memset(phys_to_virt(region), 0, PAGE_SIZE);
	*(uint32_t *)phys_to_virt(region) = (uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7fffffff;
	__asm__ volatile("vmxon %1; setbe %0" : "=qm"(failed) : "m"(region) : "cc", "memory");
	return failed ? -1 : 0;
}

static int vmx_ept_map(uint64_t root, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	return nested_pt_map(&ept_format, root, gpa, hpa, size);
}

static int vmx_ept_unmap(uint64_t root, uint64_t gpa, uint64_t size)
{
	return nested_pt_unmap(&ept_format, root, gpa, size);
}

static int vmx_npt_protect(uint64_t root, uint64_t gpa, bool writable)
{
	return nested_pt_set_writable(&ept_format, root, gpa, writable);
}

static int vmx_npt_clone(struct nested_pt_clone *c, uint64_t base, const uint64_t *gpa,
			 const uint64_t *hpa, unsigned n)
{
	return nested_pt_clone(&ept_format, c, base, gpa, hpa, n);
}

/* INVEPT only reaches the CPU that executes it (SDM §29.4.3.1), so each
 * vCPU of the EPT does it on its own CPU before its next entry. */
static void vmx_ept_flush(uint64_t root)
{
	for (struct virt_vcpu *v = __atomic_load_n(&vmx_vcpus, __ATOMIC_ACQUIRE); v; v = v->next)
		if ((v->eptp & ~0xfffull) == root)
			__atomic_store_n(&v->invept_pending, true, __ATOMIC_RELEASE);
}

/* Single-context INVEPT where the CPU has it, else all-context. */
static void invept(uint64_t eptp)
{
	struct {
		uint64_t eptp, reserved;
	} desc = {eptp, 0};
	uint64_t type = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) & EPT_CAP_INVEPT_SINGLE
				? INVEPT_SINGLE_CONTEXT
				: INVEPT_ALL_CONTEXT;

	__asm__ volatile("invept %0, %1" ::"m"(desc), "r"(type) : "cc", "memory");
}

/* The MSR bitmap (one page) and I/O bitmaps A and B (two pages), all ones:
 * every MSR access and every port exits (SDM §24.6.4, §24.6.9). */
static bool bitmaps_ready(void)
{
	if (vmx_msr_bitmap_pa)
		return true;
	vmx_msr_bitmap_pa = mem_alloc_pages(1, 1);
	vmx_msr_bitmap_eoi_pa = mem_alloc_pages(1, 1);
	io_bitmap_pa = mem_alloc_pages(2, 1);
	if (!vmx_msr_bitmap_pa || !vmx_msr_bitmap_eoi_pa || !io_bitmap_pa) {
		vmx_msr_bitmap_pa = 0;
		return false;
	}
	vmx_msr_bitmap_init(phys_to_virt(vmx_msr_bitmap_pa));
	vmx_msr_bitmap_init(phys_to_virt(vmx_msr_bitmap_eoi_pa));
	vmx_msr_allow_write(phys_to_virt(vmx_msr_bitmap_eoi_pa), X2APIC_MSR_EOI);
	memset(phys_to_virt(io_bitmap_pa), 0xff, 2 * PAGE_SIZE);
	return true;
}

static struct virt_vcpu *vmx_vcpu_create(uint64_t ept_root, uint32_t unused, uint32_t vpid)
{
	struct virt_vcpu *v;

	(void)unused;
	if (!bitmaps_ready() || !(v = mem_alloc_object(sizeof(*v))))
		return NULL;
	v->vmcs_pa = mem_alloc_pages(1, 1);
	if (!v->vmcs_pa)
		return NULL;
	memset(phys_to_virt(v->vmcs_pa), 0, PAGE_SIZE);
	*(uint32_t *)phys_to_virt(v->vmcs_pa) = (uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7fffffff;
	v->eptp = ept_root | EPTP_WALK_4 | EPTP_WB;
	v->vpid = (uint16_t)(vpid ? vpid : 1);
	if (vmx_apicv_create(v))
		return NULL;
	v->next = vmx_vcpus;
	__atomic_store_n(&vmx_vcpus, v, __ATOMIC_RELEASE);
	return v;
}

/* The state is written into the VMCS at the next entry, on the CPU that
 * runs it (vmcs_load): a vCPU put away (VMCLEAR) is set up afresh. */
static void vmx_vcpu_set_entry(struct virt_vcpu *v, const struct virt_entry_state *s)
{
	v->entry = *s;
	v->loaded = false;
	v->launched = false;
}

static void setup_controls(struct virt_vcpu *v)
{
	v->pin_controls = adjust_controls(
		PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER,
		control_msr(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED));
	vmwrite(VMCS_PIN_CONTROLS, v->pin_controls);
	v->proc_controls = adjust_controls(
		PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
			PROC_ACTIVATE_SECONDARY,
		control_msr(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED));
	vmwrite(VMCS_PROC_CONTROLS, v->proc_controls);
	/* Unrestricted guest where the CPU has it (adjust_controls drops it
	 * otherwise): a guest may then run with paging or protection off. */
	v->proc2_controls =
		adjust_controls(PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST,
				MSR_IA32_VMX_PROCBASED_CTLS2);
	vmwrite(VMCS_PROC2_CONTROLS, v->proc2_controls);
	vmwrite(VMCS_EXIT_CONTROLS,
		adjust_controls(EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
					EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_PAT |
					EXIT_LOAD_IA32_PAT,
				control_msr(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT)));
	vmwrite(VMCS_ENTRY_CONTROLS,
		adjust_controls((v->entry.long_mode ? ENTRY_IA32E_MODE_GUEST : 0) |
					ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT,
				control_msr(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY)));
	v->exception_bitmap = 0; /* a guest fault is the guest's (exitless: #NP exits) */
	vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	v->exitless = false;
	vmwrite(VMCS_MSR_BITMAP, vmx_msr_bitmap_pa);
	vmwrite(VMCS_IO_BITMAP_A, io_bitmap_pa);
	vmwrite(VMCS_IO_BITMAP_B, io_bitmap_pa + PAGE_SIZE);
	vmwrite(VMCS_EPT_POINTER, v->eptp);
	vmwrite(VMCS_VPID, v->vpid);
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, X86_CR4_VMXE); /* the guest sees its own CR4 */
	vmwrite(VMCS_CR4_READ_SHADOW, v->entry.long_mode ? X86_CR4_PAE : 0);
	vmx_apicv_setup(v);
}

struct descriptor_table_register {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* What an exit restores (SDM §27.5): this CPU's own state. */
static void setup_host_state(void)
{
	struct descriptor_table_register gdtr, idtr;

	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SELECTOR, GDT_SEL_CODE);
	vmwrite(VMCS_HOST_SS_SELECTOR, GDT_SEL_DATA);
	vmwrite(VMCS_HOST_DS_SELECTOR, GDT_SEL_DATA);
	vmwrite(VMCS_HOST_ES_SELECTOR, GDT_SEL_DATA);
	vmwrite(VMCS_HOST_FS_SELECTOR, 0);
	vmwrite(VMCS_HOST_GS_SELECTOR, 0);
	vmwrite(VMCS_HOST_TR_SELECTOR, GDT_SEL_TSS);
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&this_cpu()->tss);
	vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmwrite(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(VMCS_HOST_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
}

static void set_segment(enum vmcs_segment seg, uint16_t sel, uint32_t ar, uint32_t limit)
{
	vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * seg, sel);
	vmwrite(VMCS_GUEST_ES_AR + 2 * seg, ar);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * seg, limit);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * seg, 0);
}

/* Real mode after INIT-SIPI (SDM Vol. 3A §9.1.1): an unrestricted guest
 * runs it (§26.3.1.2: real-mode segments, a busy TSS). */
static void setup_real_mode_segments(const struct virt_entry_state *e)
{
	for (int s = SEG_ES; s <= SEG_GS; s++)
		set_segment(s, 0, VMX_AR_REAL_DATA, 0xffff);
	set_segment(SEG_CS, e->cs_selector, VMX_AR_REAL_CODE, 0xffff);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * SEG_CS, (uint64_t)e->cs_selector << 4);
	set_segment(SEG_LDTR, 0, VMX_AR_UNUSABLE, 0);
	set_segment(SEG_TR, 0, VMX_AR_TSS64, 0xffff);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);
}

/* CR0 for the entry state: 64-bit mode with paging, or flat 32-bit protected
 * mode without, which only an unrestricted guest may run (SDM §26.3.1.1:
 * then CR0.PE and CR0.PG are exempt from IA32_VMX_CR0_FIXED0). */
static uint64_t guest_cr0(const struct virt_vcpu *v)
{
	uint64_t want = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;

	if (v->entry.long_mode)
		return fixed_bits(want | X86_CR0_PG, MSR_IA32_VMX_CR0_FIXED0,
				  MSR_IA32_VMX_CR0_FIXED1);
	if (v->entry.real_mode)
		want &= ~(uint64_t)X86_CR0_PE;
	if (v->proc2_controls & PROC2_UNRESTRICTED_GUEST)
		return (want |
			(rdmsr(MSR_IA32_VMX_CR0_FIXED0) & ~(uint64_t)(X86_CR0_PG | X86_CR0_PE))) &
		       rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	return fixed_bits(want, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1);
}

static void setup_guest_state(const struct virt_vcpu *v)
{
	const struct virt_entry_state *e = &v->entry;

	set_segment(SEG_CS, 0x08, e->long_mode ? VMX_AR_CODE64 : VMX_AR_CODE32, 0xffffffff);
	for (int s = SEG_ES; s <= SEG_GS; s++)
		if (s != SEG_CS)
			set_segment(s, 0x10, VMX_AR_DATA, 0xffffffff);
	set_segment(SEG_LDTR, 0, VMX_AR_UNUSABLE, 0);
	set_segment(SEG_TR, 0, VMX_AR_TSS64, 0x67);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0); /* no IDT: a guest fault is a triple fault */
	if (e->real_mode)
		setup_real_mode_segments(e);
	vmwrite(VMCS_GUEST_CR0, guest_cr0(v));
	vmwrite(VMCS_GUEST_CR4, fixed_bits((e->long_mode ? X86_CR4_PAE : 0) | X86_CR4_VMXE,
					   MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1));
	vmwrite(VMCS_GUEST_CR3, e->long_mode ? e->cr3 : 0);
	vmwrite(VMCS_GUEST_IA32_EFER, e->long_mode ? EFER_LME | EFER_LMA : 0);
	vmwrite(VMCS_GUEST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_RSP, e->rsp);
	vmwrite(VMCS_GUEST_RIP, e->rip);
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
}

/* First entry on this CPU: make the VMCS current here and fill it. */
static int vmcs_load(struct virt_vcpu *v)
{
	uint8_t failed;

	__asm__ volatile("vmclear %1; setbe %0" : "=qm"(failed) : "m"(v->vmcs_pa) : "cc", "memory");
	if (!failed)
		__asm__ volatile("vmptrld %1; setbe %0"
				 : "=qm"(failed)
				 : "m"(v->vmcs_pa)
				 : "cc", "memory");
	if (failed)
		return -1;
	current_vmcs[this_cpu()->index] = v->vmcs_pa;
	v->loaded = true;
	v->cpu = (int)this_cpu()->index;
	setup_controls(v);
	setup_host_state();
	setup_guest_state(v);
	return 0;
}

/* A failed entry must say what was wrong (issue: "a readable dump of the
 * offending guest-state fields"): the error, then the state the SDM's entry
 * checks (§26.3) look at first. */
static void dump_failed_entry(const char *what, uint64_t code)
{
	log_printf("VT-x: %s %llu; guest CR0 0x%llx CR3 0x%llx CR4 0x%llx EFER 0x%llx\n", what,
		   (unsigned long long)code, (unsigned long long)vmread(VMCS_GUEST_CR0),
		   (unsigned long long)vmread(VMCS_GUEST_CR3),
		   (unsigned long long)vmread(VMCS_GUEST_CR4),
		   (unsigned long long)vmread(VMCS_GUEST_IA32_EFER));
	log_printf("VT-x: guest RIP 0x%llx RSP 0x%llx RFLAGS 0x%llx CS AR 0x%llx TR AR 0x%llx "
		   "entry controls 0x%llx\n",
		   (unsigned long long)vmread(VMCS_GUEST_RIP),
		   (unsigned long long)vmread(VMCS_GUEST_RSP),
		   (unsigned long long)vmread(VMCS_GUEST_RFLAGS),
		   (unsigned long long)vmread(VMCS_GUEST_ES_AR + 2 * SEG_CS),
		   (unsigned long long)vmread(VMCS_GUEST_ES_AR + 2 * SEG_TR),
		   (unsigned long long)vmread(VMCS_ENTRY_CONTROLS));
}

static void decode_io(struct virt_exit *x, uint64_t qual)
{
	x->reason = VIRT_EXIT_IO;
	x->io.size = (uint8_t)((qual & VMX_IO_SIZE_MASK) + 1);
	x->io.in = qual & VMX_IO_IN;
	x->io.string = qual & VMX_IO_STRING;
	x->io.rep = qual & VMX_IO_REP;
	x->io.port = (uint16_t)(qual >> VMX_IO_PORT_SHIFT);
}

/* IDT-vectoring information, normalized (SDM Vol. 3C §24.9.3). */
static void decode_vectoring(struct virt_exit *x)
{
	static const enum virt_event_type types[8] = {
		[0] = VIRT_EVENT_EXTINT,   [2] = VIRT_EVENT_NMI,      [3] = VIRT_EVENT_EXCEPTION,
		[4] = VIRT_EVENT_SOFTWARE, [5] = VIRT_EVENT_SOFTWARE, [6] = VIRT_EVENT_SOFTWARE,
	};
	uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);

	if (!(info & VMX_INTR_VALID))
		return;
	x->vectoring = types[(info & VMX_INTR_TYPE_MASK) >> 8];
	x->vectoring_vector = (uint8_t)info;
}

/* Exit reason 0: an NMI (the host's) or an intercepted guest exception. */
static void decode_exception_or_nmi(struct virt_exit *x)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);

	if ((info & VMX_INTR_TYPE_MASK) == VMX_INTR_TYPE_NMI) {
		x->reason = VIRT_EXIT_EXTERNAL_INTERRUPT;
		return;
	}
	x->reason = VIRT_EXIT_EXCEPTION;
	x->exception.vector = info & 0xff;
	if (info & VMX_INTR_DELIVER_ERROR)
		x->exception.error = (uint32_t)vmread(VMCS_EXIT_INTR_ERROR);
}

static void decode_exit(struct virt_exit *x)
{
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);

	memset(x, 0, sizeof(*x));
	x->vendor_code = reason;
	x->rip = vmread(VMCS_GUEST_RIP);
	x->insn_len = (uint8_t)vmread(VMCS_EXIT_INSTRUCTION_LEN);
	decode_vectoring(x);
	if (reason & VMX_EXIT_ENTRY_FAILURE) {
		dump_failed_entry("VM entry failed, exit reason", reason & 0xffff);
		x->reason = VIRT_EXIT_INVALID_STATE;
		return;
	}
	switch (reason & 0xffff) {
	case VMX_EXIT_CPUID:
		x->reason = VIRT_EXIT_CPUID;
		break;
	case VMX_EXIT_HLT:
		x->reason = VIRT_EXIT_HLT;
		break;
	case VMX_EXIT_VMCALL:
		x->reason = VIRT_EXIT_HYPERCALL;
		break;
	case VMX_EXIT_RDMSR:
		x->reason = VIRT_EXIT_MSR_READ;
		break;
	case VMX_EXIT_WRMSR:
		x->reason = VIRT_EXIT_MSR_WRITE;
		break;
	case VMX_EXIT_IO:
		decode_io(x, qual);
		break;
	case VMX_EXIT_EPT_VIOLATION:
		x->reason = VIRT_EXIT_NESTED_PAGE_FAULT;
		x->npf.gpa = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
		x->npf.write = qual & VMX_EPT_WRITE;
		x->npf.fetch = qual & VMX_EPT_FETCH;
		break;
	case VMX_EXIT_EXTERNAL_INT:
		x->reason = VIRT_EXIT_EXTERNAL_INTERRUPT;
		break;
	case VMX_EXIT_EXCEPTION_NMI:
		decode_exception_or_nmi(x);
		break;
	case VMX_EXIT_GDTR_IDTR:
	case VMX_EXIT_LDTR_TR:
		x->reason = VIRT_EXIT_DESCRIPTOR_TABLE;
		break;
	case VMX_EXIT_INTERRUPT_WINDOW:
		x->reason = VIRT_EXIT_INTERRUPT_WINDOW;
		break;
	case VMX_EXIT_EPT_MISCONFIG:
		x->reason = VIRT_EXIT_NPT_MISCONFIG;
		x->npf.gpa = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		x->reason = VIRT_EXIT_TRIPLE_FAULT;
		break;
	case VMX_EXIT_PREEMPTION_TIMER:
		x->reason = VIRT_EXIT_DEADLINE;
		break;
	default:
		x->reason = VIRT_EXIT_OTHER;
	}
}

/* A CPU running several vCPUs must make each one's VMCS current before it
 * touches or enters it (SDM §24.1). */
static int vmcs_make_current(struct virt_vcpu *v)
{
	uint64_t *current = &current_vmcs[this_cpu()->index];
	uint8_t failed;

	if (*current == v->vmcs_pa)
		return 0;
	__asm__ volatile("vmptrld %1; setbe %0" : "=qm"(failed) : "m"(v->vmcs_pa) : "cc", "memory");
	*current = failed ? 0 : v->vmcs_pa;
	return failed ? -1 : 0;
}

/* The VMX-preemption timer bounds the run (SDM §25.5.1): it counts down at
 * the TSC rate shifted right by IA32_VMX_MISC[4:0]. A pending host interrupt
 * does not exit a guest that runs with IF clear on every model (Bochs), so
 * the deadline cannot rest on the host timer alone. */
static void set_preemption_timer(uint64_t deadline)
{
	uint64_t now = rdtsc(), ticks = 0;

	if (deadline > now)
		ticks = (deadline - now) >> preemption_rate;
	vmwrite(VMCS_PREEMPTION_TIMER, ticks > 0xffffffff ? 0xffffffff : ticks);
}

/* A VMCS cleared on another CPU comes here with VMPTRLD, and its host state
 * (this CPU's TR, GDT, IDT, GS base) is written anew; VMLAUNCH follows. */
static int vmcs_move_here(struct virt_vcpu *v)
{
	if (vmcs_make_current(v))
		return -1;
	v->cpu = (int)this_cpu()->index;
	setup_host_state();
	return 0;
}

/* The vCPU's VMCS, set up at first use, is the current one on this CPU. */
int vmx_activate(struct virt_vcpu *v)
{
	if (!v->loaded)
		return vmcs_load(v);
	return v->cpu == (int)this_cpu()->index ? vmcs_make_current(v) : vmcs_move_here(v);
}

/* VMCLEAR writes the VMCS back to memory and clears its launch state, so
 * that any CPU may VMPTRLD it next (SDM §24.11.3). */
static void vmx_vcpu_put(struct virt_vcpu *v)
{
	uint64_t *current = &current_vmcs[this_cpu()->index];

	if (v->cpu != (int)this_cpu()->index)
		return;
	vmx_guest_msrs_save(v);
	__asm__ volatile("vmclear %0" ::"m"(v->vmcs_pa) : "cc", "memory");
	if (*current == v->vmcs_pa)
		*current = 0;
	v->cpu = -1;
	v->launched = false;
}

static void set_interrupt_window_exiting(struct virt_vcpu *v, bool on)
{
	uint32_t want = on ? v->proc_controls | PROC_INTERRUPT_WINDOW_EXITING
			   : v->proc_controls & ~PROC_INTERRUPT_WINDOW_EXITING;

	if (want != v->proc_controls) {
		v->proc_controls = want;
		vmwrite(VMCS_PROC_CONTROLS, want);
	}
}

/* An event whose delivery the exit interrupted is delivered again at the
 * next entry (SDM §27.2.4, "IDT-vectoring information"). */
static void reinject_vectoring_event(void)
{
	uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);

	if (!(info & VMX_INTR_VALID))
		return;
	vmwrite(VMCS_ENTRY_INTR_INFO, info & ~VMX_INTR_NMI_UNBLOCKED);
	if (info & VMX_INTR_DELIVER_ERROR)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
	vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, vmread(VMCS_EXIT_INSTRUCTION_LEN));
}

static void vmx_vcpu_run(struct virt_vcpu *v, struct virt_regs *regs, struct virt_exit *exit,
			 uint64_t deadline)
{
	if (vmx_activate(v)) {
		memset(exit, 0, sizeof(*exit));
		exit->reason = VIRT_EXIT_INVALID_STATE;
		log_printf("VT-x: VMCLEAR/VMPTRLD failed\n");
		return;
	}
	vmx_guest_msrs_load(v);
	set_preemption_timer(deadline);
	if (__atomic_exchange_n(&v->invept_pending, false, __ATOMIC_ACQ_REL)) {
		invept(v->eptp);
		if (v->exitless) /* the clone shares the VM's lower tables */
			invept(v->exitless_eptp);
	}
	if (vmx_enter(regs, v->launched)) {
		dump_failed_entry("VMLAUNCH/VMRESUME failed, VM-instruction error",
				  vmread(VMCS_INSTRUCTION_ERROR));
		memset(exit, 0, sizeof(*exit));
		exit->reason = VIRT_EXIT_INVALID_STATE;
		exit->rip = vmread(VMCS_GUEST_RIP);
		return;
	}
	v->launched = true;
	set_interrupt_window_exiting(v, false); /* the caller asks again if it must */
	reinject_vectoring_event();
	decode_exit(exit);
}

/* An external interrupt goes in only when the guest could take one now:
 * RFLAGS.IF set, no STI or MOV SS shadow, no event already queued (SDM
 * §26.3.1.5); otherwise an interrupt-window exit tells when it can. */
static bool vmx_vcpu_inject_interrupt(struct virt_vcpu *v, uint8_t vector)
{
	if (vmx_activate(v))
		return false;
	if (!(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) ||
	    (vmread(VMCS_GUEST_INTERRUPTIBILITY) &
	     (VMX_BLOCKING_BY_STI | VMX_BLOCKING_BY_MOV_SS)) ||
	    (vmread(VMCS_ENTRY_INTR_INFO) & VMX_INTR_VALID)) {
		set_interrupt_window_exiting(v, true);
		return false;
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, vector | VMX_INTR_TYPE_EXTERNAL | VMX_INTR_VALID);
	return true;
}

static void vmx_vcpu_skip_instruction(struct virt_vcpu *v, const struct virt_exit *exit)
{
	(void)v;
	vmwrite(VMCS_GUEST_RIP, exit->rip + exit->insn_len);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0); /* a skipped STI/MOV SS ends its shadow */
}

static uint64_t vmx_vcpu_rip(const struct virt_vcpu *v)
{
	(void)v;
	return vmread(VMCS_GUEST_RIP);
}

/* The VMCS is current: exceptions are injected right after an exit. */
static void vmx_vcpu_inject_exception(struct virt_vcpu *v, uint8_t vector, bool has_error,
				      uint32_t error)
{
	(void)v;
	vmwrite(VMCS_ENTRY_INTR_INFO, vector | VMX_INTR_TYPE_HW_EXCEPTION | VMX_INTR_VALID |
					      (has_error ? VMX_INTR_DELIVER_ERROR : 0));
	if (has_error)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, error);
}

/* Exitless: no external-interrupt exiting, so a physical interrupt waits for
 * the guest's IF and goes through its IDT (SDM Vol. 3C §25.2 and §26.7.5);
 * #NP and the descriptor-table instructions exit (§25.1.3); the clone's EPT
 * backs the IDT with its shadow. A CPU that forces external-interrupt
 * exiting or lacks descriptor-table exiting cannot. */
static bool vmx_vcpu_set_delivery(struct virt_vcpu *v, const struct virt_delivery *d)
{
	uint32_t pin = v->pin_controls, proc2 = v->proc2_controls;
	uint32_t pin_msr = control_msr(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED);

	if (vmx_activate(v))
		return false;
	pin = d->exitless ? pin & ~PIN_EXTERNAL_INTERRUPT_EXITING
			  : pin | PIN_EXTERNAL_INTERRUPT_EXITING;
	proc2 = d->exitless ? proc2 | PROC2_DESCRIPTOR_TABLE_EXITING
			    : proc2 & ~PROC2_DESCRIPTOR_TABLE_EXITING;
	if (d->exitless && (adjust_controls(pin, pin_msr) != pin ||
			    adjust_controls(proc2, MSR_IA32_VMX_PROCBASED_CTLS2) != proc2))
		return false;
	if (pin != v->pin_controls)
		vmwrite(VMCS_PIN_CONTROLS, v->pin_controls = pin);
	if (proc2 != v->proc2_controls)
		vmwrite(VMCS_PROC2_CONTROLS, v->proc2_controls = proc2);
	v->exception_bitmap = d->exitless ? 1u << VEC_NP : 0;
	vmwrite(VMCS_EXCEPTION_BITMAP, v->exception_bitmap);
	v->exitless = d->exitless;
	v->exitless_eptp = d->npt_root | EPTP_WALK_4 | EPTP_WB;
	vmwrite(VMCS_EPT_POINTER, d->exitless ? v->exitless_eptp : v->eptp);
	if (d->exitless && d->flush)
		invept(v->exitless_eptp);
	vmwrite(VMCS_MSR_BITMAP, vmx_msr_bitmap(v, d->exitless && d->eoi_passthrough));
	return true;
}

static void vmx_vcpu_cancel_event(struct virt_vcpu *v)
{
	(void)v;
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
}

static bool vmx_vcpu_event_queued(struct virt_vcpu *v)
{
	return !vmx_activate(v) && (vmread(VMCS_ENTRY_INTR_INFO) & VMX_INTR_VALID);
}

static uint64_t vmx_vcpu_idtr(const struct virt_vcpu *v, uint16_t *limit)
{
	(void)v;
	*limit = (uint16_t)vmread(VMCS_GUEST_IDTR_LIMIT);
	return vmread(VMCS_GUEST_IDTR_BASE);
}

/* Like vcpu_rip and vcpu_cr3: on the vCPU's CPU, its VMCS current. */
static uint64_t vmx_vcpu_rflags(const struct virt_vcpu *v)
{
	(void)v;
	return vmread(VMCS_GUEST_RFLAGS);
}

static uint64_t vmx_vcpu_cr3(const struct virt_vcpu *v)
{
	(void)v;
	return vmread(VMCS_GUEST_CR3);
}

const struct virt_ops vmx_ops = {
	.name = "vmx",
	.cpu_enable = vmx_cpu_enable,
	.npt_create = nested_pt_create,
	.npt_map = vmx_ept_map,
	.npt_unmap = vmx_ept_unmap,
	.npt_flush = vmx_ept_flush,
	.npt_protect = vmx_npt_protect,
	.npt_clone = vmx_npt_clone,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_set_entry = vmx_vcpu_set_entry,
	.vcpu_run = vmx_vcpu_run,
	.vcpu_put = vmx_vcpu_put,
	.vcpu_skip_instruction = vmx_vcpu_skip_instruction,
	.vcpu_inject_exception = vmx_vcpu_inject_exception,
	.vcpu_inject_interrupt = vmx_vcpu_inject_interrupt,
	.vcpu_apic_enter = vmx_apic_enter,
	.vcpu_apic_exit = vmx_apic_exit,
	.apic_virtualization = vmx_apicv_supported,
	.vcpu_set_delivery = vmx_vcpu_set_delivery,
	.vcpu_cancel_event = vmx_vcpu_cancel_event,
	.vcpu_event_queued = vmx_vcpu_event_queued,
	.vcpu_idtr = vmx_vcpu_idtr,
	.vcpu_rip = vmx_vcpu_rip,
	.vcpu_rflags = vmx_vcpu_rflags,
	.vcpu_cr3 = vmx_vcpu_cr3,
	.vcpu_msr = vmx_vcpu_msr,
	.deadline_exits_any_guest = true,
	.hypercall_is_vmmcall = false,
};
