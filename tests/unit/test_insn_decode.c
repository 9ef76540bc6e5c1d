/* The MMIO instruction decoder against a table of encodings (SDM Vol. 2),
 * and the register semantics of completing a read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/insn_decode.h"

struct encoding {
	const char *text;
	uint8_t bytes[16];
	uint8_t n;
	enum insn_mmio_kind kind;
	uint8_t length, size, reg, reg_size;
	bool high8;
	enum insn_extend extend;
	bool has_imm;
	uint64_t imm;
	bool rep;
};

#define R    INSN_MMIO_READ
#define W    INSN_MMIO_WRITE
#define NONE INSN_EXTEND_NONE

static const struct encoding table[] = {
	{"mov eax,[rdi]", {0x8b, 0x07}, 2, R, 2, 4, 0, 4, false, NONE, false, 0, false},
	{"mov rax,[rdi+8]",
	 {0x48, 0x8b, 0x47, 0x08},
	 4,
	 R,
	 4,
	 8,
	 0,
	 8,
	 false,
	 NONE,
	 false,
	 0,
	 false},
	{"mov [rax],edx", {0x89, 0x10}, 2, W, 2, 4, 2, 4, false, NONE, false, 0, false},
	{"mov [rax],bl", {0x88, 0x18}, 2, W, 2, 1, 3, 1, false, NONE, false, 0, false},
	{"mov [rax],cx", {0x66, 0x89, 0x08}, 3, W, 3, 2, 1, 2, false, NONE, false, 0, false},
	{"mov [rax],r8d", {0x44, 0x89, 0x00}, 3, W, 3, 4, 8, 4, false, NONE, false, 0, false},
	{"mov r15,[rax]", {0x4c, 0x8b, 0x38}, 3, R, 3, 8, 15, 8, false, NONE, false, 0, false},
	{"mov ah,[rdi]", {0x8a, 0x27}, 2, R, 2, 1, 0, 1, true, NONE, false, 0, false},
	{"mov sil,[rdi]", {0x40, 0x8a, 0x37}, 3, R, 3, 1, 6, 1, false, NONE, false, 0, false},
	{"mov dword [rax],0x12345678",
	 {0xc7, 0x00, 0x78, 0x56, 0x34, 0x12},
	 6,
	 W,
	 6,
	 4,
	 0,
	 0,
	 false,
	 NONE,
	 true,
	 0x12345678,
	 false},
	{"mov qword [rax],-1",
	 {0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff},
	 7,
	 W,
	 7,
	 8,
	 0,
	 0,
	 false,
	 NONE,
	 true,
	 ~0ull,
	 false},
	{"mov word [rax],0x8001",
	 {0x66, 0xc7, 0x00, 0x01, 0x80},
	 5,
	 W,
	 5,
	 2,
	 0,
	 0,
	 false,
	 NONE,
	 true,
	 0x8001,
	 false},
	{"mov byte [rax],0xab",
	 {0xc6, 0x00, 0xab},
	 3,
	 W,
	 3,
	 1,
	 0,
	 0,
	 false,
	 NONE,
	 true,
	 0xab,
	 false},
	{"movzx eax,byte [rax]",
	 {0x0f, 0xb6, 0x00},
	 3,
	 R,
	 3,
	 1,
	 0,
	 4,
	 false,
	 INSN_EXTEND_ZERO,
	 false,
	 0,
	 false},
	{"movzx ecx,word [rax]",
	 {0x0f, 0xb7, 0x08},
	 3,
	 R,
	 3,
	 2,
	 1,
	 4,
	 false,
	 INSN_EXTEND_ZERO,
	 false,
	 0,
	 false},
	{"movsx rax,byte [rax]",
	 {0x48, 0x0f, 0xbe, 0x00},
	 4,
	 R,
	 4,
	 1,
	 0,
	 8,
	 false,
	 INSN_EXTEND_SIGN,
	 false,
	 0,
	 false},
	{"movsx edx,word [rbx]",
	 {0x0f, 0xbf, 0x13},
	 3,
	 R,
	 3,
	 2,
	 2,
	 4,
	 false,
	 INSN_EXTEND_SIGN,
	 false,
	 0,
	 false},
	{"mov eax,[rip+0x1000]",
	 {0x8b, 0x05, 0x00, 0x10, 0x00, 0x00},
	 6,
	 R,
	 6,
	 4,
	 0,
	 4,
	 false,
	 NONE,
	 false,
	 0,
	 false},
	{"mov eax,[rsp+8]",
	 {0x8b, 0x44, 0x24, 0x08},
	 4,
	 R,
	 4,
	 4,
	 0,
	 4,
	 false,
	 NONE,
	 false,
	 0,
	 false},
	{"mov eax,[rsp+0x100]",
	 {0x8b, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00},
	 7,
	 R,
	 7,
	 4,
	 0,
	 4,
	 false,
	 NONE,
	 false,
	 0,
	 false},
	{"mov eax,[0xfee00000]",
	 {0x8b, 0x04, 0x25, 0x00, 0x00, 0xe0, 0xfe},
	 7,
	 R,
	 7,
	 4,
	 0,
	 4,
	 false,
	 NONE,
	 false,
	 0,
	 false},
	{"mov eax,gs:[rax]", {0x65, 0x8b, 0x00}, 3, R, 3, 4, 0, 4, false, NONE, false, 0, false},
	{"mov eax,[moffs64]",
	 {0xa1, 0, 0, 0xe0, 0xfe, 0, 0, 0, 0},
	 9,
	 R,
	 9,
	 4,
	 0,
	 4,
	 false,
	 NONE,
	 false,
	 0,
	 false},
	{"mov [moffs64],al",
	 {0xa2, 0, 0, 0xe0, 0xfe, 0, 0, 0, 0},
	 9,
	 W,
	 9,
	 1,
	 0,
	 1,
	 false,
	 NONE,
	 false,
	 0,
	 false},
	{"rep movsd", {0xf3, 0xa5}, 2, INSN_MMIO_MOVS, 2, 4, 0, 4, false, NONE, false, 0, true},
	{"movsb", {0xa4}, 1, INSN_MMIO_MOVS, 1, 1, 0, 1, false, NONE, false, 0, false},
	{"rep stosq",
	 {0xf3, 0x48, 0xab},
	 3,
	 INSN_MMIO_STOS,
	 3,
	 8,
	 0,
	 8,
	 false,
	 NONE,
	 false,
	 0,
	 true},
};

static void test_encoding_table(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
		const struct encoding *e = &table[k];
		struct insn_mmio i;
		const char *why;

		if (insn_decode_mmio(e->bytes, e->n, &i, &why))
			fail_msg("%s: %s", e->text, why);
		if (i.kind != e->kind || i.length != e->length || i.size != e->size ||
		    i.reg != e->reg || i.reg_size != e->reg_size || i.reg_high8 != e->high8 ||
		    i.extend != e->extend || i.has_imm != e->has_imm || i.imm != e->imm ||
		    i.rep != e->rep)
			fail_msg("%s: kind %d len %u size %u reg %u/%u high8 %d ext %d imm %d "
				 "0x%llx rep %d",
				 e->text, i.kind, i.length, i.size, i.reg, i.reg_size, i.reg_high8,
				 i.extend, i.has_imm, (unsigned long long)i.imm, i.rep);
	}
}

static void test_refused(void **state)
{
	static const struct {
		uint8_t bytes[8];
		uint8_t n;
		const char *why_part;
	} bad[] = {
		{{0x0f, 0x0b}, 2, "not an instruction"},	     /* ud2 */
		{{0x01, 0x00}, 2, "not an instruction"},	     /* add [rax],eax */
		{{0x8b, 0xc0}, 2, "not an instruction"},	     /* mov eax,eax: no memory */
		{{0xc7, 0x08, 1, 2, 3, 4}, 6, "not an instruction"}, /* c7 /1 */
		{{0x8b}, 1, "too early"},
		{{0x8b, 0x84, 0x24, 0x00}, 4, "too early"},
		{{0x66, 0x66}, 2, "too early"},
		{{0xa1, 0, 0, 0}, 4, "too early"},
	};
	struct insn_mmio i;
	const char *why;

	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		assert_int_equal(insn_decode_mmio(bad[k].bytes, bad[k].n, &i, &why), -1);
		if (!why || !strstr(why, bad[k].why_part))
			fail_msg("case %zu: reason \"%s\"", k, why ? why : "(none)");
	}
}

static void decode(const uint8_t *b, size_t n, struct insn_mmio *i)
{
	const char *why;

	assert_int_equal(insn_decode_mmio(b, n, i, &why), 0);
}

static void test_read_completion_semantics(void **state)
{
	struct virt_regs r;
	struct insn_mmio i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.rax = 0x1111111111111111ull;
	decode((const uint8_t[]){0x8b, 0x07}, 2, &i); /* mov eax: zero the upper half */
	insn_mmio_complete_read(&i, &r, 0xdeadbeefcafef00dull);
	assert_int_equal(r.rax, 0xcafef00dull);
	r.rax = 0x1111111111111111ull;
	decode((const uint8_t[]){0x8a, 0x27}, 2, &i); /* mov ah: only bits 8-15 */
	insn_mmio_complete_read(&i, &r, 0xab);
	assert_int_equal(r.rax, 0x111111111111ab11ull);
	r.rcx = 0x2222222222222222ull;
	decode((const uint8_t[]){0x66, 0x8b, 0x08}, 3, &i); /* mov cx: keep the rest */
	insn_mmio_complete_read(&i, &r, 0x12345);
	assert_int_equal(r.rcx, 0x2222222222222345ull);
	decode((const uint8_t[]){0x48, 0x0f, 0xbe, 0x00}, 4, &i); /* movsx rax, byte */
	insn_mmio_complete_read(&i, &r, 0x80);
	assert_int_equal(r.rax, 0xffffffffffffff80ull);
	decode((const uint8_t[]){0x0f, 0xbf, 0x13}, 3, &i); /* movsx edx, word */
	r.rdx = ~0ull;
	insn_mmio_complete_read(&i, &r, 0x8000);
	assert_int_equal(r.rdx, 0xffff8000ull);
	decode((const uint8_t[]){0x4c, 0x8b, 0x38}, 3, &i); /* mov r15 */
	insn_mmio_complete_read(&i, &r, 0x0123456789abcdefull);
	assert_int_equal(r.r15, 0x0123456789abcdefull);
}

static void test_write_values(void **state)
{
	struct virt_regs r;
	struct insn_mmio i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.rbx = 0x55667788aabbccddull;
	decode((const uint8_t[]){0x88, 0x18}, 2, &i); /* mov [rax],bl */
	assert_int_equal(insn_mmio_write_value(&i, &r), 0xdd);
	decode((const uint8_t[]){0x88, 0x38}, 2, &i); /* mov [rax],bh */
	assert_int_equal(insn_mmio_write_value(&i, &r), 0xcc);
	r.r8 = 0x1234567890ull;
	decode((const uint8_t[]){0x44, 0x89, 0x00}, 3, &i); /* mov [rax],r8d */
	assert_int_equal(insn_mmio_write_value(&i, &r), 0x34567890ull);
	decode((const uint8_t[]){0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80}, 7, &i);
	assert_int_equal(insn_mmio_write_value(&i, &r), 0xffffffff80000000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoding_table),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_read_completion_semantics),
		cmocka_unit_test(test_write_values),
	};

	return cmocka_run_group_tests_name("insn_decode", tests, NULL, NULL);
}
