/*
 * The DSDT of every corevisor VM (ACPI 6.5 §5.2.11.1), compiled at build time
 * by Debian's iasl into build/include/generated/dsdt_aml.h for
 * vplat/acpi_dsdt.c.
 *
 * It is static, the same for every VM: the PCI windows of the virtual
 * platform are fixed (kernel/vdev.h: ECAM at 0xb0000000 for bus 0, BARs in
 * 0xc0000000..0xfebfffff) and everything that differs between VMs (the vCPUs,
 * the sleep port) lives in the MADT and FADT that vplat/ writes at run time.
 * vplat/acpi_build.h names the same windows (VACPI_ECAM_BASE, ...);
 * vacpi_build refuses a configuration that disagrees with them, and
 * tests/unit/test_vacpi.c checks this file's descriptors against them.
 *
 * The platform is hardware-reduced (FADT HW_REDUCED_ACPI): no SCI, no GPEs,
 * no fixed events, so there are no methods here, only names.
 */
DefinitionBlock ("", "DSDT", 2, "CRVSR ", "COREVISR", 1)
{
    Scope (\_SB)
    {
        /* The PCI Express host bridge (§6.1.5: PNP0A08, compatible with
         * PCI's PNP0A03) of segment 0; its ECAM is announced in the MCFG. */
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A08"))
            Name (_CID, EisaId ("PNP0A03"))
            Name (_SEG, Zero)
            Name (_BBN, Zero)
            Name (_UID, Zero)
            /* What the bridge decodes (§6.4): bus 0 only, the 0xCF8/0xCFC
             * configuration ports it consumes, the rest of port space for
             * devices behind it, and the 32-bit BAR window, which ends below
             * the I/O APIC at 0xfec00000. */
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000,             // Granularity
                    0x0000,             // Range Minimum
                    0x0000,             // Range Maximum
                    0x0000,             // Translation Offset
                    0x0001)             // Length
                IO (Decode16,
                    0x0CF8,             // Range Minimum
                    0x0CF8,             // Range Maximum
                    0x01,               // Alignment
                    0x08)               // Length
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000,             // Granularity
                    0x0000,             // Range Minimum
                    0x0CF7,             // Range Maximum
                    0x0000,             // Translation Offset
                    0x0CF8)             // Length
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000,             // Granularity
                    0x0D00,             // Range Minimum
                    0xFFFF,             // Range Maximum
                    0x0000,             // Translation Offset
                    0xF300)             // Length
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000,         // Granularity
                    0xC0000000,         // Range Minimum
                    0xFEBFFFFF,         // Range Maximum
                    0x00000000,         // Translation Offset
                    0x3EC00000)         // Length
            })
        }

        /* Motherboard resources (PNP0C02): the ECAM window of bus 0. Linux
         * uses an MCFG region only if firmware also reserves it here
         * (PCI Firmware Specification 3.2 §4.1.2). */
        Device (MRES)
        {
            Name (_HID, EisaId ("PNP0C02"))
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadWrite,
                    0xB0000000,         // Address Base
                    0x00100000)         // Address Length
            })
        }

        /* The first PC serial port, a 16550 (PNP0501) on ISA IRQ 4, which
         * the MADT's I/O APIC delivers as GSI 4, edge-triggered, active high. */
        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16,
                    0x03F8,             // Range Minimum
                    0x03F8,             // Range Maximum
                    0x01,               // Alignment
                    0x08)               // Length
                IRQNoFlags ()
                    {4}
            })
        }
    }

    /* Soft off (§7.4.2.5): SLP_TYP 5 for the FADT's SLEEP_CONTROL_REG, which
     * on a hardware-reduced platform takes SLP_TYP in bits 2-4 and SLP_EN in
     * bit 5 (§4.8.3.7); the two reserved elements complete the package. */
    Name (\_S5, Package (0x04)
    {
        0x05,
        Zero,
        Zero,
        Zero
    })
}
