/* PCI bus 0 through configuration mechanism #1 (PCI 3.0 §3.2.2.3.2): 32-bit
 * accesses of ports 0xCF8 (address) and 0xCFC (data) only, narrower fields
 * are cut out of their dword. Each access is a port exit to the hypervisor,
 * so this is for discovery and set-up, never for the I/O path. */
#include "guest-shim/virtio.h"

#define PCI_SLOTS	  32
#define PCI_CAP_LIST_MAX  48 /* capabilities in 192 bytes: ends a looping list */
#define PCI_BAR_MEM_TYPE  0x6
#define PCI_BAR_MEM_64	  0x4
#define PCI_BAR_ADDR_MASK (~0xfull)
#define PCI_CAP_FIRST	  0x40 /* capabilities live above the standard header */
#define PCI_STATUS_DWORD  0x04 /* COMMAND (low half) and STATUS (high half) */
#define PCI_COMMAND_DWORD 0x04
#define PCI_STATUS_SHIFT  16
#define PCI_VENDOR_ABSENT 0xffff
#define PCI_DWORD_MASK	  0xfc

static uint32_t config_address(unsigned slot, unsigned off)
{
	return PCI_CONFIG_ENABLE | (uint32_t)slot << 11 | (off & PCI_DWORD_MASK);
}

uint32_t pci_read32(unsigned slot, unsigned off)
{
	uint32_t v;

	__asm__ volatile("outl %0, %1" ::"a"(config_address(slot, off)),
			 "Nd"((uint16_t)PCI_CONFIG_ADDRESS));
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)PCI_CONFIG_DATA));
	return v;
}

void pci_write32(unsigned slot, unsigned off, uint32_t value)
{
	__asm__ volatile("outl %0, %1" ::"a"(config_address(slot, off)),
			 "Nd"((uint16_t)PCI_CONFIG_ADDRESS));
	__asm__ volatile("outl %0, %1" ::"a"(value), "Nd"((uint16_t)PCI_CONFIG_DATA));
}

uint8_t pci_read8(unsigned slot, unsigned off)
{
	return (uint8_t)(pci_read32(slot, off) >> (off & 3) * 8);
}

uint16_t pci_read16(unsigned slot, unsigned off)
{
	return (uint16_t)(pci_read32(slot, off) >> (off & 2) * 8);
}

int pci_find_virtio(uint16_t type, unsigned nth)
{
	for (unsigned slot = 1; slot < PCI_SLOTS; slot++) {
		uint32_t id = pci_read32(slot, PCI_VENDOR_ID);

		if ((id & 0xffff) == PCI_VENDOR_ABSENT)
			continue;
		if ((id & 0xffff) == VIRTIO_PCI_VENDOR &&
		    id >> 16 == VIRTIO_PCI_DEVICE_BASE + (uint32_t)type && nth-- == 0)
			return (int)slot;
	}
	return -1;
}

/* PCI 3.0 §6.7: the list starts at CAPABILITY_LIST when STATUS says there
 * is one; each entry's second byte points at the next, 0 ends it. */
unsigned pci_find_cap(unsigned slot, uint8_t id, unsigned after)
{
	unsigned off;

	if (!(pci_read32(slot, PCI_STATUS_DWORD) >> PCI_STATUS_SHIFT & PCI_STATUS_CAP_LIST))
		return 0;
	off = pci_read8(slot, after ? after + 1 : PCI_CAPABILITY_LIST) & PCI_DWORD_MASK;
	for (unsigned n = 0; off >= PCI_CAP_FIRST && n < PCI_CAP_LIST_MAX; n++) {
		if (pci_read8(slot, off) == id)
			return off;
		off = pci_read8(slot, off + 1) & PCI_DWORD_MASK;
	}
	return 0;
}

/* PCI 3.0 §6.2.5.1: a memory BAR's low 4 bits are flags; a 64-bit one takes
 * the next BAR as its high half. */
uint64_t pci_bar_addr(unsigned slot, unsigned bar)
{
	uint32_t lo = pci_read32(slot, PCI_BASE_ADDRESS_0 + 4 * bar);
	uint64_t addr = lo & PCI_BAR_ADDR_MASK;

	if (lo & 1)
		return 0; /* an I/O BAR */
	if ((lo & PCI_BAR_MEM_TYPE) == PCI_BAR_MEM_64 && bar < 5)
		addr |= (uint64_t)pci_read32(slot, PCI_BASE_ADDRESS_0 + 4 * (bar + 1)) << 32;
	return addr;
}

/* The high half of the dword is STATUS, whose bits are write-one-to-clear:
 * writing zeros there leaves it alone. */
void pci_enable(unsigned slot)
{
	uint32_t cmd = pci_read32(slot, PCI_COMMAND_DWORD) & 0xffff;

	pci_write32(slot, PCI_COMMAND_DWORD, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}
