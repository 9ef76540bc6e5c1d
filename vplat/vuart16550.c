/* The virtual 16550A UART (vplat/vuart16550.h). Register semantics follow
 * the PC16550D data sheet: §8.4 (IIR: priorities, the THRE interrupt and
 * what clears it), §8.3 (FCR), §8.5 (LCR, DLAB), §8.6 (MCR, loopback),
 * §8.7 (LSR), §8.8 (MSR and its delta bits). */
#include <string.h>

#include "drivers/uart16550_regs.h"
#include "vplat/vuart16550.h"

/* Outside loopback the modem lines say a terminal is there (CTS, DSR, DCD),
 * so a driver that waits for them does not wait for ever. */
#define MSR_CONNECTED (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)
#define DIVISOR_RESET 1 /* 115 200 baud */

void vuart_init(struct vuart *u, void (*tx)(void *, uint8_t), void (*irq)(void *, bool), void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->msr = MSR_CONNECTED;
	u->dll = DIVISOR_RESET;
	u->tx = tx;
	u->irq = irq;
	u->ctx = ctx;
}

static bool loopback(const struct vuart *u)
{
	return u->mcr & UART_MCR_LOOP;
}

/* The highest-priority pending interrupt's IIR identification (§8.4):
 * line status and received data never occur (no input), so THRE first,
 * then modem status. */
static uint8_t pending_id(const struct vuart *u)
{
	if ((u->ier & UART_IER_ETBEI) && u->thre_irq)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_EDSSI) && (u->msr & UART_MSR_DELTAS))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

bool vuart_irq_pending(const struct vuart *u)
{
	return pending_id(u) != UART_IIR_NO_INT;
}

static void update_irq(struct vuart *u)
{
	bool level = vuart_irq_pending(u);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->irq)
		u->irq(u->ctx, level);
}

/* In loopback the modem inputs are the outputs (§8.6): CTS = RTS, DSR =
 * DTR, RI = OUT1, DCD = OUT2. A change sets the delta bits (RI: only its
 * trailing edge). */
static void set_modem_status(struct vuart *u)
{
	uint8_t old = u->msr & UART_MSR_STATUS, now = MSR_CONNECTED, changed;

	if (loopback(u))
		now = (u->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
		      (u->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
		      (u->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
		      (u->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
	changed = old ^ now;
	u->msr = (u->msr & UART_MSR_DELTAS) | now;
	u->msr |= (changed & UART_MSR_CTS ? UART_MSR_DCTS : 0) |
		  (changed & UART_MSR_DSR ? UART_MSR_DDSR : 0) |
		  (changed & UART_MSR_DCD ? UART_MSR_DDCD : 0) |
		  (changed & old & UART_MSR_RI ? UART_MSR_TERI : 0);
}

/* A THR write clears the THRE interrupt; the byte leaves at once, THR is
 * empty again, and the interrupt is pending anew: the output drops and
 * rises, an edge for an edge-triggered interrupt controller. */
static void write_thr(struct vuart *u, uint8_t byte)
{
	u->thre_irq = false;
	update_irq(u);
	if (!loopback(u) && u->tx) {
		u->tx(u->ctx, byte);
		u->tx_bytes++;
	}
	u->thre_irq = true;
}

/* ETBEI going on with THR empty raises the THRE interrupt (Linux's
 * UART_BUG_THRE and TXEN tests rely on it). */
static void write_ier(struct vuart *u, uint8_t value)
{
	uint8_t old = u->ier;

	u->ier = value & UART_IER_MASK;
	if ((u->ier & UART_IER_ETBEI) && !(old & UART_IER_ETBEI))
		u->thre_irq = true;
}

static uint8_t read_iir(struct vuart *u)
{
	uint8_t id = pending_id(u);

	if (id == UART_IIR_THRI) /* reading the cause clears it (§8.4) */
		u->thre_irq = false;
	return id | (u->fifos ? UART_IIR_FIFOS : 0);
}

uint8_t vuart_read(struct vuart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t value = 0;

	switch (reg) {
	case UART_RBR:
		value = dlab ? u->dll : 0; /* no input */
		break;
	case UART_IER:
		value = dlab ? u->dlm : u->ier;
		break;
	case UART_IIR:
		value = read_iir(u);
		break;
	case UART_LCR:
		value = u->lcr;
		break;
	case UART_MCR:
		value = u->mcr;
		break;
	case UART_LSR:
		value = UART_LSR_THRE | UART_LSR_TEMT;
		break;
	case UART_MSR:
		value = u->msr;
		u->msr &= ~UART_MSR_DELTAS; /* reading clears the deltas (§8.8) */
		break;
	case UART_SCR:
		value = u->scr;
		break;
	}
	update_irq(u);
	return value;
}

void vuart_write(struct vuart *u, unsigned reg, uint8_t value)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_THR:
		if (dlab)
			u->dll = value;
		else
			write_thr(u, value);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = value;
		else
			write_ier(u, value);
		break;
	case UART_FCR: /* the FIFOs are always empty: the reset bits do nothing */
		u->fifos = value & UART_FCR_ENABLE;
		break;
	case UART_LCR:
		u->lcr = value;
		break;
	case UART_MCR:
		u->mcr = value & UART_MCR_MASK;
		set_modem_status(u);
		break;
	case UART_SCR:
		u->scr = value;
		break;
	}
	update_irq(u); /* LSR and MSR are read-only */
}
