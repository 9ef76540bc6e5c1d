/* The VM's ACPI tables (vplat/acpi_build.c): built for 1, 3, 300 and 1024 vCPUs
 * into the BIOS area, found and read back by the hypervisor's own ACPI parser
 * (drivers/acpi.c), every checksum checked, every field Linux relies on
 * asserted, and every table disassembled by iasl without an error. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "drivers/acpi.h"
#include "vplat/acpi_build.h"
#include "vplat/acpi_regs.h"

#define SLEEP_PORT  0x600
#define IOAPIC_BASE 0xfec00000ull

/* The guest's view: the BIOS area holds the tables, nothing else is mapped. */
static uint8_t bios_area[VACPI_SIZE];

static const void *bios_map(uint64_t phys, size_t len)
{
	if (phys < VACPI_GPA || len > VACPI_SIZE || phys - VACPI_GPA > VACPI_SIZE - len)
		return NULL;
	return bios_area + (phys - VACPI_GPA);
}

static struct vacpi_config config(uint32_t ncpus)
{
	return (struct vacpi_config){.ncpus = ncpus,
				     .ioapic_base = IOAPIC_BASE,
				     .ioapic_id = vacpi_ioapic_id(ncpus),
				     .ecam_base = VACPI_ECAM_BASE,
				     .pci_mmio_base = VACPI_PCI_MMIO_BASE,
				     .pci_mmio_size = VACPI_PCI_MMIO_SIZE,
				     .sleep_port = SLEEP_PORT};
}

static size_t build(uint32_t ncpus)
{
	struct vacpi_config cfg = config(ncpus);
	size_t used;

	memset(bios_area, 0xa5, sizeof(bios_area));
	used = vacpi_build(bios_area, sizeof(bios_area), VACPI_GPA, &cfg);
	assert_true(used > 0 && used <= sizeof(bios_area));
	return used;
}

static uint8_t sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s += *b++;
	return s;
}

/* --- the tables as the parser's walk sees them ------------------------------ */

struct seen {
	char sigs[8][5];
	uint64_t phys[8];
	int n;
};

static void record_table(const struct acpi_sdt_header *t, uint64_t phys, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < 8);
	assert_int_equal(sum(t, t->length), 0);
	assert_int_equal(phys % 16, 0);
	assert_memory_equal(t->oem_id, "CRVSR ", 6);
	memcpy(s->sigs[s->n], t->signature, 4);
	s->sigs[s->n][4] = '\0';
	s->phys[s->n++] = phys;
}

static const void *table(const struct seen *s, const char *sig)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->sigs[i], sig))
			return bios_map(s->phys[i], sizeof(struct acpi_sdt_header));
	fail_msg("no %s table", sig);
	return NULL;
}

static void walk(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(acpi_for_each_table(bios_area, bios_map, record_table, s), 0);
}

/* RSDP at the start, revision 2, both checksums, and found where Linux looks. */
static void check_rsdp(size_t used)
{
	const struct acpi_rsdp *r = (const void *)bios_area;

	assert_memory_equal(r->signature, "RSD PTR ", 8);
	assert_int_equal(r->revision, 2);
	assert_int_equal(r->length, sizeof(*r));
	assert_int_equal(r->rsdt_address, 0);
	assert_int_equal(sum(r, ACPI_RSDP_V1_LENGTH), 0);
	assert_int_equal(sum(r, sizeof(*r)), 0);
	assert_true(r->xsdt_address > VACPI_GPA && r->xsdt_address < VACPI_GPA + used);
	assert_int_equal(acpi_find_rsdp(bios_map), VACPI_GPA);
}

static void check_fadt(const struct seen *s)
{
	const struct acpi_fadt6 *f = table(s, "FACP");
	const struct acpi_gas sleep = {ACPI_GAS_SYSTEM_IO, 8, 0, ACPI_GAS_ACCESS_BYTE, SLEEP_PORT};

	assert_int_equal(f->base.header.length, 276);
	assert_int_equal(f->base.header.revision, 6);
	assert_int_equal(f->base.fadt_minor_version, 5);
	assert_true(f->base.flags & ACPI_FADT_HW_REDUCED_ACPI);
	assert_int_equal(f->base.flags, ACPI_FADT_HW_REDUCED_ACPI | ACPI_FADT_PWR_BUTTON |
						ACPI_FADT_SLP_BUTTON | ACPI_FADT_HEADLESS);
	assert_int_equal(f->base.iapc_boot_arch,
			 ACPI_IAPC_VGA_NOT_PRESENT | ACPI_IAPC_CMOS_RTC_NOT_PRESENT);
	assert_false(f->base.iapc_boot_arch & ACPI_IAPC_MSI_NOT_SUPPORTED);
	assert_int_equal(f->base.dsdt, 0);
	assert_int_equal(f->base.x_dsdt, s->phys[2]); /* the walk visits the DSDT after the FADT */
	assert_int_equal(f->base.firmware_ctrl, 0);
	assert_int_equal(f->base.x_firmware_ctrl, 0);
	assert_int_equal(f->base.sci_int, 0);
	assert_memory_equal(&f->sleep_control_reg, &sleep, sizeof(sleep));
	assert_memory_equal(&f->sleep_status_reg, &sleep, sizeof(sleep));
	assert_memory_equal(f->hypervisor_vendor_id, "CRVSR\0\0\0", 8);
}

static void check_mcfg(const struct acpi_info *info)
{
	const struct acpi_mcfg *m = bios_map(info->mcfg_phys, sizeof(*m));
	const struct acpi_mcfg_alloc *a = (const void *)(m + 1);

	assert_non_null(m);
	assert_int_equal(m->header.length, sizeof(*m) + sizeof(*a));
	assert_int_equal(a->base, VACPI_ECAM_BASE);
	assert_int_equal(a->segment, 0);
	assert_int_equal(a->start_bus, 0);
	assert_int_equal(a->end_bus, 0);
}

/* Counts the MADT's entries of one type. */
static int madt_entries(const struct seen *s, uint8_t type)
{
	const struct acpi_madt *m = table(s, "APIC");
	const uint8_t *p = (const uint8_t *)(m + 1), *end = (const uint8_t *)m + m->header.length;
	int n = 0;

	for (; p < end; p += p[1])
		n += p[0] == type;
	assert_true(p == end);
	return n;
}

/* Everything about a build for `ncpus` vCPUs, through the hypervisor's parser. */
static void check_platform(uint32_t ncpus)
{
	size_t used = build(ncpus);
	struct acpi_info *info = calloc(1, sizeof(*info));
	uint32_t x2apics = ncpus > 255 ? ncpus - 255 : 0;
	char err[128] = "";
	struct seen s;

	check_rsdp(used);
	assert_int_equal(acpi_parse(bios_area, bios_map, info, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(info->revision, 2);
	assert_int_equal(info->ncpus, ncpus);
	for (uint32_t i = 0; i < ncpus; i++) {
		assert_int_equal(info->cpus[i].apic_id, i);
		assert_int_equal(info->cpus[i].uid, i);
	}
	assert_int_equal(info->cpus_ignored, 0);
	assert_int_equal(info->lapic_addr, 0xfee00000);
	assert_false(info->pcat_compat);
	assert_int_equal(info->nioapics, 1);
	assert_int_equal(info->ioapics[0].id, vacpi_ioapic_id(ncpus));
	assert_int_equal(info->ioapics[0].address, IOAPIC_BASE);
	assert_int_equal(info->ioapics[0].gsi_base, 0);
	assert_int_equal(info->noverrides, 0);
	/* Hardware-reduced: no fixed hardware at all. */
	assert_int_equal(info->pm1a_cnt, 0);
	assert_int_equal(info->pm_tmr, 0);
	assert_int_equal(info->smi_cmd, 0);
	assert_false(info->have_reset_reg);
	assert_true(info->have_s5);
	assert_int_equal(info->s5_slp_typa, VACPI_S5_SLP_TYP);
	assert_int_equal(info->s5_slp_typb, 0);
	assert_int_equal(info->dmar_phys, 0);
	assert_false(info->have_spcr);
	check_mcfg(info);

	walk(&s);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.sigs[0], "XSDT");
	assert_string_equal(s.sigs[1], "FACP");
	assert_string_equal(s.sigs[2], "DSDT");
	assert_string_equal(s.sigs[3], "APIC");
	assert_string_equal(s.sigs[4], "MCFG");
	check_fadt(&s);
	assert_int_equal(madt_entries(&s, ACPI_MADT_LAPIC), ncpus - x2apics);
	assert_int_equal(madt_entries(&s, ACPI_MADT_X2APIC), x2apics);
	assert_int_equal(madt_entries(&s, ACPI_MADT_IOAPIC), 1);
	assert_int_equal(madt_entries(&s, ACPI_MADT_ISO), 0);
	/* The bytes used end with the last table. */
	assert_int_equal(s.phys[4] + sizeof(struct acpi_mcfg) + sizeof(struct acpi_mcfg_alloc),
			 VACPI_GPA + used);
	free(info);
}

static void test_one_cpu(void **state)
{
	(void)state;
	check_platform(1);
}

static void test_three_cpus(void **state)
{
	(void)state;
	check_platform(3);
}

/* APIC IDs 0..254 in type-0 entries, 255..299 in x2APIC entries. */
static void test_300_cpus_use_x2apic_entries_from_255(void **state)
{
	(void)state;
	check_platform(300);
}

static void test_1024_cpus_fit(void **state)
{
	(void)state;
	check_platform(1024);
}

/* Every size short of what the tables need is refused, and nothing is written past it. */
static void test_too_small_a_buffer(void **state)
{
	struct vacpi_config cfg = config(3);
	size_t used = build(3);
	static uint8_t buf[VACPI_SIZE];

	(void)state;
	for (size_t size = 0; size < used; size++) {
		memset(buf, 0x5a, used);
		assert_int_equal(vacpi_build(buf, size, VACPI_GPA, &cfg), 0);
		for (size_t i = size; i < used; i++)
			assert_int_equal(buf[i], 0x5a);
	}
	assert_int_equal(vacpi_build(buf, used, VACPI_GPA, &cfg), used);
	assert_memory_equal(buf, bios_area, used);
}

static void test_configurations_the_tables_cannot_describe(void **state)
{
	struct vacpi_config cfg = config(0);

	(void)state;
	assert_int_equal(vacpi_build(bios_area, sizeof(bios_area), VACPI_GPA, &cfg), 0);
	cfg = config(2);
	assert_int_equal(vacpi_build(bios_area, sizeof(bios_area), VACPI_GPA + 8, &cfg), 0);
	cfg.ecam_base = 0xe0000000;
	assert_int_equal(vacpi_build(bios_area, sizeof(bios_area), VACPI_GPA, &cfg), 0);
	cfg = config(2);
	cfg.pci_mmio_size = 0x10000000;
	assert_int_equal(vacpi_build(bios_area, sizeof(bios_area), VACPI_GPA, &cfg), 0);
	cfg = config(2);
	cfg.ioapic_base = 0x100000000ull;
	assert_int_equal(vacpi_build(bios_area, sizeof(bios_area), VACPI_GPA, &cfg), 0);
	cfg = config(2);
	assert_true(vacpi_build(bios_area, sizeof(bios_area), VACPI_GPA + 16, &cfg) > 0);
}

static void test_ioapic_id_avoids_apic_ids(void **state)
{
	(void)state;
	assert_int_equal(vacpi_ioapic_id(1), 1);
	assert_int_equal(vacpi_ioapic_id(3), 3);
	assert_int_equal(vacpi_ioapic_id(254), 254);
	assert_int_equal(vacpi_ioapic_id(255), 0);
	assert_int_equal(vacpi_ioapic_id(1024), 0);
}

/* --- the static DSDT says what acpi_build.h says ----------------------------- */

static const uint8_t *find(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(hay + i, needle, n))
			return hay + i;
	return NULL;
}

static const uint8_t *dsdt(size_t *len)
{
	struct seen s;
	const struct acpi_sdt_header *d;

	build(1);
	walk(&s);
	d = table(&s, "DSDT");
	*len = d->length;
	return (const uint8_t *)d;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Resource descriptors (ACPI 6.5 §6.4): found by their tag and length bytes. */
static void test_dsdt_windows_match_the_header(void **state)
{
	static const uint8_t dword_memory[] = {0x87, 0x17, 0x00};
	static const uint8_t memory32_fixed[] = {0x86, 0x09, 0x00};
	static const uint8_t cf8_io[] = {0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08};
	static const uint8_t com1_io[] = {0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08};
	static const uint8_t irq4[] = {0x22, 0x10, 0x00};
	size_t len;
	const uint8_t *aml = dsdt(&len), *p;

	(void)state;
	p = find(aml, len, dword_memory, sizeof(dword_memory));
	assert_non_null(p);
	assert_int_equal(le32(p + 10), VACPI_PCI_MMIO_BASE);			       /* minimum */
	assert_int_equal(le32(p + 14), VACPI_PCI_MMIO_BASE + VACPI_PCI_MMIO_SIZE - 1); /* max */
	assert_int_equal(le32(p + 22), VACPI_PCI_MMIO_SIZE);			       /* length */
	p = find(aml, len, memory32_fixed, sizeof(memory32_fixed));
	assert_non_null(p);
	assert_int_equal(le32(p + 4), VACPI_ECAM_BASE);
	assert_int_equal(le32(p + 8), VACPI_ECAM_SIZE);
	assert_non_null(find(aml, len, cf8_io, sizeof(cf8_io)));
	assert_non_null(find(aml, len, com1_io, sizeof(com1_io)));
	assert_non_null(find(aml, len, irq4, sizeof(irq4)));
	/* EISA IDs PNP0A08, PNP0A03, PNP0C02, PNP0501 (DWordConst of the compressed ID). */
	assert_non_null(find(aml, len, "\x0c\x41\xd0\x0a\x08", 5));
	assert_non_null(find(aml, len, "\x0c\x41\xd0\x0a\x03", 5));
	assert_non_null(find(aml, len, "\x0c\x41\xd0\x0c\x02", 5));
	assert_non_null(find(aml, len, "\x0c\x41\xd0\x05\x01", 5));
	assert_non_null(find(aml, len, "PCI0", 4));
	assert_non_null(find(aml, len, "COM1", 4));
}

/* --- iasl reads every table back without an error ---------------------------- */

static void write_blob(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

/* Fails on a line of iasl's that names a problem: its messages ("Error", "Warning") and
 * what the disassembly notes in comments ("Incorrect checksum", "**** ... terminates early",
 * "Invalid", "Unknown" subtable types). */
static void no_problem_in(FILE *f, const char *what)
{
	static const char *const problems[] = {"error",	  "warning", "incorrect",
					       "invalid", "unknown", "****"};
	char line[512];

	while (fgets(line, sizeof(line), f)) {
		for (char *c = line; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (strstr(line, " 0 errors") || strstr(line, " 0 warnings"))
			continue;
		for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++)
			if (strstr(line, problems[i]))
				fail_msg("%s: %s", what, line);
	}
}

/* iasl -d of one table: exit status 0, and no problem in its messages or its disassembly. */
static void disassemble(const char *dir, const char *sig, const struct acpi_sdt_header *t)
{
	char cmd[512], path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
	write_blob(path, t, t->length);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat 2>&1", dir, sig);
	f = popen(cmd, "r");
	assert_non_null(f);
	no_problem_in(f, cmd);
	assert_int_equal(pclose(f), 0);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, sig);
	f = fopen(path, "r");
	assert_non_null(f);
	no_problem_in(f, path);
	fclose(f);
}

static void test_iasl_disassembles_every_table(void **state)
{
	char dir[] = "/tmp/test_vacpi.XXXXXX", cmd[64];
	struct seen s;

	(void)state;
	build(300);
	walk(&s);
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < s.n; i++)
		disassemble(dir, s.sigs[i], bios_map(s.phys[i], sizeof(struct acpi_sdt_header)));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_cpu),
		cmocka_unit_test(test_three_cpus),
		cmocka_unit_test(test_300_cpus_use_x2apic_entries_from_255),
		cmocka_unit_test(test_1024_cpus_fit),
		cmocka_unit_test(test_too_small_a_buffer),
		cmocka_unit_test(test_configurations_the_tables_cannot_describe),
		cmocka_unit_test(test_ioapic_id_avoids_apic_ids),
		cmocka_unit_test(test_dsdt_windows_match_the_header),
		cmocka_unit_test(test_iasl_disassembles_every_table),
	};

	return cmocka_run_group_tests_name("vacpi", tests, NULL, NULL);
}
