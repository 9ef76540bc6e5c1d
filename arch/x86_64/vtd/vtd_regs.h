/* VT-d remapping hardware: register offsets and bits (Intel VT-d spec rev
 * 4.1, §11.4) and the root, context and second-level paging entries (§9.1,
 * §9.3, §9.8). Only what corevisor uses. */
#ifndef ARCH_X86_64_VTD_VTD_REGS_H
#define ARCH_X86_64_VTD_VTD_REGS_H

/* --- registers, offsets from the unit's register base (§11.4, table 11-1) */
#define VTD_REG_VER    0x00 /* 32-bit: bits 7:4 major, 3:0 minor */
#define VTD_REG_CAP    0x08 /* 64-bit */
#define VTD_REG_ECAP   0x10 /* 64-bit */
#define VTD_REG_GCMD   0x18 /* 32-bit */
#define VTD_REG_GSTS   0x1c /* 32-bit */
#define VTD_REG_RTADDR 0x20 /* 64-bit */
#define VTD_REG_CCMD   0x28 /* 64-bit */
#define VTD_REG_FSTS   0x34 /* 32-bit */
#define VTD_REG_FECTL  0x38 /* 32-bit */
/* at the ECAP's IRO: IVA, then the IOTLB register 8 bytes on (§11.4.8) */
#define VTD_REG_IOTLB_FROM_IRO 0x08

/* --- capability register (§11.4.2) */
#define VTD_CAP_ND(c)	 ((unsigned)((c)&7))		 /* domains: 2^(4 + 2 ND) */
#define VTD_CAP_RWBF	 (1ull << 4)			 /* flush write buffers */
#define VTD_CAP_CM	 (1ull << 7)			 /* caching mode */
#define VTD_CAP_SAGAW(c) ((unsigned)(((c) >> 8) & 0x1f)) /* bit 1: 3 levels, 2: 4, 3: 5 */
#define VTD_CAP_MGAW(c)	 ((unsigned)(((c) >> 16) & 0x3f) + 1)
#define VTD_CAP_FRO(c)	 ((unsigned)(((c) >> 24) & 0x3ff) * 16) /* fault recording offset */
#define VTD_CAP_NFR(c)	 ((unsigned)(((c) >> 40) & 0xff) + 1)	/* fault recording registers */

/* --- extended capability register (§11.4.3) */
#define VTD_ECAP_C	(1ull << 0) /* page-walk coherency: no clflush of the tables */
#define VTD_ECAP_QI	(1ull << 1) /* queued invalidation */
#define VTD_ECAP_IR	(1ull << 3) /* interrupt remapping */
#define VTD_ECAP_EIM	(1ull << 4) /* extended interrupt mode (x2APIC ids) */
#define VTD_ECAP_PT	(1ull << 6) /* pass-through translation type */
#define VTD_ECAP_IRO(e) ((unsigned)(((e) >> 8) & 0x3ff) * 16) /* IOTLB register offset */

/* --- global command and status (§11.4.4, §11.4.5): the same bit positions */
#define VTD_GCMD_TE   (1u << 31) /* translation enable */
#define VTD_GCMD_SRTP (1u << 30) /* set root table pointer */
#define VTD_GCMD_WBF  (1u << 27) /* write buffer flush */
#define VTD_GCMD_QIE  (1u << 26)
#define VTD_GCMD_IRE  (1u << 25)
/* §11.4.4: the bits of GSTS that are one-shot commands, not states to keep */
#define VTD_GCMD_ONE_SHOT 0x69000000u /* SRTP, SFL, WBF, SIRTP */

/* --- root table address (§11.4.6): bits 11:10 translation table mode */
#define VTD_RTADDR_LEGACY (0ull << 10)

/* --- context command (§11.4.7) */
#define VTD_CCMD_ICC	(1ull << 63) /* invalidate, cleared by hardware when done */
#define VTD_CCMD_GLOBAL (1ull << 61) /* CIRG 01 */

/* --- IOTLB invalidate register (§11.4.8.1) */
#define VTD_IOTLB_IVT	 (1ull << 63) /* invalidate, cleared by hardware when done */
#define VTD_IOTLB_GLOBAL (1ull << 60) /* IIRG 01 */
#define VTD_IOTLB_DR	 (1ull << 49) /* drain reads */
#define VTD_IOTLB_DW	 (1ull << 48) /* drain writes */

/* --- fault status (§11.4.9.1) and event control (§11.4.9.2) */
#define VTD_FSTS_PFO	(1u << 0) /* primary fault overflow, write 1 to clear */
#define VTD_FSTS_PPF	(1u << 1) /* primary pending fault */
#define VTD_FSTS_FRI(s) (((s) >> 8) & 0xff)
#define VTD_FECTL_IM	(1u << 31) /* interrupt mask: faults are polled */

/* --- fault recording register, 128 bits (§11.4.14) */
#define VTD_FRCD_FI_MASK 0xfffffffffffff000ull		   /* low qword: the faulting page */
#define VTD_FRCD_SID(hi) ((unsigned)((hi)&0xffff))	   /* bus 15:8, devfn 7:0 */
#define VTD_FRCD_FR(hi)	 ((unsigned)(((hi) >> 32) & 0xff)) /* fault reason */
#define VTD_FRCD_T1(hi)	 (((hi) >> 62) & 1)		   /* 1: read, 0: write */
#define VTD_FRCD_F	 (1ull << 63)			   /* of the high qword; write 1 to clear */

/* --- root entry, 128 bits, one per bus (§9.1, legacy mode) */
#define VTD_ROOT_ENTRIES 256u
#define VTD_ROOT_P	 (1ull << 0)
#define VTD_ADDR_MASK	 0x000ffffffffff000ull /* a 4 KiB table's address in an entry */

/* --- context entry, 128 bits, one per device and function (§9.3) */
#define VTD_CTX_ENTRIES	   256u
#define VTD_CTX_P	   (1ull << 0)
#define VTD_CTX_TT_SL	   (0ull << 2)		    /* untranslated requests through second level */
#define VTD_CTX_AW(levels) ((uint64_t)((levels)-2)) /* high qword 2:0: 1 = 3 levels */
#define VTD_CTX_DID_SHIFT  8			    /* high qword 23:8: domain id */
#define VTD_CTX_DID_MASK   0xffffull
#define VTD_CTX_AW_MASK	   7ull

/* --- second-level paging entries (§9.8) */
#define VTD_SL_R	(1ull << 0)
#define VTD_SL_W	(1ull << 1)
#define VTD_SL_PS	(1ull << 7) /* a large page; never set by corevisor */
#define VTD_SL_ENTRIES	512u
#define VTD_PAGE_SHIFT	12u
#define VTD_LEVEL_SHIFT 9u

#endif
