/* guest-shim's virtio 1.x driver core: see virtio.h. Register accesses use
 * each field's natural width, 64-bit fields as two 32-bit halves, low first
 * (virtio 1.1 §4.1.3.1). */
#include "guest-shim/virtio.h"

#define VIO_STACK_BYTES	   0x10000	  /* kernel/vm.c: each vCPU's stack at the top of RAM */
#define VIO_MMIO_LIMIT	   (1ull << 32)	  /* the identity map's reach */
#define VIO_RING_BYTES	   (3 * VIO_PAGE) /* desc, avail and used, a page each */
#define VIO_RESET_WAIT_MS  1000
#define VIO_BAD_RING_SKIP  0x100000 /* vio-bad's rings: this far past RAM */
#define VIO_MSIX_CONFIG	   0	    /* MSI-X entry of configuration changes */
#define VIO_MSIX_QUEUE(q)  (1 + (q))
#define VIO_IRQ_VECTORS	   (2 * 32) /* two vectors for each of 32 slots */
#define VIO_LOG_BYTES	   160
#define MSIX_ENTRY_WORDS   (PCI_MSIX_ENTRY_SIZE / 4)
#define MSIX_CTRL_SHIFT	   16 /* message control: the high half of the cap's dword */
#define VIO_NOTIFY_CAP_MIN 20 /* §4.1.4.4: the notify cap carries its multiplier */

static uint64_t mem_next, mem_limit, ram_size;
static volatile uint32_t workload_done;

/* ---- memory, time, messages ---- */

void vio_mem_init(uint64_t ram_bytes)
{
	ram_size = ram_bytes;
	mem_next = VIO_MEM_BASE;
	mem_limit = ram_bytes - shim_vcpu_count() * VIO_STACK_BYTES;
}

static void zero(volatile void *p, uint64_t bytes)
{
	volatile uint64_t *q = p;

	for (uint64_t i = 0; i < bytes / 8; i++)
		q[i] = 0;
}

void *vio_alloc(uint64_t bytes, uint64_t align)
{
	uint64_t at = (mem_next + align - 1) & ~(align - 1);

	if (at + bytes > mem_limit)
		vio_fatal("out of RAM for virtio buffers, bytes", bytes, VIO_EXIT_FAIL);
	mem_next = at + bytes;
	zero((void *)(uintptr_t)at, (bytes + 7) & ~7ull);
	return (void *)(uintptr_t)at;
}

/* The TSC's kHz, asked once: CPUID exits, and the I/O workloads convert
 * times for every request. */
static uint64_t tsc_khz(void)
{
	static uint64_t khz;

	if (!khz)
		khz = shim_timer_khz(); /* the APIC timer counts TSC cycles */
	return khz;
}

uint64_t vio_ms_to_tsc(uint64_t ms)
{
	return ms * tsc_khz();
}

uint64_t vio_tsc_to_ns(uint64_t tsc)
{
	return tsc * 1000000 / tsc_khz();
}

static char *append(char *p, const char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *append_uint(char *p, const char *end, uint64_t v)
{
	char digits[20];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n && p < end)
		*p++ = digits[--n];
	return p;
}

void vio_log(const char *msg, uint64_t value)
{
	char line[VIO_LOG_BYTES], *end = line + sizeof(line) - 1;
	char *p = append(line, end, "guest-shim: ");

	p = append(p, end, msg);
	if (value != ~0ull)
		p = append_uint(append(p, end, " "), end, value);
	*p = '\0';
	shim_print(line);
}

void vio_fatal(const char *msg, uint64_t value, uint64_t code)
{
	vio_log(msg, value);
	shim_hypercall(HC_POWEROFF, code, 0);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- the transport's registers (§4.1.4.3) ---- */

static uint16_t common_read16(const struct virtio_dev *d, unsigned off)
{
	return *(volatile uint16_t *)(d->common + off);
}

static void common_write16(const struct virtio_dev *d, unsigned off, uint16_t v)
{
	*(volatile uint16_t *)(d->common + off) = v;
}

static uint32_t common_read32(const struct virtio_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->common + off);
}

static void common_write32(const struct virtio_dev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->common + off) = v;
}

static void common_write64(const struct virtio_dev *d, unsigned off, uint64_t v)
{
	common_write32(d, off, (uint32_t)v);
	common_write32(d, off + 4, (uint32_t)(v >> 32));
}

uint8_t virtio_status(const struct virtio_dev *d)
{
	return d->common[VIRTIO_PCI_COMMON_STATUS];
}

static void set_status(const struct virtio_dev *d, uint8_t status)
{
	d->common[VIRTIO_PCI_COMMON_STATUS] = status;
}

bool virtio_has(const struct virtio_dev *d, unsigned feature)
{
	return d->features & VIO_FEATURE(feature);
}

uint8_t virtio_cfg8(const struct virtio_dev *d, unsigned off)
{
	return d->cfg[off];
}

uint16_t virtio_cfg16(const struct virtio_dev *d, unsigned off)
{
	return *(volatile uint16_t *)(d->cfg + off);
}

uint32_t virtio_cfg32(const struct virtio_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->cfg + off);
}

/* §4.1.4.3.1: a field wider than 32 bits is read as two halves, again until
 * config_generation did not move in between. */
uint64_t virtio_cfg64(const struct virtio_dev *d, unsigned off)
{
	uint8_t gen;
	uint64_t v;

	do {
		gen = d->common[VIRTIO_PCI_COMMON_CFGGENERATION];
		v = virtio_cfg32(d, off) | (uint64_t)virtio_cfg32(d, off + 4) << 32;
	} while (gen != d->common[VIRTIO_PCI_COMMON_CFGGENERATION]);
	return v;
}

uint8_t virtio_vector(unsigned slot, unsigned q)
{
	return (uint8_t)(SHIM_VEC_VIRTIO + 2 * (slot - 1) + q);
}

/* ---- discovery (§4.1.4) ---- */

static volatile uint8_t *cap_pointer(unsigned slot, unsigned cap)
{
	unsigned bar = pci_read8(slot, cap + 4);
	uint64_t base = bar < 6 ? pci_bar_addr(slot, bar) : 0;
	uint64_t addr = base + pci_read32(slot, cap + 8);

	return base && addr < VIO_MMIO_LIMIT ? (volatile uint8_t *)(uintptr_t)addr : 0;
}

/* §4.1.4: the driver uses the first capability of each type it can use. */
static void take_virtio_cap(struct virtio_dev *d, unsigned slot, unsigned cap)
{
	volatile uint8_t *p = cap_pointer(slot, cap);
	uint8_t type = pci_read8(slot, cap + 3), len = pci_read8(slot, cap + 2);

	if (!p)
		return;
	if (type == VIRTIO_PCI_CAP_COMMON_CFG && !d->common &&
	    pci_read32(slot, cap + 12) >= VIRTIO_PCI_COMMON_SIZE)
		d->common = p;
	else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && !d->notify_base &&
		 len >= VIO_NOTIFY_CAP_MIN) {
		d->notify_base = p;
		d->notify_mult = pci_read32(slot, cap + 16);
	} else if (type == VIRTIO_PCI_CAP_ISR_CFG && !d->isr)
		d->isr = p;
	else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && !d->cfg)
		d->cfg = p;
}

/* PCI 3.0 §6.8.2: the table's BAR in the low 3 bits of its offset. */
static void find_msix(struct virtio_dev *d, unsigned slot)
{
	unsigned cap = pci_find_cap(slot, PCI_CAP_ID_MSIX, 0);
	uint32_t table;
	uint64_t base;

	if (!cap)
		return;
	table = pci_read32(slot, cap + PCI_MSIX_TABLE);
	base = pci_bar_addr(slot, table & 7);
	if (!base || base + (table & ~7u) >= VIO_MMIO_LIMIT)
		return;
	d->msix_cap = (uint8_t)cap;
	d->msix_nvec = (pci_read16(slot, cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1;
	d->msix_table = (volatile uint32_t *)(uintptr_t)(base + (table & ~7u));
}

bool virtio_open(struct virtio_dev *d, unsigned slot, uint16_t type)
{
	d->slot = (uint8_t)slot;
	d->type = type;
	d->common = d->isr = d->cfg = d->notify_base = 0;
	d->msix_table = 0;
	d->msix_nvec = 0;
	pci_enable(slot);
	for (unsigned cap = pci_find_cap(slot, PCI_CAP_ID_VNDR, 0); cap;
	     cap = pci_find_cap(slot, PCI_CAP_ID_VNDR, cap))
		take_virtio_cap(d, slot, cap);
	find_msix(d, slot);
	if (!d->common || !d->notify_base || !d->isr || !d->cfg) {
		vio_log("virtio: a capability is missing, slot", slot);
		return false;
	}
	if (!d->msix_table)
		vio_log("virtio: no usable MSI-X capability (polling only), slot", slot);
	return true;
}

/* ---- MSI-X (PCI 3.0 §6.8.2) ---- */

/* Entry `entry` sends `vector` to the irq vCPU (its APIC ID is its index):
 * address 0xFEE00000 | dest << 12, data = the vector, then unmasked. */
static void msix_program(const struct virtio_dev *d, unsigned entry, uint8_t vector)
{
	volatile uint32_t *e = d->msix_table + entry * MSIX_ENTRY_WORDS;
	uint32_t dest = shim_irq_vcpu() & MSI_ADDR_DEST_MASK;

	e[PCI_MSIX_ENTRY_LOWER_ADDR / 4] = MSI_ADDR_BASE | dest << MSI_ADDR_DEST_SHIFT;
	e[PCI_MSIX_ENTRY_UPPER_ADDR / 4] = 0;
	e[PCI_MSIX_ENTRY_DATA / 4] = vector;
	e[PCI_MSIX_ENTRY_VECTOR_CTRL / 4] = 0;
}

/* Message control is the high half of the capability's first dword; the
 * low half (id, next) is read-only, so writing it back is harmless. */
static void msix_enable(const struct virtio_dev *d)
{
	uint32_t v = pci_read32(d->slot, d->msix_cap);

	v &= ~((uint32_t)PCI_MSIX_FLAGS_MASKALL << MSIX_CTRL_SHIFT);
	pci_write32(d->slot, d->msix_cap, v | (uint32_t)PCI_MSIX_FLAGS_ENABLE << MSIX_CTRL_SHIFT);
}

static bool msix_setup(const struct virtio_dev *d, unsigned nq)
{
	if (!d->msix_table)
		return true;
	if (d->msix_nvec < nq + 1) {
		vio_log("virtio: too few MSI-X vectors:", d->msix_nvec);
		return false;
	}
	msix_program(d, VIO_MSIX_CONFIG, SHIM_VEC_VIRTIO_CONFIG);
	for (unsigned q = 0; q < nq; q++)
		msix_program(d, VIO_MSIX_QUEUE(q), virtio_vector(d->slot, q));
	msix_enable(d);
	/* §4.1.5.1.2: the device reads back NO_VECTOR when it cannot map it. */
	common_write16(d, VIRTIO_PCI_COMMON_MSIX, VIO_MSIX_CONFIG);
	if (common_read16(d, VIRTIO_PCI_COMMON_MSIX) != VIO_MSIX_CONFIG) {
		vio_log("virtio: the device refused the config MSI-X vector", ~0ull);
		return false;
	}
	return true;
}

/* ---- initialization (§3.1.1) ---- */

bool virtio_reset(struct virtio_dev *d)
{
	uint64_t deadline = vio_rdtsc() + vio_ms_to_tsc(VIO_RESET_WAIT_MS);

	set_status(d, 0);
	while (virtio_status(d) != 0) {
		if (vio_rdtsc() > deadline) {
			vio_log("virtio: reset did not complete, status", virtio_status(d));
			return false;
		}
		vio_pause();
	}
	return true;
}

static uint64_t device_features(const struct virtio_dev *d)
{
	uint64_t f;

	common_write32(d, VIRTIO_PCI_COMMON_DFSELECT, 0);
	f = common_read32(d, VIRTIO_PCI_COMMON_DF);
	common_write32(d, VIRTIO_PCI_COMMON_DFSELECT, 1);
	return f | (uint64_t)common_read32(d, VIRTIO_PCI_COMMON_DF) << 32;
}

/* §3.1.1 steps 4-6: the subset of `want` offered, then FEATURES_OK, which
 * the device must still show when read back (§2.2.2). */
static bool negotiate(struct virtio_dev *d, uint64_t want, uint8_t status)
{
	uint64_t offered = device_features(d);

	if (!(offered & VIO_FEATURE(VIRTIO_F_VERSION_1))) {
		vio_log("virtio: the device does not offer VERSION_1", ~0ull);
		return false;
	}
	d->features = offered & (want | VIO_FEATURE(VIRTIO_F_VERSION_1));
	common_write32(d, VIRTIO_PCI_COMMON_GFSELECT, 0);
	common_write32(d, VIRTIO_PCI_COMMON_GF, (uint32_t)d->features);
	common_write32(d, VIRTIO_PCI_COMMON_GFSELECT, 1);
	common_write32(d, VIRTIO_PCI_COMMON_GF, (uint32_t)(d->features >> 32));
	set_status(d, status | VIRTIO_STATUS_FEATURES_OK);
	if (!(virtio_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
		vio_log("virtio: the device did not accept the features", ~0ull);
		return false;
	}
	return true;
}

/* §2.6.2: descriptor table, driver area (avail) and device area (used),
 * each on its own page here; all state starts at 0, free list in order. */
static void vq_init(struct virtio_dev *d, struct vq *q, unsigned index, uint16_t size)
{
	uint8_t *m = q->mem ? q->mem : (q->mem = vio_alloc(VIO_RING_BYTES, VIO_PAGE));

	zero(m, VIO_RING_BYTES);
	q->index = (uint16_t)index;
	q->size = size;
	q->desc = (volatile struct virtq_desc *)m;
	q->avail_flags = (volatile uint16_t *)(m + VIO_PAGE);
	q->avail_idx = q->avail_flags + 1;
	q->avail_ring = q->avail_flags + 2;
	q->used_event = q->avail_ring + size;
	q->used_flags = (volatile uint16_t *)(m + 2 * VIO_PAGE);
	q->used_idx = q->used_flags + 1;
	q->used_ring = (volatile struct virtq_used_elem *)(q->used_flags + 2);
	q->avail_event = (volatile uint16_t *)(q->used_ring + size);
	q->event_idx = virtio_has(d, VIRTIO_F_EVENT_IDX);
	for (uint16_t i = 0; i < size; i++) {
		q->desc[i].next = (uint16_t)(i + 1);
		q->chain_len[i] = 0;
	}
	q->free_head = 0;
	q->num_free = size;
	q->next_avail = q->published = q->last_used = 0;
	q->kicks = 0;
}

static uint16_t pick_size(unsigned want, uint16_t max)
{
	unsigned size = 1;

	while (size * 2 <= want && size * 2 <= max && size * 2 <= VIO_QSIZE_MAX)
		size *= 2;
	return (uint16_t)size;
}

static void write_ring_addresses(const struct virtio_dev *d, const struct vq *q, unsigned opts)
{
	uint64_t desc = (uintptr_t)q->desc, avail = (uintptr_t)q->avail_flags;
	uint64_t used = (uintptr_t)q->used_flags;

	if (opts & VIO_OPT_BAD_RING && q->index == 0) {
		desc = ram_size + VIO_BAD_RING_SKIP;
		avail = desc + VIO_PAGE;
		used = desc + 2 * VIO_PAGE;
	}
	common_write64(d, VIRTIO_PCI_COMMON_Q_DESCLO, desc);
	common_write64(d, VIRTIO_PCI_COMMON_Q_AVAILLO, avail);
	common_write64(d, VIRTIO_PCI_COMMON_Q_USEDLO, used);
}

/* §4.1.5.1.3: select, size, ring addresses, vector, notify offset, enable. */
static bool queue_setup(struct virtio_dev *d, unsigned index, unsigned qsize, unsigned opts)
{
	struct vq *q = &d->q[index];
	uint16_t max, entry = VIO_MSIX_QUEUE(index);

	common_write16(d, VIRTIO_PCI_COMMON_Q_SELECT, (uint16_t)index);
	max = common_read16(d, VIRTIO_PCI_COMMON_Q_SIZE);
	if (!max) {
		vio_log("virtio: the device has no queue", index);
		return false;
	}
	vq_init(d, q, index, pick_size(qsize, max));
	common_write16(d, VIRTIO_PCI_COMMON_Q_SIZE, q->size);
	write_ring_addresses(d, q, opts);
	if (d->msix_table) {
		common_write16(d, VIRTIO_PCI_COMMON_Q_MSIX, entry);
		if (common_read16(d, VIRTIO_PCI_COMMON_Q_MSIX) != entry) {
			vio_log("virtio: the device refused the MSI-X vector of queue", index);
			return false;
		}
	}
	q->notify =
		(volatile uint16_t *)(d->notify_base + common_read16(d, VIRTIO_PCI_COMMON_Q_NOFF) *
							       (uint64_t)d->notify_mult);
	common_write16(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	return true;
}

bool virtio_start(struct virtio_dev *d, uint64_t want, bool event_idx, unsigned nq, unsigned qsize,
		  unsigned opts)
{
	uint8_t status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (nq > VIO_MAX_QUEUES || !virtio_reset(d))
		return false;
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(d, status);
	if (event_idx)
		want |= VIO_FEATURE(VIRTIO_F_EVENT_IDX);
	if (!negotiate(d, want, status) || !msix_setup(d, nq))
		return false;
	status |= VIRTIO_STATUS_FEATURES_OK;
	d->nqueues = common_read16(d, VIRTIO_PCI_COMMON_NUMQ);
	if (d->nqueues < nq) {
		vio_log("virtio: too few queues:", d->nqueues);
		return false;
	}
	for (unsigned q = 0; q < nq; q++)
		if (!queue_setup(d, q, qsize, opts))
			return false;
	return true;
}

/* §3.1.1 step 8, after the device-specific set-up (buffers posted). */
void virtio_driver_ok(const struct virtio_dev *d)
{
	set_status(d, virtio_status(d) | VIRTIO_STATUS_DRIVER_OK);
}

/* ---- split virtqueues (§2.6) ---- */

void vq_add_head(struct vq *q, uint16_t head)
{
	q->avail_ring[q->next_avail & (q->size - 1)] = head;
	q->next_avail++;
}

/* Descriptors come from the free list, which is linked through their own
 * next fields: a chain taken from its start is already linked in order. */
bool vq_add(struct vq *q, const struct vio_buf *b, unsigned nout, unsigned nin, uint64_t cookie)
{
	unsigned n = nout + nin;
	uint16_t head = q->free_head, i = head;

	if (!n || n > q->num_free)
		return false;
	for (unsigned k = 0; k < n; k++) {
		q->desc[i].addr = b[k].addr;
		q->desc[i].len = b[k].len;
		q->desc[i].flags = (uint16_t)((k >= nout ? VIRTQ_DESC_F_WRITE : 0) |
					      (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		i = q->desc[i].next;
	}
	q->free_head = i;
	q->num_free = (uint16_t)(q->num_free - n);
	q->chain_len[head] = (uint16_t)n;
	q->cookie[head] = cookie;
	vq_add_head(q, head);
	return true;
}

void vq_notify(struct vq *q)
{
	*q->notify = q->index;
	q->kicks++;
}

/* §2.6.7.1 (with EVENT_IDX): kick when the device's avail_event lies in
 * (old, new]. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* §2.6.13.6: the entries before the index (x86 keeps stores in order, the
 * compiler must too). */
void vq_publish(struct vq *q)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	*q->avail_idx = q->next_avail;
	q->published = q->next_avail;
}

/* A full fence between publishing the index and reading the device's flags
 * or avail_event, or both sides could miss the other's update (§2.6.13.7). */
void vq_kick(struct vq *q)
{
	uint16_t old = q->published, new_idx = q->next_avail;
	bool need;

	if (old == new_idx)
		return;
	vq_publish(q);
	__asm__ volatile("mfence" ::: "memory");
	if (q->event_idx)
		need = need_event(*q->avail_event, new_idx, old);
	else
		need = !(*q->used_flags & VIRTQ_USED_F_NO_NOTIFY);
	if (need)
		vq_notify(q);
}

static void free_chain(struct vq *q, uint16_t head)
{
	uint16_t n = q->chain_len[head], last = head;

	for (uint16_t k = 1; k < n; k++)
		last = q->desc[last].next;
	q->desc[last].next = q->free_head;
	q->free_head = head;
	q->num_free = (uint16_t)(q->num_free + n);
	q->chain_len[head] = 0;
}

/* §2.6.8: read the used idx, then the element (x86 keeps loads in order).
 * With EVENT_IDX, used_event asks for an interrupt at the next completion
 * (§2.6.7.2): the irq vCPU counts them. */
bool vq_get_used(struct vq *q, uint64_t *cookie, uint32_t *len)
{
	uint32_t id;

	if (*q->used_idx == q->last_used)
		return false;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	id = q->used_ring[q->last_used & (q->size - 1)].id;
	*len = q->used_ring[q->last_used & (q->size - 1)].len;
	if (id >= q->size || !q->chain_len[id])
		vio_fatal("virtio: the device used a descriptor not in flight:", id, VIO_EXIT_FAIL);
	*cookie = q->cookie[id];
	free_chain(q, (uint16_t)id);
	q->last_used++;
	if (q->event_idx)
		*q->used_event = q->last_used;
	return true;
}

void vq_wait_used(struct vq *q, uint64_t *cookie, uint32_t *len)
{
	uint64_t deadline = vio_rdtsc() + vio_ms_to_tsc(VIO_TIMEOUT_MS);

	for (;;) {
		bool late = vio_rdtsc() > deadline; /* before the look: see vio_bad.c */

		if (vq_get_used(q, cookie, len))
			return;
		if (late)
			vio_fatal("virtio: timed out waiting for queue", q->index, VIO_EXIT_FAIL);
		vio_pause();
	}
}

/* ---- the vCPUs of a virtio workload ---- */

bool vio_is_irq_vcpu(uint32_t vcpu)
{
	return vcpu == shim_irq_vcpu();
}

/* The check runs with IF clear; STI;HLT closes the gap (STI's shadow). */
void vio_wait_for_done(void)
{
	while (!__atomic_load_n(&workload_done, __ATOMIC_ACQUIRE))
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* The same, spinning with interrupts on: the vCPU never leaves guest mode
 * on its own (exitless delivery's test). */
void vio_spin_until_done(void)
{
	__asm__ volatile("sti" ::: "memory");
	while (!__atomic_load_n(&workload_done, __ATOMIC_ACQUIRE))
		vio_pause();
	__asm__ volatile("cli" ::: "memory");
}

void vio_workload_done(void)
{
	uint32_t irq_vcpu = shim_irq_vcpu();

	__atomic_store_n(&workload_done, 1, __ATOMIC_RELEASE);
	if (irq_vcpu != 0)
		shim_apic_send_ipi(irq_vcpu, SHIM_VEC_WAKE);
}

uint64_t vio_irq_total(void)
{
	uint64_t n = 0;

	for (unsigned v = SHIM_VEC_VIRTIO; v < SHIM_VEC_VIRTIO + VIO_IRQ_VECTORS; v++)
		n += shim_irq_count[v];
	return n;
}

void vio_irqs_on(bool on)
{
	if (shim_irq_vcpu() != 0)
		return;
	if (on)
		__asm__ volatile("sti" ::: "memory");
	else
		__asm__ volatile("cli" ::: "memory");
}

/* ---- statistics ---- */

/* Shell sort (Ciura's gaps): a few thousand samples, no recursion. */
void vio_sort(uint64_t *a, uint64_t n)
{
	static const uint64_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};

	for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++)
		for (uint64_t i = gaps[g]; i < n; i++) {
			uint64_t v = a[i], j = i;

			for (; j >= gaps[g] && a[j - gaps[g]] > v; j -= gaps[g])
				a[j] = a[j - gaps[g]];
			a[j] = v;
		}
}

uint64_t vio_percentile(const uint64_t *sorted, uint64_t n, unsigned p)
{
	uint64_t rank = (n * p + 99) / 100;

	return n ? sorted[rank ? rank - 1 : 0] : 0;
}

/* Reservoir sampling (Vitter's algorithm R): every value offered is equally
 * likely to be among the `cap` kept. */
void vio_sample(struct vio_samples *s, uint64_t value)
{
	uint64_t k = s->seen++;

	if (k < s->cap)
		s->v[k] = value;
	else if ((k = vio_xorshift(&s->rng) % (k + 1)) < s->cap)
		s->v[k] = value;
}

/* Sorts the kept samples; returns how many there are. */
uint64_t vio_samples_sort(struct vio_samples *s)
{
	uint64_t n = s->seen < s->cap ? s->seen : s->cap;

	vio_sort(s->v, n);
	return n;
}

/* Marsaglia's xorshift64: the state must not be 0. */
uint64_t vio_xorshift(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}
