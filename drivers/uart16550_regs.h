/* National Semiconductor PC16550D UART: register offsets and bits (data
 * sheet table II and §8.1-8.8), shared by the console driver
 * (drivers/uart16550.h) and the guests' virtual UART (vplat/vuart16550.h). */
#ifndef DRIVERS_UART16550_REGS_H
#define DRIVERS_UART16550_REGS_H

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8
#define COM3_PORT 0x3e8
#define COM4_PORT 0x2e8
#define COM1_IRQ  4 /* the PC's ISA IRQ for COM1 */

#define UART_RBR  0 /* receive buffer (read, DLAB=0) */
#define UART_THR  0 /* transmit holding (write, DLAB=0) */
#define UART_DLL  0 /* divisor latch low (DLAB=1) */
#define UART_IER  1 /* interrupt enable (DLAB=0) */
#define UART_DLM  1 /* divisor latch high (DLAB=1) */
#define UART_IIR  2 /* interrupt identification (read) */
#define UART_FCR  2 /* FIFO control (write) */
#define UART_LCR  3 /* line control */
#define UART_MCR  4 /* modem control */
#define UART_LSR  5 /* line status */
#define UART_MSR  6 /* modem status */
#define UART_SCR  7 /* scratch */
#define UART_REGS 8

#define UART_IER_ERBFI 0x01 /* received data available */
#define UART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define UART_IER_ELSI  0x04 /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */
#define UART_IER_MASK  0x0f

#define UART_IIR_NO_INT	 0x01 /* no interrupt pending */
#define UART_IIR_MSI	 0x00 /* modem status */
#define UART_IIR_THRI	 0x02 /* transmitter holding register empty */
#define UART_IIR_RDI	 0x04 /* received data available */
#define UART_IIR_RLSI	 0x06 /* receiver line status */
#define UART_IIR_ID_MASK 0x0e
#define UART_IIR_FIFOS	 0xc0 /* FIFOs enabled (16550A) */

#define UART_FCR_ENABLE	      0x01
#define UART_FCR_CLEAR_RCVR   0x02
#define UART_FCR_CLEAR_XMIT   0x04
#define UART_FCR_ENABLE_CLEAR 0x07

#define UART_LCR_8N1  0x03
#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR	      0x01
#define UART_MCR_RTS	      0x02
#define UART_MCR_OUT1	      0x04
#define UART_MCR_OUT2	      0x08
#define UART_MCR_LOOP	      0x10
#define UART_MCR_MASK	      0x1f
#define UART_MCR_DTR_RTS_OUT2 0x0b

#define UART_LSR_DR   0x01 /* data ready */
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40 /* shift register empty too */

#define UART_MSR_DCTS	0x01 /* delta clear to send */
#define UART_MSR_DDSR	0x02 /* delta data set ready */
#define UART_MSR_TERI	0x04 /* trailing edge ring indicator */
#define UART_MSR_DDCD	0x08 /* delta data carrier detect */
#define UART_MSR_DELTAS 0x0f
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80
#define UART_MSR_STATUS 0xf0

#define UART_CLOCK_HZ 1843200

#endif
