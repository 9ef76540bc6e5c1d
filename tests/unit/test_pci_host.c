/* Host PCI enumeration (drivers/pci_host.c) on a fake bus: functions are
 * configuration spaces with a mask of writable bits per dword, so BARs size
 * as hardware's do. The fake checks what the spec asks of the enumerator:
 * decoding off while a BAR holds all-ones (§6.2.5.1), no write of 1 into the
 * status register's write-1-to-clear bits (§6.2.3), everything restored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "drivers/pci_host.h"

#define MAX_FAKE 16
#define CFG_SIZE 256

struct fake_fn {
	unsigned bus, dev, fn;
	uint32_t cfg[CFG_SIZE / 4];
	uint32_t wmask[CFG_SIZE / 4];
};

static struct fake_bus {
	struct fake_fn fns[MAX_FAKE];
	unsigned n;
	unsigned sized_while_decoding; /* all-ones written to a BAR with decoding on */
	unsigned status_clears;	       /* writes of 1 into the status half */
	unsigned reads;
} bus;

static struct fake_fn *find(unsigned b, unsigned d, unsigned f)
{
	for (unsigned i = 0; i < bus.n; i++)
		if (bus.fns[i].bus == b && bus.fns[i].dev == d && bus.fns[i].fn == f)
			return &bus.fns[i];
	return NULL;
}

static uint32_t fake_read(void *ctx, unsigned b, unsigned d, unsigned f, unsigned reg)
{
	struct fake_fn *fn = find(b, d, f);

	(void)ctx;
	bus.reads++;
	assert_int_equal(reg & 3, 0);
	return fn && reg < CFG_SIZE ? fn->cfg[reg / 4] : 0xffffffffu;
}

static bool is_host_bridge(const struct fake_fn *fn)
{
	return fn->cfg[PCI_CLASS_REVISION / 4] >> 16 == PCI_CLASS_BRIDGE_HOST;
}

static void fake_write(void *ctx, unsigned b, unsigned d, unsigned f, unsigned reg, uint32_t val)
{
	struct fake_fn *fn = find(b, d, f);

	(void)ctx;
	assert_int_equal(reg & 3, 0);
	if (!fn || reg >= CFG_SIZE)
		return;
	if (reg == PCI_COMMAND && val >> 16)
		bus.status_clears++;
	if (reg >= PCI_BASE_ADDRESS_0 && reg < PCI_BASE_ADDRESS_0 + 24 && val == 0xffffffffu &&
	    (fn->cfg[PCI_COMMAND / 4] & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)) &&
	    !is_host_bridge(fn))
		bus.sized_while_decoding++;
	fn->cfg[reg / 4] = (fn->cfg[reg / 4] & ~fn->wmask[reg / 4]) | (val & fn->wmask[reg / 4]);
}

static const struct pci_cfg_ops fake_ops = {fake_read, fake_write};
static const struct pci_cfg fake_cfg = {&fake_ops, NULL};

/* --- building the fake bus --------------------------------------------------- */

static struct fake_fn *add_fn(unsigned b, unsigned d, unsigned f, uint16_t vendor, uint16_t device,
			      uint32_t class_prog, uint8_t header_type)
{
	struct fake_fn *fn = &bus.fns[bus.n++];

	assert_true(bus.n <= MAX_FAKE);
	memset(fn, 0, sizeof(*fn));
	fn->bus = b;
	fn->dev = d;
	fn->fn = f;
	fn->cfg[0] = (uint32_t)device << 16 | vendor;
	fn->cfg[PCI_CLASS_REVISION / 4] = class_prog << 8 | 0x02; /* revision 2 */
	fn->cfg[PCI_HEADER_TYPE / 4] = (uint32_t)header_type << 16;
	fn->cfg[PCI_COMMAND / 4] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	fn->wmask[PCI_COMMAND / 4] = 0xffff;
	return fn;
}

static void add_mem_bar(struct fake_fn *fn, unsigned i, uint32_t base, uint32_t size, bool pref)
{
	fn->cfg[(PCI_BASE_ADDRESS_0 + 4 * i) / 4] = base | (pref ? PCI_BASE_ADDRESS_MEM_PREF : 0);
	fn->wmask[(PCI_BASE_ADDRESS_0 + 4 * i) / 4] = ~(size - 1) & PCI_BASE_ADDRESS_MEM_MASK;
}

/* A 64-bit BAR at i and i + 1; size may exceed 4 GiB */
static void add_mem64_bar(struct fake_fn *fn, unsigned i, uint64_t base, uint64_t size)
{
	uint64_t mask = ~(size - 1);

	fn->cfg[(PCI_BASE_ADDRESS_0 + 4 * i) / 4] =
		(uint32_t)base | PCI_BASE_ADDRESS_MEM_64 | PCI_BASE_ADDRESS_MEM_PREF;
	fn->wmask[(PCI_BASE_ADDRESS_0 + 4 * i) / 4] = (uint32_t)mask & PCI_BASE_ADDRESS_MEM_MASK;
	fn->cfg[(PCI_BASE_ADDRESS_0 + 4 * i + 4) / 4] = (uint32_t)(base >> 32);
	fn->wmask[(PCI_BASE_ADDRESS_0 + 4 * i + 4) / 4] = (uint32_t)(mask >> 32);
}

/* An I/O BAR that decodes 16 address bits: its upper half reads 0. */
static void add_io_bar(struct fake_fn *fn, unsigned i, uint16_t base, uint16_t size)
{
	fn->cfg[(PCI_BASE_ADDRESS_0 + 4 * i) / 4] = base | PCI_BASE_ADDRESS_SPACE_IO;
	fn->wmask[(PCI_BASE_ADDRESS_0 + 4 * i) / 4] = ~(uint32_t)(size - 1) & 0xfffc;
}

static void add_cap(struct fake_fn *fn, uint8_t at, uint8_t id, uint8_t next)
{
	if (!(fn->cfg[PCI_COMMAND / 4] >> 16 & PCI_STATUS_CAP_LIST)) {
		fn->cfg[PCI_COMMAND / 4] |= (uint32_t)PCI_STATUS_CAP_LIST << 16;
		fn->cfg[PCI_CAPABILITY_LIST / 4] = at;
	}
	fn->cfg[at / 4] = (uint32_t)next << 8 | id;
}

static void set_bridge_buses(struct fake_fn *fn, uint8_t primary, uint8_t secondary)
{
	fn->cfg[PCI_BRIDGE_BUS_NUMBERS / 4] =
		(uint32_t)secondary << 16 | (uint32_t)secondary << 8 | primary;
}

/* Bus 0: host bridge 00:00.0; a bridge 00:01.0 to bus 2 with one BAR; slot 2
 * empty; multi-function 00:03: e1000e (.0) and AHCI (.2), .1 absent; 00:04.0
 * not multi-function, with a stray function 1 that must not be listed;
 * 00:05.0 with a capability list that loops. Bus 1 has a device no bridge
 * leads to. Bus 2: a device, a bridge back to bus 0 and one with secondary
 * bus 0 (not configured). */
static void build_bus(void)
{
	struct fake_fn *fn;

	memset(&bus, 0, sizeof(bus));
	add_fn(0, 0, 0, 0x8086, 0x29c0, 0x060000, PCI_HEADER_TYPE_NORMAL);
	fn = add_fn(0, 1, 0, 0x1b36, 0x0001, 0x060400, PCI_HEADER_TYPE_BRIDGE);
	add_mem_bar(fn, 0, 0xfe000000, 0x100, false);
	set_bridge_buses(fn, 0, 2);
	fn = add_fn(0, 3, 0, 0x8086, 0x10d3, 0x020000,
		    PCI_HEADER_TYPE_NORMAL | PCI_HEADER_TYPE_MULTIFUNC);
	add_mem_bar(fn, 0, 0xfeb40000, 128 << 10, false);
	add_io_bar(fn, 2, 0xc040, 32);
	add_mem64_bar(fn, 3, 0x800000000ull, 8ull << 30);
	add_cap(fn, 0xc8, 0x01, 0xd0); /* power management */
	add_cap(fn, 0xd0, PCI_CAP_ID_MSI, 0xa0);
	add_cap(fn, 0xa0, PCI_CAP_ID_MSIX, 0x00);
	fn = add_fn(0, 3, 2, 0x8086, 0x2922, 0x010601, PCI_HEADER_TYPE_NORMAL);
	add_io_bar(fn, 4, 0xc080, 32);
	add_mem_bar(fn, 5, 0xfebd9000, 4096, false);
	add_cap(fn, 0x80, PCI_CAP_ID_MSI, 0xa8);
	add_cap(fn, 0xa8, 0x12, 0x00); /* SATA */
	add_fn(0, 4, 0, 0x1234, 0x1111, 0x030000, PCI_HEADER_TYPE_NORMAL);
	add_fn(0, 4, 1, 0x1234, 0x2222, 0x030000, PCI_HEADER_TYPE_NORMAL);
	fn = add_fn(0, 5, 0, 0x10ec, 0x8139, 0x020000, PCI_HEADER_TYPE_NORMAL);
	add_cap(fn, 0x40, PCI_CAP_ID_VNDR, 0x50);
	add_cap(fn, 0x50, PCI_CAP_ID_VNDR, 0x43); /* reserved low bits: still 0x40 */
	add_fn(1, 0, 0, 0xdead, 0xbeef, 0xff0000, PCI_HEADER_TYPE_NORMAL);
	add_fn(2, 0, 0, 0x8086, 0x10d3, 0x020000, PCI_HEADER_TYPE_NORMAL);
	fn = add_fn(2, 1, 0, 0x1b36, 0x0001, 0x060400, PCI_HEADER_TYPE_BRIDGE);
	set_bridge_buses(fn, 2, 0);
	fn = add_fn(2, 2, 0, 0x1b36, 0x0001, 0x060400, PCI_HEADER_TYPE_BRIDGE);
	fn->cfg[PCI_BRIDGE_BUS_NUMBERS / 4] = 0;
}

/* --- tests -------------------------------------------------------------------- */

static void test_finds_every_reachable_function_in_bus_order(void **state)
{
	static const char *const want[] = {"00:00.0", "00:01.0", "00:03.0", "00:03.2", "00:04.0",
					   "00:05.0", "02:00.0", "02:01.0", "02:02.0"};
	struct pci_host_func funcs[16];
	struct pci_host_scan scan = {funcs, 16, 0, 0, 0, 0};
	char bdf[PCI_HOST_BDF_LEN];

	(void)state;
	build_bus();
	pci_host_enumerate(&fake_cfg, &scan);
	assert_int_equal(scan.n, 9);
	for (unsigned i = 0; i < scan.n; i++) {
		pci_host_format_bdf(&funcs[i], bdf);
		assert_string_equal(bdf, want[i]);
	}
	assert_int_equal(scan.buses, 2);
	assert_int_equal(scan.bridges_skipped, 2); /* back to bus 0, and secondary bus 0 */
	assert_int_equal(scan.dropped, 0);
	assert_int_equal(funcs[1].header_type, PCI_HEADER_TYPE_BRIDGE);
	assert_int_equal(funcs[1].secondary_bus, 2);
	assert_int_equal(funcs[2].vendor, 0x8086);
	assert_int_equal(funcs[2].device, 0x10d3);
	assert_int_equal(funcs[3].class_code, 0x01);
	assert_int_equal(funcs[3].subclass, 0x06);
	assert_int_equal(funcs[3].prog_if, 0x01);
	assert_int_equal(funcs[3].revision, 2);
}

static void test_bars_sized_and_restored(void **state)
{
	struct pci_host_func funcs[16];
	struct pci_host_scan scan = {funcs, 16, 0, 0, 0, 0};
	struct fake_bus before;
	const struct pci_host_func *nic = &funcs[2], *ahci = &funcs[3];

	(void)state;
	build_bus();
	before = bus;
	pci_host_enumerate(&fake_cfg, &scan);
	assert_int_equal(nic->nbars, 3);
	assert_int_equal(nic->bars[0].index, 0);
	assert_int_equal(nic->bars[0].kind, PCI_BAR_MEM32);
	assert_int_equal(nic->bars[0].base, 0xfeb40000);
	assert_int_equal(nic->bars[0].size, 128 << 10);
	assert_int_equal(nic->bars[1].index, 2);
	assert_int_equal(nic->bars[1].kind, PCI_BAR_IO);
	assert_int_equal(nic->bars[1].base, 0xc040);
	assert_int_equal(nic->bars[1].size, 32);
	assert_int_equal(nic->bars[2].index, 3);
	assert_int_equal(nic->bars[2].kind, PCI_BAR_MEM64);
	assert_true(nic->bars[2].prefetchable);
	assert_int_equal(nic->bars[2].base, 0x800000000ull);
	assert_int_equal(nic->bars[2].size, 8ull << 30);
	assert_int_equal(ahci->nbars, 2);
	assert_int_equal(ahci->bars[1].index, 5);
	assert_int_equal(ahci->bars[1].size, 4096);
	assert_int_equal(funcs[1].nbars, 1); /* the bridge: BARs 0 and 1 only */
	assert_int_equal(funcs[1].bars[0].size, 0x100);
	assert_int_equal(funcs[0].nbars, 0);
	assert_int_equal(bus.sized_while_decoding, 0);
	assert_int_equal(bus.status_clears, 0);
	for (unsigned i = 0; i < bus.n; i++) /* every register as it was */
		assert_memory_equal(bus.fns[i].cfg, before.fns[i].cfg, CFG_SIZE);
}

static void test_capabilities_and_a_looping_list(void **state)
{
	struct pci_host_func funcs[16];
	struct pci_host_scan scan = {funcs, 16, 0, 0, 0, 0};

	(void)state;
	build_bus();
	bus.reads = 0;
	pci_host_enumerate(&fake_cfg, &scan);
	assert_int_equal(funcs[2].msi_cap, 0xd0);
	assert_int_equal(funcs[2].msix_cap, 0xa0);
	assert_false(funcs[2].caps_looped);
	assert_int_equal(funcs[3].msi_cap, 0x80);
	assert_int_equal(funcs[3].msix_cap, 0);
	assert_int_equal(funcs[0].msi_cap, 0);
	assert_true(funcs[5].caps_looped);
	assert_false(funcs[2].caps_looped);
	assert_int_equal(funcs[5].msi_cap, 0);
	/* a bounded walk: far fewer reads than a runaway loop would take */
	assert_true(bus.reads < 2000);
}

static void test_table_full_counts_the_rest_and_still_follows_bridges(void **state)
{
	struct pci_host_func funcs[3];
	struct pci_host_scan scan = {funcs, 3, 0, 0, 0, 0};

	(void)state;
	build_bus();
	pci_host_enumerate(&fake_cfg, &scan);
	assert_int_equal(scan.n, 3);
	assert_int_equal(scan.dropped, 6);
	assert_int_equal(scan.buses, 2);
}

static void test_empty_bus(void **state)
{
	struct pci_host_func funcs[4];
	struct pci_host_scan scan = {funcs, 4, 7, 7, 7, 7};

	(void)state;
	memset(&bus, 0, sizeof(bus));
	pci_host_enumerate(&fake_cfg, &scan);
	assert_int_equal(scan.n, 0);
	assert_int_equal(scan.dropped, 0);
	assert_int_equal(scan.buses, 1);
	assert_int_equal(scan.bridges_skipped, 0);
}

static void test_driver_and_formats(void **state)
{
	struct pci_host_func funcs[16];
	struct pci_host_scan scan = {funcs, 16, 0, 0, 0, 0};
	char cls[PCI_HOST_CLASS_LEN], bars[128], tiny[10];

	(void)state;
	build_bus();
	pci_host_enumerate(&fake_cfg, &scan);
	assert_string_equal(pci_host_driver(&funcs[0]), "none");
	assert_string_equal(pci_host_driver(&funcs[2]), "e1000e");
	assert_string_equal(pci_host_driver(&funcs[3]), "ahci");
	assert_string_equal(pci_host_driver(&funcs[6]), "e1000e"); /* behind the bridge */
	pci_host_format_class(&funcs[3], cls);
	assert_string_equal(cls, "01:06:01");
	assert_int_equal(pci_host_format_bars(&funcs[2], bars, sizeof(bars)),
			 strlen("0=m32@feb40000/128K 2=io@c040/32 3=m64p@800000000/8G"));
	assert_string_equal(bars, "0=m32@feb40000/128K 2=io@c040/32 3=m64p@800000000/8G");
	pci_host_format_bars(&funcs[1], bars, sizeof(bars));
	assert_string_equal(bars, "0=m32@fe000000/256");
	pci_host_format_bars(&funcs[0], bars, sizeof(bars));
	assert_string_equal(bars, "");
	assert_int_equal(pci_host_format_bars(&funcs[3], tiny, sizeof(tiny)),
			 strlen("4=io@c080/32 5=m32@febd9000/4K"));
	assert_string_equal(tiny, "4=io@c080"); /* cut, and terminated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_every_reachable_function_in_bus_order),
		cmocka_unit_test(test_bars_sized_and_restored),
		cmocka_unit_test(test_capabilities_and_a_looping_list),
		cmocka_unit_test(test_table_full_counts_the_rest_and_still_follows_bridges),
		cmocka_unit_test(test_empty_bus),
		cmocka_unit_test(test_driver_and_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
