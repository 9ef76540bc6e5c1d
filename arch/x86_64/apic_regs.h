/* Local APIC registers (Intel SDM Vol. 3A §11.4.1 table 11-1, §11.12.1 for the
 * x2APIC MSR mapping: MSR = 0x800 + offset / 16). */
#ifndef ARCH_X86_64_APIC_REGS_H
#define ARCH_X86_64_APIC_REGS_H

#define APIC_ID		   0x020
#define APIC_VERSION	   0x030
#define APIC_TPR	   0x080
#define APIC_EOI	   0x0b0
#define APIC_SVR	   0x0f0
#define APIC_ESR	   0x280
#define APIC_ICR_LOW	   0x300
#define APIC_ICR_HIGH	   0x310
#define APIC_LVT_TIMER	   0x320
#define APIC_LVT_LINT0	   0x350
#define APIC_LVT_LINT1	   0x360
#define APIC_LVT_ERROR	   0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE  0x3e0

#define X2APIC_MSR_BASE 0x800

#define APIC_SVR_ENABLE		   (1u << 8)
#define APIC_LVT_MASKED		   (1u << 16)
#define APIC_LVT_TIMER_ONESHOT	   (0u << 17)
#define APIC_LVT_TIMER_TSCDEADLINE (2u << 17)
#define APIC_TIMER_DIVIDE_BY_1	   0xb

#define APIC_ICR_DELIVERY_FIXED	  (0u << 8)
#define APIC_ICR_DELIVERY_NMI	  (4u << 8)
#define APIC_ICR_DELIVERY_INIT	  (5u << 8)
#define APIC_ICR_DELIVERY_STARTUP (6u << 8)
#define APIC_ICR_PENDING	  (1u << 12)
#define APIC_ICR_LEVEL_ASSERT	  (1u << 14)
#define APIC_ICR_TRIGGER_LEVEL	  (1u << 15)
#define APIC_ICR_ALL_BUT_SELF	  (3u << 18)

#define XAPIC_DEFAULT_BASE 0xfee00000

#endif
