/* The hypervisor's own AHCI driver (AHCI 1.3.1): HBA reset, port start,
 * IDENTIFY DEVICE, and READ/WRITE FPDMA QUEUED (NCQ, up to 32 slots) or
 * READ/WRITE DMA EXT (one at a time) and FLUSH CACHE EXT, completed by
 * polling. Pure logic: the registers are reached through the caller's ops
 * (the mapped ABAR in the hypervisor, a fake register file in the unit
 * tests) and the DMA memory is the caller's (virtual and physical address),
 * so it builds hosted. Not thread-safe: the caller serializes a port. */
#ifndef DRIVERS_AHCI_H
#define DRIVERS_AHCI_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/ahci_regs.h"

struct ahci_io_ops {
	uint32_t (*read32)(void *ctx, uint32_t off); /* off: bytes from ABAR */
	void (*write32)(void *ctx, uint32_t off, uint32_t val);
	void (*delay_us)(void *ctx, unsigned us);
};

struct ahci_hba {
	const struct ahci_io_ops *ops;
	void *ctx;
	uint32_t cap, pi, version;
	unsigned nslots; /* command slots per port (CAP.NCS + 1) */
};

/* Physically contiguous memory for one port: command list, received FIS
 * area, IDENTIFY buffer and 32 command tables (AHCI_PORT_DMA_BYTES). */
struct ahci_dma {
	uint8_t *virt;
	uint64_t phys;
};

#define AHCI_SLOTS	     32
#define AHCI_PRDT_MAX	     256 /* PRD entries per command table: a virtio-blk request's 254 buffers */
#define AHCI_CMD_TABLE_BYTES (AHCI_CMD_TABLE_PRDT + AHCI_PRDT_MAX * AHCI_PRD_BYTES)
#define AHCI_DMA_RFIS	     AHCI_CMD_LIST_BYTES
#define AHCI_DMA_IDENTIFY    (AHCI_DMA_RFIS + AHCI_RFIS_BYTES)
#define AHCI_DMA_TABLES	     2048
#define AHCI_PORT_DMA_BYTES  (AHCI_DMA_TABLES + AHCI_SLOTS * AHCI_CMD_TABLE_BYTES)
#define AHCI_PORT_DMA_PAGES  ((AHCI_PORT_DMA_BYTES + 4095) / 4096)

/* What IDENTIFY DEVICE says (ATA8-ACS §7.16.7). */
struct ata_identity {
	uint64_t sectors;
	bool lba48, ncq;
	unsigned queue_depth; /* NCQ tags the device takes; 0 without NCQ */
	char model[ATA_ID_MODEL_WORDS * 2 + 1];
};

/* One contiguous piece of a request's data in physical memory. */
struct ahci_sg {
	uint64_t phys;
	uint32_t len;
};

enum ahci_op { AHCI_OP_READ, AHCI_OP_WRITE, AHCI_OP_FLUSH };

/* The last error a port recovered from, for the caller's log line. */
struct ahci_error {
	uint32_t is, tfd, serr;
	uint32_t failed; /* the slots it failed */
};

struct ahci_port {
	struct ahci_hba *hba;
	unsigned index;
	struct ahci_dma dma;
	struct ata_identity id;
	bool ncq;	       /* NCQ used: the HBA and the device both have it */
	unsigned depth;	       /* slots in use at most: NCQ depth, else 1 */
	uint32_t free;	       /* slots not in use (bits below depth) */
	uint32_t issued;       /* given to the HBA, not yet seen complete */
	uint32_t done, failed; /* complete, not yet taken; of those, failed */
	uint64_t commands, errors, recoveries;
	struct ahci_error last_error;
};

enum ahci_status {
	AHCI_OK = 0,
	AHCI_ERR_TIMEOUT = -1,	 /* a register did not change in time */
	AHCI_ERR_NO_PORT = -2,	 /* not implemented (PI) */
	AHCI_ERR_NO_DEVICE = -3, /* PxSSTS.DET says nothing is attached */
	AHCI_ERR_NOT_ATA = -4,	 /* an ATAPI drive or something else */
	AHCI_ERR_IDENTIFY = -5,	 /* IDENTIFY failed or made no sense */
	AHCI_ERR_BUSY = -6,	 /* no free slot now */
	AHCI_ERR_INVAL = -7,	 /* the request cannot be described to the HBA */
};

const char *ahci_status_name(int status);

/* Slots in a mask (the freestanding build has no popcount helper). */
static inline unsigned ahci_slot_count(uint32_t mask)
{
	unsigned n = 0;

	for (; mask; mask &= mask - 1)
		n++;
	return n;
}

/* AHCI §10.4.3: GHC.AE, GHC.HR until it clears (1 s), GHC.AE again. */
int ahci_hba_reset(struct ahci_hba *h, const struct ahci_io_ops *ops, void *ctx);

/* Port bring-up (§10.1.2, §10.3.1): idle it, give it the command list and
 * FIS area in `dma`, FRE, spin up, wait for a device (PxSSTS.DET = 3), clear
 * PxSERR and PxIS, require an ATA signature, wait for BSY/DRQ to clear, ST;
 * then IDENTIFY DEVICE and choose NCQ or DMA EXT. */
int ahci_port_start(struct ahci_port *p, struct ahci_hba *h, unsigned index, struct ahci_dma dma);

/* IDENTIFY DEVICE's 512 bytes, as the device sent them; false when they
 * give no capacity. */
bool ata_parse_identify(const uint8_t id[ATA_ID_WORDS * 2], struct ata_identity *out);

/* The H2D register FIS (20 bytes) of a command. `sectors` 1..65536. */
void ahci_fis_rw(uint8_t fis[FIS_H2D_DWORDS * 4], bool write, bool ncq, uint64_t lba,
		 uint32_t sectors, unsigned tag);
void ahci_fis_simple(uint8_t fis[FIS_H2D_DWORDS * 4], uint8_t command);

/* Fills the PRDT at `prdt` from the scatter list: pieces of at most 4 MiB,
 * each of an even byte count at an even address (§4.2.3.3), below 4 GiB
 * without `s64a`. Returns the entries written, or -1 when the list cannot
 * be described (odd length or address, too many entries, above 4 GiB). */
int ahci_build_prdt(uint8_t *prdt, unsigned max, const struct ahci_sg *sg, unsigned nsg, bool s64a);

/* A free slot, taken (lowest first), or -1. */
int ahci_slot_alloc(struct ahci_port *p);

/* Issues a command; returns its slot, AHCI_ERR_BUSY (no slot; or a FLUSH,
 * which is not queued, while NCQ commands are in flight, or the other way
 * round) or AHCI_ERR_INVAL. READ/WRITE: `sectors` 1..65536 at `lba`, the
 * data in `sg` (as many bytes as the sectors). */
int ahci_submit(struct ahci_port *p, enum ahci_op op, uint64_t lba, uint32_t sectors,
		const struct ahci_sg *sg, unsigned nsg);

/* Looks at the port: completions move from issued to done; an error (PxIS
 * TFES, HBFS, HBDS, IFS) fails the commands still issued and restarts the
 * port (§6.2.2: ST off, PxSERR and PxIS cleared, CLO if BSY/DRQ stay, ST
 * on), noted in last_error. Returns the commands that became done. */
unsigned ahci_poll(struct ahci_port *p);

/* A done slot among `mask`, freed: its number and whether it succeeded;
 * false when there is none. */
bool ahci_take_done(struct ahci_port *p, uint32_t mask, unsigned *slot, bool *ok);

#endif
