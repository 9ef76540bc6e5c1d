/* The MADT (ACPI 6.5 §5.2.12): one enabled local APIC per vCPU, APIC IDs
 * 0..ncpus-1, and one I/O APIC whose inputs start at GSI 0.
 *
 * No Interrupt Source Overrides: without one, ISA IRQ n is GSI n, edge-
 * triggered and active high (§5.2.12.5), which is right for the VM's only ISA
 * device, COM1 on IRQ 4. The overrides a PC needs do not apply: IRQ 0 -> GSI 2
 * is the PIT's wiring (there is no PIT), and the SCI's level/low override has
 * no SCI to describe on a hardware-reduced platform. Flags have no
 * PCAT_COMPAT: the VM has no 8259 to mask. */
#include "vplat/acpi_internal.h"

#define LAPIC_ADDRESS 0xfee00000u /* the architectural default (SDM Vol. 3A §11.4.1) */

/* §5.2.12.12: IDs the 8-bit entry cannot hold need the x2APIC entry. */
static int needs_x2apic(uint32_t apic_id)
{
	return apic_id > ACPI_MADT_XAPIC_MAX_ID;
}

/* APIC IDs 0..ACPI_MADT_XAPIC_MAX_ID take 8-byte entries, the rest 16-byte
 * x2APIC entries; computed, not counted, so that no ncpus makes it slow. */
static size_t madt_length(uint32_t ncpus)
{
	uint64_t xapic = ncpus <= ACPI_MADT_XAPIC_MAX_ID ? ncpus : ACPI_MADT_XAPIC_MAX_ID + 1;

	return sizeof(struct acpi_madt) + sizeof(struct acpi_madt_ioapic) +
	       xapic * sizeof(struct acpi_madt_lapic) +
	       (ncpus - xapic) * sizeof(struct acpi_madt_x2apic);
}

/* The ACPI processor UID is the vCPU's index, which here is its APIC ID. */
static uint8_t *write_cpu(uint8_t *p, uint32_t apic_id)
{
	if (needs_x2apic(apic_id)) {
		struct acpi_madt_x2apic *x = (struct acpi_madt_x2apic *)p;

		*x = (struct acpi_madt_x2apic){.h = {ACPI_MADT_X2APIC, sizeof(*x)},
					       .x2apic_id = apic_id,
					       .flags = ACPI_MADT_ENABLED,
					       .uid = apic_id};
		return p + sizeof(*x);
	}
	struct acpi_madt_lapic *l = (struct acpi_madt_lapic *)p;

	*l = (struct acpi_madt_lapic){.h = {ACPI_MADT_LAPIC, sizeof(*l)},
				      .uid = (uint8_t)apic_id,
				      .apic_id = (uint8_t)apic_id,
				      .flags = ACPI_MADT_ENABLED};
	return p + sizeof(*l);
}

uint64_t vacpi_build_madt(struct vacpi_buf *b, const struct vacpi_config *cfg)
{
	size_t len = madt_length(cfg->ncpus);
	uint64_t gpa;
	struct acpi_madt *m = len <= UINT32_MAX ? vacpi_alloc(b, len, &gpa) : NULL;
	uint8_t *p;

	if (!m)
		return 0;
	vacpi_header(&m->header, ACPI_SIG_MADT, (uint32_t)len, ACPI_MADT_REVISION);
	m->lapic_address = LAPIC_ADDRESS;
	m->flags = 0;
	p = (uint8_t *)(m + 1);
	for (uint32_t id = 0; id < cfg->ncpus; id++)
		p = write_cpu(p, id);
	*(struct acpi_madt_ioapic *)p =
		(struct acpi_madt_ioapic){.h = {ACPI_MADT_IOAPIC, sizeof(struct acpi_madt_ioapic)},
					  .id = cfg->ioapic_id,
					  .address = (uint32_t)cfg->ioapic_base,
					  .gsi_base = 0};
	vacpi_seal(&m->header);
	return gpa;
}
