/* The ramdisk backend (vio/ramdisk.h): the disk is host memory, so every
 * request is done and completed inside submit, and submit never refuses. All
 * guest buffers are reached through the checked copies of vio/gmem.h. */
#include "vio/ramdisk.h"

/* Copies between the disk at `off` and the guest's data buffers; false when
 * a buffer cannot be reached (the request then fails with IOERR). */
static bool copy_data(const struct ramdisk *d, const struct blk_io *io, bool to_guest)
{
	uint64_t off = io->sector * VIRTIO_BLK_SECTOR;

	/* vblk checked the range against its capacity; the disk checks it
	 * against its own size too (both overflow-safe). */
	if (io->sector > d->bytes / VIRTIO_BLK_SECTOR || io->bytes > d->bytes - off)
		return false;
	for (uint16_t i = 0; i < io->nseg; i++) {
		const struct vq_seg *s = &io->seg[i];
		bool ok = to_guest ? gmem_write(io->gmem, s->gpa, d->data + off, s->len)
				   : gmem_read(io->gmem, s->gpa, d->data + off, s->len);

		if (!ok)
			return false;
		off += s->len;
	}
	return true;
}

static int ramdisk_submit(void *backend, struct vblk *b, const struct blk_io *io)
{
	const struct ramdisk *d = backend;
	bool ok;

	switch (io->type) {
	case VIRTIO_BLK_T_IN:
		ok = copy_data(d, io, true);
		break;
	case VIRTIO_BLK_T_OUT:
		ok = copy_data(d, io, false);
		break;
	case VIRTIO_BLK_T_FLUSH:
		ok = true; /* memory: nothing to write back */
		break;
	default:
		ok = false;
		break;
	}
	vblk_complete(b, io->slot, ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
	return 0;
}

const struct blk_backend_ops ramdisk_ops = {
	.submit = ramdisk_submit,
};
