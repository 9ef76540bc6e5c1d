/* Polled 16550 output: the console must work before interrupts, and in the
 * panic path, so it never waits for anything but the transmitter. */
#include "drivers/uart16550.h"
#include "arch/x86_64/cpu.h"

void uart_init(uint16_t port, uint32_t baud)
{
	uint16_t divisor = (uint16_t)(UART_CLOCK_HZ / 16 / baud);

	outb(port + UART_IER, 0);
	outb(port + UART_LCR, UART_LCR_DLAB);
	outb(port + UART_DLL, divisor & 0xff);
	outb(port + UART_DLM, divisor >> 8);
	outb(port + UART_LCR, UART_LCR_8N1);
	outb(port + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(port + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

void uart_putc(uint16_t port, char c)
{
	while (!(inb(port + UART_LSR) & UART_LSR_THRE))
		cpu_relax();
	outb(port + UART_THR, (uint8_t)c);
}
