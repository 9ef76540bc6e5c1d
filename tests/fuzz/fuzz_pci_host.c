/* libFuzzer harness for the host PCI enumerator (drivers/pci_host.c) on a bus whose every
 * configuration byte comes from the input: what a broken or hostile device could present
 * (capability lists that loop, bridges whose buses loop, BARs of any shape). Beyond "no
 * crash, no hang":
 *   - the scan stops within its table and counts the rest; it scans at most 256 buses;
 *   - every BAR found has a power-of-two size and a 64-bit one an index below 5;
 *   - every BAR and command register is as it was before (sizing restores them);
 *   - the formatted strings are NUL-terminated and the BAR text's length is what the
 *     formatter says it needed.
 *
 * Input: functions one after another, each FN_BYTES: bus, device/function (dev << 3 | fn),
 * then 64 bytes of configuration header, then six 32-bit BAR masks (the bits a write can
 * change; the command register's low 16 bits are always writable, nothing else is).
 * Configuration space past the header reads as the header repeated, so capability pointers
 * land somewhere the fuzzer wrote. Seeds: a q35-like bus with a bridge and a multi-function
 * device (tests/fuzz/seeds.py). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/pci_host.h"

#define HDR	  64
#define FN_BYTES  (2 + HDR + 24)
#define MAX_FNS	  32
#define MAX_FOUND 16
#define CHECK(c)  ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fake_fn {
	uint8_t bus, devfn;
	uint32_t cfg[HDR / 4];
	uint32_t bar_mask[6];
} fns[MAX_FNS];
static unsigned nfns;

static struct fake_fn *find(unsigned bus, unsigned dev, unsigned fn)
{
	for (unsigned i = 0; i < nfns; i++)
		if (fns[i].bus == bus && fns[i].devfn == (dev << 3 | fn))
			return &fns[i];
	return NULL;
}

static uint32_t fake_read(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	struct fake_fn *f = find(bus, dev, fn);

	(void)ctx;
	CHECK(!(reg & 3) && reg < 4096);
	return f ? f->cfg[(reg % HDR) / 4] : 0xffffffffu;
}

static uint32_t writable(const struct fake_fn *f, unsigned reg)
{
	if (reg == PCI_COMMAND)
		return 0xffff;
	if (reg >= PCI_BASE_ADDRESS_0 && reg < PCI_BASE_ADDRESS_0 + 24)
		return f->bar_mask[(reg - PCI_BASE_ADDRESS_0) / 4];
	return 0;
}

static void fake_write(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
		       uint32_t val)
{
	struct fake_fn *f = find(bus, dev, fn);
	uint32_t mask;

	(void)ctx;
	CHECK(!(reg & 3) && reg < 4096);
	if (!f || reg >= HDR)
		return;
	mask = writable(f, reg);
	f->cfg[reg / 4] = (f->cfg[reg / 4] & ~mask) | (val & mask);
}

static const struct pci_cfg_ops ops = {fake_read, fake_write};

static void check_function(const struct pci_host_func *f)
{
	char bdf[PCI_HOST_BDF_LEN], cls[PCI_HOST_CLASS_LEN], bars[64];
	size_t need;

	CHECK(f->nbars <= PCI_NUM_BARS_NORMAL);
	for (unsigned i = 0; i < f->nbars; i++) {
		const struct pci_host_bar *b = &f->bars[i];

		CHECK(b->size && !(b->size & (b->size - 1)) && b->index < PCI_NUM_BARS_NORMAL);
		CHECK(b->kind != PCI_BAR_MEM64 || b->index < PCI_NUM_BARS_NORMAL - 1);
	}
	pci_host_format_bdf(f, bdf);
	pci_host_format_class(f, cls);
	CHECK(strlen(bdf) == PCI_HOST_BDF_LEN - 1 && strlen(cls) == PCI_HOST_CLASS_LEN - 1);
	need = pci_host_format_bars(f, bars, sizeof(bars));
	CHECK(strlen(bars) == (need < sizeof(bars) ? need : sizeof(bars) - 1));
	(void)pci_host_driver(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_fn before[MAX_FNS];
	struct pci_host_func found[MAX_FOUND];
	struct pci_host_scan scan = {found, MAX_FOUND, 0, 0, 0, 0};
	struct pci_cfg cfg = {&ops, NULL};

	for (nfns = 0; nfns < MAX_FNS && size >= FN_BYTES; nfns++, data += FN_BYTES) {
		fns[nfns].bus = data[0];
		fns[nfns].devfn = data[1];
		memcpy(fns[nfns].cfg, data + 2, HDR);
		memcpy(fns[nfns].bar_mask, data + 2 + HDR, 24);
		size -= FN_BYTES;
	}
	memcpy(before, fns, sizeof(fns));
	pci_host_enumerate(&cfg, &scan);
	CHECK(scan.n <= MAX_FOUND && scan.buses >= 1 && scan.buses <= PCI_MAX_BUSES);
	CHECK(scan.n + scan.dropped <= (unsigned)PCI_MAX_BUSES * 256);
	for (unsigned i = 0; i < scan.n; i++)
		check_function(&found[i]);
	for (unsigned i = 0; i < nfns; i++) /* BARs and command register restored */
		CHECK(!memcmp(fns[i].cfg, before[i].cfg, sizeof(fns[i].cfg)));
	return 0;
}
