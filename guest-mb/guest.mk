# guest-mb: a multiboot (version 1) guest that checks its boot information,
# built twice: guest-mb.elf with the a.out-kludge address fields (the loader
# places it by them) and guest-mb-elf.elf without (loaded as ELF). Both are
# ELF32 i386 files in build/guests/, so tools/isobuild.py puts them in the ISO.
GUEST_MB_CFLAGS := -std=gnu11 -m32 -O2 -Wall -Wextra -Werror -ffreestanding -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -I. -fno-pic -fno-pie \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none

guests: $(BUILD)/guests/guest-mb.elf $(BUILD)/guests/guest-mb-elf.elf

$(BUILD)/guest-mb/main.o: guest-mb/main.c vplat/multiboot1_defs.h
	@mkdir -p $(@D)
	$(CC) $(GUEST_MB_CFLAGS) -c $< -o $@

$(BUILD)/guest-mb/entry-aout.o: guest-mb/entry.S kernel/hypercall.h vplat/multiboot1_defs.h
	@mkdir -p $(@D)
	$(CC) -m32 -ffreestanding -nostdinc -I. -D__ASSEMBLY__ -c $< -o $@

$(BUILD)/guest-mb/entry-plain.o: guest-mb/entry.S kernel/hypercall.h vplat/multiboot1_defs.h
	@mkdir -p $(@D)
	$(CC) -m32 -ffreestanding -nostdinc -I. -D__ASSEMBLY__ -DMB_PLAIN -c $< -o $@

$(BUILD)/guests/guest-mb.elf: $(BUILD)/guest-mb/entry-aout.o $(BUILD)/guest-mb/main.o guest-mb/guest-mb.ld
	@mkdir -p $(@D)
	$(LD) -m elf_i386 -nostdlib -static -z noexecstack --no-warn-rwx-segments -z max-page-size=0x1000 -T guest-mb/guest-mb.ld -o $@ $(filter %.o,$^)

$(BUILD)/guests/guest-mb-elf.elf: $(BUILD)/guest-mb/entry-plain.o $(BUILD)/guest-mb/main.o guest-mb/guest-mb.ld
	@mkdir -p $(@D)
	$(LD) -m elf_i386 -nostdlib -static -z noexecstack --no-warn-rwx-segments -z max-page-size=0x1000 -T guest-mb/guest-mb.ld -o $@ $(filter %.o,$^)
