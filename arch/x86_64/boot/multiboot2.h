/* Multiboot2 specification 2.0, §3.1 (header) and §3.6 (boot information). */
#ifndef ARCH_X86_64_BOOT_MULTIBOOT2_H
#define ARCH_X86_64_BOOT_MULTIBOOT2_H

#define MB2_HEADER_MAGIC     0xe85250d6
#define MB2_ARCH_I386	     0
#define MB2_BOOTLOADER_MAGIC 0x36d76289

#define MB2_HEADER_TAG_END   0
#define MB2_HEADER_TAG_ENTRY 3

#define MB2_TAG_END	 0
#define MB2_TAG_CMDLINE	 1
#define MB2_TAG_MODULE	 3
#define MB2_TAG_MMAP	 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

#define MB2_MEMORY_AVAILABLE 1

#ifndef __ASSEMBLY__
#include <stdint.h>

struct mb2_info {
	uint32_t total_size;
	uint32_t reserved;
} __attribute__((packed));

struct mb2_tag {
	uint32_t type;
	uint32_t size;
} __attribute__((packed));

struct mb2_tag_string {
	struct mb2_tag tag;
	char string[];
} __attribute__((packed));

struct mb2_tag_module {
	struct mb2_tag tag;
	uint32_t mod_start;
	uint32_t mod_end;
	char cmdline[];
} __attribute__((packed));

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type;
	uint32_t zero;
} __attribute__((packed));

struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
	struct mb2_mmap_entry entries[];
} __attribute__((packed));

struct mb2_tag_acpi {
	struct mb2_tag tag;
	uint8_t rsdp[];
} __attribute__((packed));
#endif

#endif
