/* The console UART (docs/architecture.md, "Console protocol"): chosen from
 * the command line or COM1 before the first line, then moved to the ACPI
 * SPCR table's UART when the command line named none. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include "drivers/acpi.h"
#include "kernel/bootinfo.h"
#include "kernel/log.h"

/* Sets up the console; its first line says which UART and why. */
void console_init(const struct boot_info *bi);
/* After ACPI: moves to the SPCR's UART when the command line chose none,
 * saying so on both (or says why it stays). */
void console_apply_acpi(const struct acpi_info *acpi);
/* Adds `console` (the UART's name) and `console_source` ("cmdline", "spcr"
 * or "default") to a record. */
void console_record_fields(struct record *r);

#endif
