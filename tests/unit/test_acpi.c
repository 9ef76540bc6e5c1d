/* ACPI parsing: on tables captured from QEMU and Bochs (tests/unit/data/acpi/, made by
 * tools/capture-acpi), and on synthetic tables for what the emulators never show. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "drivers/acpi.h"

#define DATA_DIR    "tests/unit/data/acpi"
#define MAX_REGIONS 32

/* Fake physical memory: a set of (address, bytes) regions. */
static struct region {
	uint64_t phys;
	uint8_t *bytes;
	size_t len;
} regions[MAX_REGIONS];
static int nregions;

static const void *fake_map(uint64_t phys, size_t len)
{
	for (int i = 0; i < nregions; i++)
		if (phys >= regions[i].phys && phys + len <= regions[i].phys + regions[i].len)
			return regions[i].bytes + (phys - regions[i].phys);
	return NULL;
}

static void fake_reset(void)
{
	for (int i = 0; i < nregions; i++)
		free(regions[i].bytes);
	nregions = 0;
}

static uint8_t *fake_add(uint64_t phys, const void *bytes, size_t len)
{
	struct region *r = &regions[nregions++];

	assert_true(nregions <= MAX_REGIONS);
	r->phys = phys;
	r->len = len;
	r->bytes = malloc(len);
	memcpy(r->bytes, bytes, len);
	return r->bytes;
}

static void fix_checksum(uint8_t *t, size_t len, size_t at)
{
	uint8_t sum = 0;

	t[at] = 0;
	for (size_t i = 0; i < len; i++)
		sum += t[i];
	t[at] = (uint8_t)-sum;
}

/* --- captured tables ------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len + 1);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* A number after "key": in the small JSON files of this directory. */
static long long json_number(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		fail_msg("expected.json has no %s", key);
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (!strncmp(p, "true", 4))
		return 1;
	if (!strncmp(p, "false", 5))
		return 0;
	return strtoll(p, NULL, 0);
}

static uint64_t table_address(const char *addresses, const char *sig)
{
	char pat[16];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": \"", sig);
	p = strstr(addresses, pat);
	assert_non_null(p);
	return strtoull(p + strlen(pat), NULL, 16);
}

static void load_platform(const char *dir, const char *addresses)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[512], sig[5] = {0};
		size_t len;
		char *bytes;

		if (!strstr(e->d_name, ".bin") || !strcmp(e->d_name, "RSDP.bin"))
			continue;
		memcpy(sig, e->d_name, 4);
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		bytes = read_file(path, &len);
		fake_add(table_address(addresses, sig), bytes, len);
		free(bytes);
	}
	closedir(d);
}

static void check_platform(const char *name)
{
	char dir[256], path[300];
	size_t len;
	char *addresses, *expected, *rsdp;
	struct acpi_info info;
	char err[128] = "";

	snprintf(dir, sizeof(dir), "%s/%s", DATA_DIR, name);
	snprintf(path, sizeof(path), "%s/addresses.json", dir);
	addresses = read_file(path, &len);
	snprintf(path, sizeof(path), "%s/expected.json", dir);
	expected = read_file(path, &len);
	snprintf(path, sizeof(path), "%s/RSDP.bin", dir);
	rsdp = read_file(path, &len);
	assert_non_null(addresses);
	assert_non_null(expected);
	assert_non_null(rsdp);
	load_platform(dir, addresses);

	if (acpi_parse(rsdp, fake_map, &info, err, sizeof(err)))
		fail_msg("%s: %s", name, err);
	assert_int_equal(info.ncpus, json_number(expected, "ncpus"));
	for (uint32_t i = 0; i < info.ncpus; i++)
		assert_int_equal(info.cpus[i].apic_id, i); /* both emulators number 0..n-1 */
	assert_int_equal(info.lapic_addr, json_number(expected, "lapic_addr"));
	assert_int_equal(info.nioapics, 1);
	assert_int_equal(info.ioapics[0].address, json_number(expected, "address"));
	assert_int_equal(info.pm1a_cnt, json_number(expected, "pm1a_cnt"));
	assert_int_equal(info.pm1b_cnt, json_number(expected, "pm1b_cnt"));
	assert_int_equal(info.pm_tmr, json_number(expected, "pm_tmr"));
	assert_int_equal(info.smi_cmd, json_number(expected, "smi_cmd"));
	assert_int_equal(info.acpi_enable, json_number(expected, "acpi_enable"));
	assert_int_equal(info.have_s5, json_number(expected, "have_s5"));
	assert_int_equal(info.mcfg_phys != 0, json_number(expected, "has_mcfg"));
	assert_null(info.mcfg_unusable);
	assert_int_equal(info.necam, json_number(expected, "ecam_windows"));
	if (info.necam) {
		assert_int_equal(info.ecam[0].base, json_number(expected, "ecam_base"));
		assert_int_equal(info.ecam[0].segment, 0);
		assert_int_equal(info.ecam[0].start_bus, 0);
		assert_int_equal(info.ecam[0].end_bus, json_number(expected, "ecam_end_bus"));
	}
	fake_reset();
	free(addresses);
	free(expected);
	free(rsdp);
}

static void test_captured_platforms(void **state)
{
	DIR *d = opendir(DATA_DIR);
	struct dirent *e;
	int checked = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		check_platform(e->d_name);
		checked++;
	}
	closedir(d);
	printf("  checked %d captured platforms\n", checked);
	assert_true(checked >= 2); /* QEMU q35 and Bochs */
}

/* --- synthetic tables ------------------------------------------------------ */

struct synth {
	uint8_t rsdp[36];
	uint8_t root[36 + 8 * 4];
	uint8_t madt[44 + 8 * 64 + 16 * (ACPI_MAX_CPUS + 16)];
	uint8_t fadt[244];
	uint8_t dsdt[64];
};

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	memcpy(t + 4, &len, 4);
	t[8] = rev;
}

/* RSDP (rev 2, XSDT) → XSDT → MADT + FADT → DSDT with \_S5 = (5, 7). */
static void build_synthetic(struct synth *s, int x2apic_cpus, int lapic_cpus)
{
	static const uint8_t s5[] = {AML_NAME_OP,
				     '\\',
				     '_',
				     'S',
				     '5',
				     '_',
				     AML_PACKAGE_OP,
				     0x08,
				     0x04,
				     AML_BYTE_PREFIX,
				     5,
				     AML_BYTE_PREFIX,
				     7,
				     0,
				     0};
	/* 20 KiB for the MADT: it may list more than ACPI_MAX_CPUS CPUs */
	uint64_t madt_at = 0x3000, fadt_at = 0x8000, dsdt_at = 0x9000, xsdt_at = 0x2000;
	uint32_t madt_len = 44, lapic = 0xfee00000;

	memset(s, 0, sizeof(*s));
	memcpy(s->rsdp, "RSD PTR ", 8);
	s->rsdp[15] = 2;
	*(uint32_t *)(s->rsdp + 20) = 36;
	memcpy(s->rsdp + 24, &xsdt_at, 8);
	fix_checksum(s->rsdp, 20, 8);
	fix_checksum(s->rsdp, 36, 32);

	header(s->root, "XSDT", 36 + 16, 1);
	memcpy(s->root + 36, &madt_at, 8);
	memcpy(s->root + 44, &fadt_at, 8);
	fix_checksum(s->root, 52, 9);

	memcpy(s->madt + 36, &lapic, 4);
	for (int i = 0; i < lapic_cpus; i++, madt_len += 8) {
		uint8_t e[8] = {ACPI_MADT_LAPIC, 8, (uint8_t)i, (uint8_t)(i * 2), 1, 0, 0, 0};

		memcpy(s->madt + madt_len, e, 8);
	}
	for (int i = 0; i < x2apic_cpus; i++, madt_len += 16) {
		uint8_t e[16] = {ACPI_MADT_X2APIC, 16};
		uint32_t id = 0x100 + (uint32_t)i, flags = i == 1 ? 0 : 1; /* CPU 1 disabled */

		memcpy(e + 4, &id, 4);
		memcpy(e + 8, &flags, 4);
		memcpy(s->madt + madt_len, e, 16);
	}
	header(s->madt, "APIC", madt_len, 4);
	fix_checksum(s->madt, madt_len, 9);

	header(s->fadt, "FACP", 244, 6);
	*(uint32_t *)(s->fadt + 40) = (uint32_t)dsdt_at;
	*(uint32_t *)(s->fadt + 64) = 0x1804;
	fix_checksum(s->fadt, 244, 9);

	header(s->dsdt, "DSDT", 36 + sizeof(s5), 2);
	memcpy(s->dsdt + 36, s5, sizeof(s5));
	fix_checksum(s->dsdt, 36 + sizeof(s5), 9);

	fake_reset();
	fake_add(xsdt_at, s->root, 52);
	fake_add(madt_at, s->madt, madt_len);
	fake_add(fadt_at, s->fadt, 244);
	fake_add(dsdt_at, s->dsdt, 36 + sizeof(s5));
}

static void test_synthetic_xsdt_x2apic_s5(void **state)
{
	static struct synth s;
	struct acpi_info info;
	char err[128];

	(void)state;
	build_synthetic(&s, 3, 2);
	assert_int_equal(acpi_parse(s.rsdp, fake_map, &info, err, sizeof(err)), 0);
	assert_int_equal(info.ncpus, 4); /* 2 xAPIC + 3 x2APIC, one of them disabled */
	assert_int_equal(info.cpus[1].apic_id, 2);
	assert_int_equal(info.cpus[2].apic_id, 0x100);
	assert_int_equal(info.cpus[3].apic_id, 0x102);
	assert_int_equal(info.pm1a_cnt, 0x1804);
	assert_true(info.have_s5);
	assert_int_equal(info.s5_slp_typa, 5);
	assert_int_equal(info.s5_slp_typb, 7);
	fake_reset();
}

static void test_bad_checksum_named(void **state)
{
	static struct synth s;
	struct acpi_info info;
	char err[128];

	(void)state;
	build_synthetic(&s, 1, 1);
	regions[1].bytes[40] ^= 0xff; /* MADT, no checksum fix */
	assert_int_equal(acpi_parse(s.rsdp, fake_map, &info, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "checksum mismatch at 0x3000"));
	s.rsdp[8] ^= 1;
	assert_int_equal(acpi_parse(s.rsdp, fake_map, &info, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "RSDP"));
	fake_reset();
}

/* QEMU -smp 80: 80 usable CPUs, xAPIC (type 0) and x2APIC (type 9) entries mixed. */
static void test_80_cpus_mixed_entries(void **state)
{
	static struct synth s;
	struct acpi_info info;
	char err[128];
	uint32_t used = 80 < ACPI_MAX_CPUS ? 80 : ACPI_MAX_CPUS;

	(void)state;
	build_synthetic(&s, 41, 40); /* one x2APIC entry is disabled */
	assert_int_equal(acpi_parse(s.rsdp, fake_map, &info, err, sizeof(err)), 0);
	assert_int_equal(info.ncpus, used);
	assert_int_equal(info.cpus_ignored, 80 - used);
	assert_int_equal(info.cpus[39].apic_id, 78);
	assert_int_equal(info.cpus[40].apic_id, 0x100);
	assert_int_equal(info.cpus[41].apic_id, 0x102);
	fake_reset();
}

/* Sets the flags of x2APIC entry `j` of a synthetic MADT and fixes its checksum. */
static void set_x2apic_flags(int lapic_cpus, int j, uint32_t flags)
{
	uint8_t *madt = regions[1].bytes; /* build_synthetic adds the MADT second */
	uint32_t len;

	memcpy(&len, madt + 4, 4);
	memcpy(madt + 44 + 8 * lapic_cpus + 16 * j + 8, &flags, 4);
	fix_checksum(madt, len, 9);
}

/* More usable CPUs than ACPI_MAX_CPUS: no error; the first ones in MADT order are recorded and
 * the rest counted, online-capable ones too (ACPI 6.5 §5.2.12.2) but not disabled ones. */
static void test_cpus_beyond_the_limit_are_counted(void **state)
{
	static struct synth s;
	struct acpi_info info;
	char err[128];
	const int lapics = 40, x2apics = (int)ACPI_MAX_CPUS + 10;

	(void)state;
	build_synthetic(&s, x2apics, lapics);	  /* x2APIC entry 1 is disabled */
	set_x2apic_flags(lapics, x2apics - 1, 0); /* disabled */
	set_x2apic_flags(lapics, x2apics - 2, ACPI_MADT_ONLINE_CAPABLE); /* may come online */
	assert_int_equal(acpi_parse(s.rsdp, fake_map, &info, err, sizeof(err)), 0);
	assert_int_equal(info.ncpus, ACPI_MAX_CPUS);
	assert_int_equal(info.cpus_ignored, lapics + x2apics - 2 - ACPI_MAX_CPUS);
	assert_int_equal(info.cpus[ACPI_MAX_CPUS - 1].apic_id, 0x100 + ACPI_MAX_CPUS - lapics);
	fake_reset();
}

static void test_find_rsdp_in_bios_area(void **state)
{
	static struct synth s;
	static uint8_t bios[0x20000];
	uint16_t no_ebda = 0;

	(void)state;
	build_synthetic(&s, 1, 1);
	memcpy(bios + 0x12340, s.rsdp, 36); /* physical 0xf2340, 16-byte aligned */
	fake_add(0x40e, &no_ebda, 2);
	fake_add(0xe0000, bios, sizeof(bios));
	assert_int_equal(acpi_find_rsdp(fake_map), 0xf2340);
	bios[0x12340 + 8] ^= 1; /* a broken checksum is not an RSDP */
	fake_reset();
	fake_add(0x40e, &no_ebda, 2);
	fake_add(0xe0000, bios, sizeof(bios));
	assert_int_equal(acpi_find_rsdp(fake_map), 0);
	fake_reset();
}

/* --- fuzzing's finds (tests/fuzz/crashes/fuzz_acpi/) ------------------------------ */

/* Replaces region i by a heap copy of exactly `len` bytes: AddressSanitizer flags any read past. */
static void replace_region(int i, const void *bytes, size_t len)
{
	free(regions[i].bytes);
	regions[i].bytes = malloc(len);
	regions[i].len = len;
	memcpy(regions[i].bytes, bytes, len);
}

/* A table of its SDT header only, 36 bytes, with a good checksum. */
static void header_only_table(int region, const char *sig)
{
	uint8_t t[36] = {0};

	header(t, sig, sizeof(t), 1);
	fix_checksum(t, sizeof(t), 9);
	replace_region(region, t, sizeof(t));
}

static void count_dsdt(const struct acpi_sdt_header *t, uint64_t phys, void *ctx)
{
	(void)phys;
	if (!memcmp(t->signature, ACPI_SIG_DSDT, 4))
		++*(int *)ctx;
}

/* A revision-2 RSDP whose length says more than the 36 bytes mapped: the extended checksum
 * must not run past them (rsdp-length-past-mapping). */
static void test_rsdp_length_past_the_mapping(void **state)
{
	static struct synth s;
	static uint8_t bios[0x20000];
	struct acpi_info info;
	char err[128];
	uint8_t *rsdp = malloc(36);
	uint32_t len = 0x1000;
	uint16_t no_ebda = 0;

	(void)state;
	build_synthetic(&s, 1, 1);
	memcpy(s.rsdp + 20, &len, 4);
	fix_checksum(s.rsdp, 20, 8);
	fix_checksum(s.rsdp, 36, 32);
	memcpy(rsdp, s.rsdp, 36);
	assert_int_equal(acpi_parse(rsdp, fake_map, &info, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "RSDP revision 2 has length 4096, not the 36 bytes mapped"));
	assert_int_equal(acpi_for_each_table(rsdp, fake_map, count_dsdt, &(int){0}), -1);
	len = 20; /* shorter than its own fields */
	memcpy(rsdp + 20, &len, 4);
	fix_checksum(rsdp, 20, 8);
	assert_int_equal(acpi_parse(rsdp, fake_map, &info, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "has length 20"));
	memcpy(bios + 0x12340, rsdp, 36); /* not found by the scan either */
	fake_reset();
	fake_add(0x40e, &no_ebda, 2);
	fake_add(0xe0000, bios, sizeof(bios));
	assert_int_equal(acpi_find_rsdp(fake_map), 0);
	free(rsdp);
	fake_reset();
}

/* A MADT of 36 bytes ends before lapic_address and flags (madt-shorter-than-its-fields). */
static void test_madt_shorter_than_its_fields(void **state)
{
	static struct synth s;
	struct acpi_info info;
	char err[128];

	(void)state;
	build_synthetic(&s, 1, 1);
	header_only_table(1, ACPI_SIG_MADT); /* build_synthetic adds the MADT second */
	assert_int_equal(acpi_parse(s.rsdp, fake_map, &info, err, sizeof(err)), -1);
	assert_string_equal(err, "MADT is 36 bytes, shorter than its header fields (44 bytes)");
	fake_reset();
}

/* A FADT of 36 bytes ends before dsdt and the ports (fadt-shorter-than-its-fields); the table
 * walk reports it but looks for no DSDT through it. */
static void test_fadt_shorter_than_its_fields(void **state)
{
	static struct synth s;
	struct acpi_info info;
	char err[128];
	int dsdts = 0;

	(void)state;
	build_synthetic(&s, 1, 1);
	header_only_table(2, ACPI_SIG_FADT); /* the FADT third */
	assert_int_equal(acpi_parse(s.rsdp, fake_map, &info, err, sizeof(err)), -1);
	assert_string_equal(err, "FADT is 36 bytes, shorter than its fields (116 bytes)");
	assert_int_equal(acpi_for_each_table(s.rsdp, fake_map, count_dsdt, &dsdts), 0);
	assert_int_equal(dsdts, 0);
	fake_reset();
}

/* --- MCFG (PCI Firmware Specification 3.2 §4.1.2) -------------------------- */

#define MCFG_HEADER 44
#define MCFG_ENTRY  16

static size_t mcfg_entry(uint8_t *t, size_t at, uint64_t base, uint16_t seg, uint8_t start,
			 uint8_t end)
{
	memset(t + at, 0, MCFG_ENTRY);
	memcpy(t + at, &base, 8);
	memcpy(t + at + 8, &seg, 2);
	t[at + 10] = start;
	t[at + 11] = end;
	return at + MCFG_ENTRY;
}

/* Lists the MCFG in the synthetic XSDT, as its third table. */
static void add_mcfg_to_xsdt(struct synth *s, uint8_t *mcfg, uint32_t len)
{
	uint64_t at = 0xa000;

	header(mcfg, ACPI_SIG_MCFG, len, 1);
	fix_checksum(mcfg, len, 9);
	memcpy(s->root + 52, &at, 8);
	header(s->root, ACPI_SIG_XSDT, 60, 1);
	fix_checksum(s->root, 60, 9);
	free(regions[0].bytes); /* build_synthetic adds the XSDT first */
	regions[0].bytes = malloc(60);
	memcpy(regions[0].bytes, s->root, 60);
	regions[0].len = 60;
	fake_add(at, mcfg, len);
}

static void test_mcfg_windows(void **state)
{
	uint8_t t[MCFG_HEADER + (ACPI_MAX_ECAM + 2) * MCFG_ENTRY] = {0};
	size_t len = MCFG_HEADER;
	struct acpi_info info;
	const char *why = NULL;

	(void)state;
	len = mcfg_entry(t, len, 0xe0000000, 0, 0, 0x3f);
	len = mcfg_entry(t, len, 0x4000000000ull, 1, 0x80, 0xff);
	assert_int_equal(acpi_parse_mcfg((const void *)t, len, &info, &why), 0);
	assert_int_equal(info.necam, 2);
	assert_int_equal(info.ecam[0].base, 0xe0000000);
	assert_int_equal(info.ecam[0].end_bus, 0x3f);
	assert_int_equal(info.ecam[1].base, 0x4000000000ull);
	assert_int_equal(info.ecam[1].segment, 1);
	assert_int_equal(info.ecam[1].start_bus, 0x80);
	assert_int_equal(info.ecam_ignored, 0);
	for (unsigned i = 2; i < ACPI_MAX_ECAM + 2; i++)
		len = mcfg_entry(t, len, 0x100000000ull * (i + 1), (uint16_t)i, 0, 0);
	assert_int_equal(acpi_parse_mcfg((const void *)t, len, &info, &why), 0);
	assert_int_equal(info.necam, ACPI_MAX_ECAM);
	assert_int_equal(info.ecam_ignored, 2);
}

static void test_mcfg_malformed(void **state)
{
	uint8_t t[MCFG_HEADER + 2 * MCFG_ENTRY] = {0};
	struct acpi_info info;
	const char *why = NULL;

	(void)state;
	assert_int_equal(acpi_parse_mcfg((const void *)t, MCFG_HEADER, &info, &why), -1);
	assert_string_equal(why, "MCFG lists no ECAM window");
	mcfg_entry(t, MCFG_HEADER, 0xb0000000, 0, 0, 0xff);
	assert_int_equal(acpi_parse_mcfg((const void *)t, MCFG_HEADER + 8, &info, &why), -1);
	assert_string_equal(why, "MCFG length is not 44 + 16 bytes per entry");
	assert_int_equal(acpi_parse_mcfg((const void *)t, 40, &info, &why), -1);
	assert_string_equal(why, "MCFG length is not 44 + 16 bytes per entry");
	mcfg_entry(t, MCFG_HEADER + MCFG_ENTRY, 0xc0000000, 0, 0x10, 0x0f);
	assert_int_equal(acpi_parse_mcfg((const void *)t, sizeof(t), &info, &why), -1);
	assert_string_equal(why, "an MCFG entry ends below its start bus");
	assert_int_equal(info.necam, 0); /* nothing of a bad table is used */
	mcfg_entry(t, MCFG_HEADER + MCFG_ENTRY, 0xc0080000, 0, 0, 0x0f);
	assert_int_equal(acpi_parse_mcfg((const void *)t, sizeof(t), &info, &why), -1);
	assert_string_equal(why, "an MCFG entry's base is not 1 MiB aligned");
	mcfg_entry(t, MCFG_HEADER + MCFG_ENTRY, 0xfffffffffff00000ull, 0, 0, 0x0f);
	assert_int_equal(acpi_parse_mcfg((const void *)t, sizeof(t), &info, &why), -1);
	assert_string_equal(why, "an MCFG entry's base is 0 or its window wraps around");
}

/* A bad MCFG costs ECAM, not the boot: acpi_parse succeeds and says why. */
static void test_bad_mcfg_does_not_stop_the_parse(void **state)
{
	static struct synth s;
	uint8_t mcfg[MCFG_HEADER + MCFG_ENTRY] = {0};
	struct acpi_info info;
	char err[128];

	(void)state;
	build_synthetic(&s, 1, 1);
	mcfg_entry(mcfg, MCFG_HEADER, 0xb0000000, 0, 0x20, 0x10);
	add_mcfg_to_xsdt(&s, mcfg, sizeof(mcfg));
	assert_int_equal(acpi_parse(s.rsdp, fake_map, &info, err, sizeof(err)), 0);
	assert_int_equal(info.mcfg_phys, 0xa000);
	assert_int_equal(info.necam, 0);
	assert_string_equal(info.mcfg_unusable, "an MCFG entry ends below its start bus");
	fake_reset();
	build_synthetic(&s, 1, 1);
	mcfg_entry(mcfg, MCFG_HEADER, 0xb0000000, 0, 0, 0x10);
	add_mcfg_to_xsdt(&s, mcfg, sizeof(mcfg));
	assert_int_equal(acpi_parse(s.rsdp, fake_map, &info, err, sizeof(err)), 0);
	assert_null(info.mcfg_unusable);
	assert_int_equal(info.necam, 1);
	assert_int_equal(info.ecam[0].end_bus, 0x10);
	fake_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_platforms),
		cmocka_unit_test(test_synthetic_xsdt_x2apic_s5),
		cmocka_unit_test(test_bad_checksum_named),
		cmocka_unit_test(test_80_cpus_mixed_entries),
		cmocka_unit_test(test_cpus_beyond_the_limit_are_counted),
		cmocka_unit_test(test_find_rsdp_in_bios_area),
		cmocka_unit_test(test_rsdp_length_past_the_mapping),
		cmocka_unit_test(test_madt_shorter_than_its_fields),
		cmocka_unit_test(test_fadt_shorter_than_its_fields),
		cmocka_unit_test(test_mcfg_windows),
		cmocka_unit_test(test_mcfg_malformed),
		cmocka_unit_test(test_bad_mcfg_does_not_stop_the_parse),
	};

	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
