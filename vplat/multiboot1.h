/* Multiboot version 1 (Multiboot Specification 0.6.96) as a boot loader
 * sees it: the OS image's header, the a.out-kludge load, where modules go,
 * and the boot information structure built in guest memory. Pure logic:
 * guest RAM is a buffer (ram, ram_size) indexed by guest-physical address,
 * and every write into it is checked against its size. Errors name the
 * image or module and the problem, for a VM's @vm_stopped reason. */
#ifndef VPLAT_MULTIBOOT1_H
#define VPLAT_MULTIBOOT1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The header as found in the image (§3.1). */
struct mb1_header {
	uint32_t offset; /* in the file */
	uint32_t flags;
	bool has_addresses; /* flag 16: the a.out kludge, else the image is ELF */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* Where the image went and where it starts. */
struct mb1_loaded {
	uint64_t entry;
	uint64_t end; /* first byte past its bss: modules go after it */
};

struct mb1_module {
	const char *name; /* the string the OS gets with it */
	uint64_t start, end;
};

/* What the boot information says beside the modules. */
struct mb1_info_input {
	uint64_t ram_bytes; /* RAM from 0, one piece */
	const char *cmdline;
	const char *boot_loader_name;
	const struct mb1_module *mods;
	unsigned nmods;
};

/* Whether the magic appears 4-byte aligned in the first 8192 bytes: the
 * image asks to be booted this way, right or wrong (the loader then says
 * what is wrong with the header). */
bool mb1_detect(const void *image, size_t size);

/* The header's fields, checked: it lies in the file and in its first 8192
 * bytes, the checksum holds, no requirement (bits 0-15) this loader does not
 * meet, and the a.out addresses are consistent. 0, or -1 with the reason
 * in err, "image \"<name>\": ...". */
int mb1_parse_header(const void *image, size_t size, const char *name, struct mb1_header *h,
		     char *err, size_t errlen);

/* The a.out kludge (flag 16): the file from the offset that header_addr
 * implies, load_addr..load_end_addr (0: to the end of the file), then zeroes
 * up to bss_end_addr (0: none); the entry must lie in what was loaded.
 * Everything lands in [min_gpa, ram_size). 0, or -1 with the reason. */
int mb1_load_aout(const void *image, size_t size, const char *name, const struct mb1_header *h,
		  uint8_t *ram, uint64_t ram_size, uint64_t min_gpa, struct mb1_loaded *out,
		  char *err, size_t errlen);

/* Module i of sizes[] at starts[i]: page-aligned (the GRUB way, whatever
 * flag 0 says), one after another from `from`, each within ram_size. 0, or
 * -1 with "module \"<name>\" does not fit in memory_mib". */
int mb1_place_modules(uint64_t from, uint64_t ram_size, const uint64_t *sizes,
		      const char *const *names, unsigned n, uint64_t *starts, char *err,
		      size_t errlen);

/* Builds the boot information structure and what it points at (memory
 * map, module list, strings) in [base, base + room) of guest RAM, which
 * must lie below the 4 GiB a 32-bit pointer reaches. Returns its address
 * (for EBX), or 0 with the reason in err. */
uint32_t mb1_build_info(uint8_t *ram, uint64_t ram_size, uint64_t base, uint64_t room,
			const struct mb1_info_input *in, char *err, size_t errlen);

#endif
