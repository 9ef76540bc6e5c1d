/* Host PCI enumeration (PCI Local Bus 3.0 §6, PCI-to-PCI Bridge Architecture
 * 1.2 §3.2): every function on bus 0 and on the buses behind bridges, as the
 * firmware numbered them (corevisor assigns no bus numbers or addresses). */
#include <stdio.h>
#include <string.h>

#include "drivers/pci_host.h"

/* At most (256 - 64) / 4 capabilities fit in the conventional space: a list
 * longer than that loops (§6.7). */
#define CAP_LIST_BOUND	((256 - PCI_STD_HEADER_SIZEOF) / 4)
#define BAR_REG(i)	(PCI_BASE_ADDRESS_0 + 4 * (i))
#define ALL_ONES	0xffffffffu
#define DECODE_ENABLES	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY)
#define SEC_BUS_SHIFT	8 /* byte 1 of the bus-numbers dword */
#define CLASS_SHIFT	24
#define SUBCLASS_SHIFT	16
#define PROG_IF_SHIFT	8
#define CAP_NEXT_SHIFT	8
#define HEADER_TYPE_BIT 16 /* byte 2 of the dword at 0x0c */

struct walker {
	const struct pci_cfg *cfg;
	unsigned bus, dev, fn;
};

static uint32_t rd(const struct walker *w, unsigned reg)
{
	return w->cfg->ops->read32(w->cfg->ctx, w->bus, w->dev, w->fn, reg & ~3u);
}

static void wr(const struct walker *w, unsigned reg, uint32_t val)
{
	w->cfg->ops->write32(w->cfg->ctx, w->bus, w->dev, w->fn, reg & ~3u, val);
}

static uint8_t rd8(const struct walker *w, unsigned reg)
{
	return (uint8_t)(rd(w, reg) >> (8 * (reg & 3)));
}

/* The command register alone, through a dword write: the status half is
 * written as 0, which leaves its write-1-to-clear bits alone (§6.2.3). */
static void write_command(const struct walker *w, uint16_t cmd)
{
	wr(w, PCI_COMMAND, cmd);
}

/* Writes all-ones and reads back which address bits the BAR decodes; puts
 * the original value back (§6.2.5.1). */
static uint32_t probe_bar_reg(const struct walker *w, unsigned reg, uint32_t *orig)
{
	uint32_t sized;

	*orig = rd(w, reg);
	wr(w, reg, ALL_ONES);
	sized = rd(w, reg);
	wr(w, reg, *orig);
	return sized;
}

/* Sizes BAR i into *bar; returns how many BAR registers it took (2 for a
 * 64-bit one), and leaves bar->size 0 when the BAR is not implemented. */
static unsigned size_bar(const struct walker *w, unsigned i, unsigned nbars,
			 struct pci_host_bar *bar)
{
	uint32_t lo, hi_orig = 0, sized_lo = probe_bar_reg(w, BAR_REG(i), &lo);
	uint64_t sized, base;
	bool is64 = !(lo & PCI_BASE_ADDRESS_SPACE_IO) &&
		    (lo & PCI_BASE_ADDRESS_MEM_TYPE) == PCI_BASE_ADDRESS_MEM_64 && i + 1 < nbars;

	memset(bar, 0, sizeof(*bar));
	bar->index = (uint8_t)i;
	if (lo & PCI_BASE_ADDRESS_SPACE_IO) {
		bar->kind = PCI_BAR_IO;
		sized = sized_lo & PCI_BASE_ADDRESS_IO_MASK;
		base = lo & PCI_BASE_ADDRESS_IO_MASK;
	} else {
		uint64_t sized_hi = is64 ? probe_bar_reg(w, BAR_REG(i + 1), &hi_orig) : 0;

		bar->kind = is64 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
		bar->prefetchable = lo & PCI_BASE_ADDRESS_MEM_PREF;
		sized = sized_hi << 32 | (sized_lo & PCI_BASE_ADDRESS_MEM_MASK);
		base = (uint64_t)hi_orig << 32 | (lo & PCI_BASE_ADDRESS_MEM_MASK);
	}
	/* the lowest address bit that stays set is the size; an I/O BAR's
	 * upper 16 bits may read 0 (§6.2.5.1), which this handles too */
	bar->size = sized & -sized;
	bar->base = base;
	return is64 ? 2 : 1;
}

static void size_bars(const struct walker *w, struct pci_host_func *f, unsigned nbars)
{
	uint16_t cmd = (uint16_t)rd(w, PCI_COMMAND);
	/* A host bridge's decoding is left on: on some chipsets turning it off
	 * takes memory away from the CPU doing the sizing (Linux keeps host
	 * bridges' MMIO on for the same reason). */
	bool keep_decoding = f->class_code == (PCI_CLASS_BRIDGE_HOST >> 8) &&
			     f->subclass == (PCI_CLASS_BRIDGE_HOST & 0xff);

	if (!keep_decoding && (cmd & DECODE_ENABLES))
		write_command(w, cmd & ~DECODE_ENABLES);
	for (unsigned i = 0; i < nbars;) {
		struct pci_host_bar bar;

		i += size_bar(w, i, nbars, &bar);
		if (bar.size)
			f->bars[f->nbars++] = bar;
	}
	if (!keep_decoding && (cmd & DECODE_ENABLES))
		write_command(w, cmd);
}

/* Follows the capability list, at most CAP_LIST_BOUND entries. */
static void find_caps(const struct walker *w, struct pci_host_func *f)
{
	unsigned ptr, steps = 0;

	if (!(rd(w, PCI_COMMAND) >> 16 & PCI_STATUS_CAP_LIST))
		return;
	ptr = rd8(w, f->header_type == PCI_HEADER_TYPE_CARDBUS ? PCI_CARDBUS_CAPABILITY_LIST
							       : PCI_CAPABILITY_LIST);
	for (ptr &= PCI_CAP_PTR_MASK; ptr >= PCI_STD_HEADER_SIZEOF; steps++) {
		uint32_t head;

		if (steps == CAP_LIST_BOUND) {
			f->caps_looped = true;
			return;
		}
		head = rd(w, ptr);
		if ((head & 0xff) == PCI_CAP_ID_MSI && !f->msi_cap)
			f->msi_cap = (uint8_t)ptr;
		if ((head & 0xff) == PCI_CAP_ID_MSIX && !f->msix_cap)
			f->msix_cap = (uint8_t)ptr;
		ptr = (head >> CAP_NEXT_SHIFT) & PCI_CAP_PTR_MASK;
	}
}

static void read_function(const struct walker *w, uint32_t id, struct pci_host_func *f)
{
	uint32_t class_rev = rd(w, PCI_CLASS_REVISION);

	memset(f, 0, sizeof(*f));
	f->bus = (uint8_t)w->bus;
	f->dev = (uint8_t)w->dev;
	f->fn = (uint8_t)w->fn;
	f->vendor = (uint16_t)id;
	f->device = (uint16_t)(id >> 16);
	f->class_code = (uint8_t)(class_rev >> CLASS_SHIFT);
	f->subclass = (uint8_t)(class_rev >> SUBCLASS_SHIFT);
	f->prog_if = (uint8_t)(class_rev >> PROG_IF_SHIFT);
	f->revision = (uint8_t)class_rev;
	f->header_type = rd8(w, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
	if (f->header_type == PCI_HEADER_TYPE_NORMAL)
		size_bars(w, f, PCI_NUM_BARS_NORMAL);
	else if (f->header_type == PCI_HEADER_TYPE_BRIDGE)
		size_bars(w, f, PCI_NUM_BARS_BRIDGE);
	find_caps(w, f);
	if (f->header_type == PCI_HEADER_TYPE_BRIDGE)
		f->secondary_bus = (uint8_t)(rd(w, PCI_BRIDGE_BUS_NUMBERS) >> SEC_BUS_SHIFT);
}

/* The buses still to scan, in the order bridges lead to them. */
struct bus_queue {
	uint8_t bus[PCI_MAX_BUSES];
	unsigned head, tail;
	bool seen[PCI_MAX_BUSES];
};

static void follow_bridge(struct bus_queue *q, const struct pci_host_func *f,
			  struct pci_host_scan *scan)
{
	if (!f->secondary_bus || q->seen[f->secondary_bus]) {
		scan->bridges_skipped++;
		return;
	}
	q->seen[f->secondary_bus] = true;
	q->bus[q->tail++] = f->secondary_bus; /* each bus once: never more than 256 */
}

static void add_function(struct walker *w, uint32_t id, struct pci_host_scan *scan,
			 struct bus_queue *q)
{
	struct pci_host_func tmp = {0};
	struct pci_host_func *f = scan->n < scan->max ? &scan->funcs[scan->n] : &tmp;

	read_function(w, id, f);
	if (f == &tmp)
		scan->dropped++;
	else
		scan->n++;
	if (f->header_type == PCI_HEADER_TYPE_BRIDGE)
		follow_bridge(q, f, scan);
}

static void scan_device(struct walker *w, struct pci_host_scan *scan, struct bus_queue *q)
{
	unsigned nfn = 1;

	for (w->fn = 0; w->fn < nfn; w->fn++) {
		uint32_t id = rd(w, PCI_VENDOR_ID);

		if ((uint16_t)id == PCI_VENDOR_ID_NONE) {
			if (w->fn == 0)
				return; /* function 0 is required of every device (§6.2.1) */
			continue;
		}
		if (w->fn == 0 &&
		    (rd(w, PCI_HEADER_TYPE) >> HEADER_TYPE_BIT & PCI_HEADER_TYPE_MULTIFUNC))
			nfn = PCI_MAX_FUNCTIONS;
		add_function(w, id, scan, q);
	}
}

void pci_host_enumerate(const struct pci_cfg *cfg, struct pci_host_scan *scan)
{
	static struct bus_queue q; /* 0.5 KiB: off the boot stack */
	struct walker w = {cfg, 0, 0, 0};

	memset(&q, 0, sizeof(q));
	scan->n = scan->dropped = scan->buses = scan->bridges_skipped = 0;
	q.seen[0] = true;
	q.bus[q.tail++] = 0;
	while (q.head < q.tail) {
		w.bus = q.bus[q.head++];
		scan->buses++;
		for (w.dev = 0; w.dev < PCI_MAX_DEVICES; w.dev++)
			scan_device(&w, scan, &q);
	}
}

const char *pci_host_driver(const struct pci_host_func *f)
{
	if (f->class_code == (PCI_CLASS_STORAGE_SATA >> 8) &&
	    f->subclass == (PCI_CLASS_STORAGE_SATA & 0xff) && f->prog_if == PCI_PROG_IF_SATA_AHCI)
		return "ahci";
	if (f->vendor == PCI_VENDOR_ID_INTEL && f->device == PCI_DEVICE_ID_82574L)
		return "e1000e";
	return "none";
}

void pci_host_format_bdf(const struct pci_host_func *f, char buf[PCI_HOST_BDF_LEN])
{
	snprintf(buf, PCI_HOST_BDF_LEN, "%02x:%02x.%x", f->bus, f->dev & 0x1f, f->fn & 7);
}

void pci_host_format_class(const struct pci_host_func *f, char buf[PCI_HOST_CLASS_LEN])
{
	snprintf(buf, PCI_HOST_CLASS_LEN, "%02x:%02x:%02x", f->class_code, f->subclass, f->prog_if);
}

/* 4K, 16M, 2G when the size is a whole number of them, else bytes. */
static void format_size(uint64_t size, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	unsigned u = 0;

	while (u < 4 && size >= 1024 && !(size & 1023)) {
		size >>= 10;
		u++;
	}
	if (u)
		snprintf(buf, len, "%llu%c", (unsigned long long)size, units[u - 1]);
	else
		snprintf(buf, len, "%llu", (unsigned long long)size);
}

size_t pci_host_format_bars(const struct pci_host_func *f, char *buf, size_t len)
{
	static const char *const kinds[] = {"io", "m32", "m64"};
	size_t at = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < f->nbars; i++) {
		const struct pci_host_bar *b = &f->bars[i];
		char size[24];
		int n;

		format_size(b->size, size, sizeof(size));
		n = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0,
			     "%s%u=%s%s@%llx/%s", i ? " " : "", b->index, kinds[b->kind % 3],
			     b->prefetchable ? "p" : "", (unsigned long long)b->base, size);
		at += n > 0 ? (size_t)n : 0;
	}
	return at;
}
