/* guest-shim's virtio 1.x driver core (OASIS virtio v1.1, cited by section):
 * PCI discovery through configuration mechanism #1, the modern PCI transport
 * found through its capabilities (§4.1.4), device initialization (§3.1.1),
 * MSI-X vectors aimed at the VM's irq vCPU, and split virtqueues (§2.6) with
 * add-chain, kick (honouring NO_NOTIFY and EVENT_IDX, §2.6.7) and get-used.
 * Rings and buffers come from guest RAM at VIO_MEM_BASE and up: the guest is
 * identity-mapped, so a pointer is its guest-physical address. Only vCPU 0
 * drives the devices; the irq vCPU counts their interrupts. */
#ifndef GUEST_SHIM_VIRTIO_H
#define GUEST_SHIM_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "guest-shim/shim.h"
#include "vio/pci_regs.h"
#include "vio/virtio_regs.h"

#define VIO_MEM_BASE	 0x800000 /* above the image and memtouch's range */
#define VIO_QSIZE_MAX	 256	  /* the largest queue corevisor offers */
#define VIO_MAX_QUEUES	 2
#define VIO_PAGE	 4096
#define VIO_TIMEOUT_MS	 10000 /* a request that takes longer is an error */
#define VIO_EXIT_FAIL	 3     /* HC_POWEROFF code: a device broke or timed out */
#define VIO_EXIT_USAGE	 2     /* HC_POWEROFF code: a bad command line */
#define VIO_FEATURE(b)	 (1ull << (b))
#define VIO_OPT_BAD_RING 0x1 /* vio-bad: queue 0's addresses lie past RAM */

/* §2.6.5 a descriptor */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* §2.6.8 a used element */
struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* One buffer of a chain to add: device-readable ones come first. */
struct vio_buf {
	uint64_t addr;
	uint32_t len;
};

/* The driver's side of a split virtqueue. The ring pointers are public so
 * that vio-bad can write malformed descriptors itself. */
struct vq {
	uint16_t index, size;
	volatile struct virtq_desc *desc;
	volatile uint16_t *avail_flags, *avail_idx, *avail_ring, *used_event;
	volatile uint16_t *used_flags, *used_idx, *avail_event;
	volatile struct virtq_used_elem *used_ring;
	volatile uint16_t *notify;
	void *mem; /* the rings, allocated once and reused after a reset */
	bool event_idx;
	uint16_t free_head, num_free;
	uint16_t next_avail; /* the avail idx the next add publishes up to */
	uint16_t published;  /* the avail idx the device last saw */
	uint16_t last_used;  /* the next used entry to reap */
	uint64_t kicks;	     /* notify writes made */
	uint64_t cookie[VIO_QSIZE_MAX];
	uint16_t chain_len[VIO_QSIZE_MAX]; /* 0: the head is free */
};

struct virtio_dev {
	uint8_t slot; /* PCI device number on bus 0 */
	uint16_t type;
	volatile uint8_t *common, *isr, *cfg, *notify_base;
	uint32_t notify_mult;
	uint8_t msix_cap;
	uint16_t msix_nvec;
	volatile uint32_t *msix_table;
	uint64_t features; /* negotiated */
	uint16_t nqueues;
	struct vq q[VIO_MAX_QUEUES];
};

static inline uint64_t vio_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void vio_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* PCI configuration space, 32-bit accesses through 0xCF8/0xCFC (pci.c) */
uint32_t pci_read32(unsigned slot, unsigned off);
void pci_write32(unsigned slot, unsigned off, uint32_t value);
uint8_t pci_read8(unsigned slot, unsigned off);
uint16_t pci_read16(unsigned slot, unsigned off);
/* The `nth` (from 0) virtio function of `type` on bus 0: its device number,
 * or -1. */
int pci_find_virtio(uint16_t type, unsigned nth);
/* The next capability with `id` after offset `after` (0: from the start of
 * the list): its offset, or 0. */
unsigned pci_find_cap(unsigned slot, uint8_t id, unsigned after);
/* Where memory BAR `bar` is decoded, or 0. */
uint64_t pci_bar_addr(unsigned slot, unsigned bar);
/* Turns on memory decoding and bus mastering. */
void pci_enable(unsigned slot);

/* The driver core (virtio.c) */
void vio_mem_init(uint64_t ram_bytes);
/* Zeroed guest RAM, `align` a power of two; ends the VM when RAM is out. */
void *vio_alloc(uint64_t bytes, uint64_t align);
uint64_t vio_ms_to_tsc(uint64_t ms);
uint64_t vio_tsc_to_ns(uint64_t tsc);
/* Prints "guest-shim: msg value" (decimal); value ~0 prints msg alone. */
void vio_log(const char *msg, uint64_t value);
/* Prints the message and ends the VM with `code`. */
__attribute__((noreturn)) void vio_fatal(const char *msg, uint64_t value, uint64_t code);

/* Finds the capabilities of the function at `slot` (§4.1.4): false with a
 * message if one is missing. */
bool virtio_open(struct virtio_dev *d, unsigned slot, uint16_t type);
/* §3.1.1 from reset up to DRIVER_OK: features `want` (beside VERSION_1,
 * and EVENT_IDX when `event_idx`) as far as offered, `nq` queues of `qsize`
 * entries (at most what the device offers), MSI-X to the irq vCPU. */
bool virtio_start(struct virtio_dev *d, uint64_t want, bool event_idx, unsigned nq, unsigned qsize,
		  unsigned opts);
/* Then DRIVER_OK: the device goes live. */
void virtio_driver_ok(const struct virtio_dev *d);
/* Writes 0 to the status and waits until it reads 0 (§4.1.4.3.2). */
bool virtio_reset(struct virtio_dev *d);
uint8_t virtio_status(const struct virtio_dev *d);
bool virtio_has(const struct virtio_dev *d, unsigned feature);
uint8_t virtio_cfg8(const struct virtio_dev *d, unsigned off);
uint16_t virtio_cfg16(const struct virtio_dev *d, unsigned off);
uint32_t virtio_cfg32(const struct virtio_dev *d, unsigned off);
uint64_t virtio_cfg64(const struct virtio_dev *d, unsigned off);
/* The guest vector of queue `q` of the device at `slot`. */
uint8_t virtio_vector(unsigned slot, unsigned q);

/* Adds a chain of `nout` device-readable then `nin` device-writable buffers
 * (not yet visible to the device); false when the ring has no room. */
bool vq_add(struct vq *q, const struct vio_buf *b, unsigned nout, unsigned nin, uint64_t cookie);
/* Places an already written chain at `head` in the available ring. */
void vq_add_head(struct vq *q, uint16_t head);
/* Makes the added chains visible to the device, without notifying it. */
void vq_publish(struct vq *q);
/* Publishes the added chains and notifies the device if it asks (§2.6.13). */
void vq_kick(struct vq *q);
/* Writes the notify register whatever the device asked. */
void vq_notify(struct vq *q);
/* Reaps one used chain: its cookie and the bytes the device wrote. */
bool vq_get_used(struct vq *q, uint64_t *cookie, uint32_t *len);
/* vq_get_used, polling for up to VIO_TIMEOUT_MS; then ends the VM. */
void vq_wait_used(struct vq *q, uint64_t *cookie, uint32_t *len);

/* virtio-blk (blk_workloads.c), shared with vio-bad: the request header. */
struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

/* Finds the `dev=`-th virtio-blk function (from 0) and its capabilities. */
bool blk_find(struct virtio_dev *d, const char *cmdline);
/* Starts it (§5.2.5), through DRIVER_OK: FLUSH, SEG_MAX, BLK_SIZE if
 * offered, plus `extra`; `event_idx=` and `qsize=` from the command line. */
bool blk_start(struct virtio_dev *d, const char *cmdline, uint64_t extra, unsigned opts);
/* One request of `bytes` at `sector` into or out of `buf`, waited for:
 * whether it came back OK with the length the device should have written. */
bool blk_request_sync(struct vq *q, uint32_t type, uint64_t sector, void *buf, uint32_t bytes);

/* The helper vCPUs of a virtio workload: the irq vCPU (if not vCPU 0) takes
 * the device interrupts halted until vCPU 0 calls vio_workload_done. */
bool vio_is_irq_vcpu(uint32_t vcpu);
void vio_wait_for_done(void);
void vio_spin_until_done(void);
void vio_workload_done(void);
/* Device interrupts counted so far on the virtio queue vectors. */
uint64_t vio_irq_total(void);
/* vCPU 0 takes interrupts while it polls when it is the irq vCPU. */
void vio_irqs_on(bool on);

/* Up to `cap` samples in `v`, a uniform pick of the `seen` offered. */
struct vio_samples {
	uint64_t *v, cap, seen, rng;
};

void vio_sample(struct vio_samples *s, uint64_t value);
uint64_t vio_samples_sort(struct vio_samples *s);
void vio_sort(uint64_t *a, uint64_t n);
/* The p-th percentile (nearest rank) of `n` sorted samples; 0 if none. */
uint64_t vio_percentile(const uint64_t *sorted, uint64_t n, unsigned p);
uint64_t vio_xorshift(uint64_t *state);

#endif
