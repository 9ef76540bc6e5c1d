/* The ramdisk backend (vio/ramdisk.h): the disk is host memory, so every
 * request is done inside submit, and submit never refuses; it completes
 * there too, or with a service time in ramdisk_poll. All guest buffers are
 * reached through the checked copies of vio/gmem.h. */
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

/* Service mode: the request waits in the FIFO; a disk that was idle starts
 * it now (the time of the poll before this vblk_process). */
static void hold(struct ramdisk *d, uint16_t slot, uint8_t status)
{
	unsigned tail = (d->head + d->count) % VBLK_MAX_INFLIGHT;

	d->queue[tail] = (struct ramdisk_req){slot, status};
	if (d->count++ == 0)
		d->due = d->now + d->service_ns;
}

static int ramdisk_submit(void *backend, struct vblk *b, const struct blk_io *io)
{
	struct ramdisk *d = backend;
	bool ok;

	if (d->service_ns && d->count == VBLK_MAX_INFLIGHT)
		return -1; /* not reached: vblk holds no more requests than that */
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
	if (d->service_ns)
		hold(d, io->slot, ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
	else
		vblk_complete(b, io->slot, ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
	return 0;
}

/* The head request completes once its time has come; the next one starts
 * then, at `now`, so at most one completes per poll and per service time. */
static unsigned ramdisk_poll(void *backend, struct vblk *b, uint64_t now)
{
	struct ramdisk *d = backend;
	struct ramdisk_req r;

	d->now = now;
	if (!d->count || now < d->due)
		return 0;
	r = d->queue[d->head];
	d->head = (d->head + 1) % VBLK_MAX_INFLIGHT;
	if (--d->count)
		d->due = now + d->service_ns;
	vblk_complete(b, r.slot, r.status);
	return 1;
}

/* The device was reset: the requests held are dropped, never completed
 * (vblk_reset frees their slots). */
static void ramdisk_reset(void *backend)
{
	struct ramdisk *d = backend;

	d->head = 0;
	d->count = 0;
}

const struct blk_backend_ops ramdisk_ops = {
	.submit = ramdisk_submit,
	.poll = ramdisk_poll,
	.reset = ramdisk_reset,
};
