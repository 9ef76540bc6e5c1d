/* x86-64 decoding of the MMIO instruction forms: legacy prefixes, REX,
 * ModRM/SIB/displacement (the address itself comes from the exit, only the
 * length matters here), immediates. */
#include <string.h>

#include "arch/x86_64/insn_decode.h"

#define PREFIX_OPSIZE	0x66
#define PREFIX_ADDRSIZE 0x67
#define PREFIX_REP	0xf3
#define PREFIX_REPNE	0xf2
#define PREFIX_LOCK	0xf0
#define REX_W		0x08
#define REX_R		0x04
#define TRUNCATED	(-1)
#define UNSUPPORTED	(-2)

struct cursor {
	const uint8_t *p;
	size_t n, at;
};

static bool take(struct cursor *c, uint8_t *b)
{
	if (c->at >= c->n || c->at >= INSN_MAX_LENGTH)
		return false;
	*b = c->p[c->at++];
	return true;
}

static bool skip(struct cursor *c, size_t k)
{
	if (c->at + k > c->n || c->at + k > INSN_MAX_LENGTH)
		return false;
	c->at += k;
	return true;
}

static bool is_segment_prefix(uint8_t b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
}

/* ModRM, then SIB and displacement as mod and rm say (SDM Vol. 2 §2.1.5,
 * tables 2-2 and 2-3; mod 0 with rm 5 is RIP-relative in 64-bit mode). */
static int skip_modrm(struct cursor *c, uint8_t *reg_field)
{
	uint8_t modrm, sib, mod, rm;
	size_t disp;

	if (!take(c, &modrm))
		return TRUNCATED;
	mod = modrm >> 6;
	rm = modrm & 7;
	*reg_field = (modrm >> 3) & 7;
	if (mod == 3)
		return UNSUPPORTED; /* a register operand: not a memory access */
	disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (rm == 4) {
		if (!take(c, &sib))
			return TRUNCATED;
		if (mod == 0 && (sib & 7) == 5)
			disp = 4;
	}
	if (mod == 0 && rm == 5)
		disp = 4;
	return skip(c, disp) ? 0 : TRUNCATED;
}

static uint64_t read_le(const uint8_t *p, unsigned k)
{
	uint64_t v = 0;

	memcpy(&v, p, k);
	return v;
}

static uint64_t sign_extend(uint64_t v, unsigned from_bytes)
{
	unsigned shift = 64 - 8 * from_bytes;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

struct prefixes {
	bool opsize, addrsize, rep;
	uint8_t rex;
};

static int read_prefixes(struct cursor *c, struct prefixes *px, uint8_t *op)
{
	memset(px, 0, sizeof(*px));
	for (;;) {
		if (!take(c, op))
			return TRUNCATED;
		if (*op == PREFIX_OPSIZE)
			px->opsize = true;
		else if (*op == PREFIX_ADDRSIZE)
			px->addrsize = true;
		else if (*op == PREFIX_REP || *op == PREFIX_REPNE)
			px->rep = true;
		else if (!(*op == PREFIX_LOCK || is_segment_prefix(*op)))
			break;
	}
	if ((*op & 0xf0) == 0x40) { /* REX must come last, right before the opcode */
		px->rex = *op;
		if (!take(c, op))
			return TRUNCATED;
	}
	return 0;
}

/* The operand size of a non-byte form: REX.W, else 0x66, else 32 bits. */
static uint8_t operand_size(const struct prefixes *px)
{
	return px->rex & REX_W ? 8 : px->opsize ? 2 : 4;
}

static void set_reg(struct insn_mmio *i, const struct prefixes *px, uint8_t field, uint8_t size)
{
	i->reg = field | (px->rex & REX_R ? 8 : 0);
	i->reg_size = size;
	i->reg_high8 = size == 1 && !px->rex && field >= 4;
	if (i->reg_high8)
		i->reg = field - 4;
}

static int decode_two_byte(struct cursor *c, const struct prefixes *px, struct insn_mmio *i)
{
	uint8_t op, field;
	int rc;

	if (!take(c, &op))
		return TRUNCATED;
	if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
		return UNSUPPORTED;
	rc = skip_modrm(c, &field);
	if (rc)
		return rc;
	i->kind = INSN_MMIO_READ;
	i->size = op & 1 ? 2 : 1;
	i->extend = op >= 0xbe ? INSN_EXTEND_SIGN : INSN_EXTEND_ZERO;
	set_reg(i, px, field, operand_size(px));
	i->reg_high8 = false;
	return 0;
}

static int decode_mov(struct cursor *c, const struct prefixes *px, uint8_t op, struct insn_mmio *i)
{
	uint8_t field, size = op & 1 ? operand_size(px) : 1;
	int rc = skip_modrm(c, &field);

	if (rc)
		return rc;
	i->size = size;
	if (op == 0xc6 || op == 0xc7) { /* MOV r/m, imm: /0 only */
		unsigned imm_bytes = size == 8 ? 4 : size;

		if (field != 0)
			return UNSUPPORTED;
		if (c->at + imm_bytes > c->n)
			return TRUNCATED;
		i->kind = INSN_MMIO_WRITE;
		i->has_imm = true;
		i->imm = sign_extend(read_le(c->p + c->at, imm_bytes), imm_bytes);
		if (size < 8)
			i->imm &= (1ull << (8 * size)) - 1;
		return skip(c, imm_bytes) ? 0 : TRUNCATED;
	}
	i->kind = op & 2 ? INSN_MMIO_READ : INSN_MMIO_WRITE;
	set_reg(i, px, field, size);
	return 0;
}

/* MOV AL/eAX <-> moffs: the offset is as wide as the address: 8 bytes, or
 * 4 with the address-size prefix. */
static int decode_moffs(struct cursor *c, const struct prefixes *px, uint8_t op,
			struct insn_mmio *i)
{
	i->kind = op & 2 ? INSN_MMIO_WRITE : INSN_MMIO_READ;
	i->size = op & 1 ? operand_size(px) : 1;
	i->reg = 0;
	i->reg_size = i->size;
	return skip(c, px->addrsize ? 4 : 8) ? 0 : TRUNCATED;
}

static int decode_opcode(struct cursor *c, const struct prefixes *px, uint8_t op,
			 struct insn_mmio *i)
{
	if (op == 0x0f)
		return decode_two_byte(c, px, i);
	if (op == 0x88 || op == 0x89 || op == 0x8a || op == 0x8b || op == 0xc6 || op == 0xc7)
		return decode_mov(c, px, op, i);
	if (op >= 0xa0 && op <= 0xa3)
		return decode_moffs(c, px, op, i);
	if (op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab) {
		i->kind = op <= 0xa5 ? INSN_MMIO_MOVS : INSN_MMIO_STOS;
		i->size = op & 1 ? operand_size(px) : 1;
		i->reg_size = i->size;
		return 0;
	}
	return UNSUPPORTED;
}

int insn_decode_mmio(const uint8_t *bytes, size_t n, struct insn_mmio *out, const char **why)
{
	struct cursor c = {bytes, n, 0};
	struct prefixes px;
	uint8_t op;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = read_prefixes(&c, &px, &op);
	if (!rc)
		rc = decode_opcode(&c, &px, op, out);
	if (rc) {
		*why = rc == TRUNCATED ? "instruction bytes end too early"
				       : "not an instruction corevisor emulates on MMIO";
		return -1;
	}
	out->rep = px.rep;
	out->length = (uint8_t)c.at;
	*why = NULL;
	return 0;
}

/* struct virt_regs keeps no RSP (it lives in the VMCB or VMCS): register 4 is
 * never an MMIO operand in what we emulate, so it maps to NULL. */
static uint64_t *gpr(struct virt_regs *r, uint8_t n)
{
	uint64_t *const map[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, NULL,	&r->rbp,
				   &r->rsi, &r->rdi, &r->r8,  &r->r9,  &r->r10, &r->r11,
				   &r->r12, &r->r13, &r->r14, &r->r15};

	return map[n & 15];
}

uint64_t insn_mmio_write_value(const struct insn_mmio *i, const struct virt_regs *r)
{
	uint64_t *src, v;

	if (i->has_imm)
		return i->imm;
	src = gpr((struct virt_regs *)r, i->reg);
	v = src ? *src : 0;
	if (i->reg_high8)
		v >>= 8;
	return i->size == 8 ? v : v & ((1ull << (8 * i->size)) - 1);
}

void insn_mmio_complete_read(const struct insn_mmio *i, struct virt_regs *r, uint64_t value)
{
	uint64_t *dst = gpr(r, i->reg);
	uint64_t mask;

	if (!dst)
		return;
	if (i->size < 8)
		value &= (1ull << (8 * i->size)) - 1;
	if (i->extend == INSN_EXTEND_SIGN)
		value = sign_extend(value, i->size);
	if (i->reg_high8) {
		*dst = (*dst & ~0xff00ull) | (value & 0xff) << 8;
		return;
	}
	if (i->reg_size >= 4) { /* 32-bit destinations zero the upper half */
		*dst = i->reg_size == 8 ? value : value & 0xffffffffull;
		return;
	}
	mask = (1ull << (8 * i->reg_size)) - 1;
	*dst = (*dst & ~mask) | (value & mask);
}
