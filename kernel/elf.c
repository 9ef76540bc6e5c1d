/* ELF64 loading (System V ABI, "Object Files" and the x86-64 supplement). */
#include <stdio.h>
#include <string.h>

#include "kernel/elf.h"

#define EI_NIDENT   16
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EM_X86_64   62
#define ET_EXEC	    2
#define PT_LOAD	    1

struct elf64_ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static int check_header(const struct elf64_ehdr *h, size_t size, char *err, size_t errlen)
{
	if (size < sizeof(*h) || memcmp(h->ident, "\177ELF", 4))
		return snprintf(err, errlen, "not an ELF file"), -1;
	if (h->ident[4] != ELFCLASS64 || h->ident[5] != ELFDATA2LSB || h->machine != EM_X86_64 ||
	    h->type != ET_EXEC)
		return snprintf(err, errlen, "not an x86-64 ELF64 executable"), -1;
	if (h->phentsize != sizeof(struct elf64_phdr) || h->phoff > size ||
	    (uint64_t)h->phnum * sizeof(struct elf64_phdr) > size - h->phoff)
		return snprintf(err, errlen, "program headers outside the file"), -1;
	return 0;
}

static int load_segment(const struct elf64_phdr *p, const uint8_t *image, size_t size, uint8_t *dst,
			uint64_t dst_size, uint64_t min_gpa, char *err, size_t errlen)
{
	if (p->filesz > p->memsz || p->offset > size || p->filesz > size - p->offset)
		return snprintf(err, errlen, "segment at 0x%llx is outside the file",
				(unsigned long long)p->paddr),
		       -1;
	if (p->paddr < min_gpa || p->paddr > dst_size || p->memsz > dst_size - p->paddr)
		return snprintf(err, errlen, "segment 0x%llx-0x%llx does not fit the guest's RAM",
				(unsigned long long)p->paddr,
				(unsigned long long)(p->paddr + p->memsz)),
		       -1;
	memcpy(dst + p->paddr, image + p->offset, p->filesz);
	memset(dst + p->paddr + p->filesz, 0, p->memsz - p->filesz);
	return 0;
}

int elf_load(const void *image, size_t size, uint8_t *dst, uint64_t dst_size, uint64_t min_gpa,
	     uint64_t *entry, char *err, size_t errlen)
{
	const struct elf64_ehdr *h = image;
	int loaded = 0;

	if (check_header(h, size, err, errlen))
		return -1;
	for (unsigned i = 0; i < h->phnum; i++) {
		const struct elf64_phdr *p =
			(const void *)((const uint8_t *)image + h->phoff + i * sizeof(*p));

		if (p->type != PT_LOAD)
			continue;
		if (load_segment(p, image, size, dst, dst_size, min_gpa, err, errlen))
			return -1;
		loaded++;
	}
	if (!loaded)
		return snprintf(err, errlen, "no loadable segment"), -1;
	*entry = h->entry;
	return 0;
}
