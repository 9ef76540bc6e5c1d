/* Port 0xe9, the debug console that Bochs and QEMU guests use by habit: each
 * VM gets one, and what it writes reaches the hypervisor's log line by line. */
#ifndef KERNEL_DEBUG_PORT_H
#define KERNEL_DEBUG_PORT_H

#define DEBUG_PORT 0xe9

struct vm;

int debug_port_attach(struct vm *vm);

#endif
