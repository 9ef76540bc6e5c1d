/* A VM's virtual PCI bus (issue: "a virtual PCI bus per VM"): a host bridge
 * at 00:00.0 and up to VPCI_MAX_DEVICES functions (device n, function 0),
 * configuration space through ports 0xCF8/0xCFC and an ECAM window, memory
 * BARs placed in the 32-bit MMIO hole the way firmware would place them, a
 * capability list, and MSI-X (table and PBA in a BAR, function and vector
 * masks, pending bits). Pure logic: the kernel registers the port and MMIO
 * ranges and delivers the MSI messages this code returns. The caller
 * serializes calls per function. */
#ifndef VIO_PCI_H
#define VIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "vio/pci_regs.h"

#define VPCI_CFG_SIZE	 256 /* conventional space; ECAM's extended part reads 0 */
#define VPCI_MAX_BARS	 6
#define VPCI_MAX_DEVICES 31 /* device numbers 1..31 on bus 0 */
#define VPCI_MSIX_MAX	 32

struct msi_msg {
	uint64_t address;
	uint32_t data;
};

struct vpci_msix {
	uint16_t nvec; /* 0: no MSI-X capability */
	uint8_t cap;   /* its offset in configuration space */
	uint8_t bar;
	uint32_t table_off, pba_off; /* inside that BAR */
	struct {
		uint32_t addr_lo, addr_hi, data, ctrl;
	} entry[VPCI_MSIX_MAX];
	uint32_t pending; /* one bit per vector: PBA */
};

struct vpci_fn {
	uint8_t cfg[VPCI_CFG_SIZE];	  /* what the guest reads */
	uint8_t wmask[VPCI_CFG_SIZE];	  /* bits the guest may change */
	uint32_t bar_size[VPCI_MAX_BARS]; /* 0: no BAR there; else a power of two >= 4 KiB */
	uint8_t cap_end;		  /* where the next capability goes */
	struct vpci_msix msix;
};

/* A function with its IDs and class (class << 8 | prog-if in `class_code`,
 * e.g. 0x010000), header type 0, no BARs or capabilities yet. */
void vpci_fn_init(struct vpci_fn *f, uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint16_t subsys_vendor, uint16_t subsys);
/* A 32-bit non-prefetchable memory BAR of `size` bytes (a power of two,
 * at least 4 KiB); 0, or -1. */
int vpci_fn_add_bar(struct vpci_fn *f, unsigned bar, uint32_t size);
/* Appends a capability (`len` bytes from `body`, whose first two bytes, id
 * and next, are filled in here) to the list; returns its offset, or 0 when
 * configuration space is full. */
uint8_t vpci_fn_add_cap(struct vpci_fn *f, const uint8_t *body, unsigned len);
/* The MSI-X capability with `nvec` vectors, table and PBA in `bar` at the
 * given offsets; every vector starts masked. 0, or -1. */
int vpci_fn_add_msix(struct vpci_fn *f, unsigned nvec, unsigned bar, uint32_t table_off,
		     uint32_t pba_off);

/* Configuration space reads and writes of 1, 2 or 4 bytes at `off` (aligned
 * to their size): read-only bits keep their value, BARs read back their
 * size mask after all-ones is written (sizing), out-of-range offsets read 0.
 * A write may unmask MSI-X vectors with pending messages: the caller then
 * calls vpci_msix_take_pending. */
uint32_t vpci_cfg_read(const struct vpci_fn *f, unsigned off, unsigned size);
void vpci_cfg_write(struct vpci_fn *f, unsigned off, unsigned size, uint32_t value);

/* Where BAR `bar` is decoded now: 0 when memory decoding is off or the BAR
 * holds no address. */
uint64_t vpci_bar_addr(const struct vpci_fn *f, unsigned bar);

/* The MSI-X table and PBA, at an offset inside the BAR that holds them (the
 * caller routes accesses from [table_off, table_off + 16 nvec) and the PBA's
 * range here); the PBA is read-only. */
bool vpci_msix_covers(const struct vpci_fn *f, unsigned bar, uint32_t off);
uint32_t vpci_msix_read(const struct vpci_fn *f, uint32_t off, unsigned size);
void vpci_msix_write(struct vpci_fn *f, uint32_t off, unsigned size, uint32_t value);

/* The device wants to signal vector `vec`: true with *msg filled when the
 * message goes out now; false when it cannot (MSI-X off, vector out of
 * range: dropped) or may not (function or vector masked: its pending bit is
 * set, and it goes out when unmasked). */
bool vpci_msix_signal(struct vpci_fn *f, unsigned vec, struct msi_msg *msg);
/* A pending vector that is now unmasked: true with *msg filled and its
 * pending bit cleared; call until false after each table or control write. */
bool vpci_msix_take_pending(struct vpci_fn *f, struct msi_msg *msg);

/* The bus: the host bridge plus functions, configuration mechanism #1 and
 * ECAM (bus 0 only: other buses read all-ones, as if empty). */
struct vpci_bus {
	struct vpci_fn host_bridge;
	struct vpci_fn *dev[VPCI_MAX_DEVICES + 1]; /* [0] is the host bridge */
	uint32_t config_address;		   /* the last value written to 0xCF8 */
	uint64_t hole_base, hole_size, hole_next;  /* the MMIO hole and its first free byte */
};

void vpci_bus_init(struct vpci_bus *b, uint64_t hole_base, uint64_t hole_size);
/* Adds a function at the next device number and places its BARs in the
 * hole, each aligned to its size (as firmware does; the guest may move them);
 * returns the device number, or -1 when the bus or the hole is full. */
int vpci_bus_add(struct vpci_bus *b, struct vpci_fn *f);
/* Ports 0xCF8-0xCFF: the address register (32-bit) and the data window
 * (any byte of 0xCFC-0xCFF). Accesses to absent functions read all-ones. */
uint32_t vpci_bus_pio_read(struct vpci_bus *b, uint16_t port, unsigned size);
void vpci_bus_pio_write(struct vpci_bus *b, uint16_t port, unsigned size, uint32_t value);
/* The ECAM window: `off` is relative to its base. */
uint32_t vpci_bus_ecam_read(struct vpci_bus *b, uint64_t off, unsigned size);
void vpci_bus_ecam_write(struct vpci_bus *b, uint64_t off, unsigned size, uint32_t value);
/* Which function decodes guest-physical `gpa` in one of its memory BARs:
 * its device number with *bar and *off set, or -1. */
int vpci_bus_find_bar(const struct vpci_bus *b, uint64_t gpa, unsigned *bar, uint64_t *off);

#endif
