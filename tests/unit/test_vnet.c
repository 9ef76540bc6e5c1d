/* virtio-net (vio/net.c) on the virtual switch (vio/switch.c) against
 * virtio 1.1 §5.1: two devices in two fake guest RAMs, each set up through
 * its BAR 0 registers the way a driver does (§3.1.1), frames posted on the
 * TX queue and buffers on the RX queue, results read back from the used
 * rings. Covers delivery with the header and num_buffers, MRG_RXBUF over
 * small buffers, frames waiting for buffers (nothing lost, order kept), the
 * wait ring's limit, the guards, and flooding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vio/net.h"

#define RAM_SIZE (1u << 20)
#define QSIZE	 128
#define BUF_GPA	 0x10000
#define TXQ_LEN	 4
#define F(bit)	 (1u << (bit))
#define BASIC	 (F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS))
#define MRG	 (BASIC | F(VIRTIO_NET_F_MRG_RXBUF))

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* The driver's side of one device: its RAM, rings and what it posted. */
struct drv {
	struct vnet n;
	struct vnet_tx_wait wait[TXQ_LEN];
	struct gmem g;
	uint8_t mac[6];
	uint64_t buf_next;
	struct {
		uint64_t desc, avail, used;
		uint16_t next_desc, avail_idx, used_seen;
		struct seg posted[QSIZE][2]; /* RX chains by head */
	} q[2];
};

static struct vswitch sw;
static struct drv A, B;

static void put16(struct drv *d, uint64_t gpa, uint16_t v)
{
	memcpy(d->g.base + gpa, &v, 2);
}

static uint16_t get16(const struct drv *d, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, d->g.base + gpa, 2);
	return v;
}

static uint32_t get32(const struct drv *d, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, d->g.base + gpa, 4);
	return v;
}

static void bar_write(struct drv *d, uint32_t off, unsigned size, uint32_t v)
{
	uint16_t kick;

	virtio_pci_bar_write(&d->n.vp, off, size, v, &kick);
}

static uint32_t bar_read(struct drv *d, uint32_t off, unsigned size)
{
	return virtio_pci_bar_read(&d->n.vp, off, size);
}

static void common_write64(struct drv *d, uint32_t lo, uint64_t v)
{
	bar_write(d, VIO_BAR0_COMMON + lo, 4, (uint32_t)v);
	bar_write(d, VIO_BAR0_COMMON + lo + 4, 4, (uint32_t)(v >> 32));
}

static void set_status(struct drv *d, uint8_t s)
{
	bar_write(d, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_STATUS, 1, s);
}

/* §3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, both queues
 * (§5.1.2: receiveq1 is 0, transmitq1 is 1), DRIVER_OK. */
static void driver_setup(struct drv *d, uint32_t features)
{
	const uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	set_status(d, 0);
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(d, s);
	bar_write(d, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	bar_write(d, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_GF, 4, features);
	bar_write(d, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	bar_write(d, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_GF, 4, 1u << (VIRTIO_F_VERSION_1 - 32));
	set_status(d, s | VIRTIO_STATUS_FEATURES_OK);
	for (uint16_t q = 0; q < 2; q++) {
		d->q[q].desc = 0x1000 + 0x3000 * q;
		d->q[q].avail = d->q[q].desc + 0x1000;
		d->q[q].used = d->q[q].desc + 0x2000;
		bar_write(d, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
		bar_write(d, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE);
		common_write64(d, VIRTIO_PCI_COMMON_Q_DESCLO, d->q[q].desc);
		common_write64(d, VIRTIO_PCI_COMMON_Q_AVAILLO, d->q[q].avail);
		common_write64(d, VIRTIO_PCI_COMMON_Q_USEDLO, d->q[q].used);
		bar_write(d, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	}
	set_status(d, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(virtio_pci_live(&d->n.vp));
}

static void drv_init(struct drv *d, uint8_t last)
{
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, last};

	memset(d->q, 0, sizeof(d->q));
	memcpy(d->mac, mac, 6);
	d->g.size = RAM_SIZE;
	d->g.base = calloc(1, RAM_SIZE);
	d->buf_next = BUF_GPA;
	assert_int_equal(vnet_init(&d->n, &d->g, mac, &sw, TXQ_LEN, d->wait), 0);
}

static int setup(void **state)
{
	(void)state;
	vsw_init(&sw, "br0");
	drv_init(&A, 0xa);
	drv_init(&B, 0xb);
	return 0;
}

static int setup_mrg(void **state)
{
	setup(state);
	driver_setup(&A, MRG);
	driver_setup(&B, MRG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(A.g.base);
	free(B.g.base);
	return 0;
}

static uint64_t alloc_buf(struct drv *d, uint32_t len)
{
	uint64_t gpa = d->buf_next;

	d->buf_next = (d->buf_next + len + 15) & ~15ull;
	assert_true(d->buf_next < RAM_SIZE);
	return gpa;
}

/* A chain in the descriptor table, its head in the available ring (§2.6.13). */
static uint16_t post(struct drv *d, unsigned q, const struct seg *s, unsigned n)
{
	uint16_t head = d->q[q].next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t k = (uint16_t)((head + i) % QSIZE);
		uint8_t *p = d->g.base + d->q[q].desc + (uint64_t)k * VIRTQ_DESC_SIZE;
		uint16_t flags =
			(s[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		uint16_t next = (uint16_t)((k + 1) % QSIZE);

		memcpy(p, &s[i].gpa, 8);
		memcpy(p + 8, &s[i].len, 4);
		memcpy(p + 12, &flags, 2);
		memcpy(p + 14, &next, 2);
		if (n <= 2)
			d->q[q].posted[head][i] = s[i];
	}
	d->q[q].next_desc = (uint16_t)((head + n) % QSIZE);
	put16(d, d->q[q].avail + VIRTQ_AVAIL_RING(d->q[q].avail_idx % QSIZE), head);
	d->q[q].avail_idx++;
	put16(d, d->q[q].avail + 2, d->q[q].avail_idx);
	return head;
}

/* RX buffers: `count` chains of one writable buffer of `len` bytes. */
static void post_rx(struct drv *d, unsigned count, uint32_t len)
{
	for (unsigned i = 0; i < count; i++) {
		struct seg s = {alloc_buf(d, len), len, true};

		memset(d->g.base + s.gpa, 0xee, len);
		post(d, VIRTIO_NET_Q_RX, &s, 1);
	}
}

/* A frame from d to `dst`: dst, src, ethertype 0x88b5 (local
 * experimental), then bytes from `seed`; `expect` gets a copy. */
static void make_frame(const struct drv *d, const uint8_t dst[6], uint8_t seed, uint32_t len,
		       uint8_t *expect)
{
	memcpy(expect, dst, 6);
	memcpy(expect + 6, d->mac, 6);
	expect[12] = 0x88;
	expect[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		expect[i] = (uint8_t)(seed + i * 13);
}

/* Posts the header and the frame as two readable buffers. */
static uint16_t send_frame(struct drv *d, const uint8_t dst[6], uint8_t seed, uint32_t len,
			   uint8_t *expect)
{
	struct seg s[2] = {{alloc_buf(d, VIRTIO_NET_HDR_SIZE), VIRTIO_NET_HDR_SIZE, false},
			   {alloc_buf(d, len), len, false}};

	make_frame(d, dst, seed, len, expect);
	memset(d->g.base + s[0].gpa, 0, VIRTIO_NET_HDR_SIZE);
	memcpy(d->g.base + s[1].gpa, expect, len);
	return post(d, VIRTIO_NET_Q_TX, s, 2);
}

static bool used_next(struct drv *d, unsigned q, uint32_t *head, uint32_t *len)
{
	uint64_t at = d->q[q].used + VIRTQ_USED_RING(d->q[q].used_seen % QSIZE);

	if (get16(d, d->q[q].used + 2) == d->q[q].used_seen)
		return false;
	*head = get32(d, at);
	*len = get32(d, at + 4);
	d->q[q].used_seen++;
	return true;
}

static unsigned used_count(const struct drv *d, unsigned q)
{
	return (uint16_t)(get16(d, d->q[q].used + 2) - d->q[q].used_seen);
}

/* Checks the next RX used element: one chain holding header + frame. */
static void expect_rx(struct drv *d, const uint8_t *frame, uint32_t len)
{
	uint32_t head, got;
	const uint8_t *p;

	assert_true(used_next(d, VIRTIO_NET_Q_RX, &head, &got));
	assert_int_equal(got, VIRTIO_NET_HDR_SIZE + len);
	p = d->g.base + d->q[VIRTIO_NET_Q_RX].posted[head][0].gpa;
	for (unsigned i = 0; i < VIRTIO_NET_HDR_SIZE; i++)
		assert_int_equal(p[i], i == VIRTIO_NET_HDR_NUM_BUFFERS ? 1 : 0);
	assert_memory_equal(p + VIRTIO_NET_HDR_SIZE, frame, len);
	assert_int_equal(p[VIRTIO_NET_HDR_SIZE + len], 0xee); /* nothing written past it */
}

static void expect_tx_used(struct drv *d, uint16_t head)
{
	uint32_t h, len;

	assert_true(used_next(d, VIRTIO_NET_Q_TX, &h, &len));
	assert_int_equal(h, head);
	assert_int_equal(len, 0);
}

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* B sends a broadcast so the switch learns where B is. */
static void learn_b(void)
{
	uint8_t f[64];
	uint16_t head;

	post_rx(&A, 1, 2048);
	head = send_frame(&B, bcast, 0, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&B.n, 8), 1);
	expect_tx_used(&B, head);
	expect_rx(&A, f, sizeof(f));
}

static void test_config_space(void **state)
{
	uint32_t df;

	(void)state;
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(bar_read(&A, VIO_BAR0_DEVICE + i, 1), A.mac[i]);
	assert_int_equal(bar_read(&A, VIO_BAR0_DEVICE + VIRTIO_NET_CFG_STATUS, 2),
			 VIRTIO_NET_S_LINK_UP);
	assert_int_equal(vpci_cfg_read(&A.n.vp.fn, PCI_DEVICE_ID, 2), VIRTIO_PCI_DEVICE_BASE + 1);
	assert_int_equal(vpci_cfg_read(&A.n.vp.fn, PCI_CLASS_DEVICE, 2),
			 PCI_CLASS_NETWORK_ETHERNET);
	bar_write(&A, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	df = bar_read(&A, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_DF, 4);
	assert_int_equal(df & MRG, MRG);
	assert_int_equal(bar_read(&A, VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	assert_int_equal(A.n.port.index, 0);
	assert_int_equal(B.n.port.index, 1);
	assert_memory_equal(sw.port[1]->mac, B.mac, 6);
}

static void test_init_limits(void **state)
{
	static struct vnet n;
	static struct vnet_tx_wait w[1];

	(void)state;
	assert_int_equal(vnet_init(&n, &A.g, A.mac, &sw, 0, w), -1);
	assert_int_equal(vnet_init(&n, &A.g, A.mac, &sw, VNET_TX_QUEUE_MAX + 1, w), -1);
	assert_int_equal(vnet_init(&n, &A.g, A.mac, &sw, 1, NULL), -1);
	assert_int_equal(sw.nports, 2);
}

/* Unknown unicast: flooded to B, delivered byte-exact behind the header. */
static void test_frame_delivered(void **state)
{
	uint8_t f[1514];
	uint16_t head;

	(void)state;
	post_rx(&B, 2, 2048);
	head = send_frame(&A, B.mac, 1, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	expect_tx_used(&A, head);
	expect_rx(&B, f, sizeof(f));
	assert_true(A.n.tx_used);
	assert_true(B.n.rx_used);
	assert_false(A.n.rx_used);
	assert_int_equal(A.n.port.stats.tx_frames, 1);
	assert_int_equal(A.n.port.stats.tx_bytes, sizeof(f));
	assert_int_equal(B.n.port.stats.rx_frames, 1);
	assert_int_equal(used_count(&A, VIRTIO_NET_Q_RX), 0);
	/* the smallest frame, now as known unicast */
	learn_b();
	head = send_frame(&A, B.mac, 2, VIO_ETH_MIN_FRAME, f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	expect_tx_used(&A, head);
	expect_rx(&B, f, VIO_ETH_MIN_FRAME);
	assert_int_equal(sw.floods, 2);
}

/* Reads a frame spread over `k` used chains into out; checks num_buffers,
 * and that every chain but the last is full. */
static uint32_t read_merged(struct drv *d, unsigned k, uint32_t bufsize, uint8_t *out)
{
	uint32_t total = 0, head, len;

	for (unsigned i = 0; i < k; i++) {
		assert_true(used_next(d, VIRTIO_NET_Q_RX, &head, &len));
		if (i + 1 < k)
			assert_int_equal(len, bufsize);
		memcpy(out + total, d->g.base + d->q[VIRTIO_NET_Q_RX].posted[head][0].gpa, len);
		total += len;
	}
	assert_int_equal(out[VIRTIO_NET_HDR_NUM_BUFFERS] | out[VIRTIO_NET_HDR_NUM_BUFFERS + 1] << 8,
			 k);
	return total;
}

static void test_mrg_spreads_over_small_buffers(void **state)
{
	uint8_t f[1000], out[2048];
	uint16_t head;

	(void)state;
	post_rx(&B, 5, 256);
	head = send_frame(&A, B.mac, 3, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	expect_tx_used(&A, head);
	/* 12 + 1000 bytes: 256 + 256 + 256 + 244 */
	assert_int_equal(used_count(&B, VIRTIO_NET_Q_RX), 4);
	assert_int_equal(read_merged(&B, 4, 256, out), VIRTIO_NET_HDR_SIZE + sizeof(f));
	for (unsigned i = 0; i < VIRTIO_NET_HDR_NUM_BUFFERS; i++)
		assert_int_equal(out[i], 0);
	assert_memory_equal(out + VIRTIO_NET_HDR_SIZE, f, sizeof(f));
	/* the fifth chain is still posted and takes the next frame */
	head = send_frame(&A, B.mac, 4, 200, f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	assert_int_equal(read_merged(&B, 1, 256, out), VIRTIO_NET_HDR_SIZE + 200);
	assert_memory_equal(out + VIRTIO_NET_HDR_SIZE, f, 200);
}

/* A chain whose header straddles its two buffers (5 + 2043 bytes). */
static void test_rx_header_across_buffers(void **state)
{
	struct seg s[2] = {{alloc_buf(&B, 5), 5, true}, {alloc_buf(&B, 2043), 2043, true}};
	uint8_t f[300], out[512];
	uint32_t head, len;

	(void)state;
	post(&B, VIRTIO_NET_Q_RX, s, 2);
	send_frame(&A, B.mac, 5, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	assert_true(used_next(&B, VIRTIO_NET_Q_RX, &head, &len));
	assert_int_equal(len, VIRTIO_NET_HDR_SIZE + sizeof(f));
	memcpy(out, B.g.base + s[0].gpa, 5);
	memcpy(out + 5, B.g.base + s[1].gpa, len - 5);
	assert_int_equal(out[VIRTIO_NET_HDR_NUM_BUFFERS], 1);
	assert_memory_equal(out + VIRTIO_NET_HDR_SIZE, f, sizeof(f));
}

/* Two chains popped for a frame that needs four stay reserved and are the
 * first two it fills once more are posted. */
static void test_mrg_reserve_kept(void **state)
{
	uint8_t f[1000], out[2048];

	(void)state;
	learn_b();
	post_rx(&B, 2, 256);
	send_frame(&A, B.mac, 6, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 0);
	assert_int_equal(A.n.port.stats.blocked, 1);
	assert_int_equal(B.n.rx_count, 2);
	assert_int_equal(used_count(&B, VIRTIO_NET_Q_RX), 0);
	post_rx(&B, 2, 256);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	assert_int_equal(B.n.rx_count, 0);
	assert_int_equal(read_merged(&B, 4, 256, out), VIRTIO_NET_HDR_SIZE + sizeof(f));
	assert_memory_equal(out + VIRTIO_NET_HDR_SIZE, f, sizeof(f));
}

/* VNET_RX_CHAINS chains that together cannot hold the frame go back unused. */
static void test_mrg_too_small_released(void **state)
{
	uint8_t f[1000];
	uint32_t head, len;

	(void)state;
	post_rx(&B, VNET_RX_CHAINS + 1, 50);
	send_frame(&A, bcast, 7, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	assert_int_equal(B.n.port.stats.drop_no_buffer, 1);
	assert_int_equal(used_count(&B, VIRTIO_NET_Q_RX), VNET_RX_CHAINS);
	for (unsigned i = 0; i < VNET_RX_CHAINS; i++) {
		assert_true(used_next(&B, VIRTIO_NET_Q_RX, &head, &len));
		assert_int_equal(len, 0);
	}
	/* a small frame still fits the one left */
	send_frame(&A, bcast, 8, 30, f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	expect_rx(&B, f, 30);
}

static void test_without_mrg(void **state)
{
	uint8_t f[600];
	uint32_t head, len;

	(void)state;
	setup(state);
	driver_setup(&A, BASIC);
	driver_setup(&B, BASIC);
	/* one chain per frame, num_buffers 1 */
	post_rx(&B, 1, 1526);
	send_frame(&A, bcast, 9, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	expect_rx(&B, f, sizeof(f));
	/* a chain too short for the frame is returned unused, the copy lost */
	post_rx(&B, 2, 100);
	send_frame(&A, bcast, 10, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	assert_int_equal(B.n.port.stats.drop_no_buffer, 1);
	assert_true(used_next(&B, VIRTIO_NET_Q_RX, &head, &len));
	assert_int_equal(len, 0);
	/* and the next one takes a frame it can hold */
	send_frame(&A, bcast, 11, 80, f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	expect_rx(&B, f, 80);
	teardown(state);
}

/* No RX buffer: the frames wait, in order, and go once buffers come. */
static void test_blocked_then_delivered(void **state)
{
	uint8_t f[3][200], later[100];
	uint16_t head[3];

	(void)state;
	learn_b();
	for (unsigned i = 0; i < 3; i++)
		head[i] = send_frame(&A, B.mac, (uint8_t)(20 + i), 200, f[i]);
	assert_int_equal(vnet_process_tx(&A.n, 8), 0);
	assert_true(vnet_tx_waiting(&A.n));
	assert_int_equal(A.n.wait_count, 3);
	assert_int_equal(A.n.port.stats.blocked, 1); /* only the first was tried */
	assert_int_equal(used_count(&A, VIRTIO_NET_Q_TX), 0);
	/* still none: nothing moves, nothing new is taken */
	send_frame(&A, B.mac, 30, sizeof(later), later);
	assert_int_equal(vnet_process_tx(&A.n, 8), 0);
	assert_int_equal(A.n.wait_count, 3);
	assert_int_equal(vq_pending(virtio_pci_queue(&A.n.vp, 1), &A.g), 1);
	/* two buffers: the first two go, the third still waits */
	post_rx(&B, 2, 2048);
	assert_int_equal(vnet_process_tx(&A.n, 8), 2);
	expect_rx(&B, f[0], 200);
	expect_rx(&B, f[1], 200);
	expect_tx_used(&A, head[0]);
	expect_tx_used(&A, head[1]);
	assert_int_equal(A.n.wait_count, 1);
	/* the rest, in order, then the one behind them in the ring */
	post_rx(&B, 2, 2048);
	assert_int_equal(vnet_process_tx(&A.n, 8), 2);
	expect_rx(&B, f[2], 200);
	expect_tx_used(&A, head[2]);
	expect_rx(&B, later, sizeof(later));
	assert_false(vnet_tx_waiting(&A.n));
	assert_int_equal(A.n.port.stats.tx_frames, 4);
	assert_int_equal(B.n.port.stats.rx_frames, 4);
}

/* TXQ_LEN frames wait; the port then takes nothing more from its ring. */
static void test_wait_ring_full(void **state)
{
	uint8_t f[TXQ_LEN + 2][100];

	(void)state;
	learn_b();
	for (unsigned i = 0; i < TXQ_LEN + 2; i++)
		send_frame(&A, B.mac, (uint8_t)(40 + i), 100, f[i]);
	assert_int_equal(vnet_process_tx(&A.n, 64), 0);
	assert_int_equal(A.n.wait_count, TXQ_LEN);
	assert_int_equal(vq_pending(virtio_pci_queue(&A.n.vp, 1), &A.g), 2);
	post_rx(&B, TXQ_LEN + 2, 2048);
	/* the budget counts too: 3 now, the rest next time */
	assert_int_equal(vnet_process_tx(&A.n, 3), 3);
	assert_int_equal(vnet_process_tx(&A.n, 64), TXQ_LEN + 2 - 3);
	for (unsigned i = 0; i < TXQ_LEN + 2; i++)
		expect_rx(&B, f[i], 100);
	assert_false(vnet_tx_waiting(&A.n));
	assert_int_equal(vq_pending(virtio_pci_queue(&A.n.vp, 1), &A.g), 0);
}

static void test_tx_guard_writable_buffer(void **state)
{
	struct seg s[2] = {{alloc_buf(&A, 12), 12, false}, {alloc_buf(&A, 64), 64, true}};
	struct msi_msg msg;

	(void)state;
	post(&A, VIRTIO_NET_Q_TX, s, 2);
	assert_int_equal(vnet_process_tx(&A.n, 8), -1);
	assert_non_null(A.n.error);
	assert_int_equal(A.n.error_queue, VIRTIO_NET_Q_TX);
	virtio_pci_fail(&A.n.vp, (unsigned)A.n.error_queue, A.n.error, &msg);
	assert_false(virtio_pci_live(&A.n.vp));
	assert_int_equal(vnet_process_tx(&A.n, 8), 0);
	/* the driver resets and sets up again: the error is forgotten */
	driver_setup(&A, MRG);
	assert_null(A.n.error);
}

static void test_tx_guard_short_header(void **state)
{
	struct seg s = {alloc_buf(&A, 8), 8, false};

	(void)state;
	post(&A, VIRTIO_NET_Q_TX, &s, 1);
	assert_int_equal(vnet_process_tx(&A.n, 8), -1);
	assert_non_null(A.n.error);
	assert_int_equal(A.n.error_queue, VIRTIO_NET_Q_TX);
}

static void test_tx_vq_error(void **state)
{
	struct seg s = {RAM_SIZE - 8, 64, false}; /* past the end of RAM */

	(void)state;
	post(&A, VIRTIO_NET_Q_TX, &s, 1);
	assert_int_equal(vnet_process_tx(&A.n, 8), -1);
	assert_string_equal(A.n.error, vq_error_name(VQ_ERR_BUF_ADDR));
}

static void test_bad_frames_dropped(void **state)
{
	struct seg s[VNET_TX_SEGS + 1];
	uint8_t f[64];
	uint16_t head;

	(void)state;
	post_rx(&B, 4, 2048);
	/* a frame shorter than an Ethernet header */
	s[0] = (struct seg){alloc_buf(&A, 12 + 10), 12 + 10, false};
	head = post(&A, VIRTIO_NET_Q_TX, s, 1);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	expect_tx_used(&A, head);
	/* too long */
	s[0] = (struct seg){alloc_buf(&A, 12 + 1515), 12 + 1515, false};
	post(&A, VIRTIO_NET_Q_TX, s, 1);
	/* too scattered: header plus 32 pieces */
	s[0] = (struct seg){alloc_buf(&A, 12), 12, false};
	make_frame(&A, B.mac, 50, 64, f);
	for (unsigned i = 1; i <= VNET_TX_SEGS; i++) {
		s[i] = (struct seg){alloc_buf(&A, 2), 2, false};
		memcpy(A.g.base + s[i].gpa, f + 2 * (i - 1), 2);
	}
	post(&A, VIRTIO_NET_Q_TX, s, VNET_TX_SEGS + 1);
	assert_int_equal(vnet_process_tx(&A.n, 8), 2);
	assert_int_equal(A.n.port.stats.drop_bad_frame, 3);
	assert_int_equal(A.n.port.stats.tx_frames, 0);
	assert_int_equal(used_count(&B, VIRTIO_NET_Q_RX), 0);
	/* exactly VNET_TX_SEGS segments go through */
	post(&A, VIRTIO_NET_Q_TX, s, VNET_TX_SEGS);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	expect_rx(&B, f, 2 * (VNET_TX_SEGS - 1));
}

/* A readable buffer in B's RX queue: B fails, A's frame is dropped there. */
static void test_rx_guard_readable_buffer(void **state)
{
	struct seg s = {alloc_buf(&B, 2048), 2048, false};
	uint8_t f[64];

	(void)state;
	post(&B, VIRTIO_NET_Q_RX, &s, 1);
	send_frame(&A, bcast, 60, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	assert_null(A.n.error);
	assert_non_null(B.n.error);
	assert_int_equal(B.n.error_queue, VIRTIO_NET_Q_RX);
	assert_int_equal(B.n.port.stats.drop_down, 1);
	/* reported by B's own next call */
	assert_int_equal(vnet_process_tx(&B.n, 8), -1);
}

static void test_rx_guard_mrg_buffer_too_short(void **state)
{
	uint8_t f[64];

	(void)state;
	post_rx(&B, 1, 8);
	send_frame(&A, bcast, 61, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	assert_non_null(B.n.error);
	assert_int_equal(B.n.error_queue, VIRTIO_NET_Q_RX);
}

/* A third port: a broadcast reaches both others, never its sender. */
static void test_broadcast_reaches_others(void **state)
{
	static struct drv C;
	uint8_t f[100];

	(void)state;
	drv_init(&C, 0xc);
	driver_setup(&C, MRG);
	post_rx(&A, 1, 2048);
	post_rx(&B, 1, 2048);
	post_rx(&C, 1, 2048);
	send_frame(&A, bcast, 70, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	expect_rx(&B, f, sizeof(f));
	expect_rx(&C, f, sizeof(f));
	assert_int_equal(used_count(&A, VIRTIO_NET_Q_RX), 0);
	assert_int_equal(sw.floods, 1);
	free(C.g.base);
}

/* A port whose device is not live: frames to it are dropped, not held. */
static void test_receiver_down(void **state)
{
	uint8_t f[64];

	(void)state;
	learn_b();
	set_status(&B, 0);
	send_frame(&A, B.mac, 80, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 1);
	assert_int_equal(B.n.port.stats.drop_down, 1);
	assert_false(vnet_tx_waiting(&A.n));
}

/* A reset drops the waiting frames and the reserved chains. */
static void test_reset_forgets(void **state)
{
	uint8_t f[1000];

	(void)state;
	learn_b();
	post_rx(&B, 1, 256);
	send_frame(&A, B.mac, 90, sizeof(f), f);
	send_frame(&A, B.mac, 91, sizeof(f), f);
	assert_int_equal(vnet_process_tx(&A.n, 8), 0);
	assert_int_equal(A.n.wait_count, 2);
	assert_int_equal(B.n.rx_count, 1);
	set_status(&A, 0);
	set_status(&B, 0);
	assert_int_equal(A.n.wait_count, 0);
	assert_int_equal(B.n.rx_count, 0);
	assert_false(vnet_tx_waiting(&A.n));
	assert_int_equal(vnet_process_tx(&A.n, 8), 0);
}

#define T(fn)  cmocka_unit_test_setup_teardown(fn, setup_mrg, teardown)
#define T0(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_space),
		T(test_init_limits),
		T(test_frame_delivered),
		T(test_mrg_spreads_over_small_buffers),
		T(test_rx_header_across_buffers),
		T(test_mrg_reserve_kept),
		T(test_mrg_too_small_released),
		cmocka_unit_test(test_without_mrg),
		T(test_blocked_then_delivered),
		T(test_wait_ring_full),
		T(test_tx_guard_writable_buffer),
		T(test_tx_guard_short_header),
		T(test_tx_vq_error),
		T(test_bad_frames_dropped),
		T(test_rx_guard_readable_buffer),
		T(test_rx_guard_mrg_buffer_too_short),
		T(test_broadcast_reaches_others),
		T(test_receiver_down),
		T(test_reset_forgets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
