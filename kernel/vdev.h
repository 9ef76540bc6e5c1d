/* A VM's virtio devices (design.md, data flow 3): its virtual PCI bus with
 * one virtio-pci function per manifest device, the ports and MMIO windows the
 * guest reaches them through, the backends (ramdisk, virtual switch), and the
 * glue between the pure logic in vio/ and the hypervisor: locks, interrupt
 * delivery by MSI, kicks to the I/O core that serves each device (or, with
 * `io.mode: "exit"`, the work done in the exit handler), and the `@io_stats`
 * and `@vio_error` records.
 *
 * Locks: `lock` serializes a device's registers and its request (blk) or
 * transmit (net) queue; a net device's `rx_lock` serializes its receive queue
 * and its interrupt state, which senders on other I/O cores reach through
 * the switch. Order: the VM's PCI lock, then a device's lock, then a
 * switch's lock, then any device's rx_lock; nobody waits for anything while
 * holding an rx_lock, so senders on two cores never deadlock. */
#ifndef KERNEL_VDEV_H
#define KERNEL_VDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/blk_ahci.h"
#include "kernel/manifest.h"
#include "kernel/spinlock.h"
#include "vio/blk.h"
#include "vio/ioloop.h"
#include "vio/net.h"
#include "vio/pci.h"
#include "vio/ramdisk.h"
#include "vio/vic.h"

struct vm;
struct switch_slot;

/* The guest-physical windows of the virtual PCI bus: ECAM for bus 0, and the
 * 32-bit hole the BARs are placed in (below the I/O APIC and local APIC). */
#define VDEV_ECAM_BASE MANIFEST_PCI_ECAM_BASE
#define VDEV_ECAM_SIZE 0x100000ull
#define VDEV_HOLE_BASE 0xc0000000ull
#define VDEV_HOLE_SIZE 0x3ec00000ull /* up to 0xfec00000 */

struct vdev {
	struct vm *vm;
	uint32_t index; /* in the VM's manifest device list */
	const struct manifest_device *cfg;
	int io_core; /* the CPU that serves it; -1 in exit mode */
	struct spinlock lock, rx_lock;
	struct virtio_pci *vp; /* the transport, inside blk or net */
	struct vblk *blk;
	struct vnet *net;
	struct switch_slot *sw; /* net: its switch and the switch's lock */
	struct ramdisk ramdisk; /* blk: the ramdisk backend's state */
	struct blk_ahci *ahci;	/* blk: the ahci backend's, or NULL */
	struct ioloop_queue lq; /* its place in the I/O core's loop */
	struct vic vic;		/* blk: completion interrupts coalesced (io.coalescing) */
	bool kicked;		/* a notify write waits for the I/O core */
	bool error_reported;	/* `@vio_error` for the current failure */
	uint64_t kicks, irqs, irqs_undelivered, exit_mode_runs;
};

/* The VM's bus and devices; NULL in a VM without virtio devices whose
 * firmware tables announce no PCI bus either. */
struct vm_pci {
	struct spinlock lock; /* the bus: 0xCF8 and configuration cycles */
	struct vpci_bus bus;
	struct gmem gmem;
	struct vdev *by_slot[VPCI_MAX_DEVICES + 1]; /* by PCI device number */
	struct vdev *dev[MANIFEST_MAX_DEVICES];
	unsigned ndev;
};

/* The work an I/O core's loop does on a device (vio/ioloop.h). */
extern const struct ioloop_queue_ops vdev_queue_ops;

/* Builds the VM's virtio devices from the manifest and registers their
 * windows, and the bus alone when `bus_announced` (its ACPI tables name it)
 * even without devices; NULL, or why the VM cannot run. */
const char *vdev_attach_all(struct vm *vm, const struct manifest *m, bool bus_announced);
/* I/O core: a blk device's completions held by vIC whose time is up get
 * their interrupt; returns the earliest deadline still held (TSC), or 0. */
uint64_t vdev_coalescing_due(struct vdev *d, uint64_t now_tsc);
/* I/O core: when a blk device's disk completes its next request (TSC), or 0
 * when it holds none (a ramdisk without a service time never does). The
 * queue need not poll meanwhile: the core wakes for it then, as for a
 * kick. */
uint64_t vdev_disk_due(struct vdev *d);
/* `@io_stats` of every device of the VM (`final` once it has stopped). */
void vdev_report_stats(const struct vm *vm, bool final);

#endif
