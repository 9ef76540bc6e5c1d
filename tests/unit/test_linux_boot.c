/* The Linux boot protocol (vplat/linux_boot.c): a bzImage's setup header is
 * read and checked, the zero page carries the header, the loader's fields
 * and the e820 map; and the VM's memory map (vplat/memmap.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vplat/linux_boot.h"
#include "vplat/memmap.h"

#define IMAGE_BYTES 0x4000 /* 4 setup sectors + the boot sector, then the kernel */

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static uint8_t image[IMAGE_BYTES];

static void put(uint8_t *p, size_t off, unsigned bytes, uint64_t v)
{
	for (unsigned i = 0; i < bytes; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, size_t off, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[off + i] << (8 * i);
	return v;
}

/* A 2.15 header like Debian's 6.1 kernel's, with a relocatable 64-bit entry. */
static void make_image(void)
{
	memset(image, 0, sizeof(image));
	image[LINUX_HDR_SETUP_SECTS] = 4;
	put(image, LINUX_HDR_BOOT_FLAG, 2, LINUX_BOOT_FLAG);
	image[LINUX_HDR_JUMP] = 0xeb;
	image[LINUX_HDR_JUMP + 1] = 0x6a; /* the header ends at 0x26c */
	put(image, LINUX_HDR_HEADER, 4, LINUX_HDRS_MAGIC);
	put(image, LINUX_HDR_VERSION, 2, 0x020f);
	put(image, LINUX_HDR_INITRD_ADDR_MAX, 4, 0x7fffffff);
	put(image, LINUX_HDR_KERNEL_ALIGNMENT, 4, 0x200000);
	image[LINUX_HDR_RELOCATABLE] = 1;
	put(image, LINUX_HDR_XLOADFLAGS, 2, LINUX_XLF_KERNEL_64);
	put(image, LINUX_HDR_CMDLINE_SIZE, 4, 2047);
	put(image, LINUX_HDR_PREF_ADDRESS, 8, 0x1000000);
	put(image, LINUX_HDR_INIT_SIZE, 4, 0x2000000);
	image[0x250] = 0x77; /* a byte of the header the loader does not touch */
}

static void parses_a_stock_header(void **state)
{
	struct linux_image li;
	char err[64];

	(void)state;
	make_image();
	assert_true(linux_detect(image, sizeof(image)));
	assert_int_equal(linux_parse(image, sizeof(image), &li, err, sizeof(err)), 0);
	assert_int_equal(li.version, 0x020f);
	assert_int_equal(li.setup_bytes, 5 * 512);
	assert_int_equal(li.kernel_bytes, IMAGE_BYTES - 5 * 512);
	assert_int_equal(li.header_end, 0x26c);
	assert_int_equal(li.pref_address, 0x1000000);
	assert_int_equal(li.init_size, 0x2000000);
	assert_int_equal(li.initrd_addr_max, 0x7fffffff);
	assert_true(li.relocatable);
}

static void expect_refused(const char *why)
{
	struct linux_image li;
	char err[64] = "";

	assert_int_equal(linux_parse(image, sizeof(image), &li, err, sizeof(err)), -1);
	assert_non_null(strstr(err, why));
}

static void refuses_bad_headers(void **state)
{
	(void)state;
	make_image();
	put(image, LINUX_HDR_HEADER, 4, 0);
	assert_false(linux_detect(image, sizeof(image)));
	expect_refused("no Linux setup header");

	make_image();
	put(image, LINUX_HDR_VERSION, 2, 0x020b);
	expect_refused("2.11 is older than 2.12");

	make_image();
	put(image, LINUX_HDR_XLOADFLAGS, 2, 0);
	expect_refused("no 64-bit entry");

	make_image();
	image[LINUX_HDR_SETUP_SECTS] = 40; /* setup runs past the file */
	expect_refused("cut short");

	make_image();
	image[LINUX_HDR_JUMP + 1] = 0x20; /* a header too short for init_size */
	expect_refused("cut short");

	make_image();
	put(image, LINUX_HDR_INIT_SIZE, 4, 0x100);
	expect_refused("init_size");
}

static void short_images_are_not_linux(void **state)
{
	(void)state;
	make_image();
	for (size_t n = 0; n < LINUX_HDR_HEADER + 4; n++)
		assert_false(linux_detect(image, n));
}

static void zero_page_holds_header_fields_and_e820(void **state)
{
	static uint8_t zp[LINUX_ZERO_PAGE_BYTES];
	struct linux_image li;
	struct memmap map;
	char err[64];

	(void)state;
	make_image();
	assert_int_equal(linux_parse(image, sizeof(image), &li, err, sizeof(err)), 0);
	memmap_build(&map, 256u << 20, 0xb0000000, 0x100000);
	memset(zp, 0xaa, sizeof(zp));
	linux_build_zero_page(zp, image, &li,
			      &(struct linux_boot_params){.cmdline_gpa = 0x20000,
							  .initrd_gpa = 0xfda3000,
							  .initrd_bytes = 0x25d000,
							  .rsdp_gpa = 0xe0000,
							  .memmap = &map});
	assert_int_equal(zp[0], 0);	   /* screen_info: zeroed */
	assert_int_equal(zp[0x1ef], 0);	   /* the sentinel: a loader that zeroes */
	assert_int_equal(zp[0x250], 0x77); /* copied from the image */
	assert_int_equal(zp[0x26c], 0);	   /* past the header: zero */
	assert_int_equal(zp[LINUX_HDR_TYPE_OF_LOADER], LINUX_LOADER_UNKNOWN);
	assert_int_equal(get(zp, LINUX_HDR_CMD_LINE_PTR, 4), 0x20000);
	assert_int_equal(get(zp, LINUX_HDR_RAMDISK_IMAGE, 4), 0xfda3000);
	assert_int_equal(get(zp, LINUX_HDR_RAMDISK_SIZE, 4), 0x25d000);
	assert_int_equal(get(zp, LINUX_ZP_ACPI_RSDP_ADDR, 8), 0xe0000);
	assert_int_equal(zp[LINUX_ZP_E820_ENTRIES], 5);
	/* RAM, EBDA, BIOS area, RAM above 1 MiB, ECAM */
	assert_int_equal(get(zp, LINUX_ZP_E820_TABLE + 0, 8), 0);
	assert_int_equal(get(zp, LINUX_ZP_E820_TABLE + 8, 8), 0x9fc00);
	assert_int_equal(get(zp, LINUX_ZP_E820_TABLE + 16, 4), MEMMAP_RAM);
	assert_int_equal(get(zp, LINUX_ZP_E820_TABLE + 3 * 20, 8), 0x100000);
	assert_int_equal(get(zp, LINUX_ZP_E820_TABLE + 3 * 20 + 8, 8), (256u << 20) - 0x100000);
	assert_int_equal(get(zp, LINUX_ZP_E820_TABLE + 4 * 20, 8), 0xb0000000);
	assert_int_equal(get(zp, LINUX_ZP_E820_TABLE + 4 * 20 + 16, 4), MEMMAP_RESERVED);
}

static void no_initrd_leaves_ramdisk_fields_zero(void **state)
{
	static uint8_t zp[LINUX_ZERO_PAGE_BYTES];
	struct linux_image li;
	struct memmap map;
	char err[64];

	(void)state;
	make_image();
	put(image, LINUX_HDR_RAMDISK_IMAGE, 4, 0x1234); /* whatever the file says */
	assert_int_equal(linux_parse(image, sizeof(image), &li, err, sizeof(err)), 0);
	memmap_build(&map, 64u << 20, 0, 0);
	linux_build_zero_page(zp, image, &li,
			      &(struct linux_boot_params){.cmdline_gpa = 0x20000, .memmap = &map});
	assert_int_equal(get(zp, LINUX_HDR_RAMDISK_IMAGE, 4), 0);
	assert_int_equal(get(zp, LINUX_HDR_RAMDISK_SIZE, 4), 0);
	assert_int_equal(zp[LINUX_ZP_E820_ENTRIES], 4); /* no ECAM window */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_a_stock_header),
		cmocka_unit_test(refuses_bad_headers),
		cmocka_unit_test(short_images_are_not_linux),
		cmocka_unit_test(zero_page_holds_header_fields_and_e820),
		cmocka_unit_test(no_initrd_leaves_ramdisk_fields_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
