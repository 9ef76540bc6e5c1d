/* The machine's PCI functions, found once at boot (after ACPI, before the
 * APs start), reported as @pci records and kept for the drivers. */
#ifndef KERNEL_HOST_PCI_H
#define KERNEL_HOST_PCI_H

#include "drivers/pci_host.h"

struct acpi_info;

#define HOST_PCI_MAX_FUNCS 256

/* Enumerates through ECAM when the MCFG gives a window for segment 0 from
 * bus 0 inside the direct map, else mechanism #1; logs each function. */
void host_pci_init(const struct acpi_info *acpi);
/* What host_pci_init found; *n is set to the count. */
const struct pci_host_func *host_pci_functions(unsigned *n);
/* The configuration access host_pci_init chose, for the drivers. */
const struct pci_cfg *host_pci_cfg(void);

#endif
