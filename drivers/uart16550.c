/* Polled 16550 output: the console must work before interrupts, and in the
 * panic path, so it never waits for anything but the transmitter. */
#include "drivers/uart16550.h"
#include "arch/x86_64/cpu.h"

static uint8_t pio_read(const struct uart *u, unsigned reg)
{
	return inb((uint16_t)(u->base + reg));
}

static void pio_write(const struct uart *u, unsigned reg, uint8_t val)
{
	outb((uint16_t)(u->base + reg), val);
}

/* Registers at base + reg * stride, read and written `width` bytes at a time
 * (a 32-bit-wide UART ignores the upper bytes). */
static uint8_t mmio_read(const struct uart *u, unsigned reg)
{
	uintptr_t at = u->base + (uintptr_t)reg * u->stride;

	if (u->width == 4)
		return (uint8_t) * (volatile uint32_t *)at;
	if (u->width == 2)
		return (uint8_t) * (volatile uint16_t *)at;
	return *(volatile uint8_t *)at;
}

static void mmio_write(const struct uart *u, unsigned reg, uint8_t val)
{
	uintptr_t at = u->base + (uintptr_t)reg * u->stride;

	if (u->width == 4)
		*(volatile uint32_t *)at = val;
	else if (u->width == 2)
		*(volatile uint16_t *)at = val;
	else
		*(volatile uint8_t *)at = val;
}

const struct uart_ops uart_pio_ops = {pio_read, pio_write};
const struct uart_ops uart_mmio_ops = {mmio_read, mmio_write};

void uart_init(const struct uart *u, uint32_t baud)
{
	uint32_t clock = u->clock_hz ? u->clock_hz : UART_CLOCK_HZ;

	u->ops->write(u, UART_IER, 0);
	if (baud) {
		uint32_t divisor = clock / 16 / baud;

		divisor = divisor ? (divisor > 0xffff ? 0xffff : divisor) : 1;
		u->ops->write(u, UART_LCR, UART_LCR_DLAB);
		u->ops->write(u, UART_DLL, divisor & 0xff);
		u->ops->write(u, UART_DLM, (uint8_t)(divisor >> 8));
	}
	u->ops->write(u, UART_LCR, UART_LCR_8N1);
	u->ops->write(u, UART_FCR, UART_FCR_ENABLE_CLEAR);
	u->ops->write(u, UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

void uart_putc(const struct uart *u, char c)
{
	while (!(u->ops->read(u, UART_LSR) & UART_LSR_THRE))
		cpu_relax();
	u->ops->write(u, UART_THR, (uint8_t)c);
}

void uart_flush(const struct uart *u)
{
	while (!(u->ops->read(u, UART_LSR) & UART_LSR_TEMT))
		cpu_relax();
}
