/* Loading the boot manifest: find the module, parse it, check it against the
 * machine, and say on the console what was accepted and what was not. */
#include <string.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "kernel/bootinfo.h"
#include "kernel/config.h"
#include "kernel/log.h"
#include "kernel/manifest.h"
#include "kernel/mem.h"

#define MANIFEST_MODULE	    "manifest"
#define MAX_REPORTED_ERRORS 16

static struct manifest manifest;
static bool manifest_loaded;

static void report_rejected(const struct manifest_error *e)
{
	struct record r;

	log_printf("manifest rejected: %s: %s\n", e->field, e->reason);
	record_begin(&r, "manifest");
	record_str(&r, "status", "rejected");
	record_str(&r, "field", e->field);
	record_str(&r, "reason", e->reason);
	record_emit(&r);
}

static void report_skipped(const char *vm, const struct manifest_error *e)
{
	struct record r;

	log_printf("VM %s skipped: %s: %s\n", vm, e->field, e->reason);
	record_begin(&r, "vm_skipped");
	record_str(&r, "vm", vm);
	record_str(&r, "field", e->field);
	record_str(&r, "reason", e->reason);
	record_emit(&r);
}

static void report_accepted(unsigned vms, unsigned skipped)
{
	struct record r;

	log_printf("manifest accepted: %u VMs, %u skipped\n", vms, skipped);
	record_begin(&r, "manifest");
	record_str(&r, "status", "accepted");
	record_uint(&r, "vms", vms);
	record_uint(&r, "skipped", skipped);
	record_emit(&r);
}

static bool parse_module(const struct boot_info *bi)
{
	const struct boot_module *mod = boot_find_module(bi, MANIFEST_MODULE);
	struct manifest_error err;

	if (!mod) {
		err = (struct manifest_error){.field = "manifest",
					      .reason = "no GRUB module named \"manifest\" "
							"(module2 <file> manifest)",
					      .vm = -1};
		report_rejected(&err);
		return false;
	}
	if (manifest_parse(phys_to_virt(mod->start), mod->end - mod->start, &manifest, &err)) {
		report_rejected(&err);
		return false;
	}
	return true;
}

bool config_load(const struct boot_info *bi)
{
	const char *names[BOOT_MAX_MODULES];
	struct manifest_error errs[MAX_REPORTED_ERRORS];
	struct manifest_platform platform;
	struct mem_stats mem;
	unsigned skipped = 0;
	bool may_boot;
	int n;

	if (!parse_module(bi))
		return false;
	for (unsigned i = 0; i < bi->n_modules; i++)
		names[i] = bi->modules[i].name;
	mem_get_stats(&mem);
	platform = (struct manifest_platform){cpu_count, mem.free_pages * PAGE_SIZE, bi->n_modules,
					      names};
	n = manifest_check_platform(&manifest, &platform, errs, MAX_REPORTED_ERRORS, &may_boot);
	if (n > MAX_REPORTED_ERRORS)
		n = MAX_REPORTED_ERRORS;
	if (!may_boot) {
		/* the first error is the one that decides; the rest are logged */
		report_rejected(&errs[0]);
		for (int i = 1; i < n; i++)
			log_printf("  also: %s: %s\n", errs[i].field, errs[i].reason);
		return false;
	}
	for (int i = 0; i < n; i++)
		report_skipped(manifest.vms[errs[i].vm].name, &errs[i]);
	for (uint32_t i = 0; i < manifest.nvms; i++)
		skipped += !manifest.vms[i].valid;
	report_accepted(manifest.nvms - skipped, skipped);
	manifest_loaded = true;
	return true;
}

const struct manifest *config_manifest(void)
{
	return manifest_loaded ? &manifest : NULL;
}

const char *config_cpu_role(uint32_t cpu)
{
	return manifest_role_name(manifest_cpu_role(&manifest, cpu));
}

bool config_poweroff_after_boot(void)
{
	return manifest_loaded && manifest.poweroff == MANIFEST_POWEROFF_AFTER_BOOT;
}
