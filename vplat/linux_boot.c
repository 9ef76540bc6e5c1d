/* Reading a bzImage's setup header and writing the zero page
 * (Documentation/arch/x86/boot.rst). */
#include <stdio.h>
#include <string.h>

#include "vplat/linux_boot.h"

static uint64_t get(const uint8_t *p, size_t off, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[off + i] << (8 * i);
	return v;
}

static void put(uint8_t *p, size_t off, unsigned bytes, uint64_t v)
{
	for (unsigned i = 0; i < bytes; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

bool linux_detect(const void *image, size_t size)
{
	const uint8_t *p = image;

	return size >= LINUX_HDR_HEADER + 4 && get(p, LINUX_HDR_BOOT_FLAG, 2) == LINUX_BOOT_FLAG &&
	       get(p, LINUX_HDR_HEADER, 4) == LINUX_HDRS_MAGIC;
}

/* The fields a 2.12 header has, read once it is known to be that long. */
static void read_fields(const uint8_t *p, struct linux_image *li)
{
	li->pref_address = get(p, LINUX_HDR_PREF_ADDRESS, 8);
	li->kernel_alignment = (uint32_t)get(p, LINUX_HDR_KERNEL_ALIGNMENT, 4);
	li->init_size = (uint32_t)get(p, LINUX_HDR_INIT_SIZE, 4);
	li->initrd_addr_max = (uint32_t)get(p, LINUX_HDR_INITRD_ADDR_MAX, 4);
	li->cmdline_size = (uint32_t)get(p, LINUX_HDR_CMDLINE_SIZE, 4);
	li->relocatable = p[LINUX_HDR_RELOCATABLE] != 0;
}

int linux_parse(const void *image, size_t size, struct linux_image *li, char *err, size_t errlen)
{
	const uint8_t *p = image;
	unsigned sects;

	memset(li, 0, sizeof(*li));
	if (!linux_detect(image, size)) {
		snprintf(err, errlen, "no Linux setup header");
		return -1;
	}
	li->version = (uint16_t)get(p, LINUX_HDR_VERSION, 2);
	if (li->version < LINUX_MIN_VERSION) {
		snprintf(err, errlen, "Linux boot protocol %u.%02u is older than 2.12",
			 (unsigned)(li->version >> 8), (unsigned)(li->version & 0xff));
		return -1;
	}
	li->header_end = LINUX_HDR_HEADER + p[LINUX_HDR_JUMP + 1];
	sects = p[LINUX_HDR_SETUP_SECTS] ? p[LINUX_HDR_SETUP_SECTS] : LINUX_DEFAULT_SECTS;
	li->setup_bytes = (uint64_t)(sects + 1) * LINUX_SECTOR;
	if (li->header_end < LINUX_HDR_INIT_SIZE + 4 || li->header_end > li->setup_bytes ||
	    li->setup_bytes >= size) {
		snprintf(err, errlen, "Linux setup header is cut short");
		return -1;
	}
	if (!(get(p, LINUX_HDR_XLOADFLAGS, 2) & LINUX_XLF_KERNEL_64)) {
		snprintf(err, errlen, "Linux kernel has no 64-bit entry (xloadflags)");
		return -1;
	}
	read_fields(p, li);
	li->kernel_bytes = size - li->setup_bytes;
	if (li->init_size < li->kernel_bytes) {
		snprintf(err, errlen, "Linux init_size is smaller than the kernel");
		return -1;
	}
	return 0;
}

static void write_e820(uint8_t *zp, const struct memmap *m)
{
	unsigned n = m->n < LINUX_ZP_E820_MAX ? m->n : LINUX_ZP_E820_MAX;

	for (unsigned i = 0; i < n; i++) {
		size_t at = LINUX_ZP_E820_TABLE + 20u * i;

		put(zp, at, 8, m->r[i].base);
		put(zp, at + 8, 8, m->r[i].size);
		put(zp, at + 16, 4, m->r[i].type);
	}
	zp[LINUX_ZP_E820_ENTRIES] = (uint8_t)n;
}

void linux_build_zero_page(uint8_t *zp, const void *image, const struct linux_image *li,
			   const struct linux_boot_params *p)
{
	memset(zp, 0, LINUX_ZERO_PAGE_BYTES);
	/* "the setup header ... copied into the zero page": everything from
	 * setup_sects to its end, so the kernel sees its own fields */
	memcpy(zp + LINUX_HDR_SETUP_SECTS, (const uint8_t *)image + LINUX_HDR_SETUP_SECTS,
	       li->header_end - LINUX_HDR_SETUP_SECTS);
	zp[LINUX_HDR_TYPE_OF_LOADER] = LINUX_LOADER_UNKNOWN;
	put(zp, LINUX_HDR_CMD_LINE_PTR, 4, p->cmdline_gpa);
	put(zp, LINUX_HDR_RAMDISK_IMAGE, 4, p->initrd_bytes ? p->initrd_gpa : 0);
	put(zp, LINUX_HDR_RAMDISK_SIZE, 4, p->initrd_bytes);
	put(zp, LINUX_ZP_ACPI_RSDP_ADDR, 8, p->rsdp_gpa);
	write_e820(zp, p->memmap);
}
