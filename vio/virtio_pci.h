/* The virtio 1.x modern PCI transport (virtio 1.1 §4.1) of one device: the
 * PCI function with its capabilities (common, notify, ISR, device config),
 * feature negotiation, the status state machine, device reset, queue set-up
 * and enable, the notify registers and interrupts by MSI-X. BAR 0 is laid
 * out as VIO_BAR0_* in vio/virtio_regs.h. The device itself (blk, net) is
 * reached through `struct virtio_dev_ops`; this file knows nothing of it.
 *
 * The caller serializes every call on one device (a lock held by the vCPU's
 * exit handler and by the I/O core alike). Register writes return events the
 * caller acts on: a kick to pass to the I/O core, a reset, DRIVER_OK. */
#ifndef VIO_VIRTIO_PCI_H
#define VIO_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "vio/gmem.h"
#include "vio/pci.h"
#include "vio/virtio_regs.h"
#include "vio/virtqueue.h"

#define VIRTIO_PCI_MAX_QUEUES 4

struct virtio_dev_ops {
	/* Device-type feature bits offered (the transport adds VERSION_1,
	 * EVENT_IDX and INDIRECT_DESC). */
	uint64_t features;
	uint16_t device_id; /* VIRTIO_ID_BLOCK, VIRTIO_ID_NET */
	uint32_t class_code;
	uint16_t num_queues;
	/* Device configuration space (§4.1.4.6), `size` bytes at `off`. */
	uint32_t (*cfg_read)(void *dev, uint32_t off, unsigned size);
	uint32_t cfg_size;
	/* The driver reset the device (or the transport did, after
	 * NEEDS_RESET): forget every request in flight. */
	void (*reset)(void *dev);
};

struct virtio_pci_queue {
	struct virtqueue vq; /* valid once enabled */
	uint16_t size;	     /* what the driver chose (≤ VQ_MAX_SIZE) */
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, driver, device;
};

/* Bits of the value virtio_pci_bar_write returns. */
#define VIRTIO_PCI_EV_KICK	0x1 /* queue *kick_queue was notified */
#define VIRTIO_PCI_EV_RESET	0x2 /* the driver wrote 0 to the status */
#define VIRTIO_PCI_EV_DRIVER_OK 0x4 /* the device went live */
#define VIRTIO_PCI_EV_MSIX	0x8 /* an MSI-X vector may have been unmasked */

struct virtio_pci {
	struct vpci_fn fn;
	const struct virtio_dev_ops *ops;
	void *dev;
	const struct gmem *gmem;
	uint64_t device_features, driver_features;
	uint32_t dfselect, gfselect;
	uint8_t status, isr, generation;
	uint16_t queue_select, config_msix;
	struct virtio_pci_queue q[VIRTIO_PCI_MAX_QUEUES];
	/* Why the device stopped (NEEDS_RESET), for the `@vio_error` record;
	 * NULL while it works. */
	const char *failure;
	int failed_queue;
};

/* Sets up the PCI function (vendor 0x1af4, device 0x1040 + id, BAR 0 with
 * the capabilities and VIRTIO_PCI_MAX_QUEUES + 1 MSI-X vectors). */
void virtio_pci_init(struct virtio_pci *vp, const struct virtio_dev_ops *ops, void *dev,
		     const struct gmem *gmem);

/* Accesses to BAR 0 at `off` (common, ISR, device, notify; the MSI-X table
 * and PBA too): reads, and writes returning VIRTIO_PCI_EV_* with the kicked
 * queue in *kick_queue. Reading the ISR clears it. */
uint32_t virtio_pci_bar_read(struct virtio_pci *vp, uint32_t off, unsigned size);
unsigned virtio_pci_bar_write(struct virtio_pci *vp, uint32_t off, unsigned size, uint32_t value,
			      uint16_t *kick_queue);

/* Whether the device is live: DRIVER_OK, not NEEDS_RESET or FAILED. */
bool virtio_pci_live(const struct virtio_pci *vp);
/* Queue `q`, or NULL unless it is enabled and the device is live. */
struct virtqueue *virtio_pci_queue(struct virtio_pci *vp, unsigned q);

/* The device used buffers of queue `q`: sets the ISR's queue bit and returns
 * true with *msg when an MSI-X message is to be sent now (the queue's vector
 * set and unmasked, and vq_should_interrupt agreed); with a masked vector the
 * message waits in the PBA. */
bool virtio_pci_queue_interrupt(struct virtio_pci *vp, unsigned q, struct msi_msg *msg);

/* A guard of the queue processing failed: the device enters NEEDS_RESET
 * (§2.1.2), records `why` and `q`, stops until the driver resets it, and the
 * config-change interrupt is returned in *msg when it can go out now. */
bool virtio_pci_fail(struct virtio_pci *vp, unsigned q, const char *why, struct msi_msg *msg);

#endif
