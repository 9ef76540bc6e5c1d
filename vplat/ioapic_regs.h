/* Intel 82093AA I/O APIC: memory-mapped registers and the indirect register
 * file behind them (82093AA datasheet §3.1, §3.2), plus the EOI register of
 * the version 0x20 I/O(x)APICs of later chipsets. */
#ifndef VPLAT_IOAPIC_REGS_H
#define VPLAT_IOAPIC_REGS_H

#define IOAPIC_DEFAULT_BASE 0xfec00000u /* MP spec / PC default */
#define IOAPIC_MMIO_SIZE    0x1000u

/* memory-mapped registers (§3.1) */
#define IOAPIC_IOREGSEL 0x00 /* bits 7:0: the register IOWIN reaches */
#define IOAPIC_IOWIN	0x10 /* the selected register's 32 bits */
#define IOAPIC_EOI	0x40 /* version 0x20: bits 7:0 a vector whose remote IRR clears */

/* indirect registers (§3.2) */
#define IOAPIC_REG_ID	     0x00 /* bits 27:24 the ID */
#define IOAPIC_REG_VER	     0x01 /* bits 23:16 highest entry, 7:0 version */
#define IOAPIC_REG_ARB	     0x02 /* bits 27:24 arbitration ID (read-only) */
#define IOAPIC_REG_REDIR     0x10 /* entry n: low dword 0x10 + 2n, high 0x11 + 2n */
#define IOAPIC_ID_SHIFT	     24
#define IOAPIC_ID_MASK	     (0xfu << IOAPIC_ID_SHIFT)
#define IOAPIC_VER_SHIFT_MAX 16

/* a redirection table entry (§3.2.4) */
#define IOAPIC_RTE_VECTOR	  0xffull
#define IOAPIC_RTE_DELIVERY_SHIFT 8
#define IOAPIC_RTE_DELIVERY_MASK  (7ull << IOAPIC_RTE_DELIVERY_SHIFT)
#define IOAPIC_RTE_DEST_LOGICAL	  (1ull << 11)
#define IOAPIC_RTE_DELIVERY_STAT  (1ull << 12) /* read-only: send pending */
#define IOAPIC_RTE_POLARITY_LOW	  (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR	  (1ull << 14) /* read-only: level accepted, no EOI yet */
#define IOAPIC_RTE_LEVEL	  (1ull << 15)
#define IOAPIC_RTE_MASKED	  (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT	  56
#define IOAPIC_RTE_WRITABLE                                                                        \
	(IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELIVERY_MASK | IOAPIC_RTE_DEST_LOGICAL |                  \
	 IOAPIC_RTE_POLARITY_LOW | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED |                          \
	 (0xffull << IOAPIC_RTE_DEST_SHIFT))

/* delivery modes (§3.2.4, bits 10:8) */
#define IOAPIC_DELIVERY_FIXED  0
#define IOAPIC_DELIVERY_LOWEST 1
#define IOAPIC_DELIVERY_SMI    2
#define IOAPIC_DELIVERY_NMI    4
#define IOAPIC_DELIVERY_INIT   5
#define IOAPIC_DELIVERY_EXTINT 7

#endif
