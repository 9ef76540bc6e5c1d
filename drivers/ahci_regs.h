/* AHCI 1.3.1 registers and structures, and the ATA commands the driver sends
 * (ATA8-ACS, SATA 3.x for the FIS layouts). Names follow the specs. */
#ifndef DRIVERS_AHCI_REGS_H
#define DRIVERS_AHCI_REGS_H

/* --- HBA generic host control, AHCI §3.1 (offsets in ABAR, BAR 5) -------- */
#define AHCI_BAR       5
#define AHCI_CAP       0x00
#define AHCI_GHC       0x04
#define AHCI_IS	       0x08
#define AHCI_PI	       0x0c
#define AHCI_VS	       0x10
#define AHCI_CAP2      0x24
#define AHCI_BOHC      0x28
#define AHCI_MAX_PORTS 32

#define AHCI_CAP_NP_MASK   0x1fu /* ports - 1 */
#define AHCI_CAP_NCS_SHIFT 8	 /* command slots - 1 */
#define AHCI_CAP_NCS_MASK  0x1fu
#define AHCI_CAP_SCLO	   (1u << 24) /* command list override */
#define AHCI_CAP_SSS	   (1u << 27) /* staggered spin-up */
#define AHCI_CAP_SNCQ	   (1u << 30)
#define AHCI_CAP_S64A	   (1u << 31)

#define AHCI_GHC_HR (1u << 0)
#define AHCI_GHC_IE (1u << 1)
#define AHCI_GHC_AE (1u << 31)

/* --- port registers, AHCI §3.3: 0x80 bytes each from 0x100 --------------- */
#define AHCI_PORT_BASE	 0x100
#define AHCI_PORT_STRIDE 0x80
#define AHCI_PxCLB	 0x00
#define AHCI_PxCLBU	 0x04
#define AHCI_PxFB	 0x08
#define AHCI_PxFBU	 0x0c
#define AHCI_PxIS	 0x10
#define AHCI_PxIE	 0x14
#define AHCI_PxCMD	 0x18
#define AHCI_PxTFD	 0x20
#define AHCI_PxSIG	 0x24
#define AHCI_PxSSTS	 0x28
#define AHCI_PxSCTL	 0x2c
#define AHCI_PxSERR	 0x30
#define AHCI_PxSACT	 0x34
#define AHCI_PxCI	 0x38

/* PxIS, §3.3.5 */
#define AHCI_PxIS_DHRS	 (1u << 0)  /* D2H register FIS */
#define AHCI_PxIS_PSS	 (1u << 1)  /* PIO setup FIS */
#define AHCI_PxIS_DSS	 (1u << 2)  /* DMA setup FIS */
#define AHCI_PxIS_SDBS	 (1u << 3)  /* set device bits FIS */
#define AHCI_PxIS_DPS	 (1u << 5)  /* descriptor processed */
#define AHCI_PxIS_IFS	 (1u << 27) /* interface fatal */
#define AHCI_PxIS_HBDS	 (1u << 28) /* host bus data error */
#define AHCI_PxIS_HBFS	 (1u << 29) /* host bus fatal */
#define AHCI_PxIS_TFES	 (1u << 30) /* task file error */
#define AHCI_PxIS_ERRORS (AHCI_PxIS_TFES | AHCI_PxIS_HBFS | AHCI_PxIS_HBDS | AHCI_PxIS_IFS)

/* PxCMD, §3.3.7 */
#define AHCI_PxCMD_ST	     (1u << 0)
#define AHCI_PxCMD_SUD	     (1u << 1)
#define AHCI_PxCMD_POD	     (1u << 2)
#define AHCI_PxCMD_CLO	     (1u << 3)
#define AHCI_PxCMD_FRE	     (1u << 4)
#define AHCI_PxCMD_CCS_SHIFT 8
#define AHCI_PxCMD_CCS_MASK  0x1fu
#define AHCI_PxCMD_FR	     (1u << 14)
#define AHCI_PxCMD_CR	     (1u << 15)

/* PxTFD, §3.3.8: the ATA status and error registers */
#define AHCI_PxTFD_STS_ERR   (1u << 0)
#define AHCI_PxTFD_STS_DRQ   (1u << 3)
#define AHCI_PxTFD_STS_BSY   (1u << 7)
#define AHCI_PxTFD_ERR_SHIFT 8

/* PxSSTS, §3.3.10 */
#define AHCI_PxSSTS_DET_MASK	0xfu
#define AHCI_PxSSTS_DET_PRESENT 3u /* device present, phy communication up */

/* PxSIG, §3.3.9: signatures of what is attached */
#define AHCI_SIG_ATA   0x00000101u
#define AHCI_SIG_ATAPI 0xeb140101u

/* --- memory structures, §4.2 --------------------------------------------- */
#define AHCI_CMD_LIST_BYTES  1024 /* 32 headers of 32 bytes, 1 KiB aligned */
#define AHCI_CMD_HDR_BYTES   32
#define AHCI_RFIS_BYTES	     256 /* received FIS area, 256-byte aligned */
#define AHCI_CMD_TABLE_ALIGN 128
#define AHCI_CMD_TABLE_PRDT  0x80 /* the PRDT's offset in a command table */
#define AHCI_PRD_BYTES	     16
#define AHCI_PRD_MAX_BYTES   (4u << 20) /* one PRD entry's data, §4.2.3.3 */

/* Command header DW0, §4.2.2 */
#define AHCI_HDR_CFL_MASK    0x1fu /* FIS length in dwords */
#define AHCI_HDR_W	     (1u << 6)
#define AHCI_HDR_P	     (1u << 7)
#define AHCI_HDR_C	     (1u << 10) /* clear busy upon R_OK */
#define AHCI_HDR_PRDTL_SHIFT 16

/* PRD DW3, §4.2.3.3: byte count - 1 (bit 0 always 1: even counts only) */
#define AHCI_PRD_DBC_MASK 0x3fffffu
#define AHCI_PRD_I	  (1u << 31)

/* --- FIS types (SATA 3.x §10.3) and the H2D register FIS's bytes ----------- */
#define FIS_TYPE_REG_H2D  0x27
#define FIS_H2D_DWORDS	  5
#define FIS_H2D_C	  0x80 /* byte 1: this FIS carries a command */
#define FIS_H2D_COMMAND	  2
#define FIS_H2D_FEATURES  3
#define FIS_H2D_LBA0	  4
#define FIS_H2D_DEVICE	  7
#define FIS_H2D_LBA3	  8
#define FIS_H2D_FEATURES1 11
#define FIS_H2D_COUNT0	  12
#define FIS_H2D_COUNT1	  13
#define ATA_DEVICE_LBA	  0x40 /* device register bit 6: LBA addressing */
#define ATA_NCQ_TAG_SHIFT 3    /* FPDMA QUEUED: the tag in count bits 7:3 */

/* --- ATA8-ACS commands ---------------------------------------------------- */
#define ATA_CMD_READ_DMA_EXT	   0x25
#define ATA_CMD_WRITE_DMA_EXT	   0x35
#define ATA_CMD_READ_FPDMA_QUEUED  0x60
#define ATA_CMD_WRITE_FPDMA_QUEUED 0x61
#define ATA_CMD_IDENTIFY_DEVICE	   0xec
#define ATA_CMD_FLUSH_CACHE_EXT	   0xea
#define ATA_SECTOR		   512
#define ATA_MAX_SECTORS_EXT	   65536 /* a count of 0 means 65536 */

/* IDENTIFY DEVICE data, words (ATA8-ACS §7.16.7) */
#define ATA_ID_WORDS		   256
#define ATA_ID_LBA28_CAPACITY	   60 /* words 60-61 */
#define ATA_ID_QUEUE_DEPTH	   75 /* bits 4:0: depth - 1 */
#define ATA_ID_SATA_CAP		   76
#define ATA_ID_SATA_CAP_NCQ	   (1u << 8)
#define ATA_ID_COMMAND_SET_2	   83
#define ATA_ID_COMMAND_SET_2_LBA48 (1u << 10)
#define ATA_ID_LBA48_CAPACITY	   100 /* words 100-103 */
#define ATA_ID_MODEL		   27  /* words 27-46, bytes swapped in each word */
#define ATA_ID_MODEL_WORDS	   20

#endif
