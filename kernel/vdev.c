/* A VM's virtio devices: building them from the manifest, the guest's
 * windows onto them, and the queue work its I/O core (or, in exit mode, its
 * exit handler) does on them (kernel/vdev.h). */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/tsc.h"
#include "kernel/host_ahci.h"
#include "kernel/io_core.h"
#include "kernel/log.h"
#include "kernel/mem.h"
#include "kernel/mmio.h"
#include "kernel/vdev.h"
#include "kernel/vm.h"

#define MIB	       (1024ull * 1024)
#define MAX_SWITCHES   MANIFEST_MAX_SWITCHES
#define EXIT_MODE_WORK 1024 /* requests one kick may take in exit mode */

/* The virtual switches, by name, shared by every VM; each with its lock. */
struct switch_slot {
	struct vswitch *sw;
	struct spinlock lock;
};
static struct switch_slot switches[MAX_SWITCHES];

static const char *const type_names[] = {
	[MANIFEST_DEVICE_VIRTIO_BLK] = "virtio-blk",
	[MANIFEST_DEVICE_VIRTIO_NET] = "virtio-net",
};

/* --- locks: a device's registers take both of its locks ------------------- */

static uint64_t lock_device(struct vdev *d)
{
	uint64_t flags = spin_lock_irqsave(&d->lock);

	spin_lock(&d->rx_lock);
	return flags;
}

static void unlock_device(struct vdev *d, uint64_t flags)
{
	spin_unlock(&d->rx_lock);
	spin_unlock_irqrestore(&d->lock, flags);
}

/* --- interrupts ---------------------------------------------------------- */

static void deliver(struct vdev *d, const struct msi_msg *msg)
{
	if (vcpu_deliver_msi(d->vm, msg->address, msg->data))
		__atomic_fetch_add(&d->irqs, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&d->irqs_undelivered, 1, __ATOMIC_RELAXED);
}

/* MSI-X vectors the guest just unmasked with messages waiting. Under the
 * device's locks; the messages are sent after they are dropped. */
static unsigned take_pending(struct vdev *d, struct msi_msg *msgs, unsigned max)
{
	unsigned n = 0;

	while (n < max && vpci_msix_take_pending(&d->vp->fn, &msgs[n]))
		n++;
	return n;
}

#define VIO_ERROR_CHARS 300 /* its log line and `@vio_error` record */

static void report_failure(struct vdev *d)
{
	struct record r;

	if (d->error_reported)
		return;
	d->error_reported = true;
	/* a guest that breaks and resets its device in a loop: its log budget */
	if (!vm_log_allowed(d->vm, VM_LOG_REPORT, VIO_ERROR_CHARS))
		return;
	log_printf("VM %s device %u (%s) needs a reset: queue %d: %s\n", d->vm->cfg->name, d->index,
		   type_names[d->cfg->type], d->vp->failed_queue, d->vp->failure);
	record_begin(&r, "vio_error");
	record_str(&r, "vm", d->vm->cfg->name);
	record_uint(&r, "device", d->index);
	record_str(&r, "device_type", type_names[d->cfg->type]);
	record_int(&r, "queue", d->vp->failed_queue);
	record_str(&r, "reason", d->vp->failure);
	record_emit(&r);
}

/* A guard of point 3 failed on queue `q`: this device alone stops (status
 * NEEDS_RESET, a config-change interrupt), the VM and the rest go on. */
static void fail_device(struct vdev *d, unsigned q, const char *why)
{
	struct msi_msg msg;
	bool send;

	spin_lock(&d->rx_lock);
	send = virtio_pci_fail(d->vp, q, why, &msg);
	spin_unlock(&d->rx_lock);
	report_failure(d);
	if (send)
		deliver(d, &msg);
}

/* --- the queue work: blk requests, net transmissions ---------------------- */

/* The transport's interrupt for queue `q`, if the driver wants one: its
 * message in *msg. Under the device's lock; the interrupt state is the
 * rx_lock's. */
static bool queue_interrupt(struct vdev *d, unsigned q, struct msi_msg *msg)
{
	bool send;

	spin_lock(&d->rx_lock);
	send = virtio_pci_queue_interrupt(d->vp, q, msg);
	spin_unlock(&d->rx_lock);
	return send;
}

/* ... and sent at once. */
static void signal_queue(struct vdev *d, unsigned q)
{
	struct msi_msg msg;

	if (queue_interrupt(d, q, &msg))
		deliver(d, &msg);
}

/* vIC (paper 004, Algorithm 2) on every blk completion: interrupt, or let a
 * later completion (or the max_delay timer) carry it. The completions of one
 * visit are published together, so one interrupt at its end carries every
 * one that asked for it (blk_work). */
static void blk_completed(void *ctx, unsigned cif)
{
	struct vdev *d = ctx;

	if (vic_on_completion(&d->vic, cif, tsc_to_ns(rdtsc())))
		d->blk->irq_due = true;
}

uint64_t vdev_coalescing_due(struct vdev *d, uint64_t now_tsc)
{
	uint64_t flags, due;

	if (!d->blk || !d->blk->completed || !__atomic_load_n(&d->vic.held, __ATOMIC_RELAXED))
		return 0;
	flags = spin_lock_irqsave(&d->lock);
	if (vic_on_timer(&d->vic, tsc_to_ns(now_tsc)))
		signal_queue(d, 0);
	due = vic_deadline(&d->vic);
	spin_unlock_irqrestore(&d->lock, flags);
	return due ? tsc_from_ns(due) : 0;
}

uint64_t vdev_disk_due(struct vdev *d)
{
	uint64_t flags, due = 0;

	if (!d->blk || !d->ramdisk.service_ns || d->vm->state == VM_STOPPED)
		return 0;
	flags = spin_lock_irqsave(&d->lock);
	if (d->ramdisk.count) /* one TSC tick late rather than early */
		due = tsc_from_ns(d->ramdisk.due) + 1;
	spin_unlock_irqrestore(&d->lock, flags);
	return due;
}

/* The backend completes what is done here (a ramdisk with a service time on
 * the first visit after their time, vio/ramdisk.h; an AHCI disk what its
 * port reports), before new requests are taken. */
static int blk_work(struct vdev *d, unsigned budget, struct msi_msg *msg, bool *send)
{
	unsigned done = vblk_poll(d->blk, tsc_to_ns(rdtsc()));
	int n = vblk_process(d->blk, budget);

	if (n < 0) {
		fail_device(d, 0, d->blk->error);
		return -1;
	}
	if (d->blk->irq_due) {
		d->blk->irq_due = false;
		*send = queue_interrupt(d, 0, msg);
	}
	return n + (int)done;
}

static int net_work(struct vdev *d, unsigned budget, struct msi_msg *msg, bool *send)
{
	struct switch_slot *s = d->sw;
	int n;

	spin_lock(&s->lock);
	n = vnet_process_tx(d->net, budget);
	spin_unlock(&s->lock);
	if (n < 0) {
		fail_device(d, (unsigned)d->net->error_queue, d->net->error);
		return -1;
	}
	if (d->net->tx_used) {
		d->net->tx_used = false;
		*send = queue_interrupt(d, VIRTIO_NET_Q_TX, msg);
	}
	return n;
}

static struct virtqueue *work_queue(struct vdev *d)
{
	return virtio_pci_queue(d->vp, d->blk ? 0 : VIRTIO_NET_Q_TX);
}

/* With EVENT_IDX the driver kicks only when its index passes avail_event
 * (§2.6.7.1), so the device moves that index along with its work: to the
 * next entry while it wants kicks (exit mode, notification mode), out of
 * reach while it polls. */
static void refresh_notify(struct vdev *d)
{
	struct virtqueue *q = work_queue(d);

	if (q)
		vq_set_notify(q, d->vp->gmem, q->notify_enabled);
}

/* ioloop's work callback: at most `budget` requests or frames. */
static int vdev_work(void *ctx, unsigned budget)
{
	struct vdev *d = ctx;
	struct msi_msg msg;
	bool send = false;
	uint64_t flags;
	int n;

	if (d->vm->state == VM_STOPPED)
		return 0;
	flags = spin_lock_irqsave(&d->lock);
	n = d->blk ? blk_work(d, budget, &msg, &send) : net_work(d, budget, &msg, &send);
	if (n > 0)
		refresh_notify(d);
	spin_unlock_irqrestore(&d->lock, flags);
	if (send)
		deliver(d, &msg);
	return n;
}

static bool vdev_pending(void *ctx)
{
	struct vdev *d = ctx;
	uint64_t flags = spin_lock_irqsave(&d->lock);
	struct virtqueue *q = work_queue(d);
	/* an AHCI disk's completions are only seen by polling it */
	bool pending = (q && vq_pending(q, d->vp->gmem) != 0) ||
		       (d->net && vnet_tx_waiting(d->net)) || (d->ahci && d->blk->inflight);

	spin_unlock_irqrestore(&d->lock, flags);
	return pending;
}

static void vdev_set_notify(void *ctx, bool enable)
{
	struct vdev *d = ctx;
	uint64_t flags = spin_lock_irqsave(&d->lock);
	struct virtqueue *q = work_queue(d);

	if (q)
		vq_set_notify(q, d->vp->gmem, enable);
	spin_unlock_irqrestore(&d->lock, flags);
}

const struct ioloop_queue_ops vdev_queue_ops = {
	.work = vdev_work,
	.pending = vdev_pending,
	.set_notify = vdev_set_notify,
};

/* --- the switch port of a virtio-net device ------------------------------- */

/* A sender's I/O core delivers into this device's receive queue: under its
 * rx_lock (the sender holds its own lock and the switch's), then the
 * receive interrupt. */
static enum vsw_rx net_receive(void *dev, const struct vsw_frame *f)
{
	struct vdev *d = dev;
	struct msi_msg msg;
	bool send = false;
	enum vsw_rx r;

	spin_lock(&d->rx_lock);
	r = vnet_port_ops.receive(d->net, f);
	if (d->net->error && !d->vp->failure) {
		send = virtio_pci_fail(d->vp, VIRTIO_NET_Q_RX, d->net->error, &msg);
		report_failure(d);
	} else if (d->net->rx_used) {
		d->net->rx_used = false;
		send = virtio_pci_queue_interrupt(d->vp, VIRTIO_NET_Q_RX, &msg);
	}
	spin_unlock(&d->rx_lock);
	if (send)
		deliver(d, &msg);
	return r;
}

static const struct vsw_port_ops net_port_ops = {.receive = net_receive};

static struct switch_slot *find_switch(const char *name)
{
	struct switch_slot *free = NULL;

	for (unsigned i = 0; i < MAX_SWITCHES; i++) {
		if (switches[i].sw && !strcmp(switches[i].sw->name, name))
			return &switches[i];
		if (!switches[i].sw && !free)
			free = &switches[i];
	}
	if (!free || !(free->sw = mem_zalloc(sizeof(struct vswitch))))
		return NULL;
	vsw_init(free->sw, name);
	return free;
}

/* --- building the devices ------------------------------------------------- */

/* vIC's parameters from the manifest (docs/manifest.md, io.*). */
static void setup_coalescing(struct vdev *d, const struct manifest *m)
{
	struct vic_params p = {
		.cif_threshold = m->vic.cif_threshold,
		.iops_threshold = m->vic.iops_threshold,
		.epoch_ns = (uint64_t)m->vic.epoch_ms * 1000000,
		.max_delay_ns = (uint64_t)m->vic.max_delay_us * 1000,
		.ipi_threshold_ns = (uint64_t)m->vic.ipi_threshold_us * 1000,
		.enabled = true,
	};

	vic_init(&d->vic, &p, tsc_to_ns(rdtsc()));
	if (m->vic.mode == MANIFEST_COALESCING_VIC) {
		d->blk->completed = blk_completed;
		d->blk->completed_ctx = d;
	}
}

/* The device over its backend, once the backend has made its disk. */
static void init_blk(struct vdev *d, const struct vm_pci *pci, uint64_t sectors,
		     const struct blk_backend_ops *ops, void *backend)
{
	static char serial[VIRTIO_BLK_ID_BYTES + 1];

	snprintf(serial, sizeof(serial), "cv-%s-%u", d->vm->cfg->name, d->index);
	vblk_init(d->blk, &pci->gmem, sectors, serial, ops, backend);
	d->vp = &d->blk->vp;
}

/* A virtio-blk backend kind: makes the disk and the device over it (init_blk);
 * NULL, or why it cannot. */
typedef const char *(*blk_backend_create)(struct vdev *d, const struct vm_pci *pci);

static const char *create_ramdisk(struct vdev *d, const struct vm_pci *pci)
{
	uint64_t bytes = (uint64_t)d->cfg->size_mib * MIB, phys;

	phys = mem_alloc_pages(bytes / PAGE_SIZE, 1);
	if (!phys)
		return "no memory for a virtio-blk ramdisk";
	d->ramdisk = (struct ramdisk){.data = phys_to_virt(phys),
				      .bytes = bytes,
				      .service_ns = (uint64_t)d->cfg->service_us * 1000};
	memset(d->ramdisk.data, 0, bytes);
	init_blk(d, pci, bytes / VIRTIO_BLK_SECTOR, &ramdisk_ops, &d->ramdisk);
	return NULL;
}

/* The range of the disk on the device's port (kernel/blk_ahci.h); a count of
 * 0 runs to the disk's end. */
static const char *create_ahci(struct vdev *d, const struct vm_pci *pci)
{
	const char *why = NULL;
	struct host_ahci_port *hp = host_ahci_port(d->cfg->port, &why);
	uint64_t disk, start = d->cfg->lba_start;

	if (!hp)
		return why;
	disk = hp->port.id.sectors;
	if (start >= disk || (d->cfg->lba_count && d->cfg->lba_count > disk - start))
		return "its lba_start and lba_count go past the end of the disk on its AHCI port";
	d->ahci = mem_zalloc(sizeof(struct blk_ahci));
	if (!d->ahci)
		return "no memory for an ahci backend";
	*d->ahci =
		(struct blk_ahci){.hp = hp,
				  .lba_start = start,
				  .lba_count = d->cfg->lba_count ? d->cfg->lba_count : disk - start,
				  .ram_hpa = d->vm->ram_hpa};
	init_blk(d, pci, d->ahci->lba_count, &blk_ahci_ops, d->ahci);
	return NULL;
}

/* The backends a manifest's virtio-blk device may name (`backend`). */
static const blk_backend_create blk_backends[] = {
	[MANIFEST_BLK_RAMDISK] = create_ramdisk,
	[MANIFEST_BLK_AHCI] = create_ahci,
};

static const char *create_blk(struct vdev *d, const struct vm_pci *pci)
{
	d->blk = mem_zalloc(sizeof(struct vblk));
	if (!d->blk)
		return "no memory for a virtio-blk device";
	return blk_backends[d->cfg->backend](d, pci);
}

static const char *create_net(struct vdev *d, const struct vm_pci *pci, const struct manifest *m)
{
	uint32_t vm_index = (uint32_t)(d->vm->cfg - m->vms); /* as the manifest checks named it */
	uint8_t mac[6];

	d->sw = find_switch(d->cfg->switch_name);
	d->net = mem_zalloc(sizeof(struct vnet));
	if (!d->sw || !d->net)
		return "no memory for a virtio-net device or its switch";
	manifest_device_mac(d->vm->cfg, vm_index, d->index, mac);
	if (vnet_init(d->net, &pci->gmem, mac, d->sw->sw, d->cfg->tx_queue_len,
		      mem_zalloc(sizeof(struct vnet_tx_wait) * d->cfg->tx_queue_len)))
		return "its virtual switch has no free port";
	d->net->port.ops = &net_port_ops; /* its receive path under our locks */
	d->net->port.dev = d;
	d->vp = &d->net->vp;
	return NULL;
}

static const char *create_device(struct vm *vm, struct vm_pci *pci, const struct manifest *m,
				 uint32_t index)
{
	struct vdev *d = mem_zalloc(sizeof(*d));
	const char *err = NULL;
	int slot;

	if (!d)
		return "no memory for its virtio devices";
	*d = (struct vdev){.vm = vm,
			   .index = index,
			   .cfg = &vm->cfg->devices[index],
			   .lock = SPINLOCK_INIT,
			   .rx_lock = SPINLOCK_INIT,
			   .io_core = -1};
	err = d->cfg->type == MANIFEST_DEVICE_VIRTIO_BLK ? create_blk(d, pci)
							 : create_net(d, pci, m);
	if (err)
		return err;
	if (d->blk)
		setup_coalescing(d, m);
	slot = vpci_bus_add(&pci->bus, &d->vp->fn);
	if (slot < 0)
		return "its virtual PCI bus is full";
	pci->by_slot[slot] = d;
	pci->dev[pci->ndev++] = d;
	if (m->io_mode == MANIFEST_IO_SIDECORE) {
		d->io_core = io_core_assign(m, d->cfg->io_core, &err);
		if (d->io_core < 0 || io_core_add(d, m->poll_idle_us))
			return err ? err : "its I/O core serves too many queues";
	}
	return NULL;
}

/* --- the guest's windows: configuration space and BARs -------------------- */

/* A configuration cycle reaches one function: its locks are taken, so the
 * MSI-X state the I/O core also touches stays consistent. */
static struct vdev *config_target(struct vm_pci *pci, uint32_t devnum)
{
	return devnum <= VPCI_MAX_DEVICES ? pci->by_slot[devnum] : NULL;
}

static void after_config_write(struct vdev *d, uint64_t flags)
{
	struct msi_msg msgs[VPCI_MSIX_MAX];
	unsigned n = take_pending(d, msgs, VPCI_MSIX_MAX);

	unlock_device(d, flags);
	for (unsigned i = 0; i < n; i++)
		deliver(d, &msgs[i]);
}

static uint32_t config_cycle(struct vm_pci *pci, uint32_t devnum, bool write,
			     uint32_t (*cycle)(struct vm_pci *, uint64_t, unsigned, uint32_t, bool),
			     uint64_t where, unsigned size, uint32_t value)
{
	struct vdev *d = config_target(pci, devnum);
	uint64_t flags = 0;
	uint32_t r;

	if (d)
		flags = lock_device(d);
	r = cycle(pci, where, size, value, write);
	if (d && write)
		after_config_write(d, flags);
	else if (d)
		unlock_device(d, flags);
	return r;
}

static uint32_t pio_cycle(struct vm_pci *pci, uint64_t port, unsigned size, uint32_t value,
			  bool write)
{
	if (write) {
		vpci_bus_pio_write(&pci->bus, (uint16_t)port, size, value);
		return 0;
	}
	return vpci_bus_pio_read(&pci->bus, (uint16_t)port, size);
}

static uint32_t ecam_cycle(struct vm_pci *pci, uint64_t off, unsigned size, uint32_t value,
			   bool write)
{
	if (write) {
		vpci_bus_ecam_write(&pci->bus, off, size, value);
		return 0;
	}
	return vpci_bus_ecam_read(&pci->bus, off, size);
}

/* The device number the data port at 0xCFC-0xCFF reaches now (0xCF8's
 * latched address, bits 15:11); none for the address port itself. */
static uint32_t pio_devnum(const struct vm_pci *pci, uint16_t port)
{
	if (port < PCI_CONFIG_DATA)
		return VPCI_MAX_DEVICES + 1;
	return (pci->bus.config_address >> 11) & 0x1f;
}

static uint32_t pci_pio_read(void *dev, uint16_t port, unsigned size)
{
	struct vm_pci *pci = dev;
	uint64_t flags = spin_lock_irqsave(&pci->lock);
	uint32_t r = config_cycle(pci, pio_devnum(pci, port), false, pio_cycle, port, size, 0);

	spin_unlock_irqrestore(&pci->lock, flags);
	return r;
}

static void pci_pio_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct vm_pci *pci = dev;
	uint64_t flags = spin_lock_irqsave(&pci->lock);

	config_cycle(pci, pio_devnum(pci, port), true, pio_cycle, port, size, value);
	spin_unlock_irqrestore(&pci->lock, flags);
}

static uint64_t ecam_read(void *dev, struct vcpu *v, uint64_t off, unsigned size)
{
	struct vm_pci *pci = dev;
	uint64_t flags = spin_lock_irqsave(&pci->lock);
	uint32_t devnum = (uint32_t)(off >> PCI_ECAM_DEV_SHIFT) & 0x1f;
	uint32_t r = config_cycle(pci, devnum, false, ecam_cycle, off, size, 0);

	(void)v;
	spin_unlock_irqrestore(&pci->lock, flags);
	return r;
}

static void ecam_write(void *dev, struct vcpu *v, uint64_t off, unsigned size, uint64_t value)
{
	struct vm_pci *pci = dev;
	uint64_t flags = spin_lock_irqsave(&pci->lock);
	uint32_t devnum = (uint32_t)(off >> PCI_ECAM_DEV_SHIFT) & 0x1f;

	(void)v;
	config_cycle(pci, devnum, true, ecam_cycle, off, size, (uint32_t)value);
	spin_unlock_irqrestore(&pci->lock, flags);
}

/* The device whose BAR 0 holds guest-physical `gpa`, with the offset. */
static struct vdev *bar_target(struct vm_pci *pci, uint64_t gpa, uint32_t *off)
{
	unsigned bar;
	uint64_t o;
	int slot = vpci_bus_find_bar(&pci->bus, gpa, &bar, &o);

	if (slot < 0 || bar != 0)
		return NULL;
	*off = (uint32_t)o;
	return pci->by_slot[slot];
}

static uint64_t hole_read(void *dev, struct vcpu *v, uint64_t off, unsigned size)
{
	struct vm_pci *pci = dev;
	uint32_t bar_off;
	struct vdev *d = bar_target(pci, VDEV_HOLE_BASE + off, &bar_off);
	uint64_t flags, r;

	(void)v;
	if (!d)
		return ~0ull; /* nothing decodes it: a master abort reads all-ones */
	flags = lock_device(d);
	if (size == 8) /* a 64-bit queue address read as one access */
		r = virtio_pci_bar_read(d->vp, bar_off, 4) |
		    (uint64_t)virtio_pci_bar_read(d->vp, bar_off + 4, 4) << 32;
	else
		r = virtio_pci_bar_read(d->vp, bar_off, size);
	unlock_device(d, flags);
	return r;
}

/* Sidecore mode: the receive queue never needs a kick (senders' I/O cores
 * poll while their frames wait), so the guest is asked not to. */
static void quiet_receive_queue(struct vdev *d)
{
	struct virtqueue *rx = virtio_pci_queue(d->vp, VIRTIO_NET_Q_RX);

	if (d->net && d->io_core >= 0 && rx)
		vq_set_notify(rx, d->vp->gmem, false);
}

/* A register write: its events are acted on once the locks are dropped. */
static unsigned bar_write(struct vdev *d, uint32_t off, unsigned size, uint64_t value,
			  struct msi_msg *msgs, unsigned *nmsgs, uint16_t *q)
{
	uint64_t flags = lock_device(d);
	unsigned ev;

	if (size == 8)
		ev = virtio_pci_bar_write(d->vp, off, 4, (uint32_t)value, q) |
		     virtio_pci_bar_write(d->vp, off + 4, 4, (uint32_t)(value >> 32), q);
	else
		ev = virtio_pci_bar_write(d->vp, off, size, (uint32_t)value, q);
	if (ev & VIRTIO_PCI_EV_RESET) {
		if (d->blk)
			vblk_reset(d->blk);
		d->error_reported = false;
	}
	if (ev & (VIRTIO_PCI_EV_DRIVER_OK | VIRTIO_PCI_EV_KICK))
		quiet_receive_queue(d);
	*nmsgs = ev & VIRTIO_PCI_EV_MSIX ? take_pending(d, msgs, VPCI_MSIX_MAX) : 0;
	if (d->vp->failure) /* rings the driver gave at queue enable are outside its RAM */
		report_failure(d);
	unlock_device(d, flags);
	return ev;
}

/* Until a pass finds nothing: the pass after the last one that did work
 * sees what the driver added before the event index moved. */
static void run_until_drained(struct vdev *d)
{
	d->exit_mode_runs++;
	while (vdev_work(d, EXIT_MODE_WORK) > 0)
		;
}

/* Exit mode: a receiver posted buffers, so the senders on its switch whose
 * frames wait for buffers try again (sidecore mode: their I/O cores poll). */
static void retry_waiting_senders(struct vdev *receiver)
{
	struct vswitch *sw = receiver->sw->sw;

	for (unsigned i = 0; i < sw->nports; i++) {
		struct vdev *s = sw->port[i]->dev;

		if (s != receiver && s->io_core < 0 && vnet_tx_waiting(s->net))
			run_until_drained(s);
	}
}

/* A kick (or the device going live): its I/O core polls it again; in exit
 * mode the work is done right here, on the guest's own core. */
static void kicked(struct vdev *d, uint16_t queue)
{
	__atomic_fetch_add(&d->kicks, 1, __ATOMIC_RELAXED);
	if (d->io_core >= 0) {
		io_core_kick(d);
		return;
	}
	if (d->net && queue == VIRTIO_NET_Q_RX)
		retry_waiting_senders(d);
	run_until_drained(d);
}

static void hole_write(void *dev, struct vcpu *v, uint64_t off, unsigned size, uint64_t value)
{
	struct vm_pci *pci = dev;
	struct msi_msg msgs[VPCI_MSIX_MAX];
	uint32_t bar_off;
	struct vdev *d = bar_target(pci, VDEV_HOLE_BASE + off, &bar_off);
	uint16_t q = 0;
	unsigned ev, n;

	(void)v;
	if (!d)
		return;
	ev = bar_write(d, bar_off, size, value, msgs, &n, &q);
	for (unsigned i = 0; i < n; i++)
		deliver(d, &msgs[i]);
	if (ev & (VIRTIO_PCI_EV_KICK | VIRTIO_PCI_EV_DRIVER_OK))
		kicked(d, ev & VIRTIO_PCI_EV_KICK ? q : VIRTIO_PCI_MAX_QUEUES);
}

static const char *register_windows(struct vm *vm, struct vm_pci *pci)
{
	struct pio_range ports = {PCI_CONFIG_ADDRESS, 8,  "pci-config", pci_pio_read,
				  pci_pio_write,      pci};
	struct mmio_region ecam = {VDEV_ECAM_BASE, VDEV_ECAM_SIZE, "pci-ecam",
				   ecam_read,	   ecam_write,	   pci};
	struct mmio_region hole = {VDEV_HOLE_BASE, VDEV_HOLE_SIZE, "pci-bars",
				   hole_read,	   hole_write,	   pci};

	if (pio_register(vm, &ports) || mmio_register(vm, &ecam) || mmio_register(vm, &hole))
		return "no room for the PCI windows in its MMIO table";
	return NULL;
}

/* The bus and its windows, once. */
static const char *create_bus(struct vm *vm)
{
	struct vm_pci *pci;

	if (vm->pci)
		return NULL;
	pci = vm->pci = mem_zalloc(sizeof(*vm->pci));
	if (!pci)
		return "no memory for its PCI bus";
	pci->lock = (struct spinlock)SPINLOCK_INIT;
	pci->gmem = (struct gmem){phys_to_virt(vm->ram_hpa), vm->ram_bytes};
	vpci_bus_init(&pci->bus, VDEV_HOLE_BASE, VDEV_HOLE_SIZE);
	return register_windows(vm, pci);
}

const char *vdev_attach_all(struct vm *vm, const struct manifest *m, bool bus_announced)
{
	const char *err = bus_announced ? create_bus(vm) : NULL;

	for (uint32_t i = 0; i < vm->cfg->ndevices && !err; i++) {
		if (!manifest_device_is_virtio(&vm->cfg->devices[i]))
			continue;
		err = create_bus(vm);
		if (!err)
			err = create_device(vm, vm->pci, m, i);
	}
	return err;
}

/* --- statistics ------------------------------------------------------------ */

static void record_blk(struct record *r, const struct vdev *d)
{
	const struct vblk_stats *s = &d->blk->stats;

	record_uint(r, "requests", s->requests);
	record_uint(r, "bytes", s->read_bytes + s->write_bytes);
	record_uint(r, "read_bytes", s->read_bytes);
	record_uint(r, "write_bytes", s->write_bytes);
	record_uint(r, "flushes", s->flushes);
	record_uint(r, "errors", s->errors);
	record_uint(r, "service_us", d->cfg->service_us);
	if (d->ahci) {
		record_uint(r, "ahci_port", d->cfg->port);
		record_uint(r, "lba_start", d->ahci->lba_start);
		record_uint(r, "lba_count", d->ahci->lba_count);
		record_uint(r, "rejected", d->ahci->rejected);
		record_uint(r, "disk_errors", d->ahci->disk_errors);
	}
	record_bool(r, "coalescing", d->blk->completed != NULL);
	record_uint(r, "vic_held", d->vic.coalesced);
	record_uint(r, "vic_forced", d->vic.forced_by_deadline);
	record_uint(r, "vic_max_hold_ns", d->vic.max_hold);
	record_uint(r, "vic_ratio_permille",
		    d->vic.skip_up ? 1000ull * d->vic.count_up / d->vic.skip_up : 1000);
}

/* vIC's decisions by the commands in flight they were made with: how many
 * completions came with each CIF and how many of those asked for an
 * interrupt at once (the last bin counts VIC_CIF_BINS - 1 and more). Its
 * own record, after the device's `@io_stats`: the histogram's length
 * depends on the guest. */
static void report_cif(const struct vdev *d, bool final)
{
	struct record r;

	record_begin(&r, "vic_cif");
	record_str(&r, "vm", d->vm->cfg->name);
	record_uint(&r, "device", d->index);
	record_bool(&r, "final", final);
	record_uint(&r, "completions", d->vic.completions);
	record_uint(&r, "interrupts", d->vic.interrupts);
	record_uint(&r, "last_bin", VIC_CIF_BINS - 1);
	record_uint_map(&r, "cif", d->vic.cif_completions, VIC_CIF_BINS);
	record_uint_map(&r, "cif_delivered", d->vic.cif_delivered, VIC_CIF_BINS);
	record_emit(&r);
}

static void record_net(struct record *r, const struct vdev *d)
{
	const struct vsw_port_stats *s = &d->net->port.stats;

	record_str(r, "switch", d->cfg->switch_name);
	record_uint(r, "tx_frames", s->tx_frames);
	record_uint(r, "tx_bytes", s->tx_bytes);
	record_uint(r, "rx_frames", s->rx_frames);
	record_uint(r, "rx_bytes", s->rx_bytes);
	record_uint(r, "drop_bad_frame", s->drop_bad_frame);
	record_uint(r, "drop_no_buffer", s->drop_no_buffer);
	record_uint(r, "drop_down", s->drop_down);
	record_uint(r, "blocked", s->blocked);
}

/* The I/O core's view of the queue: visits with and without work (polls
 * against notifications), and the longest a queue with work waited. */
static void record_queue(struct record *r, const struct vdev *d)
{
	const struct ioloop_queue *q = &d->lq;

	record_uint(r, "kicks", d->kicks);
	record_uint(r, "irqs", d->irqs);
	record_uint(r, "irqs_undelivered", d->irqs_undelivered);
	record_uint(r, "polls", q->visits);
	record_uint(r, "polls_idle", q->polls_idle);
	record_uint(r, "to_notify", q->to_notify);
	record_uint(r, "longest_wait_ns", q->longest_wait);
	record_uint(r, "exit_mode_runs", d->exit_mode_runs);
}

void vdev_report_stats(const struct vm *vm, bool final)
{
	for (unsigned i = 0; vm->pci && i < vm->pci->ndev; i++) {
		const struct vdev *d = vm->pci->dev[i];
		struct record r;

		record_begin(&r, "io_stats");
		record_str(&r, "vm", vm->cfg->name);
		record_uint(&r, "device", d->index);
		record_str(&r, "device_type", type_names[d->cfg->type]);
		record_int(&r, "io_core", d->io_core);
		record_bool(&r, "final", final);
		if (d->blk)
			record_blk(&r, d);
		else
			record_net(&r, d);
		record_queue(&r, d);
		record_str(&r, "status", d->vp->failure ? "needs_reset" : "ok");
		record_emit(&r);
		if (d->blk && d->blk->completed)
			report_cif(d, final);
	}
}
