/* The test-mmio device: an ID, a scratch register that takes any access
 * width at any byte offset, and a write counter, so a guest can check that
 * the instruction emulator moved the right bytes. */
#include <string.h>

#include "kernel/manifest.h"
#include "kernel/mmio.h"
#include "kernel/test_mmio.h"
#include "kernel/vm.h"

struct test_mmio {
	uint8_t scratch[8];
	uint64_t writes;
};

static struct test_mmio devices[MANIFEST_MAX_VMS]; /* one per VM at most */

static uint64_t test_mmio_read(void *dev, struct vcpu *v, uint64_t offset, unsigned size)
{
	struct test_mmio *t = dev;
	uint64_t value = 0;

	(void)v;

	if (offset == TEST_MMIO_REG_ID)
		return TEST_MMIO_ID;
	if (offset == TEST_MMIO_REG_WRITES)
		return t->writes;
	if (offset >= TEST_MMIO_REG_SCRATCH && offset + size <= TEST_MMIO_REG_SCRATCH + 8)
		memcpy(&value, t->scratch + (offset - TEST_MMIO_REG_SCRATCH), size);
	return value;
}

static void test_mmio_write(void *dev, struct vcpu *v, uint64_t offset, unsigned size,
			    uint64_t value)
{
	struct test_mmio *t = dev;

	(void)v;
	t->writes++;
	if (offset >= TEST_MMIO_REG_SCRATCH && offset + size <= TEST_MMIO_REG_SCRATCH + 8)
		memcpy(t->scratch + (offset - TEST_MMIO_REG_SCRATCH), &value, size);
}

int test_mmio_attach(struct vm *vm, const char **why)
{
	struct mmio_region r = {TEST_MMIO_BASE, TEST_MMIO_SIZE,	 "test-mmio",
				test_mmio_read, test_mmio_write, &devices[vm->index]};

	if (vm->ram_bytes > TEST_MMIO_BASE) {
		*why = "test-mmio at 0x3fe00000 overlaps the VM's RAM (memory_mib above 1022)";
		return -1;
	}
	memset(&devices[vm->index], 0, sizeof(devices[vm->index]));
	if (mmio_register(vm, &r)) {
		*why = "test-mmio given twice";
		return -1;
	}
	return 0;
}
