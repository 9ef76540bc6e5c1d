/* The two ways to the host's PCI configuration space: mechanism #1 (ports
 * 0xCF8/0xCFC, PCI 3.0 §3.2.2.3.2: buses 0-255, the first 256 bytes of each
 * function) and ECAM (PCIe Base 5.0 §7.2.2: a 4 KiB window per function). */
#ifndef DRIVERS_PCI_CFG_H
#define DRIVERS_PCI_CFG_H

#include <stdint.h>

#include "drivers/pci_host.h"

/* Mechanism #1: ctx is unused. */
extern const struct pci_cfg_ops pci_cfg_mech1_ops;

/* ECAM: ctx points at one of these; buses outside start..end read all-ones
 * and ignore writes. `base` is the mapped address of bus 0's window. */
struct pci_cfg_ecam {
	volatile uint8_t *base;
	uint8_t start_bus, end_bus;
};
extern const struct pci_cfg_ops pci_cfg_ecam_ops;

#endif
