/* virtio-net (virtio 1.1 §5.1) as a port of a virtual switch: one receive
 * and one transmit queue, features MAC, STATUS, MRG_RXBUF. Transmit takes
 * chains from the TX queue and forwards each frame through the switch; a
 * unicast frame whose receiver has no buffer posted waits, and the frames
 * taken after it wait behind it, in order (at most `tx_queue_len` of them;
 * then the port stops taking from its TX queue until they drain, so a local
 * switch loses nothing to a slow receiver). Receive
 * copies a frame, behind a virtio-net header, into the posted RX buffers
 * (several with MRG_RXBUF, num_buffers telling how many). */
#ifndef VIO_NET_H
#define VIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "vio/gmem.h"
#include "vio/switch.h"
#include "vio/virtio_pci.h"
#include "vio/virtqueue.h"

#define VNET_TX_QUEUE_MAX CONFIG_TX_QUEUE_MAX /* the largest tx_queue_len */
#define VNET_TX_SEGS	  32		      /* segments of one TX frame, header included */
#define VNET_RX_CHAINS	  16		      /* RX chains one frame may fill (MRG_RXBUF) */
#define VNET_RX_SEGS	  8		      /* segments of one RX chain the device writes */

/* A sent frame that waits for its receiver's buffers. */
struct vnet_tx_wait {
	uint16_t head, nseg;
	struct vq_seg seg[VNET_TX_SEGS];
};

/* An RX chain taken from the ring and not used yet: its writable segments
 * (those covering the largest header and frame). */
struct vnet_rx_buf {
	uint16_t head, nseg;
	uint32_t bytes; /* in seg[] */
	struct vq_seg seg[VNET_RX_SEGS];
};

struct vnet {
	struct virtio_pci vp;
	struct vsw_port port;
	uint8_t mac[6];
	/* Waiting frames, a ring of tx_queue_len entries, oldest first. */
	struct vnet_tx_wait *wait;
	uint32_t wait_head, wait_count;
	struct vq_chain chain;	  /* scratch for vq_pop on the TX queue */
	struct vq_chain rx_chain; /* ... and on the RX queue: a sender's I/O core
				   * may receive into this device while its own
				   * I/O core transmits from it */
	/* RX chains popped for a frame they did not suffice for, a ring of
	 * VNET_RX_CHAINS from rx_first: a popped chain can only go back
	 * through the used ring, so it waits here for the next frame. */
	struct vnet_rx_buf rx[VNET_RX_CHAINS];
	uint16_t rx_first, rx_count;
	/* Set when a queue's used ring moved and the driver may want an
	 * interrupt; the caller signals and clears them. */
	bool rx_used, tx_used;
	/* Why the last call failed (a guard of point 3), for `@vio_error`;
	 * the queue in error_queue. */
	const char *error;
	int error_queue;
};

/* A device with `mac` on switch `sw`; `wait` holds room for tx_queue_len
 * waiting frames (the caller allocates it). 0, or -1 when the switch is
 * full or tx_queue_len is not in 1..VNET_TX_QUEUE_MAX. */
int vnet_init(struct vnet *n, const struct gmem *g, const uint8_t mac[6], struct vswitch *sw,
	      uint32_t tx_queue_len, struct vnet_tx_wait *wait);

/* Sends up to `budget` frames from the TX queue through the switch, first
 * the waiting ones. Returns how many went (delivered or dropped), or -1 on a
 * guard violation (n->error; the caller calls virtio_pci_fail on
 * n->error_queue). The switch's receive callbacks run inside, on the
 * receivers' devices: the caller holds what serializes those. */
int vnet_process_tx(struct vnet *n, unsigned budget);

/* Whether frames wait for a receiver on a live device (the port then has
 * work even with an empty TX ring). */
bool vnet_tx_waiting(const struct vnet *n);

/* The driver reset the device: waiting frames and unused RX chains are
 * forgotten (the rings they came from are gone). */
void vnet_reset(struct vnet *n);

/* The vsw_port_ops of a virtio-net port (receive into the RX queue). */
extern const struct vsw_port_ops vnet_port_ops;

#endif
