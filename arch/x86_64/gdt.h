/* Segment descriptors and the TSS (Intel SDM Vol. 3A §3.4.5, §8.2.3). In long
 * mode segmentation is flat; the GDT exists for the code selector and the TSS,
 * whose IST stacks give #DF, NMI and #MC a known-good stack. */
#ifndef ARCH_X86_64_GDT_H
#define ARCH_X86_64_GDT_H

#define GDT_SEL_CODE 0x08
#define GDT_SEL_DATA 0x10
#define GDT_SEL_TSS  0x18

#define IST_DOUBLE_FAULT  1
#define IST_NMI		  2
#define IST_MACHINE_CHECK 3
#define IST_STACK_SIZE	  4096
#define IST_STACKS	  3 /* #DF, NMI, #MC: IST_STACKS * IST_STACK_SIZE bytes per CPU */

#ifndef __ASSEMBLY__
#include <stdint.h>

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct gdt {
	uint64_t entry[5]; /* null, code, data, TSS (two slots) */
};

/* Loads the GDT and the TSS, whose IST stacks are the IST_STACKS stacks of
 * IST_STACK_SIZE bytes each at `ist_stacks` (16-byte aligned). */
void gdt_load(struct gdt *gdt, struct tss *tss, uint8_t *ist_stacks);
#endif

#endif
