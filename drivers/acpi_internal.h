/* Shared between the ACPI parsing files; not for the rest of the hypervisor. */
#ifndef DRIVERS_ACPI_INTERNAL_H
#define DRIVERS_ACPI_INTERNAL_H

#include <stddef.h>

#include "drivers/acpi.h"

/* Both check that the table's length covers the fields they read: -1 with a
 * message in err when it does not. */
int acpi_parse_madt(const struct acpi_madt *madt, struct acpi_info *out, char *err, size_t errlen);
int acpi_parse_fadt(const struct acpi_fadt *fadt, struct acpi_info *out, char *err, size_t errlen);

#endif
