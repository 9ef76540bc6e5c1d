/* A virtual 16550A UART for guests (PC16550D data sheet), the register model
 * only: what the guest writes to THR leaves at once through the `tx`
 * callback, so THR and the transmitter are always empty (LSR.THRE and TEMT
 * always set). There is no input yet: RBR reads 0, LSR.DR stays clear, and
 * a byte written in loopback mode is dropped. The interrupt output is a
 * level reported through `irq` whenever it changes; it is not gated by
 * MCR.OUT2. Pure logic, host-tested; the owner serializes every call.
 *
 * Linux's 8250 driver identifies it as a 16550A (IIR bits 7:6 set once FCR
 * enables the FIFOs, no EFR, no 64-byte FIFO, IER bits 7:4 not writable),
 * passes the loopback test (MSR follows MCR) and finds no THRE bug (enabling
 * ETBEI with THR empty raises the THRE interrupt at once). */
#ifndef VPLAT_VUART16550_H
#define VPLAT_VUART16550_H

#include <stdbool.h>
#include <stdint.h>

struct vuart {
	uint8_t ier, lcr, mcr, msr, scr, dll, dlm;
	bool fifos;	/* FCR bit 0 */
	bool thre_irq;	/* the THRE interrupt is pending (until IIR read or THR write) */
	bool irq_level; /* the interrupt output as last reported */
	void (*tx)(void *ctx, uint8_t byte);
	void (*irq)(void *ctx, bool level);
	void *ctx;
	uint64_t tx_bytes; /* bytes sent through `tx` */
};

void vuart_init(struct vuart *u, void (*tx)(void *, uint8_t), void (*irq)(void *, bool), void *ctx);
/* Register `reg` (0-7 from the base port); one byte. */
uint8_t vuart_read(struct vuart *u, unsigned reg);
void vuart_write(struct vuart *u, unsigned reg, uint8_t value);
/* What the interrupt output is now. */
bool vuart_irq_pending(const struct vuart *u);

#endif
