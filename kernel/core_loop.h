/* The cores' loop around the two-class scheduler (kernel/core_loop.c). */
#ifndef KERNEL_CORE_LOOP_H
#define KERNEL_CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct manifest;
struct vcpu;
struct vm;

/* Options from the hypervisor's command line (issue 12's lock measurements). */
struct core_loop_opts {
	bool one_lock;	 /* sched_lock=global: both classes under one lock, also
			  * taken at every pass through a core's loop, as before the
			  * split (for the benchmark's comparison) */
	bool lock_stats; /* lockstat: `@lock_stats` with every `@core_stats` round,
			  * not only at power-off */
};

/* Boot CPU, once the VMs are built: the scheduler gets the cores of the
 * regular and turbo roles, the VMs with their weights, and every vCPU in
 * its class, runnable. 0, or -1 (a VM that did not fit is stopped). */
int core_loop_init(const struct manifest *m, const struct core_loop_opts *opts);
/* This CPU's part once the VMs are built: a regular or turbo core runs what
 * the scheduler gives it until every VM has stopped; an I/O core returns. */
void core_loop_run(const struct manifest *m);
/* Any core: an interrupt arrived for `v`; if it was blocked it runs soon. */
void core_loop_wake(struct vcpu *v);
/* The CPU time a VM's regular and turbo vCPUs had, in microseconds. */
void core_loop_vm_usage(const struct vm *vm, uint64_t *regular_us, uint64_t *turbo_us);
/* `@core_stats` per scheduled core and `@stats` per running VM. */
void core_loop_report_stats(void);

#endif
