/* Boot step: the AHCI controller (kernel/host_ahci.h). The registers are
 * reached through an uncached mapping of ABAR (BAR 5, AHCI 1.3.1 §2.1.11);
 * each started port gets physically contiguous pages for its command list,
 * FIS area and command tables, below 4 GiB unless the HBA has S64A. */
#include <stdio.h>
#include <string.h>

#include "kernel/host_ahci.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/tsc.h"
#include "kernel/host_pci.h"
#include "kernel/log.h"
#include "kernel/manifest.h"
#include "kernel/mem.h"

#define FOUR_GIB (1ull << 32)

static struct {
	const struct pci_host_func *fn;
	volatile uint32_t *abar;
	struct ahci_hba hba;
	const char *why; /* why there is no controller, or NULL */
	struct host_ahci_port port[AHCI_MAX_PORTS];
	bool up[AHCI_MAX_PORTS];
	int status[AHCI_MAX_PORTS];
} ahci = {.why = "no ahci device in the manifest"};

static uint32_t abar_read(void *ctx, uint32_t off)
{
	(void)ctx;
	return ahci.abar[off / 4];
}

static void abar_write(void *ctx, uint32_t off, uint32_t val)
{
	(void)ctx;
	ahci.abar[off / 4] = val;
}

static void abar_delay(void *ctx, unsigned us)
{
	(void)ctx;
	tsc_delay_us(us);
}

static const struct ahci_io_ops abar_ops = {abar_read, abar_write, abar_delay};

static const struct pci_host_func *find_controller(void)
{
	unsigned n;
	const struct pci_host_func *f = host_pci_functions(&n);

	for (unsigned i = 0; i < n; i++)
		if (!strcmp(pci_host_driver(&f[i]), "ahci"))
			return &f[i];
	return NULL;
}

static const struct pci_host_bar *abar_of(const struct pci_host_func *f)
{
	for (unsigned i = 0; i < f->nbars; i++)
		if (f->bars[i].index == AHCI_BAR && f->bars[i].kind != PCI_BAR_IO)
			return &f->bars[i];
	return NULL;
}

/* Memory decoding and bus mastering on: the HBA fetches its command lists. */
static void enable_function(const struct pci_host_func *f)
{
	const struct pci_cfg *cfg = host_pci_cfg();
	uint32_t cmd = cfg->ops->read32(cfg->ctx, f->bus, f->dev, f->fn, PCI_COMMAND);

	cmd = (cmd & 0xffff) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;
	cfg->ops->write32(cfg->ctx, f->bus, f->dev, f->fn, PCI_COMMAND, cmd);
}

static const char *bring_up_hba(void)
{
	const struct pci_host_bar *bar;
	char bdf[PCI_HOST_BDF_LEN];

	ahci.fn = find_controller();
	if (!ahci.fn)
		return "no AHCI controller among the PCI functions";
	bar = abar_of(ahci.fn);
	if (!bar)
		return "the AHCI controller has no memory BAR 5 (ABAR)";
	ahci.abar = paging_map_device(bar->base, bar->size);
	if (!ahci.abar)
		return "no room in the device window for ABAR";
	enable_function(ahci.fn);
	if (ahci_hba_reset(&ahci.hba, &abar_ops, NULL))
		return "the HBA reset (GHC.HR) did not finish within 1 s";
	pci_host_format_bdf(ahci.fn, bdf);
	log_printf("ahci %s: AHCI %x.%x, %u ports (PI 0x%x), %u command slots%s%s\n", bdf,
		   ahci.hba.version >> 16, (ahci.hba.version >> 8) & 0xff,
		   (ahci.hba.cap & AHCI_CAP_NP_MASK) + 1, ahci.hba.pi, ahci.hba.nslots,
		   ahci.hba.cap & AHCI_CAP_SNCQ ? ", NCQ" : "",
		   ahci.hba.cap & AHCI_CAP_S64A ? ", 64-bit DMA" : "");
	return NULL;
}

static void report_port(unsigned n)
{
	const struct ahci_port *p = &ahci.port[n].port;
	char bdf[PCI_HOST_BDF_LEN];
	struct record r;

	pci_host_format_bdf(ahci.fn, bdf);
	if (ahci.status[n]) {
		log_printf("ahci port %u: not used: %s\n", n, ahci_status_name(ahci.status[n]));
	} else {
		log_printf("ahci port %u: \"%s\", %llu sectors (%llu MiB), %s, %u slots\n", n,
			   p->id.model, (unsigned long long)p->id.sectors,
			   (unsigned long long)(p->id.sectors >> 11),
			   p->ncq ? "NCQ (READ/WRITE FPDMA QUEUED)" : "READ/WRITE DMA EXT",
			   p->depth);
	}
	record_begin(&r, "ahci_port");
	record_str(&r, "bdf", bdf);
	record_uint(&r, "port", n);
	record_str(&r, "status", ahci_status_name(ahci.status[n]));
	record_str(&r, "model", ahci.status[n] ? "" : p->id.model);
	record_uint(&r, "sectors", ahci.status[n] ? 0 : p->id.sectors);
	record_bool(&r, "ncq", !ahci.status[n] && p->ncq);
	record_uint(&r, "depth", ahci.status[n] ? 0 : p->depth);
	record_emit(&r);
}

static int start_port(unsigned n)
{
	uint64_t phys = mem_alloc_pages(AHCI_PORT_DMA_PAGES, 1);

	if (!phys)
		return AHCI_ERR_TIMEOUT;
	if (!(ahci.hba.cap & AHCI_CAP_S64A) && phys + AHCI_PORT_DMA_BYTES > FOUR_GIB) {
		mem_free_pages(phys, AHCI_PORT_DMA_PAGES);
		return AHCI_ERR_INVAL; /* the allocator gave memory the HBA cannot reach */
	}
	ahci.port[n].lock = (struct spinlock)SPINLOCK_INIT;
	return ahci_port_start(&ahci.port[n].port, &ahci.hba, n,
			       (struct ahci_dma){phys_to_virt(phys), phys});
}

void host_ahci_init(const struct manifest *m)
{
	bool want[AHCI_MAX_PORTS] = {false}, any = false;

	for (uint32_t i = 0; i < m->nvms; i++)
		for (uint32_t j = 0; j < m->vms[i].ndevices; j++) {
			const struct manifest_device *d = &m->vms[i].devices[j];

			if (d->type == MANIFEST_DEVICE_VIRTIO_BLK &&
			    d->backend == MANIFEST_BLK_AHCI)
				any = want[d->port] = true;
		}
	if (!any)
		return;
	ahci.why = bring_up_hba();
	if (ahci.why) {
		log_printf("ahci: %s\n", ahci.why);
		return;
	}
	for (unsigned n = 0; n < AHCI_MAX_PORTS; n++) {
		if (!want[n])
			continue;
		ahci.status[n] = start_port(n);
		ahci.up[n] = ahci.status[n] == AHCI_OK;
		report_port(n);
	}
}

struct host_ahci_port *host_ahci_port(unsigned n, const char **why)
{
	if (ahci.why) {
		*why = ahci.why;
		return NULL;
	}
	if (n >= AHCI_MAX_PORTS || !ahci.up[n]) {
		*why = "its AHCI port has no disk the driver could start";
		return NULL;
	}
	return &ahci.port[n];
}

void host_ahci_report_errors(struct host_ahci_port *hp)
{
	const struct ahci_error *e = &hp->port.last_error;

	if (hp->port.recoveries == hp->recoveries_logged)
		return;
	hp->recoveries_logged = hp->port.recoveries;
	log_printf("ahci port %u: error (PxIS 0x%x, status 0x%x, error 0x%x, PxSERR 0x%x): "
		   "%u commands failed (slots 0x%x), port restarted\n",
		   hp->port.index, e->is, e->tfd & 0xff, (e->tfd >> AHCI_PxTFD_ERR_SHIFT) & 0xff,
		   e->serr, ahci_slot_count(e->failed), e->failed);
}
