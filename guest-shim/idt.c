/* guest-shim's descriptor tables: a flat 64-bit GDT (the selectors the
 * hypervisor's entry state uses) and an IDT whose 32 exception gates report
 * the exception and end the VM, so a test can see an injected exception, and
 * whose other 224 gates count interrupts (guest-shim/apic.c). Every vCPU
 * loads them: GDTR and IDTR are per CPU, the tables are shared. */
#include "guest-shim/shim.h"

#define STUB_SIZE      16
#define GATE_INTERRUPT 0x8e
#define SEL_CODE       0x08

struct gate {
	uint16_t offset_lo, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_hi, reserved;
} __attribute__((packed));

struct table_register {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern char shim_exception_stubs[], shim_interrupt_stubs[];
static const uint64_t gdt[3] = {0, 0x00af9a000000ffffull, 0x00cf92000000ffffull};
static struct gate idt[256] __attribute__((aligned(4096))); /* a page of its own */
static struct gate idt_copy[256] __attribute__((aligned(4096)));
static const void *exception_entry[32]; /* a workload's own handlers, or NULL */

/* Before shim_install_idt, on every vCPU alike (the IDT is shared, so each
 * vCPU's install writes the same gates): exception `vector` goes to `entry`
 * instead of the stub that ends the VM. */
void shim_exception_override(unsigned vector, const void *entry)
{
	if (vector < 32)
		exception_entry[vector] = entry;
}

void shim_exception(uint64_t vector, uint64_t rip);
void shim_exception(uint64_t vector, uint64_t rip)
{
	shim_report(HR_EXCEPTION, vector);
	shim_report(HR_EXCEPTION_RIP, rip);
	shim_hypercall(HC_POWEROFF, 0x100 + vector, 0);
	for (;;)
		__asm__ volatile("hlt");
}

void shim_install_idt(void)
{
	struct table_register gdtr = {sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt};
	struct table_register idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

	for (int v = 0; v < 256; v++) {
		const char *stub = v < 32 ? shim_exception_stubs + v * STUB_SIZE
					  : shim_interrupt_stubs + (v - 32) * STUB_SIZE;

		if (v < 32 && exception_entry[v])
			stub = exception_entry[v];
		uint64_t a = (uint64_t)(uintptr_t)stub;

		idt[v] = (struct gate){
			(uint16_t)a,	     SEL_CODE, 0, GATE_INTERRUPT, (uint16_t)(a >> 16),
			(uint32_t)(a >> 32), 0};
	}
	__asm__ volatile("lgdt %0; lidt %1" ::"m"(gdtr), "m"(idtr));
}

static struct gate *loaded_idt = idt;

void shim_rewrite_idt(void)
{
	for (int v = 0; v < 256; v++)
		((volatile struct gate *)loaded_idt)[v] = loaded_idt[v];
}

void shim_reload_idt(void)
{
	struct table_register idtr = {sizeof(idt_copy) - 1, (uint64_t)(uintptr_t)idt_copy};

	for (int v = 0; v < 256; v++)
		idt_copy[v] = idt[v];
	__asm__ volatile("lidt %0" ::"m"(idtr));
	loaded_idt = idt_copy;
}
