/* Local APIC registers (Intel SDM Vol. 3A §11.4.1 table 11-1, §11.12.1 for the
 * x2APIC MSR mapping: MSR = 0x800 + offset / 16). */
#ifndef ARCH_X86_64_APIC_REGS_H
#define ARCH_X86_64_APIC_REGS_H

#define APIC_ID		   0x020
#define APIC_VERSION	   0x030
#define APIC_TPR	   0x080
#define APIC_APR	   0x090
#define APIC_PPR	   0x0a0
#define APIC_EOI	   0x0b0
#define APIC_LDR	   0x0d0
#define APIC_DFR	   0x0e0
#define APIC_SVR	   0x0f0
#define APIC_ISR	   0x100 /* 8 registers, 16 bytes apart */
#define APIC_TMR	   0x180
#define APIC_IRR	   0x200
#define APIC_ESR	   0x280
#define APIC_LVT_CMCI	   0x2f0
#define APIC_ICR_LOW	   0x300
#define APIC_ICR_HIGH	   0x310
#define APIC_LVT_TIMER	   0x320
#define APIC_LVT_THERMAL   0x330
#define APIC_LVT_PERF	   0x340
#define APIC_LVT_LINT0	   0x350
#define APIC_LVT_LINT1	   0x360
#define APIC_LVT_ERROR	   0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE  0x3e0
#define APIC_SELF_IPI	   0x3f0 /* x2APIC only */

#define X2APIC_MSR_BASE 0x800
#define X2APIC_MSR_LAST 0x8ff
#define X2APIC_MSR_EOI	(X2APIC_MSR_BASE + (APIC_EOI >> 4))

#define APIC_SVR_ENABLE		   (1u << 8)
#define APIC_LVT_MASKED		   (1u << 16)
#define APIC_LVT_VECTOR		   0xffu
#define APIC_LVT_TIMER_MODE	   (3u << 17)
#define APIC_LVT_TIMER_ONESHOT	   (0u << 17)
#define APIC_LVT_TIMER_PERIODIC	   (1u << 17)
#define APIC_LVT_TIMER_TSCDEADLINE (2u << 17)
#define APIC_TIMER_DIVIDE_BY_1	   0xb

#define APIC_ICR_VECTOR		  0xffu
#define APIC_ICR_DELIVERY_MASK	  (7u << 8)
#define APIC_ICR_DELIVERY_FIXED	  (0u << 8)
#define APIC_ICR_DELIVERY_LOWEST  (1u << 8)
#define APIC_ICR_DELIVERY_NMI	  (4u << 8)
#define APIC_ICR_DELIVERY_INIT	  (5u << 8)
#define APIC_ICR_DELIVERY_STARTUP (6u << 8)
#define APIC_ICR_DEST_LOGICAL	  (1u << 11)
#define APIC_ICR_PENDING	  (1u << 12)
#define APIC_ICR_LEVEL_ASSERT	  (1u << 14)
#define APIC_ICR_TRIGGER_LEVEL	  (1u << 15)
#define APIC_ICR_SHORTHAND_MASK	  (3u << 18)
#define APIC_ICR_SELF		  (1u << 18)
#define APIC_ICR_ALL		  (2u << 18)
#define APIC_ICR_ALL_BUT_SELF	  (3u << 18)

#define APIC_ESR_ILLEGAL_VECTOR	 (1u << 6) /* send (bit 5) or receive (bit 6) */
#define APIC_ESR_ILLEGAL_ADDRESS (1u << 7)

#define XAPIC_DEFAULT_BASE 0xfee00000

#endif
