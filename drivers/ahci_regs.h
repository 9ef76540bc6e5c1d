/* AHCI host bus adapter registers (Serial ATA AHCI 1.3.1, §3): the few the
 * IOMMU self-test uses so far. */
#ifndef DRIVERS_AHCI_REGS_H
#define DRIVERS_AHCI_REGS_H

#define AHCI_ABAR_INDEX 5 /* the HBA's memory registers are BAR 5 (§2.1.11) */

/* generic host control (§3.1) */
#define AHCI_GHC    0x04
#define AHCI_GHC_HR (1u << 0)  /* HBA reset, cleared by the HBA when done */
#define AHCI_GHC_AE (1u << 31) /* AHCI enable */
#define AHCI_PI	    0x0c       /* ports implemented, one bit each */

/* port registers (§3.3), at 0x100 + port * 0x80 */
#define AHCI_PORT(n)   (0x100u + (n)*0x80u)
#define AHCI_PXFB      0x08 /* FIS receive area, 256-byte aligned */
#define AHCI_PXFBU     0x0c
#define AHCI_PXCMD     0x18
#define AHCI_PXCMD_ST  (1u << 0)  /* start: process the command list */
#define AHCI_PXCMD_FRE (1u << 4)  /* FIS receive enable */
#define AHCI_PXCMD_FR  (1u << 14) /* FIS receive running */
#define AHCI_PXCMD_CR  (1u << 15) /* command list running */

#endif
