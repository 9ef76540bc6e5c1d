/* One-shot timers (SDM Vol. 3A §11.5.4). The LAPIC timer's own clock has to
 * be measured against the TSC; the TSC-deadline mode needs no measuring. */
#include "arch/x86_64/apic_regs.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"

struct timer_ops {
	const char *name;
	void (*init_cpu)(void);
	void (*arm)(uint64_t deadline);
	void (*cancel)(void);
};

static uint64_t lapic_timer_khz;

static void deadline_init_cpu(void)
{
	lapic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_TSCDEADLINE | VEC_TIMER);
}

static void deadline_arm(uint64_t deadline)
{
	wrmsr(MSR_IA32_TSC_DEADLINE, deadline ? deadline : 1);
}

static void deadline_cancel(void)
{
	wrmsr(MSR_IA32_TSC_DEADLINE, 0);
}

static void oneshot_init_cpu(void)
{
	lapic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | VEC_TIMER);
}

static void oneshot_arm(uint64_t deadline)
{
	uint64_t now = rdtsc();
	uint64_t ticks = deadline > now ? (deadline - now) * lapic_timer_khz / tsc_khz : 1;

	lapic_write(APIC_TIMER_INITIAL, ticks > 0xffffffff ? 0xffffffff : (ticks ? ticks : 1));
}

static void oneshot_cancel(void)
{
	lapic_write(APIC_TIMER_INITIAL, 0);
}

static const struct timer_ops deadline_ops = {"tsc-deadline", deadline_init_cpu, deadline_arm,
					      deadline_cancel};
static const struct timer_ops oneshot_ops = {"lapic-oneshot", oneshot_init_cpu, oneshot_arm,
					     oneshot_cancel};
static const struct timer_ops *timer = &oneshot_ops;

/* Counts the LAPIC timer down for a known number of TSC cycles. */
static void lapic_timer_calibrate(void)
{
	uint64_t window_us = 10000;
	uint32_t left;

	lapic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC_TIMER);
	lapic_write(APIC_TIMER_INITIAL, 0xffffffff);
	tsc_delay_us(window_us);
	left = lapic_read(APIC_TIMER_CURRENT);
	lapic_write(APIC_TIMER_INITIAL, 0);
	lapic_timer_khz = (0xffffffffull - left) * 1000 / window_us;
}

static void timer_interrupt(struct trap_frame *tf)
{
	(void)tf;
	this_cpu()->timer_fired_tsc = rdtsc();
}

void timer_init_bsp(void)
{
	if (cpuid(1, 0).ecx & CPUID_1_ECX_TSCDEADLINE)
		timer = &deadline_ops;
	else
		lapic_timer_calibrate();
	irq_register(VEC_TIMER, timer_interrupt);
}

void timer_init_cpu(void)
{
	timer->init_cpu();
}

/* Re-arming costs an MSR or APIC write per VM entry; skip it while the
 * same deadline is still pending. */
void timer_arm_deadline(uint64_t deadline)
{
	struct cpu *c = this_cpu();

	if (deadline == c->timer_armed && !c->timer_fired_tsc)
		return;
	c->timer_fired_tsc = 0;
	c->timer_armed = deadline;
	timer->arm(deadline);
}

void timer_cancel(void)
{
	this_cpu()->timer_armed = 0;
	timer->cancel();
}

const char *timer_kind(void)
{
	return timer->name;
}

uint64_t timer_selftest(uint64_t delay_us)
{
	struct cpu *c = this_cpu();
	uint64_t start = rdtsc();
	uint64_t give_up = start + tsc_from_us(delay_us * 100);

	timer_arm_deadline(start + tsc_from_us(delay_us));
	/* Poll with interrupts on rather than hlt: a timer that never fires must
	 * give a failed self-test, not a hung boot. */
	irq_enable();
	while (!c->timer_fired_tsc && rdtsc() < give_up)
		cpu_relax();
	irq_disable();
	timer_cancel();
	return c->timer_fired_tsc ? tsc_to_us(c->timer_fired_tsc - start) : 0;
}
