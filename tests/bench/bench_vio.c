/* Throughput of one I/O core (ELVIS, paper 001: one I/O thread polling the
 * virtqueues of many guests) serving virtio-blk requests on the host.
 *
 * For each number of queues N: N virtio-blk devices (vio/blk.c), each with its
 * own guest RAM, set up through their registers as a driver would, served by
 * a null backend that completes every request at once without copying. One
 * "guest" thread keeps every available ring full and recycles what the device
 * used; one I/O-core thread runs an ioloop (vio/ioloop.c) over all devices,
 * each visit being vblk_process plus virtio_pci_queue_interrupt, for about a
 * second. Reported: requests per second served by the I/O thread and the
 * longest a queue with work waited for a visit (ns, measured by the ioloop).
 * Then the same work on one thread, the driver's refill and the I/O core's
 * pass in turn, only the passes timed: requests per second of I/O-core
 * work, a figure that needs no second idle host core (the two-thread one
 * falls when the host's other load leaves the two threads one core).
 * Prints one JSON document on stdout. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vio/blk.h"
#include "vio/ioloop.h"

#define MAX_QUEUES 64
#define QSIZE	   VQ_MAX_SIZE
#define CHAIN_LEN  3 /* header, data, status */
#define NCHAINS	   (QSIZE / CHAIN_LEN)
#define RAM_SIZE   (64u << 10)
#define DESC_GPA   0x0000
#define AVAIL_GPA  0x1000
#define USED_GPA   0x2000
#define HDR_GPA	   0x4000 /* 16 bytes per chain */
#define STATUS_GPA 0x5000 /* 1 byte per chain */
#define DATA_GPA   0x8000 /* one 4 KiB buffer shared by every request: never touched */
#define DATA_BYTES 4096
#define BUDGET	   32
#define RUN_NS	   1000000000ull
#define REPS	   3

/* One guest: its RAM, its device, and the driver's ring state. */
struct guest {
	uint8_t *ram;
	struct gmem gmem;
	struct vblk blk;
	struct ioloop_queue lq;
	/* The producer's alone, on a line of their own (no false sharing
	 * with the I/O core's statistics above). */
	_Alignas(64) uint16_t avail_idx, used_seen;
};

static struct guest guests[MAX_QUEUES];
static unsigned nguests;
static atomic_bool stop;
static struct ioloop loop;

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* The null backend: the request is done as soon as it is seen. */
static int null_submit(void *backend, struct vblk *b, const struct blk_io *io)
{
	(void)backend;
	vblk_complete(b, io->slot, VIRTIO_BLK_S_OK);
	return 0;
}

static const struct blk_backend_ops null_ops = {.submit = null_submit};

static void bar_write(struct guest *g, uint32_t off, unsigned size, uint32_t v)
{
	uint16_t kick;

	virtio_pci_bar_write(&g->blk.vp, VIO_BAR0_COMMON + off, size, v, &kick);
}

/* virtio 1.1 §3.1.1: the driver's initialization sequence, one queue. */
static void driver_setup(struct guest *g)
{
	const uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	bar_write(g, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	bar_write(g, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	bar_write(g, VIRTIO_PCI_COMMON_STATUS, 1, s);
	bar_write(g, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	bar_write(g, VIRTIO_PCI_COMMON_GF, 4, 1u << VIRTIO_BLK_F_FLUSH);
	bar_write(g, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	bar_write(g, VIRTIO_PCI_COMMON_GF, 4, 1u << (VIRTIO_F_VERSION_1 - 32));
	bar_write(g, VIRTIO_PCI_COMMON_STATUS, 1, s | VIRTIO_STATUS_FEATURES_OK);
	bar_write(g, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	bar_write(g, VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE);
	bar_write(g, VIRTIO_PCI_COMMON_Q_DESCLO, 4, DESC_GPA);
	bar_write(g, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, AVAIL_GPA);
	bar_write(g, VIRTIO_PCI_COMMON_Q_USEDLO, 4, USED_GPA);
	bar_write(g, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	bar_write(g, VIRTIO_PCI_COMMON_STATUS, 1,
		  s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	if (!virtio_pci_queue(&g->blk.vp, 0))
		abort();
}

static void put_desc(struct guest *g, uint16_t d, uint64_t gpa, uint32_t len, uint16_t flags)
{
	uint8_t *p = g->ram + DESC_GPA + (uint64_t)d * VIRTQ_DESC_SIZE;
	uint16_t next = (uint16_t)(d + 1);

	memcpy(p, &gpa, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

/* Fixed chains: chain k is descriptors 3k..3k+2, an IN of 8 sectors at
 * sector 8k; only their heads travel through the rings. */
static void build_chains(struct guest *g)
{
	for (uint16_t k = 0; k < NCHAINS; k++) {
		uint64_t hdr = HDR_GPA + 16ull * k, sector = 8ull * k;
		uint32_t type = VIRTIO_BLK_T_IN;
		uint16_t d = (uint16_t)(k * CHAIN_LEN);

		memcpy(g->ram + hdr, &type, 4);
		memcpy(g->ram + hdr + 8, &sector, 8);
		put_desc(g, d, hdr, VIRTIO_BLK_HDR_SIZE, VIRTQ_DESC_F_NEXT);
		put_desc(g, d + 1, DATA_GPA, DATA_BYTES, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
		put_desc(g, d + 2, STATUS_GPA + k, 1, VIRTQ_DESC_F_WRITE);
	}
}

static uint16_t *ring16(struct guest *g, uint64_t gpa)
{
	return (uint16_t *)(g->ram + gpa);
}

/* The driver's side: hands back every chain the device used, and at the
 * start every chain; one index store per batch (§2.7.13). */
static unsigned refill(struct guest *g, bool all)
{
	uint16_t used = __atomic_load_n(ring16(g, USED_GPA + 2), __ATOMIC_ACQUIRE);
	unsigned n = 0;

	for (uint16_t k = 0; all && k < NCHAINS; k++, n++)
		*ring16(g, AVAIL_GPA + VIRTQ_AVAIL_RING(g->avail_idx++ % QSIZE)) =
			(uint16_t)(k * CHAIN_LEN);
	for (; g->used_seen != used; g->used_seen++, n++) {
		uint32_t id;

		memcpy(&id, g->ram + USED_GPA + VIRTQ_USED_RING(g->used_seen % QSIZE), 4);
		*ring16(g, AVAIL_GPA + VIRTQ_AVAIL_RING(g->avail_idx++ % QSIZE)) = (uint16_t)id;
	}
	if (n)
		__atomic_store_n(ring16(g, AVAIL_GPA + 2), g->avail_idx, __ATOMIC_RELEASE);
	return n;
}

/* Both threads spin, but give the CPU away when they found nothing to do:
 * the host has two cores and other work, and two spinning threads that end
 * up on one core would otherwise wait for each other a scheduler tick at a
 * time. */
static void *producer(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned n = 0;

		for (unsigned i = 0; i < nguests; i++)
			n += refill(&guests[i], false);
		if (!n)
			sched_yield();
	}
	return NULL;
}

static int blk_work(void *q, unsigned budget)
{
	struct vblk *b = q;
	struct msi_msg msg;
	int n = vblk_process(b, budget);

	/* One interrupt decision per batch, not per request. */
	if (b->irq_due) {
		b->irq_due = false;
		virtio_pci_queue_interrupt(&b->vp, 0, &msg);
	}
	return n;
}

static bool blk_pending(void *q)
{
	struct vblk *b = q;
	struct virtqueue *vq = virtio_pci_queue(&b->vp, 0);

	return vq && vq_pending(vq, b->vp.gmem) > 0;
}

static void blk_set_notify(void *q, bool enable)
{
	struct vblk *b = q;
	struct virtqueue *vq = virtio_pci_queue(&b->vp, 0);

	if (vq)
		vq_set_notify(vq, b->vp.gmem, enable);
}

static const struct ioloop_queue_ops blk_queue_ops = {
	.work = blk_work,
	.pending = blk_pending,
	.set_notify = blk_set_notify,
};

struct io_result {
	uint64_t served, ns, cpu_ns, empty_passes;
};

/* The I/O core: passes over every queue until told to stop. */
static void *io_core(void *arg)
{
	struct io_result *r = arg;
	uint64_t t0 = wall_ns(), cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), served = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned n = ioloop_pass(&loop, wall_ns());

		served += n;
		if (!n) {
			r->empty_passes++;
			sched_yield();
		}
	}
	r->ns = wall_ns() - t0;
	r->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	r->served = served;
	return NULL;
}

static void setup(unsigned n)
{
	uint64_t now = wall_ns();

	nguests = n;
	/* The I/O core polls all the time: queues never fall back to kicks. */
	ioloop_init(&loop, BUDGET, UINT64_MAX / 2);
	for (unsigned i = 0; i < n; i++) {
		struct guest *g = &guests[i];

		memset(g->ram, 0, RAM_SIZE);
		g->avail_idx = g->used_seen = 0;
		vblk_init(&g->blk, &g->gmem, 1ull << 30, "bench", &null_ops, NULL);
		driver_setup(g);
		build_chains(g);
		refill(g, true);
		if (ioloop_add(&loop, &g->lq, &blk_queue_ops, &g->blk, now))
			abort();
	}
}

/* What one point measured. */
struct point {
	double rate;	 /* requests per second of wall time */
	double cpu_rate; /* per second of the I/O thread's CPU time: preemption left out */
	double pass_ns;	 /* mean length of a pass */
	uint64_t longest_wait;
	double work_rate; /* one thread: per second spent in ioloop passes */
};

/* One thread: refill every queue, one timed pass, again. */
static void run_one_thread(unsigned n, struct point *p)
{
	uint64_t end, work_ns = 0, served = 0;

	setup(n);
	end = wall_ns() + RUN_NS;
	while (wall_ns() < end) {
		uint64_t t0;

		for (unsigned i = 0; i < nguests; i++)
			refill(&guests[i], false);
		t0 = wall_ns();
		served += ioloop_pass(&loop, t0);
		work_ns += wall_ns() - t0;
	}
	p->work_rate = (double)served * 1e9 / (double)work_ns;
}

static void run_point(unsigned n, struct point *p)
{
	pthread_t prod, io;
	struct io_result r = {0};
	struct timespec run = {.tv_sec = (time_t)(RUN_NS / 1000000000ull)};

	setup(n);
	atomic_store(&stop, false);
	if (pthread_create(&io, NULL, io_core, &r) || pthread_create(&prod, NULL, producer, NULL))
		abort();
	nanosleep(&run, NULL);
	atomic_store(&stop, true);
	pthread_join(prod, NULL);
	pthread_join(io, NULL);
	p->rate = (double)r.served * 1e9 / (double)r.ns;
	p->cpu_rate = (double)r.served * 1e9 / (double)r.cpu_ns;
	p->pass_ns = (double)r.ns / (double)loop.passes;
	p->longest_wait = loop.longest_wait;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, REPS, sizeof(*v), cmp_double);
	return v[REPS / 2];
}

int main(void)
{
	static const unsigned sizes[] = {1, 2, 4, 8, 16, 32, 64};
	const unsigned nsizes = sizeof(sizes) / sizeof(sizes[0]);

	for (unsigned i = 0; i < MAX_QUEUES; i++) {
		guests[i].ram = aligned_alloc(4096, RAM_SIZE);
		if (!guests[i].ram)
			abort();
		guests[i].gmem = (struct gmem){.base = guests[i].ram, .size = RAM_SIZE};
	}
	printf("{\n  \"benchmark\": \"vio\",\n");
	printf("  \"setup\": {\"threads\": \"1 guest producer + 1 I/O core; one_thread: both in "
	       "turn, the I/O core's passes timed\", \"backend\": "
	       "\"null (completes at once, no copy)\", \"request\": \"virtio-blk IN, 3 "
	       "descriptors, 4 KiB\", \"queue_size\": %d, \"chains_per_queue\": %d, "
	       "\"budget\": %d, \"run_s\": %.1f, \"reps\": %d, \"statistic\": \"medians, "
	       "longest wait over all reps\"},\n",
	       QSIZE, NCHAINS, BUDGET, (double)RUN_NS / 1e9, REPS);
	printf("  \"io_core\": [\n");
	for (unsigned k = 0; k < nsizes; k++) {
		double rate[REPS], cpu_rate[REPS], pass[REPS], work_rate[REPS];
		uint64_t wait = 0;

		for (int r = 0; r < REPS; r++) {
			struct point p;

			run_point(sizes[k], &p);
			run_one_thread(sizes[k], &p);
			work_rate[r] = p.work_rate;
			rate[r] = p.rate;
			cpu_rate[r] = p.cpu_rate;
			pass[r] = p.pass_ns;
			wait = p.longest_wait > wait ? p.longest_wait : wait;
		}
		printf("    {\"queues\": %u, \"requests_per_s\": %.0f, \"requests_per_cpu_s\": "
		       "%.0f, \"mean_pass_ns\": %.0f, \"longest_wait_ns\": %llu, "
		       "\"one_thread_requests_per_s\": %.0f}%s\n",
		       sizes[k], median(rate), median(cpu_rate), median(pass),
		       (unsigned long long)wait, median(work_rate), k + 1 < nsizes ? "," : "");
	}
	printf("  ]\n}\n");
	for (unsigned i = 0; i < MAX_QUEUES; i++)
		free(guests[i].ram);
	return 0;
}
