/* Checking a parsed manifest against the machine it boots on. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/manifest.h"

#define MIB (1024ull * 1024)

struct check {
	struct manifest_error *errs;
	int max;
	int count;
};

static void add_error(struct check *k, int vm, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_error(struct check *k, int vm, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (k->count < k->max) {
		struct manifest_error *e = &k->errs[k->count];

		snprintf(e->field, sizeof(e->field), "%s", field);
		va_start(ap, fmt);
		vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
		va_end(ap);
		e->vm = vm;
	}
	k->count++;
}

/* The JSON path that names `cpu`, like "cores.turbo[1]". */
static void cpu_field(const struct manifest *m, uint32_t cpu, char *out, size_t size)
{
	snprintf(out, size, "cores.%s[%u]",
		 manifest_role_name((enum manifest_role)m->cpu_role[cpu]), m->cpu_list_pos[cpu]);
}

static void check_cpus(const struct manifest *m, const struct manifest_platform *p, struct check *k)
{
	for (uint32_t cpu = p->ncpus; cpu < MANIFEST_MAX_CPUS; cpu++) {
		char field[32];

		if (!m->cpu_listed[cpu])
			continue;
		cpu_field(m, cpu, field, sizeof(field));
		add_error(k, -1, field, "CPU %u does not exist: this machine has %u CPU%s", cpu,
			  p->ncpus, p->ncpus == 1 ? "" : "s");
	}
}

static bool has_core(const struct manifest *m, uint32_t ncpus, enum manifest_role role)
{
	for (uint32_t cpu = 0; cpu < ncpus && cpu < MANIFEST_MAX_CPUS; cpu++)
		if (manifest_cpu_role(m, cpu) == role)
			return true;
	return false;
}

static bool has_module(const struct manifest_platform *p, const char *name)
{
	for (uint32_t i = 0; i < p->nmodules; i++)
		if (!strcmp(p->module_names[i], name))
			return true;
	return false;
}

/* One VM's needs; memory is counted in manifest order, so the first VMs get
 * what there is and a later one that no longer fits is the one refused. */
static void check_vm(struct manifest *m, int i, const struct manifest_platform *p,
		     uint64_t *mem_left, struct check *k)
{
	struct manifest_vm *v = &m->vms[i];
	uint64_t need = (uint64_t)v->memory_mib * MIB;
	int before = k->count;
	char field[48];

	if (!has_module(p, v->image)) {
		snprintf(field, sizeof(field), "vms[%d].image", i);
		add_error(k, i, field, "no GRUB module named \"%s\" (module2 <file> %s)", v->image,
			  v->image);
	}
	if (need > *mem_left) {
		snprintf(field, sizeof(field), "vms[%d].memory_mib", i);
		add_error(k, i, field, "VM \"%s\" needs %u MiB but only %llu MiB are free", v->name,
			  v->memory_mib, (unsigned long long)(*mem_left / MIB));
	}
	if (v->turbo_vcpu && !has_core(m, p->ncpus, MANIFEST_ROLE_TURBO)) {
		snprintf(field, sizeof(field), "vms[%d].turbo_vcpu", i);
		add_error(k, i, field,
			  "VM \"%s\" asks for a turbo vCPU but no CPU has the role turbo", v->name);
	}
	if (!has_core(m, p->ncpus, MANIFEST_ROLE_REGULAR)) {
		snprintf(field, sizeof(field), "vms[%d].vcpus", i);
		add_error(k, i, field, "VM \"%s\" has vCPUs but no CPU has the role regular",
			  v->name);
	}
	v->valid = k->count == before;
	if (v->valid)
		*mem_left -= need;
}

int manifest_check_platform(struct manifest *m, const struct manifest_platform *p,
			    struct manifest_error *errs, int max, bool *may_boot)
{
	struct check k = {errs, max, 0};
	uint64_t mem_left = p->free_bytes;
	int fatal;

	check_cpus(m, p, &k);
	fatal = k.count;
	for (uint32_t i = 0; i < m->nvms; i++)
		check_vm(m, (int)i, p, &mem_left, &k);
	*may_boot = !fatal && (k.count == 0 || m->on_error == MANIFEST_ON_ERROR_SKIP_INVALID_VMS);
	return k.count;
}
