/* The console UART: the command line's choice or COM1 from the first line on,
 * the ACPI SPCR table's UART once ACPI is read (if the command line named
 * none). An MMIO UART is mapped uncached in the device window. */
#include <stdio.h>

#include "arch/x86_64/paging.h"
#include "drivers/uart16550.h"
#include "kernel/console.h"
#include "kernel/console_cfg.h"

#define NOTE_MAX 112

static struct uart uarts[2]; /* the console's, and the next one's while moving */
static unsigned in_use;
static struct console_cfg current, from_cmdline;

static bool make_uart(const struct console_cfg *c, struct uart *u)
{
	void *regs;

	u->clock_hz = c->clock_hz;
	u->stride = u->width = 1;
	if (!c->mmio) {
		u->ops = &uart_pio_ops;
		u->base = (uintptr_t)c->address;
		return true;
	}
	regs = paging_map_device(c->address, (uint64_t)UART_REGS * c->width);
	if (!regs)
		return false;
	u->ops = &uart_mmio_ops;
	u->base = (uintptr_t)regs;
	u->stride = u->width = c->width;
	return true;
}

void console_init(const struct boot_info *bi)
{
	char note[NOTE_MAX], name[CONSOLE_NAME_MAX];

	console_cfg_from_cmdline(bi, &from_cmdline, note, sizeof(note));
	current = from_cmdline;
	if (!make_uart(&current, &uarts[0])) {
		snprintf(note, sizeof(note), "MMIO 0x%llx cannot be mapped",
			 (unsigned long long)current.address);
		from_cmdline.source = CONSOLE_FROM_DEFAULT;
		current = from_cmdline;
		current.mmio = false;
		current.address = COM1_PORT;
		make_uart(&current, &uarts[0]);
	}
	uart_init(&uarts[0], current.baud);
	log_init(&uarts[0]);
	console_cfg_name(&current, name, sizeof(name));
	if (current.source == CONSOLE_FROM_CMDLINE)
		log_printf("\nconsole: %s from the command line%s%s%s\n", name, note[0] ? " (" : "",
			   note, note[0] ? ")" : "");
	else
		log_printf("\nconsole: %s by default (%s; an ACPI SPCR table may move it)\n", name,
			   note[0] ? note : "no console= on the command line");
}

void console_apply_acpi(const struct acpi_info *acpi)
{
	char name[CONSOLE_NAME_MAX], old[CONSOLE_NAME_MAX];
	struct console_cfg spcr;
	struct uart *next = &uarts[in_use ^ 1];
	struct record r;

	if (!acpi->have_spcr)
		return;
	if (acpi->spcr_unusable) {
		log_printf("console: ACPI SPCR table ignored: %s\n", acpi->spcr_unusable);
		return;
	}
	console_cfg_from_spcr(&acpi->spcr, &from_cmdline, &spcr);
	console_cfg_name(&spcr, name, sizeof(name));
	if (current.source == CONSOLE_FROM_CMDLINE) {
		if (!console_cfg_same(&current, &spcr))
			log_printf("console: the ACPI SPCR table names %s; the command line wins\n",
				   name);
		return;
	}
	if (console_cfg_same(&current, &spcr)) {
		log_printf("console: the ACPI SPCR table names this UART too\n");
		current.source = CONSOLE_FROM_SPCR;
		return;
	}
	if (!make_uart(&spcr, next)) {
		log_printf(
			"console: the ACPI SPCR table names %s, which cannot be mapped; staying\n",
			name);
		return;
	}
	console_cfg_name(&current, old, sizeof(old));
	log_printf("console: moving to %s from the ACPI SPCR table\n", name);
	uart_flush(&uarts[in_use]);
	uart_init(next, spcr.baud);
	log_init(next);
	in_use ^= 1;
	current = spcr;
	log_printf("\nconsole: %s from the ACPI SPCR table (the first lines went to %s)\n", name,
		   old);
	record_begin(&r, "console");
	console_record_fields(&r);
	record_str(&r, "previous", old);
	record_emit(&r);
}

void console_record_fields(struct record *r)
{
	static const char *const keys[] = {"default", "cmdline", "spcr"};
	char name[CONSOLE_NAME_MAX];

	console_cfg_name(&current, name, sizeof(name));
	record_str(r, "console", name);
	record_str(r, "console_source", keys[current.source]);
}
