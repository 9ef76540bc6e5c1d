/* An I/O core's queue scheduler (ELVIS, paper 001, §3 "fine-grained I/O
 * scheduling"): one loop over every queue the core owns, a bounded amount of
 * work per queue per visit, a queue that did work goes to the back, so no
 * queue starves; the longest time a queue with work waited for a visit is
 * measured. Adaptive polling: a queue quiet for `poll_idle` time units goes
 * back to notification mode (the guest kicks again), and a kick brings it
 * back to polling. The core may halt when every queue is in notification
 * mode and none has work. Time is an argument (ns in the kernel, anything in
 * tests); work is a callback. */
#ifndef VIO_IOLOOP_H
#define VIO_IOLOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

#define IOLOOP_MAX_QUEUES CONFIG_MAX_IO_CORE_DEVICES

struct ioloop_queue_ops {
	/* Does at most `budget` units of work on the queue; returns how many
	 * it did (0: none waited), or -1 when the queue failed (it then leaves
	 * the loop until ioloop_kick). */
	int (*work)(void *q, unsigned budget);
	/* Whether work waits (without doing it): used when going to sleep. */
	bool (*pending)(void *q);
	/* Ask the guest to kick, or not to (vq_set_notify). */
	void (*set_notify)(void *q, bool enable);
};

struct ioloop_queue {
	const struct ioloop_queue_ops *ops;
	void *q;
	bool polling; /* notifications off, the loop looks at it on every pass */
	bool failed;
	uint64_t last_work;	/* when it last did work (or was kicked) */
	uint64_t waiting_since; /* when it was last seen with work and not served; 0: not waiting */
	/* statistics */
	uint64_t visits, work_done, kicks, polls_idle, longest_wait, to_notify;
};

struct ioloop {
	struct ioloop_queue *queue[IOLOOP_MAX_QUEUES]; /* visiting order: front first */
	unsigned nqueues;
	unsigned budget;    /* work units per queue per visit */
	uint64_t poll_idle; /* quiet time before a queue stops polling */
	uint64_t passes, longest_wait;
};

void ioloop_init(struct ioloop *l, unsigned budget, uint64_t poll_idle);
/* Adds a queue, in polling mode; 0, or -1 when full. */
int ioloop_add(struct ioloop *l, struct ioloop_queue *q, const struct ioloop_queue_ops *ops,
	       void *ctx, uint64_t now);
/* The guest kicked queue `q` (or it was reset and set up again): it polls
 * again from `now`. */
void ioloop_kick(struct ioloop *l, struct ioloop_queue *q, uint64_t now);
/* One pass: every polling queue once, in order, each worked one moved to
 * the back. Returns the work done in the pass. */
unsigned ioloop_pass(struct ioloop *l, uint64_t now);
/* True when the core may halt: every queue in notification mode with no work
 * pending (checked after notifications were enabled, so a buffer added in
 * between is seen). */
bool ioloop_idle(struct ioloop *l, uint64_t now);

#endif
