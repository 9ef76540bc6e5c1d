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

/* --- core sets ---------------------------------------------------------------------------------
 * One bit per core, in 64-bit words; "next" scans a word at a time, so walking the cores of a
 * class costs O(SCHED_MAX_CPUS / 64 + the cores found). */

#define CORESET_WORD(core) ((core) / 64)
#define CORESET_BIT(core)  (1ull << ((core) % 64))
#define CORESET_WORDS	   (sizeof(((struct sched_coreset *)0)->word) / sizeof(uint64_t))

static inline void coreset_add(struct sched_coreset *set, unsigned core)
{
	set->word[CORESET_WORD(core)] |= CORESET_BIT(core);
}

static inline void coreset_del(struct sched_coreset *set, unsigned core)
{
	set->word[CORESET_WORD(core)] &= ~CORESET_BIT(core);
}

static inline bool coreset_has(const struct sched_coreset *set, unsigned core)
{
	return set->word[CORESET_WORD(core)] & CORESET_BIT(core);
}

static inline bool coreset_empty(const struct sched_coreset *set)
{
	for (unsigned w = 0; w < CORESET_WORDS; w++)
		if (set->word[w])
			return false;
	return true;
}

/* The cores of a that are not in b. */
static inline struct sched_coreset coreset_minus(struct sched_coreset a,
						 const struct sched_coreset *b)
{
	for (unsigned w = 0; w < CORESET_WORDS; w++)
		a.word[w] &= ~b->word[w];
	return a;
}

/* The lowest core in the set at or above `from`; NO_CORE when there is none. */
static inline int coreset_next(const struct sched_coreset *set, unsigned from)
{
	for (unsigned w = CORESET_WORD(from); w < CORESET_WORDS; w++) {
		uint64_t bits = set->word[w];

		if (w == CORESET_WORD(from))
			bits &= ~(CORESET_BIT(from) - 1);
		if (bits)
			return (int)(w * 64 + (unsigned)__builtin_ctzll(bits));
	}
	return NO_CORE;
}

/* --- data the other class reads ------------------------------------------------------------
 * A turbo call stores a VM's turbo nr_runnable and consumed_ns with these, and the regular
 * accounting loads them with them (sched.h, "concurrency"): relaxed atomics, plain moves on
 * x86_64, but no data race for the compiler to exploit. Both classes use them for these two
 * fields, so that the code does not depend on the class. */
#define SHARED_LOAD(field)	 __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define SHARED_STORE(field, val) __atomic_store_n(&(field), (val), __ATOMIC_RELAXED)

/* A core's deadline is read without a lock (sched_core_deadline). */
static inline void set_deadline(struct sched_core *c, uint64_t ns)
{
	__atomic_store_n(&c->deadline, ns, __ATOMIC_RELAXED);
}

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
	struct sched_pool *rq = &s->pool[v->cls];

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
	struct sched_pool *rq = &s->pool[v->cls];

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
/* The accounting of class `cls` that is due at now_ns: regular, the regular period; turbo, the
 * turbo period and the turbo ticks. Touches that class's data only. */
void sched_account_due(struct sched *s, enum sched_class cls, uint64_t now_ns);
/* A VM's runnable vCPUs of one class change by delta (+1 or -1). */
void sched_runnable_add(struct sched *s, const struct sched_vcpu *v, int delta);

#endif
