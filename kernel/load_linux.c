/* Linux guests: the 64-bit x86 boot protocol (Documentation/arch/x86/boot.rst).
 *
 * Guest-physical layout: the zero page at LINUX_ZERO_PAGE, the command line
 * at LINUX_CMDLINE, the boot stack below the zero page, the identity map of
 * guest_load.h for the 64-bit entry, the kernel at its preferred address
 * (16 MiB for Debian's), the initrd at the top of RAM (below the kernel's
 * initrd_addr_max), the ACPI tables in the BIOS area (vplat/acpi_build.h).
 * vCPU 0 starts at the 64-bit entry (load address + 0x200) with RSI = the
 * zero page; the others wait for INIT/SIPI, as on a PC. */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "kernel/bootinfo.h"
#include "kernel/guest_load.h"
#include "kernel/vdev.h"
#include "kernel/vm.h"
#include "kernel/vplat_devices.h"
#include "vplat/acpi_build.h"
#include "vplat/ioapic_regs.h"
#include "vplat/linux_boot.h"
#include "vplat/memmap.h"

#define LINUX_ZERO_PAGE	    0x7000
#define LINUX_CMDLINE	    0x20000
#define LINUX_CMDLINE_BYTES 0x800 /* what Debian's kernel takes (cmdline_size 2047) */

/* The static DSDT describes the windows of the virtual PCI bus. */
_Static_assert(VACPI_ECAM_BASE == VDEV_ECAM_BASE && VACPI_ECAM_SIZE == VDEV_ECAM_SIZE,
	       "the DSDT's ECAM is the virtual bus's");
_Static_assert(VACPI_PCI_MMIO_BASE == VDEV_HOLE_BASE && VACPI_PCI_MMIO_SIZE == VDEV_HOLE_SIZE,
	       "the DSDT's memory window is where BARs go");

static bool detect(const void *image, size_t size)
{
	return linux_detect(image, size);
}

/* The kernel at its preferred address, which Debian's relocatable kernels
 * also accept; it needs init_size bytes from there while it decompresses. */
static const char *place_kernel(struct vm *vm, const void *image, const struct linux_image *li,
				uint64_t *gpa)
{
	static char err[128];

	*gpa = li->pref_address;
	if (*gpa < GUEST_IMAGE_MIN || *gpa > vm->ram_bytes ||
	    li->init_size > vm->ram_bytes - *gpa) {
		snprintf(err, sizeof(err),
			 "memory_mib: the Linux image \"%s\" needs %u MiB from 0x%llx",
			 vm->cfg->image, li->init_size >> 20, (unsigned long long)*gpa);
		return err;
	}
	memcpy((uint8_t *)phys_to_virt(vm->ram_hpa) + *gpa,
	       (const uint8_t *)image + li->setup_bytes, li->kernel_bytes);
	return NULL;
}

/* The initrd as high as RAM and initrd_addr_max allow, above the kernel. */
static const char *place_initrd(struct vm *vm, const struct boot_info *bi,
				const struct linux_image *li, uint64_t kernel_end,
				struct guest_module *initrd)
{
	static char err[128];
	const struct boot_module *mod = boot_find_module(bi, vm->cfg->initrd);
	uint64_t bytes = mod->end - mod->start;
	uint64_t top = vm->ram_bytes < (uint64_t)li->initrd_addr_max + 1
			       ? vm->ram_bytes
			       : li->initrd_addr_max + 1ull;

	if (bytes > top || ((top - bytes) & ~(PAGE_SIZE - 1)) < kernel_end) {
		snprintf(err, sizeof(err),
			 "initrd \"%s\" (%llu KiB) does not fit in memory_mib above the kernel",
			 vm->cfg->initrd, (unsigned long long)(bytes >> 10));
		return err;
	}
	if (guest_load_module(vm, bi, vm->cfg->initrd, "initrd", (top - bytes) & ~(PAGE_SIZE - 1),
			      initrd))
		return initrd->err;
	return NULL;
}

/* The VM's ACPI tables in the BIOS area: every vCPU (the turbo one too),
 * the I/O APIC, the PCI bus, COM1, the soft-off port. */
static const char *write_acpi(struct vm *vm)
{
	uint32_t ncpus = vm->cfg->vcpus + vm->cfg->turbo_vcpu;
	struct vacpi_config cfg = {
		.ncpus = ncpus,
		.ioapic_base = IOAPIC_DEFAULT_BASE,
		.ioapic_id = vacpi_ioapic_id(ncpus),
		.ecam_base = VACPI_ECAM_BASE,
		.pci_mmio_base = VACPI_PCI_MMIO_BASE,
		.pci_mmio_size = VACPI_PCI_MMIO_SIZE,
		.sleep_port = VPLAT_SLEEP_PORT,
	};
	uint8_t *ram = phys_to_virt(vm->ram_hpa);

	if (!vacpi_build(ram + VACPI_GPA, VACPI_SIZE, VACPI_GPA, &cfg))
		return "its vCPUs do not fit in the ACPI tables";
	return NULL;
}

/* The manifest's command line, and which CPU is the turbo vCPU: Linux
 * numbers CPUs in MADT order, so the turbo vCPU (the VM's last) is CPU
 * `vcpus`; guest-linux/init steers the device interrupts there. */
static void write_cmdline(const struct vm *vm, char *dst)
{
	if (vm->cfg->turbo_vcpu)
		snprintf(dst, LINUX_CMDLINE_BYTES, "%s corevisor.turbo_cpu=%u", vm->cfg->cmdline,
			 vm->cfg->vcpus);
	else
		snprintf(dst, LINUX_CMDLINE_BYTES, "%s", vm->cfg->cmdline);
}

static const char *load(struct vm *vm, const struct boot_info *bi, const void *image, size_t size,
			struct guest_start *start)
{
	static char err[128];
	uint8_t *ram = phys_to_virt(vm->ram_hpa);
	struct guest_module initrd = {0};
	struct linux_image li;
	struct memmap map;
	uint64_t kernel;
	const char *why;
	char reason[80];

	if (linux_parse(image, size, &li, reason, sizeof(reason))) {
		snprintf(err, sizeof(err), "image \"%s\": %s", vm->cfg->image, reason);
		return err;
	}
	why = place_kernel(vm, image, &li, &kernel);
	if (!why && vm->cfg->initrd[0])
		why = place_initrd(vm, bi, &li, kernel + li.init_size, &initrd);
	if (!why)
		why = write_acpi(vm);
	if (why)
		return why;
	write_cmdline(vm, (char *)ram + LINUX_CMDLINE);
	memmap_build(&map, vm->ram_bytes, VDEV_ECAM_BASE, VDEV_ECAM_SIZE);
	linux_build_zero_page(ram + LINUX_ZERO_PAGE, image, &li,
			      &(struct linux_boot_params){.cmdline_gpa = LINUX_CMDLINE,
							  .initrd_gpa = initrd.gpa,
							  .initrd_bytes = initrd.bytes,
							  .rsdp_gpa = VACPI_GPA,
							  .memmap = &map});
	guest_build_identity_map(ram);
	start->entry = (struct virt_entry_state){.rip = kernel + LINUX_ENTRY64_OFFSET,
						 .rsp = LINUX_ZERO_PAGE,
						 .cr3 = GUEST_PAGE_TABLES,
						 .long_mode = true};
	start->regs.rsi = LINUX_ZERO_PAGE;
	start->acpi_tables = true;
	return NULL;
}

const struct guest_loader guest_loader_linux = {"linux", detect, load};
