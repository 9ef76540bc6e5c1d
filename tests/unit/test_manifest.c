/* Manifest parsing and checks against a machine; the limits of lib/config.h, on the largest
 * valid manifest (tools/gen-largest-manifest) and just past each limit.
 *
 * `test_manifest FILE...` checks files instead, as tools/check-manifest does: each file's
 * first error as `FILE: field: reason`, or `FILE: ok` (tests/integration/test_limits.py
 * compares the two). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define JSMN_HEADER
#include <jsmn.h>

#include "kernel/manifest.h"

#define STRINGIFY_(x)	   #x
#define STRINGIFY(x)	   STRINGIFY_(x)
#define CPU_PAST_THE_LIMIT STRINGIFY(MANIFEST_MAX_CPUS) /* CPU ids are 0..MAX-1 */

static struct manifest m;
static struct manifest_error err;

static int parse(const char *json)
{
	memset(&err, 0, sizeof(err));
	return manifest_parse(json, strlen(json), &m, &err);
}

static void expect_error(const char *json, const char *field, const char *reason_part)
{
	assert_int_equal(parse(json), -1);
	assert_string_equal(err.field, field);
	if (!strstr(err.reason, reason_part))
		fail_msg("reason \"%s\" lacks \"%s\"", err.reason, reason_part);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse("{}"), 0);
	assert_int_equal(m.regular_slice_us, 30000);
	assert_int_equal(m.turbo_slice_us, 100);
	assert_true(m.turbo_preempt);
	assert_int_equal(m.turbo_preempt_min_us, 20);
	assert_int_equal(m.on_error, MANIFEST_ON_ERROR_HALT);
	assert_int_equal(m.poweroff, MANIFEST_POWEROFF_NEVER);
	assert_int_equal(m.nvms, 0);
	assert_int_equal(manifest_cpu_role(&m, 5), MANIFEST_ROLE_REGULAR);
}

static const char *full =
	"{ \"cores\": {\"regular\": [0, 2], \"turbo\": [1], \"io\": [3]},\n"
	"  \"scheduler\": {\"regular_slice_us\": 20000, \"turbo_slice_us\": 200,\n"
	"                \"turbo_preempt\": false, \"turbo_preempt_min_us\": 50},\n"
	"  \"on_error\": \"skip_invalid_vms\", \"poweroff\": \"after_boot\",\n"
	"  \"stats_interval_ms\": 500,\n"
	"  \"vms\": [ {\"name\": \"web\", \"memory_mib\": 64, \"vcpus\": 2, \"turbo_vcpu\": true,\n"
	"             \"weight\": 512, \"image\": \"guest-shim\", \"cmdline\": \"workload=spin "
	"n=3\",\n"
	"             \"devices\": [ {\"type\": \"virtio-blk\", \"backend\": \"ramdisk\", "
	"\"size_mib\": 8},\n"
	"                           {\"type\": \"virtio-net\", \"switch\": \"br0\", \"mac\": "
	"\"52:54:00:ab:CD:0f\"},\n"
	"                           {\"type\": \"test-irq\"} ] },\n"
	"           {\"name\": \"db\", \"memory_mib\": 32, \"image\": \"linux\"} ] }";

static void test_full_manifest(void **state)
{
	(void)state;
	assert_int_equal(parse(full), 0);
	assert_int_equal(manifest_cpu_role(&m, 0), MANIFEST_ROLE_REGULAR);
	assert_int_equal(manifest_cpu_role(&m, 1), MANIFEST_ROLE_TURBO);
	assert_int_equal(manifest_cpu_role(&m, 3), MANIFEST_ROLE_IO);
	assert_string_equal(manifest_role_name(MANIFEST_ROLE_IO), "io");
	assert_int_equal(m.regular_slice_us, 20000);
	assert_int_equal(m.turbo_slice_us, 200);
	assert_false(m.turbo_preempt);
	assert_int_equal(m.turbo_preempt_min_us, 50);
	assert_int_equal(m.on_error, MANIFEST_ON_ERROR_SKIP_INVALID_VMS);
	assert_int_equal(m.poweroff, MANIFEST_POWEROFF_AFTER_BOOT);
	assert_int_equal(m.nvms, 2);
	assert_string_equal(m.vms[0].name, "web");
	assert_int_equal(m.vms[0].vcpus, 2);
	assert_true(m.vms[0].turbo_vcpu);
	assert_int_equal(m.vms[0].weight, 512);
	assert_string_equal(m.vms[0].cmdline, "workload=spin n=3");
	assert_int_equal(m.vms[0].ndevices, 3);
	assert_int_equal(m.vms[0].devices[0].type, MANIFEST_DEVICE_VIRTIO_BLK);
	assert_int_equal(m.vms[0].devices[0].size_mib, 8);
	assert_string_equal(m.vms[0].devices[1].switch_name, "br0");
	assert_int_equal(m.vms[0].devices[1].mac[3], 0xab);
	assert_int_equal(m.vms[0].devices[1].mac[4], 0xcd);
	assert_int_equal(m.vms[0].devices[2].type, MANIFEST_DEVICE_TEST_IRQ);
	assert_int_equal(m.vms[1].vcpus, 1);	/* default */
	assert_int_equal(m.vms[1].weight, 256); /* default */
	assert_false(m.vms[1].turbo_vcpu);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error("", "(top level)", "empty");
	expect_error("{", "(top level)", "ends inside");
	expect_error("{\"vms\": [1,]}", "(top level)", "invalid JSON");
	expect_error("{\"vms\": [] \"poweroff\": \"never\"}", "(top level)", "invalid JSON");
	expect_error("{\"vms\": [],}", "(top level)", "invalid JSON");
	expect_error("{} []", "(top level)", "more text");
	expect_error("{} x", "(top level)", "invalid JSON at byte 3");
	expect_error("[]", "(top level)", "must be a JSON object");
	expect_error("{\"poweroff\": never}", "(top level)", "invalid JSON");
}

/* A key without a value ({"k": }), which jsmn lets through: an invalid-JSON error naming the
 * field. Each is parsed after a manifest whose third token is an array opening at byte 16 and
 * closing at byte 81, the tokens the fuzzer's harness had left (fuzz_manifest/key-without-value):
 * taking that stale token for the value of {"size_mib":    } reads the text up to byte 81, past
 * its 17 bytes, which AddressSanitizer catches as the text is a heap copy of exactly its length. */
static void expect_no_value(const char *json, const char *field)
{
	static const char stale[] =
		"{\"vms\":         [" /* byte 16 */
		"                                                                "
		"]}";
	size_t len = strlen(json);
	char *copy = malloc(len);

	assert_int_equal(parse(stale), 0);
	memcpy(copy, json, len);
	memset(&err, 0, sizeof(err));
	assert_int_equal(manifest_parse(copy, len, &m, &err), -1);
	assert_string_equal(err.field, field);
	if (!strstr(err.reason, "invalid JSON") || !strstr(err.reason, "has no value"))
		fail_msg("reason \"%s\"", err.reason);
	free(copy);
}

static void test_key_without_value(void **state)
{
	(void)state;
	expect_no_value("{\"size_mib\":    }", "size_mib");
	expect_no_value("{\"poweroff\": \"never\", \"on_error\": }", "on_error");
	expect_no_value("{\"scheduler\": {\"turbo_slice_us\": }, \"poweroff\": \"never\"}",
			"scheduler.turbo_slice_us");
	expect_no_value("{\"vms\": [{\"name\": \"a\"}, {\"name\": }]}", "vms[1].name");
}

static void test_field_errors(void **state)
{
	(void)state;
	expect_error("{\"colour\": 1}", "colour", "unknown field");
	expect_error(
		"{\"vms\": [{\"name\": \"a\", \"memory_mib\": 1, \"image\": \"x\", \"y\": 1}]}",
		"vms[0].y", "unknown field");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": \"1\", \"image\": \"x\"}]}",
		     "vms[0].memory_mib", "whole number");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 1.5, \"image\": \"x\"}]}",
		     "vms[0].memory_mib", "whole number");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": -1, \"image\": \"x\"}]}",
		     "vms[0].memory_mib", "whole number");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 99999999999999999999, "
		     "\"image\": \"x\"}]}",
		     "vms[0].memory_mib", "out of range");
	expect_error("{\"scheduler\": {\"turbo_slice_us\": 0}}", "scheduler.turbo_slice_us",
		     "out of range");
	expect_error("{\"poweroff\": \"sometimes\"}", "poweroff", "must be one of");
	expect_error("{\"cores\": {\"regular\": [0], \"io\": [0]}}", "cores.io[0]",
		     "already given the role \"regular\"");
	expect_error("{\"cores\": {\"turbo\": [" CPU_PAST_THE_LIMIT "]}}", "cores.turbo[0]",
		     "out of range");
	expect_error("{\"cores\": []}", "cores", "must be an object");
	expect_error("{\"poweroff\": \"never\", \"poweroff\": \"never\"}", "poweroff", "twice");
	expect_error("{\"vms\": [{\"memory_mib\": 1, \"image\": \"x\"}]}", "vms[0]", "needs a");
	expect_error("{\"vms\": [{\"name\": \"a b\", \"memory_mib\": 1, \"image\": \"x\"}]}",
		     "vms[0].name", "character");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 1, \"image\": \"x\"}, "
		     "{\"name\": \"a\", \"memory_mib\": 1, \"image\": \"x\"}]}",
		     "vms[1].name", "already used by vms[0]");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 1, \"image\": \"x\", "
		     "\"devices\": [{\"type\": \"test-irq\", \"switch\": \"br0\"}]}]}",
		     "vms[0].devices[0]", "does not apply");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 1, \"image\": \"x\", "
		     "\"devices\": [{\"type\": \"virtio-net\", \"mac\": \"01:00:00:00:00:00\", "
		     "\"switch\": \"s\"}]}]}",
		     "vms[0].devices[0].mac", "multicast");
}

static const char *const modules[] = {"manifest", "guest-shim"};

static int check(const char *json, uint32_t ncpus, uint64_t free_mib, struct manifest_error *errs,
		 bool *may_boot)
{
	struct manifest_platform p = {ncpus, free_mib << 20, 2, modules};

	assert_int_equal(parse(json), 0);
	return manifest_check_platform(&m, &p, errs, 8, may_boot);
}

static void test_platform_checks(void **state)
{
	struct manifest_error errs[8];
	bool ok;

	(void)state;
	assert_int_equal(
		check("{\"cores\": {\"regular\": [0], \"turbo\": [7]}}", 4, 100, errs, &ok), 1);
	assert_false(ok);
	assert_string_equal(errs[0].field, "cores.turbo[0]");
	assert_int_equal(errs[0].vm, -1);

	/* memory counted in VM order: the second one no longer fits */
	const char *two = "{\"vms\": [{\"name\": \"a\", \"memory_mib\": 60, \"image\": "
			  "\"guest-shim\"}, {\"name\": \"b\", \"memory_mib\": 60, \"image\": "
			  "\"guest-shim\"}]}";
	assert_int_equal(check(two, 1, 100, errs, &ok), 1);
	assert_false(ok);
	assert_string_equal(errs[0].field, "vms[1].memory_mib");
	assert_int_equal(errs[0].vm, 1);
	assert_true(m.vms[0].valid);
	assert_false(m.vms[1].valid);
	assert_int_equal(check(two, 1, 120, errs, &ok), 0);
	assert_true(ok);

	const char *img = "{\"on_error\": \"skip_invalid_vms\", \"vms\": [{\"name\": \"a\", "
			  "\"memory_mib\": 1, \"image\": \"nope\"}, {\"name\": \"b\", "
			  "\"memory_mib\": 1, \"image\": \"guest-shim\", \"turbo_vcpu\": true}]}";
	assert_int_equal(check(img, 2, 100, errs, &ok), 2);
	assert_true(ok); /* skip_invalid_vms: boots with no valid VM at all */
	assert_string_equal(errs[0].field, "vms[0].image");
	assert_string_equal(errs[1].field, "vms[1].turbo_vcpu");

	/* every CPU turbo: vCPUs have nowhere to run */
	assert_int_equal(check("{\"cores\": {\"turbo\": [0]}, \"vms\": [{\"name\": \"a\", "
			       "\"memory_mib\": 1, \"image\": \"guest-shim\"}]}",
			       1, 100, errs, &ok),
			 1);
	assert_string_equal(errs[0].field, "vms[0].vcpus");
}

/* Multiboot modules (docs/manifest.md): names like `image`, at most
 * MANIFEST_MAX_VM_MODULES, each a GRUB module the machine has. */
static void test_vm_modules(void **state)
{
	struct manifest_error errs[8];
	bool ok;

	(void)state;
	assert_int_equal(parse("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\"}, "
			       "{\"name\": \"b\", \"memory_mib\": 8, \"image\": \"g\", "
			       "\"modules\": [\"guest-shim\", \"x-1\"]}]}"),
			 0);
	assert_int_equal(m.vms[0].nmodules, 0);
	assert_int_equal(m.vms[1].nmodules, 2);
	assert_string_equal(m.vms[1].modules[0], "guest-shim");
	assert_string_equal(m.vms[1].modules[1], "x-1");
	assert_int_equal(m.vms[1].index, 1);
	expect_error(
		"{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\", "
		"\"modules\": [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\"]}]}",
		"vms[0].modules", "has 9 entries, at most 8 are allowed");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\", "
		     "\"modules\": [\"ok\", \"a b\"]}]}",
		     "vms[0].modules[1]", "");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\", "
		     "\"modules\": \"guest-shim\"}]}",
		     "vms[0].modules", "");
	/* the platform has "manifest" and "guest-shim": the second module is missing */
	assert_int_equal(check("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": "
			       "\"guest-shim\", \"modules\": [\"guest-shim\", \"nope\"]}]}",
			       1, 100, errs, &ok),
			 1);
	assert_false(ok);
	assert_string_equal(errs[0].field, "vms[0].modules[1]");
	assert_string_equal(errs[0].reason, "no GRUB module named \"nope\" (module2 <file> nope)");
	assert_int_equal(errs[0].vm, 0);
	assert_false(m.vms[0].valid);
}

/* The I/O fields (docs/manifest.md, "Virtio devices"): values, defaults, and
 * the rules between fields that the parser enforces. */
static void test_io_fields(void **state)
{
	struct manifest_error errs[8];
	uint8_t mac[6];
	bool ok;

	(void)state;
	assert_int_equal(parse("{}"), 0);
	assert_int_equal(m.io_mode, MANIFEST_IO_SIDECORE);
	assert_int_equal(m.poll_idle_us, 200);
	assert_int_equal(m.vic.mode, MANIFEST_COALESCING_VIC);
	assert_int_equal(m.vic.cif_threshold, 4); /* vIC's defaults, paper 004 */
	assert_int_equal(m.vic.iops_threshold, 2000);
	assert_int_equal(m.vic.epoch_ms, 200);
	assert_int_equal(
		parse("{\"cores\": {\"io\": [3]}, \"io\": {\"mode\": \"exit\", "
		      "\"poll_idle_us\": 5, \"coalescing\": \"off\", \"max_delay_us\": 9}, "
		      "\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\", "
		      "\"devices\": [{\"type\": \"virtio-net\", \"switch\": \"br0\", "
		      "\"tx_queue_len\": 7, \"io_core\": 3}, {\"type\": \"virtio-net\", "
		      "\"switch\": \"br0\"}]}]}"),
		0);
	assert_int_equal(m.io_mode, MANIFEST_IO_EXIT);
	assert_int_equal(m.vic.mode, MANIFEST_COALESCING_OFF);
	assert_int_equal(m.vic.max_delay_us, 9);
	assert_int_equal(m.vms[0].devices[0].tx_queue_len, 7);
	assert_int_equal(m.vms[0].devices[0].io_core, 3);
	assert_int_equal(m.vms[0].devices[1].io_core, -1);
	manifest_device_mac(&m.vms[0], 0, 1, mac); /* derived: 52:54:00:c0:<vm>:<device> */
	assert_memory_equal(mac, ((uint8_t[]){0x52, 0x54, 0x00, 0xc0, 0, 1}), 6);

	expect_error(
		"{\"cores\": {\"regular\": [0]}, \"vms\": [{\"name\": \"a\", \"memory_mib\": "
		"8, \"image\": \"g\", \"devices\": [{\"type\": \"virtio-blk\", \"io_core\": 0}]}]}",
		"vms[0].devices[0].io_core", "has the role \"regular\", not \"io\"");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\", "
		     "\"devices\": [{\"type\": \"virtio-net\", \"switch\": \"s\", \"mac\": "
		     "\"52:54:00:c0:01:00\"}]}, {\"name\": \"b\", \"memory_mib\": 8, \"image\": "
		     "\"g\", \"devices\": [{\"type\": \"virtio-net\", \"switch\": \"s\"}]}]}",
		     "vms[1].devices[0].mac", "already used on switch \"s\" by vms[0].devices[0]");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\", "
		     "\"devices\": [{\"type\": \"test-irq\", \"tx_queue_len\": 1}]}]}",
		     "vms[0].devices[0]", "does not apply to a test-irq device");

	/* a virtio-blk ramdisk's service time: 0 (at once) by default, up to 1 s, blk only,
	 * and only where an I/O core polls the disk */
	assert_int_equal(parse("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": "
			       "\"g\", \"devices\": [{\"type\": \"virtio-blk\"}, {\"type\": "
			       "\"virtio-blk\", \"service_us\": 1000000}]}]}"),
			 0);
	assert_int_equal(m.vms[0].devices[0].service_us, 0);
	assert_int_equal(m.vms[0].devices[1].service_us, 1000000);
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\", "
		     "\"devices\": [{\"type\": \"virtio-blk\", \"service_us\": 1000001}]}]}",
		     "vms[0].devices[0].service_us", "out of range");
	expect_error("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\", "
		     "\"devices\": [{\"type\": \"virtio-net\", \"switch\": \"s\", "
		     "\"service_us\": 5}]}]}",
		     "vms[0].devices[0]", "does not apply to a virtio-net device");
	expect_error("{\"io\": {\"mode\": \"exit\"}, \"vms\": [{\"name\": \"a\", "
		     "\"memory_mib\": 8, \"image\": \"g\", \"devices\": [{\"type\": "
		     "\"virtio-blk\", \"service_us\": 5}]}]}",
		     "vms[0].devices[0].service_us", "needs io.mode \"sidecore\"");
	assert_int_equal(parse("{\"io\": {\"mode\": \"exit\"}, \"vms\": [{\"name\": \"a\", "
			       "\"memory_mib\": 8, \"image\": \"g\", \"devices\": [{\"type\": "
			       "\"virtio-blk\", \"service_us\": 0}]}]}"),
			 0);

	/* sidecore mode needs an I/O core; RAM must end below the PCI window */
	assert_int_equal(check("{\"vms\": [{\"name\": \"a\", \"memory_mib\": 3000, \"image\": "
			       "\"guest-shim\", \"devices\": [{\"type\": \"virtio-blk\"}]}]}",
			       2, 8000, errs, &ok),
			 2);
	assert_false(ok);
	assert_string_equal(errs[0].field, "vms[0].devices[0]");
	assert_non_null(strstr(errs[0].reason, "no CPU has the role io"));
	assert_string_equal(errs[1].field, "vms[0].memory_mib");
	assert_non_null(strstr(errs[1].reason, "below the PCI window"));
}

/* Truncated and mutated manifests: never a crash (ASan/UBSan watch), always
 * a clean answer with a field and a reason on error. */
static void test_robust_against_garbage(void **state)
{
	size_t len = strlen(full);
	char *buf = malloc(len + 1);

	(void)state;
	srand(12345);
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(buf, full, cut);
		buf[cut] = '\0';
		if (manifest_parse(buf, cut, &m, &err))
			assert_true(err.field[0] && err.reason[0]);
	}
	for (int round = 0; round < 20000; round++) {
		memcpy(buf, full, len + 1);
		for (int k = 0; k < 1 + rand() % 4; k++)
			buf[rand() % len] = (char)(rand() % 256);
		if (manifest_parse(buf, len, &m, &err))
			assert_true(err.field[0] && err.reason[0]);
	}
	free(buf);
}

/* --- the limits ----------------------------------------------------------------------------- */

/* A growing text, for manifests too large to write out. */
struct text {
	char *s;
	size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = 2 * (t->len + (size_t)n + 1);
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* What a command prints (tools/gen-largest-manifest), run from the repository's root as
 * `make unit` does. */
static char *command_output(const char *cmd, size_t *len)
{
	struct text t = {0};
	char buf[65536];
	size_t n;
	FILE *f = popen(cmd, "r");

	assert_non_null(f);
	put(&t, "%s", "");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		put(&t, "%.*s", (int)n, buf);
	assert_int_equal(pclose(f), 0);
	*len = t.len;
	return t.s;
}

static int count_tokens(const char *json, size_t len)
{
	jsmn_parser p;

	jsmn_init(&p);
	return jsmn_parse(&p, json, len, NULL, 0);
}

/* The largest valid manifest: exactly MANIFEST_MAX_TOKENS tokens, and the parser takes every
 * VM, vCPU, device and CPU of it; a 1024-CPU machine with the memory and the image boots it. */
static void test_largest_manifest(void **state)
{
	size_t len;
	char *json = command_output("tools/gen-largest-manifest", &len);
	struct manifest_error errs[8];
	const char *image;
	uint32_t listed = 0;
	bool ok;

	(void)state;
	assert_int_equal(count_tokens(json, len), MANIFEST_MAX_TOKENS);
	if (parse(json))
		fail_msg("%s: %s", err.field, err.reason);
	assert_int_equal(m.nvms, MANIFEST_MAX_VMS);
	for (uint32_t i = 0; i < m.nvms; i++) {
		assert_int_equal(m.vms[i].vcpus, MANIFEST_MAX_VCPUS);
		assert_true(m.vms[i].turbo_vcpu);
		assert_int_equal(strlen(m.vms[i].name), MANIFEST_NAME_MAX);
		assert_int_equal(strlen(m.vms[i].cmdline), MANIFEST_CMDLINE_MAX);
		assert_int_equal(m.vms[i].ndevices, MANIFEST_MAX_DEVICES);
		assert_int_equal(m.vms[i].nmodules, MANIFEST_MAX_VM_MODULES);
		assert_int_equal(m.vms[i].index, i);
		for (uint32_t d = 0; d < m.vms[i].ndevices; d++) {
			const struct manifest_device *dev = &m.vms[i].devices[d];

			assert_int_equal(dev->backend, MANIFEST_BLK_AHCI);
			assert_int_equal(dev->port, d);
			assert_int_equal(dev->lba_start, i);
			assert_int_equal(dev->lba_count, 1);
		}
	}
	for (uint32_t cpu = 0; cpu < MANIFEST_MAX_CPUS; cpu++)
		listed += m.cpu_listed[cpu];
	assert_int_equal(listed, MANIFEST_MAX_CPUS);
	image = m.vms[0].image;
	{
		const char *images[2 + MANIFEST_MAX_VM_MODULES] = {"manifest", image};
		struct manifest_platform p = {MANIFEST_MAX_CPUS, 1ull << 40, 2, images};

		for (uint32_t k = 0; k < m.vms[0].nmodules; k++) /* every VM has the same */
			images[p.nmodules++] = m.vms[0].modules[k];

		assert_int_equal(manifest_check_platform(&m, &p, errs, 8, &ok), 0);
		assert_true(ok);
	}
	free(json);
}

/* The ahci backend's fields (docs/manifest.md, "Devices"): port, the LBA range with its
 * 48-bit bound and defaults, the ramdisk's fields refused and the other way round, sidecore
 * mode, and no sector of a port given twice (touching ranges are fine; a range without
 * lba_count runs to the disk's end and meets every later one). */
static const char ahci_ok[] =
	"{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\", \"devices\": ["
	"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 5},"
	"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 31, "
	"\"lba_start\": 281474976710655, \"lba_count\": 1},"
	"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 0, \"lba_start\": 8, "
	"\"lba_count\": 8},"
	"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 0, \"lba_count\": 8},"
	"{\"type\": \"virtio-blk\"}]}]}";

static const struct {
	const char *devices, *field, *reason;
} ahci_errors[] = {
	{"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"lba_start\": 1}", "vms[0].devices[0]",
	 "needs a \"port\""},
	{"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 32}",
	 "vms[0].devices[0].port", "out of range"},
	{"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 0, \"lba_count\": 0}",
	 "vms[0].devices[0].lba_count", "out of range"},
	{"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 0, "
	 "\"lba_start\": 281474976710656}",
	 "vms[0].devices[0].lba_start", "out of range"},
	{"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 0, \"lba_start\": 2, "
	 "\"lba_count\": 281474976710655}",
	 "vms[0].devices[0]", "beyond ATA's 48-bit sector numbers"},
	{"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 0, \"size_mib\": 4}",
	 "vms[0].devices[0]", "\"size_mib\" does not apply to the ahci backend"},
	{"{\"type\": \"virtio-blk\", \"port\": 1}", "vms[0].devices[0]",
	 "\"port\" does not apply to the ramdisk backend"},
	{"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 0, \"lba_start\": 8, "
	 "\"lba_count\": 8}, {\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 0, "
	 "\"lba_start\": 15, \"lba_count\": 8}",
	 "vms[0].devices[1].lba_start",
	 "sectors 15-22 of AHCI port 0 overlap those of vms[0].devices[0]"},
	{"{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 2, \"lba_start\": 100}, "
	 "{\"type\": \"virtio-blk\", \"backend\": \"ahci\", \"port\": 2, \"lba_start\": 1000000, "
	 "\"lba_count\": 1}",
	 "vms[0].devices[1].lba_start", "overlap those of vms[0].devices[0]"},
};

static void test_ahci_fields(void **state)
{
	char json[512];

	(void)state;
	assert_int_equal(parse(ahci_ok), 0);
	assert_int_equal(m.vms[0].devices[0].backend, MANIFEST_BLK_AHCI);
	assert_int_equal(m.vms[0].devices[0].port, 5);
	assert_int_equal(m.vms[0].devices[0].lba_start, 0);
	assert_int_equal(m.vms[0].devices[0].lba_count, 0); /* to the disk's end */
	assert_int_equal(m.vms[0].devices[1].lba_start, 281474976710655ull);
	assert_int_equal(m.vms[0].devices[3].lba_count, 8);
	assert_int_equal(m.vms[0].devices[4].backend, MANIFEST_BLK_RAMDISK);
	for (size_t i = 0; i < sizeof(ahci_errors) / sizeof(ahci_errors[0]); i++) {
		snprintf(json, sizeof(json),
			 "{\"vms\": [{\"name\": \"a\", \"memory_mib\": 8, \"image\": \"g\", "
			 "\"devices\": [%s]}]}",
			 ahci_errors[i].devices);
		expect_error(json, ahci_errors[i].field, ahci_errors[i].reason);
	}
	expect_error(
		"{\"io\": {\"mode\": \"exit\"}, \"vms\": [{\"name\": \"a\", \"memory_mib\": 8, "
		"\"image\": \"g\", \"devices\": [{\"type\": \"virtio-blk\", \"backend\": "
		"\"ahci\", \"port\": 0}]}]}",
		"vms[0].devices[0].backend", "ahci needs io.mode \"sidecore\"");
}

/* One token more than the limit is refused before anything else; exactly the limit is parsed
 * (and refused for what it says: a list longer than there are CPUs). */
static void test_token_limit(void **state)
{
	struct text t = {0};

	(void)state;
	for (int extra = 0; extra < 2; extra++) {
		t.len = 0;
		put(&t, "{\"cores\": {\"regular\": [0"); /* 6 tokens so far */
		for (int i = 6; i < MANIFEST_MAX_TOKENS + extra; i++)
			put(&t, ", 0");
		put(&t, "]}}");
		assert_int_equal(count_tokens(t.s, t.len), MANIFEST_MAX_TOKENS + extra);
		if (extra)
			expect_error(t.s, "(top level)", "too large: more than");
		else
			expect_error(t.s, "cores.regular", "at most");
	}
	free(t.s);
}

/* The turbo list: CPU MANIFEST_MAX_CPUS - 1, then 0 to 299; the I/O list: CPU `io`. */
static const char *cpu_lists(struct text *t, unsigned io)
{
	t->len = 0;
	put(t, "{\"cores\": {\"turbo\": [%u", MANIFEST_MAX_CPUS - 1);
	for (unsigned cpu = 0; cpu < 300; cpu++)
		put(t, ", %u", cpu);
	put(t, "], \"io\": [%u]}}", io);
	return t->s;
}

/* CPU ids up to the last; list positions past 255 in the errors' fields. */
static void test_cpu_limit(void **state)
{
	struct text t = {0};
	struct manifest_error errs[8];
	struct manifest_platform p = {290, 1 << 20, 0, NULL};
	bool ok;

	(void)state;
	expect_error(cpu_lists(&t, 5), "cores.io[0]", "CPU 5 is already given the role \"turbo\"");
	assert_int_equal(parse(cpu_lists(&t, 999)), 0);
	assert_int_equal(manifest_cpu_role(&m, MANIFEST_MAX_CPUS - 1), MANIFEST_ROLE_TURBO);
	assert_int_equal(manifest_cpu_role(&m, 299), MANIFEST_ROLE_TURBO);
	assert_int_equal(manifest_cpu_role(&m, 999), MANIFEST_ROLE_IO);
	/* on 290 CPUs: 290 to 299, 999 and 1023 do not exist, reported in CPU id order */
	assert_int_equal(manifest_check_platform(&m, &p, errs, 8, &ok), 12);
	assert_false(ok);
	assert_string_equal(errs[0].field, "cores.turbo[291]");
	assert_string_equal(errs[7].field, "cores.turbo[298]");
	free(t.s);
}

/* `nvms` VMs of MANIFEST_MAX_VCPUS regular vCPUs and a turbo one; vms[3] has `vcpus3`. */
static const char *vms_manifest(struct text *t, int nvms, int vcpus3)
{
	t->len = 0;
	put(t, "{\"vms\": [");
	for (int i = 0; i < nvms; i++)
		put(t,
		    "%s{\"name\": \"v%d\", \"memory_mib\": 8, \"image\": \"g\", \"vcpus\": %d, "
		    "\"turbo_vcpu\": true}",
		    i ? ", " : "", i, i == 3 ? vcpus3 : MANIFEST_MAX_VCPUS);
	put(t, "]}");
	return t->s;
}

/* VMs and vCPUs up to the limit and one past it. */
static void test_vm_and_vcpu_limits(void **state)
{
	struct text t = {0};

	(void)state;
	assert_int_equal(parse(vms_manifest(&t, MANIFEST_MAX_VMS, MANIFEST_MAX_VCPUS)), 0);
	assert_int_equal(m.nvms, MANIFEST_MAX_VMS);
	assert_int_equal(m.vms[MANIFEST_MAX_VMS - 1].vcpus, MANIFEST_MAX_VCPUS);
	assert_true(m.vms[MANIFEST_MAX_VMS - 1].turbo_vcpu);
	expect_error(vms_manifest(&t, MANIFEST_MAX_VMS, MANIFEST_MAX_VCPUS + 1), "vms[3].vcpus",
		     "out of range");
	expect_error(vms_manifest(&t, MANIFEST_MAX_VMS + 1, 1), "vms", "at most");
	free(t.s);
}

/* A manifest of `vms` VMs with `devices` virtio-net devices each; device j of VM i is on
 * switch `sw(i, j)`, with `io_core` when it is not negative; I/O CPUs 1..n_io. */
static char *net_manifest(int vms, int devices, int (*sw)(int i, int j), int io_core, int n_io)
{
	struct text t = {0};

	put(&t, "{\"cores\": {\"regular\": [0], \"io\": [");
	for (int c = 1; c <= n_io; c++)
		put(&t, "%s%d", c > 1 ? ", " : "", c);
	put(&t, "]}, \"vms\": [");
	for (int i = 0; i < vms; i++) {
		put(&t, "%s{\"name\": \"v%d\", \"memory_mib\": 8, \"image\": \"g\", \"devices\": [",
		    i ? ", " : "", i);
		for (int j = 0; j < devices; j++) {
			put(&t, "%s{\"type\": \"virtio-net\", \"switch\": \"s%d\"", j ? ", " : "",
			    sw(i, j));
			if (io_core >= 0)
				put(&t, ", \"io_core\": %d", io_core);
			put(&t, "}");
		}
		put(&t, "]}");
	}
	put(&t, "]}");
	return t.s;
}

static int switch_per_device(int i, int j)
{
	return i * MANIFEST_MAX_DEVICES + j;
}

static int one_switch(int i, int j)
{
	(void)i;
	(void)j;
	return 0;
}

static int switch_per_slot(int i, int j)
{
	(void)i;
	return j;
}

/* The rules between devices that the build's limits make: switches, their ports, and the
 * devices of an I/O core, placed in turn over the I/O CPUs. */
static void test_device_limits(void **state)
{
	const int per_core = MANIFEST_MAX_IO_CORE_DEVICES;
	char *json, field[48];

	(void)state;
	/* MANIFEST_MAX_SWITCHES switches: fine; one more is refused where it is named */
	json = net_manifest(MANIFEST_MAX_SWITCHES / MANIFEST_MAX_DEVICES, MANIFEST_MAX_DEVICES,
			    switch_per_device, -1, 1);
	assert_int_equal(parse(json), 0);
	free(json);
	json = net_manifest(MANIFEST_MAX_SWITCHES / MANIFEST_MAX_DEVICES + 1, MANIFEST_MAX_DEVICES,
			    switch_per_device, -1, 1);
	snprintf(field, sizeof(field), "vms[%d].devices[0].switch",
		 MANIFEST_MAX_SWITCHES / MANIFEST_MAX_DEVICES);
	expect_error(json, field, "is one too many: a manifest has at most");
	free(json);

	/* MANIFEST_MAX_SWITCH_PORTS ports on one switch, spread over the I/O CPUs in turn */
	json = net_manifest(MANIFEST_MAX_SWITCH_PORTS / 2, 2, one_switch, -1,
			    MANIFEST_MAX_SWITCH_PORTS / per_core);
	assert_int_equal(parse(json), 0);
	free(json);
	json = net_manifest(MANIFEST_MAX_SWITCH_PORTS / 2 + 1, 2, one_switch, -1,
			    MANIFEST_MAX_SWITCH_PORTS / per_core + 1);
	snprintf(field, sizeof(field), "vms[%d].devices[0].switch", MANIFEST_MAX_SWITCH_PORTS / 2);
	expect_error(json, field, "already has");
	free(json);

	/* an I/O core with its most devices; one more, named or in turn */
	json = net_manifest(per_core / 2, 2, switch_per_slot, 1, 1);
	assert_int_equal(parse(json), 0);
	free(json);
	json = net_manifest(per_core / 2 + 1, 2, switch_per_slot, 1, 1);
	snprintf(field, sizeof(field), "vms[%d].devices[0].io_core", per_core / 2);
	expect_error(json, field, "I/O core 1 already serves");
	free(json);
	json = net_manifest(per_core, 2, switch_per_slot, -1, 2); /* 2 * per_core in turn: fine */
	assert_int_equal(parse(json), 0);
	free(json);
	json = net_manifest(per_core + 1, 1, switch_per_slot, -1, 1);
	snprintf(field, sizeof(field), "vms[%d].devices[0]", per_core);
	expect_error(json, field, "I/O core 1 already serves");
	free(json);
}

/* `test_manifest FILE...`: as tools/check-manifest checks it, on a machine with every CPU, all
 * the memory there is and every image the manifest names. */
static int check_files(int argc, char **argv)
{
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		struct text t = {0};
		char buf[65536];
		size_t n;

		if (!f) {
			printf("%s: (file): cannot open\n", argv[i]);
			bad = 1;
			continue;
		}
		put(&t, "%s", "");
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			put(&t, "%.*s", (int)n, buf);
		fclose(f);
		memset(&err, 0, sizeof(err));
		if (!manifest_parse(t.s, t.len, &m, &err)) {
			static const char *images[MANIFEST_MAX_VMS * (1 + MANIFEST_MAX_VM_MODULES)];
			struct manifest_error errs[1];
			struct manifest_platform p = {MANIFEST_MAX_CPUS, UINT64_MAX, 0, images};
			bool ok;

			/* every image and module the manifest names is there */
			for (uint32_t v = 0; v < m.nvms; v++) {
				images[p.nmodules++] = m.vms[v].image;
				for (uint32_t k = 0; k < m.vms[v].nmodules; k++)
					images[p.nmodules++] = m.vms[v].modules[k];
			}
			if (manifest_check_platform(&m, &p, errs, 1, &ok))
				err = errs[0];
			else
				err.field[0] = '\0';
		}
		if (err.field[0])
			printf("%s: %s: %s\n", argv[i], err.field, err.reason);
		else
			printf("%s: ok\n", argv[i]);
		bad |= err.field[0] != '\0';
		free(t.s);
	}
	return bad;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_manifest),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_key_without_value),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_platform_checks),
		cmocka_unit_test(test_vm_modules),
		cmocka_unit_test(test_io_fields),
		cmocka_unit_test(test_robust_against_garbage),
		cmocka_unit_test(test_largest_manifest),
		cmocka_unit_test(test_token_limit),
		cmocka_unit_test(test_cpu_limit),
		cmocka_unit_test(test_vm_and_vcpu_limits),
		cmocka_unit_test(test_device_limits),
		cmocka_unit_test(test_ahci_fields),
	};

	if (argc > 1)
		return check_files(argc, argv);
	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
