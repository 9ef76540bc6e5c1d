/* vIC: virtual interrupt coalescing by commands in flight (paper 004, Ahmad,
 * Gulati, Mashtizadeh, "vIC: Interrupt Coalescing for Virtual Machine Storage
 * Device IO", §3). The I/O core calls vic_on_completion on every virtio-blk
 * completion with the number of the guest's requests in flight (CIF); vIC
 * says whether the used-ring update is signalled with an interrupt now or
 * held for a later one. The delivery ratio R = countUp/skipUp follows CIF
 * (Algorithm 1, Table 1) and is recomputed once per epoch; the completion
 * path decides with one counter and no division (Algorithm 2, §3.4).
 *
 * Two extensions to the paper, which has no timers (§3.1): `max_delay_ns`
 * caps how long a held completion waits (the I/O core arms its one-shot timer
 * at vic_deadline and calls vic_on_timer), and the IPI filter of §3.3
 * (struct vic_ipi) has a deadline too, so a skipped kick is sent at the
 * latest `ipi_threshold_ns` after the interrupt was posted.
 *
 * Time is an argument (ns in the kernel, the same unit everywhere in tests)
 * and never wraps. No kernel/ or arch/ include. */
#ifndef VIO_VIC_H
#define VIO_VIC_H

#include <stdbool.h>
#include <stdint.h>

struct vic_params {
	/* CIF below which nothing is coalesced (default 4; 0 is taken as 1) */
	unsigned cif_threshold;
	/* completions per second below which nothing is coalesced (2000) */
	uint64_t iops_threshold;
	/* re-evaluation period of R (200 ms) */
	uint64_t epoch_ns;
	/* extension: a held completion waits at most this (200 µs); 0: no
	 * bound, the paper's scheme */
	uint64_t max_delay_ns;
	/* §3.3: no kick when the guest took an interrupt less than this ago
	 * (100 µs) */
	uint64_t ipi_threshold_ns;
	/* false: every completion interrupts */
	bool enabled;
};

#define VIC_NS_PER_S 1000000000ull

#define VIC_PARAMS_DEFAULT                                                                         \
	((struct vic_params){                                                                      \
		.cif_threshold = 4,                                                                \
		.iops_threshold = 2000,                                                            \
		.epoch_ns = 200000000ull,                                                          \
		.max_delay_ns = 200000ull,                                                         \
		.ipi_threshold_ns = 100000ull,                                                     \
		.enabled = true,                                                                   \
	})

/* The CIF histogram's bins: one per CIF from 0 to VIC_CIF_BINS - 2, and the
 * last for VIC_CIF_BINS - 1 or more. */
#define VIC_CIF_BINS 65

/* One per virtio-blk device (per interrupt source), owned by the I/O core
 * that completes its requests. */
struct vic {
	struct vic_params p;
	/* Algorithm 1/2 state: R = count_up / skip_up */
	unsigned count_up, skip_up, counter;
	uint64_t epoch_start;	    /* time the current epoch began */
	uint64_t epoch_completions; /* completions since epoch_start (IOPS estimate) */
	/* held completions: signalled by the next interrupt */
	uint64_t held;	     /* completions since the last interrupt */
	uint64_t held_since; /* time of the oldest of them (valid when held > 0) */
	/* statistics */
	uint64_t completions, interrupts, coalesced; /* coalesced: completions held */
	uint64_t forced_by_deadline;		     /* interrupts that max_delay_ns forced */
	uint64_t low_cif;			     /* interrupts because cif < cif_threshold */
	uint64_t recalcs;			     /* Algorithm 1 runs (epoch ends) */
	uint64_t iops;				     /* estimate of the last epoch that ended */
	uint64_t max_batch;			     /* most completions one interrupt signalled */
	uint64_t max_hold; /* longest a held completion waited for its interrupt (0: none held) */
	/* every decision by the CIF it was made with (bins: VIC_CIF_BINS), and
	 * those that asked for an interrupt at once */
	uint64_t cif_completions[VIC_CIF_BINS];
	uint64_t cif_delivered[VIC_CIF_BINS];
};

/* R = 1 until the first epoch ends (nothing is known yet); the epoch starts
 * at `now`. */
void vic_init(struct vic *v, const struct vic_params *p, uint64_t now);

/* Algorithm 1 alone: the ratio for `cif` at an estimated `iops`. */
void vic_ratio(const struct vic_params *p, unsigned cif, uint64_t iops, unsigned *count_up,
	       unsigned *skip_up);

/* A request completed at `now`; `cif` is the number of the guest's requests
 * in flight at the device counting this one (a queue-depth-1 workload passes
 * 1). Returns true when an interrupt is to be sent now: it signals this
 * completion and every held one. False: held; the caller arms its timer at
 * vic_deadline. */
bool vic_on_completion(struct vic *v, unsigned cif, uint64_t now);

/* When the held completions must be signalled at the latest (held_since +
 * max_delay_ns); 0: nothing held or no bound, no timer needed. */
uint64_t vic_deadline(const struct vic *v);

/* The timer fired: true (send the interrupt) when completions are held and
 * their deadline has come. */
bool vic_on_timer(struct vic *v, uint64_t now);

/* §3.3 "Reducing IPIs". The paper's shared-area time stamp is the last time
 * the guest was given a virtual interrupt (Algorithm 2, last line); before a
 * completion's notification IPI, VMkernel compares it with the current time
 * and sends the IPI only when it is at least the threshold old; otherwise the
 * VMM is left to notice the completion "in due course on its own" (at the
 * guest's next exit). Here: the I/O core posts the interrupt in the vCPU's
 * IRR (vcpu_interrupt) and asks vic_ipi_need whether to kick the core running
 * the vCPU; the vCPU's core stamps in vic_ipi_delivered each time it enters
 * the guest with an interrupt pending.
 *
 * Guarantee (our extension; the paper relies on the next timer interrupt,
 * "several milliseconds away"): a kick that was skipped is due at
 * vic_ipi_deadline = stamp + threshold, which is at most `ipi_threshold_ns`
 * after the post; the I/O core arms its one-shot timer there (with the
 * max_delay timer) and vic_ipi_on_timer sends it unless the vCPU entered the
 * guest with the interrupt pending meanwhile. So a completion reaches the
 * guest at most max_delay_ns (coalescing) + ipi_threshold_ns (IPI filter)
 * after it completed, plus the IPI's own latency.
 *
 * One per target vCPU and poster: `last_intr` is written only by the vCPU's
 * core, the rest only by the I/O core that posts (reads of the other side's
 * field are single atomic loads). */
struct vic_ipi {
	uint64_t threshold_ns;
	uint64_t last_intr; /* vCPU side: stamp of the last entry with an interrupt pending */
	/* poster side */
	bool deferred;	       /* a post whose kick was skipped may be unseen */
	uint64_t deferred_at;  /* time of the newest such post */
	uint64_t ipis;	       /* kicks sent by vic_ipi_need */
	uint64_t ipis_skipped; /* kicks skipped by the threshold */
	uint64_t ipis_forced;  /* skipped kicks sent later by vic_ipi_on_timer */
};

void vic_ipi_init(struct vic_ipi *s, uint64_t threshold_ns);

/* vCPU side: the vCPU enters the guest with an interrupt pending; `now` is
 * read before the IRR is looked at (so everything posted before `now` is seen
 * by this entry). Algorithm 2: "SharedArea.timeStamp ← currTime()". */
void vic_ipi_delivered(struct vic_ipi *s, uint64_t now);

/* Poster side, step 3.5: an interrupt was just posted at `now`; whether to
 * send the kick IPI. `vcpu_running`: the vCPU is in guest mode on another
 * core (otherwise it sees the IRR at its next entry and no IPI is needed:
 * false, not counted). False with vcpu_running: skipped; arm the timer at
 * vic_ipi_deadline. */
bool vic_ipi_need(struct vic_ipi *s, uint64_t now, bool vcpu_running);

/* When a skipped kick is due (0: none pending). */
uint64_t vic_ipi_deadline(const struct vic_ipi *s);

/* The timer fired: true when a skipped kick is due and must be sent now. */
bool vic_ipi_on_timer(struct vic_ipi *s, uint64_t now, bool vcpu_running);

#endif
