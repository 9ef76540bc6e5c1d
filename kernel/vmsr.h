/* The MSRs a guest reads and writes that the vendor's control block does
 * not hold (kernel/vmsr.c). */
#ifndef KERNEL_VMSR_H
#define KERNEL_VMSR_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

struct vcpu;

#define VMSR_UNKNOWN_LOGGED 8 /* distinct unknown MSRs logged per VM */

/* A VM's record of the unknown MSRs it touched (each logged once). */
struct vmsr_seen {
	uint32_t msr[VMSR_UNKNOWN_LOGGED];
	unsigned n;
	uint64_t unknown; /* accesses to unknown MSRs, all of them */
};

/* RDMSR/WRMSR from the guest: true with *value read or the write done;
 * false: the guest gets #GP(0). */
bool vmsr_access(struct vcpu *v, uint32_t msr, bool write, uint64_t *value);

#endif
