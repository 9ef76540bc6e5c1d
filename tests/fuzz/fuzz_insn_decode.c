/* libFuzzer harness for the MMIO instruction decoder (arch/x86_64/insn_decode.c): decodes the
 * input's bytes, then computes the value a write stores and completes a read into a register
 * file whose every register holds a distinct pattern. Beyond "no crash" (the bytes sit at the
 * end of a heap block, so AddressSanitizer flags a read past them):
 *   - a decoded instruction is self-consistent: 1 to 15 bytes, all of them given; sizes of 1,
 *     2, 4 or 8; a register 0-15 (AH-BH only as byte registers 0-3); extension only on reads
 *     into a register as wide or wider; an immediate only on writes, within the access size;
 *   - decoding reads exactly `length` bytes: the same bytes cut to `length` decode the same,
 *     cut one shorter they do not decode;
 *   - a write's value fits the access size and is its register's (or the immediate);
 *   - completing a read changes the destination register alone, by the x86 rules: the low
 *     bytes get the (extended) value, 32-bit destinations clear bits 63:32, 8- and 16-bit ones
 *     keep the rest, AH-BH change bits 15:8 only.
 *
 * Input: le64 value a read returns, then the instruction bytes. Seeds: every MOV, MOVZX,
 * MOVSX, MOVS and STOS form with prefixes (tests/fuzz/seeds.py). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/insn_decode.h"

#define CHECK(c) ((c) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The registers in SDM order (0 = RAX ... 15 = R15); RSP (4) is not in struct virt_regs. */
static uint64_t *reg(struct virt_regs *r, unsigned n)
{
	uint64_t *const map[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, NULL,	&r->rbp,
				   &r->rsi, &r->rdi, &r->r8,  &r->r9,  &r->r10, &r->r11,
				   &r->r12, &r->r13, &r->r14, &r->r15};

	return map[n & 15];
}

static uint64_t mask(unsigned bytes)
{
	return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

static bool valid_size(unsigned s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

static void fill(struct virt_regs *r)
{
	for (unsigned n = 0; n < 16; n++)
		if (reg(r, n))
			*reg(r, n) = 0x0123456789abcdefull * (n + 1) ^ 0xf0e1d2c3b4a59687ull;
}

static void check_shape(const struct insn_mmio *i, size_t n)
{
	CHECK(i->length >= 1 && i->length <= n && i->length <= INSN_MAX_LENGTH);
	CHECK(valid_size(i->size) && i->reg < 16);
	CHECK(!i->has_imm || (i->kind == INSN_MMIO_WRITE && !(i->imm & ~mask(i->size))));
	if (i->has_imm) /* no register operand */
		return;
	CHECK(valid_size(i->reg_size));
	CHECK(!i->reg_high8 || (i->reg < 4 && i->reg_size == 1));
	/* MOVZX/MOVSX into a register at least as wide (0x66 0f b7 is a 16-bit move) */
	CHECK(i->extend == INSN_EXTEND_NONE ||
	      (i->kind == INSN_MMIO_READ && i->size <= i->reg_size));
	CHECK(i->extend != INSN_EXTEND_NONE || i->reg_size == i->size);
}

/* Decodes again from a block of exactly `len` bytes. */
static int decode_copy(const uint8_t *bytes, size_t len, struct insn_mmio *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	const char *why;
	int rc;

	if (!copy)
		abort();
	memcpy(copy, bytes, len);
	rc = insn_decode_mmio(copy, len, out, &why);
	CHECK(rc == 0 ? why == NULL : why != NULL);
	free(copy);
	return rc;
}

static void check_write(const struct insn_mmio *i, struct virt_regs *r)
{
	uint64_t v = insn_mmio_write_value(i, r), src;

	CHECK(!(v & ~mask(i->size)));
	if (i->has_imm) {
		CHECK(v == i->imm);
		return;
	}
	src = reg(r, i->reg) ? *reg(r, i->reg) : 0;
	CHECK(v == ((i->reg_high8 ? src >> 8 : src) & mask(i->size)));
}

static void check_read(const struct insn_mmio *i, uint64_t value)
{
	struct virt_regs before, after;
	uint64_t v = value & mask(i->size), old, now;
	unsigned shift = i->reg_high8 ? 8 : 0;

	if (i->extend == INSN_EXTEND_SIGN && i->size < 8 && (v >> (8 * i->size - 1)) & 1)
		v |= ~mask(i->size);
	fill(&before);
	after = before;
	insn_mmio_complete_read(i, &after, value);
	for (unsigned n = 0; n < 16; n++)
		if (reg(&before, n) && n != i->reg)
			CHECK(*reg(&before, n) == *reg(&after, n));
	if (!reg(&before, i->reg))
		return;
	old = *reg(&before, i->reg);
	now = *reg(&after, i->reg);
	CHECK(((now >> shift) & mask(i->reg_size)) == (v & mask(i->reg_size)));
	if (i->reg_size == 4)
		CHECK(now >> 32 == 0);
	else if (i->reg_size < 4)
		CHECK((now & ~(mask(i->reg_size) << shift)) ==
		      (old & ~(mask(i->reg_size) << shift)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct insn_mmio i, again;
	struct virt_regs r;
	uint64_t value;
	const char *why = "unset";

	if (size < 8)
		return 0;
	memcpy(&value, data, 8);
	if (insn_decode_mmio(data + 8, size - 8, &i, &why)) {
		CHECK(why != NULL && why[0]);
		return 0;
	}
	CHECK(why == NULL);
	check_shape(&i, size - 8);
	CHECK(decode_copy(data + 8, i.length, &again) == 0 && !memcmp(&i, &again, sizeof(i)));
	CHECK(decode_copy(data + 8, i.length - 1u, &again) != 0);
	fill(&r);
	if (i.kind == INSN_MMIO_WRITE)
		check_write(&i, &r);
	else if (i.kind == INSN_MMIO_READ)
		check_read(&i, value);
	return 0;
}
