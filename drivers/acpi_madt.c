/* MADT (ACPI 6.5 §5.2.12): the CPUs' local APICs and x2APICs, the IOAPICs and
 * the interrupt source overrides. Entries keep their table order, which
 * defines the logical CPU numbering. */
#include <stdio.h>
#include <string.h>

#include "drivers/acpi_internal.h"

/* A CPU is usable if enabled, or if firmware says it can be brought online
 * (ACPI 6.5 §5.2.12.2, the Local APIC Flags, which the x2APIC entry shares). */
static bool cpu_usable(uint32_t flags)
{
	return flags & (ACPI_MADT_ENABLED | ACPI_MADT_ONLINE_CAPABLE);
}

/* Records a usable CPU; past ACPI_MAX_CPUS it is only counted: a machine with
 * more CPUs than the build supports boots on the first ones. */
static void add_cpu(struct acpi_info *out, uint32_t flags, uint32_t apic_id, uint32_t uid)
{
	if (!cpu_usable(flags))
		return;
	if (out->ncpus == ACPI_MAX_CPUS)
		out->cpus_ignored++;
	else
		out->cpus[out->ncpus++] = (struct acpi_cpu){apic_id, uid};
}

static int add_ioapic(struct acpi_info *out, const struct acpi_madt_ioapic *e, char *err,
		      size_t errlen)
{
	if (out->nioapics == ACPI_MAX_IOAPICS) {
		snprintf(err, errlen, "MADT lists more than %u IOAPICs (ACPI_MAX_IOAPICS)",
			 ACPI_MAX_IOAPICS);
		return -1;
	}
	out->ioapics[out->nioapics++] = (struct acpi_ioapic){e->id, e->address, e->gsi_base};
	return 0;
}

static int add_override(struct acpi_info *out, const struct acpi_madt_iso *e, char *err,
			size_t errlen)
{
	if (out->noverrides == ACPI_MAX_OVERRIDES) {
		snprintf(err, errlen, "MADT lists more than %u overrides (ACPI_MAX_OVERRIDES)",
			 ACPI_MAX_OVERRIDES);
		return -1;
	}
	out->overrides[out->noverrides++] = (struct acpi_override){e->source, e->gsi, e->flags};
	return 0;
}

static int parse_entry(const struct acpi_madt_entry *e, struct acpi_info *out, char *err,
		       size_t errlen)
{
	switch (e->type) {
	case ACPI_MADT_LAPIC: { /* §5.2.12.2: 8-bit APIC ID */
		const struct acpi_madt_lapic *l = (const void *)e;

		if (e->length >= sizeof(*l))
			add_cpu(out, l->flags, l->apic_id, l->uid);
		return 0;
	}
	case ACPI_MADT_X2APIC: { /* §5.2.12.12: 32-bit x2APIC ID, for IDs 255 and up */
		const struct acpi_madt_x2apic *x = (const void *)e;

		if (e->length >= sizeof(*x))
			add_cpu(out, x->flags, x->x2apic_id, x->uid);
		return 0;
	}
	case ACPI_MADT_IOAPIC:
		if (e->length < sizeof(struct acpi_madt_ioapic))
			return 0;
		return add_ioapic(out, (const void *)e, err, errlen);
	case ACPI_MADT_ISO:
		if (e->length < sizeof(struct acpi_madt_iso))
			return 0;
		return add_override(out, (const void *)e, err, errlen);
	case ACPI_MADT_LAPIC_OVERRIDE:
		if (e->length >= sizeof(struct acpi_madt_lapic_override))
			out->lapic_addr = ((const struct acpi_madt_lapic_override *)e)->address;
		return 0;
	default:
		return 0;
	}
}

int acpi_parse_madt(const struct acpi_madt *madt, struct acpi_info *out, char *err, size_t errlen)
{
	const uint8_t *p, *end;

	/* The caller mapped header.length bytes, known to cover the SDT header only. */
	if (madt->header.length < sizeof(*madt)) {
		snprintf(err, errlen,
			 "MADT is %u bytes, shorter than its header fields (%zu bytes)",
			 madt->header.length, sizeof(*madt));
		return -1;
	}
	p = (const uint8_t *)(madt + 1);
	end = (const uint8_t *)madt + madt->header.length;
	out->lapic_addr = madt->lapic_address;
	out->pcat_compat = madt->flags & ACPI_MADT_PCAT_COMPAT;
	while (p + sizeof(struct acpi_madt_entry) <= end) {
		const struct acpi_madt_entry *e = (const void *)p;

		if (e->length < sizeof(*e) || p + e->length > end) {
			snprintf(err, errlen, "MADT entry at offset %u has a bad length %u",
				 (unsigned)(p - (const uint8_t *)madt), e->length);
			return -1;
		}
		if (parse_entry(e, out, err, errlen))
			return -1;
		p += e->length;
	}
	if (!out->ncpus) {
		snprintf(err, errlen, "MADT lists no usable CPU");
		return -1;
	}
	return 0;
}
