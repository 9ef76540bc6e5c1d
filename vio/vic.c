/* vIC, virtual interrupt coalescing (vio/vic.h; paper 004, §3). The line
 * numbers "A1:n" and "A2:n" in the comments count the lines of the paper's
 * Algorithm 1 (Delivery Ratio Determination) and Algorithm 2 (VMM—IO
 * Completion Handler) from their first line, the declarations included. */
#include "vio/vic.h"

#include <string.h>

#define NEVER	      UINT64_MAX  /* vic_ipi.last_intr before the first stamp */
#define MAX_THRESHOLD 0x10000000u /* 4 * cif_threshold fits an unsigned */

/* 0 would make A1:24 divide by zero. */
static unsigned threshold(const struct vic_params *p)
{
	if (p->cif_threshold < 1)
		return 1;
	return p->cif_threshold > MAX_THRESHOLD ? MAX_THRESHOLD : p->cif_threshold;
}

void vic_init(struct vic *v, const struct vic_params *p, uint64_t now)
{
	memset(v, 0, sizeof(*v));
	v->p = *p;
	v->p.cif_threshold = threshold(p);
	/* R = 1 until the first epoch has given an IOPS estimate: the
	 * Low-IOPS mode (§3.2 (1)) is the safe assumption. */
	v->count_up = 1;
	v->skip_up = 1;
	v->counter = 1;
	v->epoch_start = now;
}

/* Algorithm 1, IntrCoalesceRecalc. Table 1 with cif_threshold 4: CIF 1-3
 * 1/1, 4-7 4/5, 8-11 3/4, 12-15 2/3, >= 16 1/(CIF/8). */
void vic_ratio(const struct vic_params *p, unsigned cif, uint64_t iops, unsigned *count_up,
	       unsigned *skip_up)
{
	unsigned t = threshold(p);

	if (iops < p->iops_threshold || cif < t) { /* A1:5, Low-IOPS or Low-CIF: R = 1 */
		*count_up = 1;
		*skip_up = 1;
	} else if (cif < 2 * t) { /* A1:9, R = 0.8 */
		*count_up = 4;
		*skip_up = 5;
	} else if (cif < 3 * t) { /* A1:13, R = 0.75 */
		*count_up = 3;
		*skip_up = 4;
	} else if (cif < 4 * t) { /* A1:17, R = 0.66 */
		*count_up = 2;
		*skip_up = 3;
	} else { /* A1:21-24, R = 8 / CIF (for t = 4): integer division, >= 2 */
		*count_up = 1;
		*skip_up = cif / (2 * t);
	}
}

/* The epoch that began at v->epoch_start ends at `now` (A2:6, diff >
 * epochPeriod): its IOPS ("currIOPS", A1:2) is its completions over its
 * length, scaled to a second. The division is here, once per epoch, not on
 * the completion path (§3.4). */
static void recalc(struct vic *v, unsigned cif, uint64_t now)
{
	uint64_t len = now - v->epoch_start; /* > epoch_ns >= 0, so >= 1 */
	uint64_t n = v->epoch_completions;

	v->iops = n > UINT64_MAX / VIC_NS_PER_S ? UINT64_MAX / len : n * VIC_NS_PER_S / len;
	/* A2:7 IntrCoalesceRecalc(cif): the CIF of the completion that ends
	 * the epoch, as the paper passes it. */
	vic_ratio(&v->p, cif, v->iops, &v->count_up, &v->skip_up);
	v->recalcs++;
	/* The paper does not show the restart; the next epoch begins now.
	 * counter is left alone: A2:11-16 bring it back into the new cycle
	 * (counter >= skipUp delivers and resets, counter < countUp delivers). */
	v->epoch_start = now;
	v->epoch_completions = 0;
}

static void hold(struct vic *v, uint64_t now)
{
	if (v->held++ == 0)
		v->held_since = now;
	v->coalesced++;
}

/* An interrupt at `now` signals the held completions and `extra` (this
 * one). */
static void deliver(struct vic *v, uint64_t extra, uint64_t now)
{
	uint64_t batch = v->held + extra;

	if (batch > v->max_batch)
		v->max_batch = batch;
	if (v->held && now >= v->held_since && now - v->held_since > v->max_hold)
		v->max_hold = now - v->held_since;
	v->held = 0;
	v->interrupts++;
}

static unsigned cif_bin(unsigned cif)
{
	return cif < VIC_CIF_BINS - 1 ? cif : VIC_CIF_BINS - 1;
}

static bool deadline_passed(const struct vic *v, uint64_t now)
{
	uint64_t d = vic_deadline(v);

	return d && now >= d;
}

/* Algorithm 2 for one completion: whether it interrupts now. */
static bool decide(struct vic *v, unsigned cif, uint64_t now)
{
	v->completions++;
	if (!v->p.enabled) {
		v->counter = 1;
		deliver(v, 1, now);
		return true;
	}
	if (now < v->epoch_start) { /* a clock that went back: start over */
		v->epoch_start = now;
		v->epoch_completions = 0;
	}
	if (now - v->epoch_start > v->p.epoch_ns) /* A2:5-6 */
		recalc(v, cif, now);		  /* A2:7 */
	v->epoch_completions++;

	/* A2:8-10: below cif_threshold, deliver. cif <= 1 is the last request
	 * in flight: nothing would come to carry a held one (the paper's dd,
	 * §3.2 (2)); only matters with cif_threshold 1. */
	if (cif < v->p.cif_threshold || cif <= 1) {
		v->counter = 1;
		v->low_cif++;
		deliver(v, 1, now);
		return true;
	}
	if (v->counter < v->count_up) { /* A2:11-13 */
		v->counter++;
		deliver(v, 1, now);
		return true;
	}
	if (v->counter >= v->skip_up) { /* A2:14-16 */
		v->counter = 1;
		deliver(v, 1, now);
		return true;
	}
	/* A2:17-19: don't deliver, unless max_delay_ns is up for the held
	 * ones (a late timer): then this completion carries them. */
	if (deadline_passed(v, now)) {
		v->counter = 1;
		v->forced_by_deadline++;
		deliver(v, 1, now);
		return true;
	}
	v->counter++;
	hold(v, now);
	return false;
}

/* Algorithm 2, counted by the CIF it was decided with. */
bool vic_on_completion(struct vic *v, unsigned cif, uint64_t now)
{
	bool irq = decide(v, cif, now);

	v->cif_completions[cif_bin(cif)]++;
	if (irq)
		v->cif_delivered[cif_bin(cif)]++;
	return irq;
}

uint64_t vic_deadline(const struct vic *v)
{
	uint64_t d;

	if (!v->held || !v->p.max_delay_ns)
		return 0;
	d = v->held_since + v->p.max_delay_ns;
	return d < v->held_since ? UINT64_MAX : d;
}

bool vic_on_timer(struct vic *v, uint64_t now)
{
	if (!deadline_passed(v, now))
		return false;
	/* The interrupt ends the cycle as A2:14-16's would: counter back to
	 * 1, so the next skipUp completions again carry countUp interrupts. */
	v->counter = 1;
	v->forced_by_deadline++;
	deliver(v, 0, now);
	return true;
}

void vic_ipi_init(struct vic_ipi *s, uint64_t threshold_ns)
{
	memset(s, 0, sizeof(*s));
	s->threshold_ns = threshold_ns;
	s->last_intr = NEVER;
}

/* A2:20-21 "SharedArea.timeStamp ← currTime()", set where the guest is
 * actually given the interrupt: the vCPU's entry (vio/vic.h). */
void vic_ipi_delivered(struct vic_ipi *s, uint64_t now)
{
	__atomic_store_n(&s->last_intr, now, __ATOMIC_RELEASE);
}

/* Whether the guest was given an interrupt less than the threshold before
 * `now` (Figure 2: "time since the last VMM-induced virtual interrupt is less
 * than a configurable threshold": the IPI is deferred). A stamp from the
 * future (another core's clock) counts as no stamp. */
static bool recent(uint64_t last, uint64_t threshold, uint64_t now)
{
	return last != NEVER && last <= now && now - last < threshold;
}

bool vic_ipi_need(struct vic_ipi *s, uint64_t now, bool vcpu_running)
{
	uint64_t last;

	if (!vcpu_running) /* §2: not in guest mode, it sees the IRR at its entry */
		return false;
	last = __atomic_load_n(&s->last_intr, __ATOMIC_ACQUIRE);
	if (recent(last, s->threshold_ns, now)) { /* §3.3 step 3.5: defer */
		s->deferred = true;
		s->deferred_at = now;
		s->ipis_skipped++;
		return false;
	}
	/* The IPI makes the vCPU exit and enter again: it sees every post. */
	s->deferred = false;
	s->ipis++;
	return true;
}

/* The vCPU entered the guest, with an interrupt pending, after the newest
 * skipped kick's post (stamp strictly later: at equal times the order is
 * unknown). */
static bool seen(uint64_t last, uint64_t deferred_at)
{
	return last != NEVER && last > deferred_at;
}

uint64_t vic_ipi_deadline(const struct vic_ipi *s)
{
	uint64_t last, d;

	if (!s->deferred)
		return 0;
	last = __atomic_load_n(&s->last_intr, __ATOMIC_ACQUIRE);
	if (seen(last, s->deferred_at))
		return 0;
	if (last == NEVER) /* not reached: a kick is only skipped after a stamp */
		return s->deferred_at ? s->deferred_at : 1;
	/* The moment step 3.5 would no longer defer; last <= deferred_at <
	 * last + threshold, so at most threshold after the post. */
	d = last + s->threshold_ns;
	return d ? d : 1;
}

bool vic_ipi_on_timer(struct vic_ipi *s, uint64_t now, bool vcpu_running)
{
	uint64_t d;

	if (!s->deferred)
		return false;
	if (!vcpu_running) {
		s->deferred = false;
		return false;
	}
	d = vic_ipi_deadline(s);
	if (!d) {
		s->deferred = false;
		return false;
	}
	if (now < d)
		return false;
	s->deferred = false;
	s->ipis_forced++;
	return true;
}
