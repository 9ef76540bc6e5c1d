/* The virtual switch (vio/switch.c) with fake ports that record what they
 * receive: learning, flooding, known unicast, station moves, the database's
 * replacement order, blocked unicast, counted flood drops, and frames as
 * gather lists (addresses across segments, bad frames, copies). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "vio/switch.h"
#include "vio/virtio_regs.h"

#define RAM_SIZE  (64 * 1024)
#define FRAME_GPA 0x1000
#define NPORTS	  4

/* A port that copies each frame it accepts into `last`. */
struct fake_port {
	struct vsw_port port;
	enum vsw_rx answer;
	unsigned calls, got;
	uint8_t last[VIO_ETH_MAX_FRAME];
	uint32_t last_len;
};

static enum vsw_rx fake_receive(void *dev, const struct vsw_frame *f)
{
	struct fake_port *p = dev;
	struct gmem host = {.base = p->last, .size = sizeof(p->last)};

	p->calls++;
	if (p->answer != VSW_RX_OK)
		return p->answer;
	assert_true(vsw_frame_copy(f, 0, &host, 0, f->len));
	p->last_len = f->len;
	p->got++;
	return VSW_RX_OK;
}

static const struct vsw_port_ops fake_ops = {.receive = fake_receive};

static struct vswitch sw;
static struct fake_port ports[NPORTS];
static struct gmem ram;

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

static void mac_of(uint8_t mac[6], unsigned n)
{
	const uint8_t m[6] = {0x52, 0x54, 0x00, 0x00, (uint8_t)(n >> 8), (uint8_t)n};

	memcpy(mac, m, 6);
}

static int setup(void **state)
{
	(void)state;
	ram.size = RAM_SIZE;
	ram.base = calloc(1, RAM_SIZE);
	vsw_init(&sw, "br0");
	memset(ports, 0, sizeof(ports));
	for (unsigned i = 0; i < NPORTS; i++) {
		uint8_t mac[6];

		mac_of(mac, i);
		assert_int_equal(vsw_add_port(&sw, &ports[i].port, mac, 16, &fake_ops, &ports[i]),
				 0);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram.base);
	return 0;
}

/* Writes a frame of `len` bytes (dst, src, then a pattern) at FRAME_GPA and
 * sends it from port `in` as one segment. */
static enum vsw_fwd send(unsigned in, const uint8_t dst[6], const uint8_t src[6], uint32_t len)
{
	struct vq_seg seg = {.gpa = FRAME_GPA, .len = len};
	struct vsw_frame f;
	uint8_t *p = ram.base + FRAME_GPA;

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	for (uint32_t i = 12; i < len; i++)
		p[i] = (uint8_t)(i * 7 + in);
	assert_true(vsw_frame_init(&f, &ram, &seg, 1, 0));
	return vsw_forward(&sw, &ports[in].port, &f);
}

static enum vsw_fwd send_mac(unsigned in, unsigned to, unsigned from)
{
	uint8_t dst[6], src[6];

	mac_of(dst, to);
	mac_of(src, from);
	return send(in, dst, src, 60);
}

static unsigned total_got(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NPORTS; i++)
		n += ports[i].got;
	return n;
}

static void test_learning_and_unicast(void **state)
{
	(void)state;
	/* 0 -> 1: unknown, flooded to 1, 2, 3; 0's address learned */
	assert_int_equal(send_mac(0, 1, 0), VSW_FWD_DONE);
	assert_int_equal(sw.floods, 1);
	assert_int_equal(sw.learned, 1);
	assert_int_equal(ports[0].got, 0);
	for (unsigned i = 1; i < NPORTS; i++)
		assert_int_equal(ports[i].got, 1);
	assert_memory_equal(ports[2].last, ram.base + FRAME_GPA, 60);
	/* 1 -> 0: known, only port 0 gets it */
	assert_int_equal(send_mac(1, 0, 1), VSW_FWD_DONE);
	assert_int_equal(sw.floods, 1);
	assert_int_equal(sw.learned, 2);
	assert_int_equal(ports[0].got, 1);
	assert_int_equal(ports[2].got, 1);
	assert_int_equal(ports[3].got, 1);
	/* 0 -> 1 again: now known too */
	assert_int_equal(send_mac(0, 1, 0), VSW_FWD_DONE);
	assert_int_equal(ports[1].got, 2);
	assert_int_equal(ports[2].got, 1);
	assert_int_equal(ports[0].port.stats.tx_frames, 2);
	assert_int_equal(ports[0].port.stats.tx_bytes, 120);
	assert_int_equal(ports[1].port.stats.rx_frames, 2);
	assert_int_equal(ports[1].port.stats.rx_bytes, 120);
	assert_int_equal(ports[0].port.stats.rx_frames, 1);
}

static void test_broadcast_and_multicast_flood(void **state)
{
	uint8_t src[6];

	(void)state;
	send_mac(1, 0, 1); /* flooded; station 1 learned */
	mac_of(src, 0);
	/* group addresses are flooded whatever was learned */
	assert_int_equal(send(0, bcast, src, 64), VSW_FWD_DONE);
	assert_int_equal(send(0, mcast, src, 64), VSW_FWD_DONE);
	assert_int_equal(sw.floods, 3);
	assert_int_equal(ports[0].got, 1);
	assert_int_equal(ports[1].got, 2);
	assert_int_equal(ports[2].got, 3);
	assert_int_equal(ports[3].got, 3);
	/* a group source address is never learned */
	assert_int_equal(send(2, bcast, mcast, 64), VSW_FWD_DONE);
	assert_int_equal(sw.learned, 2);
	assert_int_equal(send(1, mcast, src, 64), VSW_FWD_DONE);
	assert_int_equal(ports[2].got, 4);
	assert_int_equal(ports[0].got, 3);
}

static void test_unknown_unicast_floods(void **state)
{
	(void)state;
	send_mac(0, 9, 0);
	assert_int_equal(total_got(), 3);
	assert_int_equal(sw.floods, 1);
	/* known now, but the destination 9 still is not */
	send_mac(1, 9, 1);
	assert_int_equal(total_got(), 6);
	assert_int_equal(ports[0].got, 1);
}

static void test_mac_move(void **state)
{
	(void)state;
	send_mac(0, 1, 0);
	send_mac(1, 0, 1);
	assert_int_equal(ports[0].got, 1);
	/* station 0 shows up behind port 3 */
	send_mac(3, 1, 0);
	assert_int_equal(sw.learned, 3);
	send_mac(1, 0, 1);
	assert_int_equal(ports[3].got, 2); /* the flood of the first frame, and this */
	assert_int_equal(ports[0].got, 1);
}

static void test_same_port_filtered(void **state)
{
	unsigned before;

	(void)state;
	send_mac(0, 1, 0);
	send_mac(1, 0, 1);
	/* station 5 behind port 0 as well: a frame between 0 and 5 stays there */
	send_mac(0, 1, 5);
	before = total_got();
	assert_int_equal(send_mac(0, 5, 0), VSW_FWD_DONE);
	assert_int_equal(total_got(), before);
	assert_int_equal(ports[0].port.stats.tx_frames, 3);
}

static void test_fdb_replaces_oldest(void **state)
{
	uint64_t floods;

	(void)state;
	/* fill the database from port 0 with stations 100.. */
	for (unsigned i = 0; i < VSW_FDB_SIZE; i++)
		send_mac(0, 1, 100 + i);
	assert_int_equal(sw.learned, VSW_FDB_SIZE);
	/* refresh 100: now 101 is the oldest */
	send_mac(0, 1, 100);
	/* station 1 on port 1: replaces 101 */
	send_mac(1, 100, 1);
	assert_int_equal(sw.learned, VSW_FDB_SIZE + 1);
	assert_int_equal(ports[0].got, 1);
	floods = sw.floods;
	send_mac(1, 100, 1); /* still known: unicast */
	assert_int_equal(sw.floods, floods);
	assert_int_equal(ports[0].got, 2);
	send_mac(1, 101, 1); /* forgotten: flooded */
	assert_int_equal(sw.floods, floods + 1);
	send_mac(1, 102, 1); /* still there */
	assert_int_equal(sw.floods, floods + 1);
	assert_int_equal(ports[0].got, 4);
}

static void test_blocked_unicast(void **state)
{
	(void)state;
	send_mac(1, 0, 1);
	ports[1].answer = VSW_RX_NO_BUFFER;
	assert_int_equal(send_mac(0, 1, 0), VSW_FWD_BLOCKED);
	assert_int_equal(ports[0].port.stats.blocked, 1);
	assert_int_equal(ports[0].port.stats.tx_frames, 0);
	assert_int_equal(ports[1].port.stats.drop_no_buffer, 0);
	assert_int_equal(ports[1].port.stats.rx_frames, 0);
	assert_int_equal(ports[2].calls, 1); /* the first frame's flood only */
	/* buffers posted: the retry goes through */
	ports[1].answer = VSW_RX_OK;
	assert_int_equal(send_mac(0, 1, 0), VSW_FWD_DONE);
	assert_int_equal(ports[0].port.stats.tx_frames, 1);
	assert_int_equal(ports[1].port.stats.rx_frames, 1);
	assert_int_equal(ports[0].port.stats.blocked, 1);
}

static void test_unicast_to_down_port(void **state)
{
	(void)state;
	send_mac(1, 0, 1);
	ports[1].answer = VSW_RX_DOWN;
	assert_int_equal(send_mac(0, 1, 0), VSW_FWD_DONE);
	assert_int_equal(ports[1].port.stats.drop_down, 1);
	assert_int_equal(ports[0].port.stats.tx_frames, 1);
	assert_int_equal(ports[0].port.stats.blocked, 0);
}

static void test_flood_drops_counted(void **state)
{
	uint8_t src[6];

	(void)state;
	mac_of(src, 0);
	ports[1].answer = VSW_RX_NO_BUFFER;
	ports[2].answer = VSW_RX_DOWN;
	assert_int_equal(send(0, bcast, src, 100), VSW_FWD_DONE);
	assert_int_equal(ports[1].port.stats.drop_no_buffer, 1);
	assert_int_equal(ports[2].port.stats.drop_down, 1);
	assert_int_equal(ports[3].port.stats.rx_frames, 1);
	assert_int_equal(ports[3].port.stats.rx_bytes, 100);
	assert_int_equal(ports[0].port.stats.tx_frames, 1);
	assert_int_equal(ports[0].port.stats.blocked, 0);
	/* unknown unicast floods never block either */
	assert_int_equal(send_mac(0, 7, 0), VSW_FWD_DONE);
	assert_int_equal(ports[1].port.stats.drop_no_buffer, 2);
}

/* A 12-byte header then dst and src, split over 5 + 10 + 3 + rest bytes. */
static void test_frame_init_across_segments(void **state)
{
	struct vq_seg seg[4] = {
		{.gpa = 0x100, .len = 5},
		{.gpa = 0x200, .len = 10},
		{.gpa = 0x300, .len = 3},
		{.gpa = 0x400, .len = 100},
	};
	uint8_t stream[118];
	struct vsw_frame f;
	uint32_t at = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(stream); i++)
		stream[i] = (uint8_t)(0x80 + i);
	for (unsigned i = 0; i < 4; i++) {
		memcpy(ram.base + seg[i].gpa, stream + at, seg[i].len);
		at += seg[i].len;
	}
	assert_true(vsw_frame_init(&f, &ram, seg, 4, 12));
	assert_int_equal(f.len, sizeof(stream) - 12);
	assert_memory_equal(f.dst, stream + 12, 6);
	assert_memory_equal(f.src, stream + 18, 6);
	assert_int_equal(f.skip, 12);
	assert_int_equal(f.nseg, 4);
}

static void test_bad_frames(void **state)
{
	struct vq_seg seg[2] = {{.gpa = 0x100, .len = 12}, {.gpa = 0x200, .len = 14}};
	struct vsw_frame f;

	(void)state;
	assert_true(vsw_frame_init(&f, &ram, seg, 2, 12)); /* exactly an Ethernet header */
	seg[1].len = 13;
	assert_false(vsw_frame_init(&f, &ram, seg, 2, 12));
	seg[1].len = VIO_ETH_MAX_FRAME;
	assert_true(vsw_frame_init(&f, &ram, seg, 2, 12));
	seg[1].len = VIO_ETH_MAX_FRAME + 1;
	assert_false(vsw_frame_init(&f, &ram, seg, 2, 12));
	/* the skip longer than the segments */
	seg[1].len = 20;
	assert_false(vsw_frame_init(&f, &ram, seg, 2, 40));
	assert_false(vsw_frame_init(&f, &ram, seg, 0, 0));
	/* a segment (partly) outside RAM, or wrapping around */
	seg[1].gpa = RAM_SIZE - 10;
	assert_false(vsw_frame_init(&f, &ram, seg, 2, 12));
	seg[1].gpa = UINT64_MAX - 5;
	assert_false(vsw_frame_init(&f, &ram, seg, 2, 12));
	seg[1].gpa = RAM_SIZE - 20;
	assert_true(vsw_frame_init(&f, &ram, seg, 2, 12));
}

static void test_copy_across_segments(void **state)
{
	struct vq_seg seg[3] = {
		{.gpa = 0x100, .len = 20},
		{.gpa = 0x300, .len = 7},
		{.gpa = 0x500, .len = 50},
	};
	uint8_t stream[77], out[80];
	struct gmem dst = {.base = out, .size = sizeof(out)};
	struct vsw_frame f;
	uint32_t at = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(stream); i++)
		stream[i] = (uint8_t)(3 * i + 1);
	for (unsigned i = 0; i < 3; i++) {
		memcpy(ram.base + seg[i].gpa, stream + at, seg[i].len);
		at += seg[i].len;
	}
	assert_true(vsw_frame_init(&f, &ram, seg, 3, 4));
	assert_int_equal(f.len, 73);
	/* bytes 10..40 of the frame: 14..44 of the segments, over all three */
	memset(out, 0, sizeof(out));
	assert_true(vsw_frame_copy(&f, 10, &dst, 5, 30));
	assert_memory_equal(out + 5, stream + 14, 30);
	assert_int_equal(out[4], 0);
	assert_int_equal(out[35], 0);
	/* the whole frame, and its very end */
	assert_true(vsw_frame_copy(&f, 0, &dst, 0, 73));
	assert_memory_equal(out, stream + 4, 73);
	assert_true(vsw_frame_copy(&f, 73, &dst, 0, 0));
	assert_true(vsw_frame_copy(&f, 72, &dst, 79, 1));
	assert_int_equal(out[79], stream[76]);
	/* out of range: past the frame, or past the destination */
	assert_false(vsw_frame_copy(&f, 70, &dst, 0, 4));
	assert_false(vsw_frame_copy(&f, 74, &dst, 0, 0));
	assert_false(vsw_frame_copy(&f, UINT32_MAX, &dst, 0, 2));
	assert_false(vsw_frame_copy(&f, 0, &dst, 10, 73));
	assert_false(vsw_frame_copy(&f, 0, &dst, UINT64_MAX, 1));
}

static void test_switch_full(void **state)
{
	static struct fake_port more[VSW_MAX_PORTS];
	uint8_t mac[6];

	(void)state;
	mac_of(mac, 42);
	for (unsigned i = NPORTS; i < VSW_MAX_PORTS; i++)
		assert_int_equal(vsw_add_port(&sw, &more[i].port, mac, 1, &fake_ops, &more[i]), 0);
	assert_int_equal(sw.nports, VSW_MAX_PORTS);
	assert_int_equal(vsw_add_port(&sw, &more[0].port, mac, 1, &fake_ops, &more[0]), -1);
	assert_int_equal(ports[3].port.index, 3);
	assert_string_equal(sw.name, "br0");
}

static void test_init(void **state)
{
	struct vswitch s;

	(void)state;
	vsw_init(&s, "a-name-much-longer-than-thirty-one-characters");
	assert_int_equal(strlen(s.name), VSW_NAME_MAX);
	for (unsigned i = 0; i < VSW_FDB_SIZE; i++)
		assert_int_equal(s.fdb[i].port, -1);
	assert_int_equal(s.nports, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_learning_and_unicast),
		T(test_broadcast_and_multicast_flood),
		T(test_unknown_unicast_floods),
		T(test_mac_move),
		T(test_same_port_filtered),
		T(test_fdb_replaces_oldest),
		T(test_blocked_unicast),
		T(test_unicast_to_down_port),
		T(test_flood_drops_counted),
		T(test_frame_init_across_segments),
		T(test_bad_frames),
		T(test_copy_across_segments),
		T(test_switch_full),
		T(test_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
