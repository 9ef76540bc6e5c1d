/* Guest image loading: segments land at their physical addresses, bss is
 * zeroed, ELF32 i386 images load for a 32-bit entry, and images that do not
 * fit or are neither ELF64 x86-64 nor ELF32 i386 are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/elf.h"

#define RAM (4u << 20)

/* UBSan's reports (a misaligned access, say) fail the test rather than print and go on. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

struct image {
	uint8_t ehdr[64];
	uint8_t phdr[2][56];
	uint8_t data[16];
};

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* An executable with one PT_LOAD: 16 bytes of data at 0x100000, 64 bytes of memory. */
static void make_image(struct image *im, uint64_t paddr)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->ehdr, "\177ELF", 4);
	im->ehdr[4] = 2;		/* ELFCLASS64 */
	im->ehdr[5] = 1;		/* little-endian */
	put16(im->ehdr + 16, 2);	/* ET_EXEC */
	put16(im->ehdr + 18, 62);	/* EM_X86_64 */
	put64(im->ehdr + 24, 0x100010); /* entry */
	put64(im->ehdr + 32, 64);	/* phoff */
	put16(im->ehdr + 54, 56);	/* phentsize */
	put16(im->ehdr + 56, 2);	/* phnum: PT_LOAD and a PT_NOTE */
	put32(im->phdr[0], 1);		/* PT_LOAD */
	put64(im->phdr[0] + 8, offsetof(struct image, data));
	put64(im->phdr[0] + 24, paddr);
	put64(im->phdr[0] + 32, sizeof(im->data));
	put64(im->phdr[0] + 40, 64);
	put32(im->phdr[1], 4); /* PT_NOTE: skipped */
	memset(im->data, 0xab, sizeof(im->data));
}

static void test_loads_segment_and_zeroes_bss(void **state)
{
	struct image im;
	uint8_t *ram = malloc(RAM);
	struct elf_entry entry = {0, 0, 0};
	char err[64];

	(void)state;
	make_image(&im, 0x100000);
	memset(ram, 0x55, RAM);
	assert_int_equal(elf_load(&im, sizeof(im), ram, RAM, 0x100000, &entry, err, sizeof(err)),
			 0);
	assert_int_equal(entry.address, 0x100010);
	assert_int_equal(entry.bits, 64);
	assert_int_equal(entry.end, 0x100000 + 64); /* the segment's memsz, bss included */
	assert_int_equal(ram[0x100000], 0xab);
	assert_int_equal(ram[0x10000f], 0xab);
	assert_int_equal(ram[0x100010], 0); /* bss */
	assert_int_equal(ram[0x10003f], 0);
	assert_int_equal(ram[0x100040], 0x55); /* untouched past memsz */
	free(ram);
}

static void test_refuses_bad_images(void **state)
{
	struct image im;
	uint8_t *ram = malloc(RAM);
	struct elf_entry entry;
	char err[64];

	(void)state;
	make_image(&im, RAM - 32); /* memsz runs past the end of RAM */
	assert_int_equal(elf_load(&im, sizeof(im), ram, RAM, 0x100000, &entry, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "does not fit"));
	make_image(&im, 0x1000); /* below the lowest allowed address */
	assert_int_equal(elf_load(&im, sizeof(im), ram, RAM, 0x100000, &entry, err, sizeof(err)),
			 -1);
	make_image(&im, 0x100000);
	im.ehdr[4] = 1; /* ELFCLASS32 with the x86-64 machine */
	assert_int_equal(elf_load(&im, sizeof(im), ram, RAM, 0x100000, &entry, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "ELF64"));
	make_image(&im, 0x100000);
	put64(im.phdr[0] + 8, 1u << 20); /* file offset beyond the file */
	assert_int_equal(elf_load(&im, sizeof(im), ram, RAM, 0x100000, &entry, err, sizeof(err)),
			 -1);
	assert_int_equal(elf_load("not an elf", 10, ram, RAM, 0x100000, &entry, err, sizeof(err)),
			 -1);
	free(ram);
}

/* The same executable as ELF32 i386: 52-byte header, 32-byte program headers. */
static void make_image32(uint8_t *im, size_t size, uint32_t paddr)
{
	memset(im, 0, size);
	memcpy(im, "\177ELF", 4);
	im[4] = 1;		    /* ELFCLASS32 */
	im[5] = 1;		    /* little-endian */
	put16(im + 16, 2);	    /* ET_EXEC */
	put16(im + 18, 3);	    /* EM_386 */
	put32(im + 24, paddr + 4);  /* entry */
	put32(im + 28, 52);	    /* phoff */
	put16(im + 42, 32);	    /* phentsize */
	put16(im + 44, 1);	    /* phnum */
	put32(im + 52, 1);	    /* PT_LOAD */
	put32(im + 52 + 4, 96);	    /* offset */
	put32(im + 52 + 12, paddr); /* paddr */
	put32(im + 52 + 16, 16);    /* filesz */
	put32(im + 52 + 20, 32);    /* memsz */
	memset(im + 96, 0xcd, 16);
}

static void test_loads_elf32_for_a_32_bit_entry(void **state)
{
	uint8_t im[128], *ram = calloc(1, RAM);
	struct elf_entry entry = {0, 0, 0};
	char err[64];

	(void)state;
	make_image32(im, sizeof(im), 0x200000);
	assert_int_equal(elf_load(im, sizeof(im), ram, RAM, 0x100000, &entry, err, sizeof(err)), 0);
	assert_int_equal(entry.address, 0x200004);
	assert_int_equal(entry.bits, 32);
	assert_int_equal(ram[0x200000], 0xcd);
	assert_int_equal(ram[0x20000f], 0xcd);
	assert_int_equal(ram[0x200010], 0);
	put16(im + 18, 62); /* ELF32 with the x86-64 machine: refused */
	assert_int_equal(elf_load(im, sizeof(im), ram, RAM, 0x100000, &entry, err, sizeof(err)),
			 -1);
	free(ram);
}

/* Program headers at an odd e_phoff in an image at an odd address: read with memcpy, never
 * dereferenced (tests/fuzz/crashes/fuzz_elf/misaligned-phdr). */
static void test_misaligned_program_headers(void **state)
{
	struct image im;
	enum { PHOFF = 65, DATA = PHOFF + sizeof(im.phdr), SIZE = DATA + sizeof(im.data) };
	uint8_t *buf = calloc(1, SIZE + 1), *file = buf + 1;
	uint8_t *ram = calloc(1, RAM);
	struct elf_entry entry = {0, 0, 0};
	char err[64];

	(void)state;
	make_image(&im, 0x100000);
	put64(im.ehdr + 32, PHOFF);
	put64(im.phdr[0] + 8, DATA);
	memcpy(file, im.ehdr, sizeof(im.ehdr));
	memcpy(file + PHOFF, im.phdr, sizeof(im.phdr));
	memcpy(file + DATA, im.data, sizeof(im.data));
	assert_int_equal(elf_load(file, SIZE, ram, RAM, 0x100000, &entry, err, sizeof(err)), 0);
	assert_int_equal(entry.address, 0x100010);
	assert_int_equal(ram[0x100000], 0xab);
	assert_int_equal(ram[0x10000f], 0xab);
	assert_int_equal(ram[0x100010], 0);
	free(ram);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_segment_and_zeroes_bss),
		cmocka_unit_test(test_refuses_bad_images),
		cmocka_unit_test(test_loads_elf32_for_a_32_bit_entry),
		cmocka_unit_test(test_misaligned_program_headers),
	};

	return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
