/* Loading ELF64 executables (guest images) into a guest's memory. Pure logic:
 * the caller passes the image and where guest-physical memory is mapped. */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include <stddef.h>
#include <stdint.h>

/* Copies every PT_LOAD segment to dst + p_paddr and zeroes its bss; checks
 * that each fits in [min_gpa, dst_size). 0, or -1 with the reason in err. */
int elf_load(const void *image, size_t size, uint8_t *dst, uint64_t dst_size, uint64_t min_gpa,
	     uint64_t *entry, char *err, size_t errlen);

#endif
