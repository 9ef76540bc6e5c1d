/* The VMCB (AMD64 APM Vol. 2, appendix B): a 4 KiB page, control area at
 * 0x000, state-save area at 0x400. Only the fields corevisor uses are named;
 * the static asserts pin each one to the manual's offset. */
#ifndef ARCH_X86_64_SVM_VMCB_H
#define ARCH_X86_64_SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

struct vmcb_segment {
	uint16_t selector;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
} __attribute__((packed));

struct vmcb_control {
	uint16_t intercept_cr_read; /* 0x000 */
	uint16_t intercept_cr_write;
	uint16_t intercept_dr_read;
	uint16_t intercept_dr_write;
	uint32_t intercept_exceptions; /* 0x008 */
	uint32_t intercept_misc3;      /* 0x00c */
	uint32_t intercept_misc4;      /* 0x010 */
	uint8_t reserved0[0x040 - 0x014];
	uint64_t iopm_base_pa;	/* 0x040 */
	uint64_t msrpm_base_pa; /* 0x048 */
	uint64_t tsc_offset;	/* 0x050 */
	uint32_t guest_asid;	/* 0x058 */
	uint8_t tlb_control;	/* 0x05c */
	uint8_t reserved1[3];
	uint32_t int_control; /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING ... */
	uint32_t int_vector;  /* 0x064 */
	uint32_t int_state;   /* 0x068: bit 0 = interrupt shadow */
	uint8_t reserved2[4];
	uint64_t exit_code;	/* 0x070 */
	uint64_t exit_info1;	/* 0x078 */
	uint64_t exit_info2;	/* 0x080 */
	uint64_t exit_int_info; /* 0x088 */
	uint64_t np_enable;	/* 0x090 */
	uint8_t reserved3[0x0a8 - 0x098];
	uint64_t event_inject; /* 0x0a8 */
	uint64_t n_cr3;	       /* 0x0b0 */
	uint64_t lbr_virt;     /* 0x0b8 */
	uint32_t clean_bits;   /* 0x0c0 */
	uint32_t reserved4;
	uint64_t next_rip;	    /* 0x0c8 */
	uint8_t insn_bytes_fetched; /* 0x0d0 */
	uint8_t insn_bytes[15];
	uint8_t reserved5[0x400 - 0x0e0];
} __attribute__((packed));

struct vmcb_save {
	struct vmcb_segment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 */
	uint8_t reserved0[0x4cb - 0x4a0];
	uint8_t cpl; /* 0x4cb */
	uint32_t reserved1;
	uint64_t efer; /* 0x4d0 */
	uint8_t reserved2[0x548 - 0x4d8];
	uint64_t cr4;	 /* 0x548 */
	uint64_t cr3;	 /* 0x550 */
	uint64_t cr0;	 /* 0x558 */
	uint64_t dr7;	 /* 0x560 */
	uint64_t dr6;	 /* 0x568 */
	uint64_t rflags; /* 0x570 */
	uint64_t rip;	 /* 0x578 */
	uint8_t reserved3[0x5d8 - 0x580];
	uint64_t rsp; /* 0x5d8 */
	uint8_t reserved4[0x5f8 - 0x5e0];
	uint64_t rax;		 /* 0x5f8 */
	uint64_t star;		 /* 0x600 */
	uint64_t lstar;		 /* 0x608 */
	uint64_t cstar;		 /* 0x610 */
	uint64_t sfmask;	 /* 0x618 */
	uint64_t kernel_gs_base; /* 0x620 */
	uint64_t sysenter_cs;	 /* 0x628 */
	uint64_t sysenter_esp;	 /* 0x630 */
	uint64_t sysenter_eip;	 /* 0x638 */
	uint64_t cr2;		 /* 0x640 */
	uint8_t reserved5[0x668 - 0x648];
	uint64_t g_pat; /* 0x668 */
} __attribute__((packed));

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
	uint8_t reserved[4096 - 0x400 - sizeof(struct vmcb_save)];
} __attribute__((packed));

#define VMCB_AT(field, off) _Static_assert(offsetof(struct vmcb, field) == (off), #field)
VMCB_AT(control.iopm_base_pa, 0x040);
VMCB_AT(control.guest_asid, 0x058);
VMCB_AT(control.int_control, 0x060);
VMCB_AT(control.exit_code, 0x070);
VMCB_AT(control.np_enable, 0x090);
VMCB_AT(control.event_inject, 0x0a8);
VMCB_AT(control.n_cr3, 0x0b0);
VMCB_AT(control.next_rip, 0x0c8);
VMCB_AT(save.es, 0x400);
VMCB_AT(save.tr, 0x490);
VMCB_AT(save.cpl, 0x4cb);
VMCB_AT(save.efer, 0x4d0);
VMCB_AT(save.cr4, 0x548);
VMCB_AT(save.rip, 0x578);
VMCB_AT(save.rsp, 0x5d8);
VMCB_AT(save.rax, 0x5f8);
VMCB_AT(save.cr2, 0x640);
VMCB_AT(save.g_pat, 0x668);
_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");
#undef VMCB_AT

#endif
