/* Multiboot version 1 for the VM's boot: header (§3.1), load (§3.1.3, the
 * a.out kludge), modules and boot information (§3.3). The image is the
 * guest's: its bytes are copied out with memcpy, never dereferenced in
 * place, and every address in it is checked in 64-bit arithmetic. */
#include <stdio.h>
#include <string.h>

#include "vplat/multiboot1.h"
#include "vplat/multiboot1_defs.h"

#define FOUR_GIB (1ull << 32)

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* The first 4-byte aligned offset of the magic within the first 8192
 * bytes (the header's 12 need not all be there: that is an error, not
 * another kind of image), or -1. */
static long find_magic(const uint8_t *p, size_t size)
{
	size_t limit = size < MB1_SEARCH_BYTES ? size : MB1_SEARCH_BYTES;

	for (size_t off = 0; off + 4 <= limit; off += MB1_HEADER_ALIGN)
		if (get32(p + off) == MB1_HEADER_MAGIC)
			return (long)off;
	return -1;
}

bool mb1_detect(const void *image, size_t size)
{
	return find_magic(image, size) >= 0;
}

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* The header's 12 or 32 bytes: in the file, and in its first 8192 bytes. */
static int check_header_room(size_t off, size_t need, size_t size, const char *name, char *err,
			     size_t errlen)
{
	if (off + need > size)
		return FAIL("image \"%s\": multiboot header runs past the end of the file", name);
	if (off + need > MB1_SEARCH_BYTES)
		return FAIL("image \"%s\": multiboot header is not within the first %d bytes", name,
			    MB1_SEARCH_BYTES);
	return 0;
}

static int check_flags(uint32_t flags, const char *name, char *err, size_t errlen)
{
	uint32_t unknown = flags & MB1_HDR_REQUIRED & ~(MB1_HDR_KNOWN_NEEDED | MB1_HDR_VIDEO_MODE);

	/* §3.1.2: a video mode needs a framebuffer the VM does not have */
	if (flags & MB1_HDR_VIDEO_MODE)
		return FAIL("image \"%s\": multiboot header asks for a video mode (flag 2), which "
			    "corevisor does not offer",
			    name);
	if (unknown)
		return FAIL("image \"%s\": multiboot header requires features corevisor does not "
			    "know (flags 0x%x)",
			    name, unknown);
	return 0;
}

/* §3.1.3: the a.out fields. load_addr <= header_addr, the file bytes they
 * imply exist, load_end and bss_end do not go backwards, and the entry lies
 * in what is loaded. */
static int check_addresses(const struct mb1_header *h, size_t size, const char *name, char *err,
			   size_t errlen)
{
	uint64_t before = (uint64_t)h->header_addr - h->load_addr;
	uint64_t file_end, load_end, mem_end;

	if (h->load_addr > h->header_addr)
		return FAIL("image \"%s\": multiboot load_addr above header_addr", name);
	if (before > h->offset)
		return FAIL("image \"%s\": multiboot load_addr is before the start of the file",
			    name);
	file_end = (uint64_t)h->load_addr + (size - (h->offset - before));
	if (h->load_end_addr && h->load_end_addr < h->load_addr)
		return FAIL("image \"%s\": multiboot load_end_addr below load_addr", name);
	load_end = h->load_end_addr ? h->load_end_addr : file_end;
	if (load_end > file_end)
		return FAIL("image \"%s\": multiboot load_end_addr is past the end of the file",
			    name);
	if (h->bss_end_addr && h->bss_end_addr < load_end)
		return FAIL("image \"%s\": multiboot bss_end_addr below load_end_addr", name);
	mem_end = h->bss_end_addr ? h->bss_end_addr : load_end;
	if (h->entry_addr < h->load_addr || h->entry_addr >= mem_end)
		return FAIL("image \"%s\": multiboot entry_addr 0x%x is outside the loaded range "
			    "0x%x-0x%llx",
			    name, h->entry_addr, h->load_addr, (unsigned long long)mem_end);
	return 0;
}

int mb1_parse_header(const void *image, size_t size, const char *name, struct mb1_header *h,
		     char *err, size_t errlen)
{
	const uint8_t *p = image;
	long found = find_magic(p, size);
	size_t off = (size_t)found;

	if (found < 0)
		return FAIL("image \"%s\": no multiboot header in its first %d bytes", name,
			    MB1_SEARCH_BYTES);
	if (check_header_room(off, MB1_HEADER_BASE, size, name, err, errlen))
		return -1;
	memset(h, 0, sizeof(*h));
	h->offset = (uint32_t)off;
	h->flags = get32(p + off + MB1_HDR_FLAGS);
	if ((uint32_t)(MB1_HEADER_MAGIC + h->flags + get32(p + off + MB1_HDR_CHECKSUM)))
		return FAIL("image \"%s\": multiboot header checksum is wrong", name);
	if (check_flags(h->flags, name, err, errlen))
		return -1;
	h->has_addresses = h->flags & MB1_HDR_ADDRESSES;
	if (!h->has_addresses)
		return 0;
	if (check_header_room(off, MB1_HEADER_ADDRS, size, name, err, errlen))
		return -1;
	h->header_addr = get32(p + off + MB1_HDR_HEADER_ADDR);
	h->load_addr = get32(p + off + MB1_HDR_LOAD_ADDR);
	h->load_end_addr = get32(p + off + MB1_HDR_LOAD_END_ADDR);
	h->bss_end_addr = get32(p + off + MB1_HDR_BSS_END_ADDR);
	h->entry_addr = get32(p + off + MB1_HDR_ENTRY_ADDR);
	return check_addresses(h, size, name, err, errlen);
}

int mb1_load_aout(const void *image, size_t size, const char *name, const struct mb1_header *h,
		  uint8_t *ram, uint64_t ram_size, uint64_t min_gpa, struct mb1_loaded *out,
		  char *err, size_t errlen)
{
	uint64_t file_start, load_end, mem_end;

	if (!h->has_addresses || h->offset >= size)
		return FAIL("image \"%s\": multiboot header without address fields", name);
	if (check_addresses(h, size, name, err, errlen))
		return -1;
	file_start = h->offset - ((uint64_t)h->header_addr - h->load_addr);
	load_end = h->load_end_addr ? h->load_end_addr : h->load_addr + (size - file_start);
	mem_end = h->bss_end_addr ? h->bss_end_addr : load_end;
	if (h->load_addr < min_gpa || mem_end > ram_size)
		return FAIL("image \"%s\": multiboot load 0x%x-0x%llx is outside RAM from 0x%llx "
			    "to memory_mib",
			    name, h->load_addr, (unsigned long long)mem_end,
			    (unsigned long long)min_gpa);
	memcpy(ram + h->load_addr, (const uint8_t *)image + file_start, load_end - h->load_addr);
	memset(ram + load_end, 0, mem_end - load_end);
	*out = (struct mb1_loaded){h->entry_addr, mem_end};
	return 0;
}

int mb1_place_modules(uint64_t from, uint64_t ram_size, const uint64_t *sizes,
		      const char *const *names, unsigned n, uint64_t *starts, char *err,
		      size_t errlen)
{
	uint64_t limit = ram_size < FOUR_GIB ? ram_size : FOUR_GIB - 1;
	uint64_t at = align_up(from, MB1_PAGE_BYTES);

	for (unsigned i = 0; i < n; i++) {
		if (at > limit || sizes[i] > limit - at)
			return FAIL("module \"%s\" does not fit in memory_mib", names[i]);
		starts[i] = at;
		at = align_up(at + sizes[i], MB1_PAGE_BYTES);
	}
	return 0;
}

/* Boot information goes into [next, end) of guest RAM, 8-byte aligned
 * pieces one after another; the first that does not fit fails the build. */
struct info_writer {
	uint8_t *ram;
	uint64_t next, end;
	bool full;
};

static uint64_t take(struct info_writer *w, uint64_t bytes)
{
	uint64_t at = align_up(w->next, 8);

	if (w->full || at > w->end || bytes > w->end - at) {
		w->full = true;
		return 0;
	}
	w->next = at + bytes;
	memset(w->ram + at, 0, bytes);
	return at;
}

static void put32(struct info_writer *w, uint64_t at, uint32_t v)
{
	if (!w->full)
		memcpy(w->ram + at, &v, sizeof(v));
}

static void put64(struct info_writer *w, uint64_t at, uint64_t v)
{
	if (!w->full)
		memcpy(w->ram + at, &v, sizeof(v));
}

static uint32_t put_string(struct info_writer *w, const char *s)
{
	size_t len = strlen(s) + 1;
	uint64_t at = take(w, len);

	if (!w->full)
		memcpy(w->ram + at, s, len);
	return (uint32_t)at;
}

/* The PC's map (§3.3 "mmap_*"): RAM below 639 KiB, the reserved hole up to
 * 1 MiB, RAM from 1 MiB to the end. */
static void put_mmap(struct info_writer *w, uint64_t mbi, uint64_t ram_bytes)
{
	uint64_t low = ram_bytes < MB1_LOW_RAM_END ? ram_bytes : MB1_LOW_RAM_END;
	const uint64_t area[3][3] = {
		{0, low, MB1_MMAP_RAM},
		{MB1_LOW_RAM_END, MB1_UPPER_RAM_START - MB1_LOW_RAM_END, MB1_MMAP_RESERVED},
		{MB1_UPPER_RAM_START, ram_bytes - MB1_UPPER_RAM_START, MB1_MMAP_RAM},
	};
	unsigned n = ram_bytes > MB1_UPPER_RAM_START ? 3 : 2;
	uint64_t at = take(w, (uint64_t)n * MB1_MMAP_BYTES);

	for (unsigned i = 0; i < n; i++, at += MB1_MMAP_BYTES) {
		put32(w, at + MB1_MMAP_SIZE, MB1_MMAP_BYTES - 4);
		put64(w, at + MB1_MMAP_BASE, area[i][0]);
		put64(w, at + MB1_MMAP_LENGTH, area[i][1]);
		put32(w, at + MB1_MMAP_TYPE, (uint32_t)area[i][2]);
	}
	put32(w, mbi + MB1_INFO_MMAP_LENGTH, n * MB1_MMAP_BYTES);
	put32(w, mbi + MB1_INFO_MMAP_ADDR, (uint32_t)(at - (uint64_t)n * MB1_MMAP_BYTES));
}

static void put_modules(struct info_writer *w, uint64_t mbi, const struct mb1_info_input *in)
{
	uint64_t list = take(w, (uint64_t)in->nmods * MB1_MOD_BYTES);

	put32(w, mbi + MB1_INFO_MODS_COUNT, in->nmods);
	put32(w, mbi + MB1_INFO_MODS_ADDR, (uint32_t)list);
	for (unsigned i = 0; i < in->nmods; i++) {
		uint64_t e = list + (uint64_t)i * MB1_MOD_BYTES;

		put32(w, e + MB1_MOD_START, (uint32_t)in->mods[i].start);
		put32(w, e + MB1_MOD_END, (uint32_t)in->mods[i].end);
		put32(w, e + MB1_MOD_STRING, put_string(w, in->mods[i].name));
	}
}

uint32_t mb1_build_info(uint8_t *ram, uint64_t ram_size, uint64_t base, uint64_t room,
			const struct mb1_info_input *in, char *err, size_t errlen)
{
	struct info_writer w = {ram, base, base + room, false};
	uint64_t low = in->ram_bytes < MB1_LOW_RAM_END ? in->ram_bytes : MB1_LOW_RAM_END;
	uint64_t mbi;

	if (base > ram_size || room > ram_size - base || base + room > FOUR_GIB ||
	    in->ram_bytes > ram_size) {
		snprintf(err, errlen, "boot information at 0x%llx does not fit in memory_mib",
			 (unsigned long long)base);
		return 0;
	}
	mbi = take(&w, MB1_INFO_BYTES);
	put32(&w, mbi + MB1_INFO_FLAGS,
	      MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP |
		      MB1_INFO_BOOT_LOADER_NAME);
	put32(&w, mbi + MB1_INFO_MEM_LOWER, (uint32_t)(low / 1024));
	put32(&w, mbi + MB1_INFO_MEM_UPPER,
	      in->ram_bytes > MB1_UPPER_RAM_START
		      ? (uint32_t)((in->ram_bytes - MB1_UPPER_RAM_START) / 1024)
		      : 0);
	put_mmap(&w, mbi, in->ram_bytes);
	put_modules(&w, mbi, in);
	put32(&w, mbi + MB1_INFO_CMDLINE_ADDR, put_string(&w, in->cmdline));
	put32(&w, mbi + MB1_INFO_BOOT_LOADER_ADDR, put_string(&w, in->boot_loader_name));
	if (w.full || !mbi) {
		snprintf(err, errlen, "boot information does not fit in its 0x%llx bytes at 0x%llx",
			 (unsigned long long)room, (unsigned long long)base);
		return 0;
	}
	return (uint32_t)mbi;
}
