/* A VM's virtual PCI bus (vio/pci.h). Configuration space is kept as the
 * bytes the guest reads plus a mask of the bits it may change (PCI Local Bus
 * 3.0 §6.1), so BAR sizing (§6.2.5.1), the command register and the MSI-X
 * control bits all follow from one masked write. MSI-X follows PCI 3.0
 * §6.8.2; configuration mechanism #1 §3.2.2.3.2; ECAM PCI Express Base
 * §7.2.2. Every value the guest supplies is range-checked here. */
#include <stddef.h>
#include <string.h>

#include "vio/pci.h"

#define CAP_START  0x40 /* §6.7: capabilities follow the 64-byte header */
#define BAR_REG(n) (PCI_BASE_ADDRESS_0 + 4 * (n))
#define BAR_FLAGS  0xfu /* §6.2.5.1: memory space, 32-bit, non-prefetchable: all 0 */
/* §6.8.2.7: the PBA is an array of QWORDs, one bit per vector */
#define MSIX_PBA_BYTES(nvec)   (8 * (((uint32_t)(nvec) + 63) / 64))
#define MSIX_TABLE_BYTES(nvec) (PCI_MSIX_ENTRY_SIZE * (uint32_t)(nvec))
#define FOUR_GIB	       (1ull << 32)

/* What an absent function or an invalid access reads: all-ones of its size. */
static uint32_t all_ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static bool access_ok(uint64_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off % size == 0;
}

static bool in_range(uint64_t off, uint64_t base, uint64_t len)
{
	return off >= base && off - base < len;
}

static uint32_t get_le(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void vpci_fn_init(struct vpci_fn *f, uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint16_t subsys_vendor, uint16_t subsys)
{
	memset(f, 0, sizeof(*f));
	put_le(f->cfg + PCI_VENDOR_ID, 2, vendor);
	put_le(f->cfg + PCI_DEVICE_ID, 2, device);
	/* prog-if, subclass, class: three bytes from 0x09 (§6.2.1) */
	put_le(f->cfg + PCI_CLASS_PROG, 3, class_code);
	put_le(f->cfg + PCI_SUBSYSTEM_VENDOR_ID, 2, subsys_vendor);
	put_le(f->cfg + PCI_SUBSYSTEM_ID, 2, subsys);
	/* Header type 0, revision 0, interrupt pin 0: no INTx, MSI-X only.
	 * §6.2.2: of the command register only what a virtual function
	 * implements is writable. */
	put_le(f->wmask + PCI_COMMAND, 2,
	       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;
	f->cap_end = CAP_START;
}

int vpci_fn_add_bar(struct vpci_fn *f, unsigned bar, uint32_t size)
{
	if (bar >= VPCI_MAX_BARS || f->bar_size[bar] || size < 4096 || (size & (size - 1)))
		return -1;
	f->bar_size[bar] = size;
	/* §6.2.5.1: the address bits below the size are hardwired to 0, so
	 * writing all-ones reads back the size mask */
	put_le(f->wmask + BAR_REG(bar), 4, ~(size - 1) & ~BAR_FLAGS);
	put_le(f->cfg + BAR_REG(bar), 4, 0);
	return 0;
}

/* Points the last capability of the list (or the list head) at `off`. */
static void link_cap(struct vpci_fn *f, uint8_t off)
{
	uint8_t *next = &f->cfg[PCI_CAPABILITY_LIST];

	/* the list is built here only (its links are read-only): bounded */
	for (unsigned i = 0; *next && i < VPCI_CFG_SIZE / 4; i++)
		next = &f->cfg[*next + 1];
	*next = off;
	f->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
}

uint8_t vpci_fn_add_cap(struct vpci_fn *f, const uint8_t *body, unsigned len)
{
	unsigned off = f->cap_end; /* 0 once a capability ended at 256 */

	if (len < 2 || off < CAP_START || len > VPCI_CFG_SIZE - off)
		return 0;
	memcpy(f->cfg + off, body, len);
	f->cfg[off + 1] = 0;
	link_cap(f, (uint8_t)off);
	/* §6.7: each capability starts DWORD-aligned */
	f->cap_end = (uint8_t)((off + len + 3) & ~3u);
	return (uint8_t)off;
}

/* §6.8.2.4-5: table and PBA QWORD-aligned (the low 3 bits hold the BIR),
 * inside the BAR, and not overlapping. */
static bool msix_layout_ok(const struct vpci_fn *f, unsigned nvec, unsigned bar, uint32_t table_off,
			   uint32_t pba_off)
{
	uint32_t tlen = MSIX_TABLE_BYTES(nvec), plen = MSIX_PBA_BYTES(nvec);
	uint32_t size;

	if (f->msix.nvec || nvec == 0 || nvec > VPCI_MSIX_MAX || bar >= VPCI_MAX_BARS)
		return false;
	size = f->bar_size[bar];
	if (table_off % 8 || pba_off % 8 || tlen > size || plen > size)
		return false;
	if (table_off > size - tlen || pba_off > size - plen)
		return false;
	return table_off >= pba_off + plen || pba_off >= table_off + tlen;
}

int vpci_fn_add_msix(struct vpci_fn *f, unsigned nvec, unsigned bar, uint32_t table_off,
		     uint32_t pba_off)
{
	uint8_t body[PCI_MSIX_CAP_SIZE] = {PCI_CAP_ID_MSIX};
	uint8_t cap;

	if (!msix_layout_ok(f, nvec, bar, table_off, pba_off))
		return -1;
	/* §6.8.2.3: table size is N - 1; the BIR in the offsets' low bits */
	put_le(body + PCI_MSIX_FLAGS, 2, nvec - 1);
	put_le(body + PCI_MSIX_TABLE, 4, table_off | bar);
	put_le(body + PCI_MSIX_PBA, 4, pba_off | bar);
	cap = vpci_fn_add_cap(f, body, sizeof(body));
	if (!cap)
		return -1;
	/* only Enable and Function Mask are writable in Message Control */
	f->wmask[cap + PCI_MSIX_FLAGS + 1] = (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
	f->msix.nvec = (uint16_t)nvec;
	f->msix.cap = cap;
	f->msix.bar = (uint8_t)bar;
	f->msix.table_off = table_off;
	f->msix.pba_off = pba_off;
	/* §6.8.2.9: every vector's mask bit is set after reset */
	for (unsigned i = 0; i < nvec; i++)
		f->msix.entry[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	return 0;
}

uint32_t vpci_cfg_read(const struct vpci_fn *f, unsigned off, unsigned size)
{
	if (!access_ok(off, size) || off >= VPCI_CFG_SIZE)
		return 0;
	return get_le(f->cfg + off, size);
}

void vpci_cfg_write(struct vpci_fn *f, unsigned off, unsigned size, uint32_t value)
{
	if (!access_ok(off, size) || off >= VPCI_CFG_SIZE)
		return;
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = f->wmask[off + i], v = (uint8_t)(value >> (8 * i));

		f->cfg[off + i] = (uint8_t)((f->cfg[off + i] & ~m) | (v & m));
	}
}

uint64_t vpci_bar_addr(const struct vpci_fn *f, unsigned bar)
{
	if (bar >= VPCI_MAX_BARS || !f->bar_size[bar])
		return 0;
	if (!(get_le(f->cfg + PCI_COMMAND, 2) & PCI_COMMAND_MEMORY))
		return 0;
	return get_le(f->cfg + BAR_REG(bar), 4) & ~(f->bar_size[bar] - 1);
}

/* --- MSI-X (§6.8.2) */

static uint16_t msix_control(const struct vpci_fn *f)
{
	return (uint16_t)get_le(f->cfg + f->msix.cap + PCI_MSIX_FLAGS, 2);
}

static bool msix_enabled(const struct vpci_fn *f)
{
	return f->msix.nvec && (msix_control(f) & PCI_MSIX_FLAGS_ENABLE);
}

static bool vector_masked(const struct vpci_fn *f, unsigned vec)
{
	return (msix_control(f) & PCI_MSIX_FLAGS_MASKALL) ||
	       (f->msix.entry[vec].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static void msix_message(const struct vpci_fn *f, unsigned vec, struct msi_msg *msg)
{
	msg->address = (uint64_t)f->msix.entry[vec].addr_hi << 32 | f->msix.entry[vec].addr_lo;
	msg->data = f->msix.entry[vec].data;
}

bool vpci_msix_covers(const struct vpci_fn *f, unsigned bar, uint32_t off)
{
	const struct vpci_msix *m = &f->msix;

	return m->nvec && bar == m->bar &&
	       (in_range(off, m->table_off, MSIX_TABLE_BYTES(m->nvec)) ||
		in_range(off, m->pba_off, MSIX_PBA_BYTES(m->nvec)));
}

/* The DWORD at `off` (DWORD-aligned) of the table or PBA. */
static uint32_t msix_dword(const struct vpci_fn *f, uint32_t off)
{
	const struct vpci_msix *m = &f->msix;
	uint32_t rel = off - m->table_off;

	if (in_range(off, m->pba_off, MSIX_PBA_BYTES(m->nvec)))
		return off == m->pba_off ? m->pending : 0; /* at most 32 vectors */
	if (!in_range(off, m->table_off, MSIX_TABLE_BYTES(m->nvec)))
		return 0;
	switch (rel % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		return m->entry[rel / PCI_MSIX_ENTRY_SIZE].addr_lo;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		return m->entry[rel / PCI_MSIX_ENTRY_SIZE].addr_hi;
	case PCI_MSIX_ENTRY_DATA:
		return m->entry[rel / PCI_MSIX_ENTRY_SIZE].data;
	default:
		return m->entry[rel / PCI_MSIX_ENTRY_SIZE].ctrl;
	}
}

/* §6.8.2: software uses aligned DWORD or QWORD accesses; a QWORD one reaches
 * here as its two DWORD halves (values are 32-bit), lower address first.
 * Reads of an aligned byte or word are answered too; other accesses read 0
 * and writes of them are dropped. */
uint32_t vpci_msix_read(const struct vpci_fn *f, uint32_t off, unsigned size)
{
	uint32_t dword;

	if (!access_ok(off, size) || !f->msix.nvec)
		return 0;
	dword = msix_dword(f, off & ~3u);
	return size == 4 ? dword : (dword >> (8 * (off & 3))) & all_ones(size);
}

void vpci_msix_write(struct vpci_fn *f, uint32_t off, unsigned size, uint32_t value)
{
	struct vpci_msix *m = &f->msix;
	uint32_t rel = off - m->table_off;
	unsigned vec = rel / PCI_MSIX_ENTRY_SIZE;

	/* the PBA is read-only (§6.8.2.10) */
	if (size != 4 || off % 4 || !in_range(off, m->table_off, MSIX_TABLE_BYTES(m->nvec)))
		return;
	switch (rel % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		m->entry[vec].addr_lo = value & ~3u; /* DWORD-aligned (§6.8.2.6) */
		break;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		m->entry[vec].addr_hi = value;
		break;
	case PCI_MSIX_ENTRY_DATA:
		m->entry[vec].data = value;
		break;
	default: /* vector control: only the mask bit is defined (§6.8.2.9) */
		m->entry[vec].ctrl = value & PCI_MSIX_ENTRY_CTRL_MASKBIT;
		break;
	}
}

bool vpci_msix_signal(struct vpci_fn *f, unsigned vec, struct msi_msg *msg)
{
	if (!msix_enabled(f) || vec >= f->msix.nvec)
		return false;
	if (vector_masked(f, vec)) {
		/* §6.8.2.10: a masked vector's message waits as a pending bit */
		f->msix.pending |= 1u << vec;
		return false;
	}
	f->msix.pending &= ~(1u << vec);
	msix_message(f, vec, msg);
	return true;
}

bool vpci_msix_take_pending(struct vpci_fn *f, struct msi_msg *msg)
{
	if (!msix_enabled(f))
		return false;
	for (unsigned vec = 0; vec < f->msix.nvec; vec++) {
		if (!(f->msix.pending & (1u << vec)) || vector_masked(f, vec))
			continue;
		f->msix.pending &= ~(1u << vec);
		msix_message(f, vec, msg);
		return true;
	}
	return false;
}

/* --- the bus */

void vpci_bus_init(struct vpci_bus *b, uint64_t hole_base, uint64_t hole_size)
{
	memset(b, 0, sizeof(*b));
	vpci_fn_init(&b->host_bridge, PCI_VENDOR_ID_INTEL, PCI_DEVICE_ID_Q35_HOST,
		     (uint32_t)PCI_CLASS_BRIDGE_HOST << 8, 0, 0);
	b->dev[0] = &b->host_bridge;
	b->hole_base = hole_base;
	b->hole_size = hole_size;
	b->hole_next = hole_base;
}

/* Addresses for `f`'s BARs from the hole's first free byte on, each aligned
 * to its size and below 4 GiB (32-bit BARs); false when they do not fit. */
static bool place_bars(const struct vpci_bus *b, const struct vpci_fn *f, uint32_t *addr,
		       uint64_t *next)
{
	uint64_t at = b->hole_next, end = b->hole_base + b->hole_size;

	if (end < b->hole_base || end > FOUR_GIB)
		end = FOUR_GIB;
	for (unsigned i = 0; i < VPCI_MAX_BARS; i++) {
		uint64_t size = f->bar_size[i];

		if (!size)
			continue;
		at = (at + size - 1) & ~(size - 1);
		if (at > end || size > end - at)
			return false;
		addr[i] = (uint32_t)at;
		at += size;
	}
	*next = at;
	return true;
}

int vpci_bus_add(struct vpci_bus *b, struct vpci_fn *f)
{
	uint32_t addr[VPCI_MAX_BARS] = {0};
	uint64_t next;
	int n = 1;

	while (n <= VPCI_MAX_DEVICES && b->dev[n])
		n++;
	if (n > VPCI_MAX_DEVICES || !place_bars(b, f, addr, &next))
		return -1;
	/* as firmware: addresses assigned, decoding left for the guest to enable */
	for (unsigned i = 0; i < VPCI_MAX_BARS; i++)
		if (f->bar_size[i])
			put_le(f->cfg + BAR_REG(i), 4, addr[i]);
	b->hole_next = next;
	b->dev[n] = f;
	return n;
}

/* The function at bus/device/function, or NULL: bus 0 only, function 0 only
 * (every function is single-function, header type bit 7 clear). */
static struct vpci_fn *bus_fn(const struct vpci_bus *b, unsigned bus, unsigned dev, unsigned fn)
{
	if (bus != 0 || fn != 0 || dev > VPCI_MAX_DEVICES)
		return NULL;
	return b->dev[dev];
}

static uint32_t fn_read(const struct vpci_fn *f, uint64_t reg, unsigned size)
{
	if (!f || !access_ok(reg, size))
		return all_ones(size);
	if (reg >= VPCI_CFG_SIZE) /* extended space: nothing there */
		return 0;
	return vpci_cfg_read(f, (unsigned)reg, size);
}

static void fn_write(struct vpci_fn *f, uint64_t reg, unsigned size, uint32_t value)
{
	if (f && access_ok(reg, size) && reg < VPCI_CFG_SIZE)
		vpci_cfg_write(f, (unsigned)reg, size, value);
}

/* §3.2.2.3.2: CONFIG_ADDRESS is enable (31), bus (23:16), device (15:11),
 * function (10:8), register (7:2); data-port byte `byte` adds to the
 * register. NULL when disabled or absent. */
static struct vpci_fn *cf8_target(const struct vpci_bus *b, unsigned byte, unsigned *reg)
{
	uint32_t a = b->config_address;

	if (!(a & PCI_CONFIG_ENABLE))
		return NULL;
	*reg = (a & 0xfc) + byte;
	return bus_fn(b, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 7);
}

/* Whether `size` bytes at data port `port` stay inside 0xCFC-0xCFF. */
static bool data_port(uint16_t port, unsigned size)
{
	return port >= PCI_CONFIG_DATA && port <= PCI_CONFIG_DATA + 3 &&
	       size <= 4u - (port - PCI_CONFIG_DATA);
}

uint32_t vpci_bus_pio_read(struct vpci_bus *b, uint16_t port, unsigned size)
{
	unsigned reg = 0;
	const struct vpci_fn *f;

	if (port == PCI_CONFIG_ADDRESS && size == 4)
		return b->config_address;
	if (!data_port(port, size))
		return all_ones(size);
	f = cf8_target(b, port - PCI_CONFIG_DATA, &reg);
	return fn_read(f, reg, size);
}

void vpci_bus_pio_write(struct vpci_bus *b, uint16_t port, unsigned size, uint32_t value)
{
	unsigned reg = 0;
	struct vpci_fn *f;

	/* only a DWORD access latches the address (§3.2.2.3.2) */
	if (port == PCI_CONFIG_ADDRESS && size == 4) {
		b->config_address = value;
		return;
	}
	if (!data_port(port, size))
		return;
	f = cf8_target(b, port - PCI_CONFIG_DATA, &reg);
	fn_write(f, reg, size, value);
}

/* PCIe §7.2.2: bus (27:20), device (19:15), function (14:12), register. */
static struct vpci_fn *ecam_target(const struct vpci_bus *b, uint64_t off)
{
	if (off >> 28)
		return NULL;
	return bus_fn(b, (off >> PCI_ECAM_BUS_SHIFT) & 0xff, (off >> PCI_ECAM_DEV_SHIFT) & 0x1f,
		      (off >> PCI_ECAM_FN_SHIFT) & 7);
}

uint32_t vpci_bus_ecam_read(struct vpci_bus *b, uint64_t off, unsigned size)
{
	return fn_read(ecam_target(b, off), off & 0xfff, size);
}

void vpci_bus_ecam_write(struct vpci_bus *b, uint64_t off, unsigned size, uint32_t value)
{
	fn_write(ecam_target(b, off), off & 0xfff, size, value);
}

int vpci_bus_find_bar(const struct vpci_bus *b, uint64_t gpa, unsigned *bar, uint64_t *off)
{
	for (unsigned d = 0; d <= VPCI_MAX_DEVICES; d++) {
		const struct vpci_fn *f = b->dev[d];

		for (unsigned i = 0; f && i < VPCI_MAX_BARS; i++) {
			uint64_t base = vpci_bar_addr(f, i);

			if (!base || !in_range(gpa, base, f->bar_size[i]))
				continue;
			*bar = i;
			*off = gpa - base;
			return (int)d;
		}
	}
	return -1;
}
