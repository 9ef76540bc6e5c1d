/* guest-shim: corevisor's own test guest (docs/architecture.md). */
#ifndef GUEST_SHIM_SHIM_H
#define GUEST_SHIM_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/hypercall.h"

extern uint64_t shim_cpuid_count;

void shim_hypercall_init(void);
void shim_install_idt(void);
uint64_t shim_hypercall(uint64_t nr, uint64_t a0, uint64_t a1);
void shim_print(const char *s);
void shim_report(uint64_t key, uint64_t value);

/* The value of `key=` in the command line, or `def`. */
uint64_t shim_arg_uint(const char *cmdline, const char *key, uint64_t def);
bool shim_arg_is(const char *cmdline, const char *key, const char *value);

#endif
