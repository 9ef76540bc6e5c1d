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

static int first_virtio_device(const struct manifest_vm *v)
{
	for (uint32_t d = 0; d < v->ndevices; d++)
		if (manifest_device_is_virtio(&v->devices[d]))
			return (int)d;
	return -1;
}

/* A VM with virtio devices needs an I/O core to serve them (in sidecore
 * mode), and its RAM must end below the virtual PCI bus's windows. */
static void check_vm_virtio(const struct manifest *m, int i, const struct manifest_platform *p,
			    struct check *k)
{
	const struct manifest_vm *v = &m->vms[i];
	int dev = first_virtio_device(v);
	char field[48];

	if (dev < 0)
		return;
	if (m->io_mode == MANIFEST_IO_SIDECORE && !has_core(m, p->ncpus, MANIFEST_ROLE_IO)) {
		snprintf(field, sizeof(field), "vms[%d].devices[%d]", i, dev);
		add_error(k, i, field,
			  "VM \"%s\" has a virtio device but no CPU has the role io "
			  "(io.mode \"sidecore\")",
			  v->name);
	}
	if ((uint64_t)v->memory_mib * MIB > MANIFEST_PCI_ECAM_BASE) {
		snprintf(field, sizeof(field), "vms[%d].memory_mib", i);
		add_error(k, i, field,
			  "VM \"%s\" has virtio devices: its RAM must end below the PCI window "
			  "at 0x%llx (%llu MiB)",
			  v->name, MANIFEST_PCI_ECAM_BASE, MANIFEST_PCI_ECAM_BASE / MIB);
	}
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

	check_vm_virtio(m, i, p, k);
	if (!has_module(p, v->image)) {
		snprintf(field, sizeof(field), "vms[%d].image", i);
		add_error(k, i, field, "no GRUB module named \"%s\" (module2 <file> %s)", v->image,
			  v->image);
	}
	if (v->initrd[0] && !has_module(p, v->initrd)) {
		snprintf(field, sizeof(field), "vms[%d].initrd", i);
		add_error(k, i, field, "no GRUB module named \"%s\" (module2 <file> %s)", v->initrd,
			  v->initrd);
	}
	for (uint32_t j = 0; j < v->nmodules; j++) {
		if (has_module(p, v->modules[j]))
			continue;
		snprintf(field, sizeof(field), "vms[%d].modules[%u]", i, j);
		add_error(k, i, field, "no GRUB module named \"%s\" (module2 <file> %s)",
			  v->modules[j], v->modules[j]);
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

static int device_error(struct manifest_error *err, uint32_t vm, uint32_t dev, const char *key,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The error of device `dev` of VM `vm`, at its field `key` (NULL: the device). */
static int device_error(struct manifest_error *err, uint32_t vm, uint32_t dev, const char *key,
			const char *fmt, ...)
{
	va_list ap;

	snprintf(err->field, sizeof(err->field), "vms[%u].devices[%u]%s%s", vm, dev, key ? "." : "",
		 key ? key : "");
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	err->vm = -1;
	return -1;
}

/* The device before (vm, dev) on the same switch with the same MAC, if any. */
static bool mac_taken(const struct manifest *m, uint32_t vm, uint32_t dev, uint32_t *ovm,
		      uint32_t *odev)
{
	const struct manifest_device *d = &m->vms[vm].devices[dev];
	uint8_t mac[6], other[6];

	manifest_device_mac(&m->vms[vm], vm, dev, mac);
	for (*ovm = 0; *ovm <= vm; (*ovm)++) {
		const struct manifest_vm *o = &m->vms[*ovm];

		for (*odev = 0; *odev < o->ndevices && (*ovm < vm || *odev < dev); (*odev)++) {
			if (o->devices[*odev].type != MANIFEST_DEVICE_VIRTIO_NET ||
			    strcmp(o->devices[*odev].switch_name, d->switch_name))
				continue;
			manifest_device_mac(o, *ovm, *odev, other);
			if (!memcmp(mac, other, 6))
				return true;
		}
	}
	return false;
}

/* What the devices before the one being checked use up: the virtual switches
 * and their ports, and the I/O cores' devices, placed as the hypervisor
 * places them (kernel/io_core.c): a device's io_core, else the I/O CPUs in
 * turn, in CPU id order. Every VM of the manifest counts (the hypervisor
 * builds fewer when some are skipped). */
struct device_usage {
	const char *switch_name[MANIFEST_MAX_SWITCHES];
	uint32_t ports[MANIFEST_MAX_SWITCHES];
	uint32_t nswitches;
	uint16_t io_devices[MANIFEST_MAX_CPUS];
	uint32_t next_io_cpu; /* where the turn of the next device without io_core starts */
};

static int check_switch(struct device_usage *u, const struct manifest_device *d, uint32_t vm,
			uint32_t dev, struct manifest_error *err)
{
	uint32_t s = 0;

	while (s < u->nswitches && strcmp(u->switch_name[s], d->switch_name))
		s++;
	if (s == MANIFEST_MAX_SWITCHES)
		return device_error(err, vm, dev, "switch",
				    "switch \"%s\" is one too many: a manifest has at most %u "
				    "virtual switches",
				    d->switch_name, MANIFEST_MAX_SWITCHES);
	if (s == u->nswitches)
		u->switch_name[u->nswitches++] = d->switch_name;
	if (u->ports[s] == MANIFEST_MAX_SWITCH_PORTS)
		return device_error(err, vm, dev, "switch",
				    "switch \"%s\" already has %u ports, the most a switch has",
				    d->switch_name, MANIFEST_MAX_SWITCH_PORTS);
	u->ports[s]++;
	return 0;
}

static int check_io_core_load(const struct manifest *m, struct device_usage *u,
			      const struct manifest_device *d, uint32_t vm, uint32_t dev,
			      struct manifest_error *err)
{
	uint32_t cpu = (uint32_t)d->io_core;

	if (d->io_core < 0) {
		uint32_t i = 0;

		for (; i < MANIFEST_MAX_CPUS; i++) {
			cpu = (u->next_io_cpu + i) % MANIFEST_MAX_CPUS;
			if (m->cpu_listed[cpu] && m->cpu_role[cpu] == MANIFEST_ROLE_IO)
				break;
		}
		if (i == MANIFEST_MAX_CPUS)
			return 0; /* no I/O core at all: the check against the machine says so */
		u->next_io_cpu = cpu + 1;
	}
	if (u->io_devices[cpu] == MANIFEST_MAX_IO_CORE_DEVICES)
		return device_error(err, vm, dev, d->io_core < 0 ? NULL : "io_core",
				    "I/O core %u already serves %u virtio devices, the most an I/O "
				    "core serves",
				    cpu, MANIFEST_MAX_IO_CORE_DEVICES);
	u->io_devices[cpu]++;
	return 0;
}

static bool is_ahci(const struct manifest_device *d)
{
	return d->type == MANIFEST_DEVICE_VIRTIO_BLK && d->backend == MANIFEST_BLK_AHCI;
}

/* An ahci device's sectors [start, end); a count of 0 runs to the disk's end,
 * which only the disk knows: as far as any sector number goes. */
static uint64_t lba_end(const struct manifest_device *d)
{
	return d->lba_count ? d->lba_start + d->lba_count : MANIFEST_LBA_LIMIT;
}

/* An earlier ahci device on the same port whose sectors meet this one's. */
static bool range_taken(const struct manifest *m, uint32_t vm, uint32_t dev, uint32_t *ovm,
			uint32_t *odev)
{
	const struct manifest_device *d = &m->vms[vm].devices[dev];

	for (uint32_t i = 0; i <= vm; i++)
		for (uint32_t j = 0; j < (i == vm ? dev : m->vms[i].ndevices); j++) {
			const struct manifest_device *o = &m->vms[i].devices[j];

			if (is_ahci(o) && o->port == d->port && o->lba_start < lba_end(d) &&
			    d->lba_start < lba_end(o)) {
				*ovm = i;
				*odev = j;
				return true;
			}
		}
	return false;
}

static int check_ahci(const struct manifest *m, uint32_t vm, uint32_t dev,
		      struct manifest_error *err)
{
	const struct manifest_device *d = &m->vms[vm].devices[dev];
	uint32_t ovm, odev;

	if (m->io_mode != MANIFEST_IO_SIDECORE)
		return device_error(err, vm, dev, "backend",
				    "ahci needs io.mode \"sidecore\": in exit mode no I/O core "
				    "polls the disk for its completions");
	if (range_taken(m, vm, dev, &ovm, &odev))
		return device_error(err, vm, dev, "lba_start",
				    "sectors %llu-%llu of AHCI port %u overlap those of "
				    "vms[%u].devices[%u]",
				    (unsigned long long)d->lba_start,
				    (unsigned long long)lba_end(d) - 1, d->port, ovm, odev);
	return 0;
}

static int check_device(const struct manifest *m, struct device_usage *u, uint32_t vm, uint32_t dev,
			struct manifest_error *err)
{
	const struct manifest_device *d = &m->vms[vm].devices[dev];
	uint32_t ovm, odev;

	if (d->io_core >= 0 && manifest_cpu_role(m, (uint32_t)d->io_core) != MANIFEST_ROLE_IO)
		return device_error(err, vm, dev, "io_core",
				    "CPU %d has the role \"%s\", not \"io\"", d->io_core,
				    manifest_role_name(manifest_cpu_role(m, (uint32_t)d->io_core)));
	if (d->type == MANIFEST_DEVICE_VIRTIO_BLK && d->service_us &&
	    m->io_mode != MANIFEST_IO_SIDECORE)
		return device_error(err, vm, dev, "service_us",
				    "needs io.mode \"sidecore\": in exit mode no I/O core polls "
				    "the disk to complete its requests");
	if (is_ahci(d) && check_ahci(m, vm, dev, err))
		return -1;
	if (d->type == MANIFEST_DEVICE_VIRTIO_NET && mac_taken(m, vm, dev, &ovm, &odev))
		return device_error(err, vm, dev, "mac",
				    "this MAC is already used on switch \"%s\" by "
				    "vms[%u].devices[%u]",
				    d->switch_name, ovm, odev);
	if (d->type == MANIFEST_DEVICE_VIRTIO_NET && check_switch(u, d, vm, dev, err))
		return -1;
	if (manifest_device_is_virtio(d) && m->io_mode == MANIFEST_IO_SIDECORE &&
	    check_io_core_load(m, u, d, vm, dev, err))
		return -1;
	return 0;
}

int manifest_check_devices(const struct manifest *m, struct manifest_error *err)
{
	static struct device_usage u; /* 2 KiB and more: not on the boot CPU's stack */

	memset(&u, 0, sizeof(u));
	for (uint32_t vm = 0; vm < m->nvms; vm++)
		for (uint32_t dev = 0; dev < m->vms[vm].ndevices; dev++)
			if (check_device(m, &u, vm, dev, err))
				return -1;
	return 0;
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
