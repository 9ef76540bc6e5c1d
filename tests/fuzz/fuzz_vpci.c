/* libFuzzer harness for the virtual PCI bus and the virtio-pci transport
 * (vio/pci.c, vio/virtio_pci.c): the input is a sequence of guest accesses
 * (configuration mechanism #1 ports, ECAM, BAR 0 directly and through the
 * BAR the guest placed) and device events (used buffers, queue interrupts,
 * failures) applied to a bus with the host bridge and one virtio function.
 * The first byte picks how far a well-behaved driver has brought the device
 * before the records start (decoding on, MSI-X on, features, queues and
 * DRIVER_OK), so that deep states are reached. Nothing may crash, and the
 * transport's invariants must hold after every step.
 *
 *   clang -std=gnu11 -g -O1 -I. -DHOSTED -fsanitize=fuzzer,address,undefined \
 *     -o fuzz_vpci tests/fuzz/fuzz_vpci.c vio/pci.c vio/virtio_pci.c vio/virtqueue.c */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vio/virtio_pci.h"

#define RAM_SIZE       0x10000
#define HOLE_BASE      0xc0000000u
#define HOLE_SIZE      0x100000u
#define RECORD	       10 /* op, size, le32 offset, le32 value */
#define CFG_SIZE       16
#define ECAM_SPAN      (2u << PCI_ECAM_BUS_SHIFT) /* buses 0 and 1 */
#define BAR0_SPAN      (VIO_BAR0_SIZE + 0x1000)
#define MAX_TAKES      64
#define SETUP_MEM      0x1
#define SETUP_MSIX     0x2
#define SETUP_FEATURES 0x4
#define SETUP_QUEUES   0x8
#define CHECK(c)       ((c) ? (void)0 : abort())

static uint8_t ram[RAM_SIZE];
static const struct gmem gmem = {ram, RAM_SIZE};
static uint8_t dev_cfg[CFG_SIZE];

static uint32_t fake_cfg_read(void *dev, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	CHECK(dev == dev_cfg && size <= 4 && off + size <= CFG_SIZE);
	memcpy(&v, dev_cfg + off, size);
	return v;
}

static void fake_reset(void *dev)
{
	CHECK(dev == dev_cfg);
}

static const struct virtio_dev_ops fake_ops = {
	.features = 1ull << VIRTIO_NET_F_MAC,
	.device_id = VIRTIO_ID_NET,
	.class_code = (uint32_t)PCI_CLASS_NETWORK_ETHERNET << 8,
	.num_queues = 2,
	.cfg_read = fake_cfg_read,
	.cfg_size = CFG_SIZE,
	.reset = fake_reset,
};

static struct vpci_bus bus;
static struct virtio_pci vp;

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void take_all(void)
{
	struct msi_msg msg;
	unsigned n = 0;

	while (vpci_msix_take_pending(&vp.fn, &msg))
		CHECK(++n <= VIRTIO_PCI_MAX_QUEUES + 1);
}

static void after_write(unsigned ev)
{
	if (ev & VIRTIO_PCI_EV_MSIX)
		take_all();
}

/* A guest-physical access, routed the way the kernel routes it. */
static uint32_t gpa_access(uint64_t gpa, unsigned size, bool write, uint32_t value)
{
	unsigned bar;
	uint64_t off;
	uint16_t kick = 0;
	int dev = vpci_bus_find_bar(&bus, gpa, &bar, &off);

	if (dev < 0)
		return 0;
	CHECK(dev == 1 && bar == 0 && off < VIO_BAR0_SIZE);
	if (!write)
		return virtio_pci_bar_read(&vp, (uint32_t)off, size);
	after_write(virtio_pci_bar_write(&vp, (uint32_t)off, size, value, &kick));
	return 0;
}

static void device_event(uint8_t op, uint32_t value)
{
	struct msi_msg msg;
	struct virtqueue *q = virtio_pci_queue(&vp, value % 2);

	if (op == 8)
		take_all();
	else if (op == 9)
		(void)virtio_pci_queue_interrupt(&vp, value % 5, &msg);
	else if (op == 10)
		(void)virtio_pci_fail(&vp, value % 5, "fuzz", &msg);
	else if (q)
		vq_push(q, &gmem, (uint16_t)(value >> 8), value >> 16);
}

static void bar_write(uint32_t off, unsigned size, uint32_t value)
{
	uint16_t kick;

	after_write(virtio_pci_bar_write(&vp, off, size, value, &kick));
}

/* What a driver does first (§3.1.1), as far as `how` says. */
static void setup(uint8_t how)
{
	uint32_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	if (how & SETUP_MEM)
		vpci_cfg_write(&vp.fn, PCI_COMMAND, 2, cmd);
	if (how & SETUP_MSIX) {
		vpci_cfg_write(&vp.fn, vp.fn.msix.cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
		for (unsigned v = 0; v <= VIRTIO_PCI_MAX_QUEUES; v++) {
			bar_write(VIO_BAR0_MSIX_TABLE + 16 * v, 4, MSI_ADDR_BASE);
			bar_write(VIO_BAR0_MSIX_TABLE + 16 * v + 8, 4, 0x40 + v);
			bar_write(VIO_BAR0_MSIX_TABLE + 16 * v + 12, 4, 0);
		}
	}
	if (!(how & SETUP_FEATURES))
		return;
	bar_write(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	bar_write(VIRTIO_PCI_COMMON_GF, 4, 1u << VIRTIO_F_EVENT_IDX);
	bar_write(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	bar_write(VIRTIO_PCI_COMMON_GF, 4, 1);
	bar_write(VIRTIO_PCI_COMMON_STATUS, 1, 0x0b);
	bar_write(VIRTIO_PCI_COMMON_MSIX, 2, 0);
	if (!(how & SETUP_QUEUES))
		return;
	for (uint16_t q = 0; q < 2; q++) {
		bar_write(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
		bar_write(VIRTIO_PCI_COMMON_Q_SIZE, 2, 16);
		bar_write(VIRTIO_PCI_COMMON_Q_MSIX, 2, q + 1u);
		bar_write(VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x1000 + 0x3000u * q);
		bar_write(VIRTIO_PCI_COMMON_Q_AVAILLO, 4, 0x2000 + 0x3000u * q);
		bar_write(VIRTIO_PCI_COMMON_Q_USEDLO, 4, 0x3000 + 0x3000u * q);
		bar_write(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	}
	bar_write(VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
	CHECK(virtio_pci_live(&vp));
}

static void step(uint8_t op, unsigned size, uint32_t off, uint32_t value)
{
	uint16_t kick = 0xffff;
	unsigned ev;

	switch (op) {
	case 0:
		(void)vpci_bus_pio_read(&bus, (uint16_t)(PCI_CONFIG_ADDRESS + off % 8), size);
		break;
	case 1:
		vpci_bus_pio_write(&bus, (uint16_t)(PCI_CONFIG_ADDRESS + off % 8), size, value);
		break;
	case 2:
		(void)vpci_bus_ecam_read(&bus, off % ECAM_SPAN, size);
		break;
	case 3:
		vpci_bus_ecam_write(&bus, off % ECAM_SPAN, size, value);
		break;
	case 4:
		(void)virtio_pci_bar_read(&vp, off % BAR0_SPAN, size);
		break;
	case 5:
		ev = virtio_pci_bar_write(&vp, off % BAR0_SPAN, size, value, &kick);
		CHECK(!(ev & VIRTIO_PCI_EV_KICK) || kick < 2);
		after_write(ev);
		break;
	case 6:
	case 7:
		(void)gpa_access(HOLE_BASE + off % HOLE_SIZE, size, op == 7, value);
		break;
	case 11: /* a plausible CONFIG_ADDRESS: enabled, bus 0 */
		vpci_bus_pio_write(&bus, PCI_CONFIG_ADDRESS, 4,
				   PCI_CONFIG_ENABLE | (value & 0xfffc));
		break;
	default:
		device_event(op, value);
		break;
	}
}

static void check_invariants(void)
{
	CHECK(!(vp.status & VIRTIO_STATUS_DRIVER_OK) || (vp.status & VIRTIO_STATUS_FEATURES_OK));
	CHECK(!(vp.driver_features & ~vp.device_features) ||
	      !(vp.status & VIRTIO_STATUS_FEATURES_OK));
	CHECK(!(vp.fn.msix.pending >> vp.fn.msix.nvec));
	CHECK(vp.config_msix == VIRTIO_MSI_NO_VECTOR || vp.config_msix < vp.fn.msix.nvec);
	for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
		const struct virtio_pci_queue *pq = &vp.q[q];

		CHECK(pq->size && pq->size <= VQ_MAX_SIZE && !(pq->size & (pq->size - 1)));
		CHECK(!pq->enabled || (q < 2 && pq->vq.size == pq->size));
		CHECK(virtio_pci_queue(&vp, q) == NULL || virtio_pci_live(&vp));
	}
	CHECK(!virtio_pci_live(&vp) || !vp.failure);
	CHECK(bus.dev[1] == &vp.fn && !bus.dev[2]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	memset(ram, 0, sizeof(ram));
	for (unsigned i = 0; i < CFG_SIZE; i++)
		dev_cfg[i] = (uint8_t)i;
	vpci_bus_init(&bus, HOLE_BASE, HOLE_SIZE);
	virtio_pci_init(&vp, &fake_ops, dev_cfg, &gmem);
	CHECK(vpci_bus_add(&bus, &vp.fn) == 1);
	if (!len)
		return 0;
	setup(data[0]);
	for (size_t i = 1; i + RECORD <= len; i += RECORD) {
		const uint8_t *r = data + i;

		step(r[0] % 13, r[1] % 9, le32(r + 2), le32(r + 6));
		check_invariants();
	}
	return 0;
}
