/* Exitless delivery's pure part (vio/exitless.c): per-core physical vector
 * allocation (never one vector to two vCPUs of a core, sticky, guest vector
 * preferred) and the shadow IDT (exception gates and assigned gates copied,
 * every other gate not present, non-gate bytes mirrored, updates of the
 * guest's IDT reflected at the next build). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "vio/exitless.h"

#define PAGE 4096

static struct exitless_vectors table;

static int setup(void **state)
{
	(void)state;
	exitless_vectors_init(&table);
	return 0;
}

static void test_alloc_prefers_guest_vector_and_is_sticky(void **state)
{
	(void)state;
	assert_int_equal(exitless_vector_alloc(&table, 7, 0x42), 0x42);
	assert_int_equal(exitless_vector_alloc(&table, 7, 0x42), 0x42);
	assert_int_equal(exitless_vector_find(&table, 7, 0x42), 0x42);
	assert_int_equal(exitless_vector_find(&table, 8, 0x42), -1);
}

static void test_two_vcpus_same_guest_vector_differ(void **state)
{
	int a, b;
	int32_t owner;
	uint8_t gv;

	(void)state;
	a = exitless_vector_alloc(&table, 1, 0x22);
	b = exitless_vector_alloc(&table, 2, 0x22);
	assert_true(a >= EXITLESS_VEC_FIRST && a <= EXITLESS_VEC_LAST);
	assert_true(b >= EXITLESS_VEC_FIRST && b <= EXITLESS_VEC_LAST);
	assert_int_not_equal(a, b);
	assert_true(exitless_vector_owner(&table, (uint8_t)a, &owner, &gv));
	assert_int_equal(owner, 1);
	assert_int_equal(gv, 0x22);
	assert_true(exitless_vector_owner(&table, (uint8_t)b, &owner, &gv));
	assert_int_equal(owner, 2);
	assert_int_equal(gv, 0x22);
	assert_false(exitless_vector_owner(&table, 0xf0, &owner, &gv));
}

/* Every allocation of a full core is distinct, inside the range, and the
 * next one fails instead of sharing. */
static void test_never_one_vector_twice(void **state)
{
	unsigned n = EXITLESS_VEC_LAST - EXITLESS_VEC_FIRST + 1, owners[256] = {0};

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		int v = exitless_vector_alloc(&table, (int32_t)(i % 5), (uint8_t)(0x20 + i / 5));

		assert_true(v >= EXITLESS_VEC_FIRST && v <= EXITLESS_VEC_LAST);
		assert_int_equal(owners[v]++, 0);
	}
	assert_int_equal(exitless_vector_alloc(&table, 9, 0x99), -1);
	assert_int_equal(exitless_vector_alloc(&table, EXITLESS_NO_OWNER, 0x31), -1);
}

static void make_gate(uint8_t *idt, unsigned vector, uint64_t handler)
{
	uint8_t *g = idt + vector * IDT_GATE_BYTES;

	memset(g, 0, IDT_GATE_BYTES);
	g[0] = (uint8_t)handler, g[1] = (uint8_t)(handler >> 8);
	g[2] = 0x08;
	g[5] = 0x8e;
	g[6] = (uint8_t)(handler >> 16), g[7] = (uint8_t)(handler >> 24);
}

static uint16_t gate_handler_low(const uint8_t *idt, unsigned vector)
{
	return (uint16_t)(idt[vector * IDT_GATE_BYTES] | idt[vector * IDT_GATE_BYTES + 1] << 8);
}

static bool present(const uint8_t *idt, unsigned vector)
{
	return idt[vector * IDT_GATE_BYTES + IDT_GATE_TYPE_BYTE] & IDT_GATE_PRESENT;
}

static void test_shadow_gates(void **state)
{
	static uint8_t guest[PAGE], shadow[PAGE];
	uint8_t gate_of[IDT_VECTORS] = {0};

	(void)state;
	for (unsigned v = 0; v < 256; v++)
		make_gate(guest, v, 0x1000 + v);
	gate_of[0x22] = 0x22; /* assigned as itself */
	gate_of[0xe5] = 0x22; /* a second vCPU's 0x22 would be elsewhere: here, the same gate */
	gate_of[0x40] = 0x41;
	exitless_shadow_build(shadow, guest, PAGE, 0, PAGE - 1, gate_of);
	for (unsigned v = 0; v < 32; v++) { /* the guest's exceptions, as they are */
		assert_true(present(shadow, v));
		assert_int_equal(gate_handler_low(shadow, v), 0x1000 + v);
	}
	assert_int_equal(gate_handler_low(shadow, 0x22), 0x1022);
	assert_int_equal(gate_handler_low(shadow, 0xe5), 0x1022);
	assert_int_equal(gate_handler_low(shadow, 0x40), 0x1041);
	for (unsigned v = 32; v < 256; v++)
		assert_int_equal(present(shadow, v), v == 0x22 || v == 0xe5 || v == 0x40);
	/* the host's vectors in particular */
	assert_false(present(shadow, 0xf0));
	assert_false(present(shadow, 0xf1));
	assert_false(present(shadow, 0xff));
}

/* An IDT that starts mid-page and spans two pages, with data around it that
 * the shadow must mirror; gates beyond the limit are not the IDT's. */
static void test_shadow_unaligned_two_pages(void **state)
{
	static uint8_t guest[2 * PAGE], shadow[2 * PAGE];
	uint8_t gate_of[IDT_VECTORS] = {0}, *idt = guest + 0x800;
	uint32_t limit = 0x30 * IDT_GATE_BYTES - 1; /* vectors 0-0x2f */

	(void)state;
	memset(guest, 0x5a, sizeof(guest));
	for (unsigned v = 0; v < 0x30; v++)
		make_gate(idt, v, 0x2000 + v);
	gate_of[0x21] = 0x2e;
	gate_of[0x50] = 0x21; /* beyond the limit: no gate there to fill */
	exitless_shadow_build(shadow, guest, sizeof(guest), 0x800, limit, gate_of);
	assert_memory_equal(shadow, guest, 0x800);
	assert_memory_equal(shadow + 0x800 + 0x300, guest + 0x800 + 0x300, sizeof(guest) - 0xb00);
	assert_true(present(shadow + 0x800, 0x21));
	assert_int_equal(gate_handler_low(shadow + 0x800, 0x21), 0x202e);
	assert_false(present(shadow + 0x800, 0x2e));
	assert_false(present(shadow + 0x800, 0x20));
	assert_true(exitless_guest_gate_present(guest, sizeof(guest), 0x800, limit, 0x2e));
	assert_false(exitless_guest_gate_present(guest, sizeof(guest), 0x800, limit, 0x30));
}

/* The guest rewrites a gate: the next build carries it; the shadow never
 * keeps a gate the guest took away. */
static void test_shadow_reflects_guest_updates(void **state)
{
	static uint8_t guest[PAGE], shadow[PAGE];
	uint8_t gate_of[IDT_VECTORS] = {0};

	(void)state;
	for (unsigned v = 0; v < 256; v++)
		make_gate(guest, v, 0x3000 + v);
	gate_of[0x60] = 0x61;
	exitless_shadow_build(shadow, guest, PAGE, 0, PAGE - 1, gate_of);
	assert_int_equal(gate_handler_low(shadow, 0x60), 0x3061);
	make_gate(guest, 0x61, 0x7777);
	guest[14 * IDT_GATE_BYTES + IDT_GATE_TYPE_BYTE] = 0; /* #PF gate taken away */
	exitless_shadow_build(shadow, guest, PAGE, 0, PAGE - 1, gate_of);
	assert_int_equal(gate_handler_low(shadow, 0x60), 0x7777);
	assert_false(present(shadow, 14));
	guest[0x61 * IDT_GATE_BYTES + IDT_GATE_TYPE_BYTE] = 0x0e; /* not present */
	exitless_shadow_build(shadow, guest, PAGE, 0, PAGE - 1, gate_of);
	assert_false(present(shadow, 0x60));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_alloc_prefers_guest_vector_and_is_sticky, setup),
		cmocka_unit_test_setup(test_two_vcpus_same_guest_vector_differ, setup),
		cmocka_unit_test_setup(test_never_one_vector_twice, setup),
		cmocka_unit_test(test_shadow_gates),
		cmocka_unit_test(test_shadow_unaligned_two_pages),
		cmocka_unit_test(test_shadow_reflects_guest_updates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
