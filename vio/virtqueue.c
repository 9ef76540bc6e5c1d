/* Split virtqueues, device side (virtio 1.1 §2.6; vio/virtqueue.h). The guest may rewrite any
 * byte of its rings at any time, so every index and descriptor is copied in exactly once
 * (through vio/gmem.h) and checked before it is used; a violation stops the chain with an
 * error, and the queue's indices are left where they were. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vio/gmem.h"
#include "vio/virtio_regs.h"
#include "vio/virtqueue.h"

/* §2.6.6 and §2.6.8: flags and idx lead both rings; the event field follows the last entry. */
#define RING_FLAGS 0
#define RING_IDX   2

/* One descriptor as the device copied it out of guest memory (§2.6.5). */
struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Where the walk is: the direct table (§2.6.5) or an indirect one (§2.6.5.3). */
struct vq_cursor {
	uint64_t table;
	uint32_t entries;
	uint16_t index;
	bool in_indirect;
};

static const char *const error_names[VQ_ERR_COUNT] = {
	[VQ_OK] = "no error",
	[VQ_ERR_RING_ADDR] = "a ring is misaligned or outside guest RAM, or the size is invalid",
	[VQ_ERR_AVAIL_JUMP] = "avail index jumped by more than the queue size",
	[VQ_ERR_HEAD_INDEX] = "an available entry names a descriptor past the queue",
	[VQ_ERR_NEXT_INDEX] = "a next field names a descriptor past its table",
	[VQ_ERR_CHAIN_TOO_LONG] = "descriptor chain longer than the queue (a loop?)",
	[VQ_ERR_BUF_ADDR] = "a buffer lies outside guest RAM",
	[VQ_ERR_ZERO_LEN] = "a buffer of length zero",
	[VQ_ERR_HUGE_LEN] = "a buffer longer than the device accepts",
	[VQ_ERR_WRITE_ORDER] = "a device-readable buffer after a device-writable one",
	[VQ_ERR_NESTED_INDIRECT] = "an indirect descriptor inside an indirect table",
	[VQ_ERR_INDIRECT_LEN] = "an indirect table of zero, partial or too many descriptors",
	[VQ_ERR_INDIRECT_FEATURE] = "an indirect descriptor without the indirect feature",
	[VQ_ERR_INDIRECT_NEXT] = "an indirect descriptor with the next flag also set",
};

const char *vq_error_name(enum vq_error e)
{
	if ((unsigned)e >= VQ_ERR_COUNT || !error_names[e])
		return "unknown virtqueue error";
	return error_names[e];
}

static bool is_power_of_two(uint16_t n)
{
	return n && !(n & (n - 1));
}

/* §2.6: alignment of the three parts; the avail and used rings are sized with their trailing
 * event field, which is read or written only with EVENT_IDX but always reserved here. */
static bool rings_ok(const struct gmem *g, uint16_t size, uint64_t desc, uint64_t avail,
		     uint64_t used)
{
	if (desc % 16 || avail % 2 || used % 4)
		return false;
	return gmem_range_ok(g, desc, (uint64_t)VIRTQ_DESC_SIZE * size) &&
	       gmem_range_ok(g, avail, VIRTQ_AVAIL_RING(size) + 2) &&
	       gmem_range_ok(g, used, VIRTQ_USED_RING(size) + 2);
}

enum vq_error vq_setup(struct virtqueue *q, const struct gmem *g, uint16_t size, uint64_t desc,
		       uint64_t avail, uint64_t used, bool event_idx, bool indirect)
{
	memset(q, 0, sizeof(*q));
	if (!is_power_of_two(size) || size > VQ_MAX_SIZE || !rings_ok(g, size, desc, avail, used))
		return VQ_ERR_RING_ADDR;
	q->size = size;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->notify_enabled = true;
	gmem_store16(g, used + RING_FLAGS, 0);
	return VQ_OK;
}

/* §2.6.6: idx is free-running; the driver can be at most a queue ahead of the device. */
static int pending_from(const struct virtqueue *q, uint16_t avail_idx)
{
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);

	if (pending > q->size)
		return -VQ_ERR_AVAIL_JUMP;
	return pending;
}

int vq_pending(const struct virtqueue *q, const struct gmem *g)
{
	if (!q->size)
		return 0;
	return pending_from(q, gmem_load16(g, q->avail + RING_IDX));
}

static bool read_desc(const struct gmem *g, uint64_t gpa, struct vq_desc *d)
{
	uint8_t raw[VIRTQ_DESC_SIZE];

	if (!gmem_read(g, gpa, raw, sizeof(raw)))
		return false;
	memcpy(&d->addr, raw, 8);
	memcpy(&d->len, raw + 8, 4);
	memcpy(&d->flags, raw + 12, 2);
	memcpy(&d->next, raw + 14, 2);
	return true;
}

/* §2.6.4.2: device-readable buffers come before device-writable ones. The chain may hold no
 * more buffers than the queue has entries (§2.6.5.3.1), counted across the direct part and the
 * indirect table together: this also ends a looping chain. */
static int add_buffer(const struct virtqueue *q, const struct gmem *g, struct vq_chain *c,
		      const struct vq_desc *d)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;

	if (c->nseg >= q->size || c->nseg >= VQ_MAX_SEGS)
		return -VQ_ERR_CHAIN_TOO_LONG;
	if (d->len == 0)
		return -VQ_ERR_ZERO_LEN;
	if (d->len > VQ_MAX_SEG_BYTES)
		return -VQ_ERR_HUGE_LEN;
	if (!gmem_range_ok(g, d->addr, d->len))
		return -VQ_ERR_BUF_ADDR;
	if (!write && c->nseg > c->nread)
		return -VQ_ERR_WRITE_ORDER;
	c->seg[c->nseg++] = (struct vq_seg){.gpa = d->addr, .len = d->len, .write = write};
	if (write) {
		c->write_bytes += d->len;
	} else {
		c->read_bytes += d->len;
		c->nread++;
	}
	return 0;
}

/* §2.6.5.3: the driver MUST NOT set INDIRECT without the feature, inside an indirect table, or
 * together with NEXT (§2.6.5.3.1). Since it cannot have NEXT, an indirect descriptor is always
 * the last of its chain, after zero or more direct ones, which the device MUST handle
 * (§2.6.5.3.2). Its WRITE flag is ignored (§2.6.5.3.2). The table starts at its entry 0. */
static int enter_indirect(const struct virtqueue *q, const struct gmem *g, struct vq_cursor *cur,
			  const struct vq_desc *d)
{
	if (cur->in_indirect)
		return -VQ_ERR_NESTED_INDIRECT;
	if (!q->indirect)
		return -VQ_ERR_INDIRECT_FEATURE;
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return -VQ_ERR_INDIRECT_NEXT;
	if (d->len == 0 || d->len % VIRTQ_DESC_SIZE || d->len / VIRTQ_DESC_SIZE > q->size)
		return -VQ_ERR_INDIRECT_LEN;
	if (!gmem_range_ok(g, d->addr, d->len))
		return -VQ_ERR_BUF_ADDR;
	*cur = (struct vq_cursor){
		.table = d->addr,
		.entries = d->len / VIRTQ_DESC_SIZE,
		.index = 0,
		.in_indirect = true,
	};
	return 0;
}

/* Follows the chain from cur; every step either adds a buffer (bounded by add_buffer), enters
 * the one indirect table, or ends, so the walk terminates whatever the guest wrote. */
static int walk_chain(const struct virtqueue *q, const struct gmem *g, struct vq_cursor cur,
		      struct vq_chain *c)
{
	for (;;) {
		struct vq_desc d;
		int err;

		if (!read_desc(g, cur.table + (uint64_t)VIRTQ_DESC_SIZE * cur.index, &d))
			return -VQ_ERR_BUF_ADDR;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			err = enter_indirect(q, g, &cur, &d);
			if (err)
				return err;
			continue;
		}
		err = add_buffer(q, g, c, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= cur.entries)
			return -VQ_ERR_NEXT_INDEX;
		cur.index = d.next;
	}
}

int vq_pop(struct virtqueue *q, const struct gmem *g, struct vq_chain *c)
{
	struct vq_cursor cur = {.table = q->desc, .entries = q->size};
	int pending;
	int err;

	if (!q->size)
		return 0;
	/* §2.7.13: idx is read once, with acquire, before the entries it covers. */
	pending = pending_from(q, gmem_load16(g, q->avail + RING_IDX));
	if (pending <= 0)
		return pending;
	cur.index = gmem_load16(g, q->avail + VIRTQ_AVAIL_RING(q->last_avail % q->size));
	if (cur.index >= q->size)
		return -VQ_ERR_HEAD_INDEX;
	/* not the whole struct: seg[] is 4 KiB, and only its first nseg entries mean anything */
	c->head = cur.index;
	c->nseg = c->nread = 0;
	c->read_bytes = c->write_bytes = 0;
	err = walk_chain(q, g, cur, c);
	if (err)
		return err;
	q->last_avail++;
	return 1;
}

unsigned vq_outstanding(const struct virtqueue *q, const struct gmem *g)
{
	uint16_t n;

	if (!q->size)
		return 0;
	n = (uint16_t)(gmem_load16(g, q->avail + RING_IDX) - q->used_idx);
	return n > q->size ? q->size : n;
}

/* §2.6.8: the element first, then the index with release, so the driver never sees an index
 * that covers an element not yet written. */
void vq_push(struct virtqueue *q, const struct gmem *g, uint16_t head, uint32_t written)
{
	uint8_t elem[VIRTQ_USED_ELEM_SIZE];
	uint32_t id = head;

	if (!q->size)
		return;
	memcpy(elem, &id, 4);
	memcpy(elem + 4, &written, 4);
	gmem_write(g, q->used + VIRTQ_USED_RING(q->used_idx % q->size), elem, sizeof(elem));
	q->used_idx++;
	gmem_store16(g, q->used + RING_IDX, q->used_idx);
}

/* vring_need_event: whether used_event lies in [old, new), i.e. the driver asked to be told
 * when the used index passes an entry filled since the last interrupt (§2.6.7.2). */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool vq_should_interrupt(struct virtqueue *q, const struct gmem *g)
{
	bool wanted;

	if (!q->size)
		return false;
	/* §2.6.7.2: the used index stores must be visible before the driver's suppression field
	 * is read, or the driver could re-enable interrupts in between and wait forever. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->used_idx == q->signalled)
		return false;
	if (q->event_idx) {
		uint16_t used_event = gmem_load16(g, q->avail + VIRTQ_AVAIL_RING(q->size));

		wanted = need_event(used_event, q->used_idx, q->signalled);
	} else {
		wanted = !(gmem_load16(g, q->avail + RING_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	if (wanted)
		q->signalled = q->used_idx;
	return wanted;
}

/* §2.6.7.1. With EVENT_IDX, disabling moves avail_event half the index space away from
 * last_avail, out of reach of a driver that is at most a queue ahead. That holds only while
 * last_avail stays put, so the polling I/O core calls this again on each visit. The flag is
 * set too: the driver ignores it with EVENT_IDX, and it costs nothing. */
void vq_set_notify(struct virtqueue *q, const struct gmem *g, bool enable)
{
	if (!q->size)
		return;
	if (q->event_idx) {
		uint16_t event = enable ? q->last_avail : (uint16_t)(q->last_avail + 0x8000);

		gmem_store16(g, q->used + VIRTQ_USED_RING(q->size), event);
	}
	gmem_store16(g, q->used + RING_FLAGS, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
	q->notify_enabled = enable;
	/* The store must be visible before the caller re-reads avail idx (vq_pending): else a
	 * buffer the driver adds in between is seen by neither side. */
	if (enable)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
