/* Fault recording (Intel VT-d spec rev 4.1, §7.1.3, §11.4.9.1, §11.4.14):
 * each unit keeps the requests it blocked in a ring of fault recording
 * registers; FSTS.FRI names the first to read. The fault interrupt stays
 * masked and the registers are polled, from the boot and each stats round. */
#include <stdio.h>

#include "arch/x86_64/vtd/vtd.h"
#include "arch/x86_64/vtd/vtd_hw.h"
#include "arch/x86_64/vtd/vtd_regs.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"

#define FRCD_BYTES   16u
#define FRCD_HIGH    8u	 /* the high qword of a fault recording register */
#define FRCD_F_DWORD 12u /* the dword holding F, bit 31 of it */

static struct spinlock fault_lock = SPINLOCK_INIT;

static void report_fault(const struct vtd_unit *u, uint64_t lo, uint64_t hi)
{
	unsigned sid = VTD_FRCD_SID(hi), reason = VTD_FRCD_FR(hi);
	const char *access = VTD_FRCD_T1(hi) ? "read" : "write";
	char source[16];
	struct record r;

	snprintf(source, sizeof(source), "%02x:%02x.%u", sid >> 8, (sid >> 3) & 31, sid & 7);
	log_printf("iommu %u: fault: %s %s of 0x%llx blocked: reason 0x%x, %s\n", u->index, source,
		   access, (unsigned long long)(lo & VTD_FRCD_FI_MASK), reason,
		   vtd_fault_reason(reason));
	record_begin(&r, "iommu_fault");
	record_uint(&r, "unit", u->index);
	record_str(&r, "source", source);
	record_hex(&r, "address", lo & VTD_FRCD_FI_MASK);
	record_str(&r, "access", access);
	record_uint(&r, "reason", reason);
	record_str(&r, "meaning", vtd_fault_reason(reason));
	record_emit(&r);
}

/* The pending records from FSTS.FRI on, each cleared once reported. */
static void drain_unit(const struct vtd_unit *u)
{
	uint32_t fsts = vtd_read32(u, VTD_REG_FSTS);
	unsigned n = u->caps.fault_count, i = VTD_FSTS_FRI(fsts) % n;

	for (unsigned seen = 0; fsts & VTD_FSTS_PPF && seen < n; seen++) {
		unsigned at = u->caps.fault_offset + i * FRCD_BYTES;
		uint64_t hi = vtd_read64(u, at + FRCD_HIGH);

		if (!(hi & VTD_FRCD_F))
			break;
		report_fault(u, vtd_read64(u, at), hi);
		vtd_write32(u, at + FRCD_F_DWORD, (uint32_t)(VTD_FRCD_F >> 32));
		i = (i + 1) % n;
	}
	if (fsts & VTD_FSTS_PFO) {
		log_printf("iommu %u: fault records overflowed: later faults were lost\n",
			   u->index);
		vtd_write32(u, VTD_REG_FSTS, VTD_FSTS_PFO);
	}
}

void vtd_check_faults(void)
{
	spin_lock(&fault_lock);
	for (unsigned i = 0; i < vtd_nunits; i++)
		if (vtd_units[i].caps.fault_count && vtd_units[i].caps.levels)
			drain_unit(&vtd_units[i]);
	spin_unlock(&fault_lock);
}
