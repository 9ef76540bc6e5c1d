/* virtio-blk (virtio 1.1 §5.2) on the modern PCI transport: requests parsed
 * from the request queue's chains and handed to a backend (vio/blk.h).
 *
 * A request (§5.2.6) is a 16-byte header the device reads (le32 type, le32
 * reserved, le64 sector), the data, and a status byte the device writes, the
 * last byte of the chain. The driver may lay these over its buffers as it
 * likes (§2.6.4, "message framing"): the header may share a buffer with OUT
 * data and the status byte with IN data, so both are found by byte offsets,
 * not by buffer counts. The chain was copied and checked by vq_pop; the
 * header is copied once out of guest memory and then used. */
#include "vio/blk.h"

#include <string.h>

#include "vio/pci_regs.h"

/* What became of a request being started: malformed (b->error says why),
 * completed by the device or handed to the backend, or refused by it. */
enum start_result { START_VIOLATION = -1, STARTED, REFUSED };

/* A request being started: what its header asked, the data buffers found,
 * and the one buffer of the chain trimmed in place to exclude the header or
 * the status byte (put back when the backend refuses it). */
struct vblk_req {
	uint32_t type;
	uint64_t sector;
	struct blk_io io;
	int trimmed; /* index in chain.seg, or -1 */
	struct vq_seg untrimmed;
};

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The header's fields are little-endian (§5.2.6), as is x86_64. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio 1.x is little-endian");

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* §5.2.4 device configuration layout; bytes of fields not offered read 0. */
static uint32_t vblk_cfg_read(void *dev, uint32_t off, unsigned size)
{
	const struct vblk *b = dev;
	uint8_t cfg[VIRTIO_BLK_CFG_SIZE] = {0};
	uint32_t v = 0;

	put_le(cfg + VIRTIO_BLK_CFG_CAPACITY, b->capacity, 8);
	put_le(cfg + VIRTIO_BLK_CFG_SIZE_MAX, VBLK_SIZE_MAX, 4);
	put_le(cfg + VIRTIO_BLK_CFG_SEG_MAX, VBLK_SEG_MAX, 4);
	put_le(cfg + VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR, 4);
	for (unsigned i = 0; i < size && i < 4; i++)
		if (off < sizeof(cfg) && i < sizeof(cfg) - off)
			v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

static void vblk_reset_cb(void *dev)
{
	vblk_reset(dev);
}

static const struct virtio_dev_ops vblk_dev_ops = {
	.features = (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		    (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH),
	.device_id = VIRTIO_ID_BLOCK,
	.class_code = PCI_CLASS_STORAGE_SCSI << 8,
	.num_queues = 1,
	.cfg_read = vblk_cfg_read,
	.cfg_size = VIRTIO_BLK_CFG_SIZE,
	.reset = vblk_reset_cb,
};

void vblk_init(struct vblk *b, const struct gmem *g, uint64_t capacity, const char *serial,
	       const struct blk_backend_ops *ops, void *backend)
{
	memset(b, 0, sizeof(*b));
	b->capacity = capacity;
	for (unsigned i = 0; serial && serial[i] && i < VIRTIO_BLK_ID_BYTES; i++)
		b->serial[i] = serial[i];
	b->backend_ops = ops;
	b->backend = backend;
	virtio_pci_init(&b->vp, &vblk_dev_ops, b, g);
}

/* Copies the first `len` bytes held by seg[0..nseg) to `dst`. */
static bool gather(const struct gmem *g, const struct vq_seg *seg, unsigned nseg, uint8_t *dst,
		   uint64_t len)
{
	for (unsigned i = 0; i < nseg && len; i++) {
		uint64_t n = seg[i].len < len ? seg[i].len : len;

		if (!gmem_read(g, seg[i].gpa, dst, n))
			return false;
		dst += n;
		len -= n;
	}
	return len == 0;
}

/* Copies up to `len` bytes of `src` into seg[0..nseg), front first; returns
 * how many fit. */
static uint64_t scatter(const struct gmem *g, const struct vq_seg *seg, unsigned nseg,
			const uint8_t *src, uint64_t len)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < nseg && done < len; i++) {
		uint64_t n = seg[i].len < len - done ? seg[i].len : len - done;

		if (!gmem_write(g, seg[i].gpa, src + done, n))
			break;
		done += n;
	}
	return done;
}

static void trim(struct vblk_req *r, struct vq_chain *c, unsigned i)
{
	r->trimmed = (int)i;
	r->untrimmed = c->seg[i];
}

/* IN and GET_ID: the data is every device-writable byte before the status
 * byte, which may share the last buffer. Readable bytes past the header are
 * not an IN request's: false. */
static bool find_in_data(struct vblk_req *r, struct vq_chain *c)
{
	struct vq_seg *last = &c->seg[c->nseg - 1];

	if (c->read_bytes != VIRTIO_BLK_HDR_SIZE)
		return false;
	r->io.seg = &c->seg[c->nread];
	r->io.nseg = (uint16_t)(c->nseg - c->nread - 1);
	r->io.bytes = c->write_bytes - 1;
	if (last->len > 1) {
		trim(r, c, c->nseg - 1);
		last->len--;
		r->io.nseg++;
	}
	return true;
}

/* OUT: the data is every readable byte after the header, which may end
 * inside a buffer. A writable byte besides the status is not an OUT
 * request's: false. */
static bool find_out_data(struct vblk_req *r, struct vq_chain *c)
{
	uint64_t skip = VIRTIO_BLK_HDR_SIZE;
	unsigned i = 0;

	if (c->write_bytes != 1)
		return false;
	while (i < c->nread && skip >= c->seg[i].len)
		skip -= c->seg[i++].len;
	r->io.seg = &c->seg[i];
	r->io.nseg = (uint16_t)(c->nread - i);
	r->io.bytes = c->read_bytes - VIRTIO_BLK_HDR_SIZE;
	if (skip) {
		trim(r, c, i);
		c->seg[i].gpa += skip;
		c->seg[i].len -= (uint32_t)skip;
	}
	return true;
}

static void untrim(struct vblk_req *r, struct vq_chain *c)
{
	if (r->trimmed >= 0)
		c->seg[r->trimmed] = r->untrimmed;
	r->trimmed = -1;
}

/* §5.2.6.1: whole sectors, all inside the disk (overflow-safe). */
static bool range_ok(const struct vblk *b, const struct vblk_req *r)
{
	uint64_t sectors = r->io.bytes / VIRTIO_BLK_SECTOR;

	return r->io.bytes % VIRTIO_BLK_SECTOR == 0 && r->sector <= b->capacity &&
	       sectors <= b->capacity - r->sector;
}

static void count_type(struct vblk *b, uint32_t type)
{
	if (type == VIRTIO_BLK_T_IN)
		b->stats.reads++;
	else if (type == VIRTIO_BLK_T_OUT)
		b->stats.writes++;
	else if (type == VIRTIO_BLK_T_FLUSH)
		b->stats.flushes++;
	else if (type == VIRTIO_BLK_T_GET_ID)
		b->stats.get_ids++;
}

/* GET_ID (§5.2.6): the serial, zero padded to 20 bytes, as much as fits. */
static void get_id(struct vblk *b, uint16_t idx, const struct vblk_req *r)
{
	uint8_t id[VIRTIO_BLK_ID_BYTES] = {0};
	uint64_t n;

	memcpy(id, b->serial, strnlen(b->serial, VIRTIO_BLK_ID_BYTES));
	n = scatter(b->vp.gmem, r->io.seg, r->io.nseg, id, sizeof(id));
	b->slot[idx].written = (uint32_t)n + 1;
	vblk_complete(b, idx, VIRTIO_BLK_S_OK);
}

/* Hands a checked IN, OUT or FLUSH to the backend. The slot's `written`
 * says the request went (0 while it waits: see vblk_process). */
static enum start_result submit(struct vblk *b, uint16_t idx, struct vblk_req *r)
{
	struct vblk_slot *s = &b->slot[idx];

	r->io.type = r->type;
	r->io.sector = r->sector;
	r->io.gmem = b->vp.gmem;
	r->io.slot = idx;
	s->written = r->type == VIRTIO_BLK_T_IN ? (uint32_t)r->io.bytes + 1 : 1;
	/* A synchronous backend completes (and frees the slot) inside. */
	if (b->backend_ops->submit(b->backend, b, &r->io) < 0) {
		s->written = 0;
		untrim(r, &s->chain);
		return REFUSED;
	}
	count_type(b, r->type);
	if (r->type == VIRTIO_BLK_T_IN)
		b->stats.read_bytes += r->io.bytes;
	else if (r->type == VIRTIO_BLK_T_OUT)
		b->stats.write_bytes += r->io.bytes;
	return STARTED;
}

/* A well-formed request: done here (GET_ID, errors) or by the backend. */
static enum start_result dispatch(struct vblk *b, uint16_t idx, struct vblk_req *r)
{
	struct vq_chain *c = &b->slot[idx].chain;
	bool data_ok;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		data_ok = r->type == VIRTIO_BLK_T_IN ? find_in_data(r, c) : find_out_data(r, c);
		if (data_ok && range_ok(b, r))
			return submit(b, idx, r);
		break;
	case VIRTIO_BLK_T_FLUSH:
		return submit(b, idx, r);
	case VIRTIO_BLK_T_GET_ID:
		if (!find_in_data(r, c))
			break;
		count_type(b, r->type);
		get_id(b, idx, r);
		return STARTED;
	default:
		vblk_complete(b, idx, VIRTIO_BLK_S_UNSUPP);
		return STARTED;
	}
	/* Nothing was touched: the data buffers are the driver's as they were. */
	count_type(b, r->type);
	vblk_complete(b, idx, VIRTIO_BLK_S_IOERR);
	return STARTED;
}

/* Checks the chain in slot `idx` as a request and starts it. */
static enum start_result start(struct vblk *b, uint16_t idx)
{
	struct vblk_slot *s = &b->slot[idx];
	const struct vq_chain *c = &s->chain;
	const struct vq_seg *last;
	uint8_t hdr[VIRTIO_BLK_HDR_SIZE];
	struct vblk_req r;

	if (c->read_bytes < VIRTIO_BLK_HDR_SIZE) {
		b->error = "request header shorter than 16 bytes";
		return START_VIOLATION;
	}
	/* Readable buffers come first (vq_pop checked it): the last one is
	 * writable exactly when there are writable ones. */
	if (c->nseg == c->nread) {
		b->error = "no device-writable status byte";
		return START_VIOLATION;
	}
	if (!gather(b->vp.gmem, c->seg, c->nread, hdr, sizeof(hdr))) {
		b->error = "request header outside guest memory";
		return START_VIOLATION;
	}
	last = &c->seg[c->nseg - 1];
	/* Field by field: an aggregate initializer costs a string store on
	 * the hot path. */
	r.type = get_le32(hdr);
	r.sector = get_le64(hdr + 8);
	r.io.seg = NULL;
	r.io.nseg = 0;
	r.io.bytes = 0;
	r.trimmed = -1;
	s->status_gpa = last->gpa + last->len - 1;
	return dispatch(b, idx, &r);
}

static void free_slot(struct vblk *b, uint16_t idx)
{
	b->slot[idx].busy = false;
	b->inflight--;
}

/* The request the backend refused last time (busy, not yet sent), if any. */
static int refused_slot(const struct vblk *b)
{
	if (!b->inflight)
		return -1;
	for (uint16_t i = 0; i < VBLK_MAX_INFLIGHT; i++)
		if (b->slot[i].busy && !b->slot[i].written)
			return i;
	return -1;
}

static uint16_t unused_slot(const struct vblk *b)
{
	uint16_t i = 0;

	while (b->slot[i].busy)
		i++;
	return i;
}

/* What became of a request the backend refused on an earlier call. */
enum retry_result { RETRY_VIOLATION = -1, RETRY_REFUSED, RETRY_NONE, RETRY_WENT };

/* Retries a refused request before taking new ones, so requests reach the
 * backend in ring order. Its chain is still in the slot, untrimmed, and it
 * is parsed again as if new: everything is checked again, so a header the
 * driver changed meanwhile is simply the request it now makes. */
static enum retry_result retry_refused(struct vblk *b)
{
	int idx = refused_slot(b);
	enum start_result r;

	if (idx < 0)
		return RETRY_NONE;
	r = start(b, (uint16_t)idx);
	if (r == START_VIOLATION) {
		free_slot(b, (uint16_t)idx);
		return RETRY_VIOLATION;
	}
	return r == STARTED ? RETRY_WENT : RETRY_REFUSED;
}

enum take_result { TAKE_VIOLATION = -1, TAKE_EMPTY, TAKE_STARTED, TAKE_REFUSED };

/* Pops the next request into an unused slot and starts it. */
static enum take_result take_one(struct vblk *b, struct virtqueue *q)
{
	uint16_t idx = unused_slot(b);
	struct vblk_slot *s = &b->slot[idx];
	int r = vq_pop(q, b->vp.gmem, &s->chain);

	if (r < 0) {
		b->error = vq_error_name((enum vq_error)(-r));
		return TAKE_VIOLATION;
	}
	if (r == 0)
		return TAKE_EMPTY;
	s->busy = true;
	s->head = s->chain.head;
	s->written = 0;
	b->inflight++;
	b->stats.requests++;
	switch (start(b, idx)) {
	case START_VIOLATION:
		free_slot(b, idx);
		return TAKE_VIOLATION;
	case REFUSED:
		/* It keeps its slot and is retried next time. */
		return TAKE_REFUSED;
	default:
		return TAKE_STARTED;
	}
}

/* A backend that cannot take a request (blk.h: submit returns -1) gets it
 * again on the next call: it keeps its slot, marked by `written` 0, and goes
 * before any new one. */
int vblk_process(struct vblk *b, unsigned budget)
{
	struct virtqueue *q = virtio_pci_queue(&b->vp, 0);
	unsigned taken = 0;

	if (!q || !budget)
		return 0;
	switch (retry_refused(b)) {
	case RETRY_VIOLATION:
		return -1;
	case RETRY_REFUSED:
		return 0;
	case RETRY_WENT:
		taken++;
		break;
	case RETRY_NONE:
		break;
	}
	while (taken < budget && b->inflight < VBLK_MAX_INFLIGHT) {
		enum take_result r = take_one(b, q);

		if (r == TAKE_VIOLATION)
			return -1;
		if (r == TAKE_EMPTY)
			break;
		taken++;
		if (r == TAKE_REFUSED)
			break;
	}
	return (int)taken;
}

void vblk_complete(struct vblk *b, uint16_t slot, uint8_t status)
{
	struct vblk_slot *s;
	struct virtqueue *q;
	uint32_t written;

	/* A backend's stray completion must not free someone else's slot. */
	if (slot >= VBLK_MAX_INFLIGHT || !b->slot[slot].busy)
		return;
	s = &b->slot[slot];
	q = virtio_pci_queue(&b->vp, 0);
	written = s->written ? s->written : 1;
	if (status == VIRTIO_BLK_S_IOERR)
		b->stats.errors++;
	else if (status == VIRTIO_BLK_S_UNSUPP)
		b->stats.unsupported++;
	/* A failed request wrote nothing the driver may use: the status only. */
	if (status != VIRTIO_BLK_S_OK)
		written = 1;
	/* A device failed or reset meanwhile has no ring to complete into. */
	if (q) {
		unsigned cif = vq_outstanding(q, b->vp.gmem); /* this one included */

		/* The status byte after the data, the used ring after the
		 * status (§2.6.8: used idx last, with release order). */
		gmem_write(b->vp.gmem, s->status_gpa, &status, 1);
		vq_push(q, b->vp.gmem, s->head, written);
		free_slot(b, slot);
		if (b->completed)
			b->completed(b->completed_ctx, cif);
		else
			b->irq_due = true;
		return;
	}
	free_slot(b, slot);
}

unsigned vblk_poll(struct vblk *b, uint64_t now)
{
	if (!b->backend_ops->poll)
		return 0;
	return b->backend_ops->poll(b->backend, b, now);
}

void vblk_reset(struct vblk *b)
{
	if (b->backend_ops->reset)
		b->backend_ops->reset(b->backend);
	for (unsigned i = 0; i < VBLK_MAX_INFLIGHT; i++)
		b->slot[i].busy = false;
	b->inflight = 0;
	b->irq_due = false;
}
