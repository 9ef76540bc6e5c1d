/* libFuzzer harness for what the AHCI driver (drivers/ahci.c) takes from outside: the
 * 512 bytes of IDENTIFY DEVICE a disk sends, and a scatter list a guest's request makes.
 * Beyond "no crash":
 *   - a parsed identity has a capacity, 48-bit addressing, a queue depth of 1-32 with NCQ
 *     and 0 without, and a printable, NUL-terminated model without trailing blanks;
 *   - the PRDT builder writes at most `max` entries, each of an even byte count of at most
 *     4 MiB at an even address, below 4 GiB without S64A, and they add up to the list.
 *
 * Input: 512 bytes of IDENTIFY data, one flags byte (bit 0: S64A, bits 7:1: max entries),
 * then scatter entries of 12 bytes (64-bit address, 32-bit length), at most 32. Seeds:
 * tests/fuzz/seeds.py. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/ahci.h"

#define ID_BYTES (ATA_ID_WORDS * 2)
#define SG_BYTES 12
#define SG_MAX	 32
#define CHECK(c) ((c) ? (void)0 : abort())

static void check_identity(const uint8_t *data)
{
	struct ata_identity id;
	size_t len;

	if (!ata_parse_identify(data, &id))
		return;
	CHECK(id.sectors && id.lba48);
	CHECK(id.ncq ? id.queue_depth >= 1 && id.queue_depth <= 32 : id.queue_depth == 0);
	len = strlen(id.model);
	CHECK(len < sizeof(id.model) && (!len || id.model[len - 1] != ' '));
	for (size_t i = 0; i < len; i++)
		CHECK(id.model[i] >= 0x20 && id.model[i] < 0x7f);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void check_prdt(const uint8_t *data, size_t size)
{
	static uint8_t prdt[128 * AHCI_PRD_BYTES];
	struct ahci_sg sg[SG_MAX];
	unsigned nsg = 0, max = data[0] >> 1;
	bool s64a = data[0] & 1;
	uint64_t want = 0, got = 0;
	int n;

	for (size_t at = 1; at + SG_BYTES <= size && nsg < SG_MAX; at += SG_BYTES, nsg++) {
		memcpy(&sg[nsg].phys, data + at, 8);
		memcpy(&sg[nsg].len, data + at + 8, 4);
		want += sg[nsg].len;
	}
	n = ahci_build_prdt(prdt, max, sg, nsg, s64a);
	if (n < 0)
		return;
	CHECK((unsigned)n <= max);
	for (int i = 0; i < n; i++) {
		const uint8_t *e = prdt + i * AHCI_PRD_BYTES;
		uint64_t at = get32(e) | (uint64_t)get32(e + 4) << 32;
		uint32_t bytes = (get32(e + 12) & AHCI_PRD_DBC_MASK) + 1;

		CHECK(bytes % 2 == 0 && bytes <= AHCI_PRD_MAX_BYTES && at % 2 == 0);
		CHECK(!(get32(e + 12) & AHCI_PRD_I));
		CHECK(s64a || at + bytes - 1 <= 0xffffffffull);
		got += bytes;
	}
	CHECK(got == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < ID_BYTES + 1)
		return 0;
	check_identity(data);
	check_prdt(data + ID_BYTES, size - ID_BYTES);
	return 0;
}
