/* The exit dispatch (design.md, data flow 2): one table, indexed by the
 * normalized exit reason. */
#ifndef KERNEL_VMEXIT_H
#define KERNEL_VMEXIT_H

#include <stdbool.h>

struct vcpu;
struct virt_exit;

/* Handles one exit; false when the vCPU cannot go on: its VM stopped or it
 * halted. */
bool vmexit_handle(struct vcpu *v, const struct virt_exit *exit);
const char *vmexit_reason_name(unsigned reason);

#endif
