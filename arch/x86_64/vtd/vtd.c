/* Boot step: the VT-d units of the DMAR table (Intel VT-d spec rev 4.1).
 * Each gets an empty root table and translation on, with register-based
 * invalidation (§6.5.1): from then on every DMA request of every device the
 * unit covers is blocked and recorded as a fault until a driver gives that
 * device a domain. Today no driver does, so nothing may DMA; guests' devices
 * are emulated and never reach the hardware. */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/vtd/vtd.h"
#include "arch/x86_64/vtd/vtd_hw.h"
#include "arch/x86_64/vtd/vtd_regs.h"
#include "drivers/acpi.h"
#include "kernel/bootinfo.h"
#include "kernel/log.h"
#include "kernel/mem.h"

#define PAGE_BYTES  4096u
#define POLL_LIMIT  (1u << 22) /* register reads before a command counts as stuck */
#define SCOPES_TEXT 512u

struct vtd_unit vtd_units[DMAR_MAX_UNITS];
unsigned vtd_nunits;
static struct dmar_info dmar;

static uint64_t alloc_page(void *ctx)
{
	uint64_t phys = mem_alloc_pages(1, 1);

	(void)ctx;
	if (phys)
		memset(phys_to_virt(phys), 0, PAGE_BYTES);
	return phys;
}

static void free_page(void *ctx, uint64_t phys)
{
	(void)ctx;
	mem_free_pages(phys, 1);
}

static void *virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return phys_to_virt(phys);
}

/* A unit without page-walk coherency (ECAP.C clear) reads the tables from
 * memory, past the caches (§6.3): write the lines back. */
static void flush_lines(void *ctx, const void *p, uint64_t len)
{
	const uintptr_t line = 64;

	(void)ctx;
	for (uintptr_t a = (uintptr_t)p & ~(line - 1); a < (uintptr_t)p + len; a += line)
		__asm__ volatile("clflush (%0)" ::"r"(a) : "memory");
	__asm__ volatile("mfence" ::: "memory");
}

static const struct vtd_pt_mem coherent_mem = {alloc_page, free_page, virt, NULL, NULL};
static const struct vtd_pt_mem flushing_mem = {alloc_page, free_page, virt, flush_lines, NULL};

static void report_unprotected(const char *reason)
{
	struct record r;

	log_printf("iommu: DMA is unprotected: %s\n", reason);
	record_begin(&r, "dma_unprotected");
	record_str(&r, "reason", reason);
	record_emit(&r);
}

/* Waits until (register & mask) == want; false when it never is. */
static bool poll32(const struct vtd_unit *u, unsigned off, uint32_t mask, uint32_t want)
{
	for (uint32_t i = 0; i < POLL_LIMIT; i++) {
		if ((vtd_read32(u, off) & mask) == want)
			return true;
		cpu_relax();
	}
	return false;
}

static bool poll64_clear(const struct vtd_unit *u, unsigned off, uint64_t bit)
{
	for (uint32_t i = 0; i < POLL_LIMIT; i++) {
		if (!(vtd_read64(u, off) & bit))
			return true;
		cpu_relax();
	}
	return false;
}

/* §11.4.4: GCMD takes the states to keep from GSTS plus the one to change. */
static bool global_command(const struct vtd_unit *u, uint32_t bit, bool on)
{
	uint32_t keep = vtd_read32(u, VTD_REG_GSTS) & ~VTD_GCMD_ONE_SHOT;

	vtd_write32(u, VTD_REG_GCMD, on ? keep | bit : keep & ~bit);
	return poll32(u, VTD_REG_GSTS, bit, on ? bit : 0);
}

/* Global context-cache, then IOTLB invalidation (§6.5.1.1, §6.5.1.2), after
 * flushing the write buffer where the unit needs it (CAP.RWBF, §6.8). */
static const char *invalidate_all(const struct vtd_unit *u)
{
	unsigned iotlb = u->caps.iotlb_offset + VTD_REG_IOTLB_FROM_IRO;

	if (u->caps.write_buffer_flush) {
		uint32_t keep = vtd_read32(u, VTD_REG_GSTS) & ~VTD_GCMD_ONE_SHOT;

		vtd_write32(u, VTD_REG_GCMD, keep | VTD_GCMD_WBF);
		if (!poll32(u, VTD_REG_GSTS, VTD_GCMD_WBF, 0))
			return "the write-buffer flush did not finish";
	}
	vtd_write64(u, VTD_REG_CCMD, VTD_CCMD_ICC | VTD_CCMD_GLOBAL);
	if (!poll64_clear(u, VTD_REG_CCMD, VTD_CCMD_ICC))
		return "the context-cache invalidation did not finish";
	vtd_write64(u, iotlb, VTD_IOTLB_IVT | VTD_IOTLB_GLOBAL | VTD_IOTLB_DR | VTD_IOTLB_DW);
	if (!poll64_clear(u, iotlb, VTD_IOTLB_IVT))
		return "the IOTLB invalidation did not finish";
	return NULL;
}

/* Root table, invalidation, translation on (§10.4.5-§10.4.7's sequence). */
static const char *enable_translation(struct vtd_unit *u)
{
	const char *why;

	if (!u->caps.levels)
		return "no second-level paging of 3, 4 or 5 levels (SAGAW)";
	if (u->caps.fault_offset + 16ull * u->caps.fault_count > u->dmar->register_bytes ||
	    u->caps.iotlb_offset + 16ull > u->dmar->register_bytes)
		return "its fault or IOTLB registers lie beyond the DRHD's register set";
	/* firmware may have left queued invalidation on, which register-based
	 * invalidation needs off (§6.5.2) */
	if (vtd_read32(u, VTD_REG_GSTS) & VTD_GCMD_QIE && !global_command(u, VTD_GCMD_QIE, false))
		return "queued invalidation did not turn off";
	vtd_write32(u, VTD_REG_FECTL, VTD_FECTL_IM); /* faults are polled */
	if (vtd_root_init(&u->root, u->caps.coherent ? &coherent_mem : &flushing_mem))
		return "no memory for the root table";
	if (!u->caps.coherent)
		flush_lines(NULL, phys_to_virt(u->root.phys), PAGE_BYTES);
	vtd_write64(u, VTD_REG_RTADDR, u->root.phys | VTD_RTADDR_LEGACY);
	if (!global_command(u, VTD_GCMD_SRTP, true))
		return "the root table pointer was not taken";
	why = invalidate_all(u);
	if (why)
		return why;
	if (!global_command(u, VTD_GCMD_TE, true))
		return "translation did not turn on";
	u->translating = true;
	return NULL;
}

static void format_scopes(const struct dmar_unit *d, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < d->nscopes && at + 1 < len; i++) {
		char one[DMAR_SCOPE_TEXT];

		dmar_format_scope(&d->scopes[i], one, sizeof(one));
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "", one);
	}
}

static void report_unit(const struct vtd_unit *u, const char *status)
{
	const struct vtd_caps *c = &u->caps;
	char scopes[SCOPES_TEXT], version[8];
	struct record r;

	format_scopes(u->dmar, scopes, sizeof(scopes));
	snprintf(version, sizeof(version), "%u.%u", c->ver_major, c->ver_minor);
	log_printf("iommu %u: VT-d %s at 0x%llx, SAGAW 0x%x (%u levels), MGAW %u, %u domains, "
		   "QI %s, IR %s, %s%s; %s\n",
		   u->index, version, (unsigned long long)u->dmar->register_base, c->sagaw,
		   c->levels, c->mgaw, c->domains, c->qi ? "yes" : "no", c->ir ? "yes" : "no",
		   u->dmar->include_pci_all ? "all other devices, " : "devices ", scopes, status);
	record_begin(&r, "iommu");
	record_uint(&r, "unit", u->index);
	record_hex(&r, "address", u->dmar->register_base);
	record_str(&r, "version", version);
	record_uint(&r, "sagaw", c->sagaw);
	record_uint(&r, "levels", c->levels);
	record_uint(&r, "mgaw", c->mgaw);
	record_uint(&r, "domains", c->domains);
	record_bool(&r, "qi", c->qi);
	record_bool(&r, "ir", c->ir);
	record_bool(&r, "include_all", u->dmar->include_pci_all);
	record_str(&r, "scopes", scopes);
	record_str(&r, "status", status);
	record_emit(&r);
}

static void bring_up(struct vtd_unit *u, bool enable)
{
	const char *why = "translating, no device mapped";

	vtd_decode_caps(vtd_read32(u, VTD_REG_VER), vtd_read64(u, VTD_REG_CAP),
			vtd_read64(u, VTD_REG_ECAP), &u->caps);
	if (!enable)
		why = "off (iommu=off on the command line)";
	else if ((why = enable_translation(u)) == NULL)
		why = "translating, no device mapped";
	report_unit(u, why);
}

/* The DMAR table, parsed into `dmar`; NULL or why it cannot be used. */
static const char *read_dmar(uint64_t phys)
{
	const struct acpi_sdt_header *h = phys_to_virt(phys);
	const char *why = NULL;

	if (phys + sizeof(*h) > paging_direct_map_end() ||
	    phys + h->length > paging_direct_map_end())
		return "the DMAR table is beyond the direct map";
	if (dmar_parse(h, h->length, &dmar, &why))
		return why;
	return NULL;
}

static void log_dmar_extras(void)
{
	for (uint32_t i = 0; i < dmar.nrmrr; i++)
		log_printf("iommu: reserved region 0x%llx-0x%llx (RMRR) for %u devices, not mapped "
			   "yet\n",
			   (unsigned long long)dmar.rmrr[i].base,
			   (unsigned long long)dmar.rmrr[i].limit, dmar.rmrr[i].nscopes);
	if (dmar.units_ignored || dmar.rmrr_ignored)
		log_printf("iommu: %u units and %u reserved regions beyond the tables' room are "
			   "not used\n",
			   dmar.units_ignored, dmar.rmrr_ignored);
}

void vtd_init(const struct acpi_info *acpi, const struct boot_info *bi)
{
	char mode[8];
	bool enable =
		!(boot_cmdline_value(bi, "iommu", mode, sizeof(mode)) && !strcmp(mode, "off"));
	const char *why;

	if (!acpi->dmar_phys) {
		report_unprotected("no DMAR table (no VT-d)");
		return;
	}
	why = read_dmar(acpi->dmar_phys);
	if (why) {
		log_printf("iommu: DMAR table unusable: %s\n", why);
		report_unprotected("the DMAR table is malformed");
		return;
	}
	log_printf("iommu: DMAR: %u remapping units, host address width %u, interrupt remapping "
		   "%s\n",
		   dmar.nunits, dmar.host_address_width,
		   dmar.intr_remap ? "offered" : "not offered");
	log_dmar_extras();
	for (uint32_t i = 0; i < dmar.nunits; i++) {
		struct vtd_unit *u = &vtd_units[vtd_nunits];
		uint64_t bytes = dmar.units[i].register_bytes;

		*u = (struct vtd_unit){.index = i, .dmar = &dmar.units[i]};
		u->regs = paging_map_device(dmar.units[i].register_base, bytes);
		if (!u->regs) {
			log_printf("iommu %u: no room in the device window for its registers\n", i);
			continue;
		}
		vtd_nunits++;
		bring_up(u, enable);
	}
	if (!enable)
		report_unprotected("iommu=off on the command line");
	vtd_check_faults();
}
