/* Decoding the instructions a guest uses on MMIO (SDM Vol. 2, ch. 2 and the
 * MOV, MOVZX, MOVSX, MOVS and STOS pages), for both vendors: QEMU's SVM gives
 * no decode assists, so every MMIO exit is decoded here. Pure logic, host-
 * tested: the caller passes the instruction bytes and the guest registers. */
#ifndef ARCH_X86_64_INSN_DECODE_H
#define ARCH_X86_64_INSN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/virt.h"

#define INSN_MAX_LENGTH 15

enum insn_mmio_kind {
	INSN_MMIO_READ,	 /* a register := memory */
	INSN_MMIO_WRITE, /* memory := a register or an immediate */
	INSN_MMIO_MOVS,	 /* memory at RDI := memory at RSI, RCX times with REP */
	INSN_MMIO_STOS,	 /* memory at RDI := RAX, RCX times with REP */
};

enum insn_extend { INSN_EXTEND_NONE, INSN_EXTEND_ZERO, INSN_EXTEND_SIGN };

struct insn_mmio {
	enum insn_mmio_kind kind;
	uint8_t length;		 /* bytes of the whole instruction */
	uint8_t size;		 /* bytes of the memory access: 1, 2, 4 or 8 */
	uint8_t reg;		 /* register operand, SDM numbering (0 = RAX ... 15 = R15) */
	bool reg_high8;		 /* AH, CH, DH or BH (reg 4-7 without a REX prefix) */
	uint8_t reg_size;	 /* bytes of the register operand */
	enum insn_extend extend; /* MOVZX / MOVSX */
	bool has_imm;
	uint64_t imm; /* already sign-extended to `size` bytes */
	bool rep;
};

/* 0, or -1 with the reason in *why (unsupported opcode, truncated bytes). */
int insn_decode_mmio(const uint8_t *bytes, size_t n, struct insn_mmio *out, const char **why);
/* The value a write stores (from its register or immediate). */
uint64_t insn_mmio_write_value(const struct insn_mmio *i, const struct virt_regs *r);
/* Puts what a read loaded into the destination register with the x86 rules:
 * 8/16-bit writes keep the rest, 32-bit ones zero the upper half. */
void insn_mmio_complete_read(const struct insn_mmio *i, struct virt_regs *r, uint64_t value);

#endif
