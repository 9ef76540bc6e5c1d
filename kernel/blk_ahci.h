/* The ahci backend of virtio-blk (vio/blk.h's blk_backend_ops): a range of
 * sectors of a disk on one AHCI port. A request's sectors are relative to
 * the range; one that leaves it, or whose buffers are not in the VM's RAM or
 * cannot be described by a PRDT, fails with IOERR and never reaches the
 * disk. The guest's buffers are the DMA targets themselves (the VM's RAM is
 * one physically contiguous block), so data is never copied. */
#ifndef KERNEL_BLK_AHCI_H
#define KERNEL_BLK_AHCI_H

#include <stdint.h>

#include "drivers/ahci.h"
#include "vio/blk.h"

struct host_ahci_port;

struct blk_ahci {
	struct host_ahci_port *hp;
	uint64_t lba_start, lba_count;
	uint64_t ram_hpa;		 /* host-physical address of guest-physical 0 */
	uint32_t mine;			 /* port slots this device issued, not yet taken */
	uint32_t orphans;		 /* of those, issued before a device reset: dropped */
	uint16_t vslot[AHCI_SLOTS];	 /* the vblk slot of each port slot */
	uint64_t rejected;		 /* requests failed before the disk */
	uint64_t disk_errors;		 /* requests the disk failed */
	struct ahci_sg sg[VBLK_SEG_MAX]; /* the request being submitted */
};

extern const struct blk_backend_ops blk_ahci_ops;

#endif
