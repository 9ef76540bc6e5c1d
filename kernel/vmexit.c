/* Exit handlers. Each returns whether the guest may resume; a guest that does
 * what no handler allows is stopped with the reason and its RIP, and nothing
 * else is touched. Every exit is counted per VM and per reason. */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/regs.h"
#include "kernel/hypercall.h"
#include "kernel/log.h"
#include "kernel/manifest.h"
#include "kernel/mmio.h"
#include "kernel/vcpuid.h"
#include "kernel/vdev.h"
#include "kernel/vmsr.h"
#include "kernel/vm.h"
#include "kernel/exitless.h"
#include "kernel/vmexit.h"

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_ECX_VMX	       (1u << 5)
#define CPUID_80000001_ECX_SVM (1u << 2)
#define HYPERCALL_WINDOW_US    100000
#define HYPERCALL_WINDOW_MAX   2000 /* 20 000 a second: guests need a handful */
#define CONSOLE_LINE_MAX       200  /* bytes one console hypercall logs; the rest is dropped */
#define REPORT_CHARS	       57   /* a guest_report record, beside its names and numbers */
#define MARK_CHARS	       1024 /* ... a mark's stats records that follow it */

typedef bool (*vmexit_handler)(struct vcpu *v, const struct virt_exit *x);

static const char *const reason_names[VIRT_EXIT_COUNT] = {
	[VIRT_EXIT_CPUID] = "cpuid",
	[VIRT_EXIT_HLT] = "hlt",
	[VIRT_EXIT_IO] = "io",
	[VIRT_EXIT_MSR_READ] = "msr_read",
	[VIRT_EXIT_MSR_WRITE] = "msr_write",
	[VIRT_EXIT_HYPERCALL] = "hypercall",
	[VIRT_EXIT_NESTED_PAGE_FAULT] = "npf",
	[VIRT_EXIT_NPT_MISCONFIG] = "npt_misconfig",
	[VIRT_EXIT_EXTERNAL_INTERRUPT] = "extint",
	[VIRT_EXIT_INTERRUPT_WINDOW] = "intr_window",
	[VIRT_EXIT_DEADLINE] = "deadline",
	[VIRT_EXIT_TRIPLE_FAULT] = "triple_fault",
	[VIRT_EXIT_EXCEPTION] = "exception",
	[VIRT_EXIT_DESCRIPTOR_TABLE] = "descriptor_table",
	[VIRT_EXIT_INVALID_STATE] = "invalid_state",
	[VIRT_EXIT_OTHER] = "other",
};

static const char *const report_keys[HR_KEYS] = {
	[HR_CPUID_COUNT] = "cpuid_count",
	[HR_SPIN_DONE] = "spin_done",
	[HR_START_TSC] = "start_tsc",
	[HR_CPUID_CYCLES] = "cpuid_cycles",
	[HR_HYPERCALL_CYCLES] = "hypercall_cycles",
	[HR_PIO_CYCLES] = "pio_cycles",
	[HR_MMIO_OK] = "mmio_ok",
	[HR_EXCEPTION] = "exception",
	[HR_EXCEPTION_RIP] = "exception_rip",
	[HR_MSR_READ] = "msr_read",
	[HR_TIMER_IRQS] = "timer_irqs",
	[HR_TIMER_US] = "timer_us",
	[HR_IPI_RECEIVED] = "ipi_received",
	[HR_MEM_PAGES_OK] = "mem_pages_ok",
	[HR_IRQ_COUNT] = "irq_count",
	[HR_IRQ_P50_NS] = "irq_p50_ns",
	[HR_IRQ_P99_NS] = "irq_p99_ns",
	[HR_IRQ_MAX_NS] = "irq_max_ns",
	[HR_SPIN_MARK] = "spin_mark",
	[HR_SPIN_PROGRESS] = "spin_progress",
	[HR_PIO_STRING_OK] = "pio_string_ok",
	[HR_CR0] = "cr0",
	[HR_MARK] = "mark",
	[HR_BLK_REQUESTS] = "blk_requests",
	[HR_BLK_BYTES] = "blk_bytes",
	[HR_BLK_ERRORS] = "blk_errors",
	[HR_BLK_KICKS] = "blk_kicks",
	[HR_BLK_IRQS] = "blk_irqs",
	[HR_BLK_IOPS] = "blk_iops",
	[HR_BLK_P50_NS] = "blk_p50_ns",
	[HR_BLK_P99_NS] = "blk_p99_ns",
	[HR_NET_SENT] = "net_sent",
	[HR_NET_RECEIVED] = "net_received",
	[HR_NET_BAD] = "net_bad",
	[HR_NET_KICKS] = "net_kicks",
	[HR_NET_RTT_P50_NS] = "net_rtt_p50_ns",
	[HR_VIO_NEEDS_RESET] = "vio_needs_reset",
	[HR_VIO_RECOVERED] = "vio_recovered",
	[HR_CHAOS_OPS] = "chaos_ops",
	[HR_CHAOS_IPIS] = "chaos_ipis",
	[HR_CHAOS_SELF_IPIS] = "chaos_self_ipis",
	[HR_CHAOS_TIMER] = "chaos_timer_storms",
	[HR_CHAOS_IRQS] = "chaos_irqs",
	[HR_CHAOS_MMIO] = "chaos_mmio",
	[HR_CHAOS_PIO] = "chaos_pio",
	[HR_CHAOS_MSRS] = "chaos_msrs",
	[HR_CHAOS_GP] = "chaos_gp",
	[HR_CHAOS_HCALLS] = "chaos_hypercalls",
	[HR_CHAOS_HC_ERRORS] = "chaos_hc_errors",
	[HR_CHAOS_HC_BUSY] = "chaos_hc_busy",
	[HR_CHAOS_US] = "chaos_us",
	[HR_CHAOS_DONE] = "chaos_done",
	[HR_UART_THRE_IRQS] = "uart_thre_irqs",
	[HR_UART_OTHER_IRQS] = "uart_other_irqs",
	[HR_UART_TX_BYTES] = "uart_tx_bytes",
	[HR_IOAPIC_VERSION] = "ioapic_version",
	[HR_BLK_PAST_END] = "blk_past_end_failed",
};

const char *vmexit_reason_name(unsigned reason)
{
	return reason < VIRT_EXIT_COUNT ? reason_names[reason] : "?";
}

static void skip(struct vcpu *v, const struct virt_exit *x)
{
	vm_virt()->vcpu_skip_instruction(v->hw, x);
}

static bool handle_cpuid(struct vcpu *v, const struct virt_exit *x)
{
	uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
	struct cpuid_regs r = vcpuid(v, leaf, sub);

	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	skip(v, x);
	return true;
}

/* Port I/O goes to the device that registered the port; with none behind
 * it, reads give all-ones and writes are dropped, as on a PC bus. The string
 * forms move their elements to or from guest RAM (kernel/pio_string.c). */
static bool handle_io(struct vcpu *v, const struct virt_exit *x)
{
	const struct pio_range *r = pio_find(v->vm, x->io.port);
	uint64_t mask = x->io.size == 4 ? 0xffffffffull : (1ull << (8 * x->io.size)) - 1;

	if (x->io.string) {
		int more = pio_emulate_string(v, x);
		char why[80];

		if (more < 0) {
			snprintf(why, sizeof(why),
				 "string I/O on port 0x%x: an operand is not in RAM", x->io.port);
			vm_stop(v->vm, why, x->rip);
			return false;
		}
		if (!more)
			skip(v, x);
		return true; /* a REP that is not done yet runs again */
	}
	if (x->io.in) {
		uint64_t value = r ? r->read(r->dev, x->io.port, x->io.size) : mask;

		/* IN writes AL/AX/EAX; a 32-bit IN zeroes the upper half of RAX */
		v->regs.rax =
			x->io.size == 4 ? (value & mask) : (v->regs.rax & ~mask) | (value & mask);
	} else if (r) {
		r->write(r->dev, x->io.port, x->io.size, (uint32_t)(v->regs.rax & mask));
	}
	skip(v, x);
	return true;
}

/* RDMSR and WRMSR (kernel/vmsr.c); an MSR the vCPU does not have raises
 * #GP(0), as on hardware (SDM Vol. 2B, RDMSR), and the guest decides. */
static bool handle_msr(struct vcpu *v, const struct virt_exit *x)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	bool write = x->reason == VIRT_EXIT_MSR_WRITE;
	uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;

	if (!vmsr_access(v, msr, write, &value)) {
		vm_virt()->vcpu_inject_exception(v->hw, VEC_GP, true, 0);
		return true;
	}
	if (!write) {
		v->regs.rax = (uint32_t)value;
		v->regs.rdx = value >> 32;
	}
	skip(v, x);
	return true;
}

/* HLT blocks the vCPU until its APIC has an interrupt to deliver; the core
 * runs others or halts meanwhile (kernel/core_loop.c). With IF clear only an
 * NMI or INIT could wake it (SDM Vol. 2A, HLT), and neither comes. */
static bool handle_hlt(struct vcpu *v, const struct virt_exit *x)
{
	skip(v, x);
	v->halted = true;
	v->halted_for_good = !(vm_virt()->vcpu_rflags(v->hw) & RFLAGS_IF);
	return false;
}

/* Nothing to do: the interrupt that waited goes in at the next entry. */
static bool handle_interrupt_window(struct vcpu *v, const struct virt_exit *x)
{
	(void)v;
	(void)x;
	return true;
}

/* Text outside RAM is HC_ERROR; text the VM's log budget has no room for
 * is HC_BUSY (kernel/vm.h), and nothing is logged. */
static uint64_t console_write(struct vm *vm, uint64_t gpa, uint64_t len)
{
	char text[CONSOLE_LINE_MAX];
	const void *src;

	if (len > CONSOLE_LINE_MAX)
		len = CONSOLE_LINE_MAX;
	src = vm_ram(vm, gpa, len);
	if (!src)
		return HC_ERROR;
	/* A copy: the guest's other vCPUs may change the text while it is logged. */
	memcpy(text, src, len);
	if (!vm_log_allowed(vm, VM_LOG_TEXT, vm_guest_text_chars(vm, text, len)))
		return HC_BUSY;
	log_guest_text(vm->cfg->name, text, len);
	return 0;
}

static uint64_t decimal_digits(uint64_t n)
{
	uint64_t d = 1;

	for (; n >= 10; n /= 10)
		d++;
	return d;
}

/* What the `@guest_report` line (and a mark's stats) costs the VM's budget. */
static uint64_t report_chars(const struct vcpu *v, uint64_t key, const char *name, uint64_t value)
{
	return REPORT_CHARS + (key == HR_MARK ? MARK_CHARS : 0) + strlen(v->vm->cfg->name) +
	       strlen(name) + decimal_digits(v->id) + decimal_digits(value);
}

static uint64_t report(const struct vcpu *v, uint64_t key, uint64_t value)
{
	const char *name = key < HR_KEYS && report_keys[key] ? report_keys[key] : "unknown";
	struct record r;

	if (!vm_log_allowed(v->vm, VM_LOG_REPORT, report_chars(v, key, name, value)))
		return HC_BUSY;
	record_begin(&r, "guest_report");
	record_str(&r, "vm", v->vm->cfg->name);
	record_uint(&r, "vcpu", v->id);
	record_str(&r, "key", name);
	record_uint(&r, "value", value);
	record_emit(&r);
	/* A phase mark: the exit counters as they are now (`@mark`), so a test
	 * can count the exits of one phase of a workload only. */
	if (key == HR_MARK) {
		vm_report_stats(v->vm, "mark");
		vdev_report_stats(v->vm, false);
	}
	return 0;
}

/* A guest that makes more than HYPERCALL_WINDOW_MAX hypercalls within
 * HYPERCALL_WINDOW_US is flooding the hypervisor and is stopped. */
static bool hypercall_flood(struct vcpu *v)
{
	uint64_t now = rdtsc();

	if (now - v->hypercall_window_start > tsc_from_us(HYPERCALL_WINDOW_US)) {
		v->hypercall_window_start = now;
		v->hypercalls_in_window = 0;
	}
	return ++v->hypercalls_in_window > HYPERCALL_WINDOW_MAX;
}

static bool handle_hypercall(struct vcpu *v, const struct virt_exit *x)
{
	struct vm *vm = v->vm;
	struct virt_regs *r = &v->regs;
	uint64_t result = 0;

	if (!vm->first_hypercall_tsc)
		__atomic_compare_exchange_n(&vm->first_hypercall_tsc, &(uint64_t){0}, rdtsc(),
					    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	if (hypercall_flood(v)) {
		vm_stop(vm, "hypercall flood", x->rip);
		return false;
	}
	switch (r->rax) {
	case HC_CONSOLE_WRITE:
		result = console_write(vm, r->rdi, r->rsi);
		break;
	case HC_REPORT:
		result = report(v, r->rdi, r->rsi);
		break;
	case HC_TIME:
		result = rdtsc();
		break;
	case HC_POWEROFF: {
		char why[48];

		snprintf(why, sizeof(why), "powered off by the guest, code %llu",
			 (unsigned long long)r->rdi);
		vm_stop(vm, why, x->rip);
		return false;
	}
	default:
		result = HC_ERROR;
	}
	r->rax = result;
	skip(v, x);
	return true;
}

static bool handle_npf(struct vcpu *v, const struct virt_exit *x)
{
	const struct mmio_region *r = mmio_find(v->vm, x->npf.gpa);
	char why[96];

	if (r)
		return mmio_emulate(v, x, r);
	if (exitless_idt_write(v, x))
		return v->vm->state != VM_STOPPED;
	snprintf(why, sizeof(why), "%s guest-physical 0x%llx, outside its RAM",
		 x->npf.fetch	? "executed at"
		 : x->npf.write ? "wrote to"
				: "read from",
		 (unsigned long long)x->npf.gpa);
	vm_stop(v->vm, why, x->rip);
	return false;
}

static bool handle_external_interrupt(struct vcpu *v, const struct virt_exit *x)
{
	(void)x;
	/* The host takes the interrupt here, then the guest resumes. Not after
	 * an exitless run: the one that exited it was handled already
	 * (exitless_exit), and another pending one is better met at the next
	 * entry: an exitless IPI then reaches the guest, not the host. */
	if (!v->eli.hw_exitless)
		irq_window();
	return true;
}

static bool handle_deadline(struct vcpu *v, const struct virt_exit *x)
{
	(void)v;
	(void)x;
	return true; /* the run loop sees the time and decides */
}

static bool handle_fatal(struct vcpu *v, const struct virt_exit *x)
{
	char why[80];

	if (x->reason == VIRT_EXIT_TRIPLE_FAULT)
		snprintf(why, sizeof(why), "triple fault");
	else if (x->reason == VIRT_EXIT_NPT_MISCONFIG)
		snprintf(why, sizeof(why),
			 "nested page table misconfigured at guest-physical 0x%llx",
			 (unsigned long long)x->npf.gpa);
	else if (x->reason == VIRT_EXIT_INVALID_STATE)
		snprintf(why, sizeof(why), "VM entry failed: invalid guest state");
	else
		snprintf(why, sizeof(why), "unhandled exit (vendor code 0x%llx)",
			 (unsigned long long)x->vendor_code);
	vm_stop(v->vm, why, x->rip);
	return false;
}

/* Only exitless delivery intercepts an exception (#NP: kernel/exitless.h). */
static bool handle_exception(struct vcpu *v, const struct virt_exit *x)
{
	if (x->exception.vector == VEC_NP && v->eli.enabled)
		return exitless_np(v, x);
	return handle_fatal(v, x);
}

static const vmexit_handler handlers[VIRT_EXIT_COUNT] = {
	[VIRT_EXIT_CPUID] = handle_cpuid,
	[VIRT_EXIT_HLT] = handle_hlt,
	[VIRT_EXIT_IO] = handle_io,
	[VIRT_EXIT_MSR_READ] = handle_msr,
	[VIRT_EXIT_MSR_WRITE] = handle_msr,
	[VIRT_EXIT_HYPERCALL] = handle_hypercall,
	[VIRT_EXIT_NESTED_PAGE_FAULT] = handle_npf,
	[VIRT_EXIT_NPT_MISCONFIG] = handle_fatal,
	[VIRT_EXIT_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[VIRT_EXIT_INTERRUPT_WINDOW] = handle_interrupt_window,
	[VIRT_EXIT_DEADLINE] = handle_deadline,
	[VIRT_EXIT_TRIPLE_FAULT] = handle_fatal,
	[VIRT_EXIT_EXCEPTION] = handle_exception,
	[VIRT_EXIT_DESCRIPTOR_TABLE] = exitless_descriptor_table,
	[VIRT_EXIT_INVALID_STATE] = handle_fatal,
	[VIRT_EXIT_OTHER] = handle_fatal,
};

bool vmexit_handle(struct vcpu *v, const struct virt_exit *x)
{
	v->exits[x->reason]++;
	return handlers[x->reason](v, x);
}
