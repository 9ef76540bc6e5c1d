/* FADT (ACPI 6.5 §5.2.9): the fixed hardware ports, and \_S5 from the DSDT's
 * AML, which together are how the machine is powered off (§7.4.2). */
#include <stdio.h>
#include <string.h>

#include "drivers/acpi_internal.h"

/* The fields read unconditionally end with `flags`: the whole ACPI 1.0 FADT. */
#define FADT_MIN_LENGTH (offsetof(struct acpi_fadt, flags) + sizeof(uint32_t))

int acpi_parse_fadt(const struct acpi_fadt *f, struct acpi_info *out, char *err, size_t errlen)
{
	uint32_t len = f->header.length;

	/* The caller mapped `len` bytes, known to cover the SDT header only. */
	if (len < FADT_MIN_LENGTH) {
		snprintf(err, errlen, "FADT is %u bytes, shorter than its fields (%zu bytes)", len,
			 FADT_MIN_LENGTH);
		return -1;
	}
	out->pm1a_cnt = (uint16_t)f->pm1a_cnt_blk;
	out->pm1b_cnt = (uint16_t)f->pm1b_cnt_blk;
	out->pm_tmr = (uint16_t)f->pm_tmr_blk;
	out->pm_tmr_32bit = f->flags & ACPI_FADT_TMR_VAL_EXT;
	out->smi_cmd = (uint16_t)f->smi_cmd;
	out->acpi_enable = f->acpi_enable;
	/* Older (ACPI 1.0) FADTs end before the reset register. */
	if (len >= offsetof(struct acpi_fadt, reset_value) + 1 &&
	    (f->flags & ACPI_FADT_RESET_REG_SUP)) {
		out->have_reset_reg = true;
		out->reset_reg = f->reset_reg;
		out->reset_value = f->reset_value;
	}
	return 0;
}

/* PkgLength (§20.2.4): the top two bits of the lead byte say how many more
 * bytes follow; returns the number of bytes the encoding takes. */
static size_t aml_pkg_length_size(uint8_t lead)
{
	return 1 + (lead >> 6);
}

/* One integer element of the package: ZeroOp, OneOp or BytePrefix n. */
static const uint8_t *aml_small_int(const uint8_t *p, const uint8_t *end, uint8_t *val)
{
	if (p >= end)
		return NULL;
	if (*p == AML_ZERO_OP || *p == AML_ONE_OP) {
		*val = *p;
		return p + 1;
	}
	if (*p == AML_BYTE_PREFIX && p + 1 < end) {
		*val = p[1];
		return p + 2;
	}
	return NULL;
}

/* Looks for NameOp "_S5_" (optionally "\_S5_") followed by a Package whose
 * first two elements are SLP_TYPa and SLP_TYPb. */
bool acpi_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb)
{
	const uint8_t *end = aml + len;

	/* The name needs a NameOp (and maybe a root char) before it. */
	for (const uint8_t *p = aml + 2; p + 4 < end; p++) {
		const uint8_t *q = p + 4;

		if (memcmp(p, "_S5_", 4))
			continue;
		if (!(p[-1] == AML_NAME_OP || (p[-1] == AML_ROOT_CHAR && p[-2] == AML_NAME_OP)))
			continue;
		if (q >= end || *q != AML_PACKAGE_OP || q + 1 >= end)
			continue;
		q += 1 + aml_pkg_length_size(q[1]); /* PkgLength */
		q++;				    /* NumElements */
		q = aml_small_int(q, end, slp_typa);
		if (q && aml_small_int(q, end, slp_typb))
			return true;
	}
	return false;
}
