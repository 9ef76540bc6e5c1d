/* The two-class credit scheduler (vTurbo, Xu et al., USENIX ATC 2013, §3.1, §4, Algorithm 2).
 *
 * Cores have a class: regular (long slices) or turbo (short slices). Each VM has regular vCPUs,
 * which run on any regular core, and at most one turbo vCPU (its interrupt handler), which runs on
 * any turbo core; no vCPU ever runs on a core of the other class. Every VM earns credit in
 * proportion to its weight; a vCPU that has spent its credit (OVER) only runs when no vCPU of its
 * class with credit left (UNDER) waits, so shares hold under contention and cores never idle while
 * anything of their class is runnable.
 *
 * Pure policy: no clock, no timer, no lock, no allocation. The caller passes the time (ns, from
 * its own clock) to every call, arms one-shot timers at the deadlines it gets back, sends the IPIs
 * it is told to, hands over the storage for VMs and vCPUs, and serializes the calls of each class
 * (one spinlock per class: see "concurrency" below).
 * docs/scheduler.md explains the algorithm and how the kernel drives it. */
#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"

#define SCHED_MAX_CPUS	 CONFIG_MAX_CPUS /* core ids 0..SCHED_MAX_CPUS-1 */
#define SCHED_MAX_WEIGHT 65535u
#define SCHED_NEVER	 UINT64_MAX /* "no deadline": an idle core waits for a kick */

/* Parameter bounds, so that the integer arithmetic of the accounting cannot overflow. */
#define SCHED_MIN_SLICE_NS 1000ull	 /* 1 µs */
#define SCHED_MAX_SLICE_NS 1000000000ull /* 1 s */

enum sched_class {
	SCHED_REGULAR = 0,
	SCHED_TURBO = 1,
};
#define SCHED_NR_CLASSES 2

struct sched_params {
	uint64_t regular_slice_ns; /* slice and accounting period of regular cores (30 ms) */
	uint64_t turbo_slice_ns;   /* slice and accounting tick of turbo cores (0.1 ms) */
	bool turbo_preempt;	   /* an interrupt for a waiting turbo vCPU preempts a turbo core */
	uint64_t turbo_preempt_min_ns; /* ... once its current vCPU has run this long (20 µs) */
};

/* --- storage: the caller owns it (static arrays in the kernel); fields are private ---------- */

/* Run-queue lists, best first: BOOST (turbo vCPUs an interrupt preempts for), UNDER (credit
 * left), OVER (credit spent). */
enum sched_prio {
	SCHED_BOOST = 0,
	SCHED_UNDER = 1,
	SCHED_OVER = 2,
};
#define SCHED_NR_PRIOS 3

struct sched_vcpu {
	int32_t next, prev;  /* run-queue links (vCPU ids), -1 at the ends */
	int32_t vm;	     /* owning VM id */
	int16_t core;	     /* the core running it, -1 when not running */
	int16_t last_core;   /* the core it last ran on, -1 if never */
	int16_t kicked_core; /* the core a pending preemption for it targets, -1 if none */
	uint8_t cls;	     /* enum sched_class */
	uint8_t state;	     /* blocked, queued or running (sched.c) */
	uint8_t prio;	     /* the list it is queued on, when queued */
	int64_t credit;	     /* ns it may still run before it is OVER; < 0: OVER */
	uint64_t charged_to; /* while running: the time up to which it has been charged */
	uint64_t period_ns;  /* ran in the current accounting period */
	uint64_t consumed_ns;
	uint64_t picks, wakes;
};

/* What one class keeps of a VM. Only that class's calls write it (see "Concurrency" below); the
 * regular accounting also reads the turbo part's nr_runnable and consumed_ns, which turbo calls
 * therefore store atomically. */
struct sched_vm_part {
	uint32_t nr_runnable; /* the VM's vCPUs of the class, queued or running */
	uint32_t nr_active;   /* scratch of the class's accounting */
	uint64_t period_ns;   /* consumed in the class's current accounting period */
	uint64_t consumed_ns; /* since the VM was added */
	uint64_t alloc_ns;    /* FS^R_i (regular) or FS^T_i (turbo) of the class's last period */
	int64_t grant_ns;     /* credit per active regular vCPU and period, or for the turbo vCPU
			       * per turbo tick */
};

struct sched_vm {
	uint32_t weight;		     /* fixed by sched_add_vm */
	int32_t turbo_vcpu;		     /* -1: none; fixed once the vCPUs are added */
	uint32_t nr_vcpus[SCHED_NR_CLASSES]; /* vCPUs of each class; fixed likewise */
	/* The regular accounting's own (regular part): */
	uint64_t fair_share_ns;	  /* FS_i of the last regular period */
	uint64_t turbo_seen_ns;	  /* the turbo part's consumed_ns at the last regular accounting */
	uint64_t turbo_period_ns; /* scratch: turbo time used in the period being accounted */
	bool turbo_was_runnable;  /* scratch: its turbo vCPU was runnable at that accounting */
	struct sched_vm_part part[SCHED_NR_CLASSES];
};

struct sched_core {
	bool present;
	uint8_t cls;
	int32_t cur;	      /* running vCPU, -1 if none */
	int32_t kick_for;     /* the boosted vCPU a pending preemption is for, -1 if none */
	uint64_t slice_start; /* when cur was picked */
	uint64_t slice_until; /* the end of cur's slice */
	uint64_t deadline;    /* when the core must call sched_pick_next (SCHED_NEVER: idle);
			       * stored atomically: sched_core_deadline reads it without a lock */
	uint64_t picks, idle_picks, preemptions;
	uint64_t busy_ns;
};

/* A set of cores, one bit per core id. */
struct sched_coreset {
	uint64_t word[(SCHED_MAX_CPUS + 63) / 64];
};

/* A class's pool of cores (vTurbo §3.1): its run queue, its cores, and its accounting clock.
 * Only that class's calls touch it. */
struct sched_pool {
	int32_t head[SCHED_NR_PRIOS], tail[SCHED_NR_PRIOS];
	uint32_t nr_queued;
	struct sched_coreset cores;  /* cores of the class */
	struct sched_coreset idle;   /* cores that got "idle" from their last pick */
	struct sched_coreset kicked; /* cores told to re-pick (an IPI or a timer is on its way) */
	uint64_t idle_kicks, preempt_kicks;
	uint64_t period_last; /* start of the class's current accounting period (length P) */
	uint64_t window_ns;   /* length of its last completed period */
	uint64_t periods;     /* accounting periods completed */
	uint64_t tick_last;   /* turbo: start of the current turbo tick */
	uint64_t ticks;	      /* turbo: turbo accountings run */
	char pad[64];	      /* the two pools never share a cache line */
};

struct sched {
	struct sched_params p;
	struct sched_vm *vms;
	struct sched_vcpu *vcpus;
	uint32_t nr_vms, max_vms;
	uint32_t nr_vcpus, max_vcpus;
	char pad[64];
	struct sched_pool pool[SCHED_NR_CLASSES];
	struct sched_core cores[SCHED_MAX_CPUS];
};

/* --- concurrency ------------------------------------------------------------------------------
 * The scheduler takes no lock; its caller serializes the calls, and may do so per class: every
 * call after set-up belongs to one class and touches only that class's data (its pool, its cores,
 * its vCPUs, its part of each VM), so the regular and the turbo calls can run at the same time
 * under two locks:
 *
 *   class of the call            calls
 *   the core's                   sched_pick_next, sched_core_stats
 *   the vCPU's                   sched_block, sched_wake, sched_vcpu_stats
 *   the argument                 sched_account_class, sched_charge_class, sched_class_stats,
 *                                sched_queued
 *
 * The one exchange between classes: the regular accounting (once per regular period) reads each
 * VM's turbo consumed_ns and nr_runnable, which the turbo calls store with atomic stores (relaxed:
 * a value one charge old is as good). The turbo share FS^T_i is computed from turbo data only, by
 * the turbo pool's own accounting period. sched_core_deadline needs no lock at all (an atomic
 * load of the core's deadline). Set-up (sched_init, sched_add_*), sched_account and
 * sched_vm_stats span both classes: the caller holds both locks, or runs before the cores do. */

/* --- setup ----------------------------------------------------------------------------------- */

/* 30 ms regular slice, 0.1 ms turbo slice (vTurbo §3.1), turbo preemption on after 20 µs. */
void sched_default_params(struct sched_params *p);

/* Starts an empty scheduler at time now_ns with the caller's storage for up to max_vms VMs and
 * max_vcpus vCPUs. -1 if the parameters are out of bounds (slices within SCHED_MIN_SLICE_NS..
 * SCHED_MAX_SLICE_NS, turbo slice <= regular slice, max_vms <= 65536). */
int sched_init(struct sched *s, const struct sched_params *p, struct sched_vm *vms,
	       unsigned max_vms, struct sched_vcpu *vcpus, unsigned max_vcpus, uint64_t now_ns);

/* Gives core `core` (0..SCHED_MAX_CPUS-1) to class `cls`; it starts idle. -1 if out of range or
 * already added. */
int sched_add_core(struct sched *s, unsigned core, enum sched_class cls);

/* A VM of weight 1..SCHED_MAX_WEIGHT; returns its id (0, 1, ...) or -1. */
int sched_add_vm(struct sched *s, unsigned weight);

/* A vCPU of VM `vm` pinned to the cores of class `cls`; returns its id or -1 if there is no
 * room, no core of that class, or (turbo) the VM already has its turbo vCPU. It starts blocked:
 * sched_wake makes it runnable. */
int sched_add_vcpu(struct sched *s, int vm, enum sched_class cls);

/* --- the scheduling calls -------------------------------------------------------------------- */

struct sched_pick {
	int vcpu;	   /* the vCPU to run, -1: idle (halt until a timer or kick IPI) */
	uint64_t until_ns; /* absolute end of its slice: arm the one-shot timer; SCHED_NEVER if idle
			    */
};

/* Core `core` stops its current vCPU at now_ns (its slice ended, it blocked, or it was kicked),
 * charges it, runs the accounting that is due, and chooses the next vCPU of its class.
 * O(1), plus the accounting once per period. */
struct sched_pick sched_pick_next(struct sched *s, unsigned core, uint64_t now_ns);

/* The vCPU halted (HLT with nothing pending) at now_ns: it is charged and will not be picked
 * until sched_wake. Its core must then call sched_pick_next. Blocking a queued vCPU removes it. */
void sched_block(struct sched *s, int vcpu, uint64_t now_ns);

struct sched_kick {
	int core;	/* -1: nothing to do */
	uint64_t at_ns; /* when that core must re-pick: now (send the kick IPI) or later (arm its
			 * timer, or send the IPI and let it re-arm from sched_core_deadline) */
};

/* An interrupt for `vcpu` arrived at now_ns: a blocked vCPU becomes runnable. Returns the core
 * to kick so that it runs soon: an idle core of its class (its last core first); else, for a
 * waiting turbo vCPU with credit left and turbo preemption on, the turbo core to preempt and
 * when (once its running vCPU has had turbo_preempt_min_ns). O(1) in the number of vCPUs. */
struct sched_kick sched_wake(struct sched *s, int vcpu, uint64_t now_ns);

/* When core `core` must next call sched_pick_next: its slice end, or an earlier preemption,
 * or SCHED_NEVER when idle. A core that gets a kick IPI re-arms its timer from this. Needs no
 * lock: the deadline is one word, stored atomically by whichever call moves it. */
uint64_t sched_core_deadline(const struct sched *s, unsigned core);

/* Charges the running vCPUs up to now_ns and runs the accounting that is due; pick and wake do
 * this themselves (callers use it before reading statistics). sched_account does it for both
 * classes, sched_account_class for one (under that class's lock). */
void sched_account(struct sched *s, uint64_t now_ns);
void sched_account_class(struct sched *s, enum sched_class cls, uint64_t now_ns);
/* Only charges the class's running vCPUs up to now_ns, so that their statistics are current;
 * O(cores of the class), for a statistics reader that should not run the class's accounting
 * (the kernel's stats core under the turbo lock). */
void sched_charge_class(struct sched *s, enum sched_class cls, uint64_t now_ns);

/* The class of a vCPU or a core (fixed at set-up, so no lock is needed): -1 if there is none. */
int sched_vcpu_class(const struct sched *s, int vcpu);
int sched_core_class(const struct sched *s, unsigned core);

/* --- statistics ------------------------------------------------------------------------------ */

struct sched_vm_stats {
	uint64_t consumed_ns[SCHED_NR_CLASSES]; /* since the VM was added */
	/* The last accounting period of each class (vTurbo §3.1): its length, the VM's fair share
	 * FS_i (regular period) and its allocations FS^R_i (regular) and FS^T_i (turbo), in ns of
	 * core time. The two classes' periods have the same length P, each on its own calls. */
	uint64_t window_ns[SCHED_NR_CLASSES];
	uint64_t fair_share_ns;
	uint64_t alloc_ns[SCHED_NR_CLASSES];
};

struct sched_vcpu_stats {
	uint64_t consumed_ns, picks, wakes;
	int64_t credit_ns;
	int last_core;
	bool runnable, running;
};

struct sched_core_stats {
	uint64_t picks, idle_picks, preemptions, busy_ns;
	int vcpu; /* running now, -1 if none */
};

/* Sums over the cores of a class. */
struct sched_class_stats {
	unsigned cores, queued;
	uint64_t picks, idle_picks, busy_ns;
	uint64_t idle_kicks, preempt_kicks; /* kicks wake returned: to an idle core, to preempt */
	uint64_t accountings;		    /* regular accountings, or turbo ticks */
};

int sched_vm_stats(const struct sched *s, int vm, struct sched_vm_stats *out);
int sched_vcpu_stats(const struct sched *s, int vcpu, struct sched_vcpu_stats *out);
int sched_core_stats(const struct sched *s, unsigned core, struct sched_core_stats *out);
int sched_class_stats(const struct sched *s, enum sched_class cls, struct sched_class_stats *out);
/* vCPUs of a class waiting in the run queue (not running). */
unsigned sched_queued(const struct sched *s, enum sched_class cls);

#endif
