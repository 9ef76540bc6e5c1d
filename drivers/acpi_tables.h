/* ACPI table layouts (ACPI 6.5: §5.2.5 RSDP, §5.2.6 header, §5.2.7 RSDT,
 * §5.2.8 XSDT, §5.2.9 FADT, §5.2.12 MADT). Only the fields corevisor reads. */
#ifndef DRIVERS_ACPI_TABLES_H
#define DRIVERS_ACPI_TABLES_H

#include <stdint.h>

#define ACPI_SIG_RSDP "RSD PTR "
#define ACPI_SIG_RSDT "RSDT"
#define ACPI_SIG_XSDT "XSDT"
#define ACPI_SIG_MADT "APIC"
#define ACPI_SIG_FADT "FACP"
#define ACPI_SIG_DSDT "DSDT"
#define ACPI_SIG_DMAR "DMAR"
#define ACPI_SIG_MCFG "MCFG"
#define ACPI_SIG_SPCR "SPCR"

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision; /* 0: ACPI 1.0 (RSDT only), 2: has the XSDT fields */
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over `length` bytes */
	uint8_t reserved[3];
} __attribute__((packed));

#define ACPI_RSDP_V1_LENGTH 20

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_gas { /* generic address structure, §5.2.3.2 */
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

#define ACPI_GAS_SYSTEM_MEMORY 0
#define ACPI_GAS_SYSTEM_IO     1

struct acpi_fadt {
	struct acpi_sdt_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t fadt_minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
} __attribute__((packed));

#define ACPI_FADT_TMR_VAL_EXT	(1u << 8) /* PM timer is 32 bits wide */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)

struct acpi_madt {
	struct acpi_sdt_header header;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

#define ACPI_MADT_PCAT_COMPAT 1u

struct acpi_madt_entry {
	uint8_t type;
	uint8_t length;
} __attribute__((packed));

#define ACPI_MADT_LAPIC		 0
#define ACPI_MADT_IOAPIC	 1
#define ACPI_MADT_ISO		 2
#define ACPI_MADT_LAPIC_OVERRIDE 5
#define ACPI_MADT_X2APIC	 9

#define ACPI_MADT_ENABLED	 1u
#define ACPI_MADT_ONLINE_CAPABLE 2u

struct acpi_madt_lapic {
	struct acpi_madt_entry h;
	uint8_t uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct acpi_madt_ioapic {
	struct acpi_madt_entry h;
	uint8_t id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct acpi_madt_iso {
	struct acpi_madt_entry h;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct acpi_madt_lapic_override {
	struct acpi_madt_entry h;
	uint16_t reserved;
	uint64_t address;
} __attribute__((packed));

struct acpi_madt_x2apic {
	struct acpi_madt_entry h;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} __attribute__((packed));

/* Serial Port Console Redirection table (Microsoft SPCR spec, revisions 1-4);
 * revision 3 adds uart_clock_hz, revision 4 precise_baud. */
struct acpi_spcr {
	struct acpi_sdt_header header;
	uint8_t interface_type; /* rev 1: 0 = 16550, 1 = 16450; rev 2+: DBG2 serial subtype */
	uint8_t reserved0[3];
	struct acpi_gas base; /* address 0: console redirection disabled */
	uint8_t interrupt_type;
	uint8_t irq;
	uint32_t gsi;
	uint8_t baud_code; /* 0 = as is, 3 = 9600, 4 = 19200, 6 = 57600, 7 = 115200 */
	uint8_t parity;
	uint8_t stop_bits;
	uint8_t flow_control;
	uint8_t terminal_type;
	uint8_t language;
	uint16_t pci_device_id;
	uint16_t pci_vendor_id;
	uint8_t pci_bus;
	uint8_t pci_device;
	uint8_t pci_function;
	uint32_t pci_flags;
	uint8_t pci_segment;
	uint32_t uart_clock_hz; /* rev 3+; 0 = unknown */
	uint32_t precise_baud;	/* rev 4+; 0 = use baud_code */
} __attribute__((packed));

#define ACPI_SPCR_MIN_LENGTH	  80u /* revisions 1 and 2: up to the reserved dword at 76 */
#define ACPI_SPCR_16550		  0x00
#define ACPI_SPCR_16450		  0x01 /* 16550 subset */
#define ACPI_SPCR_16550_GAS	  0x12 /* 16550 with the register width from the GAS */
#define ACPI_GAS_ACCESS_UNDEFINED 0
#define ACPI_GAS_ACCESS_BYTE	  1
#define ACPI_GAS_ACCESS_WORD	  2
#define ACPI_GAS_ACCESS_DWORD	  3

/* PCI Express memory-mapped configuration (PCI Firmware Specification 3.2
 * §4.1.2): after the header and 8 reserved bytes, one 16-byte allocation per
 * ECAM window, each for one segment's bus range. */
struct acpi_mcfg {
	struct acpi_sdt_header header;
	uint8_t reserved[8];
} __attribute__((packed));

struct acpi_mcfg_alloc {
	uint64_t base; /* the ECAM address of bus 0 of the segment, even below start_bus */
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved;
} __attribute__((packed));

/* AML opcodes met on the way to \_S5's package (ACPI 6.5 §20.2). */
#define AML_NAME_OP	0x08
#define AML_ZERO_OP	0x00
#define AML_ONE_OP	0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_PACKAGE_OP	0x12
#define AML_ROOT_CHAR	'\\'

#endif
