# guest-shim: corevisor's own test guest, a freestanding ELF loaded as a GRUB
# module and named in manifests as "guest-shim".
GUEST_SRCS := $(wildcard guest-shim/*.c guest-shim/*.S)
GUEST_OBJS := $(patsubst %,$(BUILD)/guest-shim/%.o,$(GUEST_SRCS))
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -Ilib/include -I. -mcmodel=small \
	-mno-red-zone -mgeneral-regs-only -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fcf-protection=none

guests: $(BUILD)/guests/guest-shim.elf

$(BUILD)/guest-shim/%.S.o: %.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(BUILD)/guest-shim/%.c.o: %.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/guest-shim.elf: $(GUEST_OBJS) guest-shim/guest.ld
	@mkdir -p $(@D)
	$(LD) -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T guest-shim/guest.ld -o $@ $(GUEST_OBJS)

# guest-shim32: a 32-bit guest (flat protected mode, paging off) for the entry
# state boot protocols use; named "guest-shim32" in manifests.
guests: $(BUILD)/guests/guest-shim32.elf

$(BUILD)/guest-shim32/entry.o: guest-shim32/entry.S kernel/hypercall.h
	@mkdir -p $(@D)
	$(CC) -m32 -ffreestanding -nostdinc -I. -D__ASSEMBLY__ -c $< -o $@

$(BUILD)/guests/guest-shim32.elf: $(BUILD)/guest-shim32/entry.o guest-shim32/guest32.ld
	@mkdir -p $(@D)
	$(LD) -m elf_i386 -nostdlib -static -z noexecstack -T guest-shim32/guest32.ld -o $@ $<
