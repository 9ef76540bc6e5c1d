/* The virtual 16550A (vplat/vuart16550.c) against the PC16550D data sheet
 * and what Linux's 8250 driver checks (drivers/tty/serial/8250/8250_port.c:
 * autoconfig, the UART_BUG_THRE test, serial8250_start_tx). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "drivers/uart16550_regs.h"
#include "vplat/vuart16550.h"

static char sent[64];
static unsigned nsent;
static bool line;
static unsigned rises, falls;

static void tx(void *ctx, uint8_t byte)
{
	(void)ctx;
	if (nsent < sizeof(sent))
		sent[nsent] = (char)byte;
	nsent++;
}

static void irq(void *ctx, bool level)
{
	(void)ctx;
	assert_true(level != line); /* only changes are reported */
	line = level;
	if (level)
		rises++;
	else
		falls++;
}

static void fresh(struct vuart *u)
{
	vuart_init(u, tx, irq, NULL);
	nsent = 0;
	line = false;
	rises = falls = 0;
}

static void test_reset_state(void **state)
{
	struct vuart u;

	(void)state;
	fresh(&u);
	assert_int_equal(vuart_read(&u, UART_RBR), 0);
	assert_int_equal(vuart_read(&u, UART_IER), 0);
	assert_int_equal(vuart_read(&u, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(vuart_read(&u, UART_LCR), 0);
	assert_int_equal(vuart_read(&u, UART_MCR), 0);
	assert_int_equal(vuart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(vuart_read(&u, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	assert_int_equal(vuart_read(&u, UART_SCR), 0);
	assert_false(vuart_irq_pending(&u));
	assert_int_equal(rises, 0);
}

static void test_thr_sends_and_lsr(void **state)
{
	struct vuart u;

	(void)state;
	fresh(&u);
	vuart_write(&u, UART_THR, 'h');
	vuart_write(&u, UART_THR, 'i');
	assert_int_equal(nsent, 2);
	assert_memory_equal(sent, "hi", 2);
	assert_int_equal(u.tx_bytes, 2);
	/* output is sent at once; no input: DR never set, RBR reads 0 */
	assert_int_equal(vuart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(vuart_read(&u, UART_RBR), 0);
	assert_int_equal(rises, 0); /* ETBEI off: no interrupt */
}

static void test_dlab_and_scratch(void **state)
{
	struct vuart u;

	(void)state;
	fresh(&u);
	vuart_write(&u, UART_LCR, UART_LCR_DLAB | UART_LCR_8N1);
	vuart_write(&u, UART_DLL, 0x0c);
	vuart_write(&u, UART_DLM, 0x34);
	assert_int_equal(vuart_read(&u, UART_DLL), 0x0c);
	assert_int_equal(vuart_read(&u, UART_DLM), 0x34);
	assert_int_equal(nsent, 0); /* DLL is not THR */
	assert_int_equal(u.ier, 0); /* DLM is not IER */
	vuart_write(&u, UART_LCR, UART_LCR_8N1);
	assert_int_equal(vuart_read(&u, UART_LCR), UART_LCR_8N1);
	assert_int_equal(vuart_read(&u, UART_IER), 0);
	assert_int_equal(vuart_read(&u, UART_RBR), 0);
	vuart_write(&u, UART_SCR, 0xa5);
	assert_int_equal(vuart_read(&u, UART_SCR), 0xa5);
	/* Linux's autoconfig: IER bits 3:0 writable, 7:4 not (no XScale UUE) */
	vuart_write(&u, UART_IER, 0xff);
	assert_int_equal(vuart_read(&u, UART_IER), 0x0f);
	vuart_write(&u, UART_IER, 0);
	assert_int_equal(vuart_read(&u, UART_IER), 0);
}

/* autoconfig: FCR enables the FIFOs, IIR >> 6 == 3 is a 16550A; no
 * 64-byte FIFO (IIR bit 5 clear, DLAB or not); LCR 0xBF reaches no EFR. */
static void test_fifo_identifies_16550a(void **state)
{
	struct vuart u;

	(void)state;
	fresh(&u);
	assert_int_equal(vuart_read(&u, UART_IIR) >> 6, 0);
	vuart_write(&u, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(vuart_read(&u, UART_IIR), UART_IIR_FIFOS | UART_IIR_NO_INT);
	vuart_write(&u, UART_FCR, UART_FCR_ENABLE | 0x20); /* UART_FCR7_64BYTE */
	assert_int_equal(vuart_read(&u, UART_IIR) >> 5, 6);
	vuart_write(&u, UART_LCR, 0xbf);
	assert_int_not_equal(vuart_read(&u, UART_IIR), 0); /* "EFR" reads IIR */
	vuart_write(&u, UART_LCR, 0);
	vuart_write(&u, UART_FCR, 0);
	assert_int_equal(vuart_read(&u, UART_IIR), UART_IIR_NO_INT);
}

/* Linux's loopback test: MCR = LOOP | OUT2 | RTS must read MSR 0x90. */
static void test_loopback_msr(void **state)
{
	struct vuart u;

	(void)state;
	fresh(&u);
	vuart_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	assert_int_equal(vuart_read(&u, UART_MCR), 0x1a);
	assert_int_equal(vuart_read(&u, UART_MSR) & UART_MSR_STATUS, 0x90);
	vuart_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1);
	/* CTS and DCD fell, DSR and RI rose: deltas, no TERI (RI rose) */
	assert_int_equal(vuart_read(&u, UART_MSR), UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCTS |
							   UART_MSR_DDSR | UART_MSR_DDCD);
	assert_int_equal(vuart_read(&u, UART_MSR), UART_MSR_DSR | UART_MSR_RI); /* read clears */
	vuart_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	assert_int_equal(vuart_read(&u, UART_MSR), UART_MSR_DSR | UART_MSR_TERI);
	/* a byte written in loopback does not leave */
	vuart_write(&u, UART_THR, 'x');
	assert_int_equal(nsent, 0);
	vuart_write(&u, UART_MCR, 0);
	assert_int_equal(vuart_read(&u, UART_MSR) & UART_MSR_STATUS,
			 UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	assert_int_equal(vuart_read(&u, UART_MCR), 0);
	vuart_write(&u, UART_MCR, 0xff); /* bits 7:5 are 0 on a 16550A */
	assert_int_equal(vuart_read(&u, UART_MCR), UART_MCR_MASK);
}

/* Linux's UART_BUG_THRE test: ETBEI on with THR empty raises THRE at once,
 * the IIR read that reports it clears it, and ETBEI off and on again
 * raises it again. */
static void test_thre_interrupt_and_iir_read(void **state)
{
	struct vuart u;

	(void)state;
	fresh(&u);
	vuart_write(&u, UART_FCR, UART_FCR_ENABLE);
	vuart_write(&u, UART_IER, UART_IER_ETBEI);
	assert_true(line);
	assert_int_equal(vuart_read(&u, UART_IIR), UART_IIR_FIFOS | UART_IIR_THRI);
	assert_false(line);
	assert_int_equal(vuart_read(&u, UART_IIR), UART_IIR_FIFOS | UART_IIR_NO_INT);
	vuart_write(&u, UART_IER, 0);
	vuart_write(&u, UART_IER, UART_IER_ETBEI);
	assert_int_equal(vuart_read(&u, UART_IIR) & UART_IIR_ID_MASK, UART_IIR_THRI);
	/* writing IER with ETBEI already on raises nothing new */
	vuart_write(&u, UART_IER, UART_IER_ETBEI);
	assert_int_equal(vuart_read(&u, UART_IIR) & UART_IIR_NO_INT, UART_IIR_NO_INT);
	assert_int_equal(rises, 2);
	assert_int_equal(falls, 2);
}

/* Each THR write clears THRE and raises it again once the byte left: a
 * fall and a rise of the output, an edge per byte; ETBEI off lowers it. */
static void test_thr_write_makes_an_edge(void **state)
{
	struct vuart u;

	(void)state;
	fresh(&u);
	vuart_write(&u, UART_IER, UART_IER_ETBEI);
	assert_int_equal(rises, 1);
	for (int i = 0; i < 5; i++)
		vuart_write(&u, UART_THR, (uint8_t)('a' + i));
	assert_int_equal(rises, 6);
	assert_int_equal(falls, 5);
	assert_true(line);
	vuart_write(&u, UART_IER, 0);
	assert_false(line);
	assert_int_equal(nsent, 5);
	/* ETBEI off: THR writes leave the output low */
	vuart_write(&u, UART_THR, 'z');
	assert_false(line);
	assert_int_equal(rises, 6);
}

/* Priorities (§8.4): THRE above modem status; reading MSR clears the modem
 * status interrupt, reading IIR for THRE does not touch it. */
static void test_iir_priority(void **state)
{
	struct vuart u;

	(void)state;
	fresh(&u);
	vuart_write(&u, UART_MCR, UART_MCR_LOOP); /* CTS, DSR, DCD fall: deltas */
	vuart_write(&u, UART_IER, UART_IER_EDSSI);
	assert_true(line);
	assert_int_equal(vuart_read(&u, UART_IIR), UART_IIR_MSI);
	vuart_write(&u, UART_IER, UART_IER_EDSSI | UART_IER_ETBEI);
	assert_int_equal(vuart_read(&u, UART_IIR), UART_IIR_THRI);
	assert_true(line); /* modem status still pending */
	assert_int_equal(vuart_read(&u, UART_IIR), UART_IIR_MSI);
	vuart_read(&u, UART_MSR);
	assert_false(line);
	assert_int_equal(vuart_read(&u, UART_IIR), UART_IIR_NO_INT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_thr_sends_and_lsr),
		cmocka_unit_test(test_dlab_and_scratch),
		cmocka_unit_test(test_fifo_identifies_16550a),
		cmocka_unit_test(test_loopback_msr),
		cmocka_unit_test(test_thre_interrupt_and_iir_read),
		cmocka_unit_test(test_thr_write_makes_an_edge),
		cmocka_unit_test(test_iir_priority),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
