/* The virtio 1.x modern PCI transport (vio/virtio_pci.h), after virtio 1.1
 * §4.1: the capabilities a driver finds the structures by (§4.1.4), the
 * common configuration registers (§4.1.4.3), the notify (§4.1.4.4), ISR
 * (§4.1.4.5) and device (§4.1.4.6) regions of BAR 0, the device status
 * (§2.1) and the driver's initialization sequence (§3.1). Every register
 * value the guest writes is checked before it is used. */
#include <stddef.h>
#include <string.h>

#include "vio/virtio_pci.h"

#define FEATURE(bit) (1ull << (bit))
#define TRANSPORT_FEATURES                                                                         \
	(FEATURE(VIRTIO_F_VERSION_1) | FEATURE(VIRTIO_F_EVENT_IDX) |                               \
	 FEATURE(VIRTIO_F_INDIRECT_DESC))
#define NUM_VECTORS	 (VIRTIO_PCI_MAX_QUEUES + 1)
#define CAP_LEN		 16 /* struct virtio_pci_cap (§4.1.4) */
#define NOTIFY_CAP_LEN	 20 /* struct virtio_pci_notify_cap (§4.1.4.4) */
#define CAP_CFG_TYPE	 3
#define CAP_BAR		 4
#define CAP_OFFSET	 8
#define CAP_LENGTH	 12
#define CAP_NOTIFY_MULT	 16
#define DEVICE_ONLY_BITS VIRTIO_STATUS_NEEDS_RESET

static void put_le32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool in_window(uint32_t off, uint32_t base, uint32_t len)
{
	return off >= base && off - base < len;
}

static unsigned num_queues(const struct virtio_pci *vp)
{
	return vp->ops->num_queues < VIRTIO_PCI_MAX_QUEUES ? vp->ops->num_queues
							   : VIRTIO_PCI_MAX_QUEUES;
}

/* The device configuration structure has BAR 0's page before the notify
 * registers to itself. */
static uint32_t device_cfg_size(const struct virtio_pci *vp)
{
	uint32_t room = VIO_BAR0_NOTIFY - VIO_BAR0_DEVICE;

	return vp->ops->cfg_size < room ? vp->ops->cfg_size : room;
}

/* A vendor-specific capability naming a structure in BAR 0 (§4.1.4). */
static void add_virtio_cap(struct vpci_fn *f, uint8_t type, uint32_t off, uint32_t len)
{
	uint8_t cap[NOTIFY_CAP_LEN] = {PCI_CAP_ID_VNDR};
	unsigned n = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? NOTIFY_CAP_LEN : CAP_LEN;

	cap[2] = (uint8_t)n;
	cap[CAP_CFG_TYPE] = type;
	cap[CAP_BAR] = 0;
	put_le32(cap + CAP_OFFSET, off);
	put_le32(cap + CAP_LENGTH, len);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		put_le32(cap + CAP_NOTIFY_MULT, VIO_NOTIFY_OFF_MULTIPLIER);
	(void)vpci_fn_add_cap(f, cap, n);
}

/* The transport's state after reset (§2.1.1, §4.1.4.3): nothing negotiated,
 * every queue disabled at its maximum size, no MSI-X vectors assigned. The
 * PCI function itself (its configuration space, the MSI-X table) is not
 * part of the virtio device's reset. */
static void transport_reset(struct virtio_pci *vp)
{
	vp->driver_features = 0;
	vp->dfselect = 0;
	vp->gfselect = 0;
	vp->status = 0;
	vp->isr = 0;
	vp->queue_select = 0;
	vp->config_msix = VIRTIO_MSI_NO_VECTOR;
	memset(vp->q, 0, sizeof(vp->q));
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		vp->q[i].size = VQ_MAX_SIZE;
		vp->q[i].msix_vector = VIRTIO_MSI_NO_VECTOR;
	}
	vp->failure = NULL;
	vp->failed_queue = -1;
}

void virtio_pci_init(struct virtio_pci *vp, const struct virtio_dev_ops *ops, void *dev,
		     const struct gmem *gmem)
{
	struct vpci_fn *f = &vp->fn;

	memset(vp, 0, sizeof(*vp));
	vp->ops = ops;
	vp->dev = dev;
	vp->gmem = gmem;
	/* §4.1.2: modern IDs 0x1040 + type, revision 1 */
	vpci_fn_init(f, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + ops->device_id, ops->class_code,
		     VIRTIO_PCI_VENDOR, ops->device_id);
	f->cfg[PCI_REVISION_ID] = 1;
	(void)vpci_fn_add_bar(f, 0, VIO_BAR0_SIZE);
	add_virtio_cap(f, VIRTIO_PCI_CAP_COMMON_CFG, VIO_BAR0_COMMON, VIRTIO_PCI_COMMON_SIZE);
	add_virtio_cap(f, VIRTIO_PCI_CAP_NOTIFY_CFG, VIO_BAR0_NOTIFY,
		       VIO_NOTIFY_OFF_MULTIPLIER * num_queues(vp));
	add_virtio_cap(f, VIRTIO_PCI_CAP_ISR_CFG, VIO_BAR0_ISR, 1);
	add_virtio_cap(f, VIRTIO_PCI_CAP_DEVICE_CFG, VIO_BAR0_DEVICE, device_cfg_size(vp));
	(void)vpci_fn_add_msix(f, NUM_VECTORS, 0, VIO_BAR0_MSIX_TABLE, VIO_BAR0_MSIX_PBA);
	vp->device_features = ops->features | TRANSPORT_FEATURES;
	transport_reset(vp);
}

bool virtio_pci_live(const struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vp->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

struct virtqueue *virtio_pci_queue(struct virtio_pci *vp, unsigned q)
{
	if (q >= num_queues(vp) || !vp->q[q].enabled || !virtio_pci_live(vp))
		return NULL;
	return &vp->q[q].vq;
}

static bool negotiated(const struct virtio_pci *vp, unsigned bit)
{
	return vp->driver_features & FEATURE(bit);
}

/* §2.1.2, §3.1.1 step 8: the device stops; the config-change interrupt goes
 * out with the next MSI-X message the caller takes. */
bool virtio_pci_fail(struct virtio_pci *vp, unsigned q, const char *why, struct msi_msg *msg)
{
	if (vp->failure) /* the first failure is the one to report */
		return false;
	vp->failure = why ? why : "failed";
	vp->failed_queue = (int)q;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	vp->isr |= VIRTIO_PCI_ISR_CONFIG;
	if (vp->config_msix == VIRTIO_MSI_NO_VECTOR)
		return false;
	return vpci_msix_signal(&vp->fn, vp->config_msix, msg);
}

/* A failure found in a register write, which returns events, not messages: a
 * message that could go out now is left pending for the caller to take. */
static unsigned fail_from_write(struct virtio_pci *vp, unsigned q, const char *why)
{
	struct msi_msg msg;

	if (!virtio_pci_fail(vp, q, why, &msg))
		return 0;
	vp->fn.msix.pending |= 1u << vp->config_msix;
	return VIRTIO_PCI_EV_MSIX;
}

bool virtio_pci_queue_interrupt(struct virtio_pci *vp, unsigned q, struct msi_msg *msg)
{
	struct virtio_pci_queue *pq;

	if (q >= num_queues(vp) || !vp->q[q].enabled)
		return false;
	pq = &vp->q[q];
	if (!vq_should_interrupt(&pq->vq, vp->gmem))
		return false;
	/* §4.1.5.4 */
	vp->isr |= VIRTIO_PCI_ISR_QUEUE;
	if (pq->msix_vector == VIRTIO_MSI_NO_VECTOR)
		return false;
	return vpci_msix_signal(&vp->fn, pq->msix_vector, msg);
}

/* --- the common configuration structure (§4.1.4.3) */

/* §4.1.3.1: each field is accessed with its own width; 64-bit fields as two
 * 32-bit halves. 0 for no field. */
static unsigned common_width(uint32_t reg)
{
	if (reg < VIRTIO_PCI_COMMON_MSIX ||
	    (reg >= VIRTIO_PCI_COMMON_Q_DESCLO && reg < VIRTIO_PCI_COMMON_SIZE))
		return reg % 4 ? 0 : 4;
	if (reg == VIRTIO_PCI_COMMON_STATUS || reg == VIRTIO_PCI_COMMON_CFGGENERATION)
		return 1;
	if (reg < VIRTIO_PCI_COMMON_Q_DESCLO)
		return reg % 2 ? 0 : 2;
	return 0;
}

static uint32_t feature_word(uint64_t features, uint32_t select)
{
	return select < 2 ? (uint32_t)(features >> (32 * select)) : 0;
}

static uint32_t half(uint64_t v, bool high)
{
	return (uint32_t)(high ? v >> 32 : v);
}

static void set_half(uint64_t *v, bool high, uint32_t value)
{
	if (high)
		*v = (*v & 0xffffffffu) | (uint64_t)value << 32;
	else
		*v = (*v & ~0xffffffffull) | value;
}

/* The selected queue, or NULL when queue_select names none. */
static struct virtio_pci_queue *selected(struct virtio_pci *vp)
{
	return vp->queue_select < num_queues(vp) ? &vp->q[vp->queue_select] : NULL;
}

/* A queue register: §4.1.4.3 says queue_size reads 0 for a queue that does
 * not exist; so do the others here. */
static uint32_t queue_read(struct virtio_pci *vp, uint32_t reg)
{
	const struct virtio_pci_queue *q = selected(vp);

	if (!q)
		return 0;
	switch (reg) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return q->size;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return q->msix_vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return q->enabled;
	case VIRTIO_PCI_COMMON_Q_NOFF: /* notify register: NOTIFY + q * multiplier */
		return vp->queue_select;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		return half(q->desc, reg == VIRTIO_PCI_COMMON_Q_DESCHI);
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		return half(q->driver, reg == VIRTIO_PCI_COMMON_Q_AVAILHI);
	default:
		return half(q->device, reg == VIRTIO_PCI_COMMON_Q_USEDHI);
	}
}

static uint32_t common_read(struct virtio_pci *vp, uint32_t reg, unsigned size)
{
	if (size != common_width(reg))
		return 0;
	switch (reg) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return vp->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return feature_word(vp->device_features, vp->dfselect);
	case VIRTIO_PCI_COMMON_GFSELECT:
		return vp->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return feature_word(vp->driver_features, vp->gfselect);
	case VIRTIO_PCI_COMMON_MSIX:
		return vp->config_msix;
	case VIRTIO_PCI_COMMON_NUMQ:
		return num_queues(vp);
	case VIRTIO_PCI_COMMON_STATUS:
		return vp->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return vp->generation;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return vp->queue_select;
	default:
		return queue_read(vp, reg);
	}
}

/* §4.1.5.1.2: a vector the function does not have reads back NO_VECTOR. */
static uint16_t msix_vector(const struct virtio_pci *vp, uint32_t value)
{
	return value < vp->fn.msix.nvec ? (uint16_t)value : VIRTIO_MSI_NO_VECTOR;
}

static void driver_feature_write(struct virtio_pci *vp, uint32_t value)
{
	uint64_t features = vp->driver_features;

	/* §3.1.1: features are fixed once FEATURES_OK is set */
	if ((vp->status & VIRTIO_STATUS_FEATURES_OK) || vp->gfselect >= 2)
		return;
	set_half(&features, vp->gfselect == 1, value);
	vp->driver_features = features;
}

/* §2.2.2: only features the device offered; §6.1: VERSION_1, as corevisor
 * has no legacy interface. */
static bool features_acceptable(const struct virtio_pci *vp)
{
	return !(vp->driver_features & ~vp->device_features) && negotiated(vp, VIRTIO_F_VERSION_1);
}

static void device_reset(struct virtio_pci *vp)
{
	transport_reset(vp);
	if (vp->ops->reset)
		vp->ops->reset(vp->dev);
}

/* §2.1.2: the driver only adds status bits (0 resets); NEEDS_RESET is the
 * device's. §3.1.1 step 5-6: FEATURES_OK stays clear for features the device
 * cannot accept; DRIVER_OK needs FEATURES_OK. */
static unsigned status_write(struct virtio_pci *vp, uint8_t value)
{
	uint8_t old = vp->status, add;

	if (value == 0) {
		device_reset(vp);
		return VIRTIO_PCI_EV_RESET;
	}
	value &= (uint8_t)~DEVICE_ONLY_BITS;
	if (old & ~DEVICE_ONLY_BITS & ~value)
		return 0;
	add = value & ~old;
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(vp))
		add &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((add & VIRTIO_STATUS_DRIVER_OK) && !((old | add) & VIRTIO_STATUS_FEATURES_OK))
		add &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	vp->status = old | add;
	if ((add & VIRTIO_STATUS_DRIVER_OK) && virtio_pci_live(vp))
		return VIRTIO_PCI_EV_DRIVER_OK;
	return 0;
}

/* §4.1.4.3.2: the driver configures a queue, then enables it; an enabled
 * queue is never set up again before reset. Rings are checked by vq_setup
 * (§2.6); a bad one is the driver's error: NEEDS_RESET. */
static unsigned queue_enable(struct virtio_pci *vp, struct virtio_pci_queue *q)
{
	enum vq_error err;

	if (q->enabled || !(vp->status & VIRTIO_STATUS_FEATURES_OK) ||
	    (vp->status & VIRTIO_STATUS_NEEDS_RESET))
		return 0;
	err = vq_setup(&q->vq, vp->gmem, q->size, q->desc, q->driver, q->device,
		       negotiated(vp, VIRTIO_F_EVENT_IDX), negotiated(vp, VIRTIO_F_INDIRECT_DESC));
	if (err != VQ_OK)
		return fail_from_write(vp, vp->queue_select, vq_error_name(err));
	q->enabled = true;
	return 0;
}

/* §4.1.4.3: queue_size is the device's maximum until the driver writes a
 * smaller power of two (§2.6: split queue sizes are powers of two). */
static void queue_size_write(struct virtio_pci_queue *q, uint32_t value)
{
	if (value && value <= VQ_MAX_SIZE && !(value & (value - 1)))
		q->size = (uint16_t)value;
}

static unsigned queue_write(struct virtio_pci *vp, uint32_t reg, uint32_t value)
{
	struct virtio_pci_queue *q = selected(vp);

	if (!q)
		return 0;
	if (reg == VIRTIO_PCI_COMMON_Q_MSIX) {
		q->msix_vector = msix_vector(vp, value);
		return 0;
	}
	if (reg == VIRTIO_PCI_COMMON_Q_ENABLE) /* §4.1.4.3.2: never 0 */
		return value == 1 ? queue_enable(vp, q) : 0;
	if (q->enabled)
		return 0;
	if (reg == VIRTIO_PCI_COMMON_Q_SIZE)
		queue_size_write(q, value);
	else if (reg == VIRTIO_PCI_COMMON_Q_DESCLO || reg == VIRTIO_PCI_COMMON_Q_DESCHI)
		set_half(&q->desc, reg == VIRTIO_PCI_COMMON_Q_DESCHI, value);
	else if (reg == VIRTIO_PCI_COMMON_Q_AVAILLO || reg == VIRTIO_PCI_COMMON_Q_AVAILHI)
		set_half(&q->driver, reg == VIRTIO_PCI_COMMON_Q_AVAILHI, value);
	else if (reg == VIRTIO_PCI_COMMON_Q_USEDLO || reg == VIRTIO_PCI_COMMON_Q_USEDHI)
		set_half(&q->device, reg == VIRTIO_PCI_COMMON_Q_USEDHI, value);
	return 0;
}

static unsigned common_write(struct virtio_pci *vp, uint32_t reg, unsigned size, uint32_t value)
{
	if (size != common_width(reg))
		return 0;
	switch (reg) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vp->dfselect = value;
		return 0;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vp->gfselect = value;
		return 0;
	case VIRTIO_PCI_COMMON_GF:
		driver_feature_write(vp, value);
		return 0;
	case VIRTIO_PCI_COMMON_MSIX:
		vp->config_msix = msix_vector(vp, value);
		return 0;
	case VIRTIO_PCI_COMMON_STATUS:
		return status_write(vp, (uint8_t)value);
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vp->queue_select = (uint16_t)value;
		return 0;
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return 0; /* read-only */
	default:
		return queue_write(vp, reg, value);
	}
}

/* --- BAR 0 */

/* §4.1.4.5: reading the ISR status clears it. */
static uint32_t isr_read(struct virtio_pci *vp)
{
	uint8_t isr = vp->isr;

	vp->isr = 0;
	return isr;
}

/* §4.1.4.6: device-specific configuration, through the device. */
static uint32_t device_cfg_read(struct virtio_pci *vp, uint32_t rel, unsigned size)
{
	if ((size != 1 && size != 2 && size != 4) || rel % size || !vp->ops->cfg_read)
		return 0;
	if (size > device_cfg_size(vp) || rel > device_cfg_size(vp) - size)
		return 0;
	return vp->ops->cfg_read(vp->dev, rel, size);
}

uint32_t virtio_pci_bar_read(struct virtio_pci *vp, uint32_t off, unsigned size)
{
	if (vpci_msix_covers(&vp->fn, 0, off))
		return vpci_msix_read(&vp->fn, off, size);
	if (in_window(off, VIO_BAR0_COMMON, VIRTIO_PCI_COMMON_SIZE))
		return common_read(vp, off - VIO_BAR0_COMMON, size);
	if (off == VIO_BAR0_ISR && size == 1)
		return isr_read(vp);
	if (in_window(off, VIO_BAR0_DEVICE, device_cfg_size(vp)))
		return device_cfg_read(vp, off - VIO_BAR0_DEVICE, size);
	return 0;
}

/* §4.1.4.4, §4.1.5.2: the driver writes the queue's 16-bit index at its
 * notify address, NOTIFY + queue_notify_off * multiplier; the address
 * names the queue. */
static unsigned notify_write(uint32_t rel, unsigned size, uint16_t *kick_queue)
{
	if (rel % VIO_NOTIFY_OFF_MULTIPLIER || (size != 2 && size != 4))
		return 0;
	if (kick_queue)
		*kick_queue = (uint16_t)(rel / VIO_NOTIFY_OFF_MULTIPLIER);
	return VIRTIO_PCI_EV_KICK;
}

unsigned virtio_pci_bar_write(struct virtio_pci *vp, uint32_t off, unsigned size, uint32_t value,
			      uint16_t *kick_queue)
{
	if (vpci_msix_covers(&vp->fn, 0, off)) {
		vpci_msix_write(&vp->fn, off, size, value);
		return in_window(off, VIO_BAR0_MSIX_TABLE, NUM_VECTORS * PCI_MSIX_ENTRY_SIZE)
			       ? VIRTIO_PCI_EV_MSIX
			       : 0;
	}
	if (in_window(off, VIO_BAR0_COMMON, VIRTIO_PCI_COMMON_SIZE))
		return common_write(vp, off - VIO_BAR0_COMMON, size, value);
	if (in_window(off, VIO_BAR0_NOTIFY, VIO_NOTIFY_OFF_MULTIPLIER * num_queues(vp)))
		return notify_write(off - VIO_BAR0_NOTIFY, size, kick_queue);
	/* the ISR is read-only; device configuration writes are ignored */
	return 0;
}
