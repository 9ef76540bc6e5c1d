/* libFuzzer harness for virtio-net through the virtual switch (vio/net.c, vio/switch.c, over
 * vio/virtqueue.c and vio/virtio_pci.c): two devices on one switch, both set up through their
 * BAR 0 registers the way a driver does (§3.1.1). Device A is the fuzzer's: the input is its
 * whole 64 KiB RAM, so both of its rings, its frames and its receive buffers are fuzzed.
 * Device B is a well-behaved driver: it posts receive buffers (and posts them again once
 * used) and sends A a few frames. Transmit runs on both, in rounds, until nothing moves; a
 * failed A is failed as the I/O core does. Both RAMs are heap blocks of their exact size, so
 * AddressSanitizer flags a copy outside either. Beyond "no crash", whatever A does:
 *   - B never fails, and of B's RAM only its used rings and its receive buffers change;
 *   - every frame B receives is whole: one buffer it posted, a length between the smallest
 *     and the largest Ethernet frame behind the header, a zeroed header with num_buffers 1;
 *     and B's port counted exactly the frames B found in its used ring;
 *   - A's calls stay within their budget, its wait ring within tx_queue_len, its receive
 *     reserve within VNET_RX_CHAINS, and a failure says why and on which queue.
 *
 * Input: byte 0 picks A's queue size (1 << (b % 5)) and budget (1 + (b >> 5)); byte 1 A's
 * features (bit 0 MRG_RXBUF, bit 1 EVENT_IDX, bit 2 INDIRECT_DESC), whether A is reset after
 * two rounds (bit 3) and A's tx_queue_len (1 + (b >> 4)); byte 2 how many frames B sends
 * (b % 8) and to whom (bits 3-4: A, broadcast, an unknown address, B itself); byte 3 their
 * length (14 + 5 * b); the rest is A's RAM from guest-physical 0: the TX queue's descriptors
 * at 0x0 and avail ring at 0x100, the RX queue's at 0x200 and 0x300, the used rings at 0x8000
 * (TX) and 0x9000 (RX). Seeds: frames to B, to broadcast, MRG_RXBUF receives (seeds.py). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vio/net.h"

#define A_RAM	   0x10000u
#define B_RAM	   0x30000u
#define B_QSIZE	   16u
#define B_RX_BUFS  8u
#define B_BUF	   0x800u
#define B_RX_GPA   0x10000u
#define B_TX_GPA   0x20000u
#define ROUNDS	   32
#define USED_BYTES (4u + 8u * 16u + 2u) /* flags, idx, 16 elements, avail_event */
#define F(bit)	   (1ull << (bit))
#define CHECK(c)   ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ring {
	uint64_t desc, avail, used;
};

struct drv {
	struct vnet n;
	struct vnet_tx_wait wait[VNET_TX_QUEUE_MAX];
	struct gmem g;
	struct ring q[2];
};

static struct vswitch sw;
static struct drv A, B;
static uint8_t *b_shadow; /* what B's RAM must hold outside what the device may write */
static uint16_t b_rx_seen, b_rx_avail;
static const uint8_t mac_a[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t mac_b[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0b};

static void bar_write(struct drv *d, uint32_t off, unsigned size, uint32_t value)
{
	uint16_t kick;

	(void)virtio_pci_bar_write(&d->n.vp, VIO_BAR0_COMMON + off, size, value, &kick);
}

/* §3.1.1 with both queues (§5.1.2: receiveq1 is 0, transmitq1 is 1). */
static void driver_setup(struct drv *d, uint16_t qsize, uint64_t features)
{
	const uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	bar_write(d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	bar_write(d, VIRTIO_PCI_COMMON_STATUS, 1, s);
	bar_write(d, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	bar_write(d, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)features);
	bar_write(d, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	bar_write(d, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(features >> 32));
	bar_write(d, VIRTIO_PCI_COMMON_STATUS, 1, s | VIRTIO_STATUS_FEATURES_OK);
	for (uint16_t q = 0; q < 2; q++) {
		bar_write(d, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
		bar_write(d, VIRTIO_PCI_COMMON_Q_SIZE, 2, qsize);
		bar_write(d, VIRTIO_PCI_COMMON_Q_DESCLO, 4, (uint32_t)d->q[q].desc);
		bar_write(d, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint32_t)d->q[q].avail);
		bar_write(d, VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint32_t)d->q[q].used);
		bar_write(d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	}
	bar_write(d, VIRTIO_PCI_COMMON_STATUS, 1,
		  s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK(virtio_pci_live(&d->n.vp));
}

/* B's driver writes: to its RAM and to the shadow. */
static void b_put(uint64_t gpa, const void *src, size_t len)
{
	memcpy(B.g.base + gpa, src, len);
	memcpy(b_shadow + gpa, src, len);
}

static void b_put16(uint64_t gpa, uint16_t v)
{
	b_put(gpa, &v, 2);
}

static void b_desc(uint16_t q, uint16_t i, uint64_t gpa, uint32_t len, uint16_t flags)
{
	uint8_t d[16] = {0};

	memcpy(d, &gpa, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	b_put(B.q[q].desc + 16u * i, d, sizeof(d));
}

static void b_post_rx(uint16_t head)
{
	b_put16(B.q[VIRTIO_NET_Q_RX].avail + 4 + 2u * (b_rx_avail % B_QSIZE), head);
	b_rx_avail++;
	b_put16(B.q[VIRTIO_NET_Q_RX].avail + 2, b_rx_avail);
}

/* B's frames to A: a zeroed virtio-net header, then the Ethernet frame. */
static void b_post_tx(uint8_t count, uint8_t to, unsigned len)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t unknown[6] = {0x02, 0, 0, 0, 0, 0x99};
	const uint8_t *const dst[4] = {mac_a, bcast, unknown, mac_b};
	uint8_t frame[VIRTIO_NET_HDR_SIZE + VIO_ETH_MAX_FRAME];

	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	memset(frame, 0, VIRTIO_NET_HDR_SIZE);
	memcpy(frame + VIRTIO_NET_HDR_SIZE, dst[to % 4], 6);
	memcpy(frame + VIRTIO_NET_HDR_SIZE + 6, mac_b, 6);
	for (uint16_t i = 0; i < count; i++) {
		b_put(B_TX_GPA + B_BUF * i, frame, VIRTIO_NET_HDR_SIZE + len);
		b_desc(VIRTIO_NET_Q_TX, i, B_TX_GPA + B_BUF * i, VIRTIO_NET_HDR_SIZE + len, 0);
		b_put16(B.q[VIRTIO_NET_Q_TX].avail + 4 + 2u * i, i);
	}
	b_put16(B.q[VIRTIO_NET_Q_TX].avail + 2, count);
}

static void b_setup(void)
{
	static const uint8_t zero[16 * B_QSIZE];

	memset(B.g.base, 0xb5, B_RAM);
	memset(b_shadow, 0xb5, B_RAM);
	b_rx_seen = b_rx_avail = 0;
	for (uint16_t q = 0; q < 2; q++) {
		B.q[q] = (struct ring){0x1000 + 0x3000u * q, 0x1800 + 0x3000u * q,
				       0x2000 + 0x3000u * q};
		b_put(B.q[q].desc, zero, 16 * B_QSIZE);
		b_put(B.q[q].avail, zero, 4 + 2 * B_QSIZE + 2);
		b_put(B.q[q].used, zero, USED_BYTES);
	}
	for (uint16_t i = 0; i < B_RX_BUFS; i++) {
		b_desc(VIRTIO_NET_Q_RX, i, B_RX_GPA + B_BUF * i, B_BUF, VIRTQ_DESC_F_WRITE);
		b_post_rx(i);
	}
}

/* What B's driver finds in its RX used ring: checks each frame and posts its buffer again. */
static void b_receive(void)
{
	const uint8_t *used = B.g.base + B.q[VIRTIO_NET_Q_RX].used;
	uint16_t idx;

	memcpy(&idx, used + 2, 2);
	for (; b_rx_seen != idx; b_rx_seen++) {
		uint32_t id, len;
		const uint8_t *hdr;
		uint16_t nbuf;

		memcpy(&id, used + 4 + 8u * (b_rx_seen % B_QSIZE), 4);
		memcpy(&len, used + 8 + 8u * (b_rx_seen % B_QSIZE), 4);
		CHECK(id < B_RX_BUFS && len <= B_BUF);
		CHECK(len >= VIRTIO_NET_HDR_SIZE + VIO_ETH_MIN_FRAME &&
		      len <= VIRTIO_NET_HDR_SIZE + VIO_ETH_MAX_FRAME);
		hdr = B.g.base + B_RX_GPA + B_BUF * id;
		memcpy(&nbuf, hdr + VIRTIO_NET_HDR_NUM_BUFFERS, 2);
		for (unsigned i = 0; i < VIRTIO_NET_HDR_NUM_BUFFERS; i++)
			CHECK(hdr[i] == 0);
		CHECK(nbuf == 1);
		b_post_rx((uint16_t)id);
	}
	CHECK(B.n.port.stats.rx_frames == b_rx_seen);
}

/* B's RAM outside its used rings and RX buffers holds what the driver wrote there. */
static void b_check_ram(void)
{
	const uint64_t open[][2] = {
		{B.q[0].used, B.q[0].used + USED_BYTES},
		{B.q[1].used, B.q[1].used + USED_BYTES},
		{B_RX_GPA, B_RX_GPA + B_BUF * B_RX_BUFS},
	};
	uint64_t at = 0;

	for (unsigned i = 0; i <= 3; i++) {
		uint64_t end = i < 3 ? open[i][0] : B_RAM;

		CHECK(!memcmp(B.g.base + at, b_shadow + at, end - at));
		at = i < 3 ? open[i][1] : B_RAM;
	}
}

static void check_a(int r, unsigned budget)
{
	CHECK(r >= -1 && r <= (int)budget);
	CHECK(A.n.wait_count <= A.n.port.tx_queue_len && A.n.rx_count <= VNET_RX_CHAINS);
	if (r < 0)
		CHECK(A.n.error && A.n.error[0] &&
		      (A.n.error_queue == VIRTIO_NET_Q_RX || A.n.error_queue == VIRTIO_NET_Q_TX));
}

static void run(unsigned budget, bool reset)
{
	struct msi_msg msg;

	for (int round = 0; round < ROUNDS; round++) {
		int a = vnet_process_tx(&A.n, budget), b;

		check_a(a, budget);
		if (a < 0)
			(void)virtio_pci_fail(&A.n.vp, (unsigned)A.n.error_queue, A.n.error, &msg);
		b = vnet_process_tx(&B.n, 4);
		CHECK(b >= 0 && !B.n.error);
		b_receive();
		if (reset && round == 2)
			bar_write(&A, VIRTIO_PCI_COMMON_STATUS, 1, 0);
		if (a <= 0 && b == 0 && !vnet_tx_waiting(&A.n) && !vnet_tx_waiting(&B.n))
			break;
	}
	b_check_ram();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t base = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS);
	uint64_t features = base;

	if (size < 4)
		return 0;
	if (!b_shadow) {
		B.g = (struct gmem){malloc(B_RAM), B_RAM};
		b_shadow = malloc(B_RAM);
		if (!B.g.base || !b_shadow)
			abort();
	}
	A.g = (struct gmem){calloc(1, A_RAM), A_RAM};
	if (!A.g.base)
		return 0;
	memcpy(A.g.base, data + 4, size - 4 < A_RAM ? size - 4 : A_RAM);
	A.q[VIRTIO_NET_Q_TX] = (struct ring){0x0, 0x100, 0x8000};
	A.q[VIRTIO_NET_Q_RX] = (struct ring){0x200, 0x300, 0x9000};
	features |= (data[1] & 1 ? F(VIRTIO_NET_F_MRG_RXBUF) : 0) |
		    (data[1] & 2 ? F(VIRTIO_F_EVENT_IDX) : 0) |
		    (data[1] & 4 ? F(VIRTIO_F_INDIRECT_DESC) : 0);
	vsw_init(&sw, "fuzz");
	CHECK(!vnet_init(&A.n, &A.g, mac_a, &sw, 1u + (data[1] >> 4), A.wait));
	CHECK(!vnet_init(&B.n, &B.g, mac_b, &sw, 4, B.wait));
	driver_setup(&A, (uint16_t)(1u << (data[0] % 5)), features);
	b_setup();
	driver_setup(&B, B_QSIZE, base);
	b_post_tx(data[2] % 8, (uint8_t)(data[2] >> 3), 14u + 5u * data[3]);
	run(1u + (data[0] >> 5), data[1] & 8);
	free(A.g.base);
	return 0;
}
