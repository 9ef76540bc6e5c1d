/* workload=chaos seed=S n=N ms=M [mmio=1] [pci=1] [oob=1] [apic=xapic]: a
 * hostile guest that throws at the hypervisor, in an order and amounts drawn
 * from a seeded xorshift (reproducible), everything a guest may do without
 * being stopped: IPI storms at the VM's vCPUs in every delivery mode and
 * shorthand (broadcast included), self-IPIs, APIC timer storms (periodic with
 * count 1 and divide 1, one-shot and TSC-deadline re-armed at once), MMIO
 * floods outside RAM where something answers (test-mmio's page with mmio=1,
 * the PCI ECAM window and BAR hole with pci=1, the xAPIC page), port floods
 * (every size, string forms, the debug port, 0xcf8/0xcfc), RDMSR/WRMSR of
 * random MSRs (its own #GP handler skips the instruction), CPUID of random
 * leaves and hypercalls with wild arguments, paced under the hypervisor's
 * flood limit and never HC_POWEROFF. It stops after n operations (0: no
 * limit) or ms milliseconds, counts what it did and reports it; with oob=1
 * vCPU 0 ends with one read of memory the VM does not have.
 *
 * Every vCPU runs it with a seed of its own (seed + vCPU index); the vCPUs
 * other than 0 stop half-way (n/2 operations, ms/2) and halt for good,
 * interrupts off, with a periodic timer of period 1 left running, while
 * vCPU 0's storms go on reaching them. What it
 * never does, because the guest would only break itself, not the hypervisor:
 * interrupts at vectors 16-31 (its IDT's exception gates), SHIM_VEC_DONE and
 * SHIM_VEC_DEVICE (finish() and the test-irq handler use them), writes to the
 * APIC MSRs (IA32_APIC_BASE, TSC_DEADLINE outside the timer storms, the
 * x2APIC range) or to the xAPIC page in xAPIC mode, and configuration writes
 * to its own virtio functions (only to the host bridge and empty slots, and
 * through 0xcf8/0xcfc only from vCPU 0, whose latched address no other vCPU
 * moves). */
#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/regs.h"
#include "guest-shim/shim.h"

#define DEBUG_PORT_E9	0xe9
#define PCI_CONFIG_ADDR 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define TEST_MMIO_PAGE	0x3fe00000ull
#define ECAM_BASE	0xb0000000ull
#define ECAM_SIZE	0x100000ull
#define HOLE_BASE	0xc0000000ull
#define HOLE_SIZE	0x3ec00000ull
#define X2APIC_SELF_IPI (X2APIC_MSR_BASE + (APIC_SELF_IPI >> 4))
#define X2APIC_ICR	(X2APIC_MSR_BASE + (APIC_ICR_LOW >> 4))
#define VEC_GP		13
#define FIRST_VECTOR	32
#define FLOOD_MAX	64
#define HC_WINDOW_MS	100
#define HC_WINDOW_MAX	800 /* the hypervisor stops a VM at 2 000 in 100 ms */
#define OOB_OFFSET	0x200000
/* RDMSR/WRMSR run with R11 = GP_MARK; the #GP handler skips the instruction
 * only then, and says so by adding one. */
#define GP_MARK 0x6368616f

struct chaos {
	uint64_t rng, ram, khz, end_tsc;
	uint32_t vcpu, nvcpus;
	bool x2apic, mmio_dev, pci;
	uint64_t hc_window, hc_in_window;
	uint64_t ops, ipis, self_ipis, timer, mmio, pio, msrs, gp, hcalls, hc_errors, hc_busy;
};

/* vector 13: skip a marked RDMSR/WRMSR (two bytes), else guest-shim's stub */
__asm__(".text\n"
	".balign 16\n"
	"chaos_gp_entry:\n"
	"	cmp $0x6368616f, %r11\n"
	"	jne 1f\n"
	"	inc %r11\n"
	"	addq $2, 8(%rsp)\n"
	"	add $8, %rsp\n"
	"	iretq\n"
	"1:	jmp shim_exception_stubs + 13 * 16\n");
extern char chaos_gp_entry[];

void shim_chaos_hooks(void)
{
	shim_exception_override(VEC_GP, chaos_gp_entry);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* xorshift64* (Vigna): the whole run follows from the seed */
static uint64_t next(struct chaos *c)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct chaos *c, uint64_t n)
{
	return next(c) % n;
}

static void delay_us(const struct chaos *c, uint64_t us)
{
	uint64_t end = rdtsc() + us * c->khz / 1000;

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

/* A vector the guest can take: 32-255 but finish()'s and test-irq's; one in
 * eight an illegal one (0-15), which the APIC refuses to send. */
static uint8_t vector(struct chaos *c)
{
	for (;;) {
		uint8_t v = (uint8_t)next(c);

		if (below(c, 8) == 0)
			return v & 15;
		if (v >= FIRST_VECTOR && v != SHIM_VEC_DONE && v != SHIM_VEC_DEVICE)
			return v;
	}
}

/* --- MSRs ----------------------------------------------------------------- */

static bool msr_read(struct chaos *c, uint32_t msr)
{
	register uint64_t mark __asm__("r11") = GP_MARK;
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi), "+r"(mark) : "c"(msr));
	c->msrs++;
	c->gp += mark != GP_MARK;
	return mark == GP_MARK;
}

static bool msr_write(struct chaos *c, uint32_t msr, uint64_t value)
{
	register uint64_t mark __asm__("r11") = GP_MARK;

	__asm__ volatile("wrmsr"
			 : "+r"(mark)
			 : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "memory");
	c->msrs++;
	c->gp += mark != GP_MARK;
	return mark == GP_MARK;
}

static bool apic_msr(uint32_t msr)
{
	return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
	       (msr >= X2APIC_MSR_BASE && msr <= X2APIC_MSR_LAST);
}

static uint32_t random_msr(struct chaos *c)
{
	static const uint32_t bases[] = {0, 0xc0000000u, 0xc0010000u, 0x40000000u};
	uint64_t kind = below(c, 6);

	if (kind < 4)
		return bases[kind] + (uint32_t)below(c, 0x2000);
	if (kind == 4)
		return X2APIC_MSR_BASE + (uint32_t)below(c, 0x100);
	return (uint32_t)next(c);
}

static void msr_storm(struct chaos *c)
{
	for (uint64_t i = 0, n = 1 + below(c, FLOOD_MAX); i < n; i++) {
		uint32_t msr = random_msr(c);

		if (below(c, 2) || apic_msr(msr))
			msr_read(c, msr);
		else
			msr_write(c, msr, next(c));
	}
}

/* --- the local APIC ----------------------------------------------------- */

static void icr_write(struct chaos *c, uint32_t low, uint32_t dest)
{
	if (c->x2apic) {
		msr_write(c, X2APIC_ICR, (uint64_t)dest << 32 | low);
		c->msrs--; /* an APIC access, not a wild MSR */
	} else {
		shim_apic_write(APIC_ICR_HIGH, dest << 24);
		shim_apic_write(APIC_ICR_LOW, low);
	}
}

/* ICR writes: every delivery mode (fixed, lowest priority, SMI, NMI, INIT,
 * SIPI, the reserved ones), physical or logical, every shorthand, the
 * broadcast destination, levels and triggers; the hypervisor delivers the
 * fixed and lowest-priority ones and drops the rest. */
static void ipi_storm(struct chaos *c)
{
	for (uint64_t i = 0, n = 1 + below(c, FLOOD_MAX); i < n; i++) {
		uint32_t shorthand = (uint32_t)below(c, 4) << 18, dest;
		uint32_t low = vector(c) | (uint32_t)below(c, 8) << 8 |
			       (below(c, 4) ? 0 : APIC_ICR_DEST_LOGICAL) | shorthand |
			       (below(c, 2) ? APIC_ICR_LEVEL_ASSERT : 0) |
			       (below(c, 8) ? 0 : APIC_ICR_TRIGGER_LEVEL);

		switch (below(c, 4)) {
		case 0:
			dest = c->x2apic ? 0xffffffffu : 0xff; /* broadcast */
			break;
		case 1:
			dest = (uint32_t)next(c) & (c->x2apic ? 0xffffffffu : 0xff);
			break;
		default:
			dest = (uint32_t)below(c, c->nvcpus);
		}
		icr_write(c, low, dest);
		if (shorthand == APIC_ICR_SELF ||
		    (!shorthand && !(low & APIC_ICR_DEST_LOGICAL) && dest == c->vcpu))
			c->self_ipis++;
		else
			c->ipis++;
	}
}

static void self_ipi_storm(struct chaos *c)
{
	for (uint64_t i = 0, n = 1 + below(c, FLOOD_MAX); i < n; i++) {
		uint8_t v = vector(c);

		if (c->x2apic && below(c, 2)) {
			msr_write(c, X2APIC_SELF_IPI, v);
			c->msrs--;
		} else {
			icr_write(c, v | APIC_ICR_SELF, 0);
		}
		c->self_ipis++;
	}
}

static void timer_off(void)
{
	shim_apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED); /* one-shot: a mode change disarms */
	shim_apic_write(APIC_TIMER_INITIAL, 0);
}

/* The smallest periods there are: periodic with count 1-4 and divide 1 for a
 * while, one-shot count 1 or a TSC deadline already past, re-armed at once,
 * or random divide and count; interrupts on all along. */
static void timer_storm(struct chaos *c)
{
	uint32_t v = vector(c);
	uint64_t n = 1 + below(c, 32);

	c->timer++;
	switch (below(c, 4)) {
	case 0:
		shim_apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
		shim_apic_write(APIC_LVT_TIMER, v | APIC_LVT_TIMER_PERIODIC);
		shim_apic_write(APIC_TIMER_INITIAL, 1 + (uint32_t)below(c, 4));
		delay_us(c, 50 + below(c, 450));
		break;
	case 1:
		shim_apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
		shim_apic_write(APIC_LVT_TIMER, v | APIC_LVT_TIMER_ONESHOT);
		for (uint64_t i = 0; i < n; i++)
			shim_apic_write(APIC_TIMER_INITIAL, 1);
		break;
	case 2:
		shim_apic_write(APIC_LVT_TIMER, v | APIC_LVT_TIMER_TSCDEADLINE);
		for (uint64_t i = 0; i < n; i++) {
			shim_wrmsr(MSR_IA32_TSC_DEADLINE, below(c, 2) ? 1 : rdtsc());
		}
		break;
	default:
		shim_apic_write(APIC_TIMER_DIVIDE, (uint32_t)below(c, 16));
		shim_apic_write(APIC_LVT_TIMER, v | (below(c, 2) ? APIC_LVT_TIMER_PERIODIC
								 : APIC_LVT_TIMER_ONESHOT));
		shim_apic_write(APIC_TIMER_INITIAL, (uint32_t)below(c, 64));
		delay_us(c, below(c, 200));
	}
	timer_off();
}

/* --- MMIO --------------------------------------------------------------- */

static uint64_t mmio_read(uint64_t gpa, unsigned size)
{
	volatile void *p = (volatile void *)(uintptr_t)gpa;
	uint64_t v;

	if (size == 1) {
		uint8_t b;

		__asm__ volatile("movb %1, %0" : "=q"(b) : "m"(*(volatile uint8_t *)p));
		v = b;
	} else if (size == 2) {
		uint16_t w;

		__asm__ volatile("movw %1, %0" : "=r"(w) : "m"(*(volatile uint16_t *)p));
		v = w;
	} else if (size == 4) {
		uint32_t d;

		__asm__ volatile("movl %1, %0" : "=r"(d) : "m"(*(volatile uint32_t *)p));
		v = d;
	} else {
		__asm__ volatile("movq %1, %0" : "=r"(v) : "m"(*(volatile uint64_t *)p));
	}
	return v;
}

static void mmio_write(uint64_t gpa, unsigned size, uint64_t v)
{
	volatile void *p = (volatile void *)(uintptr_t)gpa;

	if (size == 1)
		__asm__ volatile("movb %1, %0" : "=m"(*(volatile uint8_t *)p) : "q"((uint8_t)v));
	else if (size == 2)
		__asm__ volatile("movw %1, %0" : "=m"(*(volatile uint16_t *)p) : "r"((uint16_t)v));
	else if (size == 4)
		__asm__ volatile("movl %1, %0" : "=m"(*(volatile uint32_t *)p) : "r"((uint32_t)v));
	else
		__asm__ volatile("movq %1, %0" : "=m"(*(volatile uint64_t *)p) : "r"(v));
}

/* An ECAM offset whose writes reach only the host bridge or an empty slot. */
static uint64_t ecam_offset(struct chaos *c, bool write)
{
	uint64_t off = below(c, ECAM_SIZE);

	if (write && ((off >> 15) & 0x1f) && ((off >> 15) & 0x1f) < 16)
		off |= 16ull << 15;
	return off;
}

/* One access where a device (or the PCI bus's master abort) answers. */
static void mmio_one(struct chaos *c)
{
	unsigned size = 1u << below(c, 4);
	bool write = below(c, 2);
	uint64_t kind = below(c, 4), gpa;

	if (kind == 0 && c->mmio_dev)
		gpa = TEST_MMIO_PAGE + below(c, 0x1000);
	else if (kind == 1 && c->pci)
		gpa = ECAM_BASE + ecam_offset(c, write);
	else if (kind == 2 && c->pci)
		gpa = HOLE_BASE + below(c, HOLE_SIZE);
	else {
		gpa = XAPIC_DEFAULT_BASE + below(c, 0x1000);
		write &= c->x2apic; /* in x2APIC mode the page ignores writes */
	}
	gpa &= ~(uint64_t)(size - 1);
	if (write)
		mmio_write(gpa, size, next(c));
	else
		(void)mmio_read(gpa, size);
	c->mmio++;
}

static void mmio_flood(struct chaos *c)
{
	for (uint64_t i = 0, n = 1 + below(c, FLOOD_MAX); i < n; i++)
		mmio_one(c);
	if (c->mmio_dev && below(c, 4) == 0) { /* REP STOSB over test-mmio's scratch */
		void *dst = (void *)(uintptr_t)(TEST_MMIO_PAGE + 8);
		uint64_t count = 1 + below(c, 8);

		__asm__ volatile("rep stosb"
				 : "+D"(dst), "+c"(count)
				 : "a"((uint8_t)next(c))
				 : "memory");
		c->mmio++;
	}
}

/* --- ports -------------------------------------------------------------- */

static void port_out(uint16_t port, unsigned size, uint32_t v)
{
	if (size == 1)
		__asm__ volatile("outb %b0, %w1" ::"a"(v), "Nd"(port));
	else if (size == 2)
		__asm__ volatile("outw %w0, %w1" ::"a"(v), "Nd"(port));
	else
		__asm__ volatile("outl %0, %w1" ::"a"(v), "Nd"(port));
}

static uint32_t port_in(uint16_t port, unsigned size)
{
	uint32_t v = 0;

	if (size == 1)
		__asm__ volatile("inb %w1, %b0" : "+a"(v) : "Nd"(port));
	else if (size == 2)
		__asm__ volatile("inw %w1, %w0" : "+a"(v) : "Nd"(port));
	else
		__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static bool pci_port(uint16_t port)
{
	return port >= PCI_CONFIG_ADDR && port < PCI_CONFIG_ADDR + 8;
}

/* A port: one in four the debug port, else any (the PCI ports only without
 * a PCI bus: with one, pci_cycles() has them). */
static uint16_t random_port(struct chaos *c)
{
	for (;;) {
		uint16_t port = below(c, 4) ? (uint16_t)next(c) : DEBUG_PORT_E9;

		if (!c->pci || !pci_port(port))
			return port;
	}
}

static void port_flood(struct chaos *c)
{
	static char buf[SHIM_MAX_VCPUS][16];

	for (uint64_t i = 0, n = 1 + below(c, FLOOD_MAX); i < n; i++) {
		uint16_t port = random_port(c);
		unsigned size = 1u << below(c, 3);

		if (below(c, 2))
			(void)port_in(port, size);
		else
			port_out(port, size, (uint32_t)next(c));
		c->pio++;
	}
	if (below(c, 4) == 0) { /* a string form, a few elements */
		void *p = buf[c->vcpu];
		uint64_t count = 1 + below(c, sizeof(buf[0]));
		uint16_t port = random_port(c);

		for (unsigned i = 0; i < sizeof(buf[0]); i++)
			buf[c->vcpu][i] = (char)next(c);
		if (below(c, 2))
			__asm__ volatile("rep insb" : "+D"(p), "+c"(count) : "d"(port) : "memory");
		else
			__asm__ volatile("rep outsb" : "+S"(p), "+c"(count) : "d"(port) : "memory");
		c->pio++;
	}
}

/* Configuration cycles through 0xcf8/0xcfc (vCPU 0 only): reads of any
 * function, writes to the host bridge or empty slots; every size at every
 * port of the eight. */
static void pci_cycles(struct chaos *c)
{
	for (uint64_t i = 0, n = 1 + below(c, FLOOD_MAX / 4); i < n; i++) {
		bool write = below(c, 2);
		uint32_t addr = (uint32_t)next(c) & 0x80ffffffu;
		uint32_t dev = (addr >> 11) & 0x1f;
		uint16_t port = (uint16_t)(PCI_CONFIG_ADDR + below(c, 8));
		unsigned size = 1u << below(c, 3);

		if (below(c, 4))
			addr = (addr & ~0x00ff0000u) | 0x80000000u; /* mostly bus 0, enabled */
		if (write && dev && dev < 16)
			addr |= 16u << 11;
		port_out(PCI_CONFIG_ADDR, 4, addr);
		if (write && port != PCI_CONFIG_ADDR)
			port_out(port, size, (uint32_t)next(c));
		else
			(void)port_in(port, size);
		c->pio += 2;
	}
}

/* --- hypercalls --------------------------------------------------------- */

/* Under HC_WINDOW_MAX per HC_WINDOW_MS: the flood limit is not what this
 * workload tests (faults.json's hcflood does). */
static bool hypercall_allowed(struct chaos *c)
{
	uint64_t now = rdtsc();

	if (now - c->hc_window > HC_WINDOW_MS * c->khz) {
		c->hc_window = now;
		c->hc_in_window = 0;
	}
	return c->hc_in_window < HC_WINDOW_MAX;
}

static uint64_t hypercall(struct chaos *c, uint64_t nr, uint64_t a0, uint64_t a1)
{
	uint64_t r = shim_hypercall(nr, a0, a1);

	c->hc_in_window++;
	c->hcalls++;
	c->hc_errors += r == HC_ERROR;
	c->hc_busy += r == HC_BUSY;
	return r;
}

static void hypercall_storm(struct chaos *c)
{
	for (uint64_t i = 0, n = 1 + below(c, FLOOD_MAX / 4); i < n && hypercall_allowed(c); i++) {
		uint64_t inside = below(c, c->ram), tail = 1 + below(c, 256);

		switch (below(c, 8)) {
		case 0: /* beyond RAM */
			hypercall(c, HC_CONSOLE_WRITE, c->ram + below(c, 1ull << 32),
				  1 + below(c, 64));
			break;
		case 1: /* anywhere at all */
			hypercall(c, HC_CONSOLE_WRITE, next(c), next(c));
			break;
		case 2: /* inside RAM, a huge length */
			hypercall(c, HC_CONSOLE_WRITE, inside, ~0ull - below(c, 16));
			break;
		case 3: /* nothing */
			hypercall(c, HC_CONSOLE_WRITE, inside, 0);
			break;
		case 4: /* across the end of RAM */
			hypercall(c, HC_CONSOLE_WRITE, c->ram - tail, tail + 1 + below(c, 64));
			break;
		case 5: /* a key nobody knows */
			hypercall(c, HC_REPORT, below(c, 2) ? HR_KEYS + below(c, 1000) : next(c),
				  next(c));
			break;
		case 6: { /* a number nobody knows: never HC_POWEROFF */
			uint64_t nr = below(c, 2) ? HC_POWEROFF + 1 + below(c, 64) : next(c);

			hypercall(c, nr == HC_POWEROFF ? HC_TIME : nr, next(c), next(c));
			break;
		}
		default:
			hypercall(c, HC_TIME, next(c), next(c));
		}
	}
}

/* --- the run ------------------------------------------------------------ */

static void cpuid_storm(struct chaos *c)
{
	for (uint64_t i = 0, n = 1 + below(c, FLOOD_MAX); i < n; i++) {
		uint32_t a = (uint32_t)next(c), b, cx = (uint32_t)next(c), d;

		if (below(c, 2))
			a &= 0xc000001f; /* mostly leaves that exist */
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(cx), "=d"(d));
	}
}

static void one_op(struct chaos *c)
{
	switch (below(c, 9)) {
	case 0:
		ipi_storm(c);
		break;
	case 1:
		self_ipi_storm(c);
		break;
	case 2:
		timer_storm(c);
		break;
	case 3:
		mmio_flood(c);
		break;
	case 4:
		port_flood(c);
		break;
	case 5:
		if (c->pci && c->vcpu == 0)
			pci_cycles(c);
		else
			port_flood(c);
		break;
	case 6:
		msr_storm(c);
		break;
	case 7:
		hypercall_storm(c);
		break;
	default:
		cpuid_storm(c);
	}
	c->ops++;
}

static uint64_t irqs_taken(void)
{
	uint64_t n = 0;

	for (unsigned v = FIRST_VECTOR; v < 256; v++)
		if (v != SHIM_VEC_DONE)
			n += shim_irq_count[v];
	return n;
}

static void report_counts(struct chaos *c, uint64_t start)
{
	shim_report(HR_CHAOS_OPS, c->ops);
	shim_report(HR_CHAOS_IPIS, c->ipis);
	shim_report(HR_CHAOS_SELF_IPIS, c->self_ipis);
	shim_report(HR_CHAOS_TIMER, c->timer);
	shim_report(HR_CHAOS_MMIO, c->mmio);
	shim_report(HR_CHAOS_PIO, c->pio);
	shim_report(HR_CHAOS_MSRS, c->msrs);
	shim_report(HR_CHAOS_GP, c->gp);
	shim_report(HR_CHAOS_HCALLS, c->hcalls);
	shim_report(HR_CHAOS_HC_ERRORS, c->hc_errors);
	shim_report(HR_CHAOS_HC_BUSY, c->hc_busy);
	shim_report(HR_CHAOS_US, (rdtsc() - start) * 1000 / c->khz);
}

void shim_run_chaos(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu)
{
	static struct chaos all[SHIM_MAX_VCPUS];
	struct chaos *c = &all[vcpu % SHIM_MAX_VCPUS];
	uint64_t seed = shim_arg_uint(cmdline, "seed", 1), n = shim_arg_uint(cmdline, "n", 1000);
	uint64_t ms = shim_arg_uint(cmdline, "ms", 0), start = rdtsc();

	*c = (struct chaos){
		.rng = (seed + vcpu) * 0x9e3779b97f4a7c15ull | 1,
		.ram = ram_bytes,
		.khz = shim_timer_khz(),
		.vcpu = vcpu,
		.nvcpus = shim_vcpu_count(),
		.x2apic = !shim_arg_is(cmdline, "apic", "xapic"),
		.mmio_dev = shim_arg_uint(cmdline, "mmio", 0),
		.pci = shim_arg_uint(cmdline, "pci", 0),
		.hc_window = start,
	};
	/* the others stop half-way and sleep (below) while vCPU 0 goes on */
	if (vcpu) {
		n = (n + 1) / 2;
		ms = (ms + 1) / 2;
	}
	c->end_tsc = ms ? start + ms * c->khz : ~0ull;
	__asm__ volatile("sti");
	while ((!n || c->ops < n) && rdtsc() < c->end_tsc)
		one_op(c);
	timer_off();
	__asm__ volatile("cli");
	report_counts(c, start);
	if (vcpu == 0) { /* the others' reports first (finish() then passes at once) */
		shim_wait_vcpus_done(c->nvcpus - 1);
		shim_report(HR_CHAOS_IRQS, irqs_taken());
	}
	shim_report(HR_CHAOS_DONE, seed);
	if (vcpu == 0 && shim_arg_uint(cmdline, "oob", 0))
		(void)mmio_read(ram_bytes + OOB_OFFSET, 8); /* stops the VM */
	if (vcpu == 0)
		return;
	/* The others halt for good in finish() (interrupts off) with a periodic
	 * timer of the smallest period left running, masked or not: a sleeper
	 * whose timer can never wake it. */
	shim_apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	shim_apic_write(APIC_LVT_TIMER,
			vector(c) | APIC_LVT_TIMER_PERIODIC | (below(c, 2) ? APIC_LVT_MASKED : 0));
	shim_apic_write(APIC_TIMER_INITIAL, 1);
}
