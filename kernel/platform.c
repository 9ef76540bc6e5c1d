/* Platform discovery: ACPI tables → CPUs, local APIC, power-off data. */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/power.h"
#include "arch/x86_64/smp.h"
#include "drivers/acpi.h"
#include "kernel/bootinfo.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/platform.h"

#define RSDP_V1_LENGTH 20
#define RSDP_V2_LENGTH 36
#define HEX_CHUNK      256 /* table bytes per console line of an acpi_dump */
#define LOW_PAGE_FIRST 0x1000
#define LOW_PAGE_LIMIT 0x100000
/* In xAPIC mode an IPI names its target in 8 bits and 0xff means every CPU
 * (SDM Vol. 3A §11.6.2.1), so INIT-SIPI reaches only APIC IDs below 0xff;
 * larger ones need x2APIC mode's 32-bit destinations (§11.12.9). */
#define XAPIC_BROADCAST_ID 0xff

static struct acpi_info acpi;
static uint64_t trampoline_page;

static const void *acpi_map(uint64_t phys, size_t len)
{
	if (phys + len > paging_direct_map_end() || phys + len < phys)
		return NULL;
	return phys_to_virt(phys);
}

/* One record per table chunk: `@{"type":"acpi_table","sig":..,"hex":..}`,
 * which tools/capture-acpi turns back into the table for the unit tests. */
static void dump_bytes(const char *sig, uint64_t phys, const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char hex[2 * HEX_CHUNK + 1];
	struct record r;

	for (size_t off = 0; off < len; off += HEX_CHUNK) {
		size_t n = len - off < HEX_CHUNK ? len - off : HEX_CHUNK;

		for (size_t i = 0; i < n; i++) {
			hex[2 * i] = digits[p[off + i] >> 4];
			hex[2 * i + 1] = digits[p[off + i] & 15];
		}
		hex[2 * n] = '\0';
		record_begin(&r, "acpi_table");
		record_str(&r, "sig", sig);
		record_hex(&r, "phys", phys);
		record_uint(&r, "offset", off);
		record_uint(&r, "length", len);
		record_str(&r, "hex", hex);
		record_emit(&r);
	}
}

static void dump_table(const struct acpi_sdt_header *t, uint64_t phys, void *ctx)
{
	char sig[5];

	(void)ctx;
	memcpy(sig, t->signature, 4);
	sig[4] = '\0';
	dump_bytes(sig, phys, (const uint8_t *)t, t->length);
}

static void acpi_dump(const void *rsdp)
{
	const uint8_t *r = rsdp;

	dump_bytes("RSDP", virt_to_phys(rsdp), r, r[15] >= 2 ? RSDP_V2_LENGTH : RSDP_V1_LENGTH);
	acpi_for_each_table(rsdp, acpi_map, dump_table, NULL);
}

static void report_acpi(void)
{
	struct record r;

	log_printf("acpi: %u CPUs, %u IOAPICs, local APIC at 0x%llx\n", acpi.ncpus, acpi.nioapics,
		   (unsigned long long)acpi.lapic_addr);
	record_begin(&r, "acpi");
	record_uint(&r, "cpus", acpi.ncpus);
	record_uint(&r, "ioapics", acpi.nioapics);
	record_hex(&r, "lapic", acpi.lapic_addr);
	record_bool(&r, "s5", acpi.have_s5);
	record_emit(&r);
}

static bool page_is_reserved(const struct boot_info *bi, uint64_t page)
{
	for (unsigned i = 0; i < bi->n_reserved; i++)
		if (page < bi->reserved[i].base + bi->reserved[i].len &&
		    bi->reserved[i].base < page + PAGE_SIZE)
			return true;
	return false;
}

/* A usable page below 1 MiB that the loader did not fill (GRUB may put the
 * boot information there). The allocator never hands out low memory, so the
 * trampoline needs no reservation of its own. */
static uint64_t find_low_page(const struct boot_info *bi)
{
	for (unsigned i = 0; i < bi->n_usable; i++) {
		uint64_t page = (bi->usable[i].base + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
		uint64_t end = bi->usable[i].base + bi->usable[i].len;

		for (page = page < LOW_PAGE_FIRST ? LOW_PAGE_FIRST : page;
		     page + PAGE_SIZE <= end && page + PAGE_SIZE <= LOW_PAGE_LIMIT;
		     page += PAGE_SIZE)
			if (!page_is_reserved(bi, page))
				return page;
	}
	return 0;
}

/* One line and one record when the machine has CPUs the boot leaves off:
 * beyond the build's limit, or out of xAPIC mode's reach. */
static void report_cpus_ignored(uint32_t unreachable)
{
	uint32_t listed = acpi.ncpus + acpi.cpus_ignored;
	struct record r;

	if (cpu_count >= listed)
		return;
	log_printf("cpus: the MADT lists %u usable CPUs, %u are used (limit %u, CONFIG_MAX_CPUS; "
		   "%u out of xAPIC reach)\n",
		   listed, cpu_count, ACPI_MAX_CPUS, unreachable);
	record_begin(&r, "cpus_ignored");
	record_uint(&r, "listed", listed);
	record_uint(&r, "used", cpu_count);
	record_uint(&r, "limit", ACPI_MAX_CPUS);
	record_uint(&r, "xapic_unreachable", unreachable);
	record_emit(&r);
}

static bool apic_id_reachable(uint32_t apic_id)
{
	return lapic_is_x2apic() || apic_id < XAPIC_BROADCAST_ID;
}

static void register_cpus(void)
{
	static uint32_t ids[ACPI_MAX_CPUS];
	uint32_t n = 0, unreachable = 0;

	for (uint32_t i = 0; i < acpi.ncpus; i++) {
		uint32_t id = acpi.cpus[i].apic_id;

		if (apic_id_reachable(id)) {
			ids[n++] = id;
			continue;
		}
		log_printf("cpus: APIC id %u skipped: the xAPIC cannot start it\n", id);
		unreachable++;
	}
	smp_register_cpus(ids, n, lapic_id());
	cpus[0].apic_id = lapic_id();
	report_cpus_ignored(unreachable);
}

void platform_init(const struct boot_info *bi)
{
	const void *rsdp = bi->rsdp;
	char err[128];

	if (!rsdp) {
		uint64_t phys = acpi_find_rsdp(acpi_map);

		rsdp = phys ? phys_to_virt(phys) : NULL;
	}
	if (!rsdp)
		panic("no ACPI RSDP: neither the boot loader nor the BIOS area has one");
	if (boot_cmdline_has(bi, "acpi_dump"))
		acpi_dump(rsdp);
	if (acpi_parse(rsdp, acpi_map, &acpi, err, sizeof(err)))
		panic("ACPI: %s", err);
	console_apply_acpi(&acpi);
	report_acpi();
	lapic_init_bsp(acpi.lapic_addr);
	lapic_enable();
	register_cpus();
	power_init(&acpi);
	trampoline_page = find_low_page(bi);
	if (!trampoline_page && cpu_count > 1)
		panic("no free page below 1 MiB for the AP start-up code");
}

const struct acpi_info *platform_acpi(void)
{
	return &acpi;
}

uint64_t platform_trampoline_page(void)
{
	return trampoline_page;
}

void platform_halt(const char *reason)
{
	struct record r;

	log_printf("halting: %s\n", reason);
	record_begin(&r, "halt");
	record_str(&r, "reason", reason);
	record_emit(&r);
	irq_disable();
	smp_stop_others();
	cpu_halt_forever();
}
