/* The ramdisk backend of virtio-blk: the disk's bytes in host memory the
 * kernel hands over (pages from the allocator).
 *
 * By default every request is completed at once, inside submit. With a
 * service time (`service_ns` > 0; the manifest's `service_us`) the disk
 * behaves like one with a single head: it serves one request at a time, in
 * arrival order, and each takes `service_ns` from the moment the disk starts
 * it, which is when it arrives at an idle disk or when the one before it
 * completes. The data moves at submit (the guest may not look at it before
 * the completion anyway); the completion (status byte, used ring, interrupt
 * decision) waits for the owner's ramdisk poll (vblk_poll) at or after its
 * time. So the disk completes at most one request per `service_ns`, and a
 * late poll delays the ones behind it rather than bunching them: a guest that
 * keeps qd requests in flight and refills its ring within `service_ns` has
 * qd of them in flight at every completion, as with a real disk.
 *
 * Time is the caller's (ns in the kernel), given to each poll; submit takes
 * the time of the poll just before it (the owner polls before every
 * vblk_process). */
#ifndef VIO_RAMDISK_H
#define VIO_RAMDISK_H

#include <stdint.h>

#include "vio/blk.h"

/* A request done but not yet completed. */
struct ramdisk_req {
	uint16_t slot;
	uint8_t status;
};

struct ramdisk {
	uint8_t *data;
	uint64_t bytes;
	uint64_t service_ns; /* 0: every request completes inside submit */
	/* service mode: a FIFO of the requests the disk holds */
	uint64_t now; /* the time of the last poll */
	uint64_t due; /* when the request at the head completes (count > 0) */
	struct ramdisk_req queue[VBLK_MAX_INFLIGHT];
	unsigned head, count;
};

extern const struct blk_backend_ops ramdisk_ops;

#endif
