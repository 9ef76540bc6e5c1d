/* The virtual PCI bus (vio/pci.c) as firmware and a driver see it: the
 * configuration header, BAR sizing and placement, the capability list,
 * configuration mechanism #1 and ECAM, BAR decoding, and MSI-X masking and
 * pending bits (PCI Local Bus 3.0 §3.2.2.3.2, §6). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vio/pci.h"

#define HOLE_BASE     0xc0001000u /* deliberately unaligned */
#define HOLE_SIZE     0x100000u
#define CF8(dev, reg) (PCI_CONFIG_ENABLE | (uint32_t)(dev) << 11 | (0xfcu & (uint32_t)(reg)))
#define ECAM(bus, dev, fn, reg)                                                                    \
	((uint64_t)(bus) << PCI_ECAM_BUS_SHIFT | (uint64_t)(dev) << PCI_ECAM_DEV_SHIFT |           \
	 (uint64_t)(fn) << PCI_ECAM_FN_SHIFT | (reg))
#define TABLE		0x4000u
#define PBA		0x5000u
#define ENTRY(v, field) (TABLE + 16 * (v) + (field))

static void storage_fn(struct vpci_fn *f)
{
	vpci_fn_init(f, 0x1234, 0x5678, 0x010000, 0xaaaa, 0xbbbb);
}

/* A function with BAR 0 of 32 KiB holding a 4-vector MSI-X table and PBA. */
static void msix_fn(struct vpci_fn *f)
{
	storage_fn(f);
	assert_int_equal(vpci_fn_add_bar(f, 0, 0x8000), 0);
	assert_int_equal(vpci_fn_add_msix(f, 4, 0, TABLE, PBA), 0);
}

static uint32_t cf8_read(struct vpci_bus *b, uint32_t address, unsigned byte, unsigned size)
{
	vpci_bus_pio_write(b, PCI_CONFIG_ADDRESS, 4, address);
	return vpci_bus_pio_read(b, PCI_CONFIG_DATA + byte, size);
}

static void cf8_write(struct vpci_bus *b, uint32_t address, unsigned byte, unsigned size,
		      uint32_t value)
{
	vpci_bus_pio_write(b, PCI_CONFIG_ADDRESS, 4, address);
	vpci_bus_pio_write(b, PCI_CONFIG_DATA + byte, size, value);
}

static void test_config_header(void **state)
{
	struct vpci_fn f;

	(void)state;
	storage_fn(&f);
	assert_int_equal(vpci_cfg_read(&f, PCI_VENDOR_ID, 4), 0x56781234);
	assert_int_equal(vpci_cfg_read(&f, PCI_REVISION_ID, 4), 0x01000000);
	assert_int_equal(vpci_cfg_read(&f, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(vpci_cfg_read(&f, PCI_SUBSYSTEM_VENDOR_ID, 4), 0xbbbbaaaa);
	assert_int_equal(vpci_cfg_read(&f, PCI_INTERRUPT_PIN, 1), 0);
	assert_int_equal(vpci_cfg_read(&f, PCI_STATUS, 2), 0);
	assert_int_equal(vpci_cfg_read(&f, PCI_CAPABILITY_LIST, 1), 0);
	/* only memory, bus master and INTx disable are writable */
	vpci_cfg_write(&f, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(vpci_cfg_read(&f, PCI_COMMAND, 2),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	vpci_cfg_write(&f, PCI_INTERRUPT_LINE, 1, 0x0b);
	assert_int_equal(vpci_cfg_read(&f, PCI_INTERRUPT_LINE, 1), 0x0b);
	/* IDs are read-only; out-of-range and misaligned accesses do nothing */
	vpci_cfg_write(&f, PCI_VENDOR_ID, 4, 0);
	assert_int_equal(vpci_cfg_read(&f, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(vpci_cfg_read(&f, 256, 4), 0);
	assert_int_equal(vpci_cfg_read(&f, 2, 4), 0);
	assert_int_equal(vpci_cfg_read(&f, 0, 3), 0);
}

static void test_bar_sizing(void **state)
{
	struct vpci_fn f;

	(void)state;
	storage_fn(&f);
	assert_int_equal(vpci_fn_add_bar(&f, 0, 0x8000), 0);
	assert_int_equal(vpci_fn_add_bar(&f, 2, 0x1000), 0);
	assert_int_equal(vpci_fn_add_bar(&f, 0, 0x1000), -1); /* taken */
	assert_int_equal(vpci_fn_add_bar(&f, 3, 0x800), -1);  /* below 4 KiB */
	assert_int_equal(vpci_fn_add_bar(&f, 3, 0x3000), -1); /* not a power of two */
	assert_int_equal(vpci_fn_add_bar(&f, 6, 0x1000), -1);
	for (unsigned i = 0; i < VPCI_MAX_BARS; i++)
		vpci_cfg_write(&f, PCI_BASE_ADDRESS_0 + 4 * i, 4, 0xffffffff);
	assert_int_equal(vpci_cfg_read(&f, PCI_BASE_ADDRESS_0, 4), 0xffff8000);
	assert_int_equal(vpci_cfg_read(&f, PCI_BASE_ADDRESS_0 + 4, 4), 0);
	assert_int_equal(vpci_cfg_read(&f, PCI_BASE_ADDRESS_0 + 8, 4), 0xfffff000);
	assert_int_equal(vpci_cfg_read(&f, PCI_BASE_ADDRESS_0 + 20, 4), 0);
	/* a guest address keeps only the bits above the size */
	vpci_cfg_write(&f, PCI_BASE_ADDRESS_0, 4, 0xe0004567);
	assert_int_equal(vpci_cfg_read(&f, PCI_BASE_ADDRESS_0, 4), 0xe0000000);
	assert_int_equal(vpci_bar_addr(&f, 0), 0); /* memory decoding off */
	vpci_cfg_write(&f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(vpci_bar_addr(&f, 0), 0xe0000000);
	assert_int_equal(vpci_bar_addr(&f, 1), 0);
	assert_int_equal(vpci_bar_addr(&f, 6), 0);
}

static void test_bar_placement(void **state)
{
	struct vpci_bus b;
	struct vpci_fn f1, f2;

	(void)state;
	vpci_bus_init(&b, HOLE_BASE, HOLE_SIZE);
	storage_fn(&f1);
	assert_int_equal(vpci_fn_add_bar(&f1, 0, 0x8000), 0);
	assert_int_equal(vpci_fn_add_bar(&f1, 1, 0x1000), 0);
	storage_fn(&f2);
	assert_int_equal(vpci_fn_add_bar(&f2, 0, 0x4000), 0);
	assert_int_equal(vpci_bus_add(&b, &f1), 1);
	assert_int_equal(vpci_bus_add(&b, &f2), 2);
	assert_int_equal(vpci_cfg_read(&f1, PCI_BASE_ADDRESS_0, 4), 0xc0008000);
	assert_int_equal(vpci_cfg_read(&f1, PCI_BASE_ADDRESS_0 + 4, 4), 0xc0010000);
	assert_int_equal(vpci_cfg_read(&f2, PCI_BASE_ADDRESS_0, 4), 0xc0014000);
	assert_int_equal(b.hole_next, 0xc0018000);
	/* the guest enables decoding, as after firmware */
	assert_int_equal(vpci_cfg_read(&f1, PCI_COMMAND, 2), 0);
}

static void test_hole_and_bus_full(void **state)
{
	struct vpci_bus b;
	struct vpci_fn big[3], none[VPCI_MAX_DEVICES + 1];

	(void)state;
	vpci_bus_init(&b, 0xe0000000, 0x10000);
	for (unsigned i = 0; i < 3; i++) {
		storage_fn(&big[i]);
		assert_int_equal(vpci_fn_add_bar(&big[i], 0, 0x8000), 0);
	}
	assert_int_equal(vpci_bus_add(&b, &big[0]), 1);
	assert_int_equal(vpci_bus_add(&b, &big[1]), 2);
	assert_int_equal(vpci_bus_add(&b, &big[2]), -1);
	assert_null(b.dev[3]);
	assert_int_equal(b.hole_next, 0xe0010000);
	assert_int_equal(vpci_cfg_read(&big[2], PCI_BASE_ADDRESS_0, 4), 0);
	/* device numbers run out at 31 */
	for (unsigned i = 0; i <= VPCI_MAX_DEVICES; i++) {
		storage_fn(&none[i]);
		assert_int_equal(vpci_bus_add(&b, &none[i]),
				 i < VPCI_MAX_DEVICES - 2 ? (int)i + 3 : -1);
	}
}

static void test_cap_list_walk(void **state)
{
	static const uint8_t body[VPCI_CFG_SIZE] = {PCI_CAP_ID_VNDR, 0xee, 5, 1, 2, 3, 4, 5};
	uint8_t ids[] = {PCI_CAP_ID_VNDR, 0x05, PCI_CAP_ID_VNDR};
	unsigned lens[] = {5, 16, 12}, expect[] = {0x40, 0x48, 0x58};
	struct vpci_fn f;
	unsigned off, n = 0;
	uint8_t b[16];

	(void)state;
	storage_fn(&f);
	for (unsigned i = 0; i < 3; i++) {
		memcpy(b, body, sizeof(b));
		b[0] = ids[i];
		assert_int_equal(vpci_fn_add_cap(&f, b, lens[i]), expect[i]);
	}
	assert_true(vpci_cfg_read(&f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (off = vpci_cfg_read(&f, PCI_CAPABILITY_LIST, 1); off; n++) {
		assert_int_equal(off, expect[n]);
		assert_int_equal(vpci_cfg_read(&f, off, 1), ids[n]);
		assert_int_equal(vpci_cfg_read(&f, off + 2, 1), 5); /* body copied */
		off = vpci_cfg_read(&f, off + 1, 1);
	}
	assert_int_equal(n, 3);
	/* the list is read-only */
	vpci_cfg_write(&f, PCI_CAPABILITY_LIST, 1, 0x80);
	vpci_cfg_write(&f, 0x40, 4, 0xffffffff);
	assert_int_equal(vpci_cfg_read(&f, PCI_CAPABILITY_LIST, 1), 0x40);
	assert_int_equal(vpci_cfg_read(&f, 0x41, 1), 0x48);
	/* fill to exactly 256 bytes, then nothing fits */
	assert_int_equal(vpci_fn_add_cap(&f, body, 1), 0);
	assert_int_equal(vpci_fn_add_cap(&f, body, 256 - 0x64 + 1), 0);
	assert_int_equal(vpci_fn_add_cap(&f, body, 256 - 0x64), 0x64);
	assert_int_equal(vpci_fn_add_cap(&f, body, 2), 0);
}

static void test_cf8_host_bridge_and_function(void **state)
{
	struct vpci_bus b;
	struct vpci_fn f;

	(void)state;
	vpci_bus_init(&b, HOLE_BASE, HOLE_SIZE);
	storage_fn(&f);
	assert_int_equal(vpci_bus_add(&b, &f), 1);
	assert_int_equal(cf8_read(&b, CF8(0, 0), 0, 4), 0x29c08086);
	assert_int_equal(cf8_read(&b, CF8(0, PCI_REVISION_ID), 0, 4), 0x06000000);
	assert_int_equal(cf8_read(&b, CF8(0, PCI_HEADER_TYPE), 2, 1), 0);
	assert_int_equal(vpci_bus_pio_read(&b, PCI_CONFIG_ADDRESS, 4), CF8(0, PCI_HEADER_TYPE));
	assert_int_equal(cf8_read(&b, CF8(1, 0), 0, 4), 0x56781234);
	assert_int_equal(cf8_read(&b, CF8(1, PCI_REVISION_ID), 0, 4), 0x01000000);
	/* the enable bit, bus 0 and function 0 are required */
	assert_int_equal(cf8_read(&b, CF8(1, 0) & ~PCI_CONFIG_ENABLE, 0, 4), 0xffffffff);
	assert_int_equal(cf8_read(&b, CF8(1, 0) | 1u << 16, 0, 4), 0xffffffff);
	assert_int_equal(cf8_read(&b, CF8(1, 0) | 1u << 8, 0, 4), 0xffffffff);
	/* writes through the data port reach the function */
	cf8_write(&b, CF8(1, PCI_COMMAND), 0, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(vpci_cfg_read(&f, PCI_COMMAND, 2),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void test_absent_device_all_ones(void **state)
{
	struct vpci_bus b;

	(void)state;
	vpci_bus_init(&b, HOLE_BASE, HOLE_SIZE);
	assert_int_equal(cf8_read(&b, CF8(5, 0), 0, 4), 0xffffffff);
	assert_int_equal(cf8_read(&b, CF8(5, 0), 2, 2), 0xffff);
	assert_int_equal(cf8_read(&b, CF8(5, 0), 3, 1), 0xff);
	assert_int_equal(cf8_read(&b, CF8(31, 0), 0, 4), 0xffffffff);
	cf8_write(&b, CF8(5, PCI_COMMAND), 0, 2, 0xffff); /* dropped */
	assert_int_equal(vpci_bus_ecam_read(&b, ECAM(0, 5, 0, 0), 4), 0xffffffff);
	assert_int_equal(vpci_bus_ecam_read(&b, ECAM(0, 5, 0, 0), 2), 0xffff);
}

static void test_cfc_byte_and_word_windows(void **state)
{
	struct vpci_bus b;
	struct vpci_fn f;

	(void)state;
	vpci_bus_init(&b, HOLE_BASE, HOLE_SIZE);
	storage_fn(&f);
	assert_int_equal(vpci_bus_add(&b, &f), 1);
	assert_int_equal(cf8_read(&b, CF8(1, 0), 0, 1), 0x34);
	assert_int_equal(cf8_read(&b, CF8(1, 0), 1, 1), 0x12);
	assert_int_equal(cf8_read(&b, CF8(1, 0), 2, 1), 0x78);
	assert_int_equal(cf8_read(&b, CF8(1, 0), 3, 1), 0x56);
	assert_int_equal(cf8_read(&b, CF8(1, 0), 2, 2), 0x5678);
	assert_int_equal(cf8_read(&b, CF8(1, PCI_CLASS_DEVICE), 2, 2), 0x0100);
	/* misaligned, or running past 0xCFF: all-ones */
	assert_int_equal(cf8_read(&b, CF8(1, 0), 1, 2), 0xffff);
	assert_int_equal(cf8_read(&b, CF8(1, 0), 2, 4), 0xffffffff);
	assert_int_equal(cf8_read(&b, CF8(1, 0), 0, 3), 0xffffff);
	/* byte write of the command register's high byte through 0xCFD */
	cf8_write(&b, CF8(1, PCI_COMMAND), 1, 1, 0xff);
	assert_int_equal(vpci_cfg_read(&f, PCI_COMMAND, 2), PCI_COMMAND_INTX_DISABLE);
	cf8_write(&b, CF8(1, PCI_COMMAND), 1, 2, 0xffff); /* misaligned: dropped */
	assert_int_equal(vpci_cfg_read(&f, PCI_COMMAND, 2), PCI_COMMAND_INTX_DISABLE);
	/* only DWORD accesses touch the address register */
	vpci_bus_pio_write(&b, PCI_CONFIG_ADDRESS, 2, 0);
	vpci_bus_pio_write(&b, PCI_CONFIG_ADDRESS + 1, 1, 0);
	assert_int_equal(vpci_bus_pio_read(&b, PCI_CONFIG_ADDRESS, 4), CF8(1, PCI_COMMAND));
	assert_int_equal(vpci_bus_pio_read(&b, PCI_CONFIG_ADDRESS, 2), 0xffff);
}

static void test_ecam_matches_cf8(void **state)
{
	struct vpci_bus b;
	struct vpci_fn f;

	(void)state;
	vpci_bus_init(&b, HOLE_BASE, HOLE_SIZE);
	msix_fn(&f);
	assert_int_equal(vpci_bus_add(&b, &f), 1);
	for (unsigned dev = 0; dev < 3; dev++)
		for (unsigned reg = 0; reg < VPCI_CFG_SIZE; reg += 4)
			assert_int_equal(vpci_bus_ecam_read(&b, ECAM(0, dev, 0, reg), 4),
					 cf8_read(&b, CF8(dev, reg), 0, 4));
	assert_int_equal(vpci_bus_ecam_read(&b, ECAM(0, 1, 0, 0x100), 4), 0);
	assert_int_equal(vpci_bus_ecam_read(&b, ECAM(0, 1, 0, 0xffc), 4), 0);
	assert_int_equal(vpci_bus_ecam_read(&b, ECAM(1, 0, 0, 0), 4), 0xffffffff);
	assert_int_equal(vpci_bus_ecam_read(&b, ECAM(0, 1, 1, 0), 4), 0xffffffff);
	assert_int_equal(vpci_bus_ecam_read(&b, ECAM(0, 1, 0, 2), 4), 0xffffffff);
	assert_int_equal(vpci_bus_ecam_read(&b, ECAM(0, 1, 0, 2), 2), 0x5678);
	assert_int_equal(vpci_bus_ecam_read(&b, 1ull << 28, 4), 0xffffffff);
	vpci_bus_ecam_write(&b, ECAM(0, 1, 0, PCI_COMMAND), 2, PCI_COMMAND_MEMORY);
	assert_int_equal(vpci_cfg_read(&f, PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
	vpci_bus_ecam_write(&b, ECAM(1, 1, 0, PCI_COMMAND), 2, 0); /* another bus */
	assert_int_equal(vpci_cfg_read(&f, PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
}

static void test_find_bar_needs_memory_decoding(void **state)
{
	struct vpci_bus b;
	struct vpci_fn f;
	unsigned bar = 9;
	uint64_t off = 0;

	(void)state;
	vpci_bus_init(&b, HOLE_BASE, HOLE_SIZE);
	msix_fn(&f);
	assert_int_equal(vpci_fn_add_bar(&f, 3, 0x1000), 0);
	assert_int_equal(vpci_bus_add(&b, &f), 1);
	/* BAR 0 at 0xc0008000, BAR 3 at 0xc0010000 */
	assert_int_equal(vpci_bus_find_bar(&b, 0xc0008010, &bar, &off), -1);
	cf8_write(&b, CF8(1, PCI_COMMAND), 0, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(vpci_bus_find_bar(&b, 0xc0008010, &bar, &off), 1);
	assert_int_equal(bar, 0);
	assert_int_equal(off, 0x10);
	assert_int_equal(vpci_bus_find_bar(&b, 0xc0010fff, &bar, &off), 1);
	assert_int_equal(bar, 3);
	assert_int_equal(off, 0xfff);
	assert_int_equal(vpci_bus_find_bar(&b, 0xc0011000, &bar, &off), -1);
	assert_int_equal(vpci_bus_find_bar(&b, 0xc0007fff, &bar, &off), -1);
	/* the guest moves BAR 0 */
	cf8_write(&b, CF8(1, PCI_BASE_ADDRESS_0), 0, 4, 0xd0000000);
	assert_int_equal(vpci_bus_find_bar(&b, 0xc0008010, &bar, &off), -1);
	assert_int_equal(vpci_bus_find_bar(&b, 0xd0007ff8, &bar, &off), 1);
	assert_int_equal(off, 0x7ff8);
	cf8_write(&b, CF8(1, PCI_COMMAND), 0, 2, 0);
	assert_int_equal(vpci_bus_find_bar(&b, 0xd0007ff8, &bar, &off), -1);
}

static void set_msix_control(struct vpci_fn *f, uint16_t bits)
{
	vpci_cfg_write(f, f->msix.cap + PCI_MSIX_FLAGS, 2, bits);
}

/* Entry `v` aimed at APIC 1, vector `vector`; the 64-bit address written as
 * two DWORD halves, as an 8-byte access arrives. */
static void program_entry(struct vpci_fn *f, unsigned v, uint8_t vector)
{
	uint64_t addr = MSI_ADDR_BASE | 1u << MSI_ADDR_DEST_SHIFT;

	vpci_msix_write(f, ENTRY(v, PCI_MSIX_ENTRY_LOWER_ADDR), 4, (uint32_t)addr);
	vpci_msix_write(f, ENTRY(v, PCI_MSIX_ENTRY_UPPER_ADDR), 4, (uint32_t)(addr >> 32));
	vpci_msix_write(f, ENTRY(v, PCI_MSIX_ENTRY_DATA), 4, vector);
}

static void test_msix_capability(void **state)
{
	struct vpci_fn f;
	unsigned cap;

	(void)state;
	msix_fn(&f);
	cap = f.msix.cap;
	assert_int_equal(cap, 0x40);
	assert_int_equal(vpci_cfg_read(&f, cap, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(vpci_cfg_read(&f, cap + PCI_MSIX_FLAGS, 2), 3);
	assert_int_equal(vpci_cfg_read(&f, cap + PCI_MSIX_TABLE, 4), TABLE);
	assert_int_equal(vpci_cfg_read(&f, cap + PCI_MSIX_PBA, 4), PBA);
	vpci_cfg_write(&f, cap + PCI_MSIX_FLAGS, 2, 0xffff);
	assert_int_equal(vpci_cfg_read(&f, cap + PCI_MSIX_FLAGS, 2),
			 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 3);
	vpci_cfg_write(&f, cap + PCI_MSIX_TABLE, 4, 0);
	assert_int_equal(vpci_cfg_read(&f, cap + PCI_MSIX_TABLE, 4), TABLE);
	for (unsigned v = 0; v < 4; v++)
		assert_int_equal(vpci_msix_read(&f, ENTRY(v, PCI_MSIX_ENTRY_VECTOR_CTRL), 4), 1);
	assert_true(vpci_msix_covers(&f, 0, TABLE));
	assert_true(vpci_msix_covers(&f, 0, ENTRY(3, 12)));
	assert_false(vpci_msix_covers(&f, 0, ENTRY(4, 0)));
	assert_true(vpci_msix_covers(&f, 0, PBA + 7));
	assert_false(vpci_msix_covers(&f, 0, PBA + 8));
	assert_false(vpci_msix_covers(&f, 1, TABLE));
	/* bad layouts */
	assert_int_equal(vpci_fn_add_msix(&f, 4, 0, TABLE, PBA), -1); /* already */
	storage_fn(&f);
	assert_int_equal(vpci_fn_add_msix(&f, 4, 0, TABLE, PBA), -1); /* no BAR */
	assert_int_equal(vpci_fn_add_bar(&f, 0, 0x4000), 0);
	assert_int_equal(vpci_fn_add_msix(&f, 4, 0, TABLE, 0), -1); /* outside */
	assert_int_equal(vpci_fn_add_msix(&f, 4, 0, 0, 0x20), -1);  /* overlap */
	assert_int_equal(vpci_fn_add_msix(&f, 4, 0, 4, 0x100), -1); /* misaligned */
	assert_int_equal(vpci_fn_add_msix(&f, VPCI_MSIX_MAX + 1, 0, 0, 0x1000), -1);
	assert_int_equal(vpci_fn_add_msix(&f, VPCI_MSIX_MAX, 0, 0, 0x1000), 0);
}

static void test_msix_masked_pending_unmask(void **state)
{
	struct vpci_fn f;
	struct msi_msg msg = {0};

	(void)state;
	msix_fn(&f);
	set_msix_control(&f, PCI_MSIX_FLAGS_ENABLE);
	program_entry(&f, 2, 0x41);
	assert_int_equal(vpci_msix_read(&f, ENTRY(2, PCI_MSIX_ENTRY_LOWER_ADDR), 4), 0xfee01000);
	assert_int_equal(vpci_msix_read(&f, ENTRY(2, PCI_MSIX_ENTRY_DATA), 4), 0x41);
	assert_int_equal(vpci_msix_read(&f, ENTRY(2, PCI_MSIX_ENTRY_DATA), 1), 0x41);
	/* masked at reset: the message waits in the PBA */
	assert_false(vpci_msix_signal(&f, 2, &msg));
	assert_int_equal(vpci_msix_read(&f, PBA, 4), 1u << 2);
	assert_false(vpci_msix_take_pending(&f, &msg));
	vpci_msix_write(&f, ENTRY(2, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, 0);
	assert_true(vpci_msix_take_pending(&f, &msg));
	assert_int_equal(msg.address, 0xfee01000);
	assert_int_equal(msg.data, 0x41);
	assert_int_equal(vpci_msix_read(&f, PBA, 4), 0);
	assert_false(vpci_msix_take_pending(&f, &msg));
	/* unmasked: straight out */
	msg.data = 0;
	assert_true(vpci_msix_signal(&f, 2, &msg));
	assert_int_equal(msg.data, 0x41);
	assert_false(vpci_msix_signal(&f, 4, &msg)); /* no such vector */
	assert_int_equal(vpci_msix_read(&f, PBA, 4), 0);
}

static void test_msix_function_mask(void **state)
{
	struct vpci_fn f;
	struct msi_msg msg;

	(void)state;
	msix_fn(&f);
	program_entry(&f, 0, 0x30);
	program_entry(&f, 3, 0x33);
	vpci_msix_write(&f, ENTRY(0, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, 0);
	vpci_msix_write(&f, ENTRY(3, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, 0xfffffffe);
	assert_int_equal(vpci_msix_read(&f, ENTRY(3, PCI_MSIX_ENTRY_VECTOR_CTRL), 4), 0);
	set_msix_control(&f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_false(vpci_msix_signal(&f, 3, &msg));
	assert_false(vpci_msix_signal(&f, 0, &msg));
	assert_int_equal(vpci_msix_read(&f, PBA, 4), 0x9);
	assert_false(vpci_msix_take_pending(&f, &msg));
	set_msix_control(&f, PCI_MSIX_FLAGS_ENABLE);
	assert_true(vpci_msix_take_pending(&f, &msg));
	assert_int_equal(msg.data, 0x30);
	assert_true(vpci_msix_take_pending(&f, &msg));
	assert_int_equal(msg.data, 0x33);
	assert_false(vpci_msix_take_pending(&f, &msg));
}

static void test_msix_disabled_drops(void **state)
{
	struct vpci_fn f, plain;
	struct msi_msg msg;

	(void)state;
	msix_fn(&f);
	program_entry(&f, 1, 0x50);
	vpci_msix_write(&f, ENTRY(1, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, 0);
	assert_false(vpci_msix_signal(&f, 1, &msg));
	assert_int_equal(vpci_msix_read(&f, PBA, 4), 0);
	set_msix_control(&f, PCI_MSIX_FLAGS_ENABLE);
	assert_false(vpci_msix_take_pending(&f, &msg));
	storage_fn(&plain); /* no MSI-X at all */
	assert_false(vpci_msix_signal(&plain, 0, &msg));
	assert_false(vpci_msix_take_pending(&plain, &msg));
	assert_false(vpci_msix_covers(&plain, 0, 0));
}

static void test_msix_pba_read_only(void **state)
{
	struct vpci_fn f;
	struct msi_msg msg;

	(void)state;
	msix_fn(&f);
	set_msix_control(&f, PCI_MSIX_FLAGS_ENABLE);
	assert_false(vpci_msix_signal(&f, 1, &msg));
	vpci_msix_write(&f, PBA, 4, 0);
	vpci_msix_write(&f, PBA + 4, 4, 0xffffffff);
	assert_int_equal(vpci_msix_read(&f, PBA, 4), 2);
	assert_int_equal(vpci_msix_read(&f, PBA + 4, 4), 0);
	/* sub-DWORD and misaligned table writes are dropped */
	vpci_msix_write(&f, ENTRY(1, PCI_MSIX_ENTRY_VECTOR_CTRL), 2, 0);
	vpci_msix_write(&f, ENTRY(1, PCI_MSIX_ENTRY_VECTOR_CTRL) + 2, 4, 0);
	assert_int_equal(vpci_msix_read(&f, ENTRY(1, PCI_MSIX_ENTRY_VECTOR_CTRL), 4), 1);
	assert_int_equal(vpci_msix_read(&f, ENTRY(1, PCI_MSIX_ENTRY_VECTOR_CTRL) + 1, 2), 0);
	assert_int_equal(vpci_msix_read(&f, PBA, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_header),
		cmocka_unit_test(test_bar_sizing),
		cmocka_unit_test(test_bar_placement),
		cmocka_unit_test(test_hole_and_bus_full),
		cmocka_unit_test(test_cap_list_walk),
		cmocka_unit_test(test_cf8_host_bridge_and_function),
		cmocka_unit_test(test_absent_device_all_ones),
		cmocka_unit_test(test_cfc_byte_and_word_windows),
		cmocka_unit_test(test_ecam_matches_cf8),
		cmocka_unit_test(test_find_bar_needs_memory_decoding),
		cmocka_unit_test(test_msix_capability),
		cmocka_unit_test(test_msix_masked_pending_unmask),
		cmocka_unit_test(test_msix_function_mask),
		cmocka_unit_test(test_msix_disabled_drops),
		cmocka_unit_test(test_msix_pba_read_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
