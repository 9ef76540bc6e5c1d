/* guest-mb's checks: every field of the multiboot boot information (§3.3)
 * against what its command line says the loader was given, and the machine
 * state of §3.2. Each check prints "mb1 check NAME ok" (or "... FAIL why")
 * on the debug port 0xe9; then "mb1 result pass N/M" and the VM powers off.
 *
 * Command line: "mem_mib=M modN=NAME:SIZE ..." (N from 0, in module order):
 * the VM's RAM and the GRUB modules the manifest gives it with their sizes.
 * It is echoed as "mb1 cmdline TEXT" for the test to compare. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vplat/multiboot1_defs.h"

#define DEBUG_PORT   0xe9
#define MAX_MODS     8
#define CR0_PE	     (1u << 0)
#define CR0_PG	     (1u << 31)
#define EFLAGS_IF    (1u << 9)
#define EFLAGS_VM    (1u << 17)
#define WANT_FLAGS   (MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP)
#define NAME_FLAG    MB1_INFO_BOOT_LOADER_NAME
#define LOW_RESERVED (MB1_UPPER_RAM_START - MB1_LOW_RAM_END)

extern uint32_t entry_eax, entry_ebx, entry_cr0, entry_eflags;
void guest_poweroff(void) __attribute__((noreturn));
void mb_main(void) __attribute__((noreturn));

static unsigned checks, passed;

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void puts_port(const char *s)
{
	while (*s)
		outb(DEBUG_PORT, (uint8_t)*s++);
}

static void put_uint(uint32_t v)
{
	char buf[11];
	int i = sizeof(buf) - 1;

	buf[i] = 0;
	do
		buf[--i] = (char)('0' + v % 10);
	while (v /= 10);
	puts_port(buf + i);
}

/* One check's line; `got` is printed when it failed. */
static void check(const char *name, bool ok, uint32_t got)
{
	checks++;
	passed += ok;
	puts_port("mb1 check ");
	puts_port(name);
	if (ok) {
		puts_port(" ok\n");
		return;
	}
	puts_port(" FAIL got ");
	put_uint(got);
	puts_port("\n");
}

static uint32_t rd32(uint32_t addr)
{
	return *(volatile const uint32_t *)(uintptr_t)addr;
}

static uint64_t rd64(uint32_t addr)
{
	return rd32(addr) | (uint64_t)rd32(addr + 4) << 32;
}

static const char *str(uint32_t addr)
{
	return (const char *)(uintptr_t)addr;
}

static bool str_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* The value of "key=" on the command line (up to the next space), or NULL. */
static const char *arg(const char *cmdline, const char *key, size_t *len)
{
	size_t klen = str_len(key);

	for (const char *p = cmdline; *p; p++) {
		if ((p == cmdline || p[-1] == ' ') && str_eq(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;

			for (*len = 0; v[*len] && v[*len] != ' '; (*len)++)
				;
			return v;
		}
	}
	return NULL;
}

static uint32_t parse_uint(const char *s, size_t len)
{
	uint32_t v = 0;

	for (size_t i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (uint32_t)(s[i] - '0');
	return v;
}

/* The memory map, entry after entry from 0: contiguous up to the end of
 * RAM, and the RAM in it is all RAM but the reserved 639 KiB-1 MiB hole. */
static bool mmap_covers_ram(uint32_t mbi, uint64_t ram)
{
	uint32_t at = rd32(mbi + MB1_INFO_MMAP_ADDR);
	uint32_t end = at + rd32(mbi + MB1_INFO_MMAP_LENGTH);
	uint64_t next = 0, usable = 0;

	for (; at < end; at += rd32(at + MB1_MMAP_SIZE) + 4) {
		if (rd64(at + MB1_MMAP_BASE) != next)
			return false;
		next += rd64(at + MB1_MMAP_LENGTH);
		if (rd32(at + MB1_MMAP_TYPE) == MB1_MMAP_RAM)
			usable += rd64(at + MB1_MMAP_LENGTH);
	}
	return next == ram && usable == ram - LOW_RESERVED;
}

/* Module i: its name and size as the command line says, page-aligned, an
 * ELF file's bytes. */
static bool module_ok(uint32_t entry, const char *want, size_t want_len)
{
	uint32_t start = rd32(entry + MB1_MOD_START), end = rd32(entry + MB1_MOD_END);
	const char *name = str(rd32(entry + MB1_MOD_STRING));
	size_t name_len = 0;

	while (name_len < want_len && want[name_len] != ':')
		name_len++;
	if (name_len == want_len || str_len(name) != name_len || !str_eq(name, want, name_len))
		return false;
	return start % MB1_PAGE_BYTES == 0 &&
	       end - start == parse_uint(want + name_len + 1, want_len - name_len - 1) &&
	       str_eq(str(start), "\177ELF", 4);
}

static void check_modules(uint32_t mbi, const char *cmdline)
{
	static const char *const names[MAX_MODS] = {"mod0", "mod1", "mod2", "mod3",
						    "mod4", "mod5", "mod6", "mod7"};
	uint32_t count = rd32(mbi + MB1_INFO_MODS_COUNT), want = 0;
	size_t len;

	while (want < MAX_MODS && arg(cmdline, names[want], &len))
		want++;
	check("mods_count", count == want, count);
	for (uint32_t i = 0; i < want && i < count; i++) {
		const char *v = arg(cmdline, names[i], &len);

		check(names[i],
		      module_ok(rd32(mbi + MB1_INFO_MODS_ADDR) + i * MB1_MOD_BYTES, v, len), i);
	}
}

void mb_main(void)
{
	uint32_t mbi = entry_ebx, flags = rd32(mbi + MB1_INFO_FLAGS);
	const char *cmdline = str(rd32(mbi + MB1_INFO_CMDLINE_ADDR));
	uint32_t mem_mib = 0;
	size_t len;
	const char *v = arg(cmdline, "mem_mib", &len);

	if (v)
		mem_mib = parse_uint(v, len);
	puts_port("mb1 cmdline ");
	puts_port(cmdline);
	puts_port("\n");
	check("magic", entry_eax == MB1_BOOT_EAX, entry_eax);
	check("flags", flags == (WANT_FLAGS | NAME_FLAG), flags);
	check("cpu_state",
	      (entry_cr0 & (CR0_PE | CR0_PG)) == CR0_PE &&
		      !(entry_eflags & (EFLAGS_IF | EFLAGS_VM)),
	      entry_cr0);
	check("mem_lower", rd32(mbi + MB1_INFO_MEM_LOWER) == 639, rd32(mbi + MB1_INFO_MEM_LOWER));
	check("mem_upper", rd32(mbi + MB1_INFO_MEM_UPPER) == mem_mib * 1024 - 1024,
	      rd32(mbi + MB1_INFO_MEM_UPPER));
	check("mmap", mmap_covers_ram(mbi, (uint64_t)mem_mib << 20),
	      rd32(mbi + MB1_INFO_MMAP_LENGTH));
	check_modules(mbi, cmdline);
	check("boot_loader_name",
	      str_eq(str(rd32(mbi + MB1_INFO_BOOT_LOADER_ADDR)), "corevisor", sizeof("corevisor")),
	      0);
	puts_port("mb1 result pass ");
	put_uint(passed);
	puts_port("/");
	put_uint(checks);
	puts_port("\n");
	guest_poweroff();
}
