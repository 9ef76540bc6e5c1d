/* Multiboot (version 1) guests: the Multiboot Specification 0.6.96, as GRUB
 * legacy boots them. The image is loaded by its header's a.out addresses
 * (flag 16) or else by its ELF program headers; the VM's `modules` follow
 * it page-aligned; the boot information and its strings sit in low memory
 * (GUEST_MULTIBOOT_INFO). vCPU 0 starts in the machine state of §3.2: flat
 * 32-bit protected mode, paging off, EAX = 0x2BADB002, EBX = the boot
 * information's address; the other vCPUs wait for INIT/SIPI. */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "kernel/bootinfo.h"
#include "kernel/elf.h"
#include "kernel/guest_load.h"
#include "kernel/manifest.h"
#include "kernel/vm.h"
#include "vplat/multiboot1.h"
#include "vplat/multiboot1_defs.h"

#define ERR_BYTES 160

static bool multiboot_detect(const void *image, size_t size)
{
	return mb1_detect(image, size);
}

/* The image at its addresses: the a.out kludge, or ELF segments. */
static int load_image(struct vm *vm, const void *image, size_t size, struct mb1_loaded *out,
		      char *err)
{
	uint8_t *ram = phys_to_virt(vm->ram_hpa);
	const char *name = vm->cfg->image;
	struct mb1_header h;
	struct elf_entry e;
	char why[64];

	if (mb1_parse_header(image, size, name, &h, err, ERR_BYTES))
		return -1;
	if (h.has_addresses)
		return mb1_load_aout(image, size, name, &h, ram, vm->ram_bytes, GUEST_IMAGE_MIN,
				     out, err, ERR_BYTES);
	if (elf_load(image, size, ram, vm->ram_bytes, GUEST_IMAGE_MIN, &e, why, sizeof(why))) {
		snprintf(err, ERR_BYTES, "image \"%s\": multiboot image without address fields: %s",
			 name, why);
		return -1;
	}
	if (e.address >= 1ull << 32) {
		snprintf(err, ERR_BYTES, "image \"%s\": multiboot entry above 4 GiB", name);
		return -1;
	}
	*out = (struct mb1_loaded){e.address, e.end};
	return 0;
}

/* The VM's modules copied page-aligned after the image; mods[] says where. */
static int load_modules(struct vm *vm, const struct boot_info *bi, uint64_t after,
			struct mb1_module *mods, char *err)
{
	const struct manifest_vm *cfg = vm->cfg;
	const struct boot_module *src[MANIFEST_MAX_VM_MODULES];
	const char *names[MANIFEST_MAX_VM_MODULES];
	uint64_t sizes[MANIFEST_MAX_VM_MODULES], starts[MANIFEST_MAX_VM_MODULES];
	uint8_t *ram = phys_to_virt(vm->ram_hpa);

	for (uint32_t i = 0; i < cfg->nmodules; i++) {
		src[i] = boot_find_module(bi, cfg->modules[i]); /* manifest_check: it exists */
		names[i] = cfg->modules[i];
		sizes[i] = src[i]->end - src[i]->start;
	}
	if (mb1_place_modules(after, vm->ram_bytes, sizes, names, cfg->nmodules, starts, err,
			      ERR_BYTES))
		return -1;
	for (uint32_t i = 0; i < cfg->nmodules; i++) {
		memcpy(ram + starts[i], phys_to_virt(src[i]->start), sizes[i]);
		mods[i] = (struct mb1_module){names[i], starts[i], starts[i] + sizes[i]};
	}
	return 0;
}

static const char *multiboot_load(struct vm *vm, const struct boot_info *bi, const void *image,
				  size_t size, struct guest_start *start)
{
	static char err[ERR_BYTES];
	struct mb1_module mods[MANIFEST_MAX_VM_MODULES];
	struct mb1_loaded img;
	struct mb1_info_input info = {
		vm->ram_bytes, vm->cfg->cmdline, "corevisor", mods, vm->cfg->nmodules,
	};
	uint32_t mbi;

	if (load_image(vm, image, size, &img, err) || load_modules(vm, bi, img.end, mods, err))
		return err;
	mbi = mb1_build_info(phys_to_virt(vm->ram_hpa), vm->ram_bytes, GUEST_MULTIBOOT_INFO,
			     GUEST_MULTIBOOT_INFO_BYTES, &info, err, sizeof(err));
	if (!mbi)
		return err;
	start->entry = (struct virt_entry_state){.rip = img.entry, .long_mode = false};
	start->regs.rax = MB1_BOOT_EAX;
	start->regs.rbx = mbi;
	start->all_vcpus_start = false;
	return NULL;
}

const struct guest_loader guest_loader_multiboot = {"multiboot", multiboot_detect, multiboot_load};
