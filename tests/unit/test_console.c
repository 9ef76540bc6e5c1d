/* The console choice: the SPCR parser on synthetic tables (alone and through
 * acpi_parse), and the command-line parser (console=, baud=). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "drivers/acpi.h"
#include "kernel/console_cfg.h"

#define SPCR_LEN 80

static void fix_checksum(uint8_t *t, size_t len, size_t at)
{
	uint8_t sum = 0;

	t[at] = 0;
	for (size_t i = 0; i < len; i++)
		sum += t[i];
	t[at] = (uint8_t)-sum;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	memcpy(t + 4, &len, 4);
	t[8] = rev;
}

/* An SPCR table as firmware writes it: interface type, GAS, baud-rate code. */
static void spcr(uint8_t *t, size_t len, uint8_t rev, uint8_t type, uint8_t space,
		 uint8_t bit_width, uint8_t access, uint64_t address, uint8_t baud_code)
{
	memset(t, 0, len);
	header(t, "SPCR", (uint32_t)len, rev);
	t[36] = type;
	t[40] = space;
	t[41] = bit_width;
	t[43] = access;
	memcpy(t + 44, &address, 8);
	t[58] = baud_code;
	memset(t + 64, 0xff, 4); /* not a PCI device */
	fix_checksum(t, len, 9);
}

static const struct acpi_spcr *as_spcr(const uint8_t *t)
{
	return (const struct acpi_spcr *)t;
}

static void test_spcr_com2_io_port(void **state)
{
	uint8_t t[SPCR_LEN];
	struct acpi_spcr_info s;
	const char *why = "unset";

	(void)state;
	/* the spec's own example: COM2 = 01 08 00 00 f802000000000000 */
	spcr(t, sizeof(t), 2, ACPI_SPCR_16550, ACPI_GAS_SYSTEM_IO, 8, 0, 0x2f8, 7);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), sizeof(t), &s, &why), 0);
	assert_null(why);
	assert_false(s.mmio);
	assert_int_equal(s.address, 0x2f8);
	assert_int_equal(s.width, 1);
	assert_int_equal(s.baud, 115200);
	assert_int_equal(s.clock_hz, 0);
}

static void test_spcr_baud_codes(void **state)
{
	static const struct {
		uint8_t code;
		uint32_t baud;
	} codes[] = {{0, 0}, {3, 9600}, {4, 19200}, {5, 0}, {6, 57600}, {7, 115200}};
	uint8_t t[SPCR_LEN];
	struct acpi_spcr_info s;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		spcr(t, sizeof(t), 2, ACPI_SPCR_16450, ACPI_GAS_SYSTEM_IO, 8, 0, 0x3f8,
		     codes[i].code);
		assert_int_equal(acpi_parse_spcr(as_spcr(t), sizeof(t), &s, &why), 0);
		assert_int_equal(s.baud, codes[i].baud);
	}
}

static void test_spcr_mmio_widths(void **state)
{
	uint8_t t[88];
	struct acpi_spcr_info s;
	const char *why;
	uint32_t clock = 48000000, precise = 1500000;

	(void)state;
	/* dword access: a 32-bit-stride UART (DesignWare, PCI UARTs) */
	spcr(t, SPCR_LEN, 2, ACPI_SPCR_16550_GAS, ACPI_GAS_SYSTEM_MEMORY, 32, 3, 0xfe030000, 6);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), SPCR_LEN, &s, &why), 0);
	assert_true(s.mmio);
	assert_int_equal(s.address, 0xfe030000);
	assert_int_equal(s.width, 4);
	assert_int_equal(s.baud, 57600);
	/* access size undefined: the bit width decides */
	spcr(t, SPCR_LEN, 2, ACPI_SPCR_16550, ACPI_GAS_SYSTEM_MEMORY, 8, 0, 0xfedc9000, 7);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), SPCR_LEN, &s, &why), 0);
	assert_int_equal(s.width, 1);
	spcr(t, SPCR_LEN, 2, ACPI_SPCR_16550, ACPI_GAS_SYSTEM_MEMORY, 16, 0, 0xfedc9000, 7);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), SPCR_LEN, &s, &why), 0);
	assert_int_equal(s.width, 2);
	/* revision 4: the UART clock and the precise baud rate win */
	spcr(t, sizeof(t), 4, ACPI_SPCR_16550, ACPI_GAS_SYSTEM_MEMORY, 8, 1, 0xfedc9000, 7);
	memcpy(t + 76, &clock, 4);
	memcpy(t + 80, &precise, 4);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), sizeof(t), &s, &why), 0);
	assert_int_equal(s.clock_hz, clock);
	assert_int_equal(s.baud, precise);
	/* revision 2: offset 76 is reserved, not a clock */
	t[8] = 2;
	assert_int_equal(acpi_parse_spcr(as_spcr(t), sizeof(t), &s, &why), 0);
	assert_int_equal(s.clock_hz, 0);
	assert_int_equal(s.baud, 115200);
}

static void test_spcr_unusable(void **state)
{
	uint8_t t[SPCR_LEN];
	struct acpi_spcr_info s;
	const char *why;

	(void)state;
	spcr(t, sizeof(t), 2, 0x03 /* ARM PL011 */, ACPI_GAS_SYSTEM_MEMORY, 32, 3, 0x9000000, 7);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), sizeof(t), &s, &why), -1);
	assert_non_null(strstr(why, "16550"));
	spcr(t, sizeof(t), 2, ACPI_SPCR_16550, ACPI_GAS_SYSTEM_IO, 8, 0, 0, 7);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), sizeof(t), &s, &why), -1);
	assert_non_null(strstr(why, "disabled"));
	spcr(t, sizeof(t), 2, ACPI_SPCR_16550, 2 /* PCI configuration space */, 8, 0, 0x10, 7);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), sizeof(t), &s, &why), -1);
	spcr(t, sizeof(t), 2, ACPI_SPCR_16550, ACPI_GAS_SYSTEM_IO, 8, 0, 0x12345, 7);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), sizeof(t), &s, &why), -1);
	spcr(t, sizeof(t), 2, ACPI_SPCR_16550, ACPI_GAS_SYSTEM_MEMORY, 64, 4, 0xfe030000, 7);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), sizeof(t), &s, &why), -1);
	spcr(t, sizeof(t), 2, ACPI_SPCR_16550, ACPI_GAS_SYSTEM_IO, 8, 0, 0x2f8, 7);
	assert_int_equal(acpi_parse_spcr(as_spcr(t), 60, &s, &why), -1);
	assert_non_null(strstr(why, "short"));
}

/* --- SPCR through acpi_parse: RSDP → XSDT → MADT + SPCR -------------------- */

static struct {
	uint64_t phys;
	const uint8_t *bytes;
	size_t len;
} mem[3];

static const void *fake_map(uint64_t phys, size_t len)
{
	for (int i = 0; i < 3; i++)
		if (phys >= mem[i].phys && phys + len <= mem[i].phys + mem[i].len)
			return mem[i].bytes + (phys - mem[i].phys);
	return NULL;
}

static int parse_with_spcr(const uint8_t *spcr_table, struct acpi_info *info)
{
	static uint8_t rsdp[36], xsdt[52], madt[52];
	uint64_t xsdt_at = 0x1000, madt_at = 0x2000, spcr_at = 0x3000;
	uint32_t lapic = 0xfee00000, len = 36;
	uint8_t cpu[8] = {ACPI_MADT_LAPIC, 8, 0, 0, 1, 0, 0, 0};
	char err[128];

	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	rsdp[15] = 2;
	memcpy(rsdp + 20, &len, 4);
	memcpy(rsdp + 24, &xsdt_at, 8);
	fix_checksum(rsdp, 20, 8);
	fix_checksum(rsdp, 36, 32);
	header(xsdt, "XSDT", sizeof(xsdt), 1);
	memcpy(xsdt + 36, &madt_at, 8);
	memcpy(xsdt + 44, &spcr_at, 8);
	fix_checksum(xsdt, sizeof(xsdt), 9);
	header(madt, "APIC", sizeof(madt), 4);
	memcpy(madt + 36, &lapic, 4);
	memcpy(madt + 44, cpu, 8);
	fix_checksum(madt, sizeof(madt), 9);
	mem[0].phys = xsdt_at, mem[0].bytes = xsdt, mem[0].len = sizeof(xsdt);
	mem[1].phys = madt_at, mem[1].bytes = madt, mem[1].len = sizeof(madt);
	mem[2].phys = spcr_at, mem[2].bytes = spcr_table, mem[2].len = SPCR_LEN;
	return acpi_parse(rsdp, fake_map, info, err, sizeof(err));
}

static void test_acpi_parse_reads_spcr(void **state)
{
	uint8_t t[SPCR_LEN];
	struct acpi_info info;

	(void)state;
	spcr(t, sizeof(t), 2, ACPI_SPCR_16550, ACPI_GAS_SYSTEM_IO, 8, 0, 0x2f8, 7);
	assert_int_equal(parse_with_spcr(t, &info), 0);
	assert_int_equal(info.ncpus, 1);
	assert_true(info.have_spcr);
	assert_null(info.spcr_unusable);
	assert_int_equal(info.spcr.address, 0x2f8);
	/* an SPCR we cannot use costs the console choice, not the boot */
	spcr(t, sizeof(t), 2, 0x0e /* SBSA UART */, ACPI_GAS_SYSTEM_MEMORY, 32, 3, 0x9000000, 7);
	assert_int_equal(parse_with_spcr(t, &info), 0);
	assert_true(info.have_spcr);
	assert_non_null(info.spcr_unusable);
	assert_int_equal(info.spcr.address, 0);
}

/* --- the command line ------------------------------------------------------ */

static void from_cmdline(const char *cmdline, struct console_cfg *c, char *note)
{
	static struct boot_info bi;

	snprintf(bi.cmdline, sizeof(bi.cmdline), "%s", cmdline);
	console_cfg_from_cmdline(&bi, c, note, 128);
}

static void assert_name(const struct console_cfg *c, const char *expected)
{
	char name[CONSOLE_NAME_MAX];

	console_cfg_name(c, name, sizeof(name));
	assert_string_equal(name, expected);
}

static void test_cmdline_default_com1(void **state)
{
	struct console_cfg c;
	char note[128];

	(void)state;
	from_cmdline("", &c, note);
	assert_int_equal(c.source, CONSOLE_FROM_DEFAULT);
	assert_string_equal(note, "");
	assert_name(&c, "COM1 (0x3f8) 115200");
	assert_string_equal(console_cfg_source(&c), "by default");
	from_cmdline("acpi_dump selftest=ud", &c, note);
	assert_int_equal(c.source, CONSOLE_FROM_DEFAULT);
	assert_false(c.baud_from_cmdline);
}

static void test_cmdline_ports(void **state)
{
	static const struct {
		const char *cmdline, *name;
	} cases[] = {
		{"console=com1", "COM1 (0x3f8) 115200"},
		{"console=com2 baud=115200", "COM2 (0x2f8) 115200"},
		{"acpi_dump console=com3 baud=9600", "COM3 (0x3e8) 9600"},
		{"baud=57600 console=com4", "COM4 (0x2e8) 57600"},
		{"console=0x2f8", "COM2 (0x2f8) 115200"},
		{"console=0x3e0 baud=19200", "I/O port 0x3e0 19200"},
		{"console=mmio,0xfe030000", "MMIO 0xfe030000 (8-bit) 115200"},
		{"console=mmio32,0xFEDC9000 baud=1500000", "MMIO 0xfedc9000 (32-bit) 1500000"},
	};
	struct console_cfg c;
	char note[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		from_cmdline(cases[i].cmdline, &c, note);
		assert_int_equal(c.source, CONSOLE_FROM_CMDLINE);
		assert_string_equal(note, "");
		assert_name(&c, cases[i].name);
		assert_string_equal(console_cfg_source(&c), "from the command line");
	}
	from_cmdline("console=mmio32,0xfedc9000", &c, note);
	assert_true(c.mmio);
	assert_int_equal(c.width, 4);
}

static void test_cmdline_not_understood(void **state)
{
	static const char *const bad[] = {
		"console=com5",		 "console=ttyS1", "console=0x0",
		"console=0x10000",	 "console=mmio,", "console=mmio,0x0",
		"console=mmio,0xfe03zz", "console=com1x", "console=3f8",
	};
	struct console_cfg c;
	char note[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		from_cmdline(bad[i], &c, note);
		assert_int_equal(c.source, CONSOLE_FROM_DEFAULT);
		assert_non_null(strstr(note, "console="));
		assert_name(&c, "COM1 (0x3f8) 115200");
	}
	from_cmdline("console=com2 baud=fast", &c, note);
	assert_int_equal(c.source, CONSOLE_FROM_CMDLINE);
	assert_string_equal(note, "baud=fast is not a baud rate");
	assert_name(&c, "COM2 (0x2f8) 115200");
	from_cmdline("baud=0", &c, note);
	assert_false(c.baud_from_cmdline);
	assert_int_equal(c.baud, 115200);
}

static void test_spcr_choice_and_cmdline_baud(void **state)
{
	struct acpi_spcr_info s = {.mmio = false, .address = 0x2f8, .width = 1, .baud = 0};
	struct console_cfg cmd, c;
	char note[128];

	(void)state;
	from_cmdline("", &cmd, note);
	console_cfg_from_spcr(&s, &cmd, &c);
	assert_int_equal(c.source, CONSOLE_FROM_SPCR);
	assert_name(&c, "COM2 (0x2f8) at the firmware's rate");
	assert_string_equal(console_cfg_source(&c), "from the ACPI SPCR table");
	assert_false(console_cfg_same(&c, &cmd));
	from_cmdline("baud=9600", &cmd, note);
	console_cfg_from_spcr(&s, &cmd, &c);
	assert_name(&c, "COM2 (0x2f8) 9600");
	/* the SPCR naming COM1 at 115200: the default console already */
	s.address = 0x3f8;
	s.baud = 115200;
	from_cmdline("", &cmd, note);
	console_cfg_from_spcr(&s, &cmd, &c);
	assert_true(console_cfg_same(&c, &cmd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spcr_com2_io_port),
		cmocka_unit_test(test_spcr_baud_codes),
		cmocka_unit_test(test_spcr_mmio_widths),
		cmocka_unit_test(test_spcr_unusable),
		cmocka_unit_test(test_acpi_parse_reads_spcr),
		cmocka_unit_test(test_cmdline_default_com1),
		cmocka_unit_test(test_cmdline_ports),
		cmocka_unit_test(test_cmdline_not_understood),
		cmocka_unit_test(test_spcr_choice_and_cmdline_baud),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
