/* libFuzzer harness for the VM's ACPI tables (vplat/acpi_*.c): any configuration the manifest
 * could lead to (vCPU count, I/O APIC, sleep port, PCI windows), any buffer size and load
 * address. The buffer is a heap block of exactly `size` bytes, so AddressSanitizer flags any
 * write past it. Beyond "no crash":
 *   - a build that returns 0 leaves no RSDP at the load address (it writes the RSDP last), so a
 *     guest scanning the BIOS area cannot find half-built tables;
 *   - a build that succeeds used at most `size` bytes and is refused with one byte less;
 *   - its tables read back through the hypervisor's own parser (drivers/acpi.c) with exactly
 *     the vCPUs, the I/O APIC, the MCFG and the \_S5 that were asked for.
 *
 * Input: le16 ncpus, ioapic_id, le16 sleep_port, le32 ioapic_base, le32 size (modulo
 * VACPI_SIZE + 1), byte flags: bit 0 an unaligned load address, bit 1 a foreign ECAM base,
 * bit 2 a foreign BAR window. Seeds: tests/fuzz/seeds.py. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/acpi.h"
#include "vplat/acpi_build.h"

#define CHECK(c)   ((c) ? (void)0 : abort())
#define INPUT_LEN  14
#define UNALIGNED  0x01
#define BAD_ECAM   0x02
#define BAD_WINDOW 0x04
#define FILL	   0x5a

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *tables;
static uint64_t tables_gpa;
static size_t tables_len;

static const void *map(uint64_t phys, size_t len)
{
	if (phys < tables_gpa || len > tables_len || phys - tables_gpa > tables_len - len)
		return NULL;
	return tables + (phys - tables_gpa);
}

static uint32_t le(const uint8_t *p, int n)
{
	uint32_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void check_parsed(const uint8_t *buf, size_t used, uint64_t gpa,
			 const struct vacpi_config *cfg)
{
	static struct acpi_info info;
	char err[128];

	tables = buf;
	tables_gpa = gpa;
	tables_len = used;
	CHECK(acpi_parse(buf, map, &info, err, sizeof(err)) == 0);
	CHECK(info.ncpus + info.cpus_ignored == cfg->ncpus);
	for (uint32_t i = 0; i < info.ncpus; i++)
		CHECK(info.cpus[i].apic_id == i);
	CHECK(info.nioapics == 1 && info.ioapics[0].id == cfg->ioapic_id);
	CHECK(info.ioapics[0].address == (uint32_t)cfg->ioapic_base);
	CHECK(info.noverrides == 0 && !info.pcat_compat);
	CHECK(info.have_s5 && info.s5_slp_typa == 5);
	CHECK(info.mcfg_phys >= gpa && info.mcfg_phys < gpa + used);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vacpi_config cfg;
	uint64_t gpa = VACPI_GPA;
	size_t len, used;
	uint8_t *buf;

	if (size < INPUT_LEN)
		return 0;
	cfg = (struct vacpi_config){.ncpus = le(data, 2),
				    .ioapic_id = data[2],
				    .sleep_port = (uint16_t)le(data + 3, 2),
				    .ioapic_base = le(data + 5, 4),
				    .ecam_base = VACPI_ECAM_BASE,
				    .pci_mmio_base = VACPI_PCI_MMIO_BASE,
				    .pci_mmio_size = VACPI_PCI_MMIO_SIZE};
	len = le(data + 9, 4) % (VACPI_SIZE + 1);
	gpa += data[13] & UNALIGNED ? 4 : 0;
	cfg.ecam_base += data[13] & BAD_ECAM ? 0x100000 : 0;
	cfg.pci_mmio_size -= data[13] & BAD_WINDOW ? 0x1000 : 0;
	buf = malloc(len ? len : 1);
	memset(buf, FILL, len);
	used = vacpi_build(buf, len, gpa, &cfg);
	CHECK(used <= len);
	if (!used) {
		CHECK(len < 8 || memcmp(buf, "RSD PTR ", 8));
	} else {
		CHECK(!(data[13] & (UNALIGNED | BAD_ECAM | BAD_WINDOW)) && cfg.ncpus);
		CHECK(vacpi_build(buf, used - 1, gpa, &cfg) == 0);
		CHECK(vacpi_build(buf, used, gpa, &cfg) == used);
		check_parsed(buf, used, gpa, &cfg);
	}
	free(buf);
	return 0;
}
