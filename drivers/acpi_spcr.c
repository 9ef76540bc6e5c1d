/* SPCR (Microsoft "Serial Port Console Redirection Table"): the UART the
 * firmware redirects its console to, reduced to what the 16550 driver needs.
 * Only 16550-compatible interfaces are taken: 0 (16550), 1 (16450, a subset)
 * and 0x12 (16550 with the register width in the GAS). */
#include <string.h>

#include "drivers/acpi_internal.h"

_Static_assert(offsetof(struct acpi_spcr, uart_clock_hz) == 76, "SPCR layout");

#define PORT_LIMIT 0x10000

static uint32_t baud_of_code(uint8_t code)
{
	switch (code) {
	case 3:
		return 9600;
	case 4:
		return 19200;
	case 6:
		return 57600;
	case 7:
		return 115200;
	default: /* 0 "as is", and the reserved codes: keep the firmware's rate */
		return 0;
	}
}

/* MMIO register width in bytes: the GAS access size, else its bit width (the
 * register stride is the same, as Linux's SPCR code and earlycon assume). */
static uint8_t mmio_width(const struct acpi_gas *g)
{
	switch (g->access_size) {
	case ACPI_GAS_ACCESS_BYTE:
		return 1;
	case ACPI_GAS_ACCESS_WORD:
		return 2;
	case ACPI_GAS_ACCESS_DWORD:
		return 4;
	case ACPI_GAS_ACCESS_UNDEFINED:
		return g->bit_width == 32 ? 4 : g->bit_width == 16 ? 2 : 1;
	default:
		return 0;
	}
}

int acpi_parse_spcr(const struct acpi_spcr *t, size_t len, struct acpi_spcr_info *out,
		    const char **why)
{
	memset(out, 0, sizeof(*out));
	if (len < ACPI_SPCR_MIN_LENGTH) {
		*why = "the SPCR table is too short";
		return -1;
	}
	if (t->interface_type != ACPI_SPCR_16550 && t->interface_type != ACPI_SPCR_16450 &&
	    t->interface_type != ACPI_SPCR_16550_GAS) {
		*why = "the SPCR UART is not 16550-compatible";
		return -1;
	}
	if (!t->base.address) {
		*why = "the SPCR table says console redirection is disabled";
		return -1;
	}
	out->address = t->base.address;
	if (t->base.space_id == ACPI_GAS_SYSTEM_IO) {
		if (t->base.address > PORT_LIMIT - 8) {
			*why = "the SPCR I/O port is out of range";
			return -1;
		}
		out->width = 1;
	} else if (t->base.space_id == ACPI_GAS_SYSTEM_MEMORY) {
		out->mmio = true;
		out->width = mmio_width(&t->base);
		if (!out->width) {
			*why = "the SPCR UART has 64-bit registers";
			return -1;
		}
	} else {
		*why = "the SPCR UART is neither in I/O nor in memory space";
		return -1;
	}
	out->baud = baud_of_code(t->baud_code);
	if (t->header.revision >= 3 && len >= offsetof(struct acpi_spcr, uart_clock_hz) + 4)
		out->clock_hz = t->uart_clock_hz;
	if (t->header.revision >= 4 && len >= offsetof(struct acpi_spcr, precise_baud) + 4 &&
	    t->precise_baud)
		out->baud = t->precise_baud;
	*why = NULL;
	return 0;
}
