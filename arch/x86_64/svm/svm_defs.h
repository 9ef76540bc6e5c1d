/* AMD SVM architecture constants (AMD64 APM Vol. 2, ch. 15 and appendix B:
 * "Layout of VMCB"; appendix C: "SVM intercept exit codes"). */
#ifndef ARCH_X86_64_SVM_SVM_DEFS_H
#define ARCH_X86_64_SVM_SVM_DEFS_H

#define CPUID_80000001_ECX_SVM	 (1u << 2)
#define CPUID_8000000A_EDX_NP	 (1u << 0)
#define CPUID_8000000A_EDX_NRIPS (1u << 3)

#define MSR_VM_CR	0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define VM_CR_SVMDIS	(1u << 4)
#define EFER_SVME	(1u << 12)

/* Intercept vector 3 (VMCB offset 0x00c) and 4 (0x010). */
#define SVM_INTERCEPT_INTR	 (1u << 0)
#define SVM_INTERCEPT_NMI	 (1u << 1)
#define SVM_INTERCEPT_VINTR	 (1u << 4)
#define SVM_INTERCEPT_IDTR_WRITE (1u << 10)
#define SVM_INTERCEPT_CPUID	 (1u << 18)
#define SVM_INTERCEPT_INVD	 (1u << 22)
#define SVM_INTERCEPT_HLT	 (1u << 24)
#define SVM_INTERCEPT_IOIO	 (1u << 27)
#define SVM_INTERCEPT_MSR	 (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN	 (1u << 31)
#define SVM_INTERCEPT_VMRUN	 (1u << 0)
#define SVM_INTERCEPT_VMMCALL	 (1u << 1)
#define SVM_INTERCEPT_VMLOAD	 (1u << 2)
#define SVM_INTERCEPT_VMSAVE	 (1u << 3)
#define SVM_INTERCEPT_STGI	 (1u << 4)
#define SVM_INTERCEPT_CLGI	 (1u << 5)
#define SVM_INTERCEPT_SKINIT	 (1u << 6)

/* Exit codes. */
#define SVM_EXIT_EXCP_BASE  0x040
#define SVM_EXIT_EXCP_LAST  0x05f
#define SVM_EXIT_INTR	    0x060
#define SVM_EXIT_NMI	    0x061
#define SVM_EXIT_VINTR	    0x064
#define SVM_EXIT_IDTR_WRITE 0x06a
#define SVM_EXIT_CPUID	    0x072
#define SVM_EXIT_HLT	    0x078
#define SVM_EXIT_IOIO	    0x07b
#define SVM_EXIT_MSR	    0x07c
#define SVM_EXIT_SHUTDOWN   0x07f
#define SVM_EXIT_VMMCALL    0x081
#define SVM_EXIT_NPF	    0x400
#define SVM_EXIT_INVALID    (~0ull)

/* EXITINFO1 of an IOIO exit (APM §15.10.2). */
#define SVM_IOIO_TYPE_IN    (1u << 0)
#define SVM_IOIO_STR	    (1u << 2)
#define SVM_IOIO_REP	    (1u << 3)
#define SVM_IOIO_SZ_SHIFT   4
#define SVM_IOIO_PORT_SHIFT 16

/* EXITINFO1 of a nested page fault: the #PF error code bits. */
#define SVM_NPF_WRITE (1u << 1)
#define SVM_NPF_FETCH (1u << 4)

#define SVM_TLB_CONTROL_FLUSH_ALL 1

/* EVENTINJ (APM §15.20): vector, type, error-code valid, valid. */
#define SVM_EVENTINJ_VECTOR	    0xffu
#define SVM_EVENTINJ_TYPE_MASK	    (7u << 8)
#define SVM_EVENTINJ_TYPE_INTR	    (0u << 8)
#define SVM_EVENTINJ_TYPE_NMI	    (2u << 8)
#define SVM_EVENTINJ_TYPE_SOFT	    (4u << 8)
#define SVM_EVENTINJ_TYPE_EXCEPTION (3u << 8)
#define SVM_EVENTINJ_ERROR_VALID    (1u << 11)
#define SVM_EVENTINJ_VALID	    (1u << 31)
#define SVM_V_INTR_MASKING	    (1u << 24) /* VMCB int_control */
/* A virtual interrupt request that makes the VINTR intercept fire as soon as
 * the guest can take an interrupt (APM §15.21.4): V_IRQ, highest priority,
 * ignoring V_TPR. */
#define SVM_V_IRQ	     (1u << 8)
#define SVM_V_INTR_PRIO_MAX  (0xfu << 16)
#define SVM_V_IGN_TPR	     (1u << 20)
#define SVM_INT_STATE_SHADOW (1u << 0)

/* Segment attributes in the VMCB's packed form (APM §15.5.1): type, S, DPL,
 * P in bits 0-7, then AVL, L, D/B, G in bits 8-11. */
#define SVM_SEG_CODE64 0x0a9b
#define SVM_SEG_CODE32 0x0c9b
#define SVM_SEG_DATA   0x0c93
#define SVM_SEG_TSS64  0x008b
#define SVM_SEG_LDT    0x0082
/* real mode: 16-bit, present, accessed; a busy 16-bit TSS */
#define SVM_SEG_REAL_CODE  0x009b
#define SVM_SEG_REAL_DATA  0x0093
#define SVM_SEG_TSS16_BUSY 0x0083

/* The MSR permission map (APM §15.11): two bits per MSR (read, write),
 * MSRs 0-0x1fff in its first 2 KiB, 0xc0000000-0xc0001fff in the second,
 * 0xc0010000-0xc0011fff in the third. */
#define SVM_MSRPM_WRITE_BIT(msr) ((msr)*2 + 1)
#define SVM_MSRPM_RANGE_BYTES	 0x800
#define SVM_MSRPM_RANGE_MSRS	 0x2000

#define SVM_IOPM_PAGES	3
#define SVM_MSRPM_PAGES 2

#endif
