/* The virtual switch (vio/switch.h; Liao et al., paper 002): MAC learning,
 * flooding and per-port counters, with no frame buffer of its own. A frame
 * stays where its sender put it (a gather list in the sender's RAM) and the
 * receiving port copies it once into its own posted buffers, so a forward
 * costs one copy per receiver and the switch never holds guest data.
 *
 * The forwarding database is searched linearly: VSW_FDB_SIZE is 256 entries
 * of 16 bytes (4 KiB, a few cache lines per 16 entries), one pass finds the
 * address, a free entry and the oldest entry at once, and the replacement
 * order is exact (least recently seen source first). A hash would need its
 * own replacement and collision rules for no gain at this size: the pass is
 * of the order of the 1.5 KiB copy every frame costs anyway. Revisit if
 * VSW_FDB_SIZE grows by an order of magnitude. */
#include "vio/switch.h"

#include <string.h>

#include "vio/virtio_regs.h"

#define ETH_ADDRS_LEN 12 /* destination and source address, the first bytes of a frame */

void vsw_init(struct vswitch *sw, const char *name)
{
	memset(sw, 0, sizeof(*sw));
	memcpy(sw->name, name, strnlen(name, VSW_NAME_MAX));
	for (unsigned i = 0; i < VSW_FDB_SIZE; i++)
		sw->fdb[i].port = -1;
}

int vsw_add_port(struct vswitch *sw, struct vsw_port *p, const uint8_t mac[6],
		 uint32_t tx_queue_len, const struct vsw_port_ops *ops, void *dev)
{
	if (sw->nports >= VSW_MAX_PORTS)
		return -1;
	memset(p, 0, sizeof(*p));
	p->sw = sw;
	p->index = (int)sw->nports;
	memcpy(p->mac, mac, sizeof(p->mac));
	p->tx_queue_len = tx_queue_len;
	p->ops = ops;
	p->dev = dev;
	sw->port[sw->nports++] = p;
	return 0;
}

/* Every segment inside the sender's RAM, and their total length. */
static bool frame_segs_ok(const struct gmem *g, const struct vq_seg *seg, uint16_t nseg,
			  uint64_t *total)
{
	*total = 0;
	for (uint16_t i = 0; i < nseg; i++) {
		if (!gmem_range_ok(g, seg[i].gpa, seg[i].len))
			return false;
		*total += seg[i].len;
	}
	return true;
}

bool vsw_frame_init(struct vsw_frame *f, const struct gmem *g, const struct vq_seg *seg,
		    uint16_t nseg, uint32_t skip)
{
	uint8_t addrs[ETH_ADDRS_LEN];
	struct gmem host = {.base = addrs, .size = sizeof(addrs)};
	uint64_t total;

	if (!frame_segs_ok(g, seg, nseg, &total) || total < skip)
		return false;
	total -= skip;
	if (total < VIO_ETH_MIN_FRAME || total > VIO_ETH_MAX_FRAME)
		return false;
	*f = (struct vsw_frame){.gmem = g, .seg = seg, .nseg = nseg, .skip = skip};
	f->len = (uint32_t)total;
	/* Copied once: the sender may rewrite its buffer at any time, and the
	 * switch must decide on the addresses it learned from (gmem.h). */
	if (!vsw_frame_copy(f, 0, &host, 0, sizeof(addrs)))
		return false;
	memcpy(f->dst, addrs, 6);
	memcpy(f->src, addrs + 6, 6);
	return true;
}

bool vsw_frame_copy(const struct vsw_frame *f, uint32_t from, const struct gmem *dst, uint64_t gpa,
		    uint32_t len)
{
	uint64_t off = (uint64_t)f->skip + from; /* into the segments, header included */

	if (from > f->len || len > f->len - from)
		return false;
	for (uint16_t i = 0; i < f->nseg && len; i++) {
		uint32_t n;

		if (off >= f->seg[i].len) {
			off -= f->seg[i].len;
			continue;
		}
		n = f->seg[i].len - (uint32_t)off;
		if (n > len)
			n = len;
		if (!gmem_copy(dst, gpa, f->gmem, f->seg[i].gpa + off, n))
			return false;
		gpa += n;
		len -= n;
		off = 0;
	}
	return len == 0;
}

/* The I/G bit, bit 0 of the first octet (IEEE 802): a group address,
 * broadcast included. It is never a valid source, so it is never learned. */
static bool is_group(const uint8_t mac[6])
{
	return mac[0] & 1;
}

static int fdb_find(const struct vswitch *sw, const uint8_t mac[6])
{
	for (int i = 0; i < VSW_FDB_SIZE; i++)
		if (sw->fdb[i].port >= 0 && !memcmp(sw->fdb[i].mac, mac, 6))
			return i;
	return -1;
}

/* A free entry, else the one whose source was seen longest ago. */
static int fdb_victim(const struct vswitch *sw)
{
	int oldest = 0;

	for (int i = 0; i < VSW_FDB_SIZE; i++) {
		if (sw->fdb[i].port < 0)
			return i;
		if (sw->fdb[i].stamp < sw->fdb[oldest].stamp)
			oldest = i;
	}
	return oldest;
}

/* Learns (or moves, when a station now sends from another port: it was
 * migrated or re-plugged) the source address and refreshes its age. */
static void fdb_learn(struct vswitch *sw, const uint8_t mac[6], int port)
{
	int i = fdb_find(sw, mac);

	if (i < 0) {
		i = fdb_victim(sw);
		memcpy(sw->fdb[i].mac, mac, 6);
		sw->fdb[i].port = -1;
	}
	if (sw->fdb[i].port != port)
		sw->learned++; /* a new entry or a move */
	sw->fdb[i].port = (int16_t)port;
	sw->fdb[i].stamp = sw->clock;
}

static void count_rx(struct vsw_port *p, const struct vsw_frame *f)
{
	p->stats.rx_frames++;
	p->stats.rx_bytes += f->len;
}

/* Broadcast, multicast and unknown unicast go to every port but the
 * sender's; a port that cannot take its copy loses only that copy, so one
 * slow receiver never holds up the others or the sender. */
static void flood(struct vswitch *sw, const struct vsw_port *in, const struct vsw_frame *f)
{
	sw->floods++;
	for (unsigned i = 0; i < sw->nports; i++) {
		struct vsw_port *p = sw->port[i];

		if (p == in)
			continue;
		switch (p->ops->receive(p->dev, f)) {
		case VSW_RX_OK:
			count_rx(p, f);
			break;
		case VSW_RX_NO_BUFFER:
			p->stats.drop_no_buffer++;
			break;
		case VSW_RX_DOWN:
			p->stats.drop_down++;
			break;
		}
	}
}

/* A known unicast: its one receiver either takes it, is down (the frame is
 * lost, as on a cable to a powered-off host), or has no buffer, when the
 * sender keeps the frame and tries again (design: a local switch loses
 * nothing to a slow receiver). */
static enum vsw_fwd unicast(struct vsw_port *in, struct vsw_port *out, const struct vsw_frame *f)
{
	switch (out->ops->receive(out->dev, f)) {
	case VSW_RX_OK:
		count_rx(out, f);
		break;
	case VSW_RX_NO_BUFFER:
		in->stats.blocked++; /* counts attempts: a retry that blocks again counts again */
		return VSW_FWD_BLOCKED;
	case VSW_RX_DOWN:
		out->stats.drop_down++;
		break;
	}
	return VSW_FWD_DONE;
}

enum vsw_fwd vsw_forward(struct vswitch *sw, struct vsw_port *in, const struct vsw_frame *f)
{
	int e;

	sw->clock++;
	if (!is_group(f->src))
		fdb_learn(sw, f->src, in->index);
	e = is_group(f->dst) ? -1 : fdb_find(sw, f->dst);
	if (e < 0)
		flood(sw, in, f);
	else if (sw->fdb[e].port != in->index &&
		 unicast(in, sw->port[sw->fdb[e].port], f) == VSW_FWD_BLOCKED)
		return VSW_FWD_BLOCKED;
	/* A destination on the sender's own port is filtered (IEEE 802.1D
	 * frame filtering): the frame never leaves the port it came from. */
	in->stats.tx_frames++;
	in->stats.tx_bytes += f->len;
	return VSW_FWD_DONE;
}
