/* The ramdisk backend of virtio-blk: the disk's bytes in host memory the
 * kernel hands over (pages from the allocator), requests completed at once. */
#ifndef VIO_RAMDISK_H
#define VIO_RAMDISK_H

#include <stdint.h>

#include "vio/blk.h"

struct ramdisk {
	uint8_t *data;
	uint64_t bytes;
};

extern const struct blk_backend_ops ramdisk_ops;

#endif
