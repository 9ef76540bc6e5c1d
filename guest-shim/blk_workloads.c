/* virtio-blk workloads (virtio 1.1 §5.2), driven by vCPU 0:
 *   blk        writes a position-dependent pattern over the disk (or its
 *              first `mib=` MiB), FLUSHes, reads it all back and verifies
 *              every byte, then GET_ID; `req_kib=` (or `req_bytes=`) per
 *              request, `qd=` of them in flight; `past_end=1` then reads one
 *              sector just past the disk's end, which must fail alone
 *   blk-bench  random reads and writes (`write_pct=`) of `req_kib=` at `qd=`
 *              for `ms=` milliseconds or `n=` requests: IOPS and latency;
 *              `devs=D` drives D devices at once (the `dev=`-th and the
 *              ones after it), each with its own `n=` requests and its own
 *              queue depth from a list (`qd=1,4,8`: the i-th device takes
 *              the i-th, the last one when the list is shorter);
 *              `irq_wait=1` looks at the used rings again only after an
 *              interrupt, as an interrupt-driven driver does (spinning
 *              with interrupts on in between, so exitless delivery holds)
 *   blk-irq    `n=` reads one at a time, the vCPU spinning with interrupts
 *              on until each one's interrupt (exitless delivery): IOPS and
 *              latency as blk-bench
 * blk and blk-bench keep exactly qd requests in flight on each device: vCPU 0 polls the
 * used rings in turn and refills a slot as soon as its request is reaped,
 * without waiting for an interrupt (the irq vCPU counts those), unless
 * blk-bench's `irq_wait=1` has it wait for one whenever a look found nothing.
 * A request is a header (device-readable), the data (split in two
 * descriptors when it spans two sectors or more, unless SEG_MAX says no),
 * and the status byte (device-writable), §5.2.6. The phase between
 * HR_MARK 0 and 1 holds the requests only (blk: writes, FLUSH, reads), so
 * that the exits the hypervisor counts there divide by them; HR_BLK_KICKS
 * counts the notify writes in that phase. */
#include "guest-shim/virtio.h"

#define BLK_QD_MAX	  32
#define BLK_DEVS_MAX	  8 /* a VM's devices (MANIFEST_MAX_DEVICES) */
#define BLK_REQ_MAX	  (128u << 10)
#define BLK_DESCS_PER_REQ 4 /* header, two data buffers, status */
#define BLK_STATUS_POISON 0xff
#define BLK_DEFAULT_SEED  0x5eed5eed5eedull
#define BLK_SAMPLES	  4096
#define BLK_BENCH_MS	  1000
#define BLK_SLOT_META	  64 /* header and status of one slot */
#define BLK_STATUS_OFF	  16
#define BLK_ID_LOG	  64
#define BLK_LOG_ERRORS	  8 /* messages beyond these would flood the console */

/* One request slot: its header and status in guest RAM, its data buffer,
 * and what it carries now. The cookie of its chain is its index. */
struct blk_slot {
	volatile struct blk_hdr *hdr;
	volatile uint8_t *status;
	volatile uint64_t *data;
	uint32_t type, bytes;
	uint64_t offset, submitted;
};

struct blk_ctx {
	struct virtio_dev dev;
	struct vq *q;
	uint64_t disk_bytes; /* what the workload covers */
	uint32_t req_bytes;
	unsigned qd, nfree;
	bool split;
	uint64_t seed;
	struct blk_slot slot[BLK_QD_MAX];
	uint16_t free_slot[BLK_QD_MAX];
	uint64_t requests, bytes, errors;
};

/* A phase: `next` fills the next request into a slot (false: no more),
 * `done` takes a completed one with the bytes the device wrote. */
struct blk_job {
	bool (*next)(struct blk_ctx *b, struct blk_job *j, struct blk_slot *s);
	void (*done)(struct blk_ctx *b, struct blk_job *j, struct blk_slot *s, uint32_t len);
	uint32_t type;
	uint64_t pos, count, limit, deadline, rng, write_pct;
	struct vio_samples *lat; /* shared by the devices of one run */
};

static struct blk_ctx ctx[BLK_DEVS_MAX];
static uint64_t samples[BLK_SAMPLES];

/* ---- the device ---- */

/* The `nth` virtio-blk function (from 0). */
static bool blk_open(struct virtio_dev *d, unsigned nth)
{
	int slot = pci_find_virtio(VIRTIO_ID_BLOCK, nth);

	if (slot < 0) {
		vio_log("blk: no virtio-blk device", ~0ull);
		return false;
	}
	return virtio_open(d, (unsigned)slot, VIRTIO_ID_BLOCK);
}

bool blk_find(struct virtio_dev *d, const char *cmdline)
{
	return blk_open(d, (unsigned)shim_arg_uint(cmdline, "dev", 0));
}

bool blk_start(struct virtio_dev *d, const char *cmdline, uint64_t extra, unsigned opts)
{
	uint64_t want = VIO_FEATURE(VIRTIO_BLK_F_FLUSH) | VIO_FEATURE(VIRTIO_BLK_F_SEG_MAX) |
			VIO_FEATURE(VIRTIO_BLK_F_BLK_SIZE) | extra;

	if (!virtio_start(d, want, shim_arg_uint(cmdline, "event_idx", 1) != 0, 1,
			  (unsigned)shim_arg_uint(cmdline, "qsize", 128), opts))
		return false;
	virtio_driver_ok(d);
	return true;
}

static uint64_t blk_capacity_bytes(const struct virtio_dev *d)
{
	return virtio_cfg64(d, VIRTIO_BLK_CFG_CAPACITY) * VIRTIO_BLK_SECTOR;
}

/* §5.2.6: header, data (split in two at a sector boundary when allowed),
 * status; writes give the device the data, reads let it write there. */
static void blk_add(struct vq *q, const struct blk_slot *s, bool split, uint64_t cookie)
{
	struct vio_buf b[BLK_DESCS_PER_REQ];
	uint32_t first = split && s->bytes >= 2 * VIRTIO_BLK_SECTOR
				 ? s->bytes / VIRTIO_BLK_SECTOR / 2 * VIRTIO_BLK_SECTOR
				 : s->bytes;
	unsigned n = 0, ndata;

	b[n++] = (struct vio_buf){(uintptr_t)s->hdr, VIRTIO_BLK_HDR_SIZE};
	if (s->bytes)
		b[n++] = (struct vio_buf){(uintptr_t)s->data, first};
	if (s->bytes > first)
		b[n++] = (struct vio_buf){(uintptr_t)s->data + first, s->bytes - first};
	ndata = n - 1;
	b[n++] = (struct vio_buf){(uintptr_t)s->status, 1};
	if (!vq_add(q, b, s->type == VIRTIO_BLK_T_OUT ? 1 + ndata : 1,
		    s->type == VIRTIO_BLK_T_OUT ? 1 : ndata + 1, cookie))
		vio_fatal("blk: the request queue is full", q->index, VIO_EXIT_FAIL);
}

static void slot_prepare(struct blk_slot *s, uint32_t type, uint64_t offset, uint32_t bytes)
{
	s->type = type;
	s->offset = offset;
	s->bytes = bytes;
	s->hdr->type = type;
	s->hdr->reserved = 0;
	s->hdr->sector = offset / VIRTIO_BLK_SECTOR;
	*s->status = BLK_STATUS_POISON;
}

/* For a read, the device writes the data and the status byte (§2.6.8:
 * used len is what it wrote); for the others the status byte at least
 * (GET_ID's serial may be shorter than its buffer). */
static bool slot_ok(const struct blk_slot *s, uint32_t len)
{
	if (*s->status != VIRTIO_BLK_S_OK)
		return false;
	return s->type == VIRTIO_BLK_T_IN ? len == s->bytes + 1 : len >= 1;
}

bool blk_request_sync(struct vq *q, uint32_t type, uint64_t sector, void *buf, uint32_t bytes)
{
	static struct blk_slot s;
	uint64_t cookie;
	uint32_t len;

	if (!s.hdr) {
		uint8_t *meta = vio_alloc(BLK_SLOT_META, BLK_SLOT_META);

		s.hdr = (volatile struct blk_hdr *)meta;
		s.status = meta + BLK_STATUS_OFF;
	}
	s.data = buf;
	slot_prepare(&s, type, sector * VIRTIO_BLK_SECTOR, bytes);
	blk_add(q, &s, true, 0);
	vq_kick(q);
	vq_wait_used(q, &cookie, &len);
	return slot_ok(&s, len);
}

/* ---- the request pump ---- */

static void ctx_slots(struct blk_ctx *b)
{
	for (unsigned i = 0; i < b->qd; i++) {
		uint8_t *meta = vio_alloc(BLK_SLOT_META, BLK_SLOT_META);

		b->slot[i].hdr = (volatile struct blk_hdr *)meta;
		b->slot[i].status = meta + BLK_STATUS_OFF;
		b->slot[i].data = vio_alloc(b->req_bytes, VIO_PAGE);
		b->free_slot[i] = (uint16_t)i;
	}
	b->nfree = b->qd;
}

static void reap(struct blk_ctx *b, struct blk_job *j, uint64_t cookie, uint32_t len)
{
	if (cookie >= b->qd)
		vio_fatal("blk: a completion for no slot:", cookie, VIO_EXIT_FAIL);
	j->done(b, j, &b->slot[cookie], len);
	b->free_slot[b->nfree++] = (uint16_t)cookie;
}

/* One device's turn: reap whatever completed, fill every free slot, one
 * kick for the batch. Whether the device still has work: more requests to
 * make or some in flight. */
static bool pump_turn(struct blk_ctx *b, struct blk_job *j, bool *more, bool *progress)
{
	uint64_t cookie;
	uint32_t len;

	while (vq_get_used(b->q, &cookie, &len)) {
		reap(b, j, cookie, len);
		*progress = true;
	}
	while (*more && b->nfree) {
		uint16_t i = b->free_slot[b->nfree - 1];

		*more = j->next(b, j, &b->slot[i]);
		if (!*more)
			break;
		b->nfree--;
		b->slot[i].submitted = vio_rdtsc();
		blk_add(b->q, &b->slot[i], b->split, i);
	}
	vq_kick(b->q);
	return *more || b->nfree < b->qd;
}

/* With `irq_wait`: after a look that found nothing, until an interrupt has
 * come since `seen` (read before that look, so a completion the look missed
 * has its interrupt still to come) or `deadline`. Interrupts stay on. */
static void wait_irq_since(uint64_t seen, uint64_t deadline)
{
	while (vio_irq_total() == seen && vio_rdtsc() <= deadline)
		vio_pause();
}

/* Keeps qd requests in flight on each of the `n` devices (job j[i] for
 * device b[i]): their used rings are polled in turn, and a slot is refilled
 * on the turn its request is reaped; with `irq_wait` a turn that found
 * nothing waits for an interrupt before the next one. No completion for
 * VIO_TIMEOUT_MS while requests are in flight ends the VM. */
static void blk_pump(struct blk_ctx *const *b, struct blk_job *j, unsigned n, bool irq_wait)
{
	uint64_t deadline = vio_rdtsc() + vio_ms_to_tsc(VIO_TIMEOUT_MS);
	bool more[BLK_DEVS_MAX];
	unsigned busy = n;

	for (unsigned i = 0; i < n; i++)
		more[i] = true;
	while (busy) {
		bool late = vio_rdtsc() > deadline, progress = false; /* late: before the look */
		uint64_t seen = vio_irq_total();

		busy = 0;
		for (unsigned i = 0; i < n; i++)
			busy += pump_turn(b[i], &j[i], &more[i], &progress);
		if (progress)
			deadline = vio_rdtsc() + vio_ms_to_tsc(VIO_TIMEOUT_MS);
		else if (late && busy)
			vio_fatal("virtio: timed out waiting for queue", 0, VIO_EXIT_FAIL);
		else if (irq_wait && busy)
			wait_irq_since(seen, deadline);
		else
			vio_pause();
	}
}

/* ---- blk: pattern, flush, verify ---- */

static uint64_t pattern(const struct blk_ctx *b, uint64_t offset)
{
	return offset ^ b->seed;
}

static bool next_sequential(struct blk_ctx *b, struct blk_job *j, struct blk_slot *s)
{
	uint64_t left = b->disk_bytes - j->pos;
	uint32_t bytes = left < b->req_bytes ? (uint32_t)left : b->req_bytes;

	if (!left)
		return false;
	slot_prepare(s, j->type, j->pos, bytes);
	for (uint32_t i = 0; i < bytes / 8; i++) /* a read's poison: never the pattern */
		s->data[i] = j->type == VIRTIO_BLK_T_OUT ? pattern(b, j->pos + 8 * i)
							 : ~pattern(b, j->pos + 8 * i);
	j->pos += bytes;
	return true;
}

static bool verify(const struct blk_ctx *b, const struct blk_slot *s, bool quiet)
{
	for (uint32_t i = 0; i < s->bytes / 8; i++)
		if (s->data[i] != pattern(b, s->offset + 8 * i)) {
			if (!quiet)
				vio_log("blk: data mismatch at byte", s->offset + 8 * i);
			return false;
		}
	return true;
}

static void done_sequential(struct blk_ctx *b, struct blk_job *j, struct blk_slot *s, uint32_t len)
{
	bool ok = slot_ok(s, len), quiet = b->errors >= BLK_LOG_ERRORS;

	(void)j;
	if (!ok && !quiet)
		vio_log("blk: request failed, status", *s->status);
	if (ok && s->type == VIRTIO_BLK_T_IN)
		ok = verify(b, s, quiet);
	b->errors += !ok;
	b->requests++;
	b->bytes += s->bytes;
}

static void blk_pass(struct blk_ctx *b, uint32_t type)
{
	struct blk_job j = {.next = next_sequential, .done = done_sequential, .type = type};

	blk_pump(&b, &j, 1, false);
}

/* §5.2.6.2: FLUSH has no data; counted with the requests of the phase. */
static void blk_flush(struct blk_ctx *b)
{
	if (!virtio_has(&b->dev, VIRTIO_BLK_F_FLUSH))
		return;
	if (!blk_request_sync(b->q, VIRTIO_BLK_T_FLUSH, 0, 0, 0)) {
		vio_log("blk: FLUSH failed", ~0ull);
		b->errors++;
	}
	b->requests++;
}

/* §5.2.6: GET_ID writes up to 20 bytes of serial, NUL-padded. */
static void blk_get_id(struct blk_ctx *b)
{
	char *id = (char *)b->slot[0].data, line[BLK_ID_LOG] = "blk: serial ";
	unsigned n = 12;

	for (unsigned i = 0; i <= VIRTIO_BLK_ID_BYTES; i++)
		id[i] = 0;
	if (!blk_request_sync(b->q, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES) || !id[0]) {
		vio_log("blk: GET_ID failed or the serial is empty", ~0ull);
		b->errors++;
		return;
	}
	for (unsigned i = 0; i < VIRTIO_BLK_ID_BYTES && id[i]; i++)
		line[n++] = id[i];
	line[n] = '\0';
	vio_log(line, ~0ull);
}

/* One read of the sector just past the end: the device must refuse it
 * (IOERR) and go on serving; reported as 1 when it did. */
static void blk_past_end(struct blk_ctx *b)
{
	uint64_t sectors = blk_capacity_bytes(&b->dev) / VIRTIO_BLK_SECTOR;
	bool failed = !blk_request_sync(b->q, VIRTIO_BLK_T_IN, sectors, (void *)b->slot[0].data,
					VIRTIO_BLK_SECTOR);

	if (!failed)
		vio_log("blk: a read past the disk's end succeeded at sector", sectors);
	shim_report(HR_BLK_PAST_END, failed);
}

static uint32_t request_bytes(const char *cmdline, uint64_t def_kib)
{
	uint64_t bytes = shim_arg_uint(cmdline, "req_bytes",
				       shim_arg_uint(cmdline, "req_kib", def_kib) << 10);

	bytes = bytes / VIRTIO_BLK_SECTOR * VIRTIO_BLK_SECTOR;
	if (bytes < VIRTIO_BLK_SECTOR)
		return VIRTIO_BLK_SECTOR;
	return bytes > BLK_REQ_MAX ? BLK_REQ_MAX : (uint32_t)bytes;
}

/* Opens and starts the `index`-th device of the run (from the `dev=`-th
 * on), sizes the work and the slots; after vio_mem_init. */
static struct blk_ctx *blk_setup(const char *cmdline, unsigned index, uint64_t def_kib)
{
	struct blk_ctx *b = &ctx[index];
	uint64_t qd = shim_arg_list_uint(cmdline, "qd", index, 4);
	uint64_t mib = shim_arg_uint(cmdline, "mib", 0);

	if (!blk_open(&b->dev, (unsigned)shim_arg_uint(cmdline, "dev", 0) + index) ||
	    !blk_start(&b->dev, cmdline, 0, 0))
		vio_fatal("blk: the device did not start", ~0ull, VIO_EXIT_FAIL);
	b->q = &b->dev.q[0];
	b->disk_bytes = blk_capacity_bytes(&b->dev);
	if (mib && mib << 20 < b->disk_bytes)
		b->disk_bytes = mib << 20;
	if (b->disk_bytes < VIRTIO_BLK_SECTOR)
		vio_fatal("blk: the disk is empty", ~0ull, VIO_EXIT_FAIL);
	b->req_bytes = request_bytes(cmdline, def_kib);
	b->qd = qd < 1 ? 1 : qd > BLK_QD_MAX ? BLK_QD_MAX : (unsigned)qd;
	if (b->qd > b->q->size / BLK_DESCS_PER_REQ)
		b->qd = b->q->size / BLK_DESCS_PER_REQ ? b->q->size / BLK_DESCS_PER_REQ : 1;
	/* §5.2.5: with SEG_MAX the device takes at most seg_max data buffers. */
	b->split = !virtio_has(&b->dev, VIRTIO_BLK_F_SEG_MAX) ||
		   virtio_cfg32(&b->dev, VIRTIO_BLK_CFG_SEG_MAX) >= 2;
	b->seed = shim_arg_uint(cmdline, "seed", BLK_DEFAULT_SEED);
	b->requests = b->bytes = b->errors = 0;
	ctx_slots(b);
	return b;
}

/* The irq vCPU's count, reported by whichever vCPU that is. */
static void blk_finish(uint32_t vcpu)
{
	if (vcpu == 0)
		vio_workload_done();
	if (vio_is_irq_vcpu(vcpu))
		shim_report(HR_BLK_IRQS, vio_irq_total());
}

/* Only vCPU 0 drives; the irq vCPU counts interrupts until it is done. */
static bool blk_bystander(uint32_t vcpu)
{
	if (vcpu == 0)
		return false;
	if (vio_is_irq_vcpu(vcpu)) {
		vio_wait_for_done();
		blk_finish(vcpu);
	}
	return true;
}

void shim_run_blk(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu)
{
	struct blk_ctx *b;
	uint64_t kicks;

	if (blk_bystander(vcpu))
		return;
	vio_mem_init(ram_bytes);
	b = blk_setup(cmdline, 0, 64);
	vio_irqs_on(true);
	kicks = b->q->kicks;
	shim_report(HR_MARK, 0);
	blk_pass(b, VIRTIO_BLK_T_OUT);
	blk_flush(b);
	blk_pass(b, VIRTIO_BLK_T_IN);
	shim_report(HR_MARK, 1);
	kicks = b->q->kicks - kicks;
	if (shim_arg_uint(cmdline, "past_end", 0))
		blk_past_end(b);
	blk_get_id(b);
	vio_irqs_on(false);
	shim_report(HR_BLK_REQUESTS, b->requests);
	shim_report(HR_BLK_BYTES, b->bytes);
	shim_report(HR_BLK_ERRORS, b->errors);
	shim_report(HR_BLK_KICKS, kicks);
	blk_finish(vcpu);
}

/* ---- blk-bench: random I/O ---- */

static bool next_random(struct blk_ctx *b, struct blk_job *j, struct blk_slot *s)
{
	uint64_t blocks = b->disk_bytes / b->req_bytes;
	bool write = vio_xorshift(&j->rng) % 100 < j->write_pct;

	if (j->limit ? j->count >= j->limit : vio_rdtsc() >= j->deadline)
		return false;
	j->count++;
	slot_prepare(s, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
		     vio_xorshift(&j->rng) % blocks * b->req_bytes, b->req_bytes);
	return true;
}

static void done_random(struct blk_ctx *b, struct blk_job *j, struct blk_slot *s, uint32_t len)
{
	vio_sample(j->lat, vio_rdtsc() - s->submitted);
	b->errors += !slot_ok(s, len);
	b->requests++;
	b->bytes += s->bytes;
}

/* The run's totals over its devices; latency over all their requests. */
static void bench_report(struct blk_ctx *const *b, unsigned n, struct vio_samples *lat,
			 uint64_t elapsed)
{
	uint64_t count = vio_samples_sort(lat), requests = 0, errors = 0;

	for (unsigned i = 0; i < n; i++) {
		requests += b[i]->requests;
		errors += b[i]->errors;
	}
	shim_report(HR_BLK_REQUESTS, requests);
	shim_report(HR_BLK_IOPS, elapsed ? requests * shim_timer_khz() * 1000 / elapsed : 0);
	shim_report(HR_BLK_P50_NS, vio_tsc_to_ns(vio_percentile(lat->v, count, 50)));
	shim_report(HR_BLK_P99_NS, vio_tsc_to_ns(vio_percentile(lat->v, count, 99)));
	shim_report(HR_BLK_ERRORS, errors);
}

static uint64_t total_kicks(struct blk_ctx *const *b, unsigned n)
{
	uint64_t kicks = 0;

	for (unsigned i = 0; i < n; i++)
		kicks += b[i]->q->kicks;
	return kicks;
}

void shim_run_blk_bench(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu)
{
	static struct blk_job j[BLK_DEVS_MAX];
	struct blk_ctx *b[BLK_DEVS_MAX];
	uint64_t ndev = shim_arg_uint(cmdline, "devs", 1), kicks, start, ms;
	uint64_t seed = shim_arg_uint(cmdline, "seed", BLK_DEFAULT_SEED);
	struct vio_samples lat = {samples, BLK_SAMPLES, 0, seed};
	unsigned n = ndev < 1 ? 1 : ndev > BLK_DEVS_MAX ? BLK_DEVS_MAX : (unsigned)ndev;

	if (blk_bystander(vcpu))
		return;
	vio_mem_init(ram_bytes);
	for (unsigned i = 0; i < n; i++) {
		b[i] = blk_setup(cmdline, i, 4);
		if (b[i]->disk_bytes < b[i]->req_bytes)
			vio_fatal("blk-bench: the disk is smaller than a request", i,
				  VIO_EXIT_FAIL);
		/* each device its own random sequence; the first one's is `seed`'s */
		j[i] = (struct blk_job){.next = next_random,
					.done = done_random,
					.rng = seed + i * BLK_DEFAULT_SEED,
					.write_pct = shim_arg_uint(cmdline, "write_pct", 30),
					.limit = shim_arg_uint(cmdline, "n", 0),
					.lat = &lat};
	}
	vio_irqs_on(true);
	kicks = total_kicks(b, n);
	shim_report(HR_MARK, 0);
	start = vio_rdtsc();
	ms = shim_arg_uint(cmdline, "ms", BLK_BENCH_MS);
	for (unsigned i = 0; i < n; i++)
		j[i].deadline = start + vio_ms_to_tsc(ms);
	blk_pump(b, j, n, shim_arg_uint(cmdline, "irq_wait", 0) != 0);
	start = vio_rdtsc() - start;
	shim_report(HR_MARK, 1);
	vio_irqs_on(false);
	bench_report(b, n, &lat, start);
	shim_report(HR_BLK_KICKS, total_kicks(b, n) - kicks);
	blk_finish(vcpu);
}

/* ---- blk-irq: one request at a time, each one's interrupt awaited ---- */

/* Spins, interrupts on, until the irq count passes `seen`: the vCPU stays in
 * guest mode between completions (exitless delivery's test). */
static void wait_irq_spinning(uint64_t seen)
{
	uint64_t deadline = vio_rdtsc() + vio_ms_to_tsc(VIO_TIMEOUT_MS);

	while (vio_irq_total() == seen)
		if (vio_rdtsc() > deadline)
			vio_fatal("blk-irq: no interrupt for a completion; seen", seen,
				  VIO_EXIT_FAIL);
		else
			vio_pause();
}

/* Before request `i`: `reload_idt_at=K` moves the IDT to another page with
 * LIDT (HR_MARK 2), `rewrite_idt_at=K` writes every gate of it again with
 * the same contents (HR_MARK 3). */
static void idt_changes(const char *cmdline, uint64_t i)
{
	if (i && i == shim_arg_uint(cmdline, "reload_idt_at", 0)) {
		shim_reload_idt();
		shim_report(HR_MARK, 2);
	}
	if (i && i == shim_arg_uint(cmdline, "rewrite_idt_at", 0)) {
		shim_rewrite_idt();
		shim_report(HR_MARK, 3);
	}
}

/* `n=` 4 KiB reads by vCPU 0, each waited for by its interrupt. The irq
 * vCPU (vCPU 0 itself, or the turbo vCPU) spins with interrupts on, so it
 * is in guest mode when they come. */
void shim_run_blk_irq(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu)
{
	struct blk_job j = {.next = next_random, .done = done_random, .write_pct = 0};
	uint64_t n = shim_arg_uint(cmdline, "n", 1000);
	struct vio_samples lat = {samples, BLK_SAMPLES, 0, 0};
	struct blk_ctx *b;
	uint64_t start;

	if (vcpu != 0) {
		if (vio_is_irq_vcpu(vcpu))
			vio_spin_until_done();
		return;
	}
	vio_mem_init(ram_bytes);
	b = blk_setup(cmdline, 0, 4);
	j.rng = shim_arg_uint(cmdline, "seed", BLK_DEFAULT_SEED);
	j.lat = &lat;
	j.limit = n;
	vio_irqs_on(true);
	shim_report(HR_MARK, 0);
	start = vio_rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t seen = vio_irq_total(), cookie;
		uint32_t len;

		idt_changes(cmdline, i);
		if (!j.next(b, &j, &b->slot[0]))
			break;
		b->nfree--; /* slot 0 is in flight; reap frees it */
		b->slot[0].submitted = vio_rdtsc();
		blk_add(b->q, &b->slot[0], b->split, 0);
		vq_kick(b->q);
		wait_irq_spinning(seen);
		if (!vq_get_used(b->q, &cookie, &len))
			vio_fatal("blk-irq: an interrupt without a completion at", i,
				  VIO_EXIT_FAIL);
		reap(b, &j, cookie, len);
	}
	start = vio_rdtsc() - start;
	shim_report(HR_MARK, 1);
	vio_irqs_on(false);
	bench_report(&b, 1, &lat, start);
	shim_report(HR_BLK_IRQS, vio_irq_total());
	vio_workload_done();
}
