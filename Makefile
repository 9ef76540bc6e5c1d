# corevisor build. `make` builds the hypervisor ELF, `make iso` a bootable GRUB
# ISO, `make run` boots the demo in QEMU, `make test` runs every test, `make
# bench` measures. All of them install what they need first (scripts/deps.sh).

BUILD    ?= build
CC       := gcc
LD       := ld
PYTHON   := /usr/bin/python3
MANIFEST ?= tests/integration/manifests/good/demo.json
ISO      ?= $(BUILD)/corevisor.iso

# --- the hypervisor: freestanding x86_64 ELF (design.md, "language, toolchain")
KCFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -MMD -MP \
	   -ffreestanding -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	   -Ilib/include -I. -I$(BUILD)/include \
	   -mno-red-zone -mcmodel=kernel -mgeneral-regs-only -fno-pic -fno-pie \
	   -fno-stack-protector -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	   -fno-builtin -fcf-protection=none
KASFLAGS := $(filter-out -std=gnu11,$(KCFLAGS)) -D__ASSEMBLY__
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker.ld

KSRCS := $(sort $(shell find arch kernel drivers lib $(wildcard sched vio vplat) -name '*.c' -o -name '*.S'))
KOBJS := $(patsubst %,$(BUILD)/k/%.o,$(KSRCS))

# --- host-side unit tests (cmocka): the pure-logic sources build hosted too
HOST_SRCS := $(wildcard sched/*.c vio/*.c vplat/*.c kernel/pmm.c kernel/manifest*.c kernel/elf.c kernel/vlapic.c kernel/timerq.c kernel/bootinfo.c kernel/console_cfg.c drivers/acpi*.c drivers/pci_host.c drivers/ahci.c arch/x86_64/insn_decode.c arch/x86_64/guest_walk.c arch/x86_64/vtd/dmar.c arch/x86_64/vtd/vtd_cap.c arch/x86_64/vtd/vtd_pt.c)
HCFLAGS   := -std=gnu11 -O1 -g -Wall -Wextra -Werror -I. -I$(BUILD)/include -DHOSTED \
	     -fsanitize=address,undefined -fno-omit-frame-pointer
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

.PHONY: all iso run test lint unit unit-bins tsan bench bench-bins deps clean guests linux-guest
all: $(BUILD)/corevisor.elf guests

deps:
	@scripts/deps.sh

$(BUILD)/include/jsmn.h: /usr/include/jsmn.h
	@mkdir -p $(@D)
	cp $< $@

# The VM's DSDT (vplat/dsdt.asl), compiled by Debian's iasl (acpica-tools) with warnings as errors,
# then made a C array for vplat/acpi_dsdt.c: the hypervisor, the unit tests and the fuzzers all get it.
$(BUILD)/vplat/dsdt.aml: vplat/dsdt.asl
	@mkdir -p $(@D)
	iasl -vs -we -p $(basename $@) $< >$(@D)/iasl.log || { cat $(@D)/iasl.log; false; }

$(BUILD)/include/generated/dsdt_aml.h: $(BUILD)/vplat/dsdt.aml
	@mkdir -p $(@D)
	xxd -i -n vacpi_dsdt_aml $< | sed 's/^unsigned/static const unsigned/' >$@.tmp
	mv $@.tmp $@

# Headers made at build time, which any pure-logic source may include.
GEN_HEADERS := $(BUILD)/include/jsmn.h $(BUILD)/include/generated/dsdt_aml.h

$(BUILD)/k/%.c.o: %.c $(GEN_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/k/%.S.o: %.S
	@mkdir -p $(@D)
	$(CC) $(KASFLAGS) -c $< -o $@

$(BUILD)/corevisor.elf: $(KOBJS) linker.ld
	$(LD) $(KLDFLAGS) -o $@ $(KOBJS)
	@size $@

include guest-shim/guest.mk
include guest-mb/guest.mk

# The Linux guest bundle (docs/linux-guests.md): Debian's stock kernel and an
# initramfs of busybox-static, that kernel's virtio modules and guest-linux/init,
# fetched with apt-get download into build/linux (tools/linux-guest).
linux-guest: $(BUILD)/linux/initrd.img
$(BUILD)/linux/initrd.img: tools/linux-guest guest-linux/init
	$(PYTHON) tools/linux-guest

# A manifest that names the Linux guest bundle needs it fetched first.
LINUX_FOR_MANIFEST = $(if $(shell grep -ls '"linux-initrd"' $(MANIFEST)),linux-guest)
iso: $(ISO)
$(ISO): $(BUILD)/corevisor.elf guests $(MANIFEST) tools/mkiso $(LINUX_FOR_MANIFEST)
	tools/mkiso --manifest $(MANIFEST) --out $@

# `make run`: QEMU's COM1 goes to $(RUN_LOG), which tools/cvtop follows (q quits both);
# `make run RAW=1`: the raw console on this terminal, as the hypervisor prints it (Ctrl-A X quits).
RUN_LOG ?= $(BUILD)/run/serial.log
run: deps
	$(MAKE) iso
ifeq ($(RAW),1)
	tools/run-qemu --smp 4 $(ISO)
else
	@echo "serial log: $(RUN_LOG)  (cvtop: q quits; make run RAW=1 for the raw console)"
	tools/cvtop $(RUN_LOG) -- tools/run-qemu --smp 4 $(ISO)
endif

# `make debug`: the demo ISO in QEMU, stopped at the first instruction with its gdb stub on
# localhost:1234; `gdb -x tools/gdbinit` in another terminal loads build/corevisor.elf and attaches.
.PHONY: debug
debug: deps
	$(MAKE) iso
	tools/debug --smp 4 $(ISO)

$(BUILD)/unit/%: tests/unit/%.c $(HOST_SRCS) $(GEN_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(HCFLAGS) -o $@ $< $(HOST_SRCS) -lcmocka

unit-bins: $(UNIT_BINS)
unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do echo "== $$t"; $$t || exit 1; done

# The scheduler's split by class under ThreadSanitizer: test_sched's threaded test runs the two
# classes' calls at once under two locks, as kernel/core_loop.c does (sched.h, "concurrency").
$(BUILD)/tsan/test_sched: tests/unit/test_sched.c tests/unit/sched_sim.h $(wildcard sched/*.c sched/*.h)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -I. -DHOSTED -fsanitize=thread -o $@ $< \
		$(wildcard sched/*.c) -lcmocka
tsan: $(BUILD)/tsan/test_sched
	$(BUILD)/tsan/test_sched

CHECKED_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
lint:
	clang-format --dry-run --Werror $(CHECKED_SRCS)
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
		--inline-suppr --suppress=missingIncludeSystem -I. -Ilib/include $(CHECKED_SRCS)

test: deps
	$(PYTHON) tools/run-tests

bench: deps
	$(MAKE) all
	$(PYTHON) tools/bench

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -path $(BUILD)/linux -prune -o -name '*.d' -type f -print 2>/dev/null)

# --- host benchmarks (tests/bench/*.c): pure-logic code measured on the host
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
$(BUILD)/bench/%: tests/bench/%.c $(HOST_SRCS) $(GEN_HEADERS)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. -I$(BUILD)/include -DHOSTED -o $@ $< $(HOST_SRCS)
bench-bins: $(BENCH_BINS)

# --- fuzzing (libFuzzer, Debian's clang): tests/fuzz/fuzz_*.c, each against the pure sources.
# `make fuzz` runs each for FUZZ_TIME seconds and grows its corpus in tests/fuzz/corpus/NAME;
# `make test` replays every corpus and every saved crash under the sanitizers.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_TIME ?= 60
$(BUILD)/fuzz/%: tests/fuzz/%.c $(HOST_SRCS) $(GEN_HEADERS)
	@mkdir -p $(@D)
	clang -std=gnu11 -O1 -g -I. -I$(BUILD)/include -DHOSTED \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $< $(HOST_SRCS)
fuzz-bins: $(FUZZ_BINS)
fuzz: deps
	$(MAKE) fuzz-bins
	$(PYTHON) tools/fuzz --time $(FUZZ_TIME)
.PHONY: fuzz fuzz-bins
