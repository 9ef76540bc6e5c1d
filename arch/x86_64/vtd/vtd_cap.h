/* What a VT-d unit's version, capability and extended capability registers
 * say (Intel VT-d spec §11.4.1-§11.4.3), decoded. Pure logic. */
#ifndef ARCH_X86_64_VTD_VTD_CAP_H
#define ARCH_X86_64_VTD_VTD_CAP_H

#include <stdbool.h>
#include <stdint.h>

struct vtd_caps {
	unsigned ver_major, ver_minor;
	unsigned sagaw;	  /* supported adjusted guest address widths, the CAP bits */
	unsigned mgaw;	  /* maximum guest address width, bits */
	uint32_t domains; /* domain ids the unit supports */
	unsigned levels;  /* second-level paging levels corevisor uses; 0: none it can */
	unsigned fault_offset, fault_count; /* fault recording registers */
	unsigned iotlb_offset;		    /* the IOTLB invalidate register */
	bool write_buffer_flush;	    /* RWBF: flush before invalidating */
	bool caching_mode, coherent, qi, ir, eim, pass_through;
};

void vtd_decode_caps(uint32_t ver, uint64_t cap, uint64_t ecap, struct vtd_caps *out);
/* The number of second-level levels to use out of the SAGAW bits: 4 (48-bit)
 * when offered, else 3 (39-bit), else 5 (57-bit); 0 when none of them. */
unsigned vtd_pick_levels(unsigned sagaw);
/* What fault reason `reason` means (§7.1.3, table 7-1), as a constant string. */
const char *vtd_fault_reason(unsigned reason);

#endif
