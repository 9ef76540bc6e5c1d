/* Shared between sched.c (decisions) and sched_acct.c (credit accounting); not part of the API. */
#ifndef SCHED_SCHED_INTERNAL_H
#define SCHED_SCHED_INTERNAL_H

#include "sched/sched.h"

enum vcpu_state {
	VCPU_BLOCKED = 0,
	VCPU_QUEUED = 1,
	VCPU_RUNNING = 2,
};

#define NO_VCPU (-1)
#define NO_CORE (-1)

/* --- run queue: per class, one FIFO list per priority, linked through the vCPUs --------------
 * Every operation is O(1): a decision pops the head of the best non-empty list, a requeue
 * appends to a tail, a priority change unlinks and appends. */

static inline enum sched_prio credit_prio(const struct sched_vcpu *v)
{
	return v->credit < 0 ? SCHED_OVER : SCHED_UNDER;
}

static inline void runq_append(struct sched *s, int id, enum sched_prio prio)
{
	struct sched_vcpu *v = &s->vcpus[id];
	struct sched_runq *rq = &s->rq[v->cls];

	v->prio = (uint8_t)prio;
	v->state = VCPU_QUEUED;
	v->next = NO_VCPU;
	v->prev = rq->tail[prio];
	if (rq->tail[prio] == NO_VCPU)
		rq->head[prio] = id;
	else
		s->vcpus[rq->tail[prio]].next = id;
	rq->tail[prio] = id;
	rq->nr_queued++;
}

static inline void runq_remove(struct sched *s, int id)
{
	struct sched_vcpu *v = &s->vcpus[id];
	struct sched_runq *rq = &s->rq[v->cls];

	if (v->prev == NO_VCPU)
		rq->head[v->prio] = v->next;
	else
		s->vcpus[v->prev].next = v->next;
	if (v->next == NO_VCPU)
		rq->tail[v->prio] = v->prev;
	else
		s->vcpus[v->next].prev = v->prev;
	v->next = v->prev = NO_VCPU;
	rq->nr_queued--;
}

/* A queued vCPU whose credit crossed zero moves to the tail of its new list; BOOST is left alone
 * (it is consumed by the next pick). */
static inline void runq_reprioritize(struct sched *s, int id)
{
	struct sched_vcpu *v = &s->vcpus[id];
	enum sched_prio want = credit_prio(v);

	if (v->state != VCPU_QUEUED || v->prio == SCHED_BOOST || v->prio == want)
		return;
	runq_remove(s, id);
	runq_append(s, id, want);
}

/* sched_acct.c */
void sched_charge(struct sched *s, int id, uint64_t now_ns);
void sched_account_due(struct sched *s, uint64_t now_ns);

#endif
