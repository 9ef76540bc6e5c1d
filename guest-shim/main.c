/* guest-shim workloads, chosen by `workload=` on the command line:
 *   hello           print a line and power off
 *   cpuid n=N       execute N CPUID instructions, report the count
 *   spin n=N        count to N and report it; n=0 counts for ever, reporting
 *                   every SPIN_REPORT_EVERY; spin ms=M counts for M ms
 *   pio n=N         N port reads of an unused port, each must read all-ones
 *   ud              an undefined instruction with no IDT (a triple fault)
 *   oob             read memory beyond the guest's RAM
 *   hcflood         hypercalls without end
 *   exitbench n=N   TSC cycles per CPUID, hypercall and port-read round trip
 *   mmio            accesses of every width to the test-mmio device
 *   mmio-string     REP STOSB, MOVSQ and REP MOVSW between RAM and test-mmio
 *   pio-string      REP OUTSB of a line to the debug port, REP INSW from an
 *                   unused port
 *   msr             RDMSR of an MSR the hypervisor does not have: #GP
 *   memtouch mib=M  write a pattern over M MiB of RAM, shared out among the
 *                   vCPUs, read it back, report the intact pages
 *   timer mode=oneshot|periodic|deadline n=N period_us=P apic=x2apic|xapic
 *                   N APIC timer interrupts P microseconds apart
 *   ipi n=N apic=.. N IPI round trips between vCPUs 0 and 1
 *   irq-latency n=N period_us=P
 *                   N test-irq interrupts P microseconds apart, timed from
 *                   the device raising each to its handler (p50/p99/max);
 *                   n=0: for ever, reported every 1 000
 *   matrix          cpuid n=N, memtouch, a periodic timer and (with two vCPUs
 *                   or more) IPIs: the SMP test matrix's workload
 *   forge           try to forge hypervisor records through the console
 *                   hypercall and the debug port (forge.c)
 *   blk qd=Q req_kib=K
 *                   virtio-blk: a pattern over the whole disk, FLUSH, read
 *                   back and verified, GET_ID (blk_workloads.c)
 *   blk-bench qd=Q req_kib=K write_pct=P ms=M|n=N [devs=D] [irq_wait=1]
 *                   virtio-blk random I/O: IOPS, p50/p99 latency; D devices
 *                   at once, qd=Q1,Q2,.. one queue depth each; irq_wait=1
 *                   reaps only after an interrupt (an interrupt-driven driver)
 *   blk-irq n=N [reload_idt_at=K] [rewrite_idt_at=K] [apic=xapic]
 *                   N reads one at a time, each awaited by its interrupt
 *                   while spinning (exitless delivery); LIDT of a copy of
 *                   the IDT, or its gates written again, before request K
 *   net-flood n=N len=L role=send|recv peer=MAC
 *                   virtio-net: N frames one way, verified and in order
 *   net-ping n=N    virtio-net: N echoed round trips (net_workloads.c)
 *   vio-bad case=C  one malformed virtio-blk request: NEEDS_RESET, then a
 *                   reset and a good request (vio_bad.c)
 *   uart [apic=xapic] [trigger=level]
 *                   COM1: lines written polling LSR, then a line written
 *                   from its THRE interrupt through the I/O APIC, pin 4
 *                   edge- or level-triggered (uart.c)
 *   chaos seed=S n=N ms=M [mmio=1] [pci=1] [oob=1]
 *                   a hostile guest: seeded storms of IPIs, timers, MMIO,
 *                   ports, MSRs and wild hypercalls, counted (chaos.c)
 * An unknown workload name ends the VM with exit code 2; none means hello.
 * Every workload but `ud` runs with guest-shim's own GDT and IDT, which report
 * an exception and end the VM.
 * Every vCPU of the VM runs the workload (the entry state gives each its
 * index in RDX and its own stack); each reports through hypercalls; vCPU 0
 * waits for the others, then ends the VM with HC_POWEROFF. */
#include "arch/x86_64/apic_regs.h"
#include "guest-shim/shim.h"

#define UNUSED_PORT	  0x3e0
#define SPIN_REPORT_EVERY (1ull << 26)
#define SPIN_MARK_MS	  100
#define DEBUG_PORT_E9	  0xe9
#define MEMTOUCH_BASE	  0x400000 /* above the image */
#define VCPU_STACK_BYTES  0x10000  /* kernel/vm.c gives each vCPU that much */
#define CACHE_LINE	  64
#define PAGE_BYTES	  4096

#define UNKNOWN_WORKLOAD_EXIT 2
#define UNKNOWN_NAME_MAX      40

uint64_t shim_cpuid_count[SHIM_MAX_VCPUS];
static bool apic_on;
static uint32_t vcpus_done;	 /* the vCPUs other than 0 that have finished */
static uint32_t vcpus_signalled; /* ... and have sent vCPU 0 their IPI */

static void run_cpuid(uint64_t n, uint32_t vcpu)
{
	for (uint64_t i = 0; i < n; i++) {
		uint32_t a = 0, b, c = 0, d;

		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		shim_cpuid_count[vcpu]++;
	}
	shim_report(HR_CPUID_COUNT, shim_cpuid_count[vcpu]);
}

static uint64_t pattern(uint64_t addr, uint32_t vcpu)
{
	return (addr * 0x9e3779b97f4a7c15ull) ^ vcpu;
}

/* This vCPU's share of `mib` MiB from MEMTOUCH_BASE: one quadword per cache
 * line written, then all read back; reports the pages that came back whole. */
static void run_memtouch(uint64_t mib, uint64_t ram_bytes, uint32_t vcpu)
{
	uint64_t n = shim_vcpu_count(), room = ram_bytes - n * VCPU_STACK_BYTES - MEMTOUCH_BASE;
	uint64_t bytes = mib << 20 < room ? mib << 20 : room;
	uint64_t share = bytes / n / PAGE_BYTES * PAGE_BYTES, first = MEMTOUCH_BASE + vcpu * share;
	uint64_t good = 0;

	for (uint64_t a = first; a < first + share; a += CACHE_LINE)
		*(volatile uint64_t *)(uintptr_t)a = pattern(a, vcpu);
	for (uint64_t page = first; page < first + share; page += PAGE_BYTES) {
		bool whole = true;

		for (uint64_t a = page; a < page + PAGE_BYTES; a += CACHE_LINE)
			whole &= *(volatile uint64_t *)(uintptr_t)a == pattern(a, vcpu);
		good += whole;
	}
	shim_report(HR_MEM_PAGES_OK, good);
}

static void apic_start(const char *cmdline)
{
	shim_apic_enable(!shim_arg_is(cmdline, "apic", "xapic"));
	apic_on = true;
}

static void run_matrix(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu)
{
	run_cpuid(shim_arg_uint(cmdline, "n", 100), vcpu);
	run_memtouch(shim_arg_uint(cmdline, "mib", 2), ram_bytes, vcpu);
	apic_start(cmdline);
	shim_run_timer("mode=periodic n=5 period_us=500", vcpu);
	if (shim_vcpu_count() > 1)
		shim_run_ipi(shim_arg_uint(cmdline, "ipis", 10), vcpu);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Counts for `ms` milliseconds of TSC time and reports how far it got. On
 * the way, at every multiple of SPIN_MARK_MS of the (host-wide) TSC, it
 * reports the mark and its count then, so that the progress of VMs sharing
 * a core can be compared over the same stretch of time. A vCPU that was not
 * running at a mark reports it when it next runs: its count has not moved. */
static void run_spin_for(uint64_t ms)
{
	uint64_t khz = shim_timer_khz(), now = rdtsc(), end = now + ms * khz, i = 0;
	uint64_t every = SPIN_MARK_MS * khz, mark = now / every + 1;

	for (; now < end; now = rdtsc(), i++) {
		if (now >= mark * every) {
			shim_report(HR_SPIN_MARK, mark);
			shim_report(HR_SPIN_PROGRESS, i);
			mark = now / every + 1;
		}
	}
	shim_report(HR_SPIN_DONE, i);
}

static void run_spin(uint64_t n)
{
	volatile uint64_t i;

	for (i = 0; i < n || !n; i++)
		if (!n && i % SPIN_REPORT_EVERY == SPIN_REPORT_EVERY - 1)
			shim_report(HR_SPIN_DONE, i + 1);
	shim_report(HR_SPIN_DONE, i);
}

static void debug_port_print(const char *s)
{
	for (; *s; s++)
		__asm__ volatile("outb %0, %1" ::"a"(*s), "Nd"((uint16_t)DEBUG_PORT_E9));
}

/* n reads of an unused port (all-ones each), then a line on the debug port,
 * whose read-back value tells that it is there. */
static void run_pio(uint64_t n)
{
	uint64_t good = 0;
	uint8_t e9;

	for (uint64_t i = 0; i < n; i++) {
		uint8_t v;

		__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((uint16_t)UNUSED_PORT));
		good += v == 0xff;
	}
	__asm__ volatile("inb %1, %0" : "=a"(e9) : "Nd"((uint16_t)DEBUG_PORT_E9));
	if (e9 == DEBUG_PORT_E9)
		debug_port_print("pio: debug port present\n");
	shim_report(HR_SPIN_DONE, good);
}

/* Round-trip costs, each the mean over n exits (measured, never asserted). */
static void run_exitbench(uint64_t n)
{
	uint64_t t;

	t = rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		uint32_t a = 0, b, c = 0, d;

		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	}
	shim_report(HR_CPUID_CYCLES, (rdtsc() - t) / n);
	t = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		shim_hypercall(HC_TIME, 0, 0);
	shim_report(HR_HYPERCALL_CYCLES, (rdtsc() - t) / n);
	t = rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		uint8_t v;

		__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((uint16_t)UNUSED_PORT));
	}
	shim_report(HR_PIO_CYCLES, (rdtsc() - t) / n);
}

/* Seven accesses to the test-mmio registers (kernel/test_mmio.h); reports
 * how many of the five checks passed. */
static void run_mmio(void)
{
	volatile uint32_t *id = (volatile uint32_t *)0x3fe00000;
	volatile uint64_t *scratch = (volatile uint64_t *)0x3fe00008;
	volatile uint8_t *scratch8 = (volatile uint8_t *)0x3fe00008;
	volatile uint16_t *scratch16 = (volatile uint16_t *)0x3fe0000a;
	volatile uint64_t *writes = (volatile uint64_t *)0x3fe00010;
	uint64_t ok = 0;

	ok += *id == 0x45524f43;		 /* 32-bit read */
	*scratch = 0x1122334455667788ull;	 /* 64-bit write */
	ok += *scratch == 0x1122334455667788ull; /* 64-bit read */
	ok += scratch8[1] == 0x77;		 /* byte read (MOVZX) */
	*scratch16 = 0xbeef;			 /* 16-bit write */
	ok += *scratch == 0x11223344beef7788ull; /* 64-bit read */
	ok += *writes == 2;			 /* 64-bit read */
	shim_report(HR_MMIO_OK, ok);
}

/* The string forms on test-mmio's scratch register: REP STOSB fills it,
 * MOVSQ copies it to RAM, REP MOVSW copies RAM into it, and the write
 * counter says how many elements the device saw. Reports the checks passed. */
static void run_mmio_string(void)
{
	volatile uint64_t *scratch = (volatile uint64_t *)0x3fe00008;
	volatile uint64_t *writes = (volatile uint64_t *)0x3fe00010;
	static uint64_t copy, source = 0x0102030405060708ull;
	void *dst = (void *)(uintptr_t)0x3fe00008, *src = &source, *to = &copy;
	uint64_t count = 8, ok = 0;

	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(count) : "a"(0xab) : "memory");
	ok += *scratch == 0xababababababababull;
	src = (void *)(uintptr_t)0x3fe00008;
	__asm__ volatile("movsq" : "+D"(to), "+S"(src) : : "memory");
	ok += copy == 0xababababababababull;
	dst = (void *)(uintptr_t)0x3fe00008;
	src = &source;
	count = 4;
	__asm__ volatile("rep movsw" : "+D"(dst), "+S"(src), "+c"(count) : : "memory");
	ok += *scratch == 0x0102030405060708ull && count == 0;
	ok += *writes == 8 + 4;
	shim_report(HR_MMIO_OK, ok);
}

/* REP OUTSB sends a whole line to the debug port in one exit; REP INSW from
 * a port with no device fills the buffer with all-ones; backwards (STD) too. */
static void run_pio_string(void)
{
	static const char line[] = "pio-string: one exit\n";
	static uint16_t words[4];
	const void *src = line;
	void *dst = words;
	uint64_t count = sizeof(line) - 1, ok = 0;

	__asm__ volatile("rep outsb" : "+S"(src), "+c"(count) : "d"(DEBUG_PORT_E9) : "memory");
	ok += count == 0 && src == line + sizeof(line) - 1;
	count = 3;
	__asm__ volatile("rep insw" : "+D"(dst), "+c"(count) : "d"(UNUSED_PORT) : "memory");
	ok += words[0] == 0xffff && words[2] == 0xffff && words[3] == 0 && dst == &words[3];
	dst = &words[3];
	count = 1;
	__asm__ volatile("std; rep insw; cld"
			 : "+D"(dst), "+c"(count)
			 : "d"(UNUSED_PORT)
			 : "memory");
	ok += words[3] == 0xffff && dst == &words[2];
	shim_report(HR_PIO_STRING_OK, ok);
}

/* A name guest-shim does not know is a test's mistake: say so and end the
 * VM with UNKNOWN_WORKLOAD_EXIT rather than run something else. */
static void unknown_workload(const char *cmdline, uint32_t vcpu)
{
	static const char prefix[] = "guest-shim: unknown workload ";
	const char *name = shim_arg_value(cmdline, "workload");
	char line[sizeof(prefix) + UNKNOWN_NAME_MAX];
	unsigned n = 0;

	if (vcpu != 0)
		return;
	for (; prefix[n]; n++)
		line[n] = prefix[n];
	for (unsigned i = 0; i < UNKNOWN_NAME_MAX && name[i] && name[i] != ' '; i++)
		line[n++] = name[i];
	line[n] = '\0';
	shim_print(line);
	shim_hypercall(HC_POWEROFF, UNKNOWN_WORKLOAD_EXIT, 0);
}

static void run_workload(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu)
{
	if (shim_arg_is(cmdline, "workload", "cpuid"))
		run_cpuid(shim_arg_uint(cmdline, "n", 1000), vcpu);
	else if (shim_arg_is(cmdline, "workload", "spin"))
		if (shim_arg_uint(cmdline, "ms", 0))
			run_spin_for(shim_arg_uint(cmdline, "ms", 0));
		else
			run_spin(shim_arg_uint(cmdline, "n", 1000000));
	else if (shim_arg_is(cmdline, "workload", "pio"))
		run_pio(shim_arg_uint(cmdline, "n", 100));
	else if (shim_arg_is(cmdline, "workload", "ud"))
		__asm__ volatile("ud2");
	else if (shim_arg_is(cmdline, "workload", "oob"))
		(void)*(volatile uint64_t *)(uintptr_t)(ram_bytes + 0x200000);
	else if (shim_arg_is(cmdline, "workload", "msr")) {
		uint32_t lo, hi;

		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0011234u));
		shim_report(HR_MSR_READ, (uint64_t)hi << 32 | lo); /* not reached: #GP */
	} else if (shim_arg_is(cmdline, "workload", "mmio"))
		run_mmio();
	else if (shim_arg_is(cmdline, "workload", "mmio-string"))
		run_mmio_string();
	else if (shim_arg_is(cmdline, "workload", "pio-string"))
		run_pio_string();
	else if (shim_arg_is(cmdline, "workload", "exitbench"))
		run_exitbench(shim_arg_uint(cmdline, "n", 1000));
	else if (shim_arg_is(cmdline, "workload", "hcflood"))
		for (;;)
			shim_hypercall(HC_TIME, 0, 0);
	else if (shim_arg_is(cmdline, "workload", "memtouch"))
		run_memtouch(shim_arg_uint(cmdline, "mib", 4), ram_bytes, vcpu);
	else if (shim_arg_is(cmdline, "workload", "timer")) {
		apic_start(cmdline);
		shim_run_timer(cmdline, vcpu);
	} else if (shim_arg_is(cmdline, "workload", "ipi")) {
		apic_start(cmdline);
		shim_run_ipi(shim_arg_uint(cmdline, "n", 10), vcpu);
	} else if (shim_arg_is(cmdline, "workload", "irq-latency")) {
		apic_start(cmdline);
		shim_run_irq_latency(cmdline, vcpu);
	} else if (shim_arg_is(cmdline, "workload", "matrix"))
		run_matrix(cmdline, ram_bytes, vcpu);
	else if (shim_arg_is(cmdline, "workload", "forge"))
		shim_run_forge();
	else if (shim_arg_is(cmdline, "workload", "blk")) {
		apic_start(cmdline);
		shim_run_blk(cmdline, ram_bytes, vcpu);
	} else if (shim_arg_is(cmdline, "workload", "blk-bench")) {
		apic_start(cmdline);
		shim_run_blk_bench(cmdline, ram_bytes, vcpu);
	} else if (shim_arg_is(cmdline, "workload", "blk-irq")) {
		apic_start(cmdline);
		shim_run_blk_irq(cmdline, ram_bytes, vcpu);
	} else if (shim_arg_is(cmdline, "workload", "net-ping")) {
		apic_start(cmdline);
		shim_run_net(cmdline, ram_bytes, vcpu, true);
	} else if (shim_arg_is(cmdline, "workload", "net-flood")) {
		apic_start(cmdline);
		shim_run_net(cmdline, ram_bytes, vcpu, false);
	} else if (shim_arg_is(cmdline, "workload", "vio-bad")) {
		apic_start(cmdline);
		shim_run_vio_bad(cmdline, ram_bytes, vcpu);
	} else if (shim_arg_is(cmdline, "workload", "uart")) {
		apic_start(cmdline);
		if (vcpu == 0)
			shim_run_uart(cmdline);
	} else if (shim_arg_is(cmdline, "workload", "chaos")) {
		apic_start(cmdline);
		shim_run_chaos(cmdline, ram_bytes, vcpu);
	} else if (shim_arg_value(cmdline, "workload") &&
		   !shim_arg_is(cmdline, "workload", "hello"))
		unknown_workload(cmdline, vcpu);
	else if (vcpu == 0)
		shim_print("guest-shim: hello");
}

/* The other vCPUs count themselves done, wake vCPU 0 with an IPI
 * (SHIM_VEC_DONE) and halt for good; vCPU 0 waits until all of them are
 * (shim_wait_vcpus_done), then ends the VM. */
static void finish(uint32_t vcpu)
{
	uint32_t others = shim_vcpu_count() - 1;

	if (others && !apic_on)
		shim_apic_enable(true);
	if (vcpu != 0) {
		__atomic_fetch_add(&vcpus_done, 1, __ATOMIC_RELEASE);
		shim_apic_send_ipi(0, SHIM_VEC_DONE);
		__atomic_fetch_add(&vcpus_signalled, 1, __ATOMIC_RELEASE);
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	shim_wait_vcpus_done(others);
	shim_hypercall(HC_POWEROFF, 0, 0);
}

/* The count, not the IPIs, says when they are done: IPIs that arrive while
 * one is still pending merge into one interrupt (one IRR bit), which with
 * dozens of vCPUs finishing at once happens. Each IPI is sent after its
 * count, so the last one wakes vCPU 0 after the last count. Then vCPU 0 takes
 * the IPIs still on their way or pending, so that each one that was not
 * merged is an interrupt, as the tests count them: an IPI is in the IRR once
 * its sender has counted it signalled (the ICR write that sent it exits). */
void shim_wait_vcpus_done(uint32_t others)
{
	const uint32_t irr = APIC_IRR + 0x10 * (SHIM_VEC_DONE / 32), bit = 1u << SHIM_VEC_DONE % 32;

	if (!others)
		return;
	while (__atomic_load_n(&vcpus_done, __ATOMIC_ACQUIRE) < others)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	for (;;) {
		bool sent = __atomic_load_n(&vcpus_signalled, __ATOMIC_ACQUIRE) == others;
		uint32_t pending;

		__asm__ volatile("sti; nop" ::: "memory"); /* past STI's shadow */
		pending = shim_apic_read(irr) & bit;	   /* an exit: what is pending goes in */
		__asm__ volatile("cli" ::: "memory");
		if (sent && !pending)
			break;
	}
}

void shim_main(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu);
void shim_main(const char *cmdline, uint64_t ram_bytes, uint32_t vcpu)
{
	uint64_t start;

	start = rdtsc();
	if (shim_arg_is(cmdline, "workload", "chaos"))
		shim_chaos_hooks();
	if (!shim_arg_is(cmdline, "workload", "ud"))
		shim_install_idt();
	shim_hypercall_init(vcpu);
	if (vcpu == 0)
		shim_report(HR_START_TSC, start);
	run_workload(cmdline, ram_bytes, vcpu);
	finish(vcpu);
}
