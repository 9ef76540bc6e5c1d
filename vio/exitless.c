/* Exitless delivery's vector allocation and shadow IDT (vio/exitless.h). */
#include <string.h>

#include "vio/exitless.h"

void exitless_vectors_init(struct exitless_vectors *t)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++)
		t->owner[v] = EXITLESS_NO_OWNER;
	memset(t->guest_vector, 0, sizeof(t->guest_vector));
}

int exitless_vector_find(const struct exitless_vectors *t, int32_t owner, uint8_t guest_vector)
{
	for (int v = EXITLESS_VEC_FIRST; v <= EXITLESS_VEC_LAST; v++)
		if (__atomic_load_n(&t->owner[v], __ATOMIC_ACQUIRE) == owner &&
		    t->guest_vector[v] == guest_vector)
			return v;
	return -1;
}

static bool vector_free(const struct exitless_vectors *t, int v)
{
	return v >= EXITLESS_VEC_FIRST && v <= EXITLESS_VEC_LAST &&
	       t->owner[v] == EXITLESS_NO_OWNER;
}

/* The guest vector field is written before the owner (release), so a reader
 * that sees the owner (acquire) sees the vector too. */
int exitless_vector_alloc(struct exitless_vectors *t, int32_t owner, uint8_t guest_vector)
{
	int v = exitless_vector_find(t, owner, guest_vector);

	if (v >= 0 || owner == EXITLESS_NO_OWNER)
		return v;
	if (!vector_free(t, guest_vector))
		for (v = EXITLESS_VEC_LAST; v >= EXITLESS_VEC_FIRST && !vector_free(t, v); v--)
			;
	else
		v = guest_vector;
	if (v < EXITLESS_VEC_FIRST)
		return -1;
	t->guest_vector[v] = guest_vector;
	__atomic_store_n(&t->owner[v], owner, __ATOMIC_RELEASE);
	return v;
}

bool exitless_vector_owner(const struct exitless_vectors *t, uint8_t pv, int32_t *owner,
			   uint8_t *guest_vector)
{
	int32_t o = __atomic_load_n(&t->owner[pv], __ATOMIC_ACQUIRE);

	if (o == EXITLESS_NO_OWNER)
		return false;
	*owner = o;
	*guest_vector = t->guest_vector[pv];
	return true;
}

/* Gate `vector`'s offset in the pages, or -1 when the IDT's limit or the
 * pages end before it. */
static long gate_offset(size_t len, size_t idt_off, uint32_t idt_limit, unsigned vector)
{
	size_t end = (size_t)vector * IDT_GATE_BYTES + IDT_GATE_BYTES - 1;

	if (end > idt_limit || idt_off + end >= len)
		return -1;
	return (long)(idt_off + (size_t)vector * IDT_GATE_BYTES);
}

bool exitless_guest_gate_present(const uint8_t *guest, size_t len, size_t idt_off,
				 uint32_t idt_limit, uint8_t vector)
{
	long g = gate_offset(len, idt_off, idt_limit, vector);

	return g >= 0 && (guest[g + IDT_GATE_TYPE_BYTE] & IDT_GATE_PRESENT);
}

void exitless_shadow_build(uint8_t *shadow, const uint8_t *guest, size_t len, size_t idt_off,
			   uint32_t idt_limit, const uint8_t gate_of[IDT_VECTORS])
{
	memcpy(shadow, guest, len);
	for (unsigned v = 32; v < IDT_VECTORS; v++) {
		long s = gate_offset(len, idt_off, idt_limit, v), g;

		if (s < 0)
			break;
		g = gate_of[v] ? gate_offset(len, idt_off, idt_limit, gate_of[v]) : -1;
		if (g >= 0)
			memcpy(shadow + s, guest + g, IDT_GATE_BYTES);
		else
			shadow[s + IDT_GATE_TYPE_BYTE] &= (uint8_t)~IDT_GATE_PRESENT;
	}
}
