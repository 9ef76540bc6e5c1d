/* Per-CPU GDT and TSS. Each CPU needs its own TSS (the busy bit and the IST
 * stacks are per CPU), hence its own GDT holding that TSS's descriptor. */
#include <string.h>

#include "arch/x86_64/gdt.h"

#define SEG_CODE64	    0x00af9a000000ffffull /* present, DPL0, execute/read, L=1 */
#define SEG_DATA	    0x00cf92000000ffffull /* present, DPL0, read/write */
#define SEG_TSS64_AVAILABLE 0x9ull

struct gdt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* A 64-bit TSS descriptor takes two GDT slots (SDM Vol. 3A §8.2.3, fig. 8-4). */
static void gdt_set_tss(struct gdt *gdt, const struct tss *tss)
{
	uint64_t base = (uint64_t)(uintptr_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	gdt->entry[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (SEG_TSS64_AVAILABLE << 40) |
			(1ull << 47) | (((limit >> 16) & 0xf) << 48) |
			(((base >> 24) & 0xff) << 56);
	gdt->entry[4] = base >> 32;
}

void gdt_load(struct gdt *gdt, struct tss *tss, uint8_t *ist_stacks)
{
	struct gdt_ptr ptr = {sizeof(gdt->entry) - 1, (uint64_t)(uintptr_t)gdt->entry};

	memset(tss, 0, sizeof(*tss));
	for (int i = 0; i < IST_STACKS; i++)
		tss->ist[i] = (uint64_t)(uintptr_t)(ist_stacks + (i + 1) * IST_STACK_SIZE);
	tss->iomap_base = sizeof(*tss); /* no I/O permission bitmap */

	gdt->entry[0] = 0;
	gdt->entry[1] = SEG_CODE64;
	gdt->entry[2] = SEG_DATA;
	gdt_set_tss(gdt, tss);

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(ptr), "i"(GDT_SEL_CODE), "i"(GDT_SEL_DATA), "r"(GDT_SEL_TSS)
			 : "rax", "memory");
}
