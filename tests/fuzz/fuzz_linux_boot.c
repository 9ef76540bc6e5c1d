/* libFuzzer harness for the Linux boot protocol (vplat/linux_boot.c): the input is a bzImage
 * (its first bytes: the setup header is all linux_parse reads). Beyond "no crash":
 *   - a refusal says why (a non-empty, NUL-terminated reason);
 *   - an accepted image has its kernel inside the file and a header inside the setup code,
 *     and the zero page built from it copies exactly the header, sets the loader's fields
 *     and lists the memory map, and writes nothing past its 4 KiB (AddressSanitizer: the
 *     page is a heap block of exactly that size).
 *
 * Seeds: Debian-like 2.15 headers, and older and cut-short ones (tests/fuzz/seeds.py). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vplat/linux_boot.h"
#include "vplat/memmap.h"

#define CHECK(c) ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_zero_page(const uint8_t *data, const struct linux_image *li)
{
	uint8_t *zp = malloc(LINUX_ZERO_PAGE_BYTES);
	struct memmap map;

	if (!zp)
		return;
	memmap_build(&map, 256u << 20, 0xb0000000, 0x100000);
	linux_build_zero_page(zp, data, li,
			      &(struct linux_boot_params){.cmdline_gpa = 0x20000,
							  .initrd_gpa = 0x8000000,
							  .initrd_bytes = 4096,
							  .memmap = &map});
	CHECK(zp[LINUX_ZP_E820_ENTRIES] == map.n);
	CHECK(zp[LINUX_HDR_TYPE_OF_LOADER] == LINUX_LOADER_UNKNOWN);
	CHECK(!memcmp(zp + LINUX_HDR_HEADER, data + LINUX_HDR_HEADER, 4));
	CHECK(zp[0x1ef] == 0); /* the sentinel below the header */
	free(zp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linux_image li;
	char err[64];

	memset(err, 0x5a, sizeof(err));
	if (linux_parse(data, size, &li, err, sizeof(err))) {
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		return 0;
	}
	CHECK(linux_detect(data, size));
	CHECK(li.version >= LINUX_MIN_VERSION);
	CHECK(li.setup_bytes < size && li.setup_bytes + li.kernel_bytes == size);
	CHECK(li.header_end <= li.setup_bytes && li.header_end <= LINUX_ZERO_PAGE_BYTES);
	CHECK(li.init_size >= li.kernel_bytes);
	check_zero_page(data, &li);
	return 0;
}
