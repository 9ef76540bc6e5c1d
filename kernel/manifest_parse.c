/* The manifest's schema, as parsing code: one table of fields per object
 * (docs/manifest.schema.json is the same schema for host tools). */
#include <stdio.h>
#include <string.h>

/* jsmn's implementation lives here; strict mode refuses what JSON does not
 * allow (bare words, keys that are not strings). */
#define JSMN_STRICT
#include <jsmn.h>

#include "kernel/manifest_json.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const role_names[] = {"regular", "turbo", "io"};
static const char *const on_error_names[] = {"halt", "skip_invalid_vms"};
static const char *const poweroff_names[] = {"never", "after_boot", "when_vms_done"};
static const char *const device_names[] = {"virtio-blk", "virtio-net", "test-irq", "test-mmio"};
static const char *const blk_backend_names[] = {"ramdisk", "ahci"};
static const char *const io_mode_names[] = {"sidecore", "exit"};
static const char *const coalescing_names[] = {"vic", "off"};
static const char *const interrupts_names[] = {"exitless", "inject"};

static jsmntok_t tokens[MANIFEST_MAX_TOKENS];

/* --- cores: {"regular": [ids], "turbo": [ids], "io": [ids]} --------------- */

static int parse_role_list(struct json_ctx *c, int tok, struct manifest *m, uint8_t role)
{
	int n, el = tok + 1;

	if (json_array(c, tok, MANIFEST_MAX_CPUS, &n))
		return -1;
	for (int i = 0; i < n; i++, el++) {
		size_t saved = json_path_push_index(c, i);
		uint32_t cpu;

		if (json_uint(c, el, 0, MANIFEST_MAX_CPUS - 1, &cpu))
			return -1;
		if (m->cpu_listed[cpu])
			return json_fail(c, "CPU %u is already given the role \"%s\"", cpu,
					 role_names[m->cpu_role[cpu]]);
		m->cpu_listed[cpu] = true;
		m->cpu_role[cpu] = role;
		m->cpu_list_pos[cpu] = (uint16_t)i;
		json_path_pop(c, saved);
	}
	return 0;
}

static int parse_regular(struct json_ctx *c, int tok, void *m)
{
	return parse_role_list(c, tok, m, MANIFEST_ROLE_REGULAR);
}

static int parse_turbo(struct json_ctx *c, int tok, void *m)
{
	return parse_role_list(c, tok, m, MANIFEST_ROLE_TURBO);
}

static int parse_io(struct json_ctx *c, int tok, void *m)
{
	return parse_role_list(c, tok, m, MANIFEST_ROLE_IO);
}

static int parse_cores(struct json_ctx *c, int tok, void *m)
{
	static const struct json_field fields[] = {
		{"regular", parse_regular}, {"turbo", parse_turbo}, {"io", parse_io}};

	return json_object(c, tok, fields, ARRAY_SIZE(fields), m);
}

/* --- scheduler ------------------------------------------------------------ */

static int parse_regular_slice(struct json_ctx *c, int tok, void *m)
{
	return json_uint(c, tok, 1000, 1000000, &((struct manifest *)m)->regular_slice_us);
}

static int parse_turbo_slice(struct json_ctx *c, int tok, void *m)
{
	return json_uint(c, tok, 10, 100000, &((struct manifest *)m)->turbo_slice_us);
}

static int parse_turbo_preempt(struct json_ctx *c, int tok, void *m)
{
	return json_bool(c, tok, &((struct manifest *)m)->turbo_preempt);
}

static int parse_turbo_preempt_min(struct json_ctx *c, int tok, void *m)
{
	return json_uint(c, tok, 1, 100000, &((struct manifest *)m)->turbo_preempt_min_us);
}

static int parse_scheduler(struct json_ctx *c, int tok, void *m)
{
	static const struct json_field fields[] = {
		{"regular_slice_us", parse_regular_slice},
		{"turbo_slice_us", parse_turbo_slice},
		{"turbo_preempt", parse_turbo_preempt},
		{"turbo_preempt_min_us", parse_turbo_preempt_min},
	};

	return json_object(c, tok, fields, ARRAY_SIZE(fields), m);
}

/* --- top-level scalars ----------------------------------------------------- */

static int parse_on_error(struct json_ctx *c, int tok, void *m)
{
	int v;

	if (json_enum(c, tok, on_error_names, ARRAY_SIZE(on_error_names), &v))
		return -1;
	((struct manifest *)m)->on_error = (enum manifest_on_error)v;
	return 0;
}

static int parse_poweroff(struct json_ctx *c, int tok, void *m)
{
	int v;

	if (json_enum(c, tok, poweroff_names, ARRAY_SIZE(poweroff_names), &v))
		return -1;
	((struct manifest *)m)->poweroff = (enum manifest_poweroff)v;
	return 0;
}

static int parse_stats_interval(struct json_ctx *c, int tok, void *m)
{
	return json_uint(c, tok, 0, 3600000, &((struct manifest *)m)->stats_interval_ms);
}

/* --- io: {"mode": "sidecore" | "exit", "poll_idle_us": N} ------------------ */

static int parse_io_mode(struct json_ctx *c, int tok, void *m)
{
	int v;

	if (json_enum(c, tok, io_mode_names, ARRAY_SIZE(io_mode_names), &v))
		return -1;
	((struct manifest *)m)->io_mode = (enum manifest_io_mode)v;
	return 0;
}

static int parse_poll_idle(struct json_ctx *c, int tok, void *m)
{
	return json_uint(c, tok, 0, MANIFEST_POLL_IDLE_MAX, &((struct manifest *)m)->poll_idle_us);
}

static int parse_coalescing(struct json_ctx *c, int tok, void *m)
{
	int v;

	if (json_enum(c, tok, coalescing_names, ARRAY_SIZE(coalescing_names), &v))
		return -1;
	((struct manifest *)m)->vic.mode = (enum manifest_coalescing)v;
	return 0;
}

static int parse_interrupts(struct json_ctx *c, int tok, void *m)
{
	int v;

	if (json_enum(c, tok, interrupts_names, ARRAY_SIZE(interrupts_names), &v))
		return -1;
	((struct manifest *)m)->interrupts = (enum manifest_interrupts)v;
	return 0;
}

static int parse_cif_threshold(struct json_ctx *c, int tok, void *m)
{
	return json_uint(c, tok, 1, 256, &((struct manifest *)m)->vic.cif_threshold);
}

static int parse_iops_threshold(struct json_ctx *c, int tok, void *m)
{
	return json_uint(c, tok, 0, 10000000, &((struct manifest *)m)->vic.iops_threshold);
}

static int parse_epoch(struct json_ctx *c, int tok, void *m)
{
	return json_uint(c, tok, 1, 60000, &((struct manifest *)m)->vic.epoch_ms);
}

static int parse_max_delay(struct json_ctx *c, int tok, void *m)
{
	return json_uint(c, tok, 1, 1000000, &((struct manifest *)m)->vic.max_delay_us);
}

static int parse_ipi_threshold(struct json_ctx *c, int tok, void *m)
{
	return json_uint(c, tok, 0, 1000000, &((struct manifest *)m)->vic.ipi_threshold_us);
}

static int parse_io_settings(struct json_ctx *c, int tok, void *m)
{
	static const struct json_field fields[] = {
		{"mode", parse_io_mode},
		{"poll_idle_us", parse_poll_idle},
		{"coalescing", parse_coalescing},
		{"interrupts", parse_interrupts},
		{"cif_threshold", parse_cif_threshold},
		{"iops_threshold", parse_iops_threshold},
		{"epoch_ms", parse_epoch},
		{"max_delay_us", parse_max_delay},
		{"ipi_threshold_us", parse_ipi_threshold},
	};

	return json_object(c, tok, fields, ARRAY_SIZE(fields), m);
}

/* --- devices ---------------------------------------------------------------- */

static int parse_device_type(struct json_ctx *c, int tok, void *d)
{
	int v;

	if (json_enum(c, tok, device_names, ARRAY_SIZE(device_names), &v))
		return -1;
	((struct manifest_device *)d)->type = (enum manifest_device_type)v;
	return 0;
}

static int parse_backend(struct json_ctx *c, int tok, void *d)
{
	int v;

	if (json_enum(c, tok, blk_backend_names, ARRAY_SIZE(blk_backend_names), &v))
		return -1;
	((struct manifest_device *)d)->backend = (enum manifest_blk_backend)v;
	return 0;
}

static int parse_port(struct json_ctx *c, int tok, void *d)
{
	return json_uint(c, tok, 0, MANIFEST_AHCI_PORTS - 1, &((struct manifest_device *)d)->port);
}

static int parse_lba_start(struct json_ctx *c, int tok, void *d)
{
	return json_uint64(c, tok, 0, MANIFEST_LBA_LIMIT - 1,
			   &((struct manifest_device *)d)->lba_start);
}

static int parse_lba_count(struct json_ctx *c, int tok, void *d)
{
	return json_uint64(c, tok, 1, MANIFEST_LBA_LIMIT,
			   &((struct manifest_device *)d)->lba_count);
}

static int parse_size_mib(struct json_ctx *c, int tok, void *d)
{
	return json_uint(c, tok, 1, MANIFEST_MAX_DISK_MIB,
			 &((struct manifest_device *)d)->size_mib);
}

static int parse_service_us(struct json_ctx *c, int tok, void *d)
{
	return json_uint(c, tok, 0, MANIFEST_SERVICE_US_MAX,
			 &((struct manifest_device *)d)->service_us);
}

static int parse_switch(struct json_ctx *c, int tok, void *d)
{
	return json_name(c, tok, ((struct manifest_device *)d)->switch_name);
}

static int parse_tx_queue_len(struct json_ctx *c, int tok, void *d)
{
	return json_uint(c, tok, 1, MANIFEST_TX_QUEUE_MAX,
			 &((struct manifest_device *)d)->tx_queue_len);
}

static int parse_io_core(struct json_ctx *c, int tok, void *d)
{
	uint32_t cpu;

	if (json_uint(c, tok, 0, MANIFEST_MAX_CPUS - 1, &cpu))
		return -1;
	((struct manifest_device *)d)->io_core = (int32_t)cpu;
	return 0;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int parse_mac(struct json_ctx *c, int tok, void *dev)
{
	struct manifest_device *d = dev;
	char s[18];

	if (json_string(c, tok, s, 17) || strlen(s) != 17)
		return json_fail(c, "must be a MAC address like \"52:54:00:12:34:56\"");
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return json_fail(c, "must be a MAC address like \"52:54:00:12:34:56\"");
		d->mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (d->mac[0] & 1)
		return json_fail(c, "%s is a multicast address", s);
	d->has_mac = true;
	return 0;
}

/* The key token of field `name` of the object at `tok`, or -1. */
static int find_key(const struct json_ctx *c, int tok, const char *name)
{
	int key = tok + 1;

	for (int i = 0; i < c->tok[tok].size; i++, key = json_skip(c, key + 1)) {
		const jsmntok_t *k = &c->tok[key];

		if ((size_t)(k->end - k->start) == strlen(name) &&
		    !memcmp(c->js + k->start, name, strlen(name)))
			return key;
	}
	return -1;
}

/* A virtio-blk device's fields belong to its backend: size_mib and
 * service_us to the ramdisk, port and the LBA range to ahci (which needs a
 * port; its range must fit ATA's 48 bits). */
static int check_backend_fields(struct json_ctx *c, int tok, const struct manifest_device *d)
{
	static const char *const ramdisk_only[] = {"size_mib", "service_us"};
	static const char *const ahci_only[] = {"port", "lba_start", "lba_count"};
	bool ahci = d->backend == MANIFEST_BLK_AHCI;
	const char *const *other = ahci ? ramdisk_only : ahci_only;
	size_t n = ahci ? ARRAY_SIZE(ramdisk_only) : ARRAY_SIZE(ahci_only);

	for (size_t i = 0; i < n; i++)
		if (find_key(c, tok, other[i]) >= 0)
			return json_fail(c, "field \"%s\" does not apply to the %s backend",
					 other[i], blk_backend_names[d->backend]);
	if (ahci && find_key(c, tok, "port") < 0)
		return json_fail(c, "the ahci backend needs a \"port\"");
	if (ahci && d->lba_count && d->lba_start + d->lba_count > MANIFEST_LBA_LIMIT)
		return json_fail(c, "lba_start + lba_count is beyond ATA's 48-bit sector numbers");
	return 0;
}

/* Which fields each device type takes besides "type". */
static int check_device_fields(struct json_ctx *c, int tok, const struct manifest_device *d)
{
	static const char *const allowed[][8] = {
		[MANIFEST_DEVICE_VIRTIO_BLK] = {"backend", "size_mib", "service_us", "io_core",
						"port", "lba_start", "lba_count", NULL},
		[MANIFEST_DEVICE_VIRTIO_NET] = {"switch", "mac", "tx_queue_len", "io_core", NULL},
		[MANIFEST_DEVICE_TEST_IRQ] = {NULL},
		[MANIFEST_DEVICE_TEST_MMIO] = {NULL},
	};
	int key = tok + 1;

	for (int i = 0; i < c->tok[tok].size; i++, key = json_skip(c, key + 1)) {
		const jsmntok_t *k = &c->tok[key];
		int len = k->end - k->start;
		bool ok = len == 4 && !memcmp(c->js + k->start, "type", 4);

		for (int a = 0; a < 7 && allowed[d->type][a]; a++)
			ok |= (size_t)len == strlen(allowed[d->type][a]) &&
			      !memcmp(c->js + k->start, allowed[d->type][a], (size_t)len);
		if (!ok)
			return json_fail(c, "field \"%.*s\" does not apply to a %s device", len,
					 c->js + k->start, device_names[d->type]);
	}
	if (d->type == MANIFEST_DEVICE_VIRTIO_NET && !d->switch_name[0])
		return json_fail(c, "a virtio-net device needs a \"switch\"");
	return d->type == MANIFEST_DEVICE_VIRTIO_BLK ? check_backend_fields(c, tok, d) : 0;
}

static int parse_device(struct json_ctx *c, int tok, struct manifest_device *d)
{
	static const struct json_field fields[] = {
		{"type", parse_device_type},
		{"backend", parse_backend},
		{"size_mib", parse_size_mib},
		{"service_us", parse_service_us},
		{"port", parse_port},
		{"lba_start", parse_lba_start},
		{"lba_count", parse_lba_count},
		{"switch", parse_switch},
		{"mac", parse_mac},
		{"tx_queue_len", parse_tx_queue_len},
		{"io_core", parse_io_core},
	};

	memset(d, 0, sizeof(*d));
	d->type = (enum manifest_device_type) - 1;
	d->size_mib = 16;
	d->tx_queue_len = 64;
	d->io_core = -1;
	if (json_object(c, tok, fields, ARRAY_SIZE(fields), d))
		return -1;
	if ((int)d->type < 0)
		return json_fail(c, "a device needs a \"type\"");
	return check_device_fields(c, tok, d);
}

static int parse_devices(struct json_ctx *c, int tok, void *vm)
{
	struct manifest_vm *v = vm;
	int n, el = tok + 1;

	if (json_array(c, tok, MANIFEST_MAX_DEVICES, &n))
		return -1;
	for (int i = 0; i < n; i++, el = json_skip(c, el)) {
		size_t saved = json_path_push_index(c, i);

		if (parse_device(c, el, &v->devices[i]))
			return -1;
		json_path_pop(c, saved);
	}
	v->ndevices = (uint32_t)n;
	return 0;
}

/* --- VMs -------------------------------------------------------------------- */

static int parse_vm_name(struct json_ctx *c, int tok, void *vm)
{
	return json_name(c, tok, ((struct manifest_vm *)vm)->name);
}

static int parse_vm_memory(struct json_ctx *c, int tok, void *vm)
{
	return json_uint(c, tok, 1, MANIFEST_MAX_MEMORY_MIB,
			 &((struct manifest_vm *)vm)->memory_mib);
}

static int parse_vm_vcpus(struct json_ctx *c, int tok, void *vm)
{
	return json_uint(c, tok, 1, MANIFEST_MAX_VCPUS, &((struct manifest_vm *)vm)->vcpus);
}

static int parse_vm_turbo(struct json_ctx *c, int tok, void *vm)
{
	return json_bool(c, tok, &((struct manifest_vm *)vm)->turbo_vcpu);
}

static int parse_vm_weight(struct json_ctx *c, int tok, void *vm)
{
	return json_uint(c, tok, 1, 65535, &((struct manifest_vm *)vm)->weight);
}

static int parse_vm_image(struct json_ctx *c, int tok, void *vm)
{
	return json_name(c, tok, ((struct manifest_vm *)vm)->image);
}

static int parse_vm_initrd(struct json_ctx *c, int tok, void *vm)
{
	return json_name(c, tok, ((struct manifest_vm *)vm)->initrd);
}

static int parse_vm_cmdline(struct json_ctx *c, int tok, void *vm)
{
	return json_string(c, tok, ((struct manifest_vm *)vm)->cmdline, MANIFEST_CMDLINE_MAX);
}

/* Multiboot modules: names of GRUB modules, like `image`. */
static int parse_vm_modules(struct json_ctx *c, int tok, void *vm)
{
	struct manifest_vm *v = vm;
	int n, el = tok + 1;

	if (json_array(c, tok, MANIFEST_MAX_VM_MODULES, &n))
		return -1;
	for (int i = 0; i < n; i++, el++) {
		size_t saved = json_path_push_index(c, i);

		if (json_name(c, el, v->modules[i]))
			return -1;
		json_path_pop(c, saved);
	}
	v->nmodules = (uint32_t)n;
	return 0;
}

static int parse_vm(struct json_ctx *c, int tok, struct manifest_vm *v)
{
	static const struct json_field fields[] = {
		{"name", parse_vm_name},       {"memory_mib", parse_vm_memory},
		{"vcpus", parse_vm_vcpus},     {"turbo_vcpu", parse_vm_turbo},
		{"weight", parse_vm_weight},   {"image", parse_vm_image},
		{"cmdline", parse_vm_cmdline}, {"devices", parse_devices},
		{"initrd", parse_vm_initrd},   {"modules", parse_vm_modules},
	};

	memset(v, 0, sizeof(*v));
	v->vcpus = 1;
	v->weight = 256;
	v->valid = true;
	if (json_object(c, tok, fields, ARRAY_SIZE(fields), v))
		return -1;
	if (!v->name[0])
		return json_fail(c, "a VM needs a \"name\"");
	if (!v->memory_mib)
		return json_fail(c, "VM \"%s\" needs \"memory_mib\"", v->name);
	if (!v->image[0])
		return json_fail(c, "VM \"%s\" needs an \"image\"", v->name);
	return 0;
}

static int parse_vms(struct json_ctx *c, int tok, void *mp)
{
	struct manifest *m = mp;
	int n, el = tok + 1;

	if (json_array(c, tok, MANIFEST_MAX_VMS, &n))
		return -1;
	for (int i = 0; i < n; i++, el = json_skip(c, el)) {
		size_t saved = json_path_push_index(c, i);

		if (parse_vm(c, el, &m->vms[i]))
			return -1;
		m->vms[i].index = (uint32_t)i;
		for (int j = 0; j < i; j++) {
			if (!strcmp(m->vms[j].name, m->vms[i].name)) {
				json_path_push_key(c, "name");
				return json_fail(c, "VM name \"%s\" is already used by vms[%d]",
						 m->vms[i].name, j);
			}
		}
		json_path_pop(c, saved);
	}
	m->nvms = (uint32_t)n;
	return 0;
}

/* --- the document ----------------------------------------------------------- */

static void set_defaults(struct manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->regular_slice_us = 30000; /* vTurbo §3: regular cores keep 30 ms slices */
	m->turbo_slice_us = 100;     /* ... and the turbo core runs 0.1 ms slices */
	m->turbo_preempt = true;
	m->turbo_preempt_min_us = 20;
	m->on_error = MANIFEST_ON_ERROR_HALT;
	m->poweroff = MANIFEST_POWEROFF_NEVER;
	m->stats_interval_ms = 1000;
	m->io_mode = MANIFEST_IO_SIDECORE;
	m->poll_idle_us = 200; /* ELVIS §3: a quiet queue soon stops costing a core */
	/* vIC's defaults (paper 004, §3), and our own hard bound on the delay */
	m->vic = (struct manifest_vic){MANIFEST_COALESCING_VIC, 4, 2000, 200, 200, 100};
}

static int tokenize(struct json_ctx *c, const char *json, size_t len)
{
	jsmn_parser p;
	int n;

	jsmn_init(&p);
	n = jsmn_parse(&p, json, len, tokens, MANIFEST_MAX_TOKENS);
	if (n == JSMN_ERROR_NOMEM)
		return json_fail(c, "too large: more than %d JSON tokens", MANIFEST_MAX_TOKENS);
	if (n == JSMN_ERROR_PART)
		return json_fail(c, "invalid JSON: the text ends inside a value");
	if (n < 0)
		return json_fail(c, "invalid JSON at byte %u", p.pos);
	if (n == 0)
		return json_fail(c, "empty: the manifest must be one JSON object");
	c->tok = tokens;
	c->ntok = n;
	for (size_t i = (size_t)tokens[0].end; i < len; i++)
		if (json[i] != ' ' && json[i] != '\n' && json[i] != '\r' && json[i] != '\t' &&
		    json[i] != '\0')
			return json_fail(c, "invalid JSON: more text after the object, at byte %zu",
					 i);
	return 0;
}

int manifest_parse(const char *json, size_t len, struct manifest *m, struct manifest_error *err)
{
	static const struct json_field fields[] = {
		{"cores", parse_cores},
		{"scheduler", parse_scheduler},
		{"on_error", parse_on_error},
		{"poweroff", parse_poweroff},
		{"stats_interval_ms", parse_stats_interval},
		{"io", parse_io_settings},
		{"vms", parse_vms},
	};
	struct json_ctx c = {.js = json, .err = err};

	set_defaults(m);
	if (tokenize(&c, json, len))
		return -1;
	if (c.tok[0].type != JSMN_OBJECT)
		return json_fail(&c, "the manifest must be a JSON object");
	if (json_check_separators(&c, 0))
		return -1;
	if (json_object(&c, 0, fields, ARRAY_SIZE(fields), m))
		return -1;
	return manifest_check_devices(m, err);
}

bool manifest_device_is_virtio(const struct manifest_device *d)
{
	return d->type == MANIFEST_DEVICE_VIRTIO_BLK || d->type == MANIFEST_DEVICE_VIRTIO_NET;
}

void manifest_device_mac(const struct manifest_vm *vm, uint32_t vm_index, uint32_t dev,
			 uint8_t mac[6])
{
	static const uint8_t prefix[4] = {0x52, 0x54, 0x00, 0xc0}; /* locally administered */

	if (vm->devices[dev].has_mac) {
		memcpy(mac, vm->devices[dev].mac, 6);
		return;
	}
	memcpy(mac, prefix, 4);
	mac[4] = (uint8_t)vm_index;
	mac[5] = (uint8_t)dev;
}

const char *manifest_role_name(enum manifest_role role)
{
	return (unsigned)role < ARRAY_SIZE(role_names) ? role_names[role] : "?";
}

enum manifest_role manifest_cpu_role(const struct manifest *m, uint32_t cpu)
{
	if (cpu >= MANIFEST_MAX_CPUS || !m->cpu_listed[cpu])
		return MANIFEST_ROLE_REGULAR;
	return (enum manifest_role)m->cpu_role[cpu];
}
