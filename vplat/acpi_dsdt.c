/* The DSDT: vplat/dsdt.asl as compiled by iasl at build time (the Makefile
 * turns the AML into a C array), copied unchanged: it is the same for every
 * VM (see dsdt.asl), and iasl already set its checksum. */
#include <string.h>

#include "generated/dsdt_aml.h"
#include "vplat/acpi_internal.h"

uint64_t vacpi_build_dsdt(struct vacpi_buf *b)
{
	uint64_t gpa;
	void *d = vacpi_alloc(b, sizeof(vacpi_dsdt_aml), &gpa);

	if (!d)
		return 0;
	memcpy(d, vacpi_dsdt_aml, sizeof(vacpi_dsdt_aml));
	return gpa;
}
