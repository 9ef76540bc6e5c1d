/* The AHCI driver (drivers/ahci.h). Section numbers are AHCI 1.3.1's. */
#include <string.h>

#include "drivers/ahci.h"

#define POLL_STEP_US	 10
#define HBA_RESET_US	 1000000 /* §10.4.3: HR clears within 1 s */
#define PORT_IDLE_US	 500000	 /* §10.1.2: CR and FR clear within 500 ms */
#define DEVICE_DETECT_US 1000000 /* PHY up after spin-up (§10.1.1 allows 10 ms + COMRESET) */
#define DEVICE_READY_US	 2000000 /* BSY after power-on, a spinning disk's start */
#define IDENTIFY_US	 1000000
#define PORT_REG(p, reg) (AHCI_PORT_BASE + (p)->index * AHCI_PORT_STRIDE + (reg))

static uint32_t hba_read(const struct ahci_hba *h, uint32_t off)
{
	return h->ops->read32(h->ctx, off);
}

static void hba_write(const struct ahci_hba *h, uint32_t off, uint32_t v)
{
	h->ops->write32(h->ctx, off, v);
}

static uint32_t port_read(const struct ahci_port *p, uint32_t reg)
{
	return hba_read(p->hba, PORT_REG(p, reg));
}

static void port_write(const struct ahci_port *p, uint32_t reg, uint32_t v)
{
	hba_write(p->hba, PORT_REG(p, reg), v);
}

/* Until (register & mask) == want, or `us` have passed. */
static bool wait_reg(const struct ahci_hba *h, uint32_t off, uint32_t mask, uint32_t want,
		     unsigned us)
{
	for (unsigned t = 0;; t += POLL_STEP_US) {
		if ((hba_read(h, off) & mask) == want)
			return true;
		if (t >= us)
			return false;
		h->ops->delay_us(h->ctx, POLL_STEP_US);
	}
}

static void put32(uint8_t *at, uint32_t v)
{
	memcpy(at, &v, sizeof(v)); /* x86 is little-endian, as AHCI's structures are */
}

const char *ahci_status_name(int status)
{
	static const char *const names[] = {"ok",
					    "timeout",
					    "port not implemented",
					    "no device",
					    "not an ATA disk",
					    "IDENTIFY failed",
					    "busy",
					    "request not describable"};

	if (status > 0 || -status >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[-status];
}

/* --- HBA and port bring-up -------------------------------------------------- */

int ahci_hba_reset(struct ahci_hba *h, const struct ahci_io_ops *ops, void *ctx)
{
	*h = (struct ahci_hba){.ops = ops, .ctx = ctx};
	hba_write(h, AHCI_GHC, AHCI_GHC_AE);
	hba_write(h, AHCI_GHC, AHCI_GHC_AE | AHCI_GHC_HR);
	if (!wait_reg(h, AHCI_GHC, AHCI_GHC_HR, 0, HBA_RESET_US))
		return AHCI_ERR_TIMEOUT;
	/* HR reset GHC.AE on an HBA without CAP.SAM: set it again, IE off */
	hba_write(h, AHCI_GHC, AHCI_GHC_AE);
	h->cap = hba_read(h, AHCI_CAP);
	h->pi = hba_read(h, AHCI_PI);
	h->version = hba_read(h, AHCI_VS);
	h->nslots = ((h->cap >> AHCI_CAP_NCS_SHIFT) & AHCI_CAP_NCS_MASK) + 1;
	return AHCI_OK;
}

/* §10.1.2: ST off and CR clear, then FRE off and FR clear. */
static bool port_idle(const struct ahci_port *p)
{
	port_write(p, AHCI_PxCMD, port_read(p, AHCI_PxCMD) & ~AHCI_PxCMD_ST);
	if (!wait_reg(p->hba, PORT_REG(p, AHCI_PxCMD), AHCI_PxCMD_CR, 0, PORT_IDLE_US))
		return false;
	port_write(p, AHCI_PxCMD, port_read(p, AHCI_PxCMD) & ~AHCI_PxCMD_FRE);
	return wait_reg(p->hba, PORT_REG(p, AHCI_PxCMD), AHCI_PxCMD_FR, 0, PORT_IDLE_US);
}

static void port_set_memory(const struct ahci_port *p)
{
	uint64_t rfis = p->dma.phys + AHCI_DMA_RFIS;

	memset(p->dma.virt, 0, AHCI_PORT_DMA_BYTES);
	port_write(p, AHCI_PxCLB, (uint32_t)p->dma.phys);
	port_write(p, AHCI_PxCLBU, (uint32_t)(p->dma.phys >> 32));
	port_write(p, AHCI_PxFB, (uint32_t)rfis);
	port_write(p, AHCI_PxFBU, (uint32_t)(rfis >> 32));
}

/* FRE on, spun up and powered, then the PHY: DET = 3 (§10.1.1). */
static int port_link_up(const struct ahci_port *p)
{
	uint32_t cmd = port_read(p, AHCI_PxCMD) | AHCI_PxCMD_FRE | AHCI_PxCMD_POD;

	if (p->hba->cap & AHCI_CAP_SSS)
		cmd |= AHCI_PxCMD_SUD;
	port_write(p, AHCI_PxCMD, cmd);
	if (!wait_reg(p->hba, PORT_REG(p, AHCI_PxSSTS), AHCI_PxSSTS_DET_MASK,
		      AHCI_PxSSTS_DET_PRESENT, DEVICE_DETECT_US))
		return AHCI_ERR_NO_DEVICE;
	port_write(p, AHCI_PxSERR, ~0u);
	port_write(p, AHCI_PxIS, ~0u);
	if (!wait_reg(p->hba, PORT_REG(p, AHCI_PxTFD), AHCI_PxTFD_STS_BSY | AHCI_PxTFD_STS_DRQ, 0,
		      DEVICE_READY_US))
		return AHCI_ERR_TIMEOUT;
	return port_read(p, AHCI_PxSIG) == AHCI_SIG_ATA ? AHCI_OK : AHCI_ERR_NOT_ATA;
}

static void port_run(const struct ahci_port *p)
{
	port_write(p, AHCI_PxCMD, port_read(p, AHCI_PxCMD) | AHCI_PxCMD_ST);
}

/* --- IDENTIFY ------------------------------------------------------------------ */

static uint16_t id_word(const uint8_t *id, unsigned w)
{
	return (uint16_t)(id[2 * w] | id[2 * w + 1] << 8);
}

/* ATA strings hold two characters per word, the first in the high byte. */
static void id_string(const uint8_t *id, unsigned word, unsigned words, char *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < words * 2; i++) {
		uint8_t c = id[2 * (word + i / 2) + (i & 1 ? 0 : 1)];

		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

bool ata_parse_identify(const uint8_t id[ATA_ID_WORDS * 2], struct ata_identity *out)
{
	memset(out, 0, sizeof(*out));
	out->lba48 = id_word(id, ATA_ID_COMMAND_SET_2) & ATA_ID_COMMAND_SET_2_LBA48;
	if (out->lba48)
		for (unsigned i = 0; i < 4; i++)
			out->sectors |= (uint64_t)id_word(id, ATA_ID_LBA48_CAPACITY + i)
					<< (16 * i);
	else
		out->sectors = id_word(id, ATA_ID_LBA28_CAPACITY) |
			       (uint64_t)id_word(id, ATA_ID_LBA28_CAPACITY + 1) << 16;
	/* word 76 of 0xffff: not a SATA device reporting its capabilities */
	out->ncq = id_word(id, ATA_ID_SATA_CAP) != 0xffff &&
		   (id_word(id, ATA_ID_SATA_CAP) & ATA_ID_SATA_CAP_NCQ);
	out->queue_depth = out->ncq ? (id_word(id, ATA_ID_QUEUE_DEPTH) & 0x1f) + 1u : 0;
	id_string(id, ATA_ID_MODEL, ATA_ID_MODEL_WORDS, out->model);
	return out->sectors != 0 && out->lba48; /* this driver sends only 48-bit commands */
}

/* --- commands ------------------------------------------------------------------- */

void ahci_fis_simple(uint8_t fis[FIS_H2D_DWORDS * 4], uint8_t command)
{
	memset(fis, 0, FIS_H2D_DWORDS * 4);
	fis[0] = FIS_TYPE_REG_H2D;
	fis[1] = FIS_H2D_C;
	fis[FIS_H2D_COMMAND] = command;
	fis[FIS_H2D_DEVICE] = ATA_DEVICE_LBA;
}

/* FPDMA QUEUED (ATA8-ACS §7.24, §7.62): the count in FEATURES, the tag in
 * COUNT 7:3; DMA EXT: the count in COUNT. A count of 0 is 65536. */
void ahci_fis_rw(uint8_t fis[FIS_H2D_DWORDS * 4], bool write, bool ncq, uint64_t lba,
		 uint32_t sectors, unsigned tag)
{
	uint8_t cmd = ncq ? (write ? ATA_CMD_WRITE_FPDMA_QUEUED : ATA_CMD_READ_FPDMA_QUEUED)
			  : (write ? ATA_CMD_WRITE_DMA_EXT : ATA_CMD_READ_DMA_EXT);
	uint16_t count = (uint16_t)(sectors & 0xffff);

	ahci_fis_simple(fis, cmd);
	for (unsigned i = 0; i < 3; i++) {
		fis[FIS_H2D_LBA0 + i] = (uint8_t)(lba >> (8 * i));
		fis[FIS_H2D_LBA3 + i] = (uint8_t)(lba >> (8 * (i + 3)));
	}
	if (ncq) {
		fis[FIS_H2D_FEATURES] = (uint8_t)count;
		fis[FIS_H2D_FEATURES1] = (uint8_t)(count >> 8);
		fis[FIS_H2D_COUNT0] = (uint8_t)(tag << ATA_NCQ_TAG_SHIFT);
	} else {
		fis[FIS_H2D_COUNT0] = (uint8_t)count;
		fis[FIS_H2D_COUNT1] = (uint8_t)(count >> 8);
	}
}

int ahci_build_prdt(uint8_t *prdt, unsigned max, const struct ahci_sg *sg, unsigned nsg, bool s64a)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nsg; i++) {
		uint64_t at = sg[i].phys, left = sg[i].len;

		if ((at | left) & 1 || !left || at + left < at)
			return -1;
		if (!s64a && (at >> 32 || (at + left - 1) >> 32))
			return -1;
		while (left) {
			uint32_t piece =
				left < AHCI_PRD_MAX_BYTES ? (uint32_t)left : AHCI_PRD_MAX_BYTES;
			uint8_t *e = prdt + n * AHCI_PRD_BYTES;

			if (n == max)
				return -1;
			put32(e, (uint32_t)at);
			put32(e + 4, (uint32_t)(at >> 32));
			put32(e + 8, 0);
			put32(e + 12, (piece - 1) & AHCI_PRD_DBC_MASK);
			at += piece;
			left -= piece;
			n++;
		}
	}
	return (int)n;
}

int ahci_slot_alloc(struct ahci_port *p)
{
	if (!p->free)
		return -1;
	int slot = __builtin_ctz(p->free);

	p->free &= ~(1u << slot);
	return slot;
}

static uint8_t *cmd_table(const struct ahci_port *p, unsigned slot)
{
	return p->dma.virt + AHCI_DMA_TABLES + slot * AHCI_CMD_TABLE_BYTES;
}

/* The slot's command header (§4.2.2) pointing at its table. */
static void cmd_header(const struct ahci_port *p, unsigned slot, bool write, unsigned prdtl)
{
	uint8_t *h = p->dma.virt + slot * AHCI_CMD_HDR_BYTES;
	uint64_t table = p->dma.phys + AHCI_DMA_TABLES + slot * AHCI_CMD_TABLE_BYTES;

	put32(h, FIS_H2D_DWORDS | (write ? AHCI_HDR_W : 0) | prdtl << AHCI_HDR_PRDTL_SHIFT);
	put32(h + 4, 0); /* PRDBC: the HBA counts the bytes moved */
	put32(h + 8, (uint32_t)table);
	put32(h + 12, (uint32_t)(table >> 32));
}

/* The structures are in memory before the HBA is told (x86 keeps stores in
 * order, but the compiler must not move them past the register write). */
static void issue(struct ahci_port *p, unsigned slot, bool queued)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (queued)
		port_write(p, AHCI_PxSACT, 1u << slot); /* §5.6.4.1: SACT before CI */
	port_write(p, AHCI_PxCI, 1u << slot);
	p->issued |= 1u << slot;
	p->commands++;
}

static bool may_issue(const struct ahci_port *p, bool queued)
{
	/* a non-queued command while NCQ commands are in flight is an error
	 * (ATA8-ACS §4.20.2), and the other way round */
	return p->free && (!p->issued || (queued && p->ncq));
}

int ahci_submit(struct ahci_port *p, enum ahci_op op, uint64_t lba, uint32_t sectors,
		const struct ahci_sg *sg, unsigned nsg)
{
	bool queued = op != AHCI_OP_FLUSH && p->ncq, write = op == AHCI_OP_WRITE;
	uint64_t bytes = 0;
	int slot, n = 0;

	if (op != AHCI_OP_FLUSH) {
		for (unsigned i = 0; i < nsg; i++)
			bytes += sg[i].len;
		if (!sectors || sectors > ATA_MAX_SECTORS_EXT ||
		    bytes != (uint64_t)sectors * ATA_SECTOR || lba + sectors > p->id.sectors)
			return AHCI_ERR_INVAL;
	}
	if (!may_issue(p, queued))
		return AHCI_ERR_BUSY;
	slot = ahci_slot_alloc(p);
	if (op != AHCI_OP_FLUSH) {
		n = ahci_build_prdt(cmd_table(p, (unsigned)slot) + AHCI_CMD_TABLE_PRDT,
				    AHCI_PRDT_MAX, sg, nsg, p->hba->cap & AHCI_CAP_S64A);
		if (n < 0) {
			p->free |= 1u << slot;
			return AHCI_ERR_INVAL;
		}
		ahci_fis_rw(cmd_table(p, (unsigned)slot), write, queued, lba, sectors,
			    (unsigned)slot);
	} else {
		ahci_fis_simple(cmd_table(p, (unsigned)slot), ATA_CMD_FLUSH_CACHE_EXT);
	}
	cmd_header(p, (unsigned)slot, write, (unsigned)n);
	issue(p, (unsigned)slot, queued);
	return slot;
}

/* --- completion and errors ------------------------------------------------- */

/* §6.2.2.1: the port stops, its errors are cleared, a device still busy is
 * overridden with CLO (when the HBA has it), and it runs again. The commands
 * it held are gone: they fail. With NCQ the failing tag is in the device's
 * NCQ error log (READ LOG EXT page 10h), which this driver does not read, so
 * every command still queued fails with it. */
static void recover(struct ahci_port *p, uint32_t is)
{
	p->last_error = (struct ahci_error){
		.is = is,
		.tfd = port_read(p, AHCI_PxTFD),
		.serr = port_read(p, AHCI_PxSERR),
		.failed = p->issued,
	};
	port_write(p, AHCI_PxCMD, port_read(p, AHCI_PxCMD) & ~AHCI_PxCMD_ST);
	wait_reg(p->hba, PORT_REG(p, AHCI_PxCMD), AHCI_PxCMD_CR, 0, PORT_IDLE_US);
	port_write(p, AHCI_PxSERR, ~0u);
	port_write(p, AHCI_PxIS, ~0u);
	if (port_read(p, AHCI_PxTFD) & (AHCI_PxTFD_STS_BSY | AHCI_PxTFD_STS_DRQ) &&
	    p->hba->cap & AHCI_CAP_SCLO) {
		port_write(p, AHCI_PxCMD, port_read(p, AHCI_PxCMD) | AHCI_PxCMD_CLO);
		wait_reg(p->hba, PORT_REG(p, AHCI_PxCMD), AHCI_PxCMD_CLO, 0, PORT_IDLE_US);
	}
	port_run(p);
	p->done |= p->issued;
	p->failed |= p->issued;
	p->errors += ahci_slot_count(p->issued);
	p->recoveries++;
	p->issued = 0;
}

unsigned ahci_poll(struct ahci_port *p)
{
	uint32_t is, busy, fin;
	unsigned n;

	if (!p->issued)
		return 0;
	is = port_read(p, AHCI_PxIS);
	/* finished: neither still active (NCQ, cleared by Set Device Bits) nor
	 * still issued (CI, cleared when the command is done or accepted) */
	busy = port_read(p, AHCI_PxCI) | port_read(p, AHCI_PxSACT);
	fin = p->issued & ~busy;
	p->issued &= ~fin;
	p->done |= fin;
	n = ahci_slot_count(fin);
	if (is & AHCI_PxIS_ERRORS) {
		n += ahci_slot_count(p->issued);
		recover(p, is);
	} else if (is) {
		port_write(p, AHCI_PxIS, is); /* write 1 to clear what was seen */
	}
	return n;
}

bool ahci_take_done(struct ahci_port *p, uint32_t mask, unsigned *slot, bool *ok)
{
	uint32_t ready = p->done & mask;

	if (!ready)
		return false;
	*slot = (unsigned)__builtin_ctz(ready);
	*ok = !(p->failed & (1u << *slot));
	p->done &= ~(1u << *slot);
	p->failed &= ~(1u << *slot);
	p->free |= 1u << *slot;
	return true;
}

/* --- port start and IDENTIFY ------------------------------------------------- */

/* IDENTIFY DEVICE in slot 0 (PIO data-in, one 512-byte PRD), waited for. */
static int identify(struct ahci_port *p)
{
	struct ahci_sg sg = {p->dma.phys + AHCI_DMA_IDENTIFY, ATA_ID_WORDS * 2};
	uint8_t *t = cmd_table(p, 0);
	unsigned slot;
	bool ok;

	ahci_fis_simple(t, ATA_CMD_IDENTIFY_DEVICE);
	t[FIS_H2D_DEVICE] = 0;
	ahci_build_prdt(t + AHCI_CMD_TABLE_PRDT, 1, &sg, 1, true);
	cmd_header(p, 0, false, 1);
	p->free &= ~1u;
	issue(p, 0, false);
	for (unsigned us = 0; p->issued && us < IDENTIFY_US; us += POLL_STEP_US) {
		ahci_poll(p);
		p->hba->ops->delay_us(p->hba->ctx, POLL_STEP_US);
	}
	if (p->issued || !ahci_take_done(p, 1, &slot, &ok) || !ok)
		return AHCI_ERR_IDENTIFY;
	if (!ata_parse_identify(p->dma.virt + AHCI_DMA_IDENTIFY, &p->id))
		return AHCI_ERR_IDENTIFY;
	return AHCI_OK;
}

static void choose_mode(struct ahci_port *p)
{
	unsigned depth = p->hba->nslots;

	p->ncq = (p->hba->cap & AHCI_CAP_SNCQ) && p->id.ncq;
	if (!p->ncq)
		depth = 1;
	else if (p->id.queue_depth < depth)
		depth = p->id.queue_depth;
	p->depth = depth;
	p->free = depth == AHCI_SLOTS ? ~0u : (1u << depth) - 1;
}

int ahci_port_start(struct ahci_port *p, struct ahci_hba *h, unsigned index, struct ahci_dma dma)
{
	int r;

	*p = (struct ahci_port){.hba = h, .index = index, .dma = dma, .free = 1};
	if (index >= AHCI_MAX_PORTS || !(h->pi & (1u << index)))
		return AHCI_ERR_NO_PORT;
	if (!port_idle(p))
		return AHCI_ERR_TIMEOUT;
	port_set_memory(p);
	r = port_link_up(p);
	if (r)
		return r;
	port_run(p);
	r = identify(p);
	if (r)
		return r;
	choose_mode(p);
	return AHCI_OK;
}
