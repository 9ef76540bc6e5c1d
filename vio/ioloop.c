/* The I/O core's queue scheduler (vio/ioloop.h), after ELVIS (paper 001):
 * one thread serves the queues of many devices and VMs (§2.2, fine-grained
 * I/O scheduling), a bounded amount of work per queue per visit, and a queue
 * that did work goes to the end of the poll queue (§3, exitless request
 * notifications: "For fairness, any time work is done on a virtqueue for any
 * reason, this virtqueue is moved to the end of the poll queue"). Polling is
 * adaptive: a queue that stays quiet goes back to guest notifications, a kick
 * brings it back (§2.3; §3: polling is disabled "when activity on this
 * virtqueue subsides"). */
#include "vio/ioloop.h"

#include <string.h>

void ioloop_init(struct ioloop *l, unsigned budget, uint64_t poll_idle)
{
	memset(l, 0, sizeof(*l));
	l->budget = budget ? budget : 1;
	l->poll_idle = poll_idle;
}

int ioloop_add(struct ioloop *l, struct ioloop_queue *q, const struct ioloop_queue_ops *ops,
	       void *ctx, uint64_t now)
{
	if (l->nqueues >= IOLOOP_MAX_QUEUES)
		return -1;
	memset(q, 0, sizeof(*q));
	q->ops = ops;
	q->q = ctx;
	q->polling = true;
	q->last_work = now;
	/* Polling mode: ELVIS permanently disables notifications on the
	 * virtqueues it polls (§3, exitless I/O request notifications). */
	ops->set_notify(ctx, false);
	l->queue[l->nqueues++] = q;
	return 0;
}

void ioloop_kick(struct ioloop *l, struct ioloop_queue *q, uint64_t now)
{
	(void)l;
	q->kicks++;
	/* A kick after a failure means the driver reset the device and set
	 * it up again: the queue is served once more. */
	q->failed = false;
	q->polling = true;
	q->last_work = now;
	q->ops->set_notify(q->q, false);
	/* The kick says work waits from now on. */
	q->waiting_since = now;
}

static void note_wait(struct ioloop *l, struct ioloop_queue *q, uint64_t now)
{
	uint64_t wait;

	if (!q->waiting_since)
		return;
	wait = now - q->waiting_since;
	if (wait > q->longest_wait)
		q->longest_wait = wait;
	if (wait > l->longest_wait)
		l->longest_wait = wait;
}

/* A polled queue found nothing: after `poll_idle` of quiet it goes back to
 * notifications. The guest may add a buffer just before it sees the change
 * and then not kick (virtio 1.1 §2.6.7.1), so the ring is looked at once
 * more after enabling; with work there, the queue keeps polling. */
static void idle_visit(struct ioloop *l, struct ioloop_queue *q, uint64_t now)
{
	q->polls_idle++;
	if (now - q->last_work < l->poll_idle)
		return;
	q->ops->set_notify(q->q, true);
	if (q->ops->pending(q->q)) {
		q->ops->set_notify(q->q, false);
		if (!q->waiting_since)
			q->waiting_since = now;
		return;
	}
	q->polling = false;
	q->to_notify++;
}

/* One visit of a polling queue; returns whether it did work (and so goes
 * to the back). */
static bool visit(struct ioloop *l, struct ioloop_queue *q, uint64_t now, unsigned *done)
{
	int r;

	q->visits++;
	note_wait(l, q, now);
	r = q->ops->work(q->q, l->budget);
	if (r < 0) {
		q->failed = true;
		q->waiting_since = 0;
		return false;
	}
	if (r == 0) {
		idle_visit(l, q, now);
		return false;
	}
	q->work_done += (unsigned)r;
	*done += (unsigned)r;
	q->last_work = now;
	/* ELVIS §3 (mixing latency- and throughput-sensitive workloads)
	 * leaves a queue after a maximum amount of work even if it is not
	 * empty: one that used its whole budget still has work, and its next
	 * visit's wait counts from now. */
	q->waiting_since = (unsigned)r < l->budget ? 0 : now;
	return true;
}

unsigned ioloop_pass(struct ioloop *l, uint64_t now)
{
	struct ioloop_queue *order[IOLOOP_MAX_QUEUES];
	bool worked[IOLOOP_MAX_QUEUES];
	unsigned n = l->nqueues, done = 0, k = 0;

	/* Each queue is visited once, in the order the pass started with. */
	memcpy(order, l->queue, n * sizeof(order[0]));
	for (unsigned i = 0; i < n; i++) {
		struct ioloop_queue *q = order[i];

		worked[i] = q->polling && !q->failed && visit(l, q, now, &done);
	}
	/* Every worked queue to the back, in the order it was served: the
	 * same as moving each one to the end as it is served (ELVIS §3). */
	for (unsigned i = 0; i < n; i++)
		if (!worked[i])
			l->queue[k++] = order[i];
	for (unsigned i = 0; i < n; i++)
		if (worked[i])
			l->queue[k++] = order[i];
	l->passes++;
	return done;
}

bool ioloop_idle(struct ioloop *l, uint64_t now)
{
	(void)now;
	/* Queues in notification mode had their ring checked after enabling
	 * (idle_visit), so any later buffer comes with a kick. */
	for (unsigned i = 0; i < l->nqueues; i++) {
		const struct ioloop_queue *q = l->queue[i];

		if (q->polling && !q->failed)
			return false;
	}
	return true;
}
