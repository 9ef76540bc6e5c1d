/* Capability decoding (Intel VT-d spec §11.4.1-§11.4.3) and the fault
 * reasons of §7.1.3. */
#include "arch/x86_64/vtd/vtd_cap.h"
#include "arch/x86_64/vtd/vtd_regs.h"

#define SAGAW_39 (1u << 1) /* 3-level */
#define SAGAW_48 (1u << 2) /* 4-level */
#define SAGAW_57 (1u << 3) /* 5-level */

unsigned vtd_pick_levels(unsigned sagaw)
{
	/* 4 levels cover the 46-bit physical space of today's servers; 3 is
	 * what QEMU's default unit offers */
	if (sagaw & SAGAW_48)
		return 4;
	if (sagaw & SAGAW_39)
		return 3;
	if (sagaw & SAGAW_57)
		return 5;
	return 0;
}

void vtd_decode_caps(uint32_t ver, uint64_t cap, uint64_t ecap, struct vtd_caps *out)
{
	*out = (struct vtd_caps){
		.ver_major = (ver >> 4) & 0xf,
		.ver_minor = ver & 0xf,
		.sagaw = VTD_CAP_SAGAW(cap),
		.mgaw = VTD_CAP_MGAW(cap),
		.domains = 1u << (4 + 2 * VTD_CAP_ND(cap)),
		.levels = vtd_pick_levels(VTD_CAP_SAGAW(cap)),
		.fault_offset = VTD_CAP_FRO(cap),
		.fault_count = VTD_CAP_NFR(cap),
		.iotlb_offset = VTD_ECAP_IRO(ecap),
		.write_buffer_flush = cap & VTD_CAP_RWBF,
		.caching_mode = cap & VTD_CAP_CM,
		.coherent = ecap & VTD_ECAP_C,
		.qi = ecap & VTD_ECAP_QI,
		.ir = ecap & VTD_ECAP_IR,
		.eim = ecap & VTD_ECAP_EIM,
		.pass_through = ecap & VTD_ECAP_PT,
	};
}

const char *vtd_fault_reason(unsigned reason)
{
	static const char *const reasons[] = {
		[0x1] = "root entry not present",
		[0x2] = "context entry not present",
		[0x3] = "context entry invalid",
		[0x4] = "address beyond the domain's width",
		[0x5] = "write to a page without W",
		[0x6] = "read of a page without R",
		[0x7] = "paging entry unreadable",
		[0x8] = "root table unreadable",
		[0x9] = "context table unreadable",
		[0xa] = "root entry reserved bits set",
		[0xb] = "context entry reserved bits set",
		[0xc] = "paging entry reserved bits set",
		[0xd] = "request blocked by the context entry's type",
	};

	if (reason < sizeof(reasons) / sizeof(reasons[0]) && reasons[reason])
		return reasons[reason];
	return "other";
}
