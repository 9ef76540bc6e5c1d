/* Build-time limits that several layers must agree on: every limit of the boot
 * manifest and of what it may ask for, in one place. docs/manifest.md ("Limits")
 * lists them; tools/check-manifest reads them from this file (each
 * `#define CONFIG_* <integer expression>` line), so that the host checker and
 * the hypervisor apply the same ones. Included by pure-logic code too
 * (drivers/, sched/, vio/, kernel/manifest*) and by guest-shim, so it holds
 * only constants. */
#ifndef LIB_CONFIG_H
#define LIB_CONFIG_H

/* Logical CPUs the hypervisor uses: the MADT entries it records
 * (ACPI_MAX_CPUS), the per-CPU structures (MAX_CPUS), the scheduler's cores
 * (SCHED_MAX_CPUS) and the CPU ids a manifest may name (MANIFEST_MAX_CPUS).
 * A CPU that is not there costs 256 bytes of .bss (its struct cpu: GDT, TSS,
 * ids); an AP's stacks (16 KiB, and 12 KiB of IST stacks) come from the page
 * allocator only when the CPU exists. CPUs the firmware lists beyond
 * this are counted and left off (@cpus_ignored). */
#define CONFIG_MAX_CPUS 1024

/* VMs in a manifest. A VM's own state (struct vm, about 850 bytes) is static;
 * its vCPUs, devices and RAM come from the page allocator when it is built. */
#define CONFIG_MAX_VMS 256
/* Regular vCPUs of one VM; a VM may have one turbo vCPU more. */
#define CONFIG_MAX_VCPUS 64
/* Virtual devices of one VM. */
#define CONFIG_MAX_DEVICES 8
/* VM, image and switch names: characters, without the terminating NUL. */
#define CONFIG_NAME_MAX 31
/* A VM's command line: characters, without the NUL. */
#define CONFIG_CMDLINE_MAX 255
/* A VM's RAM (memory_mib) and a virtio-blk ramdisk (size_mib), in MiB. */
#define CONFIG_MAX_MEMORY_MIB 1048576
#define CONFIG_MAX_DISK_MIB   65536
/* A virtio-net port's tx_queue_len (vio/net.h VNET_TX_QUEUE_MAX). */
#define CONFIG_TX_QUEUE_MAX 256
/* Virtual switches (distinct `switch` names) of a manifest, and the
 * virtio-net devices one switch may have as ports (vio/switch.h
 * VSW_MAX_PORTS): every VM may have a port on one shared switch. */
#define CONFIG_MAX_SWITCHES	64
#define CONFIG_MAX_SWITCH_PORTS 256
/* Virtio devices one I/O core serves (vio/ioloop.h IOLOOP_MAX_QUEUES). */
#define CONFIG_MAX_IO_CORE_DEVICES 128
/* GRUB modules the hypervisor records: the manifest, the guest images and
 * the modules of multiboot guests. */
#define CONFIG_MAX_MODULES 16
/* Modules a multiboot guest may be given (a VM's `modules`). */
#define CONFIG_MAX_VM_MODULES 8

/* JSON tokens of the manifest (jsmn: one per object, array, string, number,
 * literal, and one per key): the most a valid manifest can have, which is the
 * one with every field, every CPU listed, the most VMs and on each the most
 * devices, each with every field of the type with the most fields (an
 * AHCI-backed virtio-blk device: type, backend, port, lba_start, lba_count,
 * io_core). A field may appear
 * only once and a CPU in one list only, so no valid manifest has more;
 * tests/unit/test_manifest.c and tests/integration/test_limits.py count the
 * tokens of tools/gen-largest-manifest's manifest and find exactly this. */
#define CONFIG_TOKENS_CORES	(2 + 3 * 2 + CONFIG_MAX_CPUS) /* "cores": {3 lists of ids} */
#define CONFIG_TOKENS_SCHEDULER (2 + 4 * 2)		      /* "scheduler": {4 fields} */
#define CONFIG_TOKENS_SCALARS	(3 * 2)	    /* on_error, poweroff, stats_interval_ms */
#define CONFIG_TOKENS_IO	(2 + 9 * 2) /* "io": {9 fields} */
#define CONFIG_TOKENS_DEVICE	(1 + 6 * 2) /* an ahci virtio-blk device */
#define CONFIG_TOKENS_VM                                                                           \
	(1 + 8 * 2 + 2 + CONFIG_MAX_DEVICES * CONFIG_TOKENS_DEVICE + 2 + CONFIG_MAX_VM_MODULES)
#define CONFIG_MAX_TOKENS                                                                          \
	(1 + CONFIG_TOKENS_CORES + CONFIG_TOKENS_SCHEDULER + CONFIG_TOKENS_SCALARS +               \
	 CONFIG_TOKENS_IO + 2 + CONFIG_MAX_VMS * CONFIG_TOKENS_VM)

#endif
