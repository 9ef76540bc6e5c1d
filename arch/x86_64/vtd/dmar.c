/* DMAR parsing (Intel VT-d spec rev 4.1, chapter 8). Every length is checked
 * against the bytes that hold it before a field is read: the table comes from
 * firmware, and a wrong one must cost the IOMMU, never the boot. */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/vtd/dmar.h"
#include "arch/x86_64/vtd/dmar_tables.h"

#define PAGE_BYTES	   4096u
#define SCOPE_HEADER	   sizeof(struct dmar_scope)
#define SCOPE_PATH_ENTRY   2u
#define MAX_REGISTER_PAGES 15u /* the size field's 4 bits */

/* The scopes between `p` and `end` into scopes[] (at most DMAR_MAX_SCOPES). */
static const char *parse_scopes(const uint8_t *p, const uint8_t *end, struct dmar_dev_scope *scopes,
				uint32_t *n, uint32_t *ignored)
{
	while (p < end) {
		struct dmar_scope s;
		struct dmar_dev_scope *d;

		if ((size_t)(end - p) < SCOPE_HEADER)
			return "a device scope is cut off by its structure's end";
		memcpy(&s, p, sizeof(s));
		if (s.length < SCOPE_HEADER + SCOPE_PATH_ENTRY ||
		    (s.length - SCOPE_HEADER) % SCOPE_PATH_ENTRY)
			return "a device scope's length is not 6 + 2 bytes per path entry";
		if (s.length > (size_t)(end - p))
			return "a device scope reaches past its structure's end";
		if ((s.length - SCOPE_HEADER) / SCOPE_PATH_ENTRY > DMAR_MAX_PATH)
			return "a device scope's path crosses too many bridges";
		/* a type from a later revision of the spec is skipped, not fatal */
		if (*n == DMAR_MAX_SCOPES || s.type < DMAR_SCOPE_ENDPOINT ||
		    s.type > DMAR_SCOPE_NAMESPACE) {
			(*ignored)++;
			p += s.length;
			continue;
		}
		d = &scopes[(*n)++];
		*d = (struct dmar_dev_scope){s.type, s.enumeration_id, s.start_bus, 0, {0}};
		for (size_t at = SCOPE_HEADER; at < s.length; at += SCOPE_PATH_ENTRY) {
			uint8_t dev = p[at], fn = p[at + 1];

			if (dev > 31 || fn > 7)
				return "a device scope's path names device > 31 or function > 7";
			d->path[d->npath++] = (uint8_t)(dev << 3 | fn);
		}
		p += s.length;
	}
	return NULL;
}

static const char *parse_drhd(const uint8_t *p, size_t len, struct dmar_info *out)
{
	struct dmar_drhd h;
	struct dmar_unit *u;

	if (len < sizeof(h))
		return "a DRHD is shorter than 16 bytes";
	memcpy(&h, p, sizeof(h));
	if (!h.register_base || h.register_base & (PAGE_BYTES - 1))
		return "a DRHD's register base is 0 or not 4 KiB aligned";
	if ((h.size & DMAR_DRHD_SIZE_MASK) > MAX_REGISTER_PAGES ||
	    h.register_base + ((uint64_t)PAGE_BYTES << (h.size & DMAR_DRHD_SIZE_MASK)) <
		    h.register_base)
		return "a DRHD's register set wraps around";
	if (out->nunits == DMAR_MAX_UNITS) {
		out->units_ignored++;
		return NULL;
	}
	u = &out->units[out->nunits++];
	memset(u, 0, sizeof(*u));
	u->register_base = h.register_base;
	u->register_bytes = (uint64_t)PAGE_BYTES << (h.size & DMAR_DRHD_SIZE_MASK);
	u->segment = h.segment;
	u->include_pci_all = h.flags & DMAR_DRHD_INCLUDE_PCI_ALL;
	return parse_scopes(p + sizeof(h), p + len, u->scopes, &u->nscopes, &u->scopes_ignored);
}

static const char *parse_rmrr(const uint8_t *p, size_t len, struct dmar_info *out)
{
	struct dmar_rmrr h;
	struct dmar_rmrr_info *r;

	if (len < sizeof(h))
		return "an RMRR is shorter than 24 bytes";
	memcpy(&h, p, sizeof(h));
	/* §8.4: base 4 KiB aligned, limit + 1 a multiple of 4 KiB */
	if (h.base & (PAGE_BYTES - 1) || (h.limit & (PAGE_BYTES - 1)) != PAGE_BYTES - 1 ||
	    h.limit < h.base)
		return "an RMRR's region is not whole 4 KiB pages from base to limit";
	if (out->nrmrr == DMAR_MAX_RMRR) {
		out->rmrr_ignored++;
		return NULL;
	}
	r = &out->rmrr[out->nrmrr++];
	memset(r, 0, sizeof(*r));
	r->segment = h.segment;
	r->base = h.base;
	r->limit = h.limit;
	return parse_scopes(p + sizeof(h), p + len, r->scopes, &r->nscopes, &r->scopes_ignored);
}

static const char *parse_struct(uint16_t type, const uint8_t *p, size_t len, struct dmar_info *out)
{
	switch (type) {
	case DMAR_TYPE_DRHD:
		return parse_drhd(p, len, out);
	case DMAR_TYPE_RMRR:
		return parse_rmrr(p, len, out);
	case DMAR_TYPE_ATSR:
		out->atsr++;
		break;
	case DMAR_TYPE_RHSA:
		out->rhsa++;
		break;
	case DMAR_TYPE_ANDD:
		out->andd++;
		break;
	case DMAR_TYPE_SATC:
		out->satc++;
		break;
	default: /* §8.2: software skips types it does not know */
		out->unknown++;
	}
	return NULL;
}

static const char *parse_structs(const uint8_t *t, size_t len, struct dmar_info *out)
{
	size_t at = sizeof(struct dmar_table);

	while (at < len) {
		struct dmar_struct_header h;
		const char *why;

		if (len - at < sizeof(h))
			return "a remapping structure's header is cut off by the table's end";
		memcpy(&h, t + at, sizeof(h));
		if (h.length < sizeof(h))
			return "a remapping structure is shorter than its header";
		if (h.length > len - at)
			return "a remapping structure reaches past the table's end";
		why = parse_struct(h.type, t + at, h.length, out);
		if (why)
			return why;
		at += h.length;
	}
	return NULL;
}

int dmar_parse(const void *table, size_t len, struct dmar_info *out, const char **why)
{
	struct dmar_table t;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(t)) {
		*why = "the DMAR table is shorter than 48 bytes";
		return -1;
	}
	memcpy(&t, table, sizeof(t));
	if (memcmp(t.header.signature, "DMAR", 4) || t.header.length != len) {
		*why = "the DMAR header's signature or length is wrong";
		return -1;
	}
	*why = parse_structs(table, len, out);
	if (!*why && !out->nunits && !out->units_ignored)
		*why = "the DMAR table lists no remapping unit";
	if (*why) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->host_address_width = (uint8_t)(t.host_address_width + 1);
	out->intr_remap = t.flags & DMAR_FLAG_INTR_REMAP;
	out->x2apic_opt_out = t.flags & DMAR_FLAG_X2APIC_OPT_OUT;
	out->dma_ctrl_opt_in = t.flags & DMAR_FLAG_DMA_CTRL_OPT_IN;
	return 0;
}

static const char *scope_prefix(uint8_t type)
{
	switch (type) {
	case DMAR_SCOPE_BRIDGE:
		return "bridge";
	case DMAR_SCOPE_IOAPIC:
		return "ioapic";
	case DMAR_SCOPE_HPET:
		return "hpet";
	case DMAR_SCOPE_NAMESPACE:
		return "acpi";
	default:
		return NULL;
	}
}

void dmar_format_scope(const struct dmar_dev_scope *s, char *buf, size_t len)
{
	const char *prefix = scope_prefix(s->type);
	size_t at = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (s->type == DMAR_SCOPE_BRIDGE)
		at = (size_t)snprintf(buf, len, "%s=", prefix);
	else if (prefix)
		at = (size_t)snprintf(buf, len, "%s%u=", prefix, s->enumeration_id);
	for (unsigned i = 0; i < s->npath && at < len; i++) {
		unsigned dev = s->path[i] >> 3, fn = s->path[i] & 7;

		if (i == 0)
			at += (size_t)snprintf(buf + at, len - at, "%02x:%02x.%u", s->start_bus,
					       dev, fn);
		else
			at += (size_t)snprintf(buf + at, len - at, "/%02x.%u", dev, fn);
	}
}
