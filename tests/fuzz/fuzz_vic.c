/* libFuzzer harness for vIC (vio/vic.c, paper 004 §3): parameters and a sequence of completions,
 * early timer calls and the IPI filter's events, in a clock that only goes forward. The I/O
 * core's timer fires exactly at vic_deadline / vic_ipi_deadline when that comes before the
 * next event. Beyond "no crash", after every step:
 *   - the ratio is Algorithm 1's for the CIF and IOPS of the last recalculation, with
 *     1 <= countUp <= skipUp;
 *   - a completion with cif < cif_threshold (or the last one in flight) is signalled at once;
 *   - a deadline is set exactly when completions are held (and max_delay_ns is not 0), at
 *     held_since + max_delay_ns; the timer is refused before it and taken at it; no
 *     completion is signalled later than max_delay_ns after it arrived;
 *   - every completion was either held or signalled;
 *   - a skipped kick is due after its post and at most ipi_threshold_ns after it, and the
 *     timer sends it then unless the vCPU entered the guest after the post.
 *
 * Input: 8 bytes of parameters (cif_threshold, le16 iops_threshold, epoch in ms, le16
 * max_delay in 10 ns, le16 ipi threshold in 10 ns), then 4-byte records: op, cif, le16 time
 * step (in units of 16 ns). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vio/vic.h"

#define CHECK(c) ((c) ? (void)0 : abort())
#define RECORD	 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t le16(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8;
}

struct sim {
	struct vic v;
	struct vic_ipi s;
	uint64_t now, oldest, stamp, timer_fires;
	bool holding, running;
	unsigned recalc_cif;
	uint64_t recalcs;
};

/* The one-shot timers fire at their deadlines when those come before `next`. */
static void advance(struct sim *m, uint64_t next)
{
	uint64_t d = vic_deadline(&m->v), di = vic_ipi_deadline(&m->s);

	CHECK((d != 0) == (m->v.held != 0 && m->v.p.max_delay_ns != 0));
	if (d) {
		CHECK(d == m->v.held_since + m->v.p.max_delay_ns);
		CHECK(m->holding && m->v.held_since == m->oldest);
	}
	if (d && d <= next) {
		CHECK(d >= m->now);
		CHECK(!vic_on_timer(&m->v, d - 1));
		CHECK(vic_on_timer(&m->v, d));
		CHECK(!m->v.held && !vic_deadline(&m->v));
		m->holding = false;
		m->timer_fires++;
	}
	if (di) {
		CHECK(m->s.deferred);
		CHECK(di > m->s.deferred_at && di <= m->s.deferred_at + m->s.threshold_ns);
	}
	if (di && di <= next) {
		CHECK(di >= m->now);
		CHECK(!vic_ipi_on_timer(&m->s, di - 1, m->running));
		if (m->running) {
			CHECK(vic_ipi_on_timer(&m->s, di, true));
			CHECK(!vic_ipi_deadline(&m->s));
		}
	}
	m->now = next;
}

static void completion(struct sim *m, unsigned cif)
{
	unsigned cu, su;
	bool delivered = vic_on_completion(&m->v, cif, m->now);

	if (m->v.recalcs != m->recalcs) {
		m->recalcs = m->v.recalcs;
		m->recalc_cif = cif;
	}
	if (m->v.p.enabled && m->v.recalcs) {
		vic_ratio(&m->v.p, m->recalc_cif, m->v.iops, &cu, &su);
		CHECK(m->v.count_up == cu && m->v.skip_up == su);
	}
	CHECK(m->v.count_up >= 1 && m->v.count_up <= m->v.skip_up);
	if (cif < m->v.p.cif_threshold || cif <= 1 || !m->v.p.enabled)
		CHECK(delivered);
	if (delivered) {
		CHECK(!m->holding || !m->v.p.max_delay_ns ||
		      m->now - m->oldest <= m->v.p.max_delay_ns);
		CHECK(!m->v.held);
		m->holding = false;
	} else {
		CHECK(m->v.held);
		if (!m->holding) {
			m->holding = true;
			m->oldest = m->now;
		}
	}
	CHECK(m->v.interrupts - m->timer_fires + m->v.coalesced == m->v.completions);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim m;
	struct vic_params p = VIC_PARAMS_DEFAULT;

	if (size < 8)
		return 0;
	memset(&m, 0, sizeof(m));
	p.cif_threshold = data[0] & 0x3f;
	p.iops_threshold = le16(data + 1);
	p.epoch_ns = (uint64_t)(data[3] & 0x7f) * 1000000;
	p.max_delay_ns = le16(data + 4) * 10;
	p.ipi_threshold_ns = le16(data + 6) * 10;
	p.enabled = !(data[3] & 0x80);
	vic_init(&m.v, &p, 0);
	vic_ipi_init(&m.s, p.ipi_threshold_ns);
	data += 8;
	size -= 8;

	for (; size >= RECORD; data += RECORD, size -= RECORD) {
		unsigned op = data[0] & 7, cif = data[1];

		advance(&m, m.now + le16(data + 2) * 16);
		switch (op) {
		case 0:
		case 1:
		case 2:
			completion(&m, cif);
			break;
		case 3: /* an early timer call: refused */
			if (vic_deadline(&m.v) > m.now)
				CHECK(!vic_on_timer(&m.v, m.now));
			break;
		case 4: /* the vCPU enters the guest with an interrupt pending */
			m.stamp = m.now;
			vic_ipi_delivered(&m.s, m.now);
			/* seen, unless posted at this very time (order unknown) */
			CHECK(!vic_ipi_deadline(&m.s) || m.s.deferred_at == m.now);
			break;
		case 5: { /* an interrupt posted */
			bool kick = vic_ipi_need(&m.s, m.now, m.running);
			bool recent = m.s.last_intr != UINT64_MAX &&
				      m.now - m.s.last_intr < m.s.threshold_ns;

			CHECK(kick == (m.running && !recent));
			if (kick)
				CHECK(!vic_ipi_deadline(&m.s));
			break;
		}
		case 6:
			m.running = !m.running;
			break;
		default: /* an early IPI timer call */
			if (vic_ipi_deadline(&m.s) > m.now)
				CHECK(!vic_ipi_on_timer(&m.s, m.now, m.running));
			break;
		}
	}
	return 0;
}
