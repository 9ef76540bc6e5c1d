/* Intel VT-x constants (Intel SDM Vol. 3C: ch. 24 "Virtual Machine Control
 * Structures", appendix A "VMX capability reporting", appendix B "VMCS field
 * encodings", appendix C "VMX basic exit reasons"). */
#ifndef ARCH_X86_64_VMX_VMX_DEFS_H
#define ARCH_X86_64_VMX_VMX_DEFS_H

#define CPUID_1_ECX_VMX (1u << 5)
#define X86_CR4_VMXE	(1u << 13)

#define MSR_IA32_FEATURE_CONTROL	  0x03a
#define FEATURE_CONTROL_LOCKED		  (1u << 0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1u << 2)

#define MSR_IA32_VMX_BASIC	     0x480
#define MSR_IA32_VMX_PINBASED_CTLS   0x481
#define MSR_IA32_VMX_PROCBASED_CTLS  0x482
#define MSR_IA32_VMX_EXIT_CTLS	     0x483
#define MSR_IA32_VMX_ENTRY_CTLS	     0x484
#define MSR_IA32_VMX_CR0_FIXED0	     0x486
#define MSR_IA32_VMX_CR0_FIXED1	     0x487
#define MSR_IA32_VMX_CR4_FIXED0	     0x488
#define MSR_IA32_VMX_CR4_FIXED1	     0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP    0x48c
#define MSR_IA32_VMX_TRUE_PINBASED   0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED  0x48e
#define MSR_IA32_VMX_TRUE_EXIT	     0x48f
#define MSR_IA32_VMX_TRUE_ENTRY	     0x490
#define VMX_BASIC_TRUE_CTLS	     (1ull << 55)

/* Execution controls. */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PROC_INTERRUPT_WINDOW_EXITING  (1u << 2)
#define PIN_NMI_EXITING		       (1u << 3)
#define PROC_HLT_EXITING	       (1u << 7)
#define PROC_USE_TPR_SHADOW	       (1u << 21)
#define PROC_USE_IO_BITMAPS	       (1u << 25)
#define PROC_USE_MSR_BITMAPS	       (1u << 28)
#define PROC_ACTIVATE_SECONDARY	       (1u << 31)
#define PROC2_ENABLE_EPT	       (1u << 1)
#define PROC2_DESCRIPTOR_TABLE_EXITING (1u << 2)
#define PROC2_VIRTUALIZE_X2APIC	       (1u << 4)
#define PROC2_ENABLE_VPID	       (1u << 5)
#define PROC2_UNRESTRICTED_GUEST       (1u << 7)
#define PROC2_VIRTUAL_INTR_DELIVERY    (1u << 9)
#define EXIT_HOST_ADDRESS_SPACE_SIZE   (1u << 9)
#define EXIT_SAVE_IA32_PAT	       (1u << 18)
#define EXIT_LOAD_IA32_PAT	       (1u << 19)
#define EXIT_SAVE_IA32_EFER	       (1u << 20)
#define EXIT_LOAD_IA32_EFER	       (1u << 21)
#define ENTRY_IA32E_MODE_GUEST	       (1u << 9)
#define ENTRY_LOAD_IA32_PAT	       (1u << 14)
#define ENTRY_LOAD_IA32_EFER	       (1u << 15)

/* VMCS field encodings (appendix B). */
#define VMCS_VPID		    0x0000
#define VMCS_GUEST_INTR_STATUS	    0x0810 /* RVI in 7:0, SVI in 15:8 */
#define VMCS_GUEST_ES_SELECTOR	    0x0800 /* ES, CS, SS, DS, FS, GS, LDTR, TR: +2 each */
#define VMCS_HOST_ES_SELECTOR	    0x0c00
#define VMCS_HOST_CS_SELECTOR	    0x0c02
#define VMCS_HOST_SS_SELECTOR	    0x0c04
#define VMCS_HOST_DS_SELECTOR	    0x0c06
#define VMCS_HOST_FS_SELECTOR	    0x0c08
#define VMCS_HOST_GS_SELECTOR	    0x0c0a
#define VMCS_HOST_TR_SELECTOR	    0x0c0c
#define VMCS_IO_BITMAP_A	    0x2000 /* ports 0x0000-0x7fff */
#define VMCS_IO_BITMAP_B	    0x2002 /* ports 0x8000-0xffff */
#define VMCS_MSR_BITMAP		    0x2004
#define VMCS_VIRTUAL_APIC_PAGE	    0x2012
#define VMCS_EPT_POINTER	    0x201a
#define VMCS_EOI_EXIT_BITMAP0	    0x201c /* ... 3: +2 each */
#define VMCS_GUEST_PHYSICAL_ADDRESS 0x2400
#define VMCS_LINK_POINTER	    0x2800
#define VMCS_GUEST_IA32_PAT	    0x2804
#define VMCS_GUEST_IA32_EFER	    0x2806
#define VMCS_HOST_IA32_PAT	    0x2c00
#define VMCS_HOST_IA32_EFER	    0x2c02
#define VMCS_PIN_CONTROLS	    0x4000
#define VMCS_PROC_CONTROLS	    0x4002
#define VMCS_EXCEPTION_BITMAP	    0x4004
#define VMCS_EXIT_CONTROLS	    0x400c
#define VMCS_ENTRY_CONTROLS	    0x4012
#define VMCS_ENTRY_INTR_INFO	    0x4016
#define VMCS_ENTRY_INSTRUCTION_LEN  0x401a
#define VMCS_TPR_THRESHOLD	    0x401c
#define VMCS_PROC2_CONTROLS	    0x401e
#define VMCS_INSTRUCTION_ERROR	    0x4400
#define VMCS_EXIT_REASON	    0x4402
#define VMCS_EXIT_INTR_INFO	    0x4404
#define VMCS_EXIT_INTR_ERROR	    0x4406
#define VMCS_IDT_VECTORING_INFO	    0x4408
#define VMCS_IDT_VECTORING_ERROR    0x440a
#define VMCS_EXIT_INSTRUCTION_LEN   0x440c
#define VMCS_GUEST_ES_LIMIT	    0x4800 /* ... TR: +2 each, then GDTR 0x4810, IDTR 0x4812 */
#define VMCS_GUEST_GDTR_LIMIT	    0x4810
#define VMCS_GUEST_IDTR_LIMIT	    0x4812
#define VMCS_GUEST_ES_AR	    0x4814 /* ... TR: +2 each */
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824
#define VMCS_GUEST_ACTIVITY_STATE   0x4826
#define VMCS_HOST_SYSENTER_CS	    0x4c00
#define VMCS_CR0_GUEST_HOST_MASK    0x6000
#define VMCS_CR4_GUEST_HOST_MASK    0x6002
#define VMCS_CR0_READ_SHADOW	    0x6004
#define VMCS_CR4_READ_SHADOW	    0x6006
#define VMCS_EXIT_QUALIFICATION	    0x6400
#define VMCS_GUEST_CR0		    0x6800
#define VMCS_GUEST_CR3		    0x6802
#define VMCS_GUEST_CR4		    0x6804
#define VMCS_GUEST_ES_BASE	    0x6806 /* ... TR: +2 each, then GDTR 0x6816, IDTR 0x6818 */
#define VMCS_GUEST_GDTR_BASE	    0x6816
#define VMCS_GUEST_IDTR_BASE	    0x6818
#define VMCS_GUEST_DR7		    0x681a
#define VMCS_GUEST_RSP		    0x681c
#define VMCS_GUEST_RIP		    0x681e
#define VMCS_GUEST_RFLAGS	    0x6820
#define VMCS_HOST_CR0		    0x6c00
#define VMCS_HOST_CR3		    0x6c02
#define VMCS_HOST_CR4		    0x6c04
#define VMCS_HOST_FS_BASE	    0x6c06
#define VMCS_HOST_GS_BASE	    0x6c08
#define VMCS_HOST_TR_BASE	    0x6c0a
#define VMCS_HOST_GDTR_BASE	    0x6c0c
#define VMCS_HOST_IDTR_BASE	    0x6c0e
#define VMCS_HOST_RSP		    0x6c14
#define VMCS_HOST_RIP		    0x6c16

#ifndef __ASSEMBLY__
enum vmcs_segment { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };
#endif

/* Access rights (SDM Vol. 3C §24.4.1, table 24-2). */
#define VMX_AR_CODE64	 0xa09b
#define VMX_AR_CODE32	 0xc09b
#define VMX_AR_DATA	 0xc093
#define VMX_AR_TSS64	 0x008b /* a busy TSS: also what real mode needs */
#define VMX_AR_REAL_CODE 0x009b
#define VMX_AR_REAL_DATA 0x0093
#define VMX_AR_UNUSABLE	 0x10000

/* Basic exit reasons (appendix C). */
#define VMX_EXIT_EXCEPTION_NMI	  0
#define VMX_EXIT_EXTERNAL_INT	  1
#define VMX_EXIT_TRIPLE_FAULT	  2
#define VMX_EXIT_INTERRUPT_WINDOW 7
#define VMX_EXIT_CPUID		  10
#define VMX_EXIT_HLT		  12
#define VMX_EXIT_VMCALL		  18
#define VMX_EXIT_IO		  30
#define VMX_EXIT_RDMSR		  31
#define VMX_EXIT_WRMSR		  32
#define VMX_EXIT_INVALID_STATE	  33
#define VMX_EXIT_GDTR_IDTR	  46
#define VMX_EXIT_LDTR_TR	  47
#define VMX_EXIT_EPT_VIOLATION	  48
#define VMX_EXIT_EPT_MISCONFIG	  49
#define VMX_EXIT_ENTRY_FAILURE	  (1u << 31)

/* I/O exit qualification (table 27-5). */
#define VMX_IO_SIZE_MASK  7
#define VMX_IO_IN	  (1u << 3)
#define VMX_IO_STRING	  (1u << 4)
#define VMX_IO_REP	  (1u << 5)
#define VMX_IO_PORT_SHIFT 16

/* EPT violation qualification (table 27-7). */
#define VMX_EPT_WRITE (1u << 1)
#define VMX_EPT_FETCH (1u << 2)

/* EPT entries (§29.3.2) and the EPT pointer (§24.6.11). */
#define EPT_READ  (1ull << 0)
#define EPT_WRITE (1ull << 1)
#define EPT_EXEC  (1ull << 2)
#define EPT_RWX	  (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MT_WB (6ull << 3)
#define EPT_LARGE (1ull << 7)

/* IA32_VMX_EPT_VPID_CAP (SDM appendix A.10) and INVEPT types (§30.3). */
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT    2
#define EPTP_WB		      6ull
#define EPTP_WALK_4	      (3ull << 3)

/* The VMX-preemption timer (SDM §25.5.1; appendix A.6 for the rate). */
#define PIN_PREEMPTION_TIMER	  (1u << 6)
#define VMCS_PREEMPTION_TIMER	  0x482e
#define VMX_EXIT_PREEMPTION_TIMER 52
#define MSR_IA32_VMX_MISC	  0x485
#define VMX_MISC_PREEMPTION_RATE  0x1f /* the timer ticks at TSC >> this */

/* VM-entry interruption information (SDM §24.8.3). */
#define VMCS_ENTRY_EXCEPTION_ERROR 0x4018
#define VMX_INTR_TYPE_EXTERNAL	   (0u << 8)
#define VMX_INTR_TYPE_HW_EXCEPTION (3u << 8)
#define VMX_INTR_TYPE_MASK	   (7u << 8)
#define VMX_INTR_TYPE_NMI	   (2u << 8)
#define VMX_INTR_DELIVER_ERROR	   (1u << 11)
#define VMX_INTR_VALID		   (1u << 31)
#define VMX_INTR_NMI_UNBLOCKED	   (1u << 12) /* IDT-vectoring info only */

/* Guest interruptibility state (SDM §24.4.2 table 24-3). */
#define VMX_BLOCKING_BY_STI    (1u << 0)
#define VMX_BLOCKING_BY_MOV_SS (1u << 1)

#endif
