"""Building bootable GRUB ISOs (BIOS and UEFI) of corevisor, a manifest and guest images.

The tests build one ISO per manifest and command line, so ISOs are cached under build/iso-cache/
by the hash of everything that goes into them; a hit costs a hard link. Builds are safe to run
from several threads or processes at once: every file appears by an atomic rename.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
CACHE = os.path.join(BUILD, "iso-cache")
CACHE_KEEP = 64  # ISOs kept in the cache (about 10 MB each), least recently used go first
GRUB_PLATFORMS = ("i386-pc", "x86_64-efi")  # BIOS and UEFI boot
# No locales, fonts or themes: GRUB talks to the serial port only; halves the ISO and its build.
MKRESCUE = ["grub-mkrescue", "--locales=", "--fonts=", "--themes="]
# Changes whenever the ISO layout or the grub-mkrescue options change, to invalidate the cache.
LAYOUT_VERSION = "2"

GRUB_CFG = """\
serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
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
    """Every build/guests/*.elf, named after its file without .elf."""
    guests = os.path.join(BUILD, "guests")
    if not os.path.isdir(guests):
        return {}
    return {f[:-4]: os.path.join(guests, f) for f in sorted(os.listdir(guests)) if f.endswith(".elf")}


# Guest files that are not built from this tree but fetched (tools/linux-guest, `make linux-guest`):
# an ISO carries them only when its manifest names them, as they are large.
LINUX = os.path.join(BUILD, "linux")
FETCHED_MODULES = {"linux": os.path.join(LINUX, "vmlinuz"),
                   "linux-initrd": os.path.join(LINUX, "initrd.img")}


def manifest_modules(manifest):
    """The fetched modules `manifest` names as a VM's image, initrd or modules."""
    import json
    try:
        with open(manifest) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return {}  # not ours to judge: the hypervisor reports a bad manifest
    vms = doc.get("vms", []) if isinstance(doc, dict) else []
    names = set()
    for vm in vms if isinstance(vms, list) else []:
        if isinstance(vm, dict):
            names.update(n for n in [vm.get("image"), vm.get("initrd"), *(vm.get("modules") or [])]
                         if isinstance(n, str))
    return {n: FETCHED_MODULES[n] for n in sorted(names & FETCHED_MODULES.keys())}


def grub_cfg(cmdline, modules, manifest_name="manifest"):
    """The menu: GRUB's own terminal on COM1, no wait, one entry loading everything."""
    mod_lines = "".join(f"    module2 /boot/{n}.elf {n}\n" for n in sorted(modules))
    return GRUB_CFG.format(cmdline=cmdline, modules=mod_lines, manifest_name=manifest_name)


def input_digest(paths, text):
    """A short hash of the files' contents and `text` (the grub.cfg)."""
    h = hashlib.sha256((LAYOUT_VERSION + text).encode())
    for p in paths:
        with open(p, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:16]


def check_grub_platforms():
    """grub-mkrescue silently leaves out a platform whose GRUB files are missing; say so instead."""
    missing = [p for p in GRUB_PLATFORMS if not os.path.isdir(os.path.join("/usr/lib/grub", p))]
    if missing:
        raise RuntimeError(f"GRUB files for {', '.join(missing)} are missing: run scripts/deps.sh "
                           "(grub-pc-bin, grub-efi-amd64-bin)")


def _mkrescue(stage_files, cfg, dest):
    """Stage the files (ISO path -> host path) and grub.cfg, then write the ISO to `dest`."""
    with tempfile.TemporaryDirectory() as stage:
        os.makedirs(os.path.join(stage, "boot", "grub"))
        for iso_path, host_path in stage_files.items():
            shutil.copy(host_path, os.path.join(stage, iso_path))
        with open(os.path.join(stage, "boot", "grub", "grub.cfg"), "w") as f:
            f.write(cfg)
        r = subprocess.run(MKRESCUE + ["-o", dest, stage], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"grub-mkrescue failed:\n{r.stderr}")


def _prune_cache(keep=CACHE_KEEP):
    """Drop the least recently used ISOs beyond `keep` (a running emulator keeps its open file)."""
    isos = [os.path.join(CACHE, f) for f in os.listdir(CACHE) if f.endswith(".iso")]
    isos.sort(key=lambda p: os.stat(p).st_mtime, reverse=True)
    for path in isos[keep:]:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass  # another builder pruned it first


def _place(src, out):
    """Make `out` the same file as `src`: a hard link (or a copy across file systems), renamed
    into place so that nobody ever sees a half-written ISO."""
    if os.path.exists(out) and os.path.samefile(src, out):
        return  # rename() between two links of one file does nothing and leaves the temporary
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".iso.tmp")
    os.close(fd)
    os.unlink(tmp)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy(src, tmp)
    os.replace(tmp, out)


def build_iso(manifest, out=None, cmdline="", modules=None, kernel=None, manifest_name="manifest"):
    """Return the path of an ISO booting `kernel` with `manifest` and the guest `modules`
    (name -> path; default: every build/guests/*.elf, and the fetched guests the manifest names).
    With `out`, the ISO is also put there."""
    kernel = kernel or os.path.join(BUILD, "corevisor.elf")
    if modules is None:
        modules = {**default_modules(), **manifest_modules(manifest)}
    for path in [kernel, manifest, *modules.values()]:
        if not os.path.isfile(path):
            hint = "make linux-guest" if path in FETCHED_MODULES.values() else "make"
            raise FileNotFoundError(f"{path} does not exist (run {hint})")
    cfg = grub_cfg(cmdline, modules, manifest_name)
    digest = input_digest([kernel, manifest] + [modules[n] for n in sorted(modules)], cfg)
    cached = os.path.join(CACHE, digest + ".iso")
    if os.path.exists(cached):
        os.utime(cached)  # recently used: keep it
    else:
        check_grub_platforms()
        os.makedirs(CACHE, exist_ok=True)
        files = {"boot/corevisor.elf": kernel, "boot/manifest.json": manifest}
        files.update({f"boot/{n}.elf": p for n, p in modules.items()})
        fd, tmp = tempfile.mkstemp(dir=CACHE, suffix=".iso.tmp")
        os.close(fd)
        try:
            _mkrescue(files, cfg, tmp)
            os.chmod(tmp, 0o644)  # mkstemp made it private
            os.replace(tmp, cached)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        _prune_cache()
    if out is None:
        return cached
    if os.path.abspath(out) != cached:
        _place(cached, out)
    return out
