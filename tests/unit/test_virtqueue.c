/* Split virtqueues (vio/virtqueue.c) against virtio 1.1 §2.6: ring setup, popping direct and
 * indirect chains, every guard against a malformed chain, pushing used elements, 16-bit index
 * wrap-around, and both notification suppression schemes (flags and EVENT_IDX). A fake guest
 * RAM is a malloc'd buffer, so AddressSanitizer catches any access past it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vio/gmem.h"
#include "vio/virtio_regs.h"
#include "vio/virtqueue.h"

#define RAM_SIZE (8u << 20) /* room for a buffer of VQ_MAX_SEG_BYTES */
#define QSIZE	 16
#define DESC	 0x1000
#define AVAIL	 0x2000
#define USED	 0x3000
#define TABLE	 0x4000 /* an indirect table */
#define BUF	 0x10000

#define NEXT  VIRTQ_DESC_F_NEXT
#define WRITE VIRTQ_DESC_F_WRITE
#define INDIR VIRTQ_DESC_F_INDIRECT

/* The device side under test and the driver side the test plays. */
struct rig {
	struct gmem g;
	struct virtqueue q;
	struct vq_chain c;
	uint16_t avail_idx; /* the driver's next available entry */
};

static void put16(struct rig *r, uint64_t gpa, uint16_t v)
{
	memcpy(r->g.base + gpa, &v, sizeof(v));
}

static void put32(struct rig *r, uint64_t gpa, uint32_t v)
{
	memcpy(r->g.base + gpa, &v, sizeof(v));
}

static void put64(struct rig *r, uint64_t gpa, uint64_t v)
{
	memcpy(r->g.base + gpa, &v, sizeof(v));
}

static uint16_t get16(struct rig *r, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, r->g.base + gpa, sizeof(v));
	return v;
}

static uint32_t get32(struct rig *r, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, r->g.base + gpa, sizeof(v));
	return v;
}

/* Writes descriptor i of the table at `table` (§2.6.5). */
static void put_desc(struct rig *r, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint64_t d = table + (uint64_t)VIRTQ_DESC_SIZE * i;

	put64(r, d, addr);
	put32(r, d + 8, len);
	put16(r, d + 12, flags);
	put16(r, d + 14, next);
}

/* Makes the chain starting at head available (§2.6.13): the entry, then the index. */
static void offer(struct rig *r, uint16_t head)
{
	put16(r, AVAIL + VIRTQ_AVAIL_RING(r->avail_idx % r->q.size), head);
	put16(r, AVAIL + 2, ++r->avail_idx);
}

static void setup_queue(struct rig *r, uint16_t size, bool event_idx, bool indirect)
{
	assert_int_equal(vq_setup(&r->q, &r->g, size, DESC, AVAIL, USED, event_idx, indirect),
			 VQ_OK);
}

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	r->g.size = RAM_SIZE;
	r->g.base = calloc(1, RAM_SIZE);
	if (!r->g.base) {
		free(r);
		return -1;
	}
	if (vq_setup(&r->q, &r->g, QSIZE, DESC, AVAIL, USED, false, true) != VQ_OK) {
		free(r->g.base);
		free(r);
		return -1;
	}
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;

	free(r->g.base);
	free(r);
	return 0;
}

/* Offers the chain at head and expects vq_pop to refuse it without taking it, twice (the
 * queue stays stuck on it); then steps past it, as a device reset would, for the next case. */
static void expect_pop_error(struct rig *r, uint16_t head, enum vq_error e)
{
	uint16_t before = r->q.last_avail;

	offer(r, head);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), -(int)e);
	assert_int_equal(r->q.last_avail, before);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), -(int)e);
	r->q.last_avail++;
}

static void assert_seg(const struct vq_seg *s, uint64_t gpa, uint32_t len, bool write)
{
	assert_int_equal(s->gpa, gpa);
	assert_int_equal(s->len, len);
	assert_int_equal(s->write, write);
}

static void test_setup_checks_rings(void **state)
{
	struct rig *r = *state;
	struct virtqueue *q = &r->q;
	const struct gmem *g = &r->g;
	uint64_t end = RAM_SIZE;

	/* misaligned: desc 16, avail 2, used 4 (§2.6) */
	assert_int_equal(vq_setup(q, g, 8, DESC + 8, AVAIL, USED, false, false), VQ_ERR_RING_ADDR);
	assert_int_equal(q->size, 0);
	assert_int_equal(vq_setup(q, g, 8, DESC, AVAIL + 1, USED, false, false), VQ_ERR_RING_ADDR);
	assert_int_equal(vq_setup(q, g, 8, DESC, AVAIL, USED + 2, false, false), VQ_ERR_RING_ADDR);
	/* sizes: a power of two up to VQ_MAX_SIZE */
	assert_int_equal(vq_setup(q, g, 0, DESC, AVAIL, USED, false, false), VQ_ERR_RING_ADDR);
	assert_int_equal(vq_setup(q, g, 12, DESC, AVAIL, USED, false, false), VQ_ERR_RING_ADDR);
	assert_int_equal(vq_setup(q, g, VQ_MAX_SIZE * 2, DESC, AVAIL, USED, false, false),
			 VQ_ERR_RING_ADDR);
	/* each part must end inside RAM, its trailing event field included */
	assert_int_equal(vq_setup(q, g, 8, end - 16 * 8 + 16, AVAIL, USED, false, false),
			 VQ_ERR_RING_ADDR);
	assert_int_equal(vq_setup(q, g, 8, DESC, end - (6 + 2 * 8) + 2, USED, false, false),
			 VQ_ERR_RING_ADDR);
	assert_int_equal(vq_setup(q, g, 8, DESC, AVAIL, end - 68, false, false), VQ_ERR_RING_ADDR);
	assert_int_equal(vq_setup(q, g, 8, UINT64_MAX - 15, AVAIL, USED, false, false),
			 VQ_ERR_RING_ADDR);
	/* up to the end of RAM is fine (a 70-byte used ring ends 2 bytes short of it) */
	assert_int_equal(vq_setup(q, g, 8, end - 16 * 8, end - (6 + 2 * 8) - 4096, end - 72 - 8192,
				  false, false),
			 VQ_OK);
	/* a good setup starts from zero with notifications on and clears the used flags */
	put16(r, USED, VIRTQ_USED_F_NO_NOTIFY);
	q->last_avail = 7;
	assert_int_equal(vq_setup(q, g, VQ_MAX_SIZE, DESC, AVAIL, USED, true, true), VQ_OK);
	assert_int_equal(q->size, VQ_MAX_SIZE);
	assert_int_equal(q->desc, DESC);
	assert_int_equal(q->avail, AVAIL);
	assert_int_equal(q->used, USED);
	assert_true(q->event_idx && q->indirect && q->notify_enabled);
	assert_int_equal(q->last_avail, 0);
	assert_int_equal(q->used_idx, 0);
	assert_int_equal(q->signalled, 0);
	assert_int_equal(get16(r, USED), 0);
}

/* A block request: header (readable), data and status (writable). */
static void test_pop_simple_chain(void **state)
{
	struct rig *r = *state;

	put_desc(r, DESC, 3, BUF, 16, NEXT, 7);
	put_desc(r, DESC, 7, BUF + 0x1000, 4096, NEXT | WRITE, 1);
	put_desc(r, DESC, 1, BUF + 0x3000, 1, WRITE, 0);
	offer(r, 3);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 1);
	assert_int_equal(r->c.head, 3);
	assert_int_equal(r->c.nseg, 3);
	assert_int_equal(r->c.nread, 1);
	assert_int_equal(r->c.read_bytes, 16);
	assert_int_equal(r->c.write_bytes, 4097);
	assert_seg(&r->c.seg[0], BUF, 16, false);
	assert_seg(&r->c.seg[1], BUF + 0x1000, 4096, true);
	assert_seg(&r->c.seg[2], BUF + 0x3000, 1, true);
	assert_int_equal(r->q.last_avail, 1);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 0);
}

static void test_pending_and_empty(void **state)
{
	struct rig *r = *state;

	assert_int_equal(vq_pending(&r->q, &r->g), 0);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 0);
	put_desc(r, DESC, 0, BUF, 8, 0, 0);
	put_desc(r, DESC, 1, BUF, 8, WRITE, 0);
	offer(r, 0);
	offer(r, 1);
	assert_int_equal(vq_pending(&r->q, &r->g), 2);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 1);
	assert_int_equal(r->c.head, 0);
	assert_int_equal(vq_pending(&r->q, &r->g), 1);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 1);
	assert_int_equal(r->c.head, 1);
	assert_int_equal(r->c.nread, 0);
	assert_int_equal(vq_pending(&r->q, &r->g), 0);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 0);
}

static void test_push_writes_used(void **state)
{
	struct rig *r = *state;

	vq_push(&r->q, &r->g, 5, 123);
	assert_int_equal(get32(r, USED + VIRTQ_USED_RING(0)), 5);
	assert_int_equal(get32(r, USED + VIRTQ_USED_RING(0) + 4), 123);
	assert_int_equal(get16(r, USED + 2), 1);
	vq_push(&r->q, &r->g, 9, 0);
	assert_int_equal(get32(r, USED + VIRTQ_USED_RING(1)), 9);
	assert_int_equal(get32(r, USED + VIRTQ_USED_RING(1) + 4), 0);
	assert_int_equal(get16(r, USED + 2), 2);
	assert_int_equal(r->q.used_idx, 2);
}

static void test_avail_jump(void **state)
{
	struct rig *r = *state;

	put16(r, AVAIL + 2, QSIZE + 1);
	assert_int_equal(vq_pending(&r->q, &r->g), -VQ_ERR_AVAIL_JUMP);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), -VQ_ERR_AVAIL_JUMP);
	assert_int_equal(r->q.last_avail, 0);
	/* a full queue is not a jump */
	put16(r, AVAIL + 2, QSIZE);
	assert_int_equal(vq_pending(&r->q, &r->g), QSIZE);
	/* nor is going backwards the same as being empty */
	put16(r, AVAIL + 2, 0xffff);
	assert_int_equal(vq_pending(&r->q, &r->g), -VQ_ERR_AVAIL_JUMP);
}

static void test_head_out_of_range(void **state)
{
	struct rig *r = *state;

	expect_pop_error(r, QSIZE, VQ_ERR_HEAD_INDEX);
}

static void test_next_out_of_range(void **state)
{
	struct rig *r = *state;

	put_desc(r, DESC, 0, BUF, 8, NEXT, QSIZE);
	expect_pop_error(r, 0, VQ_ERR_NEXT_INDEX);
}

static void test_loops(void **state)
{
	struct rig *r = *state;

	put_desc(r, DESC, 0, BUF, 8, NEXT, 1);
	put_desc(r, DESC, 1, BUF, 8, NEXT, 0);
	expect_pop_error(r, 0, VQ_ERR_CHAIN_TOO_LONG);
	put_desc(r, DESC, 2, BUF, 8, NEXT, 2);
	expect_pop_error(r, 2, VQ_ERR_CHAIN_TOO_LONG);
}

/* The longest chain that is not a loop: every descriptor of the queue once. */
static void test_full_length_chain(void **state)
{
	struct rig *r = *state;

	for (uint16_t i = 0; i < QSIZE - 1; i++)
		put_desc(r, DESC, i, BUF + i, 1, NEXT, i + 1);
	put_desc(r, DESC, QSIZE - 1, BUF, 1, WRITE, 0);
	offer(r, 0);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 1);
	assert_int_equal(r->c.nseg, QSIZE);
	assert_int_equal(r->c.nread, QSIZE - 1);
}

static void test_buffer_outside_ram(void **state)
{
	struct rig *r = *state;

	put_desc(r, DESC, 0, RAM_SIZE - 8, 16, 0, 0);
	expect_pop_error(r, 0, VQ_ERR_BUF_ADDR);
	/* gpa + len wraps around to a small address */
	put_desc(r, DESC, 1, UINT64_MAX - 15, 32, 0, 0);
	expect_pop_error(r, 1, VQ_ERR_BUF_ADDR);
	/* the last byte of RAM is fine */
	put_desc(r, DESC, 2, RAM_SIZE - 1, 1, 0, 0);
	offer(r, 2);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 1);
}

static void test_zero_and_huge_len(void **state)
{
	struct rig *r = *state;

	put_desc(r, DESC, 0, BUF, 16, NEXT, 1);
	put_desc(r, DESC, 1, BUF, 0, WRITE, 0);
	expect_pop_error(r, 0, VQ_ERR_ZERO_LEN);
	put_desc(r, DESC, 2, BUF, VQ_MAX_SEG_BYTES + 1, 0, 0);
	expect_pop_error(r, 2, VQ_ERR_HUGE_LEN);
	put_desc(r, DESC, 3, BUF, UINT32_MAX, 0, 0);
	expect_pop_error(r, 3, VQ_ERR_HUGE_LEN);
	put_desc(r, DESC, 4, BUF, VQ_MAX_SEG_BYTES, 0, 0);
	offer(r, 4);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 1);
	assert_int_equal(r->c.read_bytes, VQ_MAX_SEG_BYTES);
}

static void test_write_before_read(void **state)
{
	struct rig *r = *state;

	put_desc(r, DESC, 0, BUF, 16, WRITE | NEXT, 1);
	put_desc(r, DESC, 1, BUF, 16, 0, 0);
	expect_pop_error(r, 0, VQ_ERR_WRITE_ORDER);
}

/* A header in the direct table, then an indirect table with the rest (§2.6.5.3.2: the device
 * MUST handle direct descriptors followed by one indirect descriptor). */
static void test_indirect_chain(void **state)
{
	struct rig *r = *state;

	put_desc(r, DESC, 5, BUF, 16, NEXT, 6);
	/* the WRITE flag of the descriptor pointing at the table is ignored (§2.6.5.3.2) */
	put_desc(r, DESC, 6, TABLE, 4 * VIRTQ_DESC_SIZE, INDIR | WRITE, 0);
	put_desc(r, TABLE, 0, BUF + 0x100, 32, NEXT, 2);
	put_desc(r, TABLE, 2, BUF + 0x200, 512, NEXT | WRITE, 3);
	put_desc(r, TABLE, 3, BUF + 0x400, 1, WRITE, 0);
	offer(r, 5);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 1);
	assert_int_equal(r->c.head, 5);
	assert_int_equal(r->c.nseg, 4);
	assert_int_equal(r->c.nread, 2);
	assert_int_equal(r->c.read_bytes, 48);
	assert_int_equal(r->c.write_bytes, 513);
	assert_seg(&r->c.seg[0], BUF, 16, false);
	assert_seg(&r->c.seg[1], BUF + 0x100, 32, false);
	assert_seg(&r->c.seg[2], BUF + 0x200, 512, true);
	assert_seg(&r->c.seg[3], BUF + 0x400, 1, true);
	/* an indirect descriptor alone, with a table of the full queue size */
	for (uint16_t i = 0; i < QSIZE; i++)
		put_desc(r, TABLE, i, BUF, 1, i + 1 < QSIZE ? NEXT : 0, i + 1);
	put_desc(r, DESC, 0, TABLE, QSIZE * VIRTQ_DESC_SIZE, INDIR, 0);
	offer(r, 0);
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 1);
	assert_int_equal(r->c.nseg, QSIZE);
	/* ... but one more direct buffer before it makes the chain too long */
	put_desc(r, DESC, 1, BUF, 1, NEXT, 0);
	expect_pop_error(r, 1, VQ_ERR_CHAIN_TOO_LONG);
}

static void test_indirect_guards(void **state)
{
	struct rig *r = *state;

	put_desc(r, DESC, 0, TABLE, 2 * VIRTQ_DESC_SIZE, INDIR | NEXT, 1);
	expect_pop_error(r, 0, VQ_ERR_INDIRECT_NEXT);
	put_desc(r, DESC, 1, TABLE, 0, INDIR, 0);
	expect_pop_error(r, 1, VQ_ERR_INDIRECT_LEN);
	put_desc(r, DESC, 2, TABLE, 24, INDIR, 0);
	expect_pop_error(r, 2, VQ_ERR_INDIRECT_LEN);
	put_desc(r, DESC, 3, TABLE, (QSIZE + 1) * VIRTQ_DESC_SIZE, INDIR, 0);
	expect_pop_error(r, 3, VQ_ERR_INDIRECT_LEN);
	put_desc(r, DESC, 4, RAM_SIZE - VIRTQ_DESC_SIZE, 2 * VIRTQ_DESC_SIZE, INDIR, 0);
	expect_pop_error(r, 4, VQ_ERR_BUF_ADDR);
	/* inside the table: no second level, and next stays inside the table */
	put_desc(r, DESC, 5, TABLE, 2 * VIRTQ_DESC_SIZE, INDIR, 0);
	put_desc(r, TABLE, 0, BUF, 8, NEXT, 1);
	put_desc(r, TABLE, 1, TABLE, VIRTQ_DESC_SIZE, INDIR, 0);
	expect_pop_error(r, 5, VQ_ERR_NESTED_INDIRECT);
	put_desc(r, TABLE, 1, BUF, 8, NEXT, 2);
	expect_pop_error(r, 5, VQ_ERR_NEXT_INDEX);
	/* a loop inside the table */
	put_desc(r, TABLE, 1, BUF, 8, NEXT, 0);
	expect_pop_error(r, 5, VQ_ERR_CHAIN_TOO_LONG);
	/* write order holds across the direct part and the table */
	put_desc(r, DESC, 6, BUF, 8, WRITE | NEXT, 5);
	put_desc(r, TABLE, 0, BUF, 8, 0, 0);
	expect_pop_error(r, 6, VQ_ERR_WRITE_ORDER);
}

static void test_indirect_without_feature(void **state)
{
	struct rig *r = *state;

	setup_queue(r, QSIZE, false, false);
	put_desc(r, DESC, 0, TABLE, VIRTQ_DESC_SIZE, INDIR, 0);
	put_desc(r, TABLE, 0, BUF, 8, 0, 0);
	expect_pop_error(r, 0, VQ_ERR_INDIRECT_FEATURE);
}

/* The 16-bit indices are free-running (§2.6.6, §2.6.8): both must wrap from 0xffff to 0. */
static void test_index_wraparound(void **state)
{
	struct rig *r = *state;

	r->q.last_avail = r->q.used_idx = r->q.signalled = 0xfffe;
	r->avail_idx = 0xfffe;
	for (uint16_t i = 0; i < 3; i++) {
		put_desc(r, DESC, i, BUF, 8, WRITE, 0);
		offer(r, i);
	}
	assert_int_equal(get16(r, AVAIL + 2), 1);
	assert_int_equal(vq_pending(&r->q, &r->g), 3);
	for (uint16_t i = 0; i < 3; i++) {
		assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 1);
		assert_int_equal(r->c.head, i);
		vq_push(&r->q, &r->g, r->c.head, 8);
	}
	assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 0);
	assert_int_equal(r->q.last_avail, 1);
	assert_int_equal(get16(r, USED + 2), 1);
	/* 0xfffe % 16 = 14: elements at 14, 15 and 0 */
	assert_int_equal(get32(r, USED + VIRTQ_USED_RING(14)), 0);
	assert_int_equal(get32(r, USED + VIRTQ_USED_RING(15)), 1);
	assert_int_equal(get32(r, USED + VIRTQ_USED_RING(0)), 2);
	assert_true(vq_should_interrupt(&r->q, &r->g));
	assert_int_equal(r->q.signalled, 1);
}

static void test_should_interrupt_flags(void **state)
{
	struct rig *r = *state;

	assert_false(vq_should_interrupt(&r->q, &r->g)); /* nothing pushed */
	vq_push(&r->q, &r->g, 0, 0);
	assert_true(vq_should_interrupt(&r->q, &r->g));
	assert_int_equal(r->q.signalled, 1);
	assert_false(vq_should_interrupt(&r->q, &r->g)); /* already told */
	put16(r, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	vq_push(&r->q, &r->g, 0, 0);
	assert_false(vq_should_interrupt(&r->q, &r->g));
	assert_int_equal(r->q.signalled, 1);
	/* once the driver wants them again, what was pushed meanwhile is signalled */
	put16(r, AVAIL, 0);
	assert_true(vq_should_interrupt(&r->q, &r->g));
	assert_int_equal(r->q.signalled, 2);
}

/* §2.6.7.2 with EVENT_IDX: interrupt when the used index passes used_event. */
static void test_should_interrupt_event_idx(void **state)
{
	struct rig *r = *state;
	uint64_t used_event = AVAIL + VIRTQ_AVAIL_RING(QSIZE);

	setup_queue(r, QSIZE, true, true);
	put16(r, used_event, 2);
	/* flags are ignored with EVENT_IDX */
	put16(r, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	vq_push(&r->q, &r->g, 0, 0); /* fills entry 0 */
	assert_false(vq_should_interrupt(&r->q, &r->g));
	vq_push(&r->q, &r->g, 0, 0); /* entry 1 */
	assert_false(vq_should_interrupt(&r->q, &r->g));
	vq_push(&r->q, &r->g, 0, 0); /* entry 2: the one asked for */
	assert_true(vq_should_interrupt(&r->q, &r->g));
	assert_int_equal(r->q.signalled, 3);
	vq_push(&r->q, &r->g, 0, 0); /* entry 3: the event lies behind */
	assert_false(vq_should_interrupt(&r->q, &r->g));
	/* a batch that passes the event, checked once */
	put16(r, used_event, 5);
	vq_push(&r->q, &r->g, 0, 0);
	vq_push(&r->q, &r->g, 0, 0);
	vq_push(&r->q, &r->g, 0, 0);
	assert_true(vq_should_interrupt(&r->q, &r->g));
	assert_int_equal(r->q.signalled, 7);
	/* across the 16-bit wrap */
	r->q.used_idx = r->q.signalled = 0xffff;
	put16(r, used_event, 0xffff);
	vq_push(&r->q, &r->g, 0, 0);
	assert_true(vq_should_interrupt(&r->q, &r->g));
	assert_int_equal(r->q.signalled, 0);
}

static void test_set_notify_flags(void **state)
{
	struct rig *r = *state;

	vq_set_notify(&r->q, &r->g, false);
	assert_int_equal(get16(r, USED), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(r->q.notify_enabled);
	vq_set_notify(&r->q, &r->g, true);
	assert_int_equal(get16(r, USED), 0);
	assert_true(r->q.notify_enabled);
}

/* §2.6.7.1 with EVENT_IDX: avail_event follows last_avail, or is put out of reach. */
static void test_set_notify_event_idx(void **state)
{
	struct rig *r = *state;
	uint64_t avail_event = USED + VIRTQ_USED_RING(QSIZE);

	setup_queue(r, QSIZE, true, true);
	put_desc(r, DESC, 0, BUF, 8, 0, 0);
	for (int i = 0; i < 5; i++) {
		offer(r, 0);
		assert_int_equal(vq_pop(&r->q, &r->g, &r->c), 1);
	}
	vq_set_notify(&r->q, &r->g, false);
	assert_int_equal(get16(r, avail_event), 0x8005);
	assert_int_equal(get16(r, USED), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(r->q.notify_enabled);
	vq_set_notify(&r->q, &r->g, true);
	assert_int_equal(get16(r, avail_event), 5);
	assert_int_equal(get16(r, USED), 0);
	assert_true(r->q.notify_enabled);
}

/* A queue that was never set up (or failed setup) does nothing and touches nothing. */
static void test_unset_queue_is_inert(void **state)
{
	struct rig *r = *state;
	struct virtqueue q;

	assert_int_equal(vq_setup(&q, &r->g, 3, DESC, AVAIL, USED, false, false), VQ_ERR_RING_ADDR);
	put16(r, AVAIL + 2, 1);
	assert_int_equal(vq_pending(&q, &r->g), 0);
	assert_int_equal(vq_pop(&q, &r->g, &r->c), 0);
	vq_push(&q, &r->g, 0, 0);
	assert_false(vq_should_interrupt(&q, &r->g));
	vq_set_notify(&q, &r->g, false);
	assert_int_equal(get16(r, USED + 2), 0);
	assert_int_equal(get16(r, USED), 0);
}

static void test_error_names(void **state)
{
	(void)state;
	for (int e = 0; e < VQ_ERR_COUNT; e++) {
		const char *name = vq_error_name((enum vq_error)e);

		assert_non_null(name);
		assert_true(strlen(name) > 0);
		for (int f = 0; f < e; f++)
			assert_string_not_equal(name, vq_error_name((enum vq_error)f));
	}
	assert_non_null(vq_error_name(VQ_ERR_COUNT));
	assert_string_equal(vq_error_name(VQ_ERR_CHAIN_TOO_LONG),
			    "descriptor chain longer than the queue (a loop?)");
}

#define RIG_TEST(f) cmocka_unit_test_setup_teardown(f, rig_setup, rig_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		RIG_TEST(test_setup_checks_rings),
		RIG_TEST(test_pop_simple_chain),
		RIG_TEST(test_pending_and_empty),
		RIG_TEST(test_push_writes_used),
		RIG_TEST(test_avail_jump),
		RIG_TEST(test_head_out_of_range),
		RIG_TEST(test_next_out_of_range),
		RIG_TEST(test_loops),
		RIG_TEST(test_full_length_chain),
		RIG_TEST(test_buffer_outside_ram),
		RIG_TEST(test_zero_and_huge_len),
		RIG_TEST(test_write_before_read),
		RIG_TEST(test_indirect_chain),
		RIG_TEST(test_indirect_guards),
		RIG_TEST(test_indirect_without_feature),
		RIG_TEST(test_index_wraparound),
		RIG_TEST(test_should_interrupt_flags),
		RIG_TEST(test_should_interrupt_event_idx),
		RIG_TEST(test_set_notify_flags),
		RIG_TEST(test_set_notify_event_idx),
		RIG_TEST(test_unset_queue_is_inert),
		RIG_TEST(test_error_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
