/* Guest images and the boot protocols corevisor speaks to them. The kind of
 * an image is detected from its bytes, never declared in the manifest:
 * a Linux bzImage by its setup header (kernel/load_linux.c), a multiboot
 * (version 1) image by its header in the first 8 KiB (kernel/load_multiboot.c),
 * else an ELF executable (guest-shim and guest-shim32). */
#ifndef KERNEL_GUEST_LOAD_H
#define KERNEL_GUEST_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "arch/x86_64/virt.h"

struct vm;
struct boot_info;

/* Where and how the VM's first vCPU starts. */
struct guest_start {
	const char *kind;	       /* "elf", "linux", "multiboot": for the log */
	struct virt_entry_state entry; /* vCPU 0's mode, RIP, CR3 (RSP: see below) */
	struct virt_regs regs;	       /* vCPU 0's general registers */
	bool stack_at_top;	       /* RSP below the top of RAM, per vCPU (ELF) */
	/* Every vCPU starts at the entry, RDX = its index (guest-shim's start);
	 * otherwise vCPU 0 alone does and the others wait for INIT/SIPI. */
	bool all_vcpus_start;
	bool acpi_tables; /* the loader wrote ACPI tables: they announce a PCI bus */
};

struct guest_loader {
	const char *kind;
	bool (*detect)(const void *image, size_t size);
	/* Loads the image (RAM is zeroed) and fills *start; NULL, or the reason
	 * the VM cannot start, naming the manifest field it comes from. */
	const char *(*load)(struct vm *vm, const struct boot_info *bi, const void *image,
			    size_t size, struct guest_start *start);
};

extern const struct guest_loader guest_loader_linux;
extern const struct guest_loader guest_loader_multiboot;
extern const struct guest_loader guest_loader_elf;

/* Detects the kind of vm->cfg->image and loads it; NULL or the reason. */
const char *guest_load(struct vm *vm, const struct boot_info *bi, struct guest_start *start);

/* A module (`initrd`, multiboot `modules`) copied into guest RAM. */
struct guest_module {
	uint64_t gpa, bytes;
	const char *err; /* why it could not be, naming `field` */
};

/* Copies GRUB module `name` to guest-physical `gpa`: 0, or -1 with out->err
 * when it does not fit in the VM's RAM. */
int guest_load_module(struct vm *vm, const struct boot_info *bi, const char *name,
		      const char *field, uint64_t gpa, struct guest_module *out);
uint64_t align_up(uint64_t x, uint64_t a);

/* Guest-physical layout shared by the loaders. */
#define GUEST_PAGE_TABLES 0x10000 /* PML4, PDPT, four PDs: six pages */
#define GUEST_MAPPED_GIB  4
#define GUEST_MAPPED_TOP  ((uint64_t)GUEST_MAPPED_GIB << 30)
#define GUEST_CMDLINE	  0x16000
#define GUEST_IMAGE_MIN	  0x100000 /* images load at 1 MiB or above */
/* Multiboot's boot information and its strings: low memory below the
 * reserved area at 0x9fc00, clear of the page tables and the command line. */
#define GUEST_MULTIBOOT_INFO	   0x20000
#define GUEST_MULTIBOOT_INFO_BYTES 0x2000

/* Page tables at GUEST_PAGE_TABLES identity-mapping the first 4 GiB with
 * 2 MiB pages (the local APIC page included). */
void guest_build_identity_map(uint8_t *ram);

#endif
