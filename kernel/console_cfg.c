/* The console choice: command line, else SPCR, else COM1 (console_cfg.h). */
#include <stdio.h>
#include <string.h>

#include "kernel/console_cfg.h"

#define PORT_LIMIT 0x10000
#define MIN_BAUD   2 /* the 16-bit divisor's limit at 1.8432 MHz */
#define VALUE_MAX  40

static const uint16_t com_ports[] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};

/* A whole decimal or 0x-prefixed hexadecimal number; false if s is anything
 * else or the value overflows. */
static bool parse_number(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool parse_console(const char *v, struct console_cfg *c)
{
	uint64_t n;

	if (!strncmp(v, "com", 3) && v[3] >= '1' && v[3] <= '4' && !v[4]) {
		c->mmio = false;
		c->address = com_ports[v[3] - '1'];
		return true;
	}
	if (!strncmp(v, "mmio,", 5) || !strncmp(v, "mmio32,", 7)) {
		bool wide = v[4] == '3';

		if (!parse_number(v + (wide ? 7 : 5), &n) || !n || n > (1ull << 52) - 8)
			return false;
		c->mmio = true;
		c->address = n;
		c->width = wide ? 4 : 1;
		return true;
	}
	if (v[0] == '0' && v[1] == 'x' && parse_number(v, &n) && n && n <= PORT_LIMIT - 8) {
		c->mmio = false;
		c->address = n;
		return true;
	}
	return false;
}

void console_cfg_from_cmdline(const struct boot_info *bi, struct console_cfg *c, char *note,
			      size_t note_len)
{
	char value[VALUE_MAX];
	uint64_t baud;

	memset(c, 0, sizeof(*c));
	c->address = com_ports[0];
	c->width = 1;
	c->baud = CONSOLE_DEFAULT_BAUD;
	c->source = CONSOLE_FROM_DEFAULT;
	note[0] = '\0';
	if (boot_cmdline_value(bi, "console", value, sizeof(value))) {
		if (parse_console(value, c))
			c->source = CONSOLE_FROM_CMDLINE;
		else
			snprintf(note, note_len,
				 "console=%s is not com1-com4, 0xPORT or mmio,0xADDR", value);
	}
	if (boot_cmdline_value(bi, "baud", value, sizeof(value))) {
		if (parse_number(value, &baud) && baud >= MIN_BAUD && baud <= 4000000) {
			c->baud = (uint32_t)baud;
			c->baud_from_cmdline = true;
		} else if (!note[0]) {
			snprintf(note, note_len, "baud=%s is not a baud rate", value);
		}
	}
}

void console_cfg_from_spcr(const struct acpi_spcr_info *s, const struct console_cfg *cmdline,
			   struct console_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->mmio = s->mmio;
	c->address = s->address;
	c->width = s->width ? s->width : 1;
	c->baud = s->baud;
	c->clock_hz = s->clock_hz;
	c->source = CONSOLE_FROM_SPCR;
	if (cmdline->baud_from_cmdline) {
		c->baud = cmdline->baud;
		c->baud_from_cmdline = true;
	}
}

void console_cfg_name(const struct console_cfg *c, char *buf, size_t len)
{
	char baud[24] = "at the firmware's rate";
	int n;

	if (c->baud)
		snprintf(baud, sizeof(baud), "%u", (unsigned)c->baud);
	if (c->mmio) {
		snprintf(buf, len, "MMIO 0x%llx (%u-bit) %s", (unsigned long long)c->address,
			 8u * c->width, baud);
		return;
	}
	for (n = 0; n < 4; n++)
		if (c->address == com_ports[n])
			break;
	if (n < 4)
		snprintf(buf, len, "COM%d (0x%x) %s", n + 1, (unsigned)c->address, baud);
	else
		snprintf(buf, len, "I/O port 0x%x %s", (unsigned)c->address, baud);
}

const char *console_cfg_source(const struct console_cfg *c)
{
	switch (c->source) {
	case CONSOLE_FROM_CMDLINE:
		return "from the command line";
	case CONSOLE_FROM_SPCR:
		return "from the ACPI SPCR table";
	default:
		return "by default";
	}
}

bool console_cfg_same(const struct console_cfg *a, const struct console_cfg *b)
{
	return a->mmio == b->mmio && a->address == b->address && a->baud == b->baud &&
	       (!a->mmio || a->width == b->width) && a->clock_hz == b->clock_hz;
}
