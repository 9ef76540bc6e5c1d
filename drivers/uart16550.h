/* National Semiconductor PC16550D UART: the polled console driver built on
 * its registers (drivers/uart16550_regs.h). The registers are
 * reached through a tiny ops table: I/O ports (COM1-COM4 and other legacy
 * ports) or memory-mapped registers (PCI and SoC UARTs, at a 1, 2 or 4-byte
 * stride and access width). */
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H

#include <stdint.h>

#include "drivers/uart16550_regs.h"

struct uart;

struct uart_ops {
	uint8_t (*read)(const struct uart *u, unsigned reg);
	void (*write)(const struct uart *u, unsigned reg, uint8_t val);
};

struct uart {
	const struct uart_ops *ops;
	uintptr_t base;	   /* I/O port, or the registers' (uncached) virtual address */
	uint8_t stride;	   /* MMIO: bytes from one register to the next */
	uint8_t width;	   /* MMIO: access width in bytes (1, 2 or 4) */
	uint32_t clock_hz; /* input clock; 0 means UART_CLOCK_HZ */
};

extern const struct uart_ops uart_pio_ops;
extern const struct uart_ops uart_mmio_ops;

/* 8N1 at `baud`, FIFOs on, interrupts off; baud 0 keeps the divisor the
 * firmware programmed. */
void uart_init(const struct uart *u, uint32_t baud);
void uart_putc(const struct uart *u, char c);
/* Waits until everything written has left the transmitter. */
void uart_flush(const struct uart *u);

#endif
