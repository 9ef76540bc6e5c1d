/* The ahci backend (kernel/blk_ahci.h). Completions are found by polling:
 * the owner's I/O core calls vblk_poll on every visit while requests are in
 * flight (vdev_pending keeps it visiting). Several devices may share a port
 * (disjoint ranges, checked by the manifest): the port's lock serializes the
 * driver, every poll reaps the whole port, and each device takes only the
 * slots it issued. vblk_complete runs after the port's lock is dropped. */
#include "kernel/blk_ahci.h"
#include "kernel/host_ahci.h"

/* The request's data as physical pieces; false when a buffer is outside RAM. */
static bool scatter(const struct blk_ahci *a, const struct blk_io *io, struct ahci_sg *sg)
{
	for (uint16_t i = 0; i < io->nseg; i++) {
		if (!gmem_range_ok(io->gmem, io->seg[i].gpa, io->seg[i].len))
			return false;
		sg[i] = (struct ahci_sg){a->ram_hpa + io->seg[i].gpa, io->seg[i].len};
	}
	return true;
}

/* Inside the range (vblk checked its capacity, the range's count; checked
 * again here, overflow-safe, as this is what keeps other VMs' sectors safe). */
static bool in_range(const struct blk_ahci *a, const struct blk_io *io, uint32_t sectors)
{
	return io->sector < a->lba_count && sectors <= a->lba_count - io->sector;
}

static int ahci_blk_submit(void *backend, struct vblk *b, const struct blk_io *io)
{
	struct blk_ahci *a = backend;
	struct ahci_sg *sg = a->sg;
	uint32_t sectors = (uint32_t)(io->bytes / VIRTIO_BLK_SECTOR);
	enum ahci_op op = io->type == VIRTIO_BLK_T_IN ? AHCI_OP_READ : AHCI_OP_WRITE;
	uint64_t flags;
	int slot;

	if (io->type == VIRTIO_BLK_T_FLUSH) {
		op = AHCI_OP_FLUSH;
	} else if ((io->type != VIRTIO_BLK_T_IN && io->type != VIRTIO_BLK_T_OUT) ||
		   io->nseg > VBLK_SEG_MAX || io->bytes / VIRTIO_BLK_SECTOR > ATA_MAX_SECTORS_EXT ||
		   !in_range(a, io, sectors) || !scatter(a, io, sg)) {
		a->rejected++;
		vblk_complete(b, io->slot, VIRTIO_BLK_S_IOERR);
		return 0;
	}
	flags = spin_lock_irqsave(&a->hp->lock);
	slot = ahci_submit(&a->hp->port, op, a->lba_start + io->sector, sectors, sg, io->nseg);
	if (slot >= 0) {
		a->mine |= 1u << slot;
		a->vslot[slot] = io->slot;
	}
	spin_unlock_irqrestore(&a->hp->lock, flags);
	if (slot == AHCI_ERR_BUSY)
		return -1; /* stays in the ring: tried again after completions */
	if (slot < 0) {	   /* odd-sized or odd-addressed buffers: no PRDT describes them */
		a->rejected++;
		vblk_complete(b, io->slot, VIRTIO_BLK_S_IOERR);
	}
	return 0;
}

static unsigned ahci_blk_poll(void *backend, struct vblk *b, uint64_t now)
{
	struct blk_ahci *a = backend;
	uint16_t vslot[AHCI_SLOTS];
	bool ok[AHCI_SLOTS];
	unsigned n = 0, slot;
	uint64_t flags;

	(void)now;
	if (!a->mine)
		return 0;
	flags = spin_lock_irqsave(&a->hp->lock);
	ahci_poll(&a->hp->port);
	host_ahci_report_errors(a->hp);
	while (ahci_take_done(&a->hp->port, a->mine, &slot, &ok[n])) {
		a->mine &= ~(1u << slot);
		if (a->orphans & (1u << slot)) {
			a->orphans &= ~(1u << slot);
			continue;
		}
		vslot[n++] = a->vslot[slot];
	}
	spin_unlock_irqrestore(&a->hp->lock, flags);
	for (unsigned i = 0; i < n; i++) {
		a->disk_errors += !ok[i];
		vblk_complete(b, vslot[i], ok[i] ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
	}
	return n;
}

/* The driver reset the device: what the disk still does for it is
 * completed into nothing (the slots come back when the disk is done). */
static void ahci_blk_reset(void *backend)
{
	struct blk_ahci *a = backend;

	a->orphans = a->mine;
}

const struct blk_backend_ops blk_ahci_ops = {
	.submit = ahci_blk_submit,
	.poll = ahci_blk_poll,
	.reset = ahci_blk_reset,
};
