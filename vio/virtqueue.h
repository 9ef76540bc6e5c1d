/* Split virtqueues (virtio 1.1 §2.6), walked by the device side: an I/O core,
 * or an exit handler in exit mode. Nothing in guest memory is trusted: every
 * descriptor chain is checked before any of it is used, and a violation is
 * reported as an error, never acted on (issue: "virtqueue processing that
 * trusts nothing in guest memory"). The caller serializes calls per queue. */
#ifndef VIO_VIRTQUEUE_H
#define VIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "vio/gmem.h"

/* The largest queue corevisor offers; a chain (direct or through one
 * indirect table) may have at most as many descriptors as the queue has
 * entries, and never more than VQ_MAX_SEGS. */
#define VQ_MAX_SIZE 256
#define VQ_MAX_SEGS VQ_MAX_SIZE
/* One buffer may not exceed this: larger lengths are a guest's lie. */
#define VQ_MAX_SEG_BYTES (4u << 20)

enum vq_error {
	VQ_OK = 0,
	VQ_ERR_RING_ADDR,	/* a ring lies (partly) outside RAM or is misaligned */
	VQ_ERR_AVAIL_JUMP,	/* avail idx moved by more than the queue size */
	VQ_ERR_HEAD_INDEX,	/* an avail entry names a descriptor past the queue */
	VQ_ERR_NEXT_INDEX,	/* a next field names a descriptor past the table */
	VQ_ERR_CHAIN_TOO_LONG,	/* more descriptors than the queue size: a loop */
	VQ_ERR_BUF_ADDR,	/* a buffer lies (partly) outside RAM */
	VQ_ERR_ZERO_LEN,	/* a buffer of length 0 */
	VQ_ERR_HUGE_LEN,	/* a buffer longer than VQ_MAX_SEG_BYTES */
	VQ_ERR_WRITE_ORDER,	/* a device-readable buffer after a device-writable one */
	VQ_ERR_NESTED_INDIRECT, /* an indirect descriptor inside an indirect table */
	VQ_ERR_INDIRECT_LEN, /* an indirect table of 0 bytes, not a multiple of 16, or too long */
	VQ_ERR_INDIRECT_FEATURE, /* an indirect descriptor without INDIRECT_DESC negotiated */
	VQ_ERR_INDIRECT_NEXT,	 /* an indirect descriptor with NEXT also set (§2.6.5.3.1) */
	VQ_ERR_COUNT
};

/* Why a queue was stopped, for the `@vio_error` record. */
const char *vq_error_name(enum vq_error e);

/* One buffer of a chain, as the device uses it. */
struct vq_seg {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

/* A descriptor chain taken from the available ring. */
struct vq_chain {
	uint16_t head;	      /* its first descriptor: what goes back in the used ring */
	uint16_t nseg;	      /* readable ones first, then writable ones */
	uint16_t nread;	      /* how many of seg[] are device-readable */
	uint64_t read_bytes;  /* sum of the readable lengths */
	uint64_t write_bytes; /* sum of the writable lengths */
	struct vq_seg seg[VQ_MAX_SEGS];
};

struct virtqueue {
	uint16_t size;		    /* entries, a power of two up to VQ_MAX_SIZE; 0: not set up */
	uint64_t desc, avail, used; /* guest-physical ring addresses */
	bool event_idx, indirect;   /* negotiated features */
	uint16_t last_avail;	    /* the next available entry to take */
	uint16_t used_idx;	    /* the next used entry to fill */
	uint16_t signalled;	    /* used_idx when the guest was last interrupted */
	bool notify_enabled;	    /* whether the guest is asked to kick */
};

/* Checks and takes the ring addresses the driver wrote (desc 16-byte, avail
 * 2-byte, used 4-byte aligned, all inside RAM); starts with notifications
 * enabled and both indices at 0 (§2.6: the rings start zeroed by the driver). */
enum vq_error vq_setup(struct virtqueue *q, const struct gmem *g, uint16_t size, uint64_t desc,
		       uint64_t avail, uint64_t used, bool event_idx, bool indirect);

/* How many chains are waiting in the available ring, or -VQ_ERR_AVAIL_JUMP. */
int vq_pending(const struct virtqueue *q, const struct gmem *g);

/* Takes the next available chain into *c, checking every guard above: 1 when
 * one was taken, 0 when none waits, -(enum vq_error) on a violation (the
 * queue is then unusable until the device is reset). */
int vq_pop(struct virtqueue *q, const struct gmem *g, struct vq_chain *c);

/* Requests the driver has made available and not yet got back in the used
 * ring (its avail index against ours), at most the queue size: the commands
 * in flight from the driver's side (vIC's CIF). */
unsigned vq_outstanding(const struct virtqueue *q, const struct gmem *g);

/* Returns a chain to the driver: the used element (head, bytes written), then
 * the used index, in that order (§2.6.8). */
void vq_push(struct virtqueue *q, const struct gmem *g, uint16_t head, uint32_t written);

/* After vq_push: whether the driver wants an interrupt for what was pushed
 * since the last one (VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with
 * EVENT_IDX, §2.6.7.2); when true, the caller sends it and it is remembered. */
bool vq_should_interrupt(struct virtqueue *q, const struct gmem *g);

/* Asks the driver to kick on new buffers (enable), or not to while the I/O
 * core polls (VIRTQ_USED_F_NO_NOTIFY, or avail_event moved out of reach with
 * EVENT_IDX, §2.6.7.1). After enabling, the caller checks vq_pending once
 * more: a buffer added just before the driver saw the change would not kick. */
void vq_set_notify(struct virtqueue *q, const struct gmem *g, bool enable);

#endif
