/* The test-irq device (kernel/test_irq.h). Whichever core passes through its
 * loop first after a device's due time raises the interrupt (cores arm their
 * timers for test_irq_next()); a compare-and-swap on the due time makes sure
 * only one does. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "kernel/manifest.h"
#include "kernel/mmio.h"
#include "kernel/test_irq.h"
#include "kernel/vm.h"

struct test_irq {
	struct vm *vm;
	uint8_t vector;
	uint64_t period; /* TSC cycles */
	uint64_t due;	 /* TSC of the next interrupt; 0: stopped */
	uint64_t count, raised_tsc, fired;
};

static struct test_irq devices[MANIFEST_MAX_VMS];
static unsigned ndevices;

static uint64_t test_irq_read(void *dev, struct vcpu *v, uint64_t offset, unsigned size)
{
	const struct test_irq *t = dev;

	(void)v;
	(void)size;
	switch (offset) {
	case TEST_IRQ_REG_ID:
		return TEST_IRQ_ID;
	case TEST_IRQ_REG_VECTOR:
		return t->vector;
	case TEST_IRQ_REG_COUNT:
		return t->count;
	case TEST_IRQ_REG_RAISED:
		return __atomic_load_n(&t->raised_tsc, __ATOMIC_ACQUIRE);
	case TEST_IRQ_REG_FIRED:
		return __atomic_load_n(&t->fired, __ATOMIC_ACQUIRE);
	}
	return 0;
}

static void test_irq_write(void *dev, struct vcpu *v, uint64_t offset, unsigned size,
			   uint64_t value)
{
	struct test_irq *t = dev;

	(void)v;
	(void)size;
	if (offset == TEST_IRQ_REG_VECTOR) {
		t->vector = (uint8_t)value;
	} else if (offset == TEST_IRQ_REG_COUNT) {
		t->count = value;
	} else if (offset == TEST_IRQ_REG_ACK) {
		__atomic_store_n(&t->raised_tsc, 0, __ATOMIC_RELEASE);
	} else if (offset == TEST_IRQ_REG_PERIOD_US) {
		t->period = tsc_from_us(value);
		__atomic_store_n(&t->due, value ? rdtsc() + t->period : 0, __ATOMIC_RELEASE);
	}
}

static void fire(struct test_irq *t, uint64_t due, uint64_t now)
{
	uint64_t next = due + t->period, left = t->count ? t->count - 1 : 0;

	if (next <= now) /* fell behind: the next one a period from now */
		next = now + t->period;
	if (!__atomic_compare_exchange_n(&t->due, &due, left ? next : 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return; /* another core raised it */
	t->count = left;
	__atomic_compare_exchange_n(&t->raised_tsc, &(uint64_t){0}, rdtsc(), false,
				    __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE); /* the oldest one not acknowledged */
	__atomic_fetch_add(&t->fired, 1, __ATOMIC_RELEASE);
	vcpu_interrupt(vm_device_irq_target(t->vm), t->vector);
}

void test_irq_poll(uint64_t now)
{
	for (unsigned i = 0; i < ndevices; i++) {
		struct test_irq *t = &devices[i];
		uint64_t due = __atomic_load_n(&t->due, __ATOMIC_ACQUIRE);

		if (due && due <= now && t->vm->state != VM_STOPPED)
			fire(t, due, now);
	}
}

uint64_t test_irq_next(void)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < ndevices; i++) {
		uint64_t due = __atomic_load_n(&devices[i].due, __ATOMIC_ACQUIRE);

		if (due && devices[i].vm->state != VM_STOPPED && (!next || due < next))
			next = due;
	}
	return next;
}

int test_irq_attach(struct vm *vm, const char **why)
{
	struct test_irq *t = &devices[ndevices];
	struct mmio_region r = {TEST_IRQ_BASE, TEST_IRQ_SIZE,  "test-irq",
				test_irq_read, test_irq_write, t};

	if (vm->ram_bytes > TEST_IRQ_BASE) {
		*why = "test-irq at 0x3fd00000 overlaps the VM's RAM (memory_mib above 1021)";
		return -1;
	}
	*t = (struct test_irq){.vm = vm};
	if (mmio_register(vm, &r)) {
		*why = "test-irq given twice";
		return -1;
	}
	ndevices++;
	return 0;
}
