/* libFuzzer harness for multiboot version 1 (vplat/multiboot1.c): the input is a guest image,
 * parsed and, with the a.out kludge, loaded into a fake guest RAM of 2 MiB (a heap block, so
 * AddressSanitizer flags a copy or zeroing past its end) with the kernel's lowest load address
 * of 1 MiB; then one module is placed after it and the boot information built below 1 MiB.
 * Beyond "no crash":
 *   - detection and parsing agree: a parsed header was detected, at a 4-byte aligned offset
 *     inside the first 8192 bytes;
 *   - nothing is ever written below the load address by a load, even one that fails;
 *   - a failure says why (non-empty, NUL-terminated, naming the image);
 *   - a load's entry lies in what was loaded, which lies in RAM.
 *
 * Input: the image. Seeds: a.out-kludge and plain headers, and guest-mb.elf (tests/fuzz/seeds.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vplat/multiboot1.h"

#define RAM_SIZE (2u << 20)
#define MIN_GPA	 0x100000u
#define INFO_AT	 0x20000u
#define PATTERN	 0xc3
#define CHECK(c) ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reason(const char *err, size_t len)
{
	CHECK(memchr(err, '\0', len) && err[0]);
}

static void after_load(uint8_t *ram, const struct mb1_loaded *out, size_t size)
{
	const char *names[] = {"mod"};
	uint64_t sizes[] = {size}, start;
	struct mb1_module mod;
	struct mb1_info_input in = {RAM_SIZE, "cmd", "corevisor", &mod, 1};
	char err[160];

	if (mb1_place_modules(out->end, RAM_SIZE, sizes, names, 1, &start, err, sizeof(err))) {
		check_reason(err, sizeof(err));
		return;
	}
	CHECK(start % 4096 == 0 && start >= out->end && start + size <= RAM_SIZE);
	mod = (struct mb1_module){"mod", start, start + size};
	CHECK(mb1_build_info(ram, RAM_SIZE, INFO_AT, 0x2000, &in, err, sizeof(err)) == INFO_AT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct mb1_header h;
	struct mb1_loaded out;
	char err[160];

	if (!ram && !(ram = malloc(RAM_SIZE)))
		return 0;
	memset(err, 0x5a, sizeof(err));
	if (mb1_parse_header(data, size, "img", &h, err, sizeof(err))) {
		check_reason(err, sizeof(err));
		return 0;
	}
	CHECK(mb1_detect(data, size) && h.offset % 4 == 0 && h.offset + 12 <= 8192);
	if (!h.has_addresses)
		return 0;
	memset(ram, PATTERN, MIN_GPA);
	if (mb1_load_aout(data, size, "img", &h, ram, RAM_SIZE, MIN_GPA, &out, err, sizeof(err))) {
		check_reason(err, sizeof(err));
	} else {
		CHECK(out.entry >= h.load_addr && out.entry < out.end && out.end <= RAM_SIZE);
		after_load(ram, &out, size);
	}
	for (unsigned i = 0; i < INFO_AT; i++)
		CHECK(ram[i] == PATTERN);
	return 0;
}
