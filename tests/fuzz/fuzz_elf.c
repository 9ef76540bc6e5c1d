/* libFuzzer harness for the ELF loader (kernel/elf.c): the input is a guest image, loaded by
 * elf_load into a fake guest RAM of 2 MiB (a heap block, so AddressSanitizer flags a segment
 * copied or zeroed past its end) with the kernel's lowest load address. Beyond "no crash":
 *   - nothing is ever written below min_gpa, not even by a load that fails half way (the
 *     bytes there hold a pattern that must survive);
 *   - a failure says why (a non-empty, NUL-terminated reason); a success starts 64-bit
 *     images in 64-bit mode and 32-bit ones in 32-bit mode, as the header's class says.
 *
 * Input: the ELF file. Seeds: minimal ELF64 and ELF32 executables and guest-shim32.elf with
 * its segments packed (tests/fuzz/seeds.py). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/elf.h"

#define RAM_SIZE (2u << 20)
#define MIN_GPA	 0x1000u /* below it the guest's own structures: nothing may land there */
#define PATTERN	 0xc3
#define CHECK(c) ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct elf_entry entry = {0, 0, 0};
	char err[64];

	if (!ram && !(ram = malloc(RAM_SIZE)))
		return 0;
	memset(ram, PATTERN, MIN_GPA);
	memset(err, 0x5a, sizeof(err));
	if (elf_load(data, size, ram, RAM_SIZE, MIN_GPA, &entry, err, sizeof(err))) {
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
	} else {
		CHECK(size > 4 && (data[4] == 1 || data[4] == 2));
		CHECK(entry.bits == (data[4] == 2 ? 64u : 32u));
	}
	for (unsigned i = 0; i < MIN_GPA; i++)
		CHECK(ram[i] == PATTERN);
	return 0;
}
