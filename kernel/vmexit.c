/* Exit handlers. Each returns whether the guest may resume; a guest that does
 * what no handler allows is stopped with the reason and its RIP, and nothing
 * else is touched. Every exit is counted per VM and per reason. */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/layout.h"
#include "kernel/hypercall.h"
#include "kernel/log.h"
#include "kernel/manifest.h"
#include "kernel/mmio.h"
#include "kernel/vm.h"
#include "kernel/vmexit.h"

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_ECX_VMX	       (1u << 5)
#define CPUID_80000001_ECX_SVM (1u << 2)
#define HYPERCALL_WINDOW_US    100000
#define HYPERCALL_WINDOW_MAX   2000 /* 20 000 a second: guests need a handful */
#define CONSOLE_LINE_MAX       200

typedef bool (*vmexit_handler)(struct vm *vm, const struct virt_exit *x);

static const char *const reason_names[VIRT_EXIT_COUNT] = {
	[VIRT_EXIT_CPUID] = "cpuid",
	[VIRT_EXIT_HLT] = "hlt",
	[VIRT_EXIT_IO] = "io",
	[VIRT_EXIT_MSR_READ] = "msr_read",
	[VIRT_EXIT_MSR_WRITE] = "msr_write",
	[VIRT_EXIT_HYPERCALL] = "hypercall",
	[VIRT_EXIT_NESTED_PAGE_FAULT] = "npf",
	[VIRT_EXIT_EXTERNAL_INTERRUPT] = "extint",
	[VIRT_EXIT_INTERRUPT_WINDOW] = "intr_window",
	[VIRT_EXIT_DEADLINE] = "deadline",
	[VIRT_EXIT_TRIPLE_FAULT] = "triple_fault",
	[VIRT_EXIT_EXCEPTION] = "exception",
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
};

const char *vmexit_reason_name(unsigned reason)
{
	return reason < VIRT_EXIT_COUNT ? reason_names[reason] : "?";
}

static void skip(struct vm *vm, const struct virt_exit *x)
{
	vm_virt()->vcpu_skip_instruction(vm->vcpu, x);
}

/* Host CPUID with the virtualization extensions hidden and the hypervisor
 * bit set, plus corevisor's own leaves at 0x40000000. */
static bool handle_cpuid(struct vm *vm, const struct virt_exit *x)
{
	uint32_t leaf = (uint32_t)vm->regs.rax, sub = (uint32_t)vm->regs.rcx;
	struct cpuid_regs r = {0, 0, 0, 0};

	if (leaf == HV_CPUID_VENDOR) {
		r = (struct cpuid_regs){HV_CPUID_FEATURES, 0x65726f43, 0x69736956, 0x5648726f};
	} else if (leaf == HV_CPUID_FEATURES) {
		r.eax = vm_virt()->hypercall_is_vmmcall ? HV_FEATURE_VMMCALL : 0;
	} else if ((leaf & 0xf0000000) != 0x40000000) {
		r = cpuid(leaf, sub);
		if (leaf == 1)
			r.ecx = (r.ecx | CPUID_1_ECX_HYPERVISOR) & ~CPUID_1_ECX_VMX;
		if (leaf == 0x80000001)
			r.ecx &= ~CPUID_80000001_ECX_SVM;
	}
	vm->regs.rax = r.eax;
	vm->regs.rbx = r.ebx;
	vm->regs.rcx = r.ecx;
	vm->regs.rdx = r.edx;
	skip(vm, x);
	return true;
}

/* Port I/O goes to the device that registered the port; with none behind
 * it, reads give all-ones and writes are dropped, as on a PC bus. String
 * forms wait for the instruction emulator. */
static bool handle_io(struct vm *vm, const struct virt_exit *x)
{
	const struct pio_range *r = pio_find(vm, x->io.port);
	uint64_t mask = x->io.size == 4 ? 0xffffffffull : (1ull << (8 * x->io.size)) - 1;

	if (x->io.string) {
		vm_stop(vm, "string port I/O is not emulated yet", x->rip);
		return false;
	}
	if (x->io.in) {
		uint64_t v = r ? r->read(r->dev, x->io.port, x->io.size) : mask;

		/* IN writes AL/AX/EAX; a 32-bit IN zeroes the upper half of RAX */
		vm->regs.rax = x->io.size == 4 ? (v & mask) : (vm->regs.rax & ~mask) | (v & mask);
	} else if (r) {
		r->write(r->dev, x->io.port, x->io.size, (uint32_t)(vm->regs.rax & mask));
	}
	skip(vm, x);
	return true;
}

/* No MSR is virtualized yet: like hardware for an MSR it does not have,
 * RDMSR and WRMSR raise #GP(0) (SDM Vol. 2B, RDMSR), and the guest's own
 * handler decides. */
static bool handle_msr(struct vm *vm, const struct virt_exit *x)
{
	(void)x;
	vm_virt()->vcpu_inject_exception(vm->vcpu, VEC_GP, true, 0);
	return true;
}

static bool handle_hlt(struct vm *vm, const struct virt_exit *x)
{
	/* Until the virtual LAPIC exists nothing could ever wake it. */
	vm_stop(vm, "HLT with no virtual interrupt source to wake it", x->rip);
	return false;
}

static void console_write(struct vm *vm, uint64_t gpa, uint64_t len)
{
	char line[CONSOLE_LINE_MAX + 1];

	if (len > CONSOLE_LINE_MAX)
		len = CONSOLE_LINE_MAX;
	if (gpa >= vm->ram_bytes || len > vm->ram_bytes - gpa)
		return;
	memcpy(line, (const char *)phys_to_virt(vm->ram_hpa) + gpa, len);
	line[len] = '\0';
	log_printf("[%s] %s\n", vm->cfg->name, line);
}

static void report(struct vm *vm, uint64_t key, uint64_t value)
{
	struct record r;

	record_begin(&r, "guest_report");
	record_str(&r, "vm", vm->cfg->name);
	record_str(&r, "key", key < HR_KEYS ? report_keys[key] : "unknown");
	record_uint(&r, "value", value);
	record_emit(&r);
}

/* A guest that makes more than HYPERCALL_WINDOW_MAX hypercalls within
 * HYPERCALL_WINDOW_US is flooding the hypervisor and is stopped. */
static bool hypercall_flood(struct vm *vm)
{
	uint64_t now = rdtsc();

	if (now - vm->hypercall_window_start > tsc_from_us(HYPERCALL_WINDOW_US)) {
		vm->hypercall_window_start = now;
		vm->hypercalls_in_window = 0;
	}
	return ++vm->hypercalls_in_window > HYPERCALL_WINDOW_MAX;
}

static bool handle_hypercall(struct vm *vm, const struct virt_exit *x)
{
	struct virt_regs *r = &vm->regs;
	uint64_t result = 0;

	if (!vm->first_hypercall_tsc)
		vm->first_hypercall_tsc = rdtsc();
	if (hypercall_flood(vm)) {
		vm_stop(vm, "hypercall flood", x->rip);
		return false;
	}
	switch (r->rax) {
	case HC_CONSOLE_WRITE:
		console_write(vm, r->rdi, r->rsi);
		break;
	case HC_REPORT:
		report(vm, r->rdi, r->rsi);
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
	skip(vm, x);
	return true;
}

static bool handle_npf(struct vm *vm, const struct virt_exit *x)
{
	const struct mmio_region *r = mmio_find(vm, x->npf.gpa);
	char why[96];

	if (r)
		return mmio_emulate(vm, x, r);
	snprintf(why, sizeof(why), "%s guest-physical 0x%llx, outside its RAM",
		 x->npf.fetch	? "executed at"
		 : x->npf.write ? "wrote to"
				: "read from",
		 (unsigned long long)x->npf.gpa);
	vm_stop(vm, why, x->rip);
	return false;
}

static bool handle_external_interrupt(struct vm *vm, const struct virt_exit *x)
{
	(void)vm;
	(void)x;
	irq_window(); /* the host takes the interrupt here, then the guest resumes */
	return true;
}

static bool handle_deadline(struct vm *vm, const struct virt_exit *x)
{
	(void)vm;
	(void)x;
	return true; /* the run loop sees the time and decides */
}

static bool handle_fatal(struct vm *vm, const struct virt_exit *x)
{
	char why[64];

	if (x->reason == VIRT_EXIT_TRIPLE_FAULT)
		snprintf(why, sizeof(why), "triple fault");
	else if (x->reason == VIRT_EXIT_INVALID_STATE)
		snprintf(why, sizeof(why), "VM entry failed: invalid guest state");
	else
		snprintf(why, sizeof(why), "unhandled exit (vendor code 0x%llx)",
			 (unsigned long long)x->vendor_code);
	vm_stop(vm, why, x->rip);
	return false;
}

static const vmexit_handler handlers[VIRT_EXIT_COUNT] = {
	[VIRT_EXIT_CPUID] = handle_cpuid,
	[VIRT_EXIT_HLT] = handle_hlt,
	[VIRT_EXIT_IO] = handle_io,
	[VIRT_EXIT_MSR_READ] = handle_msr,
	[VIRT_EXIT_MSR_WRITE] = handle_msr,
	[VIRT_EXIT_HYPERCALL] = handle_hypercall,
	[VIRT_EXIT_NESTED_PAGE_FAULT] = handle_npf,
	[VIRT_EXIT_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[VIRT_EXIT_INTERRUPT_WINDOW] = handle_fatal,
	[VIRT_EXIT_DEADLINE] = handle_deadline,
	[VIRT_EXIT_TRIPLE_FAULT] = handle_fatal,
	[VIRT_EXIT_EXCEPTION] = handle_fatal,
	[VIRT_EXIT_INVALID_STATE] = handle_fatal,
	[VIRT_EXIT_OTHER] = handle_fatal,
};

bool vmexit_handle(struct vm *vm, const struct virt_exit *x)
{
	vm->exits[x->reason]++;
	return handlers[x->reason](vm, x);
}
