/* Configuration-space access on the host: one dword at a time. Mechanism #1
 * is an address/data port pair, so an access is two port operations that
 * must not interleave with another CPU's: a lock keeps them together. */
#include "drivers/pci_cfg.h"
#include "arch/x86_64/cpu.h"
#include "kernel/spinlock.h"

#define MECH1_BUS_SHIFT 16 /* PCI 3.0 figure 3-2: CONFIG_ADDRESS */
#define MECH1_DEV_SHIFT 11
#define MECH1_FN_SHIFT	8
#define MECH1_REG_MASK	0xfc /* 256 bytes, dword-aligned */
#define ECAM_REG_MASK	0xffc
#define ALL_ONES	0xffffffffu

static struct spinlock mech1_lock = SPINLOCK_INIT;

static uint32_t mech1_address(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return PCI_CONFIG_ENABLE | (bus & 0xff) << MECH1_BUS_SHIFT |
	       (dev & 0x1f) << MECH1_DEV_SHIFT | (fn & 7) << MECH1_FN_SHIFT |
	       (reg & MECH1_REG_MASK);
}

static uint32_t mech1_read(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	uint64_t flags;
	uint32_t v;

	(void)ctx;
	if (reg > MECH1_REG_MASK) /* the extended space is ECAM's only */
		return ALL_ONES;
	flags = spin_lock_irqsave(&mech1_lock);
	outl(PCI_CONFIG_ADDRESS, mech1_address(bus, dev, fn, reg));
	v = inl(PCI_CONFIG_DATA);
	spin_unlock_irqrestore(&mech1_lock, flags);
	return v;
}

static void mech1_write(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
			uint32_t val)
{
	uint64_t flags;

	(void)ctx;
	if (reg > MECH1_REG_MASK)
		return;
	flags = spin_lock_irqsave(&mech1_lock);
	outl(PCI_CONFIG_ADDRESS, mech1_address(bus, dev, fn, reg));
	outl(PCI_CONFIG_DATA, val);
	spin_unlock_irqrestore(&mech1_lock, flags);
}

const struct pci_cfg_ops pci_cfg_mech1_ops = {mech1_read, mech1_write};

static volatile uint32_t *ecam_reg(const struct pci_cfg_ecam *e, unsigned bus, unsigned dev,
				   unsigned fn, unsigned reg)
{
	if (bus < e->start_bus || bus > e->end_bus)
		return NULL;
	return (volatile uint32_t *)(e->base + ((uint64_t)bus << PCI_ECAM_BUS_SHIFT |
						(uint64_t)(dev & 0x1f) << PCI_ECAM_DEV_SHIFT |
						(uint64_t)(fn & 7) << PCI_ECAM_FN_SHIFT |
						(reg & ECAM_REG_MASK)));
}

static uint32_t ecam_read(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	volatile uint32_t *r = ecam_reg(ctx, bus, dev, fn, reg);

	return r ? *r : ALL_ONES;
}

static void ecam_write(void *ctx, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
		       uint32_t val)
{
	volatile uint32_t *r = ecam_reg(ctx, bus, dev, fn, reg);

	if (r)
		*r = val;
}

const struct pci_cfg_ops pci_cfg_ecam_ops = {ecam_read, ecam_write};
