/* The Linux x86 boot protocol (Documentation/arch/x86/boot.rst, "THE REAL-MODE
 * KERNEL HEADER" and "64-bit BOOT PROTOCOL"): reading a bzImage's setup
 * header and writing the zero page (struct boot_params) a 64-bit entry gets
 * in RSI. Pure logic: the image and the page are byte arrays. */
#ifndef VPLAT_LINUX_BOOT_H
#define VPLAT_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vplat/memmap.h"

/* Setup header fields, as offsets in the file and in the zero page alike. */
#define LINUX_HDR_SETUP_SECTS	   0x1f1 /* u8: 512-byte sectors of setup code, 0 means 4 */
#define LINUX_HDR_BOOT_FLAG	   0x1fe /* u16: 0xAA55 */
#define LINUX_HDR_JUMP		   0x200 /* u16: its high byte + 0x202 ends the header */
#define LINUX_HDR_HEADER	   0x202 /* u32: "HdrS" */
#define LINUX_HDR_VERSION	   0x206 /* u16: protocol version, major.minor */
#define LINUX_HDR_TYPE_OF_LOADER   0x210 /* u8 */
#define LINUX_HDR_LOADFLAGS	   0x211 /* u8 */
#define LINUX_HDR_RAMDISK_IMAGE	   0x218 /* u32 */
#define LINUX_HDR_RAMDISK_SIZE	   0x21c /* u32 */
#define LINUX_HDR_CMD_LINE_PTR	   0x228 /* u32 */
#define LINUX_HDR_INITRD_ADDR_MAX  0x22c /* u32: highest byte an initrd may use */
#define LINUX_HDR_KERNEL_ALIGNMENT 0x230 /* u32 */
#define LINUX_HDR_RELOCATABLE	   0x234 /* u8 */
#define LINUX_HDR_XLOADFLAGS	   0x236 /* u16 */
#define LINUX_HDR_CMDLINE_SIZE	   0x238 /* u32: without the NUL */
#define LINUX_HDR_PREF_ADDRESS	   0x258 /* u64 */
#define LINUX_HDR_INIT_SIZE	   0x260 /* u32: bytes from the load address it needs */

#define LINUX_BOOT_FLAG	      0xaa55
#define LINUX_HDRS_MAGIC      0x53726448u /* "HdrS" */
#define LINUX_XLF_KERNEL_64   0x0001	  /* has the 64-bit entry at load address + 0x200 */
#define LINUX_LOADER_UNKNOWN  0xff	  /* type_of_loader: "undefined" boot loader */
#define LINUX_ENTRY64_OFFSET  0x200
#define LINUX_MIN_VERSION     0x020c /* 2.12: xloadflags says whether the 64-bit entry exists */
#define LINUX_DEFAULT_SECTS   4
#define LINUX_SECTOR	      512
#define LINUX_ZERO_PAGE_BYTES 4096

/* struct boot_params fields outside the setup header (arch/x86/include/uapi/asm/bootparam.h). */
#define LINUX_ZP_ACPI_RSDP_ADDR 0x070 /* u64 */
#define LINUX_ZP_E820_ENTRIES	0x1e8 /* u8 */
#define LINUX_ZP_E820_TABLE	0x2d0 /* 20-byte entries: addr, size (u64), type (u32) */
#define LINUX_ZP_E820_MAX	128

struct linux_image {
	uint16_t version;
	uint64_t setup_bytes;  /* the 32/64-bit kernel starts this far into the file */
	uint64_t kernel_bytes; /* and is this long */
	uint64_t header_end;   /* the setup header ends here (copied into the zero page) */
	uint64_t pref_address; /* where it would like to be loaded */
	uint32_t kernel_alignment;
	uint32_t init_size; /* bytes it needs from its load address while it decompresses */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	bool relocatable;
};

/* A bzImage: the boot flag and "HdrS" are where the protocol puts them. */
bool linux_detect(const void *image, size_t size);

/* Reads and checks the setup header: 0, or -1 with the reason in err. */
int linux_parse(const void *image, size_t size, struct linux_image *li, char *err, size_t errlen);

/* Where the loader put things, in guest-physical addresses. */
struct linux_boot_params {
	uint64_t cmdline_gpa;
	uint64_t initrd_gpa, initrd_bytes; /* initrd_bytes 0: none */
	uint64_t rsdp_gpa;		   /* 0: no ACPI */
	const struct memmap *memmap;
};

/* The zero page: the image's setup header copied, the loader's fields set,
 * the e820 map written; every other byte zero. */
void linux_build_zero_page(uint8_t *zp, const void *image, const struct linux_image *li,
			   const struct linux_boot_params *p);

#endif
