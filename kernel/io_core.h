/* The I/O cores (sidecores, ELVIS paper 001): CPUs of the role io run no
 * vCPU; each polls the queues of the devices it serves with vio/ioloop's
 * scheduler, halts when every queue is back in notification mode, and wakes
 * on the kick IPI that a guest's notify write sends it. */
#ifndef KERNEL_IO_CORE_H
#define KERNEL_IO_CORE_H

#include <stdint.h>

struct manifest;
struct vdev;

/* Boot CPU, while the VMs are built: the I/O CPU for a device, the one the
 * manifest names or else the next in turn; -1 with *why when there is none. */
int io_core_assign(const struct manifest *m, int requested, const char **why);
/* Puts a device's queue in the loop of its I/O core, where it goes back to
 * notification mode after `poll_idle_us` without work; 0, or -1 when full. */
int io_core_add(struct vdev *d, uint32_t poll_idle_us);
/* Any core: the device was kicked; its I/O core looks at it soon. */
void io_core_kick(struct vdev *d);
/* An I/O CPU's part once the VMs are built: serve its devices until every
 * VM has stopped. */
void io_core_run(const struct manifest *m);

#endif
