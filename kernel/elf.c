/* ELF loading (System V ABI, "Object Files", and the x86-64 and i386
 * supplements): ELF64 x86-64 images start in 64-bit mode, ELF32 i386 ones in
 * 32-bit protected mode with paging off, as boot protocols hand over. */
#include <stdio.h>
#include <string.h>

#include "kernel/elf.h"

#define EI_NIDENT   16
#define ELFCLASS32  1
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EM_386	    3
#define EM_X86_64   62
#define ET_EXEC	    2
#define PT_LOAD	    1

struct elf_common_ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
};

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

struct elf32_ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

/* What loading needs of either class. */
struct image {
	unsigned bits;
	uint64_t entry, phoff;
	unsigned phnum, phentsize;
};

struct segment {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

/* The file's bytes are copied out with memcpy, never dereferenced as headers: the image
 * and e_phoff are the guest's, so the headers need not be aligned. */
static int read_header(const void *file, size_t size, struct image *im, char *err, size_t errlen)
{
	struct elf_common_ehdr c;

	if (size < sizeof(struct elf64_ehdr))
		return snprintf(err, errlen, "not an ELF file"), -1;
	memcpy(&c, file, sizeof(c));
	if (memcmp(c.ident, "\177ELF", 4))
		return snprintf(err, errlen, "not an ELF file"), -1;
	if (c.ident[4] == ELFCLASS64 && c.machine == EM_X86_64) {
		struct elf64_ehdr h;

		memcpy(&h, file, sizeof(h));
		*im = (struct image){64, h.entry, h.phoff, h.phnum, sizeof(struct elf64_phdr)};
		if (h.phentsize != im->phentsize)
			return snprintf(err, errlen, "program headers of an unknown size"), -1;
	} else if (c.ident[4] == ELFCLASS32 && c.machine == EM_386) {
		struct elf32_ehdr h;

		memcpy(&h, file, sizeof(h));
		*im = (struct image){32, h.entry, h.phoff, h.phnum, sizeof(struct elf32_phdr)};
		if (h.phentsize != im->phentsize)
			return snprintf(err, errlen, "program headers of an unknown size"), -1;
	} else {
		return snprintf(err, errlen, "not an x86-64 ELF64 or i386 ELF32 executable"), -1;
	}
	if (c.ident[5] != ELFDATA2LSB || c.type != ET_EXEC)
		return snprintf(err, errlen, "not a little-endian ELF executable"), -1;
	if (im->phoff > size || (uint64_t)im->phnum * im->phentsize > size - im->phoff)
		return snprintf(err, errlen, "program headers outside the file"), -1;
	return 0;
}

/* Program header i, which read_header checked lies inside the file. */
static struct segment read_segment(const uint8_t *file, const struct image *im, unsigned i)
{
	const uint8_t *p = file + im->phoff + (uint64_t)i * im->phentsize;

	if (im->bits == 64) {
		struct elf64_phdr s;

		memcpy(&s, p, sizeof(s));
		return (struct segment){s.type, s.offset, s.paddr, s.filesz, s.memsz};
	}
	struct elf32_phdr s;

	memcpy(&s, p, sizeof(s));
	return (struct segment){s.type, s.offset, s.paddr, s.filesz, s.memsz};
}

static int load_segment(const struct segment *p, const uint8_t *image, size_t size, uint8_t *dst,
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
	     struct elf_entry *entry, char *err, size_t errlen)
{
	struct image im;
	uint64_t end = 0;
	int loaded = 0;

	if (read_header(image, size, &im, err, errlen))
		return -1;
	for (unsigned i = 0; i < im.phnum; i++) {
		struct segment s = read_segment(image, &im, i);

		if (s.type != PT_LOAD)
			continue;
		if (load_segment(&s, image, size, dst, dst_size, min_gpa, err, errlen))
			return -1;
		loaded++;
		if (s.paddr + s.memsz > end)
			end = s.paddr + s.memsz;
	}
	if (!loaded)
		return snprintf(err, errlen, "no loadable segment"), -1;
	*entry = (struct elf_entry){im.entry, im.bits, end};
	return 0;
}
