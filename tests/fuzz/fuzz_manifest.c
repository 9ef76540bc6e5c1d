/* libFuzzer harness for the boot manifest (kernel/manifest*.c): the input is the manifest's
 * JSON text, not NUL-terminated, parsed by manifest_parse and, when it parses, checked by
 * manifest_check_platform against three machines (one CPU and little memory, a small one
 * with both guest images, a large one). Beyond "no crash":
 *   - a failure names a field and a reason, both NUL-terminated, the reason not empty;
 *   - a parsed manifest keeps every bound of manifest.h (counts, strings, ranges);
 *   - the platform check reports what it marks: a VM is invalid exactly when an error names
 *     it, the valid VMs' memory fits what is free, and the machine may boot only when no
 *     error is fatal and either none was found or on_error skips invalid VMs.
 *
 * Each input is parsed right after a fixed other manifest (prime() says why).
 *
 * Input: the JSON text. Seeds: tests/integration/manifests/{good,bad}/ (tests/fuzz/seeds.py).
 * Dictionary: fuzz_manifest.dict (the manifest's keys and enum strings). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/manifest.h"

#define MAX_ERRS      8
#define PRIME_AT      4096 /* tools/fuzz's -max_len */
#define PRIME_TOKENS  (PRIME_AT + 8)
#define PRIME_OPEN_AT 16
#define MIB	      (1024ull * 1024)
#define CHECK(c)      ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_error(const struct manifest_error *e)
{
	CHECK(terminated(e->field, sizeof(e->field)));
	CHECK(terminated(e->reason, sizeof(e->reason)));
	CHECK(e->reason[0] != '\0');
}

static void check_bounds(const struct manifest *m)
{
	CHECK(m->nvms <= MANIFEST_MAX_VMS);
	CHECK(m->on_error <= MANIFEST_ON_ERROR_SKIP_INVALID_VMS);
	CHECK(m->poweroff <= MANIFEST_POWEROFF_WHEN_VMS_DONE);
	CHECK(m->io_mode <= MANIFEST_IO_EXIT);
	for (unsigned cpu = 0; cpu < MANIFEST_MAX_CPUS; cpu++)
		CHECK(m->cpu_role[cpu] <= MANIFEST_ROLE_IO);
	for (uint32_t i = 0; i < m->nvms; i++) {
		const struct manifest_vm *v = &m->vms[i];

		CHECK(terminated(v->name, sizeof(v->name)) && v->name[0]);
		CHECK(terminated(v->image, sizeof(v->image)));
		CHECK(terminated(v->cmdline, sizeof(v->cmdline)));
		CHECK(v->memory_mib <= MANIFEST_MAX_MEMORY_MIB);
		CHECK(v->vcpus <= MANIFEST_MAX_VCPUS);
		CHECK(v->ndevices <= MANIFEST_MAX_DEVICES);
		for (uint32_t d = 0; d < v->ndevices; d++) {
			const struct manifest_device *dev = &v->devices[d];

			CHECK(dev->type <= MANIFEST_DEVICE_TEST_MMIO);
			CHECK(terminated(dev->switch_name, sizeof(dev->switch_name)));
			CHECK(dev->tx_queue_len <= MANIFEST_TX_QUEUE_MAX);
			CHECK(dev->io_core >= -1 && dev->io_core < (int32_t)MANIFEST_MAX_CPUS);
			CHECK(dev->io_core < 0 ||
			      manifest_cpu_role(m, (uint32_t)dev->io_core) == MANIFEST_ROLE_IO);
		}
	}
}

static void check_platform(struct manifest *m, const struct manifest_platform *p)
{
	struct manifest_error errs[MAX_ERRS];
	bool may_boot, named[MANIFEST_MAX_VMS] = {false}, fatal = false;
	uint64_t used = 0;
	int n = manifest_check_platform(m, p, errs, MAX_ERRS, &may_boot);

	CHECK(n >= 0);
	for (int i = 0; i < n && i < MAX_ERRS; i++) {
		check_error(&errs[i]);
		CHECK(errs[i].vm >= -1 && errs[i].vm < (int)m->nvms);
		if (errs[i].vm < 0)
			fatal = true;
		else
			named[errs[i].vm] = true;
	}
	for (uint32_t i = 0; i < m->nvms; i++) {
		/* Only as far as the errors were kept: later ones are counted, not written. */
		if (n <= MAX_ERRS)
			CHECK(m->vms[i].valid == !named[i]);
		if (m->vms[i].valid)
			used += (uint64_t)m->vms[i].memory_mib * MIB;
	}
	CHECK(used <= p->free_bytes);
	CHECK(n || may_boot);
	CHECK(!may_boot || !fatal);
	CHECK(!may_boot || n == 0 || m->on_error == MANIFEST_ON_ERROR_SKIP_INVALID_VMS);
}

/* A parse before each input, as in any process that parses more than once (the unit tests,
 * a tool that checks several manifests), so that the token buffer holds the same stale
 * tokens before every run of an input and its result depends on it alone: an array of more
 * tokens than an input of up to PRIME_AT bytes can have, all past its end but the second,
 * an array opening at byte PRIME_OPEN_AT (so a parse that takes it for its own looks for
 * its element past the input). After the first time, only as many tokens as the last input
 * can have overwritten (one per byte at most) are laid again: the same text, cut short. */
static void prime(size_t dirty)
{
	static char text[PRIME_OPEN_AT + PRIME_AT + 2 + 2 * PRIME_TOKENS + 1];
	static struct manifest m;
	static bool done;
	struct manifest_error err;
	size_t zeros = !done || dirty > PRIME_TOKENS ? PRIME_TOKENS : dirty;
	char *end = text + PRIME_OPEN_AT + PRIME_AT + 2 + 2 * zeros;

	if (!done) {
		char *p = text + PRIME_OPEN_AT + PRIME_AT;

		memset(text, ' ', PRIME_OPEN_AT + PRIME_AT);
		memcpy(text, "[0,", 3);
		text[PRIME_OPEN_AT] = '[';
		memcpy(p, "0]", 2);
		for (p += 2; p < text + sizeof(text) - 1; p += 2)
			memcpy(p, ",0", 2);
		done = true;
	}
	*end = ']';
	(void)manifest_parse(text, (size_t)(end + 1 - text), &m, &err);
	*end = ',';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const images[] = {"guest-shim", "guest-shim32"};
	static const struct manifest_platform machines[] = {
		{1, 16 * MIB, 0, NULL},
		{4, 1024 * MIB, 2, images},
		{MANIFEST_MAX_CPUS, 1ull << 40, 1, images},
	};
	static struct manifest m;
	static size_t last_size;
	struct manifest_error err;

	prime(last_size);
	last_size = size;
	memset(&err, 0x5a, sizeof(err));
	if (manifest_parse((const char *)data, size, &m, &err)) {
		check_error(&err);
		return 0;
	}
	check_bounds(&m);
	for (unsigned i = 0; i < sizeof(machines) / sizeof(machines[0]); i++)
		check_platform(&m, &machines[i]);
	return 0;
}
