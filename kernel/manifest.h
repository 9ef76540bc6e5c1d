/* The boot manifest (docs/manifest.md): core roles, scheduler slices and the
 * VMs. Pure logic, host-tested: parsing needs only the JSON text, and the
 * checks against the machine take the machine's facts as an argument. */
#ifndef KERNEL_MANIFEST_H
#define KERNEL_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"

/* Every limit is lib/config.h's (docs/manifest.md, "Limits"). */
#define MANIFEST_MAX_CPUS	     CONFIG_MAX_CPUS
#define MANIFEST_MAX_VMS	     CONFIG_MAX_VMS
#define MANIFEST_MAX_VCPUS	     CONFIG_MAX_VCPUS /* regular ones; a turbo vCPU more */
#define MANIFEST_MAX_DEVICES	     CONFIG_MAX_DEVICES
#define MANIFEST_MAX_VM_MODULES	     CONFIG_MAX_VM_MODULES
#define MANIFEST_NAME_MAX	     CONFIG_NAME_MAX /* VM, image and switch names */
#define MANIFEST_CMDLINE_MAX	     CONFIG_CMDLINE_MAX
#define MANIFEST_MAX_MEMORY_MIB	     CONFIG_MAX_MEMORY_MIB
#define MANIFEST_MAX_DISK_MIB	     CONFIG_MAX_DISK_MIB
#define MANIFEST_MAX_TOKENS	     CONFIG_MAX_TOKENS
#define MANIFEST_TX_QUEUE_MAX	     CONFIG_TX_QUEUE_MAX
#define MANIFEST_MAX_SWITCHES	     CONFIG_MAX_SWITCHES
#define MANIFEST_MAX_SWITCH_PORTS    CONFIG_MAX_SWITCH_PORTS
#define MANIFEST_MAX_IO_CORE_DEVICES CONFIG_MAX_IO_CORE_DEVICES
#define MANIFEST_POLL_IDLE_MAX	     1000000
#define MANIFEST_SERVICE_US_MAX	     1000000 /* a virtio-blk ramdisk's service time */
/* An AHCI-backed virtio-blk device: a port of the machine's AHCI controller
 * and a range of its sectors, addressed with ATA's 48 bits. */
#define MANIFEST_AHCI_PORTS 32
#define MANIFEST_LBA_LIMIT  (1ull << 48)
/* Guest-physical layout of the virtual PCI bus (docs/manifest.md): RAM of a
 * VM with virtio devices must end below the ECAM window. */
#define MANIFEST_PCI_ECAM_BASE 0xb0000000ull

enum manifest_role { MANIFEST_ROLE_REGULAR, MANIFEST_ROLE_TURBO, MANIFEST_ROLE_IO };
enum manifest_on_error { MANIFEST_ON_ERROR_HALT, MANIFEST_ON_ERROR_SKIP_INVALID_VMS };
enum manifest_poweroff {
	MANIFEST_POWEROFF_NEVER,
	MANIFEST_POWEROFF_AFTER_BOOT,
	MANIFEST_POWEROFF_WHEN_VMS_DONE,
};
enum manifest_io_mode { MANIFEST_IO_SIDECORE, MANIFEST_IO_EXIT };
enum manifest_coalescing { MANIFEST_COALESCING_VIC, MANIFEST_COALESCING_OFF };
/* How a device's interrupt reaches a running vCPU (kernel/exitless.c). */
enum manifest_interrupts { MANIFEST_INTERRUPTS_EXITLESS, MANIFEST_INTERRUPTS_INJECT };

/* vIC (paper 004) parameters: `io.coalescing` and its thresholds. */
struct manifest_vic {
	enum manifest_coalescing mode;
	uint32_t cif_threshold;	   /* Algorithm 1: no coalescing below this CIF */
	uint32_t iops_threshold;   /* ... nor below this rate */
	uint32_t epoch_ms;	   /* the ratio is recomputed this often */
	uint32_t max_delay_us;	   /* a held completion is delivered at the latest then */
	uint32_t ipi_threshold_us; /* §3.3: no IPI sooner than this after the last */
};
enum manifest_blk_backend { MANIFEST_BLK_RAMDISK, MANIFEST_BLK_AHCI };
enum manifest_device_type {
	MANIFEST_DEVICE_VIRTIO_BLK,
	MANIFEST_DEVICE_VIRTIO_NET,
	MANIFEST_DEVICE_TEST_IRQ,
	MANIFEST_DEVICE_TEST_MMIO,
};

struct manifest_device {
	enum manifest_device_type type;
	uint32_t size_mib;		   /* virtio-blk */
	uint32_t service_us;		   /* virtio-blk: the ramdisk's service time, 0: none */
	enum manifest_blk_backend backend; /* virtio-blk */
	uint32_t port;			   /* ahci: the controller's port */
	uint64_t lba_start, lba_count;	   /* ahci: the sectors; count 0: to the disk's end */
	char switch_name[MANIFEST_NAME_MAX + 1]; /* virtio-net */
	uint8_t mac[6];				 /* virtio-net */
	bool has_mac;
	uint32_t tx_queue_len; /* virtio-net: frames that may wait for a receiver */
	int32_t io_core;       /* virtio: the I/O CPU that serves it; -1: spread */
};

struct manifest_vm {
	char name[MANIFEST_NAME_MAX + 1];
	uint32_t memory_mib;
	uint32_t vcpus; /* regular vCPUs */
	bool turbo_vcpu;
	uint32_t weight;
	char image[MANIFEST_NAME_MAX + 1];
	char initrd[MANIFEST_NAME_MAX + 1]; /* a module loaded with the image, or "" */
	char cmdline[MANIFEST_CMDLINE_MAX + 1];
	/* GRUB modules handed to a multiboot image, in order */
	uint32_t nmodules;
	char modules[MANIFEST_MAX_VM_MODULES][MANIFEST_NAME_MAX + 1];
	uint32_t ndevices;
	struct manifest_device devices[MANIFEST_MAX_DEVICES];
	bool valid;	/* false when a check against the machine failed */
	uint32_t index; /* its place in vms[], for errors found later */
};

struct manifest {
	bool cpu_listed[MANIFEST_MAX_CPUS];
	uint8_t cpu_role[MANIFEST_MAX_CPUS];	  /* enum manifest_role; unlisted: regular */
	uint16_t cpu_list_pos[MANIFEST_MAX_CPUS]; /* index in its role list, for errors */
	uint32_t regular_slice_us;
	uint32_t turbo_slice_us;
	bool turbo_preempt;
	uint32_t turbo_preempt_min_us;
	enum manifest_on_error on_error;
	enum manifest_poweroff poweroff;
	uint32_t stats_interval_ms;
	enum manifest_io_mode io_mode;
	uint32_t poll_idle_us;
	enum manifest_interrupts interrupts;
	struct manifest_vic vic;
	uint32_t nvms;
	struct manifest_vm vms[MANIFEST_MAX_VMS];
};

struct manifest_error {
	char field[96]; /* a JSON path: "vms[1].memory_mib", "cores.turbo[0]" */
	char reason[160];
	int vm; /* the VM it makes invalid, or -1 for the whole manifest */
};

/* The machine's facts the manifest is checked against. */
struct manifest_platform {
	uint32_t ncpus;
	uint64_t free_bytes;
	uint32_t nmodules;
	const char *const *module_names;
};

/* 0, or -1 with *err naming the field and the reason. Not reentrant (the
 * token buffer is static): the boot CPU parses once. */
int manifest_parse(const char *json, size_t len, struct manifest *m, struct manifest_error *err);

/* Rules between fields that hold on any machine (run by manifest_parse): a
 * device's io_core must be a CPU of the role io, no two virtio-net devices on
 * one switch may have one MAC, there are at most MANIFEST_MAX_SWITCHES
 * switches with at most MANIFEST_MAX_SWITCH_PORTS ports each, and (sidecore
 * mode) no I/O core serves more than MANIFEST_MAX_IO_CORE_DEVICES devices,
 * placed as kernel/io_core.c places them; a virtio-blk service time and the
 * ahci backend need io.mode "sidecore"; no two ahci devices share a sector
 * of one port. 0, or -1 with *err. */
int manifest_check_devices(const struct manifest *m, struct manifest_error *err);

/* Checks against the machine. A CPU id that does not exist is fatal for the
 * manifest; per-VM problems (image or multiboot module missing, memory beyond what is free
 * counting the VMs before it, no core of the class its vCPUs need) mark that
 * VM invalid. Writes up to `max` errors and returns how many there were;
 * *may_boot says whether the machine can go on given "on_error". */
int manifest_check_platform(struct manifest *m, const struct manifest_platform *p,
			    struct manifest_error *errs, int max, bool *may_boot);

const char *manifest_role_name(enum manifest_role role);
/* Whether a device is a virtio-pci device (served by an I/O core). */
bool manifest_device_is_virtio(const struct manifest_device *d);
/* A virtio-net device's MAC: the manifest's, or 52:54:00:c0:<vm>:<device>. */
void manifest_device_mac(const struct manifest_vm *vm, uint32_t vm_index, uint32_t dev,
			 uint8_t mac[6]);
enum manifest_role manifest_cpu_role(const struct manifest *m, uint32_t cpu);

#endif
