/* The MCFG table (PCI Firmware Specification 3.2 §4.1.2): where the PCI
 * Express enhanced configuration access mechanism (ECAM, PCIe Base 5.0
 * §7.2.2) puts each segment's buses. A table that is malformed anywhere is
 * not used at all: the machine still has configuration mechanism #1. */
#include <string.h>

#include "drivers/acpi.h"

#define ECAM_BUS_BYTES (1ull << 20) /* 32 devices x 8 functions x 4 KiB */

static const char *check_alloc(const struct acpi_mcfg_alloc *a)
{
	uint64_t end = a->base + ((uint64_t)a->end_bus + 1) * ECAM_BUS_BYTES;

	if (a->end_bus < a->start_bus)
		return "an MCFG entry ends below its start bus";
	if (a->base & (ECAM_BUS_BYTES - 1))
		return "an MCFG entry's base is not 1 MiB aligned";
	if (!a->base || end < a->base)
		return "an MCFG entry's base is 0 or its window wraps around";
	return NULL;
}

int acpi_parse_mcfg(const struct acpi_mcfg *t, size_t len, struct acpi_info *out, const char **why)
{
	const struct acpi_mcfg_alloc *a = (const struct acpi_mcfg_alloc *)(t + 1);
	size_t n;

	out->necam = 0;
	out->ecam_ignored = 0;
	if (len < sizeof(*t) || (len - sizeof(*t)) % sizeof(*a)) {
		*why = "MCFG length is not 44 + 16 bytes per entry";
		return -1;
	}
	n = (len - sizeof(*t)) / sizeof(*a);
	for (size_t i = 0; i < n; i++) {
		struct acpi_mcfg_alloc e;

		memcpy(&e, &a[i], sizeof(e)); /* the table may sit at any alignment */
		*why = check_alloc(&e);
		if (*why) {
			out->necam = 0;
			out->ecam_ignored = 0;
			return -1;
		}
		if (out->necam == ACPI_MAX_ECAM) {
			out->ecam_ignored++;
			continue;
		}
		out->ecam[out->necam++] =
			(struct acpi_ecam){e.base, e.segment, e.start_bus, e.end_bus};
	}
	if (!out->necam) {
		*why = "MCFG lists no ECAM window";
		return -1;
	}
	return 0;
}
