/* Loading ELF executables (guest images) into a guest's memory: ELF64
 * x86-64 and ELF32 i386. Pure logic: the caller passes the image and where
 * guest-physical memory is mapped. */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include <stddef.h>
#include <stdint.h>

/* Copies every PT_LOAD segment to dst + p_paddr and zeroes its bss; checks
 * that each fits in [min_gpa, dst_size). 0, or -1 with the reason in err. */
struct elf_entry {
	uint64_t address;
	unsigned bits; /* 64: start in 64-bit mode; 32: protected mode, paging off */
	uint64_t end;  /* first byte past the highest segment (multiboot modules follow) */
};

int elf_load(const void *image, size_t size, uint8_t *dst, uint64_t dst_size, uint64_t min_gpa,
	     struct elf_entry *entry, char *err, size_t errlen);

#endif
