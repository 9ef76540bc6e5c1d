/* virtio-blk (virtio 1.1 §5.2): requests parsed from descriptor chains and
 * handed to a backend, which completes them now (ramdisk) or later (a
 * physical disk, submitted now and completed from its interrupt or poll).
 * Every sector range is checked against the disk before the backend sees it:
 * a request past the end completes with IOERR and writes nothing; the status
 * byte is written last, after the data and before the used ring. */
#ifndef VIO_BLK_H
#define VIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "vio/gmem.h"
#include "vio/virtio_pci.h"
#include "vio/virtqueue.h"

#define VBLK_SEG_MAX  (VQ_MAX_SEGS - 2) /* data buffers beside header and status */
#define VBLK_SIZE_MAX (1u << 20)	/* bytes in one data buffer */

/* One request as the backend sees it: the data buffers in guest memory. */
struct blk_io {
	uint32_t type;	 /* VIRTIO_BLK_T_IN, _OUT, _FLUSH */
	uint64_t sector; /* checked: sector + bytes / 512 <= capacity */
	uint64_t bytes;	 /* the data's total length, a multiple of 512 */
	const struct gmem *gmem;
	const struct vq_seg *seg; /* the data buffers, in order */
	uint16_t nseg;
	uint16_t slot; /* the device's handle, given back to vblk_complete */
};

struct vblk;

/* A backend: the ramdisk (vio/ramdisk.c) and, later, the AHCI driver. */
struct blk_backend_ops {
	/* Starts `io`; the backend calls vblk_complete(b, io->slot, status)
	 * once it is done, before returning or later from its own completion
	 * path. 0, or -1 when it cannot take more now (the request stays in the
	 * ring and is tried again). */
	int (*submit)(void *backend, struct vblk *b, const struct blk_io *io);
	/* Optional, for a backend that completes later: the device's owner
	 * calls it (vblk_poll) on every visit, before taking new requests, with
	 * its clock (ns); it completes what is done by `now` and returns how
	 * many it completed. */
	unsigned (*poll)(void *backend, struct vblk *b, uint64_t now);
	/* Optional: the driver reset the device; forget every request not yet
	 * completed (vblk_reset frees their slots). */
	void (*reset)(void *backend);
};

struct vblk_stats {
	uint64_t requests, reads, writes, flushes, get_ids, errors, unsupported;
	uint64_t read_bytes, write_bytes;
};

/* Requests in flight at once; a full device stops taking from its ring. */
#define VBLK_MAX_INFLIGHT 32

/* One in-flight request: the chain it came from, so the data and status
 * buffers are the ones checked when it was popped. */
struct vblk_slot {
	bool busy;
	uint16_t head;
	uint64_t status_gpa;
	uint32_t written; /* bytes the device wrote (data in, status) */
	struct vq_chain chain;
};

struct vblk {
	struct virtio_pci vp;
	uint64_t capacity; /* sectors */
	char serial[VIRTIO_BLK_ID_BYTES + 1];
	const struct blk_backend_ops *backend_ops;
	void *backend;
	struct vblk_slot slot[VBLK_MAX_INFLIGHT];
	uint16_t inflight;
	struct vblk_stats stats;
	/* Set by vblk_complete when a completion asks for an interrupt. */
	bool irq_due;
	/* Optional: called after each completion is in the used ring, with the
	 * commands in flight it counts (the driver's requests not yet used,
	 * this one included: vIC's CIF), instead of setting irq_due. */
	void (*completed)(void *ctx, unsigned cif);
	void *completed_ctx;
	/* Why vblk_process last failed, for `@vio_error`. */
	const char *error;
};

/* A device of `capacity` sectors with serial `serial` (GET_ID), served by
 * the backend; its transport is set up too. */
void vblk_init(struct vblk *b, const struct gmem *g, uint64_t capacity, const char *serial,
	       const struct blk_backend_ops *ops, void *backend);

/* Takes up to `budget` requests from the request queue (queue 0) and
 * submits them. Returns how many were taken, or -1 when a chain broke a guard
 * or a request is malformed (header too short or device-writable, no
 * device-writable status byte at the end): b->error says why, and the caller
 * calls virtio_pci_fail. A well-formed request the device cannot do (past
 * the disk's end, a length not a multiple of 512, an unknown type) is not a
 * violation: it completes with IOERR or UNSUPP. */
int vblk_process(struct vblk *b, unsigned budget);

/* The backend's poll (blk_backend_ops.poll) at `now`, before each
 * vblk_process: how many requests it completed; 0 for a backend that
 * completes inside submit. Requests still in the backend show in
 * b->inflight. */
unsigned vblk_poll(struct vblk *b, uint64_t now);

/* The backend finished request `slot`: status byte, then used ring. */
void vblk_complete(struct vblk *b, uint16_t slot, uint8_t status);

/* The driver reset the device: forget the slots. A backend with a reset
 * op drops the requests it holds; one without must have none in flight (the
 * caller waits for it first). */
void vblk_reset(struct vblk *b);

#endif
