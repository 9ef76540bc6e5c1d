/* Boot step: the host's PCI functions (issue 11, point 1). The scan runs on
 * the boot CPU before the APs start, so nothing else touches a device while
 * its BARs are sized. ECAM is reached through the direct map: its window is
 * uncached by the firmware's MTRRs, which win over the write-back page
 * tables (Intel SDM Vol. 3A §12.11.4.1; docs/architecture.md, "Address
 * space"). */
#include <stdio.h>

#include "kernel/host_pci.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "drivers/acpi.h"
#include "drivers/pci_cfg.h"
#include "kernel/log.h"

#define ECAM_BUS_BYTES (1ull << PCI_ECAM_BUS_SHIFT)
#define BARS_TEXT      256

static struct pci_host_func funcs[HOST_PCI_MAX_FUNCS];
static struct pci_host_scan scan = {funcs, HOST_PCI_MAX_FUNCS, 0, 0, 0, 0};
static struct pci_cfg_ecam ecam;
static struct pci_cfg cfg = {&pci_cfg_mech1_ops, NULL};

/* The MCFG window that reaches bus 0 of segment 0, or NULL with the reason. */
static const struct acpi_ecam *pick_ecam(const struct acpi_info *acpi, const char **why)
{
	if (!acpi->mcfg_phys) {
		*why = "no MCFG table";
		return NULL;
	}
	if (acpi->mcfg_unusable) {
		*why = acpi->mcfg_unusable;
		return NULL;
	}
	for (uint32_t i = 0; i < acpi->necam; i++) {
		const struct acpi_ecam *w = &acpi->ecam[i];
		uint64_t end = w->base + ((uint64_t)w->end_bus + 1) * ECAM_BUS_BYTES;

		if (w->segment || w->start_bus)
			continue;
		if (end > paging_direct_map_end()) {
			*why = "the ECAM window is beyond the direct map";
			return NULL;
		}
		return w;
	}
	*why = "no MCFG window for bus 0 of segment 0";
	return NULL;
}

static void choose_access(const struct acpi_info *acpi)
{
	const char *why = NULL;
	const struct acpi_ecam *w = pick_ecam(acpi, &why);

	if (!w) {
		log_printf("pci: configuration mechanism #1 (ports 0xcf8/0xcfc): %s\n", why);
		return;
	}
	ecam = (struct pci_cfg_ecam){phys_to_virt(w->base), w->start_bus, w->end_bus};
	cfg = (struct pci_cfg){&pci_cfg_ecam_ops, &ecam};
	log_printf("pci: ECAM at 0x%llx for buses %u-%u (ACPI MCFG)\n", (unsigned long long)w->base,
		   w->start_bus, w->end_bus);
}

static void report_function(const struct pci_host_func *f)
{
	char bdf[PCI_HOST_BDF_LEN], cls[PCI_HOST_CLASS_LEN], bars[BARS_TEXT], id[8];
	const char *driver = pci_host_driver(f);
	struct record r;

	pci_host_format_bdf(f, bdf);
	pci_host_format_class(f, cls);
	pci_host_format_bars(f, bars, sizeof(bars));
	log_printf("pci %s: %04x:%04x class %s%s%s%s%s, driver %s%s%s\n", bdf, f->vendor, f->device,
		   cls, f->msi_cap ? ", MSI" : "", f->msix_cap ? ", MSI-X" : "",
		   f->caps_looped ? ", capability list loops" : "",
		   f->header_type == PCI_HEADER_TYPE_BRIDGE ? ", bridge" : "", driver,
		   f->nbars ? ", BARs " : "", bars);
	record_begin(&r, "pci");
	record_str(&r, "bdf", bdf);
	snprintf(id, sizeof(id), "%04x", f->vendor);
	record_str(&r, "vendor", id);
	snprintf(id, sizeof(id), "%04x", f->device);
	record_str(&r, "device", id);
	record_str(&r, "class", cls);
	record_str(&r, "bars", bars);
	record_bool(&r, "msi", f->msi_cap);
	record_bool(&r, "msix", f->msix_cap);
	record_str(&r, "driver", driver);
	record_emit(&r);
}

void host_pci_init(const struct acpi_info *acpi)
{
	choose_access(acpi);
	pci_host_enumerate(&cfg, &scan);
	for (unsigned i = 0; i < scan.n; i++)
		report_function(&funcs[i]);
	log_printf("pci: %u functions on %u buses\n", scan.n, scan.buses);
	if (scan.dropped)
		log_printf("pci: %u more functions beyond the table's %u are not used\n",
			   scan.dropped, HOST_PCI_MAX_FUNCS);
	if (scan.bridges_skipped)
		log_printf("pci: %u bridges not followed (secondary bus 0 or already scanned)\n",
			   scan.bridges_skipped);
}

const struct pci_host_func *host_pci_functions(unsigned *n)
{
	*n = scan.n;
	return funcs;
}

const struct pci_cfg *host_pci_cfg(void)
{
	return &cfg;
}
