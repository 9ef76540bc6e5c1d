/* libFuzzer harness for the virtual 16550A (vplat/vuart16550.c): the input is a sequence of
 * guest register reads and writes. Beyond "no crash", after every step (PC16550D §8):
 *   - LSR reads THRE|TEMT, never DR; RBR (DLAB clear) reads 0; IER holds bits 3:0 only and
 *     MCR bits 4:0 only;
 *   - IIR identifies no interrupt, THRE or modem status, bits 5:4 clear, bits 7:6 set exactly
 *     when FCR enabled the FIFOs;
 *   - the interrupt output is reported on every change and only then, and equals
 *     vuart_irq_pending();
 *   - in loopback, MSR's status bits follow MCR; a byte leaves only for a THR write with DLAB
 *     clear outside loopback.
 *
 * Input: 2-byte records: op (bit 7 write, bits 2:0 register), value. Seeds: Linux's autoconfig
 * and start-up probes, a polled line, an interrupt-driven line (tests/fuzz/seeds.py). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "drivers/uart16550_regs.h"
#include "vplat/vuart16550.h"

#define RECORD	 2
#define CHECK(c) ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool line;
static uint64_t sent;

static void on_tx(void *ctx, uint8_t byte)
{
	(void)ctx;
	(void)byte;
	sent++;
}

static void on_irq(void *ctx, bool level)
{
	(void)ctx;
	CHECK(level != line);
	line = level;
}

static void check_iir(struct vuart *u)
{
	uint8_t iir = vuart_read(u, UART_IIR), id = iir & 0x0f;

	CHECK(id == UART_IIR_NO_INT || id == UART_IIR_THRI || id == UART_IIR_MSI);
	CHECK(!(iir & 0x30));
	CHECK((iir & UART_IIR_FIFOS) == (u->fifos ? UART_IIR_FIFOS : 0));
}

static void check_state(struct vuart *u)
{
	uint8_t lcr = u->lcr;

	CHECK(line == vuart_irq_pending(u));
	CHECK(!(u->ier & ~UART_IER_MASK) && !(u->mcr & ~UART_MCR_MASK));
	CHECK(vuart_read(u, UART_LSR) == (UART_LSR_THRE | UART_LSR_TEMT));
	if (u->mcr & UART_MCR_LOOP) {
		uint8_t want = (u->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
			       (u->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
			       (u->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
			       (u->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);

		CHECK((u->msr & UART_MSR_STATUS) == want);
	}
	if (!(lcr & UART_LCR_DLAB))
		CHECK(vuart_read(u, UART_RBR) == 0);
	CHECK(line == vuart_irq_pending(u));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vuart u;
	uint64_t expect_sent = 0;

	line = false;
	sent = 0;
	vuart_init(&u, on_tx, on_irq, NULL);
	for (size_t at = 0; at + RECORD <= size; at += RECORD) {
		unsigned reg = data[at] & 7;
		uint8_t value = data[at + 1];

		if (data[at] & 0x80) {
			if (reg == UART_THR && !(u.lcr & UART_LCR_DLAB) && !(u.mcr & UART_MCR_LOOP))
				expect_sent++;
			vuart_write(&u, reg, value);
		} else if (reg == UART_IIR) {
			check_iir(&u);
		} else {
			(void)vuart_read(&u, reg);
		}
		CHECK(sent == expect_sent && u.tx_bytes == sent);
		check_state(&u);
	}
	return 0;
}
