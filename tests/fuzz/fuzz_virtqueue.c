/* libFuzzer harness for vio/virtqueue.c: the input is a whole 64 KiB guest RAM with a queue at
 * fixed addresses, so descriptors, rings and indices are all the fuzzer's to choose. Every
 * chain vq_pop accepts is checked against the header's promises and its writable buffers are
 * filled through raw pointers, so AddressSanitizer flags any buffer a guard let through.
 *
 * Build: clang -std=gnu11 -g -O1 -I. -DHOSTED -fsanitize=fuzzer,address,undefined \
 *        -o fuzz_vq tests/fuzz/fuzz_virtqueue.c vio/virtqueue.c
 * Input: byte 0 picks the queue size (1 << (b % 9)), byte 1 the features (bit 0 EVENT_IDX,
 * bit 1 INDIRECT_DESC), the rest is RAM from guest-physical 0 (zero past the input). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vio/gmem.h"
#include "vio/virtqueue.h"

/* The driver's parts first and packed, so that short inputs reach them: the descriptors at 0,
 * the avail ring right after them; the used ring is the device's own. */
#define RAM_SIZE 0x10000
#define DESC	 0x0000
#define USED	 0x8000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the header promises of an accepted chain: buffers in RAM, sized within bounds,
 * readable ones first, and sums that match. */
static void check_chain(const struct virtqueue *q, const struct gmem *g, const struct vq_chain *c)
{
	uint64_t read = 0, written = 0;

	if (c->head >= q->size || c->nseg == 0 || c->nseg > q->size || c->nread > c->nseg)
		abort();
	for (uint16_t i = 0; i < c->nseg; i++) {
		const struct vq_seg *s = &c->seg[i];

		if (s->len == 0 || s->len > VQ_MAX_SEG_BYTES || !gmem_range_ok(g, s->gpa, s->len))
			abort();
		if (s->write != (i >= c->nread))
			abort();
		if (s->write)
			written += s->len;
		else
			read += s->len;
	}
	if (read != c->read_bytes || written != c->write_bytes)
		abort();
}

/* Plays the device: fills the writable buffers (raw, unchecked, to let ASan judge the guards),
 * reports how much was written, and completes the chain. */
static void complete_chain(struct virtqueue *q, const struct gmem *g, const struct vq_chain *c)
{
	uint64_t written = c->write_bytes > UINT32_MAX ? UINT32_MAX : c->write_bytes;

	for (uint16_t i = c->nread; i < c->nseg; i++)
		memset(g->base + c->seg[i].gpa, 0xa5, c->seg[i].len);
	vq_push(q, g, c->head, (uint32_t)written);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_chain chain;
	struct virtqueue q;
	struct gmem g = {.size = RAM_SIZE};
	uint16_t qsize;
	bool event_idx, indirect;
	int ret = 0;

	if (size < 2)
		return 0;
	qsize = (uint16_t)(1u << (data[0] % 9));
	event_idx = data[1] & 1;
	indirect = data[1] & 2;
	g.base = calloc(1, RAM_SIZE);
	if (!g.base)
		return 0;
	memcpy(g.base, data + 2, size - 2 < RAM_SIZE ? size - 2 : RAM_SIZE);
	if (vq_setup(&q, &g, qsize, DESC, DESC + 16u * qsize, USED, event_idx, indirect) != VQ_OK)
		abort();
	vq_set_notify(&q, &g, false);
	/* A queue's worth at most is pending; the bound holds even if a written buffer moves the
	 * avail index, since each pop advances last_avail. */
	for (unsigned n = 0; n < 0x10000 && (ret = vq_pop(&q, &g, &chain)) == 1; n++) {
		check_chain(&q, &g, &chain);
		complete_chain(&q, &g, &chain);
		vq_set_notify(&q, &g, false);
	}
	if (ret < 0 && (-ret >= VQ_ERR_COUNT || !vq_error_name((enum vq_error)(-ret))))
		abort();
	vq_set_notify(&q, &g, true);
	(void)vq_pending(&q, &g);
	(void)vq_should_interrupt(&q, &g);
	free(g.base);
	return 0;
}
