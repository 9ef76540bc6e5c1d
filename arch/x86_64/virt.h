/* The vendor-neutral vCPU interface (design.md: "both VT-x and SVM behind one
 * vCPU interface"). Generic code sees only these types; arch/x86_64/svm/ and
 * arch/x86_64/vmx/ implement them, chosen once at boot as an ops table. */
#ifndef ARCH_X86_64_VIRT_H
#define ARCH_X86_64_VIRT_H

#include <stdbool.h>
#include <stdint.h>

/* Normalized exit reasons: one dispatch table in kernel/vmexit.c is indexed
 * by these, and every VM counts its exits per reason. */
enum virt_exit_reason {
	VIRT_EXIT_CPUID,
	VIRT_EXIT_HLT,
	VIRT_EXIT_IO,
	VIRT_EXIT_MSR_READ,
	VIRT_EXIT_MSR_WRITE,
	VIRT_EXIT_HYPERCALL,
	VIRT_EXIT_NESTED_PAGE_FAULT,
	VIRT_EXIT_NPT_MISCONFIG, /* an EPT entry the CPU cannot use: our bug */
	VIRT_EXIT_EXTERNAL_INTERRUPT,
	VIRT_EXIT_INTERRUPT_WINDOW,
	VIRT_EXIT_DEADLINE, /* the run's deadline passed (VMX-preemption timer) */
	VIRT_EXIT_TRIPLE_FAULT,
	VIRT_EXIT_EXCEPTION,
	VIRT_EXIT_DESCRIPTOR_TABLE, /* LIDT and its kin, intercepted while exitless */
	VIRT_EXIT_INVALID_STATE,
	VIRT_EXIT_OTHER,
	VIRT_EXIT_COUNT
};

/* The guest's general-purpose registers, as exit handlers read and write
 * them; RSP and RIP live in the vendor's guest-state area. */
struct virt_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* What an exit interrupted: the event the CPU was delivering through the
 * guest's IDT (VT-x IDT-vectoring information, SDM Vol. 3C §27.2.4; SVM
 * EXITINTINFO, APM Vol. 2 §15.7.2). The backend delivers it again at the
 * next entry unless told otherwise (vcpu_cancel_event). */
enum virt_event_type {
	VIRT_EVENT_NONE,
	VIRT_EVENT_EXTINT, /* an external interrupt: a physical vector */
	VIRT_EVENT_NMI,
	VIRT_EVENT_EXCEPTION,
	VIRT_EVENT_SOFTWARE, /* INT n, INT3, INTO */
};

struct virt_exit {
	enum virt_exit_reason reason;
	enum virt_event_type vectoring;
	uint8_t vectoring_vector;
	uint64_t rip;
	uint8_t insn_len;     /* 0 when the CPU did not say: the handler decodes */
	uint64_t vendor_code; /* the raw exit code, for reports */
	union {
		struct {
			uint16_t port;
			uint8_t size; /* 1, 2 or 4 bytes */
			bool in, string, rep;
		} io;
		struct {
			uint64_t gpa;
			bool write, fetch;
		} npf;
		struct {
			uint32_t vector;
			uint32_t error;
		} exception;
	};
};

/* The state a vCPU starts in (docs/architecture.md, "guest entry state"). */
struct virt_entry_state {
	uint64_t rip, rsp, cr3;
	uint64_t rdi, rsi;
	bool long_mode; /* 64-bit paging mode, else 32-bit flat protected mode */
	/* Real mode instead, as after INIT and a STARTUP IPI (SDM Vol. 3A
	 * §9.4.4.1): CS = cs_selector, its base cs_selector << 4, IP = rip. */
	bool real_mode;
	uint16_t cs_selector;
};

enum virt_msr_result { VIRT_MSR_NOT_MINE, VIRT_MSR_DONE, VIRT_MSR_FAULT };

/* How physical interrupts reach the guest at the next entry (exitless
 * delivery, kernel/exitless.c). Off: every one exits (the INTR intercept,
 * external-interrupt exiting), and the VM's nested root is used. On: they
 * go through the guest's IDT, which `npt_root` (the vCPU's clone) backs with
 * its shadow; #NP and LIDT exit; NMIs always exit. */
struct virt_delivery {
	bool exitless;
	uint64_t npt_root;
	bool flush;	      /* the clone changed: drop what the TLBs cached of it */
	bool eoi_passthrough; /* x2APIC EOI writes reach the physical APIC */
};

struct nested_pt_clone;
struct virt_vcpu; /* vendor-private: VMCB or VMCS and their pages */

/* The local APIC registers hardware virtual-interrupt delivery works from. */
struct virt_apic_regs {
	uint32_t irr[8], isr[8];
	uint32_t tpr;
};

struct virt_ops {
	const char *name;
	/* On every CPU: turn virtualization on (VMXON, EFER.SVME). */
	int (*cpu_enable)(void);
	/* Guest-physical → host-physical mappings of a VM; `root` is opaque. */
	uint64_t (*npt_create)(void);
	/* One page of `size` (NESTED_PT_4K or NESTED_PT_2M); 0 or -1. */
	int (*npt_map)(uint64_t root, uint64_t gpa, uint64_t hpa, uint64_t size);
	int (*npt_unmap)(uint64_t root, uint64_t gpa, uint64_t size);
	/* After unmapping: every vCPU that uses `root` drops what its TLBs
	 * cached of it before its next entry (the caller kicks running ones). */
	void (*npt_flush)(uint64_t root);
	/* Exitless delivery's shadow IDT (arch/x86_64/nested_pt.h): one 4 KiB
	 * page read-only or writable again; a vCPU's clone of `base`. */
	int (*npt_protect)(uint64_t root, uint64_t gpa, bool writable);
	int (*npt_clone)(struct nested_pt_clone *c, uint64_t base, const uint64_t *gpa,
			 const uint64_t *hpa, unsigned n);
	struct virt_vcpu *(*vcpu_create)(uint64_t npt_root, uint32_t tag, uint32_t vpid);
	void (*vcpu_set_entry)(struct virt_vcpu *v, const struct virt_entry_state *s);
	/* Runs the guest until its next exit, which it fills in, and exits it at
	 * the latest soon after the TSC reaches `deadline`. */
	void (*vcpu_run)(struct virt_vcpu *v, struct virt_regs *regs, struct virt_exit *exit,
			 uint64_t deadline);
	/* This CPU stops running the vCPU for now: another CPU may run it next
	 * (VT-x: VMCLEAR, SDM §24.11.3; SVM: nothing to do). */
	void (*vcpu_put)(struct virt_vcpu *v);
	void (*vcpu_skip_instruction)(struct virt_vcpu *v, const struct virt_exit *exit);
	/* Delivers a hardware exception (with an error code if `has_error`)
	 * through the guest's IDT at the next entry. */
	void (*vcpu_inject_exception)(struct virt_vcpu *v, uint8_t vector, bool has_error,
				      uint32_t error);
	/* Delivers external interrupt `vector` at the next entry if the guest can
	 * take one now (IF set, no interrupt shadow, no event queued) and says
	 * so; otherwise arms an interrupt-window exit and returns false. On
	 * the CPU that runs the vCPU, right before vcpu_run. An event whose
	 * delivery an exit interrupts is delivered again by the backend. */
	bool (*vcpu_inject_interrupt)(struct virt_vcpu *v, uint8_t vector);
	/* Hardware APIC virtualization (VT-x APICv), or NULL ops where the CPU
	 * has none. For a guest APIC in x2APIC mode: vcpu_apic_enter hands the
	 * registers to the CPU, which then delivers interrupts itself (IF and
	 * shadows respected, no interrupt-window exits) and virtualizes TPR
	 * and EOI writes; vcpu_apic_exit gives them back. r == NULL: off.
	 * vcpu_apic_enter says whether the CPU delivers at this entry. */
	bool (*vcpu_apic_enter)(struct virt_vcpu *v, const struct virt_apic_regs *r);
	bool (*apic_virtualization)(void); /* whether this CPU has it (NULL: no) */
	void (*vcpu_apic_exit)(struct virt_vcpu *v, struct virt_apic_regs *r);
	/* Exitless delivery (NULL where the backend cannot): the mode of the
	 * next entry; dropping the re-delivery of the event an exit
	 * interrupted; the event queued for the next entry (false: none);
	 * the guest's IDTR. On the vCPU's CPU, between exit and entry.
	 * vcpu_set_delivery is false when this CPU cannot run it exitless. */
	bool (*vcpu_set_delivery)(struct virt_vcpu *v, const struct virt_delivery *d);
	void (*vcpu_cancel_event)(struct virt_vcpu *v);
	bool (*vcpu_event_queued)(struct virt_vcpu *v);
	uint64_t (*vcpu_idtr)(const struct virt_vcpu *v, uint16_t *limit);
	uint64_t (*vcpu_rip)(const struct virt_vcpu *v);
	uint64_t (*vcpu_rflags)(const struct virt_vcpu *v);
	uint64_t (*vcpu_cr3)(const struct virt_vcpu *v); /* the guest's, for page walks */
	/* The MSRs the vendor's control block holds for the guest (EFER, PAT,
	 * ...): VIRT_MSR_DONE, VIRT_MSR_FAULT (#GP for this value), or
	 * VIRT_MSR_NOT_MINE for the generic code (kernel/vmsr.c) to answer. */
	enum virt_msr_result (*vcpu_msr)(struct virt_vcpu *v, uint32_t msr, bool write,
					 uint64_t *value);
	/* The hypercall instruction the guest must use (CPUID leaf 0x40000001). */
	bool hypercall_is_vmmcall;
	/* vcpu_run's deadline ends a guest's run even while it runs exitless
	 * with interrupts off (VT-x: the preemption timer); false when only a
	 * host interrupt ends it, which such a guest holds off (SVM). */
	bool deadline_exits_any_guest;
};

/* The implementation this CPU offers, or NULL with the reason in *why. */
const struct virt_ops *virt_detect(const char **why);

extern const struct virt_ops svm_ops;
extern const struct virt_ops vmx_ops;
/* Whether the CPU's VT-x has what corevisor needs (EPT, VPID); else why not. */
bool vmx_usable(const char **why);

#endif
