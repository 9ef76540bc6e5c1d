/* National Semiconductor PC16550D UART: register offsets and bits (data sheet
 * table 2), and the polled console driver built on them. The registers are
 * reached through a tiny ops table: I/O ports (COM1-COM4 and other legacy
 * ports) or memory-mapped registers (PCI and SoC UARTs, at a 1, 2 or 4-byte
 * stride and access width). */
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H

#include <stdint.h>

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8
#define COM3_PORT 0x3e8
#define COM4_PORT 0x2e8

#define UART_THR  0 /* transmit holding (write, DLAB=0) */
#define UART_DLL  0 /* divisor latch low (DLAB=1) */
#define UART_IER  1 /* interrupt enable (DLAB=0) */
#define UART_DLM  1 /* divisor latch high (DLAB=1) */
#define UART_FCR  2 /* FIFO control */
#define UART_LCR  3 /* line control */
#define UART_MCR  4 /* modem control */
#define UART_LSR  5 /* line status */
#define UART_REGS 8

#define UART_LCR_8N1	      0x03
#define UART_LCR_DLAB	      0x80
#define UART_FCR_ENABLE_CLEAR 0x07
#define UART_MCR_DTR_RTS_OUT2 0x0b
#define UART_LSR_THRE	      0x20
#define UART_LSR_TEMT	      0x40 /* shift register empty too */

#define UART_CLOCK_HZ 1843200

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
