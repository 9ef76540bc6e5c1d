"""Multiboot (version 1) guests on both vendors' virtualization (QEMU/SVM, Bochs/VT-x): guest-mb
checks every field of the boot information it is handed (kernel/load_multiboot.c,
vplat/multiboot1.c) and says so on the debug port, one `mb1 check NAME ok` line per check and a
`mb1 result pass N/N`. It runs twice in one manifest: guest-mb (placed by the a.out-kludge
address fields of its header) with two modules, and guest-mb-elf (no address fields: loaded by
its ELF program headers) with one. Beside them, VMs whose image or modules are wrong are stopped
with a @vm_stopped naming the problem while the others run: a header with a bad checksum, modules
that do not fit the VM's RAM, and modules given to an ELF image.

The manifest is written when the boot starts (after `make all`): the guests' command lines carry
the module sizes of this build, and the bad-checksum image is guest-mb.elf with its checksum
changed."""
import dataclasses
import json
import os
import struct

from conftest import ROOT, Boot

import emu
import isobuild

GUESTS = os.path.join(ROOT, "build", "guests")
OUT = os.path.join(ROOT, "build", "multiboot")
MAGIC = 0x1BADB002
# the checks guest-mb/main.c makes: magic, flags, cpu_state, mem_lower, mem_upper, mmap,
# mods_count, one per module, boot_loader_name
FIXED_CHECKS = ["magic", "flags", "cpu_state", "mem_lower", "mem_upper", "mmap", "mods_count"]
GOOD = {  # VM: (image, memory_mib, modules)
    "mb-aout": ("guest-mb", 8, ["guest-shim", "guest-shim32"]),
    "mb-elf": ("guest-mb-elf", 6, ["guest-shim32"]),
}
BAD = {  # VM: (image, memory_mib, modules, the @vm_stopped reason)
    "mb-badsum": ("mb-badsum", 4, [], 'image "mb-badsum": multiboot header checksum is wrong'),
    "mb-toobig": ("guest-mb", 2, ["guest-shim"] * 5,
                  'module "guest-shim" does not fit in memory_mib'),
    "elf-mods": ("guest-shim32", 4, ["guest-shim"],
                 'vms[5].modules: image "guest-shim32" is an ELF executable, not a multiboot '
                 'image, and takes no modules'),
}


def module_size(name):
    return os.path.getsize(os.path.join(GUESTS, name + ".elf"))


def cmdline(memory_mib, modules):
    mods = " ".join(f"mod{i}={m}:{module_size(m)}" for i, m in enumerate(modules))
    return f"mem_mib={memory_mib} {mods}".strip()


def write_bad_checksum_image():
    """guest-mb.elf with its multiboot checksum one off."""
    with open(os.path.join(GUESTS, "guest-mb.elf"), "rb") as f:
        data = bytearray(f.read())
    at = next(i for i in range(0, 8192, 4) if struct.unpack_from("<I", data, i)[0] == MAGIC)
    struct.pack_into("<I", data, at + 8, (struct.unpack_from("<I", data, at + 8)[0] + 1) & 0xffffffff)
    return write(os.path.join(OUT, "mb-badsum.elf"), bytes(data))


def write(path, data):
    """Whole-file write by rename: the two emulators' boots write the same bytes at once."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{id(data)}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


def write_manifest():
    vms = [{"name": "hello", "memory_mib": 16, "image": "guest-shim", "cmdline": "workload=hello"}]
    for name, (image, mib, mods) in GOOD.items():
        vms.append({"name": name, "memory_mib": mib, "image": image, "modules": mods,
                    "cmdline": cmdline(mib, mods)})
    for name, (image, mib, mods, _) in BAD.items():
        vms.append({"name": name, "memory_mib": mib, "image": image, "modules": mods})
    doc = {"cores": {"regular": [0]}, "poweroff": "when_vms_done", "vms": vms}
    return write(os.path.join(OUT, "manifest.json"), json.dumps(doc, indent=1).encode())


@dataclasses.dataclass(frozen=True)
class MultibootBoot(Boot):
    """A Boot of the manifest write_manifest() makes, with the bad-checksum image as a module."""

    def run(self):
        modules = dict(isobuild.default_modules(), **{"mb-badsum": write_bad_checksum_image()})
        iso = isobuild.build_iso(write_manifest(), modules=modules)
        kw = dict(self.options)
        kw["smp" if self.emulator == "qemu" else "cpus"] = self.cpus
        return emu.boot(self.emulator, iso, self.name, timeout=self.timeout, **kw)


QEMU = MultibootBoot("multiboot-qemu", "qemu", "(written by write_manifest)", timeout=120)
BOCHS = MultibootBoot("multiboot-bochs", "bochs", "(written by write_manifest)", timeout=240)
BOOTS = [QEMU, BOCHS]


def guest_lines(run, vm):
    prefix = f"[{vm}] "
    return [line[len(prefix):] for line in run.text.splitlines() if line.startswith(prefix)]


def expected_lines(vm):
    image, mib, mods = GOOD[vm]
    checks = FIXED_CHECKS + [f"mod{i}" for i in range(len(mods))] + ["boot_loader_name"]
    return ([f"mb1 cmdline {cmdline(mib, mods)}"] + [f"mb1 check {c} ok" for c in checks]
            + [f"mb1 result pass {len(checks)}/{len(checks)}"])


def check_run(run):
    assert not run.of_type("panic"), run.describe()
    stopped = {r["vm"]: r["reason"] for r in run.of_type("vm_stopped")}
    assert set(stopped) == {"hello"} | set(GOOD) | set(BAD), run.describe()
    for vm in ["hello", *GOOD]:
        assert stopped[vm] == "powered off by the guest, code 0", (vm, run.describe())
    for vm, (_, _, _, reason) in BAD.items():
        assert stopped[vm] == reason, vm
    for vm in GOOD:
        assert guest_lines(run, vm) == expected_lines(vm), run.describe()
    assert "[hello] guest-shim: hello" in run.text
    assert run.ended == "poweroff", run.describe()


def test_multiboot_guests_on_svm(boots):
    check_run(boots.get(QEMU))


def test_multiboot_guests_on_vmx(boots):
    check_run(boots.get(BOCHS))


def test_guest_counts_every_check():
    """10 checks for two modules, 9 for one: the guest's count is the test's count."""
    assert expected_lines("mb-aout")[-1] == "mb1 result pass 10/10"
    assert expected_lines("mb-elf")[-1] == "mb1 result pass 9/9"
