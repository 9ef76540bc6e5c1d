/* PCI configuration-space constants (PCI Local Bus 3.0 §6, PCI Express Base
 * §7.2.2 for ECAM), named as in the specifications. Constants only. */
#ifndef VIO_PCI_REGS_H
#define VIO_PCI_REGS_H

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a
#define PCI_HEADER_TYPE		0x0e
#define PCI_BASE_ADDRESS_0	0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_COMMAND_MEMORY	 0x0002
#define PCI_COMMAND_MASTER	 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST	 0x0010

#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09

/* MSI-X capability: id, next, le16 message control, le32 table offset|BIR,
 * le32 PBA offset|BIR (PCI 3.0 §6.8.2) */
#define PCI_MSIX_FLAGS		    2
#define PCI_MSIX_FLAGS_QSIZE	    0x07ff
#define PCI_MSIX_FLAGS_MASKALL	    0x4000
#define PCI_MSIX_FLAGS_ENABLE	    0x8000
#define PCI_MSIX_TABLE		    4
#define PCI_MSIX_PBA		    8
#define PCI_MSIX_CAP_SIZE	    12
#define PCI_MSIX_ENTRY_SIZE	    16
#define PCI_MSIX_ENTRY_LOWER_ADDR   0
#define PCI_MSIX_ENTRY_UPPER_ADDR   4
#define PCI_MSIX_ENTRY_DATA	    8
#define PCI_MSIX_ENTRY_VECTOR_CTRL  12
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 1

/* The configuration mechanism #1 ports (PCI 3.0 §3.2.2.3.2) */
#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA	   0xcfc
#define PCI_CONFIG_ENABLE  0x80000000u

/* ECAM: bus << 20 | device << 15 | function << 12 | register */
#define PCI_ECAM_BUS_SHIFT 20
#define PCI_ECAM_DEV_SHIFT 15
#define PCI_ECAM_FN_SHIFT  12

#define PCI_CLASS_BRIDGE_HOST	   0x0600
#define PCI_CLASS_STORAGE_SCSI	   0x0100
#define PCI_CLASS_NETWORK_ETHERNET 0x0200
#define PCI_VENDOR_ID_INTEL	   0x8086
#define PCI_DEVICE_ID_Q35_HOST	   0x29c0

/* An MSI message (Intel SDM Vol. 3A §11.11): address 0xFEEx_xxxx with the
 * destination APIC ID in bits 19:12; data with the vector in bits 7:0. */
#define MSI_ADDR_BASE	     0xfee00000u
#define MSI_ADDR_DEST_SHIFT  12
#define MSI_ADDR_DEST_MASK   0xff
#define MSI_DATA_VECTOR_MASK 0xff

/* What enumerating a real bus needs beyond the above (PCI Local Bus 3.0
 * §6.1-§6.2.5, §6.8.1; PCI-to-PCI Bridge Architecture 1.2 §3.2) */
#define PCI_CLASS_REVISION	    0x08 /* revision, prog-if, subclass, class */
#define PCI_HEADER_TYPE_MASK	    0x7f
#define PCI_HEADER_TYPE_MULTIFUNC   0x80 /* function 0 only: functions 1-7 may exist */
#define PCI_HEADER_TYPE_NORMAL	    0
#define PCI_HEADER_TYPE_BRIDGE	    1
#define PCI_HEADER_TYPE_CARDBUS	    2
#define PCI_BRIDGE_BUS_NUMBERS	    0x18 /* primary, secondary, subordinate, latency */
#define PCI_CARDBUS_CAPABILITY_LIST 0x14
#define PCI_COMMAND_IO		    0x0001
#define PCI_CAP_ID_MSI		    0x05
#define PCI_CAP_LIST_NEXT	    1
#define PCI_CAP_PTR_MASK	    0xfc /* the low two bits are reserved */
#define PCI_STD_HEADER_SIZEOF	    0x40 /* capabilities start at or after it */
#define PCI_NUM_BARS_NORMAL	    6
#define PCI_NUM_BARS_BRIDGE	    2
#define PCI_BASE_ADDRESS_SPACE_IO   0x01
#define PCI_BASE_ADDRESS_MEM_TYPE   0x06
#define PCI_BASE_ADDRESS_MEM_64	    0x04
#define PCI_BASE_ADDRESS_MEM_PREF   0x08
#define PCI_BASE_ADDRESS_MEM_MASK   0xfffffff0u
#define PCI_BASE_ADDRESS_IO_MASK    0xfffffffcu
#define PCI_VENDOR_ID_NONE	    0xffff /* no function answers: all-ones (§6.2.1) */
#define PCI_CLASS_STORAGE_SATA	    0x0106
#define PCI_PROG_IF_SATA_AHCI	    0x01
#define PCI_CLASS_BRIDGE_PCI	    0x0604
#define PCI_DEVICE_ID_82574L	    0x10d3 /* e1000e; QEMU -device e1000e */
#define PCI_MAX_BUSES		    256
#define PCI_MAX_DEVICES		    32
#define PCI_MAX_FUNCTIONS	    8

#endif
