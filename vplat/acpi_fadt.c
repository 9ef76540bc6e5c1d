/* The FADT (ACPI 6.5 §5.2.9) of a hardware-reduced platform (§4.1): with
 * HW_REDUCED_ACPI set, the OS ignores the fixed hardware blocks (PM1, PM
 * timer, GPE, SCI, SMI_CMD), which all stay 0, and Linux also sets up no 8259
 * and no PIT. What it keeps: the DSDT, the boot flags, the sleep registers
 * through which \_S5 powers the VM off, and who the hypervisor is. */
#include <string.h>

#include "vplat/acpi_internal.h"

#define FADT_FLAGS                                                                                 \
	(ACPI_FADT_HW_REDUCED_ACPI | ACPI_FADT_PWR_BUTTON | ACPI_FADT_SLP_BUTTON |                 \
	 ACPI_FADT_HEADLESS)

/* No VGA, no CMOS RTC (the VM has neither, and Linux then registers no
 * rtc_cmos device), no 8042 and no legacy ISA devices; MSI is supported: the
 * virtio-pci functions interrupt with MSI-X. */
#define FADT_IAPC_BOOT_ARCH (ACPI_IAPC_VGA_NOT_PRESENT | ACPI_IAPC_CMOS_RTC_NOT_PRESENT)

#define HYPERVISOR_VENDOR_ID "CRVSR\0\0\0"

/* An 8-bit register in I/O space (§5.2.3.2). */
static struct acpi_gas io_byte_register(uint16_t port)
{
	return (struct acpi_gas){.space_id = ACPI_GAS_SYSTEM_IO,
				 .bit_width = 8,
				 .bit_offset = 0,
				 .access_size = ACPI_GAS_ACCESS_BYTE,
				 .address = port};
}

uint64_t vacpi_build_fadt(struct vacpi_buf *b, uint64_t dsdt, const struct vacpi_config *cfg)
{
	uint64_t gpa;
	struct acpi_fadt6 *f = vacpi_alloc(b, sizeof(*f), &gpa);

	if (!f)
		return 0;
	vacpi_header(&f->base.header, ACPI_SIG_FADT, sizeof(*f), ACPI_FADT_REVISION);
	/* No FACS: allowed when both FIRMWARE_CTRL fields are 0 on a hardware-
	 * reduced platform. The 32-bit DSDT field must be 0 when X_DSDT is set. */
	f->base.x_dsdt = dsdt;
	f->base.iapc_boot_arch = FADT_IAPC_BOOT_ARCH;
	f->base.flags = FADT_FLAGS;
	f->base.fadt_minor_version = ACPI_FADT_MINOR_VERSION;
	f->sleep_control_reg = io_byte_register(cfg->sleep_port);
	f->sleep_status_reg = io_byte_register(cfg->sleep_port);
	memcpy(f->hypervisor_vendor_id, HYPERVISOR_VENDOR_ID, sizeof(f->hypervisor_vendor_id));
	vacpi_seal(&f->base.header);
	return gpa;
}
