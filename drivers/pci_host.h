/* The machine's own PCI functions: enumeration from bus 0 through bridges,
 * BAR sizing and the capabilities corevisor's drivers need (MSI, MSI-X).
 * Pure logic: configuration space is reached only through the caller's ops
 * (mechanism #1 or ECAM in the hypervisor, a fake bus in the unit tests). */
#ifndef DRIVERS_PCI_HOST_H
#define DRIVERS_PCI_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vio/pci_regs.h"

/* Dword-aligned access to register `reg` (0-4095) of one function. A read of
 * a function that does not exist, or outside what the mechanism reaches,
 * gives all-ones, as the hardware does (PCI 3.0 §6.1). */
struct pci_cfg_ops {
	uint32_t (*read32)(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned reg);
	void (*write32)(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
			uint32_t val);
};

struct pci_cfg {
	const struct pci_cfg_ops *ops;
	void *ctx;
};

enum pci_bar_kind { PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_host_bar {
	uint64_t base; /* as the firmware assigned it */
	uint64_t size; /* bytes the BAR decodes, a power of two */
	uint8_t index; /* BAR number; a 64-bit BAR takes index and index + 1 */
	uint8_t kind;  /* enum pci_bar_kind */
	bool prefetchable;
};

struct pci_host_func {
	uint8_t bus, dev, fn;
	uint8_t header_type; /* without the multi-function bit */
	uint16_t vendor, device;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t nbars; /* implemented BARs in bars[] */
	struct pci_host_bar bars[PCI_NUM_BARS_NORMAL];
	uint8_t msi_cap, msix_cap; /* offsets in configuration space; 0: absent */
	bool caps_looped;	   /* the capability list did not end within its bound */
	uint8_t secondary_bus;	   /* bridges: the bus behind it */
};

/* What an enumeration found. The caller provides funcs[max]. */
struct pci_host_scan {
	struct pci_host_func *funcs;
	unsigned max;
	unsigned n;
	unsigned dropped; /* functions found beyond max */
	unsigned buses;	  /* buses scanned */
	/* bridges not followed: secondary bus 0 (not configured) or a bus
	 * already scanned (a loop, or two bridges claiming one bus) */
	unsigned bridges_skipped;
};

/* Scans bus 0 and every bus behind a bridge, in bus order, and fills scan
 * (n, dropped, buses, bridges_skipped are reset first). Sizes each BAR with
 * the function's decoding off, and restores BAR and command register after.
 * Boot CPU only, while nothing else uses the devices. */
void pci_host_enumerate(const struct pci_cfg *cfg, struct pci_host_scan *scan);

/* What corevisor will do with the function: "ahci", "e1000e" or "none". */
const char *pci_host_driver(const struct pci_host_func *f);

/* "00:1f.2" (8 bytes with the NUL), "01:06:01" (9 bytes). */
#define PCI_HOST_BDF_LEN   8
#define PCI_HOST_CLASS_LEN 9
void pci_host_format_bdf(const struct pci_host_func *f, char buf[PCI_HOST_BDF_LEN]);
void pci_host_format_class(const struct pci_host_func *f, char buf[PCI_HOST_CLASS_LEN]);
/* The BARs, compact: "0=m32@febd1000/4K 5=io@c040/32" ("m64p": 64-bit
 * prefetchable), "" for none. Always NUL-terminated; the length it needed. */
size_t pci_host_format_bars(const struct pci_host_func *f, char *buf, size_t len);

#endif
