/* virtio-blk (vio/blk.c) with the ramdisk (vio/ramdisk.c) against virtio 1.1
 * §5.2, driven the way a guest driver would: the device is set up through
 * its BAR 0 registers (§3.1.1), requests are chains in a split ring in fake
 * guest RAM, completions are read back from the used ring. An asynchronous
 * fake backend checks the ordering of completion and the retry of a refused
 * submit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vio/blk.h"
#include "vio/ramdisk.h"

#define RAM_SIZE   (4u << 20)
#define DISK_SIZE  (1u << 20)
#define SECTORS	   (DISK_SIZE / VIRTIO_BLK_SECTOR)
#define QSIZE	   128
#define DESC_GPA   0x1000
#define AVAIL_GPA  0x2000
#define USED_GPA   0x3000
#define BUF_GPA	   0x10000
#define STATUS_NIL 0xaa /* what a status byte holds before the device writes it */
#define SERIAL	   "corevisor-disk-0"

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static uint8_t *ram;
static struct gmem gmem;
static struct vblk blk;
static uint8_t *disk;
static struct ramdisk rd;
static uint16_t next_desc, avail_idx, used_seen;
static uint64_t buf_next;

/* An asynchronous backend: takes requests and completes nothing by itself;
 * refuses the first `refuse` submits. */
struct fake_backend {
	unsigned refuse, refused, taken;
	struct blk_io io[VBLK_MAX_INFLIGHT * 2];
};

static struct fake_backend fake;

static int fake_submit(void *backend, struct vblk *b, const struct blk_io *io)
{
	struct fake_backend *f = backend;

	(void)b;
	if (f->refuse) {
		f->refuse--;
		f->refused++;
		return -1;
	}
	f->io[f->taken++ % (VBLK_MAX_INFLIGHT * 2)] = *io;
	return 0;
}

static const struct blk_backend_ops fake_ops = {.submit = fake_submit};

static void put16(uint64_t gpa, uint16_t v)
{
	memcpy(ram + gpa, &v, 2);
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(ram + gpa, &v, 4);
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, ram + gpa, 4);
	return v;
}

static uint32_t bar_read(uint32_t off, unsigned size)
{
	return virtio_pci_bar_read(&blk.vp, off, size);
}

static void bar_write(uint32_t off, unsigned size, uint32_t v)
{
	uint16_t kick;

	virtio_pci_bar_write(&blk.vp, off, size, v, &kick);
}

static void common_write64(uint32_t lo, uint64_t v)
{
	bar_write(VIO_BAR0_COMMON + lo, 4, (uint32_t)v);
	bar_write(VIO_BAR0_COMMON + lo + 4, 4, (uint32_t)(v >> 32));
}

static void set_status(uint8_t s)
{
	bar_write(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_STATUS, 1, s);
}

/* §3.1.1 driver initialization: reset, ACKNOWLEDGE, DRIVER, features,
 * FEATURES_OK, the queue, DRIVER_OK. */
static void driver_setup(void)
{
	const uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	const uint32_t blk_features = (1u << VIRTIO_BLK_F_SIZE_MAX) | (1u << VIRTIO_BLK_F_SEG_MAX) |
				      (1u << VIRTIO_BLK_F_BLK_SIZE) | (1u << VIRTIO_BLK_F_FLUSH);

	set_status(0);
	set_status(VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(s);
	bar_write(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	bar_write(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_GF, 4, blk_features);
	bar_write(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	bar_write(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_GF, 4, 1u << (VIRTIO_F_VERSION_1 - 32));
	set_status(s | VIRTIO_STATUS_FEATURES_OK);
	assert_true(bar_read(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_STATUS, 1) &
		    VIRTIO_STATUS_FEATURES_OK);
	bar_write(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	bar_write(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE);
	common_write64(VIRTIO_PCI_COMMON_Q_DESCLO, DESC_GPA);
	common_write64(VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL_GPA);
	common_write64(VIRTIO_PCI_COMMON_Q_USEDLO, USED_GPA);
	bar_write(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	set_status(s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(virtio_pci_live(&blk.vp));
	assert_non_null(virtio_pci_queue(&blk.vp, 0));
}

static void setup_device(const struct blk_backend_ops *ops, void *backend)
{
	memset(ram, 0, RAM_SIZE);
	next_desc = avail_idx = used_seen = 0;
	buf_next = BUF_GPA;
	vblk_init(&blk, &gmem, SECTORS, SERIAL, ops, backend);
	driver_setup();
}

static int setup_ramdisk(void **state)
{
	(void)state;
	memset(disk, 0, DISK_SIZE);
	rd = (struct ramdisk){.data = disk, .bytes = DISK_SIZE};
	setup_device(&ramdisk_ops, &rd);
	return 0;
}

#define SERVICE_NS 1000

/* A ramdisk that takes SERVICE_NS per request, one at a time. */
static int setup_ramdisk_service(void **state)
{
	setup_ramdisk(state);
	rd.service_ns = SERVICE_NS;
	return 0;
}

static int setup_fake(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	setup_device(&fake_ops, &fake);
	return 0;
}

static uint64_t alloc_buf(uint32_t len)
{
	uint64_t gpa = buf_next;

	buf_next = (buf_next + len + 15) & ~15ull;
	assert_true(buf_next < RAM_SIZE);
	return gpa;
}

static void write_hdr(uint64_t gpa, uint32_t type, uint64_t sector)
{
	put32(gpa, type);
	put32(gpa + 4, 0);
	put64(gpa + 8, sector);
}

/* Puts a chain of `n` buffers in the descriptor table and its head in the
 * available ring (§2.6.13). */
static uint16_t post(const struct seg *s, unsigned n)
{
	uint16_t head = next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((next_desc + i) % QSIZE);
		uint64_t at = DESC_GPA + (uint64_t)d * VIRTQ_DESC_SIZE;
		uint16_t flags =
			(s[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		put64(at, s[i].gpa);
		put32(at + 8, s[i].len);
		put16(at + 12, flags);
		put16(at + 14, (uint16_t)((d + 1) % QSIZE));
	}
	next_desc = (uint16_t)((next_desc + n) % QSIZE);
	put16(AVAIL_GPA + VIRTQ_AVAIL_RING(avail_idx % QSIZE), head);
	avail_idx++;
	put16(AVAIL_GPA + 2, avail_idx);
	return head;
}

static uint16_t used_idx(void)
{
	uint16_t v;

	memcpy(&v, ram + USED_GPA + 2, 2);
	return v;
}

/* The next used element: its head and length. */
static void take_used(uint16_t head, uint32_t len)
{
	uint64_t at = USED_GPA + VIRTQ_USED_RING(used_seen % QSIZE);

	assert_true(used_idx() != used_seen);
	assert_int_equal(get32(at), head);
	assert_int_equal(get32(at + 4), len);
	used_seen++;
}

static uint64_t status_buf(void)
{
	uint64_t gpa = alloc_buf(1);

	ram[gpa] = STATUS_NIL;
	return gpa;
}

/* One request in three buffers: header, data (one buffer), status. */
static uint64_t simple_req(uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
			   uint16_t *head)
{
	uint64_t hdr = alloc_buf(VIRTIO_BLK_HDR_SIZE), st = status_buf();
	struct seg s[3] = {{hdr, VIRTIO_BLK_HDR_SIZE, false},
			   {data, len, type != VIRTIO_BLK_T_OUT},
			   {st, 1, true}};

	write_hdr(hdr, type, sector);
	if (len)
		*head = post(s, 3);
	else
		*head = post((struct seg[]){s[0], s[2]}, 2);
	return st;
}

static void fill(uint64_t gpa, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		ram[gpa + i] = (uint8_t)(seed + i * 7);
}

static void test_config(void **state)
{
	uint64_t cap;

	(void)state;
	assert_int_equal(vpci_cfg_read(&blk.vp.fn, 0, 4),
			 (uint32_t)(VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_BLOCK) << 16 |
				 VIRTIO_PCI_VENDOR);
	/* class code: base class, subclass, prog-if */
	assert_int_equal(vpci_cfg_read(&blk.vp.fn, 0x08, 4) >> 8, 0x010000);
	bar_write(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	assert_int_equal(bar_read(VIO_BAR0_COMMON + VIRTIO_PCI_COMMON_DF, 4) & 0x2ff,
			 (1u << VIRTIO_BLK_F_SIZE_MAX) | (1u << VIRTIO_BLK_F_SEG_MAX) |
				 (1u << VIRTIO_BLK_F_BLK_SIZE) | (1u << VIRTIO_BLK_F_FLUSH));
	cap = bar_read(VIO_BAR0_DEVICE + VIRTIO_BLK_CFG_CAPACITY, 4) |
	      (uint64_t)bar_read(VIO_BAR0_DEVICE + VIRTIO_BLK_CFG_CAPACITY + 4, 4) << 32;
	assert_int_equal(cap, SECTORS);
	assert_int_equal(bar_read(VIO_BAR0_DEVICE + VIRTIO_BLK_CFG_SIZE_MAX, 4), VBLK_SIZE_MAX);
	assert_int_equal(bar_read(VIO_BAR0_DEVICE + VIRTIO_BLK_CFG_SEG_MAX, 4), VBLK_SEG_MAX);
	assert_int_equal(bar_read(VIO_BAR0_DEVICE + VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
	assert_int_equal(bar_read(VIO_BAR0_DEVICE + 16, 4), 0); /* geometry: not offered */
	assert_int_equal(bar_read(VIO_BAR0_DEVICE + VIRTIO_BLK_CFG_BLK_SIZE, 1), 0);
	assert_int_equal(bar_read(VIO_BAR0_DEVICE + VIRTIO_BLK_CFG_BLK_SIZE + 1, 1), 2);
}

/* Writes, then reads back, across several requests: data in one buffer and
 * in several, the header sharing a buffer with OUT data, the status byte
 * sharing one with IN data. */
static void test_write_read_back(void **state)
{
	uint64_t out = alloc_buf(4096), in = alloc_buf(4096 + 1), hdr, st, hdr_data;
	uint16_t head;

	(void)state;
	fill(out, 4096, 3);
	/* OUT sectors 10..17: header, two data buffers, status */
	hdr = alloc_buf(VIRTIO_BLK_HDR_SIZE);
	st = status_buf();
	write_hdr(hdr, VIRTIO_BLK_T_OUT, 10);
	head = post((struct seg[]){{hdr, 16, false},
				   {out, 1024, false},
				   {out + 1024, 3072, false},
				   {st, 1, true}},
		    4);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_memory_equal(disk + 10 * 512, ram + out, 4096);
	/* IN sectors 10..17 into three buffers, the status in the last one */
	hdr = alloc_buf(VIRTIO_BLK_HDR_SIZE);
	write_hdr(hdr, VIRTIO_BLK_T_IN, 10);
	ram[in + 4096] = STATUS_NIL;
	head = post((struct seg[]){{hdr, 16, false},
				   {in, 512, true},
				   {in + 512, 1024, true},
				   {in + 1536, 2560 + 1, true}},
		    4);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 4096 + 1);
	assert_int_equal(ram[in + 4096], VIRTIO_BLK_S_OK);
	assert_memory_equal(ram + in, ram + out, 4096);
	/* OUT sector 100: the header and the first 512 bytes in one buffer */
	hdr_data = alloc_buf(16 + 1024);
	write_hdr(hdr_data, VIRTIO_BLK_T_OUT, 100);
	fill(hdr_data + 16, 1024, 99);
	st = status_buf();
	head = post((struct seg[]){{hdr_data, 16 + 512, false},
				   {hdr_data + 16 + 512, 512, false},
				   {st, 1, true}},
		    3);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_memory_equal(disk + 100 * 512, ram + hdr_data + 16, 1024);
	/* read it back in one buffer */
	memset(ram + in, 0, 1024);
	st = simple_req(VIRTIO_BLK_T_IN, 100, in, 1024, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1024 + 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_memory_equal(ram + in, ram + hdr_data + 16, 1024);
	assert_int_equal(blk.stats.requests, 4);
	assert_int_equal(blk.stats.reads, 2);
	assert_int_equal(blk.stats.writes, 2);
	assert_int_equal(blk.stats.read_bytes, 4096 + 1024);
	assert_int_equal(blk.stats.write_bytes, 4096 + 1024);
	assert_true(blk.irq_due);
}

/* Several requests taken in one call, up to the budget. */
static void test_budget(void **state)
{
	uint64_t data = alloc_buf(512);
	uint16_t head[5];

	(void)state;
	for (unsigned i = 0; i < 5; i++)
		simple_req(VIRTIO_BLK_T_OUT, i, data, 512, &head[i]);
	assert_int_equal(vblk_process(&blk, 3), 3);
	assert_int_equal(vblk_process(&blk, 3), 2);
	assert_int_equal(vblk_process(&blk, 3), 0);
	for (unsigned i = 0; i < 5; i++)
		take_used(head[i], 1);
}

static void test_flush(void **state)
{
	uint16_t head;
	uint64_t st;

	(void)state;
	st = simple_req(VIRTIO_BLK_T_FLUSH, 0, 0, 0, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_int_equal(blk.stats.flushes, 1);
}

static void test_get_id(void **state)
{
	uint64_t id = alloc_buf(32), st;
	uint8_t want[20] = SERIAL;
	uint16_t head;

	(void)state;
	memset(ram + id, 0xff, 32);
	st = simple_req(VIRTIO_BLK_T_GET_ID, 0, id, 20, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 21);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_memory_equal(ram + id, want, 20);
	/* a buffer shorter than 20 bytes gets what fits */
	memset(ram + id, 0xff, 32);
	st = simple_req(VIRTIO_BLK_T_GET_ID, 0, id, 8, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 9);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_memory_equal(ram + id, want, 8);
	assert_int_equal(ram[id + 8], 0xff);
	assert_int_equal(blk.stats.get_ids, 2);
}

/* A request past the disk's end fails and touches nothing. */
static void test_past_end(void **state)
{
	uint64_t data = alloc_buf(1024), st;
	uint16_t head;

	(void)state;
	memset(disk + DISK_SIZE - 512, 0x5a, 512); /* canary: the last sector */
	fill(data, 1024, 1);
	st = simple_req(VIRTIO_BLK_T_OUT, SECTORS - 1, data, 1024, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_IOERR);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(disk[DISK_SIZE - 512 + i], 0x5a);
	/* sector + count would wrap around */
	st = simple_req(VIRTIO_BLK_T_OUT, UINT64_MAX, data, 512, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_IOERR);
	/* an IN past the end leaves the guest's buffer alone */
	memset(ram + data, 0x33, 1024);
	st = simple_req(VIRTIO_BLK_T_IN, SECTORS, data, 512, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_IOERR);
	assert_int_equal(ram[data], 0x33);
	assert_int_equal(blk.stats.errors, 3);
	/* the last sector itself is fine */
	st = simple_req(VIRTIO_BLK_T_IN, SECTORS - 1, data, 512, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 513);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_int_equal(ram[data], 0x5a);
}

static void test_bad_length_and_direction(void **state)
{
	uint64_t data = alloc_buf(1024), hdr, st;
	uint16_t head;

	(void)state;
	memset(disk, 0x11, 1024);
	st = simple_req(VIRTIO_BLK_T_OUT, 0, data, 100, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_IOERR);
	assert_int_equal(disk[0], 0x11);
	/* IN with readable data after the header */
	hdr = alloc_buf(16);
	write_hdr(hdr, VIRTIO_BLK_T_IN, 0);
	st = status_buf();
	head = post((struct seg[]){{hdr, 16, false}, {data, 512, false}, {st, 1, true}}, 3);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_IOERR);
	/* OUT with writable data before the status, in its own buffer or
	 * sharing the status byte's */
	write_hdr(hdr, VIRTIO_BLK_T_OUT, 0);
	head = post((struct seg[]){{hdr, 16, false}, {data, 512, true}, {st, 1, true}}, 3);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_IOERR);
	head = post((struct seg[]){{hdr, 16, false}, {data, 513, true}}, 2);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[data + 512], VIRTIO_BLK_S_IOERR);
	assert_int_equal(disk[0], 0x11);
	assert_int_equal(blk.stats.errors, 4);
}

static void test_unknown_type(void **state)
{
	uint64_t data = alloc_buf(512), st;
	uint16_t head;

	(void)state;
	st = simple_req(0x1234, 0, data, 512, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	take_used(head, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(blk.stats.unsupported, 1);
}

/* Malformed requests are violations: -1 and the reason, nothing pushed. */
static void test_header_too_short(void **state)
{
	uint64_t hdr = alloc_buf(16), st = status_buf();

	(void)state;
	post((struct seg[]){{hdr, 8, false}, {st, 1, true}}, 2);
	assert_int_equal(vblk_process(&blk, 8), -1);
	assert_string_equal(blk.error, "request header shorter than 16 bytes");
	assert_int_equal(used_idx(), 0);
	assert_int_equal(ram[st], STATUS_NIL);
	assert_int_equal(blk.inflight, 0);
}

static void test_header_writable(void **state)
{
	uint64_t hdr = alloc_buf(16), st = status_buf();

	(void)state;
	post((struct seg[]){{hdr, 16, true}, {st, 1, true}}, 2);
	assert_int_equal(vblk_process(&blk, 8), -1);
	assert_string_equal(blk.error, "request header shorter than 16 bytes");
}

static void test_no_status(void **state)
{
	uint64_t hdr = alloc_buf(16), data = alloc_buf(512);

	(void)state;
	write_hdr(hdr, VIRTIO_BLK_T_OUT, 0);
	post((struct seg[]){{hdr, 16, false}, {data, 512, false}}, 2);
	assert_int_equal(vblk_process(&blk, 8), -1);
	assert_string_equal(blk.error, "no device-writable status byte");
	assert_int_equal(used_idx(), 0);
}

/* A ring guard (vq_pop) is reported by its name. */
static void test_ring_violation(void **state)
{
	(void)state;
	put16(AVAIL_GPA + 2, QSIZE + 1);
	assert_int_equal(vblk_process(&blk, 8), -1);
	assert_string_equal(blk.error, vq_error_name(VQ_ERR_AVAIL_JUMP));
}

/* An asynchronous backend: nothing reaches the status byte or the used ring
 * before it completes; then the status, then the used element. */
static void test_status_written_last(void **state)
{
	uint64_t data = alloc_buf(1024), st;
	uint16_t head;

	(void)state;
	st = simple_req(VIRTIO_BLK_T_IN, 4, data, 1024, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	assert_int_equal(fake.taken, 1);
	assert_int_equal(fake.io[0].type, VIRTIO_BLK_T_IN);
	assert_int_equal(fake.io[0].sector, 4);
	assert_int_equal(fake.io[0].bytes, 1024);
	assert_int_equal(fake.io[0].nseg, 1);
	assert_int_equal(fake.io[0].seg[0].gpa, data);
	assert_int_equal(fake.io[0].seg[0].len, 1024);
	assert_int_equal(blk.inflight, 1);
	assert_int_equal(ram[st], STATUS_NIL);
	assert_int_equal(used_idx(), 0);
	assert_false(blk.irq_due);
	vblk_complete(&blk, fake.io[0].slot, VIRTIO_BLK_S_OK);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	take_used(head, 1024 + 1);
	assert_int_equal(blk.inflight, 0);
	assert_true(blk.irq_due);
	/* a second completion of the same slot is ignored */
	vblk_complete(&blk, fake.io[0].slot, VIRTIO_BLK_S_OK);
	assert_int_equal(used_idx(), 1);
}

/* A full device stops taking from its ring until a slot frees up. */
static void test_inflight_limit(void **state)
{
	uint64_t data = alloc_buf(512);
	uint16_t head[VBLK_MAX_INFLIGHT + 8];

	(void)state;
	for (unsigned i = 0; i < VBLK_MAX_INFLIGHT + 8; i++)
		simple_req(VIRTIO_BLK_T_OUT, i, data, 512, &head[i]);
	assert_int_equal(vblk_process(&blk, 100), VBLK_MAX_INFLIGHT);
	assert_int_equal(blk.inflight, VBLK_MAX_INFLIGHT);
	assert_int_equal(vblk_process(&blk, 100), 0);
	assert_int_equal(vq_pending(virtio_pci_queue(&blk.vp, 0), &gmem), 8);
	/* completions out of order */
	vblk_complete(&blk, fake.io[5].slot, VIRTIO_BLK_S_OK);
	vblk_complete(&blk, fake.io[2].slot, VIRTIO_BLK_S_OK);
	take_used(head[5], 1);
	take_used(head[2], 1);
	assert_int_equal(vblk_process(&blk, 100), 2);
	assert_int_equal(fake.io[VBLK_MAX_INFLIGHT].sector, VBLK_MAX_INFLIGHT);
	assert_int_equal(vq_pending(virtio_pci_queue(&blk.vp, 0), &gmem), 6);
	/* a reset forgets every slot */
	set_status(0);
	assert_int_equal(blk.inflight, 0);
	assert_false(blk.irq_due);
}

/* A backend that cannot take more: the popped request keeps its slot and
 * goes first next time, its data buffers found again exactly as before. */
static void test_refused_submit_retried(void **state)
{
	uint64_t hdr_data = alloc_buf(16 + 1024), data2 = alloc_buf(512), st, st2;
	uint16_t head, head2;

	(void)state;
	write_hdr(hdr_data, VIRTIO_BLK_T_OUT, 7);
	st = status_buf();
	head = post((struct seg[]){{hdr_data, 16 + 1024, false}, {st, 1, true}}, 2);
	st2 = simple_req(VIRTIO_BLK_T_OUT, 9, data2, 512, &head2);
	fake.refuse = 2;
	assert_int_equal(vblk_process(&blk, 8), 1); /* taken, refused */
	assert_int_equal(fake.refused, 1);
	assert_int_equal(blk.inflight, 1);
	assert_int_equal(vblk_process(&blk, 8), 0); /* refused again */
	assert_int_equal(fake.refused, 2);
	assert_int_equal(fake.taken, 0);
	assert_int_equal(vblk_process(&blk, 8), 2);
	assert_int_equal(fake.taken, 2);
	assert_int_equal(fake.io[0].sector, 7);
	assert_int_equal(fake.io[0].nseg, 1);
	assert_int_equal(fake.io[0].seg[0].gpa, hdr_data + 16);
	assert_int_equal(fake.io[0].seg[0].len, 1024);
	assert_int_equal(fake.io[0].bytes, 1024);
	assert_int_equal(fake.io[1].sector, 9);
	assert_int_equal(blk.stats.writes, 2);
	assert_int_equal(blk.stats.write_bytes, 1024 + 512);
	vblk_complete(&blk, fake.io[0].slot, VIRTIO_BLK_S_OK);
	vblk_complete(&blk, fake.io[1].slot, VIRTIO_BLK_S_IOERR);
	take_used(head, 1);
	take_used(head2, 1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_int_equal(ram[st2], VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk.stats.errors, 1);
}

static unsigned cif_seen[8], ncif;

static void note_cif(void *ctx, unsigned cif)
{
	(void)ctx;
	if (ncif < 8)
		cif_seen[ncif++] = cif;
}

/* With a service time the data moves at submit and the completions come
 * from vblk_poll, one per SERVICE_NS, in order; the next one starts when
 * the one before completes, so a late poll completes one request, not all
 * that would have been due. The CIF at each completion counts the ring. */
static void test_service_time(void **state)
{
	uint64_t data = alloc_buf(512);
	uint16_t head[3];

	(void)state;
	ncif = 0;
	blk.completed = note_cif;
	fill(data, 512, 5);
	for (unsigned i = 0; i < 3; i++)
		simple_req(VIRTIO_BLK_T_OUT, 20 + i, data, 512, &head[i]);
	assert_int_equal(vblk_poll(&blk, 100), 0); /* the disk's clock: 100 */
	assert_int_equal(vblk_process(&blk, 8), 3);
	assert_memory_equal(disk + 22 * 512, ram + data, 512); /* written at submit */
	assert_int_equal(used_idx(), 0);
	assert_int_equal(blk.inflight, 3);
	assert_int_equal(vblk_poll(&blk, 100 + SERVICE_NS - 1), 0);
	assert_int_equal(vblk_poll(&blk, 100 + SERVICE_NS), 1);
	take_used(head[0], 1);
	assert_int_equal(vblk_poll(&blk, 100 + SERVICE_NS), 0);
	/* a late poll: one completion; the next one is due SERVICE_NS later */
	assert_int_equal(vblk_poll(&blk, 50000), 1);
	take_used(head[1], 1);
	assert_int_equal(vblk_poll(&blk, 50000 + SERVICE_NS - 1), 0);
	assert_int_equal(vblk_poll(&blk, 50000 + SERVICE_NS), 1);
	take_used(head[2], 1);
	assert_int_equal(blk.inflight, 0);
	assert_int_equal(ncif, 3);
	assert_int_equal(cif_seen[0], 3);
	assert_int_equal(cif_seen[1], 2);
	assert_int_equal(cif_seen[2], 1);
	/* an idle disk starts a new request at the last poll's time */
	simple_req(VIRTIO_BLK_T_IN, 20, data, 512, &head[0]);
	assert_int_equal(vblk_poll(&blk, 90000), 0);
	assert_int_equal(vblk_process(&blk, 8), 1);
	assert_int_equal(vblk_poll(&blk, 90000 + SERVICE_NS), 1);
	take_used(head[0], 512 + 1);
}

/* A reset drops what the disk holds: nothing completes afterwards, and a
 * new request's slot is not completed by an old entry. */
static void test_service_reset(void **state)
{
	uint64_t data = alloc_buf(512);
	uint16_t head;

	(void)state;
	for (unsigned i = 0; i < 2; i++)
		simple_req(VIRTIO_BLK_T_OUT, i, data, 512, &head);
	assert_int_equal(vblk_poll(&blk, 0), 0);
	assert_int_equal(vblk_process(&blk, 8), 2);
	set_status(0);
	assert_int_equal(blk.inflight, 0);
	assert_int_equal(rd.count, 0);
	assert_int_equal(vblk_poll(&blk, 1000000), 0);
	assert_int_equal(used_idx(), 0);
	driver_setup();
	avail_idx = next_desc = used_seen = 0;
	simple_req(VIRTIO_BLK_T_OUT, 3, data, 512, &head);
	assert_int_equal(vblk_process(&blk, 8), 1);
	assert_int_equal(vblk_poll(&blk, 1000000 + SERVICE_NS - 1), 0);
	assert_int_equal(vblk_poll(&blk, 1000000 + SERVICE_NS), 1);
	take_used(head, 1);
}

/* Before DRIVER_OK there is no queue to serve. */
static void test_not_live(void **state)
{
	(void)state;
	set_status(0);
	assert_int_equal(vblk_process(&blk, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_config, setup_ramdisk),
		cmocka_unit_test_setup(test_write_read_back, setup_ramdisk),
		cmocka_unit_test_setup(test_budget, setup_ramdisk),
		cmocka_unit_test_setup(test_flush, setup_ramdisk),
		cmocka_unit_test_setup(test_get_id, setup_ramdisk),
		cmocka_unit_test_setup(test_past_end, setup_ramdisk),
		cmocka_unit_test_setup(test_bad_length_and_direction, setup_ramdisk),
		cmocka_unit_test_setup(test_unknown_type, setup_ramdisk),
		cmocka_unit_test_setup(test_header_too_short, setup_ramdisk),
		cmocka_unit_test_setup(test_header_writable, setup_ramdisk),
		cmocka_unit_test_setup(test_no_status, setup_ramdisk),
		cmocka_unit_test_setup(test_ring_violation, setup_ramdisk),
		cmocka_unit_test_setup(test_status_written_last, setup_fake),
		cmocka_unit_test_setup(test_inflight_limit, setup_fake),
		cmocka_unit_test_setup(test_refused_submit_retried, setup_fake),
		cmocka_unit_test_setup(test_not_live, setup_ramdisk),
		cmocka_unit_test_setup(test_service_time, setup_ramdisk_service),
		cmocka_unit_test_setup(test_service_reset, setup_ramdisk_service),
	};
	int r;

	ram = aligned_alloc(4096, RAM_SIZE);
	disk = aligned_alloc(4096, DISK_SIZE);
	gmem = (struct gmem){.base = ram, .size = RAM_SIZE};
	rd = (struct ramdisk){.data = disk, .bytes = DISK_SIZE};
	r = cmocka_run_group_tests(tests, NULL, NULL);
	free(ram);
	free(disk);
	return r;
}
