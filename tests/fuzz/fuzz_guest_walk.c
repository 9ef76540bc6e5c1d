/* libFuzzer harness for the guest page walker (arch/x86_64/guest_walk.c) over a fuzzed fake
 * guest memory: 64 KiB of RAM from guest-physical 0 holding the input (zero past it), and a
 * read callback that refuses anything outside it and records every entry read. The walk is
 * run for the input's address and for it with each level's index bit flipped. Beyond
 * "no crash", each walk must be the one SDM Vol. 3A §4.5 describes:
 *   - at most four reads, each of an aligned entry, the first in CR3's table and each next one
 *     in the table the entry before points to, at the index the address's bits select;
 *   - every entry but the last present, and only a PDPTE or PDE with PS ends the walk early;
 *   - a failure read an entry that is not present or not RAM; a success ended on a present
 *     PTE, or a PDPTE or PDE with PS, and its result is that page's frame plus the offset.
 *
 * Input: le64 CR3, le64 linear address, then the RAM's bytes. Seeds: 4 KiB, 2 MiB and 1 GiB
 * mappings and self-referencing tables (tests/fuzz/seeds.py). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/guest_walk.h"

#define RAM_SIZE    0x10000u
#define PTE_PRESENT (1ull << 0)
#define PTE_LARGE   (1ull << 7)
#define PTE_ADDR    0x000ffffffffff000ull
#define CHECK(c)    ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	const uint8_t *ram;
	unsigned reads;
	uint64_t gpa[4], entry[4];
	bool ok[4];
};

static bool read64(void *ctx, uint64_t gpa, uint64_t *value)
{
	struct walk *w = ctx;
	unsigned n = w->reads++;

	CHECK(n < 4 && (gpa & 7) == 0);
	w->gpa[n] = gpa;
	w->ok[n] = gpa < RAM_SIZE;
	if (!w->ok[n])
		return false;
	memcpy(value, w->ram + gpa, 8);
	w->entry[n] = *value;
	return true;
}

static void check_walk(const uint8_t *ram, uint64_t cr3, uint64_t gva)
{
	struct walk w = {.ram = ram};
	uint64_t gpa = 0, table = cr3 & PTE_ADDR, page;
	int rc = guest_walk(cr3, gva, read64, &w, &gpa);
	unsigned last;

	CHECK(w.reads >= 1);
	for (unsigned n = 0; n < w.reads; n++) {
		unsigned shift = 39 - 9 * n;

		CHECK(w.gpa[n] == table + ((gva >> shift) & 511) * 8);
		/* only the last read may fail, be absent or end the walk */
		if (n + 1 < w.reads)
			CHECK(w.ok[n] && (w.entry[n] & PTE_PRESENT) &&
			      (n == 0 || !(w.entry[n] & PTE_LARGE)));
		table = w.entry[n] & PTE_ADDR;
	}
	last = w.reads - 1;
	if (rc) {
		CHECK(rc == -1 && (!w.ok[last] || !(w.entry[last] & PTE_PRESENT)));
		return;
	}
	CHECK(rc == 0 && w.ok[last] && (w.entry[last] & PTE_PRESENT));
	CHECK(last == 3 || ((last == 1 || last == 2) && (w.entry[last] & PTE_LARGE)));
	page = (1ull << (39 - 9 * last)) - 1;
	CHECK(gpa == (((w.entry[last] & PTE_ADDR) & ~page) | (gva & page)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	uint64_t cr3, gva;

	if (size < 16)
		return 0;
	if (!ram && !(ram = malloc(RAM_SIZE)))
		return 0;
	memcpy(&cr3, data, 8);
	memcpy(&gva, data + 8, 8);
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data + 16, size - 16 < RAM_SIZE ? size - 16 : RAM_SIZE);
	check_walk(ram, cr3, gva);
	for (unsigned level = 0; level < 4; level++)
		check_walk(ram, cr3, gva ^ (1ull << (12 + 9 * level)));
	return 0;
}
