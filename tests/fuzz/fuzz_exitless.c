/* libFuzzer harness for exitless delivery's shadow IDT builder (vio/exitless.c): the guest's IDT
 * pages are guest-controlled bytes, and so are the IDTR's offset and limit. Beyond "no crash"
 * (no byte read or written outside the pages), after every build:
 *   - every byte that is not a gate at 32 and above inside the limit is the guest's;
 *   - a gate at 32 and above is present only where a physical vector is assigned, and then it
 *     is the guest's gate of the vector it stands for, which the guest has present;
 *   - the vector tables never hand one physical vector to two owners.
 *
 * Input: le16 IDT offset, le16 limit, one byte of page count (1 or 2), 8 bytes of assignments
 * (4 pairs: physical vector, guest vector), then the pages' contents (zero-filled). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vio/exitless.h"

#define CHECK(c) ((c) ? (void)0 : abort())
#define PAGE	 4096
#define HEADER	 13

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_gate_byte(size_t i, size_t off, uint32_t limit)
{
	size_t g;

	if (i < off)
		return false;
	g = (i - off) / IDT_GATE_BYTES;
	return g >= 32 && g < IDT_VECTORS && (g + 1) * IDT_GATE_BYTES - 1 <= limit;
}

static void check_vectors(const uint8_t *pairs)
{
	static struct exitless_vectors t;
	int32_t owner;
	uint8_t gv;

	exitless_vectors_init(&t);
	for (int i = 0; i < 8; i++) {
		int pv = exitless_vector_alloc(&t, i % 3, pairs[i]);

		CHECK(pv < 0 || (pv >= EXITLESS_VEC_FIRST && pv <= EXITLESS_VEC_LAST));
		CHECK(pv < 0 || (exitless_vector_owner(&t, (uint8_t)pv, &owner, &gv) &&
				 owner == i % 3 && gv == pairs[i]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t guest[2 * PAGE], shadow[2 * PAGE];
	uint8_t gate_of[IDT_VECTORS] = {0};
	size_t off, len;
	uint32_t limit;

	if (size < HEADER)
		return 0;
	off = (data[0] | data[1] << 8) % PAGE;
	limit = data[2] | data[3] << 8;
	len = (data[4] & 1) ? 2 * PAGE : PAGE;
	for (int i = 0; i < 4; i++)
		gate_of[data[5 + 2 * i]] = data[6 + 2 * i];
	check_vectors(data + 5);
	memset(guest, 0, sizeof(guest));
	memcpy(guest, data + HEADER, size - HEADER < len ? size - HEADER : len);
	memset(shadow, 0xa5, sizeof(shadow));
	exitless_shadow_build(shadow, guest, len, off, limit, gate_of);
	for (size_t i = 0; i < len; i++)
		CHECK(is_gate_byte(i, off, limit) || shadow[i] == guest[i]);
	for (unsigned v = 32; v < IDT_VECTORS; v++) {
		size_t s = off + v * IDT_GATE_BYTES;
		unsigned g = gate_of[v];

		if (s + IDT_GATE_BYTES > len || v * IDT_GATE_BYTES + IDT_GATE_BYTES - 1 > limit)
			break;
		if (!(shadow[s + IDT_GATE_TYPE_BYTE] & IDT_GATE_PRESENT))
			continue;
		CHECK(g && exitless_guest_gate_present(guest, len, off, limit, (uint8_t)g));
		CHECK(!memcmp(shadow + s, guest + off + g * IDT_GATE_BYTES, IDT_GATE_BYTES));
	}
	return 0;
}
