/* vio-bad case=NAME: one malformed virtio-blk request, to see that the
 * device refuses it the way virtio 1.1 §2.1.2 allows (NEEDS_RESET) and that
 * a reset brings it back (§2.1.2: the driver resets and reinitializes).
 * The device is set up correctly first (INDIRECT_DESC negotiated only for
 * the cases about indirect tables, §2.6.5.3), then the case writes its
 * descriptors straight into the table, publishes them and kicks whether or
 * not the device asked. HR_VIO_NEEDS_RESET says whether the status showed
 * NEEDS_RESET within `wait_ms=` (200); HR_VIO_RECOVERED whether a write and
 * a read-back of one page worked after the reset. */
#include "guest-shim/virtio.h"

#define BAD_WAIT_MS	2000
#define BAD_HUGE_LEN	(64u << 20)
#define BAD_WILD_ADDR	0xfffffffffffff000ull
#define BAD_WILD_LEN	0x2000
#define BAD_SHORT_HDR	8
#define BAD_ODD_TABLE	17
#define BAD_TABLE_OFF	256 /* indirect tables beside header and status */
#define BAD_TABLE2_OFF	512
#define BAD_STATUS_OFF	16
#define BAD_TABLE_BYTES (3 * VIRTQ_DESC_SIZE)
#define BAD_SEED	0xbadc0ffeeull

/* descriptor flags, short: device-readable, -writable, chained, indirect */
#define RD   0
#define WR   VIRTQ_DESC_F_WRITE
#define NEXT VIRTQ_DESC_F_NEXT
#define IND  VIRTQ_DESC_F_INDIRECT

struct bad {
	struct vq *q;
	uint64_t ram, hdr, status, data, table, table2;
};

struct bad_case {
	const char *name;
	void (*build)(struct bad *b);
	bool indirect; /* negotiate INDIRECT_DESC */
	unsigned opts;
};

static void set(volatile struct virtq_desc *t, uint16_t i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next)
{
	t[i].addr = addr;
	t[i].len = len;
	t[i].flags = flags;
	t[i].next = next;
}

static volatile struct virtq_desc *table_at(uint64_t addr)
{
	return (volatile struct virtq_desc *)(uintptr_t)addr;
}

/* A write request, header - data - status, at descriptors 0, 1, 2 of `t`,
 * the data buffer as given. */
static void chain(const struct bad *b, volatile struct virtq_desc *t, uint64_t data, uint32_t len)
{
	set(t, 0, b->hdr, VIRTIO_BLK_HDR_SIZE, RD | NEXT, 1);
	set(t, 1, data, len, RD | NEXT, 2);
	set(t, 2, b->status, 1, WR, 0);
}

static void good(struct bad *b)
{
	chain(b, b->q->desc, b->data, VIO_PAGE);
	vq_add_head(b->q, 0);
}

static void avail_jump(struct bad *b)
{
	good(b);
	b->q->next_avail = (uint16_t)(b->q->next_avail + b->q->size);
}

static void head_range(struct bad *b)
{
	chain(b, b->q->desc, b->data, VIO_PAGE);
	vq_add_head(b->q, b->q->size);
}

static void next_range(struct bad *b)
{
	good(b);
	b->q->desc[0].next = b->q->size;
}

static void loop(struct bad *b)
{
	good(b);
	b->q->desc[1].next = 0;
}

static void buf_outside_ram(struct bad *b)
{
	chain(b, b->q->desc, b->ram - 4, VIO_PAGE);
	vq_add_head(b->q, 0);
}

static void len_overflow(struct bad *b)
{
	chain(b, b->q->desc, BAD_WILD_ADDR, BAD_WILD_LEN);
	vq_add_head(b->q, 0);
}

static void zero_len(struct bad *b)
{
	chain(b, b->q->desc, b->data, 0);
	vq_add_head(b->q, 0);
}

static void huge_len(struct bad *b)
{
	chain(b, b->q->desc, b->data, BAD_HUGE_LEN);
	vq_add_head(b->q, 0);
}

static void write_before_read(struct bad *b)
{
	good(b);
	b->q->desc[0].flags = WR | NEXT;
}

/* A header of 8 bytes and nothing else readable: the device may gather a
 * header across descriptors (§2.6.4), so the data is made device-writable to
 * leave fewer than 16 readable bytes in the whole chain. */
static void hdr_short(struct bad *b)
{
	good(b);
	b->q->desc[0].len = BAD_SHORT_HDR;
	b->q->desc[1].flags = WR | NEXT;
}

static void no_status(struct bad *b)
{
	good(b);
	b->q->desc[1].flags = RD;
}

/* Descriptor 0 points at a table holding the whole request (§2.6.5.3). */
static void indirect(struct bad *b, uint32_t table_len)
{
	chain(b, table_at(b->table), b->data, VIO_PAGE);
	set(b->q->desc, 0, b->table, table_len, IND, 0);
	vq_add_head(b->q, 0);
}

static void indirect_no_feature(struct bad *b)
{
	indirect(b, BAD_TABLE_BYTES);
}

static void indirect_len(struct bad *b)
{
	indirect(b, BAD_ODD_TABLE);
}

/* §2.6.5.3.1: a table may not hold an indirect descriptor. */
static void nested_indirect(struct bad *b)
{
	indirect(b, BAD_TABLE_BYTES);
	set(table_at(b->table2), 0, b->data, VIO_PAGE, RD, 0);
	set(table_at(b->table), 1, b->table2, VIRTQ_DESC_SIZE, IND | NEXT, 2);
}

static const struct bad_case cases[] = {
	{"ring-outside-ram", good, false, VIO_OPT_BAD_RING},
	{"avail-jump", avail_jump, false, 0},
	{"head-range", head_range, false, 0},
	{"next-range", next_range, false, 0},
	{"loop", loop, false, 0},
	{"buf-outside-ram", buf_outside_ram, false, 0},
	{"len-overflow", len_overflow, false, 0},
	{"zero-len", zero_len, false, 0},
	{"huge-len", huge_len, false, 0},
	{"write-before-read", write_before_read, false, 0},
	{"nested-indirect", nested_indirect, true, 0},
	{"indirect-no-feature", indirect_no_feature, false, 0},
	{"indirect-len", indirect_len, true, 0},
	{"hdr-short", hdr_short, false, 0},
	{"no-status", no_status, false, 0},
};

static const struct bad_case *find_case(const char *cmdline)
{
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (shim_arg_is(cmdline, "case", cases[i].name))
			return &cases[i];
	return 0;
}

/* The header asks for a write of sector 0; the data page holds a pattern. */
static void bad_buffers(struct bad *b, uint64_t ram_bytes)
{
	uint8_t *meta = vio_alloc(VIO_PAGE, VIO_PAGE);
	volatile struct blk_hdr *hdr = (volatile struct blk_hdr *)meta;

	b->ram = ram_bytes;
	b->hdr = (uintptr_t)meta;
	b->status = b->hdr + BAD_STATUS_OFF;
	b->table = b->hdr + BAD_TABLE_OFF;
	b->table2 = b->hdr + BAD_TABLE2_OFF;
	b->data = (uintptr_t)vio_alloc(VIO_PAGE, VIO_PAGE);
	hdr->type = VIRTIO_BLK_T_OUT;
	hdr->sector = 0;
}

/* Publishes what the case placed in the ring (§2.6.13.6) and kicks. */
static void submit(struct vq *q)
{
	vq_publish(q);
	__asm__ volatile("mfence" ::: "memory");
	vq_notify(q);
}

/* The time is read before the status: a vCPU descheduled past the deadline
 * (other VMs share its core) still looks at the status once more. */
static bool wait_needs_reset(const struct virtio_dev *d, uint64_t ms)
{
	uint64_t deadline = vio_rdtsc() + vio_ms_to_tsc(ms);

	for (;;) {
		bool late = vio_rdtsc() > deadline;

		if (virtio_status(d) & VIRTIO_STATUS_NEEDS_RESET)
			return true;
		if (late)
			return false;
		vio_pause();
	}
}

/* §2.1.2: reset, initialize again, then a page written and read back. */
static bool recover(struct virtio_dev *d, const char *cmdline)
{
	volatile uint64_t *out = vio_alloc(VIO_PAGE, VIO_PAGE), *in = vio_alloc(VIO_PAGE, VIO_PAGE);

	if (!virtio_reset(d) || !blk_start(d, cmdline, 0, 0))
		return false;
	for (unsigned i = 0; i < VIO_PAGE / 8; i++)
		out[i] = BAD_SEED ^ i;
	if (!blk_request_sync(&d->q[0], VIRTIO_BLK_T_OUT, 0, (void *)out, VIO_PAGE) ||
	    !blk_request_sync(&d->q[0], VIRTIO_BLK_T_IN, 0, (void *)in, VIO_PAGE))
		return false;
	for (unsigned i = 0; i < VIO_PAGE / 8; i++)
		if (in[i] != out[i])
			return false;
	return true;
}

void shim_run_vio_bad(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu)
{
	static struct virtio_dev dev;
	const struct bad_case *c = find_case(cmdline);
	struct bad b;
	bool reset;

	if (vcpu != 0) {
		if (vio_is_irq_vcpu(vcpu))
			vio_wait_for_done();
		return;
	}
	if (!c)
		vio_fatal("vio-bad: unknown case", ~0ull, VIO_EXIT_USAGE);
	vio_mem_init(ram_bytes);
	if (!blk_find(&dev, cmdline) ||
	    !blk_start(&dev, cmdline, c->indirect ? VIO_FEATURE(VIRTIO_F_INDIRECT_DESC) : 0,
		       c->opts))
		vio_fatal("vio-bad: the device did not start", ~0ull, VIO_EXIT_FAIL);
	if (c->indirect && !virtio_has(&dev, VIRTIO_F_INDIRECT_DESC))
		vio_fatal("vio-bad: the device does not offer INDIRECT_DESC", ~0ull, VIO_EXIT_FAIL);
	b.q = &dev.q[0];
	bad_buffers(&b, ram_bytes);
	c->build(&b);
	submit(b.q);
	reset = wait_needs_reset(&dev, shim_arg_uint(cmdline, "wait_ms", BAD_WAIT_MS));
	shim_report(HR_VIO_NEEDS_RESET, reset);
	shim_report(HR_VIO_RECOVERED, recover(&dev, cmdline));
	vio_workload_done();
}
