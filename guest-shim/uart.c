/* workload=uart: the virtual platform's COM1 and I/O APIC (issue 10).
 *
 * First lines written the way printk's console writes them, polling LSR.THRE
 * before each byte; one of them carries a record, which must reach the log
 * escaped, as guest text. Then I/O APIC pin 4 (COM1's ISA IRQ) is routed to
 * this vCPU, edge-triggered, and a line is written the way Linux's 8250
 * driver writes with interrupts: enabling IER.ETBEI raises a THRE interrupt,
 * and each THRE interrupt writes the next byte; the one after the last byte
 * turns ETBEI off. So a line of N bytes takes exactly N + 1 interrupts, each
 * of whose IIR reads must say THRE. With trigger=level the pin is
 * level-triggered: the THR write's new THRE interrupt waits (remote IRR) until
 * the handler's EOI reaches the I/O APIC, which then delivers it again: the
 * same N + 1 interrupts. */
#include "drivers/uart16550_regs.h"
#include "guest-shim/shim.h"
#include "vplat/ioapic_regs.h"

#define POLLED_LINES                                                                               \
	"uart: polled line one\n"                                                                  \
	"uart: @{\"type\":\"forged\",\"trick\":\"uart\"}\n"                                        \
	"@{\"type\":\"forged\",\"trick\":\"uart-line-start\"}\n"
#define IRQ_LINE "uart: written from THRE interrupts\n"

static const char irq_line[] = IRQ_LINE;
static volatile uint32_t sent, thre_irqs, other_irqs;
static volatile bool tx_done;

static void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" ::"a"(value), "Nd"(port));
}

static uint8_t inb(uint16_t port)
{
	uint8_t value;

	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static void write_polled(const char *s)
{
	for (; *s; s++) {
		while (!(inb(COM1_PORT + UART_LSR) & UART_LSR_THRE))
			;
		outb(COM1_PORT + UART_THR, (uint8_t)*s);
	}
}

static void ioapic_write(uint32_t reg, uint32_t value)
{
	*(volatile uint32_t *)(uintptr_t)(IOAPIC_DEFAULT_BASE + IOAPIC_IOREGSEL) = reg;
	*(volatile uint32_t *)(uintptr_t)(IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN) = value;
}

static uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)(uintptr_t)(IOAPIC_DEFAULT_BASE + IOAPIC_IOREGSEL) = reg;
	return *(volatile uint32_t *)(uintptr_t)(IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN);
}

/* Called by shim_interrupt (apic.c) before its EOI. */
void shim_uart_interrupt(void)
{
	uint8_t iir = inb(COM1_PORT + UART_IIR);

	if ((iir & (UART_IIR_ID_MASK | UART_IIR_NO_INT)) != UART_IIR_THRI) {
		other_irqs++;
		return;
	}
	thre_irqs++;
	if (sent < sizeof(irq_line) - 1) {
		outb(COM1_PORT + UART_THR, (uint8_t)irq_line[sent]);
		sent++;
	} else {
		outb(COM1_PORT + UART_IER, 0);
		tx_done = true;
	}
}

/* Pin 4: fixed delivery of SHIM_VEC_UART to this vCPU's APIC ID, physical
 * destination, edge- or level-triggered, active high, unmasked (82093AA
 * §3.2.4). */
static void route_com1(bool level)
{
	uint32_t low = IOAPIC_REG_REDIR + 2 * COM1_IRQ;

	ioapic_write(low + 1, shim_apic_id() << (IOAPIC_RTE_DEST_SHIFT - 32));
	ioapic_write(low, SHIM_VEC_UART | (level ? (uint32_t)IOAPIC_RTE_LEVEL : 0));
}

void shim_run_uart(const char *cmdline)
{
	write_polled(POLLED_LINES);
	outb(COM1_PORT + UART_LCR, UART_LCR_8N1);
	outb(COM1_PORT + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(COM1_PORT + UART_MCR, UART_MCR_DTR_RTS_OUT2);
	route_com1(shim_arg_is(cmdline, "trigger", "level"));
	outb(COM1_PORT + UART_IER, UART_IER_ETBEI);
	while (!tx_done)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	shim_report(HR_IOAPIC_VERSION, ioapic_read(IOAPIC_REG_VER));
	shim_report(HR_UART_TX_BYTES, sent);
	shim_report(HR_UART_THRE_IRQS, thre_irqs);
	shim_report(HR_UART_OTHER_IRQS, other_irqs);
}
