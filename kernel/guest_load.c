/* Detecting a guest image's kind and loading it (kernel/guest_load.h). */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "kernel/bootinfo.h"
#include "kernel/elf.h"
#include "kernel/guest_load.h"
#include "kernel/mem.h"
#include "kernel/vm.h"

#define LARGE_PAGE 0x200000ull
#define PTE_P_W	   0x003ull
#define PTE_LARGE  0x083ull

void guest_build_identity_map(uint8_t *ram)
{
	uint64_t *pml4 = (uint64_t *)(ram + GUEST_PAGE_TABLES);
	uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;

	pml4[0] = (GUEST_PAGE_TABLES + 0x1000) | PTE_P_W;
	for (uint64_t g = 0; g < GUEST_MAPPED_GIB; g++)
		pdpt[g] = (GUEST_PAGE_TABLES + 0x2000 + g * 0x1000) | PTE_P_W;
	for (uint64_t i = 0; i < 512 * GUEST_MAPPED_GIB; i++)
		pd[i] = (i * LARGE_PAGE) | PTE_LARGE;
}

/* The first loader whose detect() accepts the image wins: a multiboot image
 * is often an ELF file too, and its header says how it wants to start. */
static const struct guest_loader *const loaders[] = {
	&guest_loader_linux,
	&guest_loader_multiboot,
	&guest_loader_elf,
};

const char *guest_load(struct vm *vm, const struct boot_info *bi, struct guest_start *start)
{
	static char err[160];
	const struct boot_module *mod = boot_find_module(bi, vm->cfg->image);
	const void *image = phys_to_virt(mod->start);
	size_t size = mod->end - mod->start;

	memset(phys_to_virt(vm->ram_hpa), 0, vm->ram_bytes);
	*start = (struct guest_start){0};
	for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
		if (!loaders[i]->detect(image, size))
			continue;
		start->kind = loaders[i]->kind;
		if (vm->cfg->nmodules && loaders[i] != &guest_loader_multiboot) {
			snprintf(err, sizeof(err),
				 "vms[%u].modules: image \"%s\" is %s, not a multiboot image, and "
				 "takes no modules",
				 vm->cfg->index, vm->cfg->image,
				 loaders[i] == &guest_loader_elf ? "an ELF executable"
								 : "a bzImage");
			return err;
		}
		return loaders[i]->load(vm, bi, image, size, start);
	}
	return "image: not a bzImage, a multiboot image or an ELF executable";
}

uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

int guest_load_module(struct vm *vm, const struct boot_info *bi, const char *name,
		      const char *field, uint64_t gpa, struct guest_module *out)
{
	static char err[128];
	const struct boot_module *mod = boot_find_module(bi, name);
	uint64_t bytes = mod->end - mod->start;

	out->err = err;
	if (gpa > vm->ram_bytes || bytes > vm->ram_bytes - gpa) {
		snprintf(err, sizeof(err),
			 "%s \"%s\" (%llu KiB) does not fit in memory_mib at 0x%llx", field, name,
			 (unsigned long long)(bytes >> 10), (unsigned long long)gpa);
		return -1;
	}
	memcpy((uint8_t *)phys_to_virt(vm->ram_hpa) + gpa, phys_to_virt(mod->start), bytes);
	out->gpa = gpa;
	out->bytes = bytes;
	return 0;
}

/* guest-shim's start (docs/architecture.md): the ELF segments at their
 * physical addresses; every vCPU at the entry, in 64-bit mode through the
 * identity map or in flat 32-bit protected mode; RDI = the command line's
 * address, RSI = the RAM size, RDX = the vCPU's index; the `initrd` module
 * page-aligned after the last segment, R8 = its address, R9 = its size. */
static bool elf_detect(const void *image, size_t size)
{
	return size >= 4 && !memcmp(image, "\177ELF", 4);
}

static const char *elf_load_guest(struct vm *vm, const struct boot_info *bi, const void *image,
				  size_t size, struct guest_start *start)
{
	static char err[96];
	uint8_t *ram = phys_to_virt(vm->ram_hpa);
	struct guest_module initrd = {0};
	struct elf_entry entry;
	char why[64];

	if (elf_load(image, size, ram, vm->ram_bytes, GUEST_IMAGE_MIN, &entry, why, sizeof(why))) {
		snprintf(err, sizeof(err), "image \"%s\": %s", vm->cfg->image, why);
		return err;
	}
	if (vm->cfg->initrd[0] && guest_load_module(vm, bi, vm->cfg->initrd, "initrd",
						    align_up(entry.end, PAGE_SIZE), &initrd))
		return initrd.err;
	guest_build_identity_map(ram);
	memcpy(ram + GUEST_CMDLINE, vm->cfg->cmdline, strlen(vm->cfg->cmdline) + 1);
	start->entry = (struct virt_entry_state){
		.rip = entry.address, .cr3 = GUEST_PAGE_TABLES, .long_mode = entry.bits == 64};
	start->regs.rdi = GUEST_CMDLINE;
	start->regs.rsi = vm->ram_bytes;
	start->regs.r8 = initrd.gpa;
	start->regs.r9 = initrd.bytes;
	start->stack_at_top = true;
	start->all_vcpus_start = true;
	return NULL;
}

const struct guest_loader guest_loader_elf = {"elf", elf_detect, elf_load_guest};
