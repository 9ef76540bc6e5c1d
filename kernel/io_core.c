/* The I/O cores' loop (kernel/io_core.h). Each I/O CPU owns the devices the
 * manifest or the round-robin placement gave it, and runs vio/ioloop over
 * their queues: a bounded amount of work per queue per visit, idle queues
 * back in notification mode after `io.poll_idle_us`, and a halt when all of
 * them are (ELVIS §3.2-3.3). A guest's notify write sets the device's kick
 * flag and sends the kick IPI; the flag is set first, so a core that looks at
 * the flags with interrupts off right before it halts either sees it or is
 * woken by the IPI (`sti; hlt` takes a pending interrupt). */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/io_core.h"
#include "kernel/log.h"
#include "kernel/mem.h"
#include "kernel/vdev.h"
#include "kernel/vm.h"

#include <string.h>

#define IO_BUDGET 32 /* requests or frames per queue per visit */

struct io_core {
	struct ioloop loop;
	struct vdev *dev[IOLOOP_MAX_QUEUES];
	unsigned ndev;
	uint64_t halts, wakeups;
};

static struct io_core *io_cores[MAX_CPUS];
static uint32_t next_io_cpu; /* round-robin placement */

static uint64_t now_ns(void)
{
	return tsc_to_ns(rdtsc());
}

static bool is_io_cpu(const struct manifest *m, uint32_t cpu)
{
	return cpu < cpu_count && cpus[cpu].online && manifest_cpu_role(m, cpu) == MANIFEST_ROLE_IO;
}

int io_core_assign(const struct manifest *m, int requested, const char **why)
{
	if (requested >= 0) {
		if (is_io_cpu(m, (uint32_t)requested))
			return requested;
		*why = "its io_core is not an online CPU of the role io";
		return -1;
	}
	for (uint32_t i = 0; i < cpu_count; i++) {
		uint32_t cpu = (next_io_cpu + i) % cpu_count;

		if (is_io_cpu(m, cpu)) {
			next_io_cpu = cpu + 1;
			return (int)cpu;
		}
	}
	*why = "no online CPU has the role io";
	return -1;
}

static struct io_core *core_of(uint32_t cpu, uint64_t poll_idle_ns)
{
	uint64_t pages = (sizeof(struct io_core) + PAGE_SIZE - 1) / PAGE_SIZE, phys;

	if (io_cores[cpu])
		return io_cores[cpu];
	phys = mem_alloc_pages(pages, 1);
	if (!phys)
		return NULL;
	io_cores[cpu] = phys_to_virt(phys);
	memset(io_cores[cpu], 0, sizeof(struct io_core));
	ioloop_init(&io_cores[cpu]->loop, IO_BUDGET, poll_idle_ns);
	return io_cores[cpu];
}

int io_core_add(struct vdev *d, uint32_t poll_idle_us)
{
	struct io_core *c = core_of((uint32_t)d->io_core, (uint64_t)poll_idle_us * 1000);

	if (!c || c->ndev == IOLOOP_MAX_QUEUES)
		return -1;
	if (ioloop_add(&c->loop, &d->lq, &vdev_queue_ops, d, now_ns()))
		return -1;
	c->dev[c->ndev++] = d;
	return 0;
}

void io_core_kick(struct vdev *d)
{
	__atomic_store_n(&d->kicked, true, __ATOMIC_SEQ_CST);
	if ((uint32_t)d->io_core != this_cpu()->index)
		lapic_send_ipi(cpus[d->io_core].apic_id, VEC_KICK);
}

/* Kicked devices poll again; returns whether there were any. */
static bool take_kicks(struct io_core *c, uint64_t now)
{
	bool any = false;

	for (unsigned i = 0; i < c->ndev; i++) {
		if (!__atomic_exchange_n(&c->dev[i]->kicked, false, __ATOMIC_ACQ_REL))
			continue;
		ioloop_kick(&c->loop, &c->dev[i]->lq, now);
		any = true;
	}
	return any;
}

static bool any_kicked(const struct io_core *c)
{
	for (unsigned i = 0; i < c->ndev; i++)
		if (__atomic_load_n(&c->dev[i]->kicked, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

/* Completions vIC held whose max_delay is up get their interrupt; returns
 * the earliest deadline still held (TSC), or 0. */
static uint64_t coalescing_timers(struct io_core *c, uint64_t now_tsc)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < c->ndev; i++) {
		uint64_t due = vdev_coalescing_due(c->dev[i], now_tsc);

		if (due && (!next || due < next))
			next = due;
	}
	return next;
}

/* A disk whose next completion is due wakes its queue as a kick does (the
 * completion is the disk's event); returns the earliest completion still to
 * come (TSC), or 0. */
static uint64_t disk_timers(struct io_core *c, uint64_t now_tsc, uint64_t now)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < c->ndev; i++) {
		uint64_t due = vdev_disk_due(c->dev[i]);

		if (!due)
			continue;
		if (due <= now_tsc) {
			if (!c->dev[i]->lq.polling)
				ioloop_kick(&c->loop, &c->dev[i]->lq, now);
		} else if (!next || due < next) {
			next = due;
		}
	}
	return next;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a || (b && b < a) ? b : a;
}

/* Every queue asks for kicks: nothing to poll until a kick IPI, the
 * earliest held completion's deadline or a disk's next completion (the
 * one-shot timer). */
static void halt_until(struct io_core *c, uint64_t deadline)
{
	c->halts++;
	if (deadline)
		timer_arm_deadline(deadline);
	cpu_wait_for_interrupt();
	if (deadline)
		timer_cancel();
	c->wakeups++;
}

static void serve(struct io_core *c)
{
	while (!vm_all_stopped()) {
		uint64_t tsc = rdtsc(), now = tsc_to_ns(tsc), next;

		take_kicks(c, now);
		disk_timers(c, tsc, now);
		ioloop_pass(&c->loop, now);
		next = earliest(coalescing_timers(c, tsc), disk_timers(c, rdtsc(), now));
		if (!ioloop_idle(&c->loop, now) || any_kicked(c))
			continue;
		halt_until(c, next);
	}
}

void io_core_run(const struct manifest *m)
{
	struct io_core *c = io_cores[this_cpu()->index];

	(void)m;
	if (!c) {
		log_printf("cpu %u: I/O core with no device to serve\n", this_cpu()->index);
		return;
	}
	log_printf("cpu %u: I/O core serving %u device%s\n", this_cpu()->index, c->ndev,
		   c->ndev == 1 ? "" : "s");
	timer_cancel();
	serve(c);
}
