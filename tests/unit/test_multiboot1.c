/* Multiboot version 1 (vplat/multiboot1.c): the header is found, checked
 * and refused with a reason naming the problem; the a.out kludge loads at
 * its addresses; modules go page-aligned after the image; the boot
 * information says exactly what the specification's §3.3 layout says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vplat/multiboot1.h"
#include "vplat/multiboot1_defs.h"

#define RAM	 (4u << 20)
#define HDR_AT	 64u /* the header's offset in the test image */
#define IMG_SIZE 4096u

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static uint8_t img[IMG_SIZE];
static char err[160];
static struct mb1_header hdr;

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* A header at HDR_AT with these flags and a right checksum. */
static void header(uint32_t flags)
{
	memset(img, 0, sizeof(img));
	put32(img + HDR_AT, MB1_HEADER_MAGIC);
	put32(img + HDR_AT + 4, flags);
	put32(img + HDR_AT + 8, -(MB1_HEADER_MAGIC + flags));
}

/* The a.out kludge: the file loads at 1 MiB, 0x800 bytes of it, bss up to
 * 0x101000, entry at 0x100100. */
static void aout(void)
{
	header(MB1_HDR_PAGE_ALIGN | MB1_HDR_MEMORY_INFO | MB1_HDR_ADDRESSES);
	put32(img + HDR_AT + 12, 0x100000 + HDR_AT);
	put32(img + HDR_AT + 16, 0x100000);
	put32(img + HDR_AT + 20, 0x100800);
	put32(img + HDR_AT + 24, 0x101000);
	put32(img + HDR_AT + 28, 0x100100);
	for (unsigned i = 0x100; i < IMG_SIZE; i++)
		img[i] = (uint8_t)i;
}

static void expect_refused(size_t size, const char *why)
{
	assert_int_equal(mb1_parse_header(img, size, "k", &hdr, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("\"%s\" does not say \"%s\"", err, why);
	assert_non_null(strstr(err, "image \"k\": "));
}

static void test_detect(void **state)
{
	(void)state;
	header(0);
	assert_true(mb1_detect(img, IMG_SIZE));
	assert_false(mb1_detect(img, HDR_AT + 3)); /* the magic cut off */
	memset(img, 0, sizeof(img));
	assert_false(mb1_detect(img, IMG_SIZE));
	put32(img + 2, MB1_HEADER_MAGIC); /* not 4-byte aligned */
	assert_false(mb1_detect(img, IMG_SIZE));
}

static void test_plain_header(void **state)
{
	(void)state;
	header(MB1_HDR_PAGE_ALIGN | MB1_HDR_MEMORY_INFO);
	assert_int_equal(mb1_parse_header(img, IMG_SIZE, "k", &hdr, err, sizeof(err)), 0);
	assert_int_equal(hdr.offset, HDR_AT);
	assert_int_equal(hdr.flags, 3);
	assert_false(hdr.has_addresses);
}

static void test_malformed_headers(void **state)
{
	(void)state;
	memset(img, 0, sizeof(img));
	expect_refused(IMG_SIZE, "no multiboot header in its first 8192 bytes");
	header(0);
	expect_refused(HDR_AT + 8, "multiboot header runs past the end of the file");
	put32(img + HDR_AT + 8, 1);
	expect_refused(IMG_SIZE, "multiboot header checksum is wrong");
	header(MB1_HDR_VIDEO_MODE);
	expect_refused(IMG_SIZE, "asks for a video mode (flag 2)");
	header(1u << 5 | MB1_HDR_MEMORY_INFO);
	expect_refused(IMG_SIZE, "requires features corevisor does not know (flags 0x20)");
	header(MB1_HDR_ADDRESSES);
	expect_refused(HDR_AT + 20, "multiboot header runs past the end of the file");
}

static void test_header_past_8k(void **state)
{
	uint8_t *big = calloc(1, 16384);

	(void)state;
	put32(big + 8188, MB1_HEADER_MAGIC); /* the magic inside, the rest outside */
	put32(big + 8192, 0);
	put32(big + 8196, -MB1_HEADER_MAGIC);
	assert_true(mb1_detect(big, 16384));
	assert_int_equal(mb1_parse_header(big, 16384, "k", &hdr, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not within the first 8192 bytes"));
	put32(big + 8188, 0);
	put32(big + 8192, MB1_HEADER_MAGIC); /* past the search window: not found */
	assert_false(mb1_detect(big, 16384));
	free(big);
}

static void test_bad_addresses(void **state)
{
	(void)state;
	aout();
	put32(img + HDR_AT + 20, 0xff000); /* load_end below load_addr */
	expect_refused(IMG_SIZE, "multiboot load_end_addr below load_addr");
	aout();
	put32(img + HDR_AT + 28, 0x101000); /* entry at bss end: outside */
	expect_refused(IMG_SIZE,
		       "entry_addr 0x101000 is outside the loaded range 0x100000-0x101000");
	aout();
	put32(img + HDR_AT + 28, 0xfffff);
	expect_refused(IMG_SIZE, "is outside the loaded range");
	aout();
	put32(img + HDR_AT + 16, 0x100000 + HDR_AT + 4); /* load_addr above header_addr */
	expect_refused(IMG_SIZE, "multiboot load_addr above header_addr");
	aout();
	put32(img + HDR_AT + 16, 0xff000); /* the file would start before byte 0 */
	expect_refused(IMG_SIZE, "load_addr is before the start of the file");
	aout();
	put32(img + HDR_AT + 20, 0x100000 + IMG_SIZE + 1);
	put32(img + HDR_AT + 24, 0);
	expect_refused(IMG_SIZE, "load_end_addr is past the end of the file");
	aout();
	put32(img + HDR_AT + 24, 0x100400);
	expect_refused(IMG_SIZE, "bss_end_addr below load_end_addr");
}

static void test_aout_load(void **state)
{
	uint8_t *ram = malloc(RAM);
	struct mb1_loaded out;

	(void)state;
	aout();
	memset(ram, 0x55, RAM);
	assert_int_equal(mb1_parse_header(img, IMG_SIZE, "k", &hdr, err, sizeof(err)), 0);
	assert_true(hdr.has_addresses);
	assert_int_equal(
		mb1_load_aout(img, IMG_SIZE, "k", &hdr, ram, RAM, 0x100000, &out, err, sizeof(err)),
		0);
	assert_int_equal(out.entry, 0x100100);
	assert_int_equal(out.end, 0x101000);
	assert_memory_equal(ram + 0x100000, img, 0x800);
	assert_int_equal(ram[0x100800], 0);
	assert_int_equal(ram[0x100fff], 0);
	assert_int_equal(ram[0x101000], 0x55);
	assert_int_equal(ram[0xfffff], 0x55);
	/* load_end 0: to the end of the file; bss_end 0: none */
	put32(img + HDR_AT + 20, 0);
	put32(img + HDR_AT + 24, 0);
	assert_int_equal(mb1_parse_header(img, IMG_SIZE, "k", &hdr, err, sizeof(err)), 0);
	assert_int_equal(
		mb1_load_aout(img, IMG_SIZE, "k", &hdr, ram, RAM, 0x100000, &out, err, sizeof(err)),
		0);
	assert_int_equal(out.end, 0x100000 + IMG_SIZE);
	/* RAM too small for the bss */
	aout();
	assert_int_equal(mb1_parse_header(img, IMG_SIZE, "k", &hdr, err, sizeof(err)), 0);
	assert_int_equal(mb1_load_aout(img, IMG_SIZE, "k", &hdr, ram, 0x100800, 0x100000, &out, err,
				       sizeof(err)),
			 -1);
	assert_string_equal(err, "image \"k\": multiboot load 0x100000-0x101000 is outside RAM "
				 "from 0x100000 to memory_mib");
	free(ram);
}

static void test_place_modules(void **state)
{
	const uint64_t sizes[] = {10, 4096, 1};
	const char *const names[] = {"a", "b", "c"};
	uint64_t starts[3];

	(void)state;
	assert_int_equal(mb1_place_modules(0x101001, RAM, sizes, names, 3, starts, err, 160), 0);
	assert_int_equal(starts[0], 0x102000);
	assert_int_equal(starts[1], 0x103000);
	assert_int_equal(starts[2], 0x104000);
	assert_int_equal(mb1_place_modules(0x101001, 0x104000, sizes, names, 3, starts, err, 160),
			 -1);
	assert_string_equal(err, "module \"c\" does not fit in memory_mib");
}

/* The boot information of a 6 MiB VM with two modules, field by field. */
static void test_build_info(void **state)
{
	uint8_t *ram = calloc(1, 6u << 20);
	const struct mb1_module mods[] = {{"guest-shim", 0x102000, 0x102123},
					  {"two", 0x103000, 0x103001}};
	struct mb1_info_input in = {6u << 20, "mem_mib=6 x", "corevisor", mods, 2};
	uint32_t mbi, mmap, list;

	(void)state;
	mbi = mb1_build_info(ram, 6u << 20, 0x20000, 0x2000, &in, err, sizeof(err));
	assert_int_equal(mbi, 0x20000);
	assert_int_equal(get32(ram + mbi), 0x24d); /* mem, cmdline, mods, mmap, loader name */
	assert_int_equal(get32(ram + mbi + 4), 639);
	assert_int_equal(get32(ram + mbi + 8), 5 * 1024);
	assert_string_equal((char *)ram + get32(ram + mbi + 16), "mem_mib=6 x");
	assert_int_equal(get32(ram + mbi + 20), 2);
	list = get32(ram + mbi + 24);
	assert_int_equal(get32(ram + list), 0x102000);
	assert_int_equal(get32(ram + list + 4), 0x102123);
	assert_string_equal((char *)ram + get32(ram + list + 8), "guest-shim");
	assert_int_equal(get32(ram + list + 16 + 4), 0x103001);
	assert_string_equal((char *)ram + get32(ram + list + 24), "two");
	assert_int_equal(get32(ram + mbi + 44), 3 * 24);
	mmap = get32(ram + mbi + 48);
	const uint64_t want[3][3] = {
		{0, 0x9fc00, 1}, {0x9fc00, 0x60400, 2}, {0x100000, (6u << 20) - 0x100000, 1}};
	for (unsigned i = 0; i < 3; i++, mmap += 24) {
		assert_int_equal(get32(ram + mmap), 20);
		assert_int_equal(get64(ram + mmap + 4), want[i][0]);
		assert_int_equal(get64(ram + mmap + 12), want[i][1]);
		assert_int_equal(get32(ram + mmap + 20), want[i][2]);
	}
	assert_string_equal((char *)ram + get32(ram + mbi + 64), "corevisor");
	/* too little room, and room outside RAM */
	assert_int_equal(mb1_build_info(ram, 6u << 20, 0x20000, 200, &in, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "boot information does not fit in its 0xc8 bytes at 0x20000"));
	assert_int_equal(mb1_build_info(ram, 6u << 20, 6u << 20, 0x2000, &in, err, sizeof(err)), 0);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_plain_header),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_header_past_8k),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_aout_load),
		cmocka_unit_test(test_place_modules),
		cmocka_unit_test(test_build_info),
	};

	return cmocka_run_group_tests_name("multiboot1", tests, NULL, NULL);
}
