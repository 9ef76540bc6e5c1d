/* `iommu_selftest` on the command line: the machine's AHCI controller is
 * made to DMA into a canary page that no domain maps. With the IOMMU
 * translating, the unit must block the write, record a fault naming the
 * controller and the page, and leave every byte of the page as it was;
 * without one, the write lands (the test's control). The DMA is the port's
 * FIS receive area (AHCI 1.3.1 §3.3.3, §3.3.7): QEMU's controller writes
 * a port's first D2H register FIS there when FIS receive turns on after a
 * reset. A debug aid for the tests: the controller is reset and left idle. */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/vtd/vtd.h"
#include "drivers/ahci_regs.h"

#define AHCI_PORT0 AHCI_PORT_BASE /* port 0's registers */
#include "kernel/bootinfo.h"
#include "kernel/host_pci.h"
#include "kernel/iommu_selftest.h"
#include "kernel/log.h"
#include "kernel/mem.h"

#define CANARY	    0xa5
#define PAGE_BYTES  4096u
#define POLL_LIMIT  (1u << 20)
#define SETTLE_READ 1000u /* register reads for the controller to act */

static uint32_t rd(volatile uint8_t *abar, unsigned off)
{
	return *(volatile uint32_t *)(abar + off);
}

static void wr(volatile uint8_t *abar, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(abar + off) = v;
}

static bool wait_clear(volatile uint8_t *abar, unsigned off, uint32_t bits)
{
	for (uint32_t i = 0; i < POLL_LIMIT; i++)
		if (!(rd(abar, off) & bits))
			return true;
	return false;
}

static const struct pci_host_func *find_ahci(uint64_t *abar)
{
	unsigned n;
	const struct pci_host_func *f = host_pci_functions(&n);

	for (unsigned i = 0; i < n; i++) {
		if (strcmp(pci_host_driver(&f[i]), "ahci"))
			continue;
		for (unsigned b = 0; b < f[i].nbars; b++)
			if (f[i].bars[b].index == AHCI_BAR && f[i].bars[b].kind != PCI_BAR_IO) {
				*abar = f[i].bars[b].base;
				return &f[i];
			}
	}
	return NULL;
}

/* HBA reset (§10.4.3), then FIS receive on port 0 into `fis`. */
static const char *provoke_dma(const struct pci_host_func *f, volatile uint8_t *abar, uint64_t fis)
{
	const struct pci_cfg *cfg = host_pci_cfg();
	uint32_t cmd = cfg->ops->read32(cfg->ctx, f->bus, f->dev, f->fn, PCI_COMMAND);

	/* the status half written as 0: none of its write-1-to-clear bits (PCI 3.0 §6.2.3) */
	cfg->ops->write32(cfg->ctx, f->bus, f->dev, f->fn, PCI_COMMAND,
			  (cmd & 0xffff) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	wr(abar, AHCI_GHC, AHCI_GHC_HR);
	if (!wait_clear(abar, AHCI_GHC, AHCI_GHC_HR))
		return "the HBA reset did not finish";
	wr(abar, AHCI_GHC, AHCI_GHC_AE);
	if (!(rd(abar, AHCI_PI) & 1))
		return "port 0 is not implemented";
	if (!wait_clear(abar, AHCI_PORT0 + AHCI_PxCMD, AHCI_PxCMD_CR | AHCI_PxCMD_FR))
		return "port 0 did not stop";
	wr(abar, AHCI_PORT0 + AHCI_PxFB, (uint32_t)fis);
	wr(abar, AHCI_PORT0 + AHCI_PxFBU, (uint32_t)(fis >> 32));
	wr(abar, AHCI_PORT0 + AHCI_PxCMD, AHCI_PxCMD_FRE);
	for (uint32_t i = 0; i < SETTLE_READ; i++)
		(void)rd(abar, AHCI_PORT0 + AHCI_PxCMD);
	wr(abar, AHCI_PORT0 + AHCI_PxCMD, 0);
	if (!wait_clear(abar, AHCI_PORT0 + AHCI_PxCMD, AHCI_PxCMD_FR))
		return "port 0's FIS receive did not stop";
	return NULL;
}

static void report(const struct pci_host_func *f, uint64_t canary, unsigned changed,
		   const char *error)
{
	char bdf[PCI_HOST_BDF_LEN] = "none";
	struct record r;

	if (f)
		pci_host_format_bdf(f, bdf);
	log_printf("iommu selftest: %s DMA into 0x%llx: %u bytes changed%s%s\n", bdf,
		   (unsigned long long)canary, changed, error ? "; " : "", error ? error : "");
	record_begin(&r, "iommu_selftest");
	record_str(&r, "device", bdf);
	record_hex(&r, "address", canary);
	record_uint(&r, "changed", changed);
	record_str(&r, "error", error ? error : "");
	record_emit(&r);
}

void iommu_selftest_run(const struct boot_info *bi)
{
	uint64_t abar_phys = 0, canary;
	const struct pci_host_func *f;
	volatile uint8_t *abar, *page;
	unsigned changed = 0;
	const char *error;

	if (!boot_cmdline_has(bi, "iommu_selftest"))
		return;
	f = find_ahci(&abar_phys);
	canary = mem_alloc_pages(1, 1);
	if (!f || !canary) {
		report(f, canary, 0, f ? "no memory for the canary" : "no AHCI controller");
		return;
	}
	page = phys_to_virt(canary);
	memset((void *)page, CANARY, PAGE_BYTES);
	abar = paging_map_device(abar_phys, PAGE_BYTES);
	error = abar ? provoke_dma(f, abar, canary) : "no room to map the HBA's registers";
	for (unsigned i = 0; i < PAGE_BYTES; i++)
		changed += page[i] != CANARY;
	vtd_check_faults();
	report(f, canary, changed, error);
	mem_free_pages(canary, 1);
}
