/* Shared between the VT-d boot and fault files: a unit and its registers. */
#ifndef ARCH_X86_64_VTD_VTD_HW_H
#define ARCH_X86_64_VTD_VTD_HW_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/vtd/dmar.h"
#include "arch/x86_64/vtd/vtd_cap.h"
#include "arch/x86_64/vtd/vtd_pt.h"

struct vtd_unit {
	unsigned index;
	volatile uint8_t *regs; /* mapped uncached */
	const struct dmar_unit *dmar;
	struct vtd_caps caps;
	struct vtd_root root;
	bool translating;
};

extern struct vtd_unit vtd_units[DMAR_MAX_UNITS];
extern unsigned vtd_nunits;

static inline uint32_t vtd_read32(const struct vtd_unit *u, unsigned off)
{
	return *(volatile uint32_t *)(u->regs + off);
}

static inline uint64_t vtd_read64(const struct vtd_unit *u, unsigned off)
{
	return *(volatile uint64_t *)(u->regs + off);
}

static inline void vtd_write32(const struct vtd_unit *u, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(u->regs + off) = v;
}

static inline void vtd_write64(const struct vtd_unit *u, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(u->regs + off) = v;
}

#endif
