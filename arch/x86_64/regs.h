/* Architectural register bits and MSR numbers (Intel SDM Vol. 3A ch. 2, 4, 10;
 * Vol. 4 for the MSRs). Shared by C and assembly. */
#ifndef ARCH_X86_64_REGS_H
#define ARCH_X86_64_REGS_H

#define X86_CR0_PE (1 << 0)
#define X86_CR0_MP (1 << 1)
#define X86_CR0_ET (1 << 4)
#define X86_CR0_NE (1 << 5)
#define X86_CR0_WP (1 << 16)
#define X86_CR0_NW (1 << 29)
#define X86_CR0_CD (1 << 30)
#define X86_CR0_PG 0x80000000 /* a literal: (1 << 31) would sign-extend */

#define X86_CR4_PAE	   (1 << 5)
#define X86_CR4_PGE	   (1 << 7)
#define X86_CR4_OSFXSR	   (1 << 9)
#define X86_CR4_OSXMMEXCPT (1 << 10)

#define MSR_IA32_APIC_BASE    0x0000001b
#define MSR_IA32_TSC_DEADLINE 0x000006e0
#define MSR_IA32_SYSENTER_CS  0x00000174
#define MSR_IA32_SYSENTER_ESP 0x00000175
#define MSR_IA32_SYSENTER_EIP 0x00000176
#define MSR_IA32_PAT	      0x00000277
#define MSR_EFER	      0xc0000080
#define MSR_STAR	      0xc0000081
#define MSR_LSTAR	      0xc0000082
#define MSR_CSTAR	      0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_FS_BASE	      0xc0000100
#define MSR_GS_BASE	      0xc0000101
#define MSR_KERNEL_GS_BASE    0xc0000102

#define EFER_SCE (1 << 0)
#define EFER_LME (1 << 8)
#define EFER_LMA (1 << 10)
#define EFER_NXE (1 << 11)
/* What a guest may set in EFER (SDM Vol. 4 IA32_EFER; APM §3.1.7): SCE,
 * LME, NXE; AMD's LMSLE (13) and FFXSR (14) too. */
#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | (1 << 13) | (1 << 14))

#define IA32_APIC_BASE_BSP  (1 << 8)
#define IA32_APIC_BASE_EXTD (1 << 10) /* x2APIC mode */
#define IA32_APIC_BASE_EN   (1 << 11)
#define IA32_APIC_BASE_MASK 0x000ffffffffff000ull

#define RFLAGS_IF (1 << 9)

/* CPUID feature bits used by the hypervisor. */
#define CPUID_1_ECX_X2APIC		 (1u << 21)
#define CPUID_1_ECX_TSCDEADLINE		 (1u << 24)
#define CPUID_1_EDX_APIC		 (1u << 9)
#define CPUID_80000001_EDX_LM		 (1u << 29)
#define CPUID_80000001_EDX_PDPE1GB	 (1u << 26)
#define CPUID_80000007_EDX_INVARIANT_TSC (1u << 8)

#endif
