/* A ticket spinlock that counts how it is used (issue 12, "measure the lock's
 * hold times and contention"): acquisitions, contended acquisitions (the
 * ticket was not served at once), and the total and longest wait and hold, in
 * TSC cycles, separately for each kind of CPU that takes it (the caller says
 * which: regular core, turbo core, other). `@lock_stats` records report them
 * (kernel/lockstat.c, lockstat_report).
 *
 * The counters of a slot are written by the lock's holder, under the lock,
 * and read by the reporter without it: both sides use relaxed atomics, so a
 * report is a consistent-enough snapshot of counters that only grow (the
 * fields of one report may be one acquisition apart). The cost per
 * acquisition is three RDTSCs and a dozen stores to lines the holder owns. */
#ifndef KERNEL_LOCKSTAT_H
#define KERNEL_LOCKSTAT_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "kernel/spinlock.h"

/* Who took the lock. */
enum lockstat_slot {
	LOCKSTAT_REGULAR = 0, /* a regular core */
	LOCKSTAT_TURBO = 1,   /* a turbo core */
	LOCKSTAT_OTHER = 2,   /* any other CPU: an I/O core, the boot CPU before the loop */
};
#define LOCKSTAT_SLOTS 3

struct lockstat_counts {
	uint64_t acquisitions, contended;
	uint64_t behind[LOCKSTAT_SLOTS]; /* contended, and the holder then was of that slot */
	uint64_t wait_cycles, wait_max;	 /* from asking for the lock to holding it */
	uint64_t hold_cycles, hold_max;	 /* from holding it to releasing it */
};

struct stat_lock {
	struct spinlock lock;
	const char *name;
	uint64_t held_since; /* TSC at which the holder got it (the holder's) */
	unsigned held_by;    /* the holder's slot (the last holder's, while it is free) */
	struct lockstat_counts by[LOCKSTAT_SLOTS];
	struct stat_lock *next; /* the registered locks (lockstat_register) */
};

#define STAT_LOCK_INIT(lock_name)                                                                  \
	{                                                                                          \
		.lock = SPINLOCK_INIT, .name = (lock_name)                                         \
	}

static inline void lockstat_add(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline void lockstat_max(uint64_t *counter, uint64_t v)
{
	if (v > __atomic_load_n(counter, __ATOMIC_RELAXED))
		__atomic_store_n(counter, v, __ATOMIC_RELAXED);
}

/* spin_lock_irqsave that counts; `slot` is the caller's kind of CPU. */
static inline uint64_t stat_lock_irqsave(struct stat_lock *l, enum lockstat_slot slot)
{
	uint64_t flags, start, got;
	uint32_t ticket;
	unsigned holder = 0;
	bool contended;
	struct lockstat_counts *c = &l->by[slot];

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
	start = rdtsc();
	ticket = __atomic_fetch_add(&l->lock.next, 1, __ATOMIC_RELAXED);
	contended = __atomic_load_n(&l->lock.owner, __ATOMIC_ACQUIRE) != ticket;
	if (contended) /* who holds it now (it may just be handing it on) */
		holder = __atomic_load_n(&l->held_by, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->lock.owner, __ATOMIC_ACQUIRE) != ticket)
		cpu_relax();
	got = rdtsc();
	l->held_since = got;
	__atomic_store_n(&l->held_by, (unsigned)slot, __ATOMIC_RELAXED);
	lockstat_add(&c->acquisitions, 1);
	if (contended) {
		lockstat_add(&c->contended, 1);
		lockstat_add(&c->behind[holder < LOCKSTAT_SLOTS ? holder : LOCKSTAT_OTHER], 1);
	}
	lockstat_add(&c->wait_cycles, got - start);
	lockstat_max(&c->wait_max, got - start);
	return flags;
}

static inline void stat_unlock_irqrestore(struct stat_lock *l, uint64_t flags)
{
	struct lockstat_counts *c = &l->by[l->held_by];
	uint64_t held = rdtsc() - l->held_since;

	lockstat_add(&c->hold_cycles, held);
	lockstat_max(&c->hold_max, held);
	spin_unlock_irqrestore(&l->lock, flags);
}

/* Adds the lock to those lockstat_report prints (once, at set-up). */
void lockstat_register(struct stat_lock *l);
/* One `@lock_stats` record per registered lock and slot that took it:
 * lock, by (regular, turbo, other), acquisitions, contended (and of those,
 * behind_regular, behind_turbo, behind_other: the kind of CPU that held the
 * lock when the waiter found it taken), wait_cycles, wait_max_cycles,
 * hold_cycles, hold_max_cycles, tsc (when the counters were read) and `final`
 * (the report at power-off rather than a periodic one). */
void lockstat_report(bool final);

#endif
