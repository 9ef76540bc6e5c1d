/* ACPI discovery: what the hypervisor needs from the firmware tables. Pure
 * logic: physical memory is reached only through the caller's map function,
 * so the unit tests run it on captured tables. */
#ifndef DRIVERS_ACPI_H
#define DRIVERS_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/acpi_tables.h"
#include "lib/config.h"

#define ACPI_MAX_CPUS	   ((unsigned)CONFIG_MAX_CPUS)
#define ACPI_MAX_IOAPICS   8u
#define ACPI_MAX_OVERRIDES 16u
#define ACPI_MAX_ECAM	   8u

/* Returns a pointer to `len` readable bytes at physical `phys`, or NULL. */
typedef const void *(*acpi_map_fn)(uint64_t phys, size_t len);

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;
};

struct acpi_ioapic {
	uint32_t id;
	uint32_t address;
	uint32_t gsi_base;
};

struct acpi_override {
	uint8_t source_irq;
	uint32_t gsi;
	uint16_t flags;
};

/* One ECAM window from the MCFG table: buses start_bus..end_bus of a segment;
 * bus b's configuration space is at base + (b << 20). */
struct acpi_ecam {
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus, end_bus;
};

/* The console the SPCR table names, when it is a 16550 we can drive. */
struct acpi_spcr_info {
	bool mmio;	   /* else I/O ports */
	uint64_t address;  /* port or physical address */
	uint8_t width;	   /* MMIO: register access width and stride, bytes */
	uint32_t baud;	   /* 0: as the firmware configured it */
	uint32_t clock_hz; /* 0: unknown (the PC's 1.8432 MHz) */
};

struct acpi_info {
	uint8_t revision; /* of the RSDP */
	bool pcat_compat;
	uint64_t lapic_addr;
	uint32_t ncpus;
	struct acpi_cpu cpus[ACPI_MAX_CPUS]; /* MADT order */
	uint32_t cpus_ignored;		     /* usable CPUs listed beyond ACPI_MAX_CPUS */
	uint32_t nioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	uint32_t noverrides;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	/* FADT */
	uint16_t pm1a_cnt, pm1b_cnt;
	uint16_t pm_tmr;
	bool pm_tmr_32bit;
	uint16_t smi_cmd;
	uint8_t acpi_enable;
	bool have_reset_reg;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	/* DSDT \_S5 */
	bool have_s5;
	uint8_t s5_slp_typa, s5_slp_typb;
	/* SPCR: present, and then usable or why not */
	bool have_spcr;
	const char *spcr_unusable;
	struct acpi_spcr_info spcr;
	/* MCFG: present, and then its ECAM windows or why it cannot be used (a
	 * bad MCFG costs ECAM, not the boot: configuration mechanism #1 remains) */
	uint32_t necam;
	struct acpi_ecam ecam[ACPI_MAX_ECAM];
	uint32_t ecam_ignored; /* windows listed beyond ACPI_MAX_ECAM */
	const char *mcfg_unusable;
	/* tables later stages need */
	uint64_t dmar_phys, mcfg_phys;
};

/* Scans the BIOS areas for the RSDP (ACPI 6.5 §5.2.5.1); 0 when absent. */
uint64_t acpi_find_rsdp(acpi_map_fn map);
/* Fills `out` from the tables under `rsdp`; 0, or -1 with a message in err
 * that names the table and the problem. */
int acpi_parse(const void *rsdp, acpi_map_fn map, struct acpi_info *out, char *err, size_t errlen);
/* Calls fn for the RSDT/XSDT, every valid table it lists, and the DSDT. */
int acpi_for_each_table(const void *rsdp, acpi_map_fn map,
			void (*fn)(const struct acpi_sdt_header *t, uint64_t phys, void *ctx),
			void *ctx);
/* Reads an SPCR table of `len` bytes: 0 with `out` filled, or -1 with a
 * constant string in *why (not a 16550, redirection disabled, ...). */
int acpi_parse_spcr(const struct acpi_spcr *t, size_t len, struct acpi_spcr_info *out,
		    const char **why);
/* Reads an MCFG table of `len` bytes into out->ecam: 0, or -1 with a constant
 * string in *why (and no windows) when its length or an entry is malformed. */
int acpi_parse_mcfg(const struct acpi_mcfg *t, size_t len, struct acpi_info *out, const char **why);
/* The \_S5 sleep type values from DSDT AML; false when there is no \_S5. */
bool acpi_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb);

#endif
