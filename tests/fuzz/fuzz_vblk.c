/* libFuzzer harness for virtio-blk end to end (vio/blk.c, vio/ramdisk.c, over vio/virtqueue.c
 * and vio/virtio_pci.c): a device with a 64 KiB ramdisk is set up through its BAR 0 registers
 * the way a driver does (§3.1.1), then the input is the whole 64 KiB guest RAM holding its
 * request queue, so descriptors, rings, headers and data are all the fuzzer's. vblk_process
 * runs until it takes nothing more (or fails, and the device is failed as the I/O core does),
 * then the driver resets the device. The guest RAM is a heap block of its exact size and the
 * disk sits between poisoned guard pages holding a canary, so AddressSanitizer (and the
 * canary, for what it cannot see) flags any byte read or written outside either. Beyond
 * "no crash":
 *   - every call takes at most its budget, and the synchronous ramdisk leaves nothing in
 *     flight: each request taken is completed exactly once (the used index moves by as many);
 *   - a failure says why, and the failed device takes nothing more;
 *   - a reset leaves no slot busy.
 *
 * Input: byte 0 picks the queue size (1 << (b % 8)), byte 1 the features (bit 0 EVENT_IDX,
 * bit 1 INDIRECT_DESC) and the budget (1 + (b >> 2)), the rest is RAM from guest-physical 0:
 * descriptors at 0, the avail ring right after them, the used ring at 0x8000. Seeds: reads,
 * writes, flushes, GET_ID and bad requests (tests/fuzz/seeds.py). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/asan_interface.h>

#include "vio/blk.h"
#include "vio/ramdisk.h"

#define RAM_SIZE  0x10000u
#define DISK_SIZE 0x10000u
#define GUARD	  0x1000u
#define CANARY	  0xe7
#define DESC	  0x0000u
#define USED	  0x8000u
#define MAX_CALLS 64
#define F(bit)	  (1ull << (bit))
#define CHECK(c)  ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vblk blk;
static struct ramdisk disk;
static uint8_t *disk_block; /* guard, disk, guard */

static void bar_write(uint32_t off, unsigned size, uint32_t value)
{
	uint16_t kick;

	(void)virtio_pci_bar_write(&blk.vp, VIO_BAR0_COMMON + off, size, value, &kick);
}

/* §3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, the queue, DRIVER_OK. */
static void driver_setup(uint16_t qsize, uint64_t features)
{
	const uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	bar_write(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	bar_write(VIRTIO_PCI_COMMON_STATUS, 1, s);
	bar_write(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	bar_write(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)features);
	bar_write(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	bar_write(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(features >> 32));
	bar_write(VIRTIO_PCI_COMMON_STATUS, 1, s | VIRTIO_STATUS_FEATURES_OK);
	bar_write(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	bar_write(VIRTIO_PCI_COMMON_Q_SIZE, 2, qsize);
	bar_write(VIRTIO_PCI_COMMON_Q_DESCLO, 4, DESC);
	bar_write(VIRTIO_PCI_COMMON_Q_AVAILLO, 4, DESC + 16u * qsize);
	bar_write(VIRTIO_PCI_COMMON_Q_USEDLO, 4, USED);
	bar_write(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	bar_write(VIRTIO_PCI_COMMON_STATUS, 1,
		  s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK(virtio_pci_live(&blk.vp) && virtio_pci_queue(&blk.vp, 0));
}

static void guards(bool poison)
{
	uint8_t *after = disk_block + GUARD + DISK_SIZE;

	if (poison) {
		ASAN_POISON_MEMORY_REGION(disk_block, GUARD);
		ASAN_POISON_MEMORY_REGION(after, GUARD);
		return;
	}
	ASAN_UNPOISON_MEMORY_REGION(disk_block, GUARD);
	ASAN_UNPOISON_MEMORY_REGION(after, GUARD);
	for (unsigned i = 0; i < GUARD; i++)
		CHECK(disk_block[i] == CANARY && after[i] == CANARY);
}

/* Runs the request queue as the I/O core does, until it takes nothing more. */
static void run(unsigned budget)
{
	struct msi_msg msg;

	for (unsigned n = 0; n < MAX_CALLS; n++) {
		struct virtqueue *q = virtio_pci_queue(&blk.vp, 0);
		uint16_t before = q ? q->used_idx : 0;
		int taken = vblk_process(&blk, budget);

		CHECK(taken >= -1 && taken <= (int)budget && blk.inflight == 0);
		if (taken < 0) {
			CHECK(blk.error && blk.error[0]);
			(void)virtio_pci_fail(&blk.vp, 0, blk.error, &msg);
			CHECK(vblk_process(&blk, budget) == 0);
			return;
		}
		CHECK(!q || (uint16_t)(q->used_idx - before) == taken);
		if (taken == 0)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gmem g = {.size = RAM_SIZE};
	uint64_t features = F(VIRTIO_F_VERSION_1) | F(VIRTIO_BLK_F_SIZE_MAX) |
			    F(VIRTIO_BLK_F_SEG_MAX) | F(VIRTIO_BLK_F_BLK_SIZE) |
			    F(VIRTIO_BLK_F_FLUSH);

	if (size < 2)
		return 0;
	if (!disk_block) {
		disk_block = malloc(GUARD + DISK_SIZE + GUARD);
		if (!disk_block)
			return 0;
		memset(disk_block, CANARY, GUARD + DISK_SIZE + GUARD);
		disk = (struct ramdisk){disk_block + GUARD, DISK_SIZE};
		guards(true);
	}
	g.base = calloc(1, RAM_SIZE);
	if (!g.base)
		return 0;
	memcpy(g.base, data + 2, size - 2 < RAM_SIZE ? size - 2 : RAM_SIZE);
	features |= (data[1] & 1 ? F(VIRTIO_F_EVENT_IDX) : 0) |
		    (data[1] & 2 ? F(VIRTIO_F_INDIRECT_DESC) : 0);
	vblk_init(&blk, &g, DISK_SIZE / VIRTIO_BLK_SECTOR, "fuzz-disk", &ramdisk_ops, &disk);
	driver_setup((uint16_t)(1u << (data[0] % 8)), features);
	run(1u + (data[1] >> 2));
	bar_write(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	CHECK(blk.inflight == 0 && !virtio_pci_queue(&blk.vp, 0));
	for (unsigned i = 0; i < VBLK_MAX_INFLIGHT; i++)
		CHECK(!blk.slot[i].busy);
	guards(false);
	guards(true);
	free(g.base);
	return 0;
}
