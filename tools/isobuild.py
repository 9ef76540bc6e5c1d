"""Building bootable GRUB ISOs (BIOS and UEFI) of corevisor, a manifest and guest images.

ISOs are cached by the hash of their inputs in build/iso-cache/, since the tests build one per
manifest.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")

GRUB_CFG = """\
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
set default=0
menuentry "corevisor" {{
    multiboot2 /boot/corevisor.elf {cmdline}
    module2 /boot/manifest.json {manifest_name}
{modules}    boot
}}
"""


def default_modules():
    guests = os.path.join(BUILD, "guests")
    if not os.path.isdir(guests):
        return {}
    return {f[:-4]: os.path.join(guests, f) for f in sorted(os.listdir(guests)) if f.endswith(".elf")}


def input_digest(paths, text):
    h = hashlib.sha256(text.encode())
    for p in paths:
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def build_iso(manifest, out, cmdline="", modules=None, kernel=None, manifest_name="manifest"):
    """Write the ISO to `out` (reusing a cached identical one); return `out`."""
    kernel = kernel or os.path.join(BUILD, "corevisor.elf")
    modules = default_modules() if modules is None else modules
    mod_lines = "".join(f"    module2 /boot/{n}.elf {n}\n" for n in sorted(modules))
    cfg = GRUB_CFG.format(cmdline=cmdline, modules=mod_lines, manifest_name=manifest_name)
    digest = input_digest([kernel, manifest] + [modules[n] for n in sorted(modules)], cfg)
    cache = os.path.join(BUILD, "iso-cache", digest + ".iso")
    if not os.path.exists(cache):
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with tempfile.TemporaryDirectory() as stage:
            boot = os.path.join(stage, "boot")
            os.makedirs(os.path.join(boot, "grub"))
            shutil.copy(kernel, os.path.join(boot, "corevisor.elf"))
            shutil.copy(manifest, os.path.join(boot, "manifest.json"))
            for name, path in modules.items():
                shutil.copy(path, os.path.join(boot, name + ".elf"))
            with open(os.path.join(boot, "grub", "grub.cfg"), "w") as f:
                f.write(cfg)
            tmp = cache + ".tmp"
            r = subprocess.run(["grub-mkrescue", "-o", tmp, stage], capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"grub-mkrescue failed:\n{r.stderr}")
            os.replace(tmp, cache)
    if os.path.abspath(out) != cache:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        shutil.copy(cache, out)
    return out
