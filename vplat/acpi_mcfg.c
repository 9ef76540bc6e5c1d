/* The MCFG (PCI Firmware Specification 3.2 §4.1.2): one ECAM allocation, for
 * bus 0 of segment 0, the only bus the VM's host bridge has. */
#include "vplat/acpi_internal.h"

#define MCFG_LENGTH (sizeof(struct acpi_mcfg) + sizeof(struct acpi_mcfg_alloc))

uint64_t vacpi_build_mcfg(struct vacpi_buf *b, const struct vacpi_config *cfg)
{
	uint64_t gpa;
	struct acpi_mcfg *m = vacpi_alloc(b, MCFG_LENGTH, &gpa);
	struct acpi_mcfg_alloc *a;

	if (!m)
		return 0;
	vacpi_header(&m->header, ACPI_SIG_MCFG, MCFG_LENGTH, ACPI_MCFG_REVISION);
	a = (struct acpi_mcfg_alloc *)(m + 1);
	*a = (struct acpi_mcfg_alloc){
		.base = cfg->ecam_base, .segment = 0, .start_bus = 0, .end_bus = 0};
	vacpi_seal(&m->header);
	return gpa;
}
