/* Reads the multiboot2 boot information (multiboot2 spec §3.6) into struct
 * boot_info. Everything the loader and firmware still own goes into the
 * reserved list, so the page allocator never hands it out and nothing else
 * takes it. */
#include <string.h>

#include "arch/x86_64/boot/multiboot2.h"
#include "arch/x86_64/layout.h"
#include "kernel/bootinfo.h"

extern char __image_start[], __image_end[];

static void add_range(struct boot_range *list, unsigned *n, uint64_t base, uint64_t len)
{
	if (len && *n < BOOT_MAX_RANGES)
		list[(*n)++] = (struct boot_range){base, len};
}

static void copy_string(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void parse_mmap(const struct mb2_tag_mmap *t, struct boot_info *bi)
{
	const uint8_t *p = (const uint8_t *)t->entries;
	const uint8_t *end = (const uint8_t *)t + t->tag.size;

	for (; p + sizeof(struct mb2_mmap_entry) <= end; p += t->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)p;

		if (e->type == MB2_MEMORY_AVAILABLE)
			add_range(bi->usable, &bi->n_usable, e->base, e->len);
		else
			add_range(bi->reserved, &bi->n_reserved, e->base, e->len);
	}
}

static void parse_module(const struct mb2_tag_module *t, struct boot_info *bi)
{
	struct boot_module *m;
	const char *s = t->cmdline;
	unsigned i = 0;

	add_range(bi->reserved, &bi->n_reserved, t->mod_start, t->mod_end - t->mod_start);
	if (bi->n_modules == BOOT_MAX_MODULES)
		return;
	m = &bi->modules[bi->n_modules++];
	while (*s == ' ')
		s++;
	while (*s && *s != ' ' && i + 1 < sizeof(m->name))
		m->name[i++] = *s++;
	m->name[i] = '\0';
	while (*s == ' ')
		s++;
	m->args = s;
	m->start = t->mod_start;
	m->end = t->mod_end;
}

const char *multiboot2_parse(uint64_t magic, uint64_t mbi_phys, struct boot_info *bi)
{
	const struct mb2_info *info = phys_to_virt(mbi_phys);
	const uint8_t *p = (const uint8_t *)(info + 1);
	const uint8_t *end = (const uint8_t *)info + info->total_size;

	if (magic != MB2_BOOTLOADER_MAGIC)
		return "not started by a multiboot2 loader (bad magic in EAX)";
	memset(bi, 0, sizeof(*bi));
	add_range(bi->reserved, &bi->n_reserved, virt_to_phys(__image_start),
		  (uintptr_t)__image_end - (uintptr_t)__image_start);
	add_range(bi->reserved, &bi->n_reserved, mbi_phys, info->total_size);

	while (p + sizeof(struct mb2_tag) <= end) {
		const struct mb2_tag *tag = (const void *)p;

		if (tag->type == MB2_TAG_END)
			break;
		switch (tag->type) {
		case MB2_TAG_CMDLINE:
			copy_string(bi->cmdline, ((const struct mb2_tag_string *)tag)->string,
				    sizeof(bi->cmdline));
			break;
		case MB2_TAG_MODULE:
			parse_module((const void *)tag, bi);
			break;
		case MB2_TAG_MMAP:
			parse_mmap((const void *)tag, bi);
			break;
		case MB2_TAG_ACPI_NEW: /* an XSDT-capable RSDP wins over the old one */
			bi->rsdp = ((const struct mb2_tag_acpi *)tag)->rsdp;
			break;
		case MB2_TAG_ACPI_OLD:
			if (!bi->rsdp)
				bi->rsdp = ((const struct mb2_tag_acpi *)tag)->rsdp;
			break;
		}
		p += (tag->size + 7) & ~7u; /* tags are 8-byte aligned (§3.6.1) */
	}
	if (!bi->n_usable)
		return "the boot loader gave no memory map";
	return NULL;
}
