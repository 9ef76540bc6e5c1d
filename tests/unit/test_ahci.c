/* The AHCI driver (drivers/ahci.c) on a fake HBA: a register file with the
 * semantics the driver relies on (HR self-clears, CR follows ST and FR
 * follows FRE, PxIS and PxSERR are write-1-to-clear, clearing ST clears CI
 * and SACT, CLO self-clears), and a fake disk that answers IDENTIFY through
 * the command list and PRDT the driver built. DMA memory is identity-mapped
 * (physical address = host pointer), so the fake follows the driver's
 * physical addresses as an HBA would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "drivers/ahci.h"

#define REG_BYTES 0x1100
#define PORT	  1 /* a port other than 0: port offsets are exercised */

static struct fake_hba {
	uint32_t reg[REG_BYTES / 4];
	uint8_t identify[ATA_ID_WORDS * 2];
	unsigned st_off, st_on, serr_clears, clo;
	uint32_t issued_ci, issued_sact;
} hw;

static _Alignas(4096) uint8_t dma_mem[AHCI_PORT_DMA_PAGES * 4096];

static uint32_t *preg(unsigned port, uint32_t r)
{
	return &hw.reg[(AHCI_PORT_BASE + port * AHCI_PORT_STRIDE + r) / 4];
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint8_t *phys_ptr(uint64_t lo, uint64_t hi)
{
	return (uint8_t *)(uintptr_t)(lo | hi << 32);
}

/* The fake disk: IDENTIFY in slot 0 completes at once, into its PRD. */
static void run_identify(unsigned port)
{
	uint8_t *cl = phys_ptr(*preg(port, AHCI_PxCLB), *preg(port, AHCI_PxCLBU));
	uint8_t *table = phys_ptr(get32(cl + 8), get32(cl + 12));
	uint8_t *prd = table + AHCI_CMD_TABLE_PRDT;

	assert_int_equal(table[0], FIS_TYPE_REG_H2D);
	assert_int_equal(table[FIS_H2D_COMMAND], ATA_CMD_IDENTIFY_DEVICE);
	assert_int_equal(get32(cl) >> AHCI_HDR_PRDTL_SHIFT, 1);
	assert_int_equal((get32(prd + 12) & AHCI_PRD_DBC_MASK) + 1, 512);
	memcpy(phys_ptr(get32(prd), get32(prd + 4)), hw.identify, sizeof(hw.identify));
	*preg(port, AHCI_PxCI) &= ~1u;
}

static uint8_t slot0_command(unsigned port)
{
	uint8_t *cl = phys_ptr(*preg(port, AHCI_PxCLB), *preg(port, AHCI_PxCLBU));

	return phys_ptr(get32(cl + 8), get32(cl + 12))[FIS_H2D_COMMAND];
}

static void port_write(unsigned port, uint32_t r, uint32_t v)
{
	uint32_t *x = preg(port, r);

	switch (r) {
	case AHCI_PxIS:
		*x &= ~v;
		break;
	case AHCI_PxSERR:
		hw.serr_clears += v == ~0u;
		*x &= ~v;
		break;
	case AHCI_PxCMD:
		if ((*x & AHCI_PxCMD_ST) && !(v & AHCI_PxCMD_ST)) {
			hw.st_off++;
			*preg(port, AHCI_PxCI) = 0;
			*preg(port, AHCI_PxSACT) = 0;
		}
		hw.st_on += !(*x & AHCI_PxCMD_ST) && (v & AHCI_PxCMD_ST);
		hw.clo += !!(v & AHCI_PxCMD_CLO);
		v &= ~(AHCI_PxCMD_CLO | AHCI_PxCMD_CR | AHCI_PxCMD_FR);
		v |= (v & AHCI_PxCMD_ST ? AHCI_PxCMD_CR : 0) |
		     (v & AHCI_PxCMD_FRE ? AHCI_PxCMD_FR : 0);
		*x = v;
		break;
	case AHCI_PxCI:
		*x |= v;
		hw.issued_ci |= v;
		if (v == 1 && slot0_command(port) == ATA_CMD_IDENTIFY_DEVICE)
			run_identify(port);
		break;
	case AHCI_PxSACT:
		*x |= v;
		hw.issued_sact |= v;
		break;
	default:
		*x = v;
	}
}

static uint32_t fake_read32(void *ctx, uint32_t off)
{
	(void)ctx;
	assert_true(off < REG_BYTES && off % 4 == 0);
	return hw.reg[off / 4];
}

static void fake_write32(void *ctx, uint32_t off, uint32_t v)
{
	(void)ctx;
	assert_true(off < REG_BYTES && off % 4 == 0);
	if (off >= AHCI_PORT_BASE) {
		port_write((off - AHCI_PORT_BASE) / AHCI_PORT_STRIDE,
			   (off - AHCI_PORT_BASE) % AHCI_PORT_STRIDE, v);
		return;
	}
	if (off == AHCI_GHC)
		v &= ~AHCI_GHC_HR; /* the reset is over at once */
	hw.reg[off / 4] = v;
}

static void fake_delay(void *ctx, unsigned us)
{
	(void)ctx;
	(void)us;
}

static const struct ahci_io_ops fake_ops = {fake_read32, fake_write32, fake_delay};

static void id_put(unsigned w, uint16_t v)
{
	hw.identify[2 * w] = (uint8_t)v;
	hw.identify[2 * w + 1] = (uint8_t)(v >> 8);
}

/* A 64 MiB LBA48 disk named "QEMU HARDDISK", NCQ with `depth` tags (0: none). */
static void fake_disk(unsigned depth)
{
	const char *model = "QEMU HARDDISK";

	memset(&hw, 0, sizeof(hw));
	hw.reg[AHCI_CAP / 4] =
		AHCI_CAP_S64A | AHCI_CAP_SNCQ | AHCI_CAP_SCLO | (31u << AHCI_CAP_NCS_SHIFT) | 5;
	hw.reg[AHCI_PI / 4] = 0x3f;
	hw.reg[AHCI_VS / 4] = 0x10000;
	*preg(PORT, AHCI_PxSSTS) = 0x113;
	*preg(PORT, AHCI_PxSIG) = AHCI_SIG_ATA;
	for (unsigned i = 0; i < ATA_ID_MODEL_WORDS; i++)
		id_put(ATA_ID_MODEL + i, 0x2020);
	for (unsigned i = 0; model[i]; i++)
		hw.identify[2 * (ATA_ID_MODEL + i / 2) + (i & 1 ? 0 : 1)] = (uint8_t)model[i];
	id_put(ATA_ID_COMMAND_SET_2, ATA_ID_COMMAND_SET_2_LBA48);
	id_put(ATA_ID_LBA48_CAPACITY, 0);
	id_put(ATA_ID_LBA48_CAPACITY + 1, 2); /* 131072 sectors */
	id_put(ATA_ID_LBA28_CAPACITY + 1, 2);
	id_put(ATA_ID_SATA_CAP, depth ? ATA_ID_SATA_CAP_NCQ : 0);
	id_put(ATA_ID_QUEUE_DEPTH, depth ? (uint16_t)(depth - 1) : 0);
}

static struct ahci_hba hba;
static struct ahci_port port;

static void start(unsigned depth)
{
	fake_disk(depth);
	assert_int_equal(ahci_hba_reset(&hba, &fake_ops, NULL), AHCI_OK);
	assert_int_equal(
		ahci_port_start(&port, &hba, PORT, (struct ahci_dma){dma_mem, (uintptr_t)dma_mem}),
		AHCI_OK);
}

static void test_reset_and_identify(void **state)
{
	(void)state;
	start(32);
	assert_int_equal(hba.nslots, 32);
	assert_int_equal(hw.reg[AHCI_GHC / 4], AHCI_GHC_AE);
	assert_int_equal(port.id.sectors, 131072);
	assert_true(port.id.lba48);
	assert_true(port.ncq);
	assert_int_equal(port.depth, 32);
	assert_int_equal(port.free, 0xffffffffu);
	assert_string_equal(port.id.model, "QEMU HARDDISK");
	assert_int_equal(*preg(PORT, AHCI_PxCLB), (uint32_t)(uintptr_t)dma_mem);
	assert_int_equal(*preg(PORT, AHCI_PxFB), (uint32_t)(uintptr_t)dma_mem + AHCI_DMA_RFIS);
	assert_true(*preg(PORT, AHCI_PxCMD) & AHCI_PxCMD_ST);
	assert_true(*preg(PORT, AHCI_PxCMD) & AHCI_PxCMD_FRE);
	assert_int_equal(port.commands, 1);
}

static void test_port_without_a_disk(void **state)
{
	(void)state;
	fake_disk(32);
	*preg(PORT, AHCI_PxSIG) = AHCI_SIG_ATAPI;
	ahci_hba_reset(&hba, &fake_ops, NULL);
	assert_int_equal(
		ahci_port_start(&port, &hba, PORT, (struct ahci_dma){dma_mem, (uintptr_t)dma_mem}),
		AHCI_ERR_NOT_ATA);
	*preg(PORT, AHCI_PxSSTS) = 0;
	assert_int_equal(
		ahci_port_start(&port, &hba, PORT, (struct ahci_dma){dma_mem, (uintptr_t)dma_mem}),
		AHCI_ERR_NO_DEVICE);
	assert_int_equal(
		ahci_port_start(&port, &hba, 6, (struct ahci_dma){dma_mem, (uintptr_t)dma_mem}),
		AHCI_ERR_NO_PORT);
	assert_string_equal(ahci_status_name(AHCI_ERR_NO_DEVICE), "no device");
}

static void test_identify_parse(void **state)
{
	struct ata_identity id;

	(void)state;
	fake_disk(8);
	assert_true(ata_parse_identify(hw.identify, &id));
	assert_int_equal(id.queue_depth, 8);
	id_put(ATA_ID_SATA_CAP, 0xffff); /* not reported */
	assert_true(ata_parse_identify(hw.identify, &id));
	assert_false(id.ncq);
	assert_int_equal(id.queue_depth, 0);
	id_put(ATA_ID_COMMAND_SET_2, 0); /* LBA28 only: not driven */
	assert_false(ata_parse_identify(hw.identify, &id));
	assert_int_equal(id.sectors, 131072);
	memset(hw.identify, 0, sizeof(hw.identify));
	assert_false(ata_parse_identify(hw.identify, &id));
}

static void test_fis_layouts(void **state)
{
	uint8_t f[20];
	static const uint8_t ncq_write[20] = {0x27, 0x80, 0x61, 0x08, 0x44, 0x33,  0x22,
					      0x40, 0x11, 0x66, 0x55, 0x00, 5 << 3};
	static const uint8_t dma_read[20] = {0x27, 0x80, 0x25, 0x00, 0x01, 0x00, 0x00,
					     0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t flush[20] = {0x27, 0x80, 0xea, 0, 0, 0, 0, 0x40};

	(void)state;
	ahci_fis_rw(f, true, true, 0x556611223344ull, 8, 5);
	assert_memory_equal(f, ncq_write, 20);
	ahci_fis_rw(f, false, false, 1, 256, 0);
	assert_memory_equal(f, dma_read, 20);
	ahci_fis_rw(f, false, true, 0, ATA_MAX_SECTORS_EXT, 31); /* 65536 is a count of 0 */
	assert_int_equal(f[FIS_H2D_FEATURES], 0);
	assert_int_equal(f[FIS_H2D_FEATURES1], 0);
	assert_int_equal(f[FIS_H2D_COUNT0], 31 << 3);
	assert_int_equal(f[FIS_H2D_COMMAND], ATA_CMD_READ_FPDMA_QUEUED);
	ahci_fis_simple(f, ATA_CMD_FLUSH_CACHE_EXT);
	assert_memory_equal(f, flush, 20);
}

static void test_prdt_from_a_scatter_list(void **state)
{
	uint8_t prdt[8 * AHCI_PRD_BYTES];
	struct ahci_sg sg[2] = {{0x123456000ull, 9u << 20}, {0x2000, 512}};

	(void)state;
	assert_int_equal(ahci_build_prdt(prdt, 8, sg, 2, true), 4);
	assert_int_equal(get32(prdt), 0x23456000);
	assert_int_equal(get32(prdt + 4), 1);
	assert_int_equal(get32(prdt + 12), (4u << 20) - 1); /* 4 MiB, I bit clear */
	assert_int_equal(get32(prdt + 16), 0x23856000);
	assert_int_equal(get32(prdt + 32), 0x23c56000);
	assert_int_equal(get32(prdt + 44), (1u << 20) - 1);
	assert_int_equal(get32(prdt + 48), 0x2000);
	assert_int_equal(get32(prdt + 60), 511);
	/* above 4 GiB without S64A; too many entries; odd count or address */
	assert_int_equal(ahci_build_prdt(prdt, 8, sg, 2, false), -1);
	assert_int_equal(ahci_build_prdt(prdt, 3, sg, 2, true), -1);
	sg[1].len = 511;
	assert_int_equal(ahci_build_prdt(prdt, 8, sg + 1, 1, true), -1);
	sg[1] = (struct ahci_sg){0x2001, 512};
	assert_int_equal(ahci_build_prdt(prdt, 8, sg + 1, 1, true), -1);
	sg[1] = (struct ahci_sg){0xfffffe00, 0x400}; /* crosses 4 GiB */
	assert_int_equal(ahci_build_prdt(prdt, 8, sg + 1, 1, false), -1);
	sg[1].len = 0x200;
	assert_int_equal(ahci_build_prdt(prdt, 8, sg + 1, 1, false), 1);
}

static const struct ahci_sg one_sector = {0x10000, 512};

static void test_ncq_slots(void **state)
{
	unsigned slot;
	bool ok;

	(void)state;
	start(32);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(ahci_submit(&port, AHCI_OP_READ, i, 1, &one_sector, 1), (int)i);
	assert_int_equal(ahci_submit(&port, AHCI_OP_READ, 0, 1, &one_sector, 1), AHCI_ERR_BUSY);
	assert_int_equal(hw.issued_sact, 0xffffffffu);
	assert_int_equal(*preg(PORT, AHCI_PxCI), 0xffffffffu);
	/* slot 7's table: READ FPDMA QUEUED of LBA 7 with tag 7 */
	{
		uint8_t *t = dma_mem + AHCI_DMA_TABLES + 7 * AHCI_CMD_TABLE_BYTES;
		uint8_t *h = dma_mem + 7 * AHCI_CMD_HDR_BYTES;

		assert_int_equal(t[FIS_H2D_COMMAND], ATA_CMD_READ_FPDMA_QUEUED);
		assert_int_equal(t[FIS_H2D_LBA0], 7);
		assert_int_equal(t[FIS_H2D_COUNT0], 7 << 3);
		assert_int_equal(get32(h), FIS_H2D_DWORDS | 1u << AHCI_HDR_PRDTL_SHIFT);
		assert_int_equal(get32(h + 8), (uint32_t)(uintptr_t)t);
	}
	/* the device accepts everything (CI clears) and finishes 3 and 7 */
	*preg(PORT, AHCI_PxCI) = 0;
	*preg(PORT, AHCI_PxSACT) = ~(1u << 3 | 1u << 7);
	*preg(PORT, AHCI_PxIS) = AHCI_PxIS_SDBS | AHCI_PxIS_DHRS;
	assert_int_equal(ahci_poll(&port), 2);
	assert_int_equal(*preg(PORT, AHCI_PxIS), 0);
	assert_false(ahci_take_done(&port, ~(1u << 3 | 1u << 7), &slot, &ok));
	assert_true(ahci_take_done(&port, ~0u, &slot, &ok));
	assert_int_equal(slot, 3);
	assert_true(ok);
	assert_true(ahci_take_done(&port, ~0u, &slot, &ok));
	assert_int_equal(slot, 7);
	assert_false(ahci_take_done(&port, ~0u, &slot, &ok));
	/* FLUSH is not queued: it waits while NCQ commands are in flight */
	assert_int_equal(ahci_submit(&port, AHCI_OP_FLUSH, 0, 0, NULL, 0), AHCI_ERR_BUSY);
	assert_int_equal(ahci_submit(&port, AHCI_OP_WRITE, 9, 1, &one_sector, 1), 3);
	/* past the disk's end, or data not matching the sectors */
	assert_int_equal(ahci_submit(&port, AHCI_OP_READ, 131071, 2, &one_sector, 1),
			 AHCI_ERR_INVAL);
	assert_int_equal(ahci_submit(&port, AHCI_OP_READ, 0, 2, &one_sector, 1), AHCI_ERR_INVAL);
	assert_int_equal(ahci_slot_alloc(&port), 7);
}

/* A task-file error fails the commands still queued, and only those: the one
 * that finished before it completes fine, and the port restarts. */
static void test_task_file_error_recovers_the_port(void **state)
{
	unsigned slot;
	bool ok;

	(void)state;
	start(32);
	assert_int_equal(ahci_submit(&port, AHCI_OP_WRITE, 1, 1, &one_sector, 1), 0);
	assert_int_equal(ahci_submit(&port, AHCI_OP_READ, 2, 1, &one_sector, 1), 1);
	*preg(PORT, AHCI_PxCI) = 0;
	*preg(PORT, AHCI_PxSACT) = 1u << 1; /* slot 0 finished, slot 1 failed */
	*preg(PORT, AHCI_PxSERR) = 0x400;
	*preg(PORT, AHCI_PxTFD) = 0x0441; /* ABRT, ERR | DRDY */
	*preg(PORT, AHCI_PxIS) = AHCI_PxIS_TFES | AHCI_PxIS_SDBS;
	hw.st_off = hw.st_on = hw.serr_clears = 0;
	assert_int_equal(ahci_poll(&port), 2);
	assert_int_equal(hw.st_off, 1);
	assert_int_equal(hw.st_on, 1);
	assert_int_equal(hw.serr_clears, 1);
	assert_int_equal(hw.clo, 0); /* BSY and DRQ were clear */
	assert_int_equal(*preg(PORT, AHCI_PxIS), 0);
	assert_int_equal(*preg(PORT, AHCI_PxSERR), 0);
	assert_int_equal(port.last_error.failed, 2);
	assert_int_equal(port.last_error.tfd, 0x441);
	assert_int_equal(port.last_error.serr, 0x400);
	assert_int_equal(port.errors, 1);
	assert_int_equal(port.recoveries, 1);
	assert_true(ahci_take_done(&port, ~0u, &slot, &ok));
	assert_int_equal(slot, 0);
	assert_true(ok);
	assert_true(ahci_take_done(&port, ~0u, &slot, &ok));
	assert_int_equal(slot, 1);
	assert_false(ok);
	/* the port takes commands again; a device stuck busy gets CLO */
	assert_int_equal(ahci_submit(&port, AHCI_OP_READ, 2, 1, &one_sector, 1), 0);
	*preg(PORT, AHCI_PxTFD) = AHCI_PxTFD_STS_BSY;
	*preg(PORT, AHCI_PxIS) = AHCI_PxIS_HBFS;
	assert_int_equal(ahci_poll(&port), 1);
	assert_int_equal(hw.clo, 1);
	assert_true(ahci_take_done(&port, ~0u, &slot, &ok));
	assert_false(ok);
	assert_int_equal(port.free, 0xffffffffu);
}

static void test_without_ncq_one_at_a_time(void **state)
{
	uint8_t *t = dma_mem + AHCI_DMA_TABLES;
	unsigned slot;
	bool ok;

	(void)state;
	start(0);
	assert_false(port.ncq);
	assert_int_equal(port.depth, 1);
	assert_int_equal(ahci_submit(&port, AHCI_OP_WRITE, 5, 1, &one_sector, 1), 0);
	assert_int_equal(t[FIS_H2D_COMMAND], ATA_CMD_WRITE_DMA_EXT);
	assert_int_equal(t[FIS_H2D_COUNT0], 1);
	assert_true(get32(dma_mem) & AHCI_HDR_W);
	assert_int_equal(hw.issued_sact, 0);
	assert_int_equal(ahci_submit(&port, AHCI_OP_READ, 5, 1, &one_sector, 1), AHCI_ERR_BUSY);
	*preg(PORT, AHCI_PxCI) = 0;
	assert_int_equal(ahci_poll(&port), 1);
	assert_true(ahci_take_done(&port, ~0u, &slot, &ok) && ok);
	assert_int_equal(ahci_submit(&port, AHCI_OP_FLUSH, 0, 0, NULL, 0), 0);
	assert_int_equal(t[FIS_H2D_COMMAND], ATA_CMD_FLUSH_CACHE_EXT);
	assert_int_equal(get32(dma_mem) >> AHCI_HDR_PRDTL_SHIFT, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_and_identify),
		cmocka_unit_test(test_port_without_a_disk),
		cmocka_unit_test(test_identify_parse),
		cmocka_unit_test(test_fis_layouts),
		cmocka_unit_test(test_prdt_from_a_scatter_list),
		cmocka_unit_test(test_ncq_slots),
		cmocka_unit_test(test_task_file_error_recovers_the_port),
		cmocka_unit_test(test_without_ncq_one_at_a_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
