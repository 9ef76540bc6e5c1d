/* Frames per second through the virtual switch (vio/switch.c) and
 * virtio-net (vio/net.c) on one I/O core, on the host.
 *
 * Two virtio-net devices, A and B, each with its own guest RAM, set up
 * through their registers as a driver would (MRG_RXBUF negotiated, as Linux
 * does), are the two ports of one switch; B sent one frame first, so the
 * switch knows where B's address is and A's frames are known unicast. One
 * "guest" thread plays both drivers: it keeps A's TX ring full of frames to
 * B (one descriptor each: the 12-byte header and the frame, 256 frames in
 * buffers of their own) and reposts B's RX buffers (256 chains of one
 * 1 536-byte buffer) as soon as the device used them. One I/O-core thread
 * does what kernel/vdev.c does for a polled net queue, without its locks:
 * vnet_process_tx(A) with a budget of 32, A's TX interrupt decision per
 * batch, and inside it the switch's delivery into B (the one copy of each
 * frame) with B's RX interrupt decision. For 64 B and 1 500 B frames (the
 * Ethernet frame, header included) for about a second each, three times:
 * frames per second served by the I/O thread (per wall second and per
 * second of its CPU time) and the bytes of frame data that makes. Checks
 * that B received every frame A completed. Prints one JSON document. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vio/net.h"

#define QSIZE	   VQ_MAX_SIZE
#define RAM_SIZE   (2u << 20)
#define QUEUE_GPA  0x3000  /* queue q: descriptors at q * QUEUE_GPA, avail +0x1000, used +0x2000 */
#define BUF_GPA	   0x10000 /* queue q's buffer k: + (q * QSIZE + k) * BUF_STRIDE */
#define BUF_STRIDE 2048
#define RX_BUF_LEN 1536
#define BUDGET	   32
#define TXQ_LEN	   64 /* the manifest's default tx_queue_len */
#define RUN_NS	   1000000000ull
#define REPS	   5
#define FEATURES                                                                                   \
	((1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_STATUS) | (1u << VIRTIO_NET_F_MRG_RXBUF))

struct ring {
	uint64_t desc, avail, used;
	/* The driver's alone, on a line of their own. */
	_Alignas(64) uint16_t avail_idx, used_seen;
};

/* One guest: its RAM, its device, its driver's view of both queues. */
struct guest {
	uint8_t *ram;
	struct gmem gmem;
	struct vnet n;
	struct vnet_tx_wait wait[TXQ_LEN];
	uint8_t mac[6];
	struct ring q[2];
};

static struct vswitch sw;
static struct guest A, B;
static atomic_bool stop;

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

static void bar_write(struct guest *g, uint32_t off, unsigned size, uint32_t v)
{
	uint16_t kick;

	virtio_pci_bar_write(&g->n.vp, VIO_BAR0_COMMON + off, size, v, &kick);
}

/* virtio 1.1 §3.1.1, both queues (§5.1.2: receiveq1 is 0, transmitq1 1). */
static void driver_setup(struct guest *g)
{
	const uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	bar_write(g, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	bar_write(g, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	bar_write(g, VIRTIO_PCI_COMMON_STATUS, 1, s);
	bar_write(g, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	bar_write(g, VIRTIO_PCI_COMMON_GF, 4, FEATURES);
	bar_write(g, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	bar_write(g, VIRTIO_PCI_COMMON_GF, 4, 1u << (VIRTIO_F_VERSION_1 - 32));
	bar_write(g, VIRTIO_PCI_COMMON_STATUS, 1, s | VIRTIO_STATUS_FEATURES_OK);
	for (uint16_t q = 0; q < 2; q++) {
		struct ring *r = &g->q[q];

		r->desc = (uint64_t)q * QUEUE_GPA;
		r->avail = r->desc + 0x1000;
		r->used = r->desc + 0x2000;
		r->avail_idx = r->used_seen = 0;
		bar_write(g, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
		bar_write(g, VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE);
		bar_write(g, VIRTIO_PCI_COMMON_Q_DESCLO, 4, (uint32_t)r->desc);
		bar_write(g, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint32_t)r->avail);
		bar_write(g, VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint32_t)r->used);
		bar_write(g, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	}
	bar_write(g, VIRTIO_PCI_COMMON_STATUS, 1,
		  s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	if (!virtio_pci_live(&g->n.vp))
		abort();
}

static uint16_t *ring16(struct guest *g, uint64_t gpa)
{
	return (uint16_t *)(g->ram + gpa);
}

static void publish(struct guest *g, unsigned q, uint16_t head)
{
	struct ring *r = &g->q[q];

	*ring16(g, r->avail + VIRTQ_AVAIL_RING(r->avail_idx++ % QSIZE)) = head;
}

/* Chain k of queue q: descriptor k alone, buffer k. */
static void put_desc(struct guest *g, unsigned q, uint16_t k, uint32_t len, uint16_t flags)
{
	uint8_t *p = g->ram + g->q[q].desc + (uint64_t)k * VIRTQ_DESC_SIZE;
	uint64_t gpa = BUF_GPA + ((uint64_t)q * QSIZE + k) * BUF_STRIDE;
	uint16_t next = 0;

	memcpy(p, &gpa, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

/* Queue q's first `count` chains: TX frames from g to `dst` of `flen`
 * bytes, or RX buffers; all of them made available. */
static void build_chains(struct guest *g, unsigned q, unsigned count, const uint8_t dst[6],
			 uint32_t flen)
{
	for (uint16_t k = 0; k < count; k++) {
		uint8_t *buf = g->ram + BUF_GPA + ((uint64_t)q * QSIZE + k) * BUF_STRIDE;

		if (q == VIRTIO_NET_Q_TX) {
			uint8_t *f = buf + VIRTIO_NET_HDR_SIZE;

			memset(buf, 0, VIRTIO_NET_HDR_SIZE);
			memcpy(f, dst, 6);
			memcpy(f + 6, g->mac, 6);
			f[12] = 0x88; /* a local experimental EtherType */
			f[13] = 0xb5;
			for (uint32_t i = 14; i < flen; i++)
				f[i] = (uint8_t)(k + i);
			put_desc(g, q, k, VIRTIO_NET_HDR_SIZE + flen, 0);
		} else {
			put_desc(g, q, k, RX_BUF_LEN, VIRTQ_DESC_F_WRITE);
		}
		publish(g, q, k);
	}
	__atomic_store_n(ring16(g, g->q[q].avail + 2), g->q[q].avail_idx, __ATOMIC_RELEASE);
}

/* The driver's side of queue q: every chain the device used goes back into
 * the available ring, one index store per batch (§2.7.13). */
static unsigned recycle(struct guest *g, unsigned q)
{
	struct ring *r = &g->q[q];
	uint16_t used = __atomic_load_n(ring16(g, r->used + 2), __ATOMIC_ACQUIRE);
	unsigned n = 0;

	for (; r->used_seen != used; r->used_seen++, n++) {
		uint32_t id;

		memcpy(&id, g->ram + r->used + VIRTQ_USED_RING(r->used_seen % QSIZE), 4);
		publish(g, q, (uint16_t)id);
	}
	if (n)
		__atomic_store_n(ring16(g, r->avail + 2), r->avail_idx, __ATOMIC_RELEASE);
	return n;
}

/* Both drivers; gives the CPU away when there was nothing to do (see
 * bench_vio.c: two spinning threads on a shared two-core host). */
static void *producer(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned n = recycle(&A, VIRTIO_NET_Q_TX);

		n += recycle(&B, VIRTIO_NET_Q_RX);
		if (!n)
			sched_yield();
	}
	return NULL;
}

/* The switch's delivery into a port, as kernel/vdev.c's net_receive does
 * it (without the rx_lock): the copy, then the RX interrupt decision. */
static enum vsw_rx port_receive(void *dev, const struct vsw_frame *f)
{
	struct vnet *n = dev;
	enum vsw_rx r = vnet_port_ops.receive(n, f);
	struct msi_msg msg;

	if (n->rx_used) {
		n->rx_used = false;
		virtio_pci_queue_interrupt(&n->vp, VIRTIO_NET_Q_RX, &msg);
	}
	return r;
}

static const struct vsw_port_ops port_ops = {.receive = port_receive};

struct io_result {
	uint64_t served, ns, cpu_ns;
};

/* The I/O core: A's transmit queue, over and over. */
static void *io_core(void *arg)
{
	struct io_result *r = arg;
	uint64_t t0 = wall_ns(), cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), served = 0;
	struct msi_msg msg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int n = vnet_process_tx(&A.n, BUDGET);

		if (n < 0)
			abort();
		if (A.n.tx_used) {
			A.n.tx_used = false;
			virtio_pci_queue_interrupt(&A.n.vp, VIRTIO_NET_Q_TX, &msg);
		}
		served += (unsigned)n;
		if (!n)
			sched_yield();
	}
	r->ns = wall_ns() - t0;
	r->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	r->served = served;
	return NULL;
}

static void guest_init(struct guest *g, uint8_t last)
{
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, last};

	memset(g->ram, 0, RAM_SIZE);
	memcpy(g->mac, mac, 6);
	if (vnet_init(&g->n, &g->gmem, mac, &sw, TXQ_LEN, g->wait))
		abort();
	g->n.port.ops = &port_ops;
	driver_setup(g);
}

static void setup(uint32_t flen)
{
	vsw_init(&sw, "bench");
	guest_init(&A, 1);
	guest_init(&B, 2);
	/* B announces itself (A has no RX buffers: its flooded copy is
	 * dropped), then A's frames to B are known unicast. */
	build_chains(&B, VIRTIO_NET_Q_TX, 1, A.mac, 64);
	if (vnet_process_tx(&B.n, 1) != 1 || sw.learned != 1)
		abort();
	build_chains(&B, VIRTIO_NET_Q_RX, QSIZE, NULL, 0);
	build_chains(&A, VIRTIO_NET_Q_TX, QSIZE, B.mac, flen);
}

/* The frame in B's most recently used RX buffer: behind a header saying one
 * buffer, the bytes of one of A's frames (k + i at byte i of frame k). */
static bool last_frame_ok(uint32_t flen)
{
	const struct ring *r = &B.q[VIRTIO_NET_Q_RX];
	uint16_t used = *ring16(&B, r->used + 2);
	uint32_t id, len;
	const uint8_t *buf, *f;

	memcpy(&id, B.ram + r->used + VIRTQ_USED_RING((uint16_t)(used - 1) % QSIZE), 4);
	memcpy(&len, B.ram + r->used + VIRTQ_USED_RING((uint16_t)(used - 1) % QSIZE) + 4, 4);
	buf = B.ram + BUF_GPA + ((uint64_t)VIRTIO_NET_Q_RX * QSIZE + id) * BUF_STRIDE;
	f = buf + VIRTIO_NET_HDR_SIZE;
	if (id >= QSIZE || len != VIRTIO_NET_HDR_SIZE + flen ||
	    buf[VIRTIO_NET_HDR_NUM_BUFFERS] != 1 || memcmp(f, B.mac, 6) || memcmp(f + 6, A.mac, 6))
		return false;
	for (uint32_t i = 15; i < flen; i++)
		if (f[i] != (uint8_t)(f[14] + i - 14))
			return false;
	return true;
}

/* Why the run's figures can be trusted: every frame A completed went into
 * B's buffers, whole, and nothing was dropped. */
static void check(uint32_t flen, uint64_t served)
{
	const struct vsw_port_stats *rx = &B.n.port.stats;

	if (rx->rx_frames != served || rx->rx_bytes != served * flen ||
	    A.n.port.stats.drop_bad_frame || rx->drop_no_buffer || rx->drop_down ||
	    !last_frame_ok(flen)) {
		fprintf(stderr, "bench_switch: %llu frames served, %llu received\n",
			(unsigned long long)served, (unsigned long long)rx->rx_frames);
		abort();
	}
}

struct point {
	double rate, cpu_rate; /* two threads: per wall second, per I/O-thread CPU second */
	double device_rate;    /* one thread: per second spent in the device's work */
	uint64_t blocked;
};

static void run_two_threads(uint32_t flen, struct point *p)
{
	pthread_t prod, io;
	struct io_result r = {0};
	struct timespec run = {.tv_sec = (time_t)(RUN_NS / 1000000000ull)};

	setup(flen);
	atomic_store(&stop, false);
	if (pthread_create(&io, NULL, io_core, &r) || pthread_create(&prod, NULL, producer, NULL))
		abort();
	nanosleep(&run, NULL);
	atomic_store(&stop, true);
	pthread_join(prod, NULL);
	pthread_join(io, NULL);
	check(flen, r.served);
	p->rate = (double)r.served * 1e9 / (double)r.ns;
	p->cpu_rate = (double)r.served * 1e9 / (double)r.cpu_ns;
	p->blocked = A.n.port.stats.blocked;
}

/* Drivers and device taking turns on one thread, no cache line moving
 * between cores: the time inside the device's work (vnet_process_tx and
 * the interrupt decisions) is what one frame costs an I/O core. */
static void run_one_thread(uint32_t flen, struct point *p)
{
	uint64_t end = wall_ns() + RUN_NS, device_ns = 0, served = 0;
	struct msi_msg msg;

	setup(flen);
	while (wall_ns() < end) {
		uint64_t t0;
		int n;

		recycle(&A, VIRTIO_NET_Q_TX);
		recycle(&B, VIRTIO_NET_Q_RX);
		t0 = wall_ns();
		n = vnet_process_tx(&A.n, BUDGET);
		if (A.n.tx_used) {
			A.n.tx_used = false;
			virtio_pci_queue_interrupt(&A.n.vp, VIRTIO_NET_Q_TX, &msg);
		}
		device_ns += wall_ns() - t0;
		if (n < 0)
			abort();
		served += (unsigned)n;
	}
	check(flen, served);
	p->device_rate = (double)served * 1e9 / (double)device_ns;
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
	static const uint32_t sizes[] = {64, 1500};
	const unsigned nsizes = sizeof(sizes) / sizeof(sizes[0]);

	for (struct guest *g = &A; g; g = g == &A ? &B : NULL) {
		g->ram = aligned_alloc(4096, RAM_SIZE);
		if (!g->ram)
			abort();
		g->gmem = (struct gmem){.base = g->ram, .size = RAM_SIZE};
	}
	printf("{\n  \"benchmark\": \"switch\",\n");
	printf("  \"setup\": {\"threads\": \"two: 1 guest thread (both drivers) + 1 I/O core; "
	       "one: drivers and device in turn, the device's time counted\", "
	       "\"path\": \"vnet_process_tx -> vsw_forward (known unicast) -> vnet receive "
	       "(one copy)\", \"features\": \"MAC, STATUS, MRG_RXBUF\", \"queue_size\": %d, "
	       "\"tx_chain\": \"1 descriptor: header + frame\", \"rx_buffer\": %d, "
	       "\"budget\": %d, \"tx_queue_len\": %d, \"run_s\": %.1f, \"reps\": %d, "
	       "\"statistic\": \"medians\"},\n",
	       QSIZE, RX_BUF_LEN, BUDGET, TXQ_LEN, (double)RUN_NS / 1e9, REPS);
	printf("  \"frames\": [\n");
	for (unsigned k = 0; k < nsizes; k++) {
		double rate[REPS], cpu_rate[REPS], device_rate[REPS], fps, one;
		uint64_t blocked = 0;

		for (int r = 0; r < REPS; r++) {
			struct point p;

			run_two_threads(sizes[k], &p);
			run_one_thread(sizes[k], &p);
			rate[r] = p.rate;
			cpu_rate[r] = p.cpu_rate;
			device_rate[r] = p.device_rate;
			blocked += p.blocked;
		}
		fps = median(rate);
		one = median(device_rate);
		printf("    {\"frame_bytes\": %u, \"frames_per_s\": %.0f, \"frames_per_cpu_s\": "
		       "%.0f, \"gbit_per_s\": %.2f, \"blocked_sends\": %llu, "
		       "\"one_thread_frames_per_s\": %.0f, \"one_thread_ns_per_frame\": %.1f, "
		       "\"one_thread_gbit_per_s\": %.2f}%s\n",
		       sizes[k], fps, median(cpu_rate), fps * sizes[k] * 8 / 1e9,
		       (unsigned long long)blocked, one, 1e9 / one, one * sizes[k] * 8 / 1e9,
		       k + 1 < nsizes ? "," : "");
	}
	printf("  ]\n}\n");
	free(A.ram);
	free(B.ram);
	return 0;
}
