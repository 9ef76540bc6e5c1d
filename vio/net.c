/* virtio-net (virtio 1.1 §5.1) as a port of the virtual switch (vio/net.h).
 *
 * Transmit (§5.1.6.2): a chain is a 12-byte virtio-net header (VERSION_1
 * layout, §5.1.6) followed by the frame, all device-readable; no offload is
 * offered, so the header carries nothing the device must act on and is
 * skipped. The frame is forwarded where it lies (switch.h). Frames leave the
 * port in the order the driver queued them, as from a NIC's one transmit
 * queue: once a frame waits for its receiver's buffers, the frames popped
 * after it wait behind it, untried, and nothing new is popped while any
 * waits. A frame to another receiver is held up too, but no receiver ever
 * sees a port's frames out of order (which TCP reads as loss), and the
 * port's own TX ring is the queue beyond the wait ring.
 *
 * Receive (§5.1.6.3, §5.1.6.4): the frame goes behind a zeroed header whose
 * num_buffers says how many chains it fills. Without MRG_RXBUF that is one
 * chain, which must hold header and frame (drivers SHOULD post 1526 bytes,
 * §5.1.6.3.1). With it, the frame may spread over several chains, every one
 * but the last filled completely (§5.1.6.4.1). Whether the posted chains
 * suffice is only known after popping them, and a popped chain goes back
 * only through the used ring; so chains popped for a frame they do not
 * suffice for stay in a reserve (struct vnet's rx ring) and serve the next
 * frame. Chains that can never hold a frame are returned unused (length 0,
 * which Linux counts as a length error and refills), so a driver posting
 * them cannot wedge its senders: a chain split into more than VNET_RX_SEGS
 * segments within its first 1526 bytes, a chain too short without MRG_RXBUF,
 * and a reserve of VNET_RX_CHAINS chains still too short for the frame
 * (buffers under 96 bytes on average; Linux posts at least 1530 bytes,
 * DPDK and FreeBSD about 2 KiB). */
#include "vio/net.h"

#include <stddef.h>
#include <string.h>

#include "vio/pci_regs.h"

#define FEATURE(bit) (1ull << (bit))
#define RX_MAX_BYTES (VIRTIO_NET_HDR_SIZE + VIO_ETH_MAX_FRAME) /* the most one frame takes */
#define USED_IDX     2 /* used ring: le16 flags, le16 idx (§2.6.8) */

enum tx_take { TX_EMPTY, TX_COMPLETED, TX_WAITING, TX_VIOLATION };

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* §5.1.4 device configuration layout: mac, status; max_virtqueue_pairs
 * (without MQ, not meaningful) reads 1. */
static uint32_t vnet_cfg_read(void *dev, uint32_t off, unsigned size)
{
	const struct vnet *n = dev;
	uint8_t cfg[VIRTIO_NET_CFG_SIZE] = {0};
	uint32_t v = 0;

	memcpy(cfg + VIRTIO_NET_CFG_MAC, n->mac, 6);
	put_le(cfg + VIRTIO_NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP, 2);
	put_le(cfg + VIRTIO_NET_CFG_STATUS + 2, 1, 2);
	for (unsigned i = 0; i < size && i < 4; i++)
		if (off < sizeof(cfg) && i < sizeof(cfg) - off)
			v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

static void vnet_reset_cb(void *dev)
{
	vnet_reset(dev);
}

static const struct virtio_dev_ops vnet_ops = {
	.features = FEATURE(VIRTIO_NET_F_MAC) | FEATURE(VIRTIO_NET_F_STATUS) |
		    FEATURE(VIRTIO_NET_F_MRG_RXBUF),
	.device_id = VIRTIO_ID_NET,
	.class_code = PCI_CLASS_NETWORK_ETHERNET << 8,
	.num_queues = 2,
	.cfg_read = vnet_cfg_read,
	.cfg_size = VIRTIO_NET_CFG_SIZE,
	.reset = vnet_reset_cb,
};

static enum vsw_rx vnet_receive(void *dev, const struct vsw_frame *f);

const struct vsw_port_ops vnet_port_ops = {.receive = vnet_receive};

int vnet_init(struct vnet *n, const struct gmem *g, const uint8_t mac[6], struct vswitch *sw,
	      uint32_t tx_queue_len, struct vnet_tx_wait *wait)
{
	/* At least one slot: a frame popped and then blocked must have a place
	 * to wait, or it would be lost. */
	if (!wait || tx_queue_len == 0 || tx_queue_len > VNET_TX_QUEUE_MAX)
		return -1;
	memset(n, 0, sizeof(*n));
	memcpy(n->mac, mac, sizeof(n->mac));
	n->wait = wait;
	n->error_queue = -1;
	virtio_pci_init(&n->vp, &vnet_ops, n, g);
	return vsw_add_port(sw, &n->port, mac, tx_queue_len, &vnet_port_ops, n);
}

void vnet_reset(struct vnet *n)
{
	n->wait_head = 0;
	n->wait_count = 0;
	n->rx_first = 0;
	n->rx_count = 0;
	n->rx_used = false;
	n->tx_used = false;
	n->error = NULL;
	n->error_queue = -1;
}

bool vnet_tx_waiting(const struct vnet *n)
{
	/* A device that is not live cannot send them before its reset drops
	 * them: that is no work to poll for. */
	return n->wait_count && virtio_pci_live(&n->vp);
}

static int fail(struct vnet *n, int queue, const char *why)
{
	n->error = why;
	n->error_queue = queue;
	return -1;
}

/* --- transmit */

static void tx_complete(struct vnet *n, struct virtqueue *q, uint16_t head)
{
	vq_push(q, n->vp.gmem, head, 0); /* the device wrote nothing (§2.6.8) */
	n->tx_used = true;
}

static void tx_wait(struct vnet *n, const struct vq_chain *c)
{
	struct vnet_tx_wait *w = &n->wait[(n->wait_head + n->wait_count) % n->port.tx_queue_len];

	w->head = c->head;
	w->nseg = c->nseg;
	memcpy(w->seg, c->seg, c->nseg * sizeof(c->seg[0]));
	n->wait_count++;
}

/* Forwards the waiting frames, oldest first, until one is still blocked
 * (it stays first, so the order holds). Returns how many completed. */
static unsigned tx_retry(struct vnet *n, struct virtqueue *q, unsigned budget)
{
	unsigned done = 0;

	while (n->wait_count && done < budget) {
		const struct vnet_tx_wait *w = &n->wait[n->wait_head];
		struct vsw_frame f;

		/* The segments are our copy and were valid when popped; the
		 * addresses are read again, as the guest owns the bytes. */
		if (!vsw_frame_init(&f, n->vp.gmem, w->seg, w->nseg, VIRTIO_NET_HDR_SIZE))
			n->port.stats.drop_bad_frame++;
		else if (vsw_forward(n->port.sw, &n->port, &f) == VSW_FWD_BLOCKED)
			break;
		tx_complete(n, q, w->head);
		n->wait_head = (n->wait_head + 1) % n->port.tx_queue_len;
		n->wait_count--;
		done++;
	}
	return done;
}

/* Takes one chain and forwards it, or queues it behind waiting frames. A
 * writable buffer or a chain shorter than the header is the driver breaking
 * §5.1.6.2 (point 3's guards: the device stops); a frame that is no
 * Ethernet frame, or too scattered to keep, is the guest's own loss. */
static enum tx_take tx_take(struct vnet *n, struct virtqueue *q)
{
	struct vq_chain *c = &n->chain;
	struct vsw_frame f;
	int r = vq_pop(q, n->vp.gmem, c);
	const char *why = NULL;

	if (r == 0)
		return TX_EMPTY;
	if (r < 0)
		why = vq_error_name((enum vq_error)(-r));
	else if (c->nread != c->nseg)
		why = "net tx: device-writable buffer in a transmit chain";
	else if (c->read_bytes < VIRTIO_NET_HDR_SIZE)
		why = "net tx: chain shorter than the virtio-net header";
	if (why) {
		fail(n, VIRTIO_NET_Q_TX, why);
		return TX_VIOLATION;
	}
	if (c->nseg > VNET_TX_SEGS ||
	    !vsw_frame_init(&f, n->vp.gmem, c->seg, c->nseg, VIRTIO_NET_HDR_SIZE)) {
		n->port.stats.drop_bad_frame++;
		tx_complete(n, q, c->head);
		return TX_COMPLETED;
	}
	if (!n->wait_count && vsw_forward(n->port.sw, &n->port, &f) == VSW_FWD_DONE) {
		tx_complete(n, q, c->head);
		return TX_COMPLETED;
	}
	tx_wait(n, c);
	return TX_WAITING;
}

int vnet_process_tx(struct vnet *n, unsigned budget)
{
	struct virtqueue *q = virtio_pci_queue(&n->vp, VIRTIO_NET_Q_TX);
	unsigned done, used;

	if (!q)
		return 0;
	/* A guard that failed on the RX side, inside another port's send:
	 * reported by this device's own call. */
	if (n->error)
		return -1;
	done = tx_retry(n, q, budget);
	if (n->wait_count)
		return (int)done;
	for (used = done; used < budget && n->wait_count < n->port.tx_queue_len; used++) {
		enum tx_take r = tx_take(n, q);

		if (r == TX_VIOLATION)
			return -1;
		if (r == TX_EMPTY)
			break;
		done += r == TX_COMPLETED;
	}
	return (int)done;
}

/* --- receive */

static bool rx_mergeable(const struct vnet *n)
{
	return n->vp.driver_features & FEATURE(VIRTIO_NET_F_MRG_RXBUF);
}

static struct vnet_rx_buf *rx_buf(struct vnet *n, unsigned i)
{
	return &n->rx[(n->rx_first + i) % VNET_RX_CHAINS];
}

/* Keeps the segments covering the most a frame takes; false (nothing kept)
 * when they are more than VNET_RX_SEGS. A chain kept in part holds at least
 * RX_MAX_BYTES, so it is always the last of a frame: the chains before it
 * are kept whole and can be filled completely (§5.1.6.4.1). */
static bool rx_keep(struct vnet *n, const struct vq_chain *c)
{
	struct vnet_rx_buf *b = rx_buf(n, n->rx_count);

	b->head = c->head;
	b->bytes = 0;
	for (b->nseg = 0; b->nseg < c->nseg && b->bytes < RX_MAX_BYTES; b->nseg++) {
		if (b->nseg == VNET_RX_SEGS)
			return false;
		b->seg[b->nseg] = c->seg[b->nseg];
		b->bytes += c->seg[b->nseg].len;
	}
	n->rx_count++;
	return true;
}

/* Pops one chain into the reserve: 1 when one was taken (kept, or returned
 * unused), 0 when the ring is empty, -1 on a guard violation. */
static int rx_take(struct vnet *n, struct virtqueue *q)
{
	struct vq_chain *c = &n->rx_chain; /* not n->chain: TX may be running on another core */
	int r = vq_pop(q, n->vp.gmem, c);

	if (r <= 0)
		return r < 0 ? fail(n, VIRTIO_NET_Q_RX, vq_error_name((enum vq_error)(-r))) : 0;
	if (c->nread)
		return fail(n, VIRTIO_NET_Q_RX,
			    "net rx: device-readable buffer in a receive chain");
	/* §5.1.6.3.1: with MRG_RXBUF "each buffer MUST be at least the size
	 * of the struct virtio_net_hdr". */
	if (rx_mergeable(n) && c->write_bytes < VIRTIO_NET_HDR_SIZE)
		return fail(n, VIRTIO_NET_Q_RX,
			    "net rx: buffer shorter than the virtio-net header");
	if (!rx_keep(n, c)) {
		vq_push(q, n->vp.gmem, c->head, 0);
		n->rx_used = true;
	}
	return 1;
}

/* Returns every reserved chain unused: together they cannot hold a frame. */
static void rx_release(struct vnet *n, struct virtqueue *q)
{
	for (unsigned i = 0; i < n->rx_count; i++)
		vq_push(q, n->vp.gmem, rx_buf(n, i)->head, 0);
	n->rx_used = n->rx_used || n->rx_count;
	n->rx_first = 0;
	n->rx_count = 0;
}

/* How many reserved chains hold `need` bytes, or 0 when they do not. */
static unsigned rx_chains_for(struct vnet *n, uint32_t need)
{
	uint64_t have = 0;

	for (unsigned i = 0; i < n->rx_count; i++) {
		have += rx_buf(n, i)->bytes;
		if (have >= need)
			return i + 1;
	}
	return 0;
}

/* Makes the reserve hold `need` bytes in at most `max` chains: their number,
 * 0 when the ring ran dry (the reserve is kept for the next frame), -1 on a
 * guard violation. At most a ring's worth of chains is popped, so a driver
 * refilling with unusable chains as fast as they return cannot keep the
 * device here. */
static int rx_reserve(struct vnet *n, struct virtqueue *q, uint32_t need, unsigned max)
{
	unsigned k, popped = 0;
	int r;

	while (!(k = rx_chains_for(n, need))) {
		if (n->rx_count >= max) {
			rx_release(n, q);
			return 0;
		}
		if (popped++ == q->size)
			return 0;
		r = rx_take(n, q);
		if (r <= 0)
			return r;
	}
	return (int)k;
}

/* Writes bytes [pos, pos + len) of header-then-frame at `gpa`. */
static bool rx_put(struct vnet *n, const struct vsw_frame *f, const uint8_t *hdr, uint32_t pos,
		   uint64_t gpa, uint32_t len)
{
	const struct gmem *g = n->vp.gmem;
	uint32_t h = 0;

	if (pos < VIRTIO_NET_HDR_SIZE) {
		h = VIRTIO_NET_HDR_SIZE - pos < len ? VIRTIO_NET_HDR_SIZE - pos : len;
		if (!gmem_write(g, gpa, hdr + pos, h))
			return false;
		if (h == len)
			return true;
	}
	/* here pos + h >= VIRTIO_NET_HDR_SIZE */
	return vsw_frame_copy(f, pos + h - VIRTIO_NET_HDR_SIZE, g, gpa + h, len - h);
}

/* The header (num_buffers = k, the rest 0: no offload negotiated) and the
 * frame over the first k reserved chains, each filled before the next. */
static bool rx_fill(struct vnet *n, const struct vsw_frame *f, unsigned k, uint32_t need)
{
	uint8_t hdr[VIRTIO_NET_HDR_SIZE] = {0};
	uint32_t pos = 0;

	put_le(hdr + VIRTIO_NET_HDR_NUM_BUFFERS, k, 2);
	for (unsigned i = 0; i < k; i++) {
		const struct vnet_rx_buf *b = rx_buf(n, i);

		for (unsigned s = 0; s < b->nseg && pos < need; s++) {
			uint32_t len = b->seg[s].len < need - pos ? b->seg[s].len : need - pos;

			if (!rx_put(n, f, hdr, pos, b->seg[s].gpa, len))
				return false;
			pos += len;
		}
	}
	return pos == need;
}

/* §5.1.6.4.1: "The device MUST use all buffers used by a single receive
 * packet together, such that at least num_buffers are observed by driver
 * as used." A vq_push per chain would move the used index after each, and a
 * driver polling on another CPU could find fewer chains than num_buffers
 * (Linux drops the packet: "buffers missing"). So all the used elements are
 * written first, then the index moves once, as vq_push does for one
 * (§2.6.8). The chains' lengths: all but the last full (§5.1.6.4.1). */
static void rx_push(struct vnet *n, struct virtqueue *q, unsigned k, uint32_t need)
{
	const struct gmem *g = n->vp.gmem;
	uint8_t elem[VIRTQ_USED_ELEM_SIZE];

	for (unsigned i = 0; i < k; i++) {
		const struct vnet_rx_buf *b = rx_buf(n, i);
		uint32_t len = i + 1 < k ? b->bytes : need;
		uint16_t slot = (uint16_t)(q->used_idx + i) % q->size;

		need -= len;
		put_le(elem, b->head, 4);
		put_le(elem + 4, len, 4);
		gmem_write(g, q->used + VIRTQ_USED_RING(slot), elem, sizeof(elem));
	}
	q->used_idx = (uint16_t)(q->used_idx + k);
	gmem_store16(g, q->used + USED_IDX, q->used_idx);
	n->rx_first = (uint16_t)((n->rx_first + k) % VNET_RX_CHAINS);
	n->rx_count = (uint16_t)(n->rx_count - k);
	n->rx_used = true;
}

/* The switch's delivery into this device's RX queue. A guard violation
 * leaves n->error set and answers DOWN from then on; the device's next
 * vnet_process_tx reports it. */
static enum vsw_rx vnet_receive(void *dev, const struct vsw_frame *f)
{
	struct vnet *n = dev;
	struct virtqueue *q = virtio_pci_queue(&n->vp, VIRTIO_NET_Q_RX);
	uint32_t need = VIRTIO_NET_HDR_SIZE + f->len;
	int k;

	if (!q || n->error)
		return VSW_RX_DOWN;
	k = rx_reserve(n, q, need, rx_mergeable(n) ? VNET_RX_CHAINS : 1);
	if (k < 0)
		return VSW_RX_DOWN;
	if (k == 0)
		return VSW_RX_NO_BUFFER;
	/* Both sides were checked to lie in RAM (vsw_frame_init, vq_pop). */
	if (!rx_fill(n, f, (unsigned)k, need)) {
		fail(n, VIRTIO_NET_Q_RX, "net rx: buffer outside guest memory");
		return VSW_RX_DOWN;
	}
	rx_push(n, q, (unsigned)k, need);
	return VSW_RX_OK;
}
