/* Which UART is the console, and why: from the command line (`console=`,
 * `baud=`), from the ACPI SPCR table, or COM1 at 115200 by default. Pure
 * logic (kernel/console.c drives the hardware), so the unit tests run it. */
#ifndef KERNEL_CONSOLE_CFG_H
#define KERNEL_CONSOLE_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/acpi.h"
#include "kernel/bootinfo.h"

#define CONSOLE_DEFAULT_BAUD 115200
#define CONSOLE_NAME_MAX     64

enum console_source { CONSOLE_FROM_DEFAULT, CONSOLE_FROM_CMDLINE, CONSOLE_FROM_SPCR };

struct console_cfg {
	bool mmio;	   /* else I/O ports */
	uint64_t address;  /* port, or physical address of the registers */
	uint8_t width;	   /* MMIO: register access width and stride in bytes (1, 2, 4) */
	uint32_t baud;	   /* 0: keep the rate the firmware set */
	uint32_t clock_hz; /* 0: the PC UART's 1.8432 MHz */
	enum console_source source;
	bool baud_from_cmdline;
};

/* COM1 at 115200, then `console=com1|com2|com3|com4|0xPORT|mmio,0xADDR|
 * mmio32,0xADDR` and `baud=N` from the command line. A value it does not
 * understand is left out and explained in `note` (empty when all is well). */
void console_cfg_from_cmdline(const struct boot_info *bi, struct console_cfg *c, char *note,
			      size_t note_len);
/* The SPCR's UART; a `baud=` from the command line (in `cmdline`) still
 * sets the rate. */
void console_cfg_from_spcr(const struct acpi_spcr_info *s, const struct console_cfg *cmdline,
			   struct console_cfg *c);
/* "COM2 (0x2f8) 115200", "I/O port 0x3e0 9600", "MMIO 0xfe030000 (32-bit) 115200" */
void console_cfg_name(const struct console_cfg *c, char *buf, size_t len);
/* "from the command line" / "from the ACPI SPCR table" / "by default" */
const char *console_cfg_source(const struct console_cfg *c);
/* The same UART with the same settings. */
bool console_cfg_same(const struct console_cfg *a, const struct console_cfg *b);

#endif
