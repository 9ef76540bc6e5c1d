/* What CPUID tells a guest (kernel/vcpuid.c). */
#ifndef KERNEL_VCPUID_H
#define KERNEL_VCPUID_H

#include <stdint.h>

#include "arch/x86_64/cpu.h"

struct vcpu;

struct cpuid_regs vcpuid(const struct vcpu *v, uint32_t leaf, uint32_t subleaf);

#endif
