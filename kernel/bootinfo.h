/* What the boot loader handed over, in a loader-neutral form: filled by
 * arch/x86_64/multiboot2.c, read by the rest of the hypervisor. */
#ifndef KERNEL_BOOTINFO_H
#define KERNEL_BOOTINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

#define BOOT_MAX_RANGES	     128
#define BOOT_MAX_MODULES     CONFIG_MAX_MODULES
#define BOOT_MODULE_NAME_MAX 32
#define BOOT_CMDLINE_MAX     256

struct boot_range {
	uint64_t base, len;
};

struct boot_module {
	char name[BOOT_MODULE_NAME_MAX]; /* first word of the module's command line */
	const char *args;		 /* the rest of it, inside the boot information */
	uint64_t start, end;		 /* physical */
};

struct boot_info {
	char cmdline[BOOT_CMDLINE_MAX];
	struct boot_range usable[BOOT_MAX_RANGES];
	unsigned n_usable;
	struct boot_range reserved[BOOT_MAX_RANGES];
	unsigned n_reserved;
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned n_modules;
	const void *rsdp; /* copy of the ACPI RSDP, NULL if the loader gave none */
};

extern struct boot_info boot_info;

/* Parses the multiboot2 information; returns NULL or an error message. */
const char *multiboot2_parse(uint64_t magic, uint64_t mbi_phys, struct boot_info *bi);
const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name);
bool boot_cmdline_has(const struct boot_info *bi, const char *word);
/* The value of `key=value` on the command line, copied into buf; NULL if absent. */
const char *boot_cmdline_value(const struct boot_info *bi, const char *key, char *buf,
			       unsigned size);

#endif
