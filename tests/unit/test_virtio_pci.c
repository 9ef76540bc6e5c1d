/* The virtio-pci modern transport (vio/virtio_pci.c) driven the way a driver
 * drives it (virtio 1.1 §3.1.1, §4.1): capabilities found by walking config
 * space, feature negotiation, queue set-up through the common configuration,
 * notifications, the ISR, reset, NEEDS_RESET, and MSI-X interrupts. The
 * device behind it is a fake with two queues. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vio/virtio_pci.h"

#define RAM_SIZE    0x10000
#define QSIZE	    8
#define FAKE_FEAT   (1ull << VIRTIO_BLK_F_FLUSH)
#define VERSION_1   (1ull << VIRTIO_F_VERSION_1)
#define EVENT_IDX   (1ull << VIRTIO_F_EVENT_IDX)
#define INDIRECT    (1ull << VIRTIO_F_INDIRECT_DESC)
#define COMMON(r)   (VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_##r)
#define ENTRY(v, f) (VIO_BAR0_MSIX_TABLE + PCI_MSIX_ENTRY_SIZE * (v) + (f))
#define STATUS_UP   (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER)

static uint8_t ram[RAM_SIZE];
static const struct gmem gmem = {ram, RAM_SIZE};
static uint8_t fake_cfg[VIRTIO_BLK_CFG_SIZE];
static int resets;

static uint32_t fake_cfg_read(void *dev, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	assert_ptr_equal(dev, fake_cfg);
	assert_true(off + size <= sizeof(fake_cfg));
	memcpy(&v, fake_cfg + off, size);
	return v;
}

static void fake_reset(void *dev)
{
	assert_ptr_equal(dev, fake_cfg);
	resets++;
}

static const struct virtio_dev_ops fake_ops = {
	.features = FAKE_FEAT,
	.device_id = VIRTIO_ID_BLOCK,
	.class_code = (uint32_t)PCI_CLASS_STORAGE_SCSI << 8,
	.num_queues = 2,
	.cfg_read = fake_cfg_read,
	.cfg_size = VIRTIO_BLK_CFG_SIZE,
	.reset = fake_reset,
};

static void fresh(struct virtio_pci *vp)
{
	memset(ram, 0, sizeof(ram));
	for (unsigned i = 0; i < sizeof(fake_cfg); i++)
		fake_cfg[i] = (uint8_t)(0xa0 + i);
	resets = 0;
	virtio_pci_init(vp, &fake_ops, fake_cfg, &gmem);
}

static uint32_t rd(struct virtio_pci *vp, uint32_t off, unsigned size)
{
	return virtio_pci_bar_read(vp, off, size);
}

static unsigned wr(struct virtio_pci *vp, uint32_t off, unsigned size, uint32_t value)
{
	uint16_t kick = 0xbeef;

	return virtio_pci_bar_write(vp, off, size, value, &kick);
}

static uint64_t device_features(struct virtio_pci *vp)
{
	uint64_t f;

	wr(vp, COMMON(DFSELECT), 4, 0);
	f = rd(vp, COMMON(DF), 4);
	wr(vp, COMMON(DFSELECT), 4, 1);
	return f | (uint64_t)rd(vp, COMMON(DF), 4) << 32;
}

static void driver_features(struct virtio_pci *vp, uint64_t f)
{
	wr(vp, COMMON(GFSELECT), 4, 0);
	wr(vp, COMMON(GF), 4, (uint32_t)f);
	wr(vp, COMMON(GFSELECT), 4, 1);
	wr(vp, COMMON(GF), 4, (uint32_t)(f >> 32));
}

/* §3.1.1 steps 1-6; returns the status read back after FEATURES_OK. */
static uint8_t negotiate(struct virtio_pci *vp, uint64_t features)
{
	assert_int_equal(wr(vp, COMMON(STATUS), 1, 0), VIRTIO_PCI_EV_RESET);
	wr(vp, COMMON(STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(vp, COMMON(STATUS), 1, STATUS_UP);
	driver_features(vp, features);
	wr(vp, COMMON(STATUS), 1, STATUS_UP | VIRTIO_STATUS_FEATURES_OK);
	return (uint8_t)rd(vp, COMMON(STATUS), 1);
}

/* §4.1.5.1.3: queue q at 0x1000 + 0x3000 q, rings on their own pages. */
static void setup_queue(struct virtio_pci *vp, uint16_t q, uint16_t vector)
{
	uint64_t base = 0x1000 + 0x3000 * (uint64_t)q;

	wr(vp, COMMON(Q_SELECT), 2, q);
	wr(vp, COMMON(Q_SIZE), 2, QSIZE);
	wr(vp, COMMON(Q_DESCLO), 4, (uint32_t)base);
	wr(vp, COMMON(Q_DESCHI), 4, 0);
	wr(vp, COMMON(Q_AVAILLO), 4, (uint32_t)base + 0x1000);
	wr(vp, COMMON(Q_AVAILHI), 4, 0);
	wr(vp, COMMON(Q_USEDLO), 4, (uint32_t)base + 0x2000);
	wr(vp, COMMON(Q_USEDHI), 4, 0);
	wr(vp, COMMON(Q_MSIX), 2, vector);
	assert_int_equal(rd(vp, COMMON(Q_MSIX), 2), vector);
	assert_int_equal(wr(vp, COMMON(Q_ENABLE), 2, 1), 0);
	assert_int_equal(rd(vp, COMMON(Q_ENABLE), 2), 1);
}

static void bring_up(struct virtio_pci *vp, uint16_t config_vector)
{
	uint8_t status = negotiate(vp, VERSION_1 | EVENT_IDX | FAKE_FEAT);

	assert_true(status & VIRTIO_STATUS_FEATURES_OK);
	wr(vp, COMMON(MSIX), 2, config_vector);
	setup_queue(vp, 0, 1);
	setup_queue(vp, 1, 2);
	assert_int_equal(wr(vp, COMMON(STATUS), 1, status | VIRTIO_STATUS_DRIVER_OK),
			 VIRTIO_PCI_EV_DRIVER_OK);
	assert_true(virtio_pci_live(vp));
}

/* MSI-X on, vectors 0..2 aimed at vectors 0x40 + v, all unmasked. */
static void enable_msix(struct virtio_pci *vp)
{
	vpci_cfg_write(&vp->fn, vp->fn.msix.cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	for (unsigned v = 0; v < 3; v++) {
		wr(vp, ENTRY(v, PCI_MSIX_ENTRY_LOWER_ADDR), 4, MSI_ADDR_BASE);
		wr(vp, ENTRY(v, PCI_MSIX_ENTRY_UPPER_ADDR), 4, 0);
		wr(vp, ENTRY(v, PCI_MSIX_ENTRY_DATA), 4, 0x40 + v);
		assert_int_equal(wr(vp, ENTRY(v, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, 0),
				 VIRTIO_PCI_EV_MSIX);
	}
}

static void test_caps_walk(void **state)
{
	static const uint8_t types[] = {VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_NOTIFY_CFG,
					VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_DEVICE_CFG};
	static const uint32_t offs[] = {VIO_BAR0_COMMON, VIO_BAR0_NOTIFY, VIO_BAR0_ISR,
					VIO_BAR0_DEVICE};
	static const uint32_t lens[] = {VIRTIO_PCI_COMMON_SIZE, 2 * VIO_NOTIFY_OFF_MULTIPLIER, 1,
					VIRTIO_BLK_CFG_SIZE};
	struct virtio_pci vp;
	const struct vpci_fn *f = &vp.fn;
	unsigned off, n = 0;

	(void)state;
	fresh(&vp);
	assert_int_equal(vpci_cfg_read(f, PCI_VENDOR_ID, 4), 0x10421af4);
	assert_int_equal(vpci_cfg_read(f, PCI_REVISION_ID, 4), 0x01000001);
	assert_int_equal(vpci_cfg_read(f, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x00021af4);
	assert_int_equal(vpci_cfg_read(f, PCI_INTERRUPT_PIN, 1), 0);
	assert_true(vpci_cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (off = vpci_cfg_read(f, PCI_CAPABILITY_LIST, 1); n < 4; n++) {
		assert_int_equal(vpci_cfg_read(f, off, 1), PCI_CAP_ID_VNDR);
		assert_int_equal(vpci_cfg_read(f, off + 2, 1), n == 1 ? 20 : 16);
		assert_int_equal(vpci_cfg_read(f, off + 3, 1), types[n]);
		assert_int_equal(vpci_cfg_read(f, off + 4, 1), 0); /* BAR 0 */
		assert_int_equal(vpci_cfg_read(f, off + 8, 4), offs[n]);
		assert_int_equal(vpci_cfg_read(f, off + 12, 4), lens[n]);
		if (n == 1)
			assert_int_equal(vpci_cfg_read(f, off + 16, 4), VIO_NOTIFY_OFF_MULTIPLIER);
		off = vpci_cfg_read(f, off + 1, 1);
	}
	assert_int_equal(vpci_cfg_read(f, off, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(vpci_cfg_read(f, off + PCI_MSIX_FLAGS, 2), VIRTIO_PCI_MAX_QUEUES);
	assert_int_equal(vpci_cfg_read(f, off + PCI_MSIX_TABLE, 4), VIO_BAR0_MSIX_TABLE);
	assert_int_equal(vpci_cfg_read(f, off + PCI_MSIX_PBA, 4), VIO_BAR0_MSIX_PBA);
	assert_int_equal(vpci_cfg_read(f, off + 1, 1), 0);
	vpci_cfg_write(&vp.fn, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	assert_int_equal(vpci_cfg_read(f, PCI_BASE_ADDRESS_0, 4), ~(VIO_BAR0_SIZE - 1u));
	/* at reset: no vectors, maximum queue sizes, nothing enabled */
	assert_int_equal(rd(&vp, COMMON(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(rd(&vp, COMMON(Q_SIZE), 2), VQ_MAX_SIZE);
	assert_int_equal(rd(&vp, COMMON(Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(rd(&vp, COMMON(NUMQ), 2), 2);
}

static void test_driver_init_sequence(void **state)
{
	struct virtio_pci vp;
	struct virtqueue *q;

	(void)state;
	fresh(&vp);
	assert_int_equal(device_features(&vp), VERSION_1 | EVENT_IDX | INDIRECT | FAKE_FEAT);
	assert_int_equal(negotiate(&vp, VERSION_1 | EVENT_IDX | FAKE_FEAT),
			 STATUS_UP | VIRTIO_STATUS_FEATURES_OK);
	/* features are fixed now */
	driver_features(&vp, VERSION_1);
	assert_int_equal(vp.driver_features, VERSION_1 | EVENT_IDX | FAKE_FEAT);
	wr(&vp, COMMON(GFSELECT), 4, 0);
	assert_int_equal(rd(&vp, COMMON(GF), 4), (uint32_t)(EVENT_IDX | FAKE_FEAT));
	/* queue 1's notify offset, a queue that does not exist */
	wr(&vp, COMMON(Q_SELECT), 2, 1);
	assert_int_equal(rd(&vp, COMMON(Q_NOFF), 2), 1);
	wr(&vp, COMMON(Q_SELECT), 2, 2);
	assert_int_equal(rd(&vp, COMMON(Q_SIZE), 2), 0);
	wr(&vp, COMMON(Q_SIZE), 2, 4);
	setup_queue(&vp, 0, 1);
	setup_queue(&vp, 1, 2);
	assert_null(virtio_pci_queue(&vp, 0)); /* not live yet */
	assert_int_equal(wr(&vp, COMMON(STATUS), 1,
			    STATUS_UP | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK),
			 VIRTIO_PCI_EV_DRIVER_OK);
	assert_true(virtio_pci_live(&vp));
	q = virtio_pci_queue(&vp, 1);
	assert_non_null(q);
	assert_int_equal(q->size, QSIZE);
	assert_int_equal(q->desc, 0x4000);
	assert_int_equal(q->avail, 0x5000);
	assert_int_equal(q->used, 0x6000);
	assert_true(q->event_idx);
	assert_false(q->indirect);
	assert_null(virtio_pci_queue(&vp, 2));
	/* an enabled queue is never set up again */
	wr(&vp, COMMON(Q_DESCLO), 4, 0x8000);
	wr(&vp, COMMON(Q_SIZE), 2, 2);
	assert_int_equal(wr(&vp, COMMON(Q_ENABLE), 2, 1), 0);
	assert_int_equal(rd(&vp, COMMON(Q_DESCLO), 4), 0x4000);
	assert_int_equal(rd(&vp, COMMON(Q_SIZE), 2), QSIZE);
	/* status bits cannot be taken away, except by reset */
	wr(&vp, COMMON(STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_true(virtio_pci_live(&vp));
	/* the device configuration, read through BAR 0, written never */
	assert_int_equal(rd(&vp, VIO_BAR0_DEVICE + 4, 4), 0xa7a6a5a4);
	assert_int_equal(rd(&vp, VIO_BAR0_DEVICE + 22, 2), 0xb7b6);
	assert_int_equal(rd(&vp, VIO_BAR0_DEVICE + 22, 4), 0);
	assert_int_equal(rd(&vp, VIO_BAR0_DEVICE + VIRTIO_BLK_CFG_SIZE, 1), 0);
	assert_int_equal(wr(&vp, VIO_BAR0_DEVICE, 4, 0), 0);
	assert_int_equal(rd(&vp, VIO_BAR0_DEVICE, 1), 0xa0);
}

static void test_features_ok_refused(void **state)
{
	struct virtio_pci vp;

	(void)state;
	fresh(&vp);
	/* a legacy driver: no VERSION_1 */
	assert_int_equal(negotiate(&vp, EVENT_IDX), STATUS_UP);
	assert_int_equal(wr(&vp, COMMON(STATUS), 1, STATUS_UP | VIRTIO_STATUS_DRIVER_OK), 0);
	assert_int_equal(rd(&vp, COMMON(STATUS), 1), STATUS_UP);
	assert_false(virtio_pci_live(&vp));
	/* features the device did not offer */
	assert_int_equal(negotiate(&vp, VERSION_1 | 1ull << 5), STATUS_UP);
	assert_int_equal(negotiate(&vp, VERSION_1 | 1ull << 40), STATUS_UP);
	/* queues cannot be enabled before FEATURES_OK */
	wr(&vp, COMMON(Q_DESCLO), 4, 0x1000);
	wr(&vp, COMMON(Q_AVAILLO), 4, 0x2000);
	wr(&vp, COMMON(Q_USEDLO), 4, 0x3000);
	assert_int_equal(wr(&vp, COMMON(Q_ENABLE), 2, 1), 0);
	assert_int_equal(rd(&vp, COMMON(Q_ENABLE), 2), 0);
	/* a driver that asks for less than offered is fine */
	assert_int_equal(negotiate(&vp, VERSION_1), STATUS_UP | VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(wr(&vp, COMMON(Q_ENABLE), 2, 1), 0);
	assert_int_equal(rd(&vp, COMMON(Q_ENABLE), 2), 1);
	assert_false(vp.q[0].vq.event_idx);
}

static void test_notify_kicks(void **state)
{
	struct virtio_pci vp;
	uint16_t kick = 0xffff;

	(void)state;
	fresh(&vp);
	bring_up(&vp, 0);
	assert_int_equal(virtio_pci_bar_write(&vp, VIO_BAR0_NOTIFY + 4, 2, 1, &kick),
			 VIRTIO_PCI_EV_KICK);
	assert_int_equal(kick, 1);
	assert_int_equal(virtio_pci_bar_write(&vp, VIO_BAR0_NOTIFY, 2, 0, &kick),
			 VIRTIO_PCI_EV_KICK);
	assert_int_equal(kick, 0);
	kick = 0xffff;
	assert_int_equal(virtio_pci_bar_write(&vp, VIO_BAR0_NOTIFY + 8, 2, 2, &kick), 0);
	assert_int_equal(virtio_pci_bar_write(&vp, VIO_BAR0_NOTIFY + 2, 2, 0, &kick), 0);
	assert_int_equal(virtio_pci_bar_write(&vp, VIO_BAR0_NOTIFY + 4, 1, 1, &kick), 0);
	assert_int_equal(kick, 0xffff);
}

static void test_isr_read_clears(void **state)
{
	struct virtio_pci vp;
	struct msi_msg msg;

	(void)state;
	fresh(&vp);
	bring_up(&vp, VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(rd(&vp, VIO_BAR0_ISR, 1), 0);
	vq_push(&vp.q[0].vq, &gmem, 0, 0);
	assert_false(virtio_pci_queue_interrupt(&vp, 0, &msg)); /* MSI-X is off */
	assert_int_equal(rd(&vp, VIO_BAR0_ISR, 4), 0);		/* a byte register */
	assert_int_equal(rd(&vp, VIO_BAR0_ISR, 1), VIRTIO_PCI_ISR_QUEUE);
	assert_int_equal(rd(&vp, VIO_BAR0_ISR, 1), 0);
	assert_false(virtio_pci_fail(&vp, 1, "test", &msg));
	assert_int_equal(rd(&vp, VIO_BAR0_ISR, 1), VIRTIO_PCI_ISR_CONFIG);
	assert_int_equal(wr(&vp, VIO_BAR0_ISR, 1, 0xff), 0);
	assert_int_equal(rd(&vp, VIO_BAR0_ISR, 1), 0);
}

static void test_reset_clears_everything(void **state)
{
	struct virtio_pci vp;
	struct msi_msg msg;

	(void)state;
	fresh(&vp);
	bring_up(&vp, 0);
	vq_push(&vp.q[1].vq, &gmem, 0, 0);
	virtio_pci_queue_interrupt(&vp, 1, &msg);
	virtio_pci_fail(&vp, 1, "test", &msg);
	resets = 0;
	assert_int_equal(wr(&vp, COMMON(STATUS), 1, 0), VIRTIO_PCI_EV_RESET);
	assert_int_equal(resets, 1);
	assert_int_equal(rd(&vp, COMMON(STATUS), 1), 0);
	assert_int_equal(rd(&vp, COMMON(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(rd(&vp, COMMON(Q_SELECT), 2), 0);
	wr(&vp, COMMON(GFSELECT), 4, 0);
	assert_int_equal(rd(&vp, COMMON(GF), 4), 0);
	assert_int_equal(vp.driver_features, 0);
	for (uint16_t q = 0; q < 2; q++) {
		wr(&vp, COMMON(Q_SELECT), 2, q);
		assert_int_equal(rd(&vp, COMMON(Q_SIZE), 2), VQ_MAX_SIZE);
		assert_int_equal(rd(&vp, COMMON(Q_ENABLE), 2), 0);
		assert_int_equal(rd(&vp, COMMON(Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
		assert_int_equal(rd(&vp, COMMON(Q_DESCLO), 4), 0);
		assert_null(virtio_pci_queue(&vp, q));
	}
	assert_int_equal(rd(&vp, VIO_BAR0_ISR, 1), 0);
	assert_null(vp.failure);
	assert_int_equal(vp.failed_queue, -1);
	assert_false(virtio_pci_live(&vp));
	/* and the device comes up again */
	bring_up(&vp, 0);
	assert_int_equal(resets, 2);
}

static void test_fail_needs_reset(void **state)
{
	struct virtio_pci vp;
	struct msi_msg msg = {0};

	(void)state;
	fresh(&vp);
	enable_msix(&vp);
	bring_up(&vp, 0);
	assert_true(virtio_pci_fail(&vp, 1, "chain too long", &msg));
	assert_int_equal(msg.address, MSI_ADDR_BASE);
	assert_int_equal(msg.data, 0x40);
	assert_true(rd(&vp, COMMON(STATUS), 1) & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(virtio_pci_live(&vp));
	assert_null(virtio_pci_queue(&vp, 0));
	assert_string_equal(vp.failure, "chain too long");
	assert_int_equal(vp.failed_queue, 1);
	assert_int_equal(rd(&vp, VIO_BAR0_ISR, 1), VIRTIO_PCI_ISR_CONFIG);
	/* only the first failure is recorded */
	assert_false(virtio_pci_fail(&vp, 0, "other", &msg));
	assert_string_equal(vp.failure, "chain too long");
	/* the driver cannot clear NEEDS_RESET, nor go live again, but by reset */
	assert_int_equal(wr(&vp, COMMON(STATUS), 1, 0x0f), 0);
	assert_true(rd(&vp, COMMON(STATUS), 1) & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(virtio_pci_live(&vp));
	assert_int_equal(wr(&vp, COMMON(STATUS), 1, 0), VIRTIO_PCI_EV_RESET);
	assert_null(vp.failure);
	bring_up(&vp, 0);
}

static void test_bad_rings_fail_the_device(void **state)
{
	struct virtio_pci vp;
	struct msi_msg msg;

	(void)state;
	fresh(&vp);
	enable_msix(&vp);
	negotiate(&vp, VERSION_1);
	wr(&vp, COMMON(MSIX), 2, 0);
	wr(&vp, COMMON(Q_SELECT), 2, 1);
	wr(&vp, COMMON(Q_DESCLO), 4, RAM_SIZE - 16); /* the table runs past RAM */
	wr(&vp, COMMON(Q_AVAILLO), 4, 0x2000);
	wr(&vp, COMMON(Q_USEDLO), 4, 0x3000);
	/* the config interrupt waits for the caller to take it */
	assert_int_equal(wr(&vp, COMMON(Q_ENABLE), 2, 1), VIRTIO_PCI_EV_MSIX);
	assert_int_equal(rd(&vp, COMMON(Q_ENABLE), 2), 0);
	assert_true(rd(&vp, COMMON(STATUS), 1) & VIRTIO_STATUS_NEEDS_RESET);
	assert_string_equal(vp.failure, vq_error_name(VQ_ERR_RING_ADDR));
	assert_int_equal(vp.failed_queue, 1);
	assert_true(vpci_msix_take_pending(&vp.fn, &msg));
	assert_int_equal(msg.data, 0x40);
	assert_false(vpci_msix_take_pending(&vp.fn, &msg));
}

static void test_queue_interrupt_through_msix(void **state)
{
	struct virtio_pci vp;
	struct msi_msg msg = {0};
	uint16_t kick;

	(void)state;
	fresh(&vp);
	enable_msix(&vp);
	bring_up(&vp, 0);
	/* queue 0 uses vector 1: mask it, and the message waits in the PBA */
	wr(&vp, ENTRY(1, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	vq_push(&vp.q[0].vq, &gmem, 0, 0);
	assert_false(virtio_pci_queue_interrupt(&vp, 0, &msg));
	assert_int_equal(rd(&vp, VIO_BAR0_MSIX_PBA, 4), 1u << 1);
	assert_int_equal(
		virtio_pci_bar_write(&vp, ENTRY(1, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, 0, &kick),
		VIRTIO_PCI_EV_MSIX);
	assert_true(vpci_msix_take_pending(&vp.fn, &msg));
	assert_int_equal(msg.data, 0x41);
	assert_int_equal(rd(&vp, VIO_BAR0_MSIX_PBA, 4), 0);
	/* unmasked: straight out (EVENT_IDX: the driver asks at used_event 1) */
	gmem_store16(&gmem, 0x2000 + VIRTQ_AVAIL_RING(QSIZE), 1);
	vq_push(&vp.q[0].vq, &gmem, 1, 0);
	msg.data = 0;
	assert_true(virtio_pci_queue_interrupt(&vp, 0, &msg));
	assert_int_equal(msg.data, 0x41);
	assert_false(virtio_pci_queue_interrupt(&vp, 0, &msg)); /* nothing new */
	/* queue 1 on vector 2 */
	vq_push(&vp.q[1].vq, &gmem, 0, 0);
	assert_true(virtio_pci_queue_interrupt(&vp, 1, &msg));
	assert_int_equal(msg.data, 0x42);
	assert_false(virtio_pci_queue_interrupt(&vp, 2, &msg));
	assert_int_equal(rd(&vp, VIO_BAR0_ISR, 1), VIRTIO_PCI_ISR_QUEUE);
	/* the PBA is read-only through the BAR too */
	assert_int_equal(wr(&vp, VIO_BAR0_MSIX_PBA, 4, 0xffffffff), 0);
	assert_int_equal(rd(&vp, VIO_BAR0_MSIX_PBA, 4), 0);
}

static void test_common_access_widths(void **state)
{
	struct virtio_pci vp;

	(void)state;
	fresh(&vp);
	wr(&vp, COMMON(STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(rd(&vp, COMMON(STATUS), 4), 0);
	assert_int_equal(rd(&vp, COMMON(STATUS), 2), 0);
	assert_int_equal(rd(&vp, COMMON(DF), 2), 0);
	assert_int_equal(rd(&vp, COMMON(DF) + 2, 2), 0);
	assert_int_equal(rd(&vp, COMMON(NUMQ), 4), 0);
	wr(&vp, COMMON(Q_SELECT), 1, 1);
	wr(&vp, COMMON(Q_SELECT), 4, 1);
	assert_int_equal(rd(&vp, COMMON(Q_SELECT), 2), 0);
	wr(&vp, COMMON(STATUS), 2, 0); /* not a reset */
	assert_int_equal(rd(&vp, COMMON(STATUS), 1), VIRTIO_STATUS_ACKNOWLEDGE);
	/* read-only registers */
	wr(&vp, COMMON(NUMQ), 2, 7);
	wr(&vp, COMMON(DF), 4, 0);
	assert_int_equal(rd(&vp, COMMON(NUMQ), 2), 2);
	wr(&vp, COMMON(DFSELECT), 4, 1);
	assert_int_equal(rd(&vp, COMMON(DF), 4), 1);
	wr(&vp, COMMON(DFSELECT), 4, 2);
	assert_int_equal(rd(&vp, COMMON(DF), 4), 0);
	/* vectors the function lacks read back NO_VECTOR; sizes must be powers of two */
	wr(&vp, COMMON(MSIX), 2, VIRTIO_PCI_MAX_QUEUES + 1);
	assert_int_equal(rd(&vp, COMMON(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	wr(&vp, COMMON(MSIX), 2, VIRTIO_PCI_MAX_QUEUES);
	assert_int_equal(rd(&vp, COMMON(MSIX), 2), VIRTIO_PCI_MAX_QUEUES);
	wr(&vp, COMMON(Q_SIZE), 2, 12);
	wr(&vp, COMMON(Q_SIZE), 2, 2 * VQ_MAX_SIZE);
	wr(&vp, COMMON(Q_SIZE), 2, 0);
	assert_int_equal(rd(&vp, COMMON(Q_SIZE), 2), VQ_MAX_SIZE);
	wr(&vp, COMMON(Q_SIZE), 2, 1);
	assert_int_equal(rd(&vp, COMMON(Q_SIZE), 2), 1);
	/* 64-bit fields in two halves */
	wr(&vp, COMMON(Q_USEDHI), 4, 0x12);
	wr(&vp, COMMON(Q_USEDLO), 4, 0x3000);
	assert_int_equal(vp.q[0].device, 0x1200003000ull);
	assert_int_equal(rd(&vp, COMMON(Q_USEDHI), 4), 0x12);
	/* past the structure and between the regions: nothing */
	assert_int_equal(rd(&vp, VIRTIO_PCI_COMMON_SIZE, 4), 0);
	assert_int_equal(rd(&vp, 0x7ffc, 4), 0);
	assert_int_equal(wr(&vp, 0x7ffc, 4, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_walk),
		cmocka_unit_test(test_driver_init_sequence),
		cmocka_unit_test(test_features_ok_refused),
		cmocka_unit_test(test_notify_kicks),
		cmocka_unit_test(test_isr_read_clears),
		cmocka_unit_test(test_reset_clears_everything),
		cmocka_unit_test(test_fail_needs_reset),
		cmocka_unit_test(test_bad_rings_fail_the_device),
		cmocka_unit_test(test_queue_interrupt_through_msix),
		cmocka_unit_test(test_common_access_widths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
