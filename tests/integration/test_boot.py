"""The hypervisor boots on every emulated machine we support and says so, record by record."""
import pytest

from conftest import emu, make_iso

# (test id, emulator, CPUs, manifest, options)
MACHINES = [
    ("qemu-epyc-smp1-bios", "qemu", 1, "good/smp1.json", {"cpu": "EPYC"}),
    ("qemu-epyc-smp4-bios", "qemu", 4, "good/smp4.json", {"cpu": "EPYC"}),
    ("qemu-max-smp4-bios", "qemu", 4, "good/smp4.json", {"cpu": "max"}),
    ("qemu-epyc-smp1-uefi", "qemu", 1, "good/smp1.json", {"cpu": "EPYC", "uefi": True}),
    ("qemu-epyc-smp4-uefi", "qemu", 4, "good/smp4.json", {"cpu": "EPYC", "uefi": True}),
    # above 4 GiB the direct map is extended: with 1 GiB pages (EPYC), with 2 MiB ones (qemu64)
    ("qemu-epyc-smp2-6g", "qemu", 2, "good/smp2.json", {"cpu": "EPYC", "mem": "6G"}),
    ("qemu-qemu64-smp2-6g", "qemu", 2, "good/smp2.json", {"cpu": "qemu64", "mem": "6G"}),
    ("bochs-skylake-1cpu", "bochs", 1, "good/smp1.json", {}),
    ("bochs-skylake-2cpu", "bochs", 2, "good/smp2.json", {}),
]
DEFAULT_MEMORY_MIB = 512


def memory_mib(opts):
    mem = opts.get("mem", f"{DEFAULT_MEMORY_MIB}M")
    return int(mem[:-1]) * (1024 if mem.endswith("G") else 1)


def boot(name, emulator, cpus, manifest, opts, cmdline=""):
    iso = make_iso(manifest, cmdline=cmdline)
    if emulator == "qemu":
        return emu.run_qemu(iso, name, smp=cpus, timeout=90, **opts)
    return emu.run_bochs(iso, name, cpus=cpus, megs=DEFAULT_MEMORY_MIB, timeout=150)


def manifest_roles(manifest, cpus):
    import json
    import os

    from conftest import MANIFESTS

    with open(os.path.join(MANIFESTS, manifest)) as f:
        cores = json.load(f).get("cores", {})
    roles = {cpu: "regular" for cpu in range(cpus)}
    for role, ids in cores.items():
        for cpu in ids:
            roles[cpu] = role
    return roles


@pytest.fixture(scope="module", params=MACHINES, ids=[m[0] for m in MACHINES])
def machine(request):
    name, emulator, cpus, manifest, opts = request.param
    return boot(name, emulator, cpus, manifest, opts), cpus, manifest, memory_mib(opts)


def test_reaches_poweroff_without_panic(machine):
    run = machine[0]
    assert not run.of_type("panic"), run.tail()
    assert run.ended == "poweroff", f"ended by {run.ended}\n{run.tail()}"


def test_every_cpu_online_with_its_manifest_role(machine):
    run, cpus, manifest, _ = machine
    online = run.of_type("cpu_online")
    assert sorted(r["cpu"] for r in online) == list(range(cpus)), run.tail()
    assert len({r["apic_id"] for r in online}) == cpus
    roles = manifest_roles(manifest, cpus)
    for r in online:
        assert r["role"] == roles[r["cpu"]], r


def test_every_cpu_timer_fires(machine):
    run = machine[0]
    for r in run.of_type("cpu_online"):
        # a 500 us one-shot: it fired, and not before it was due
        assert r["timer_us"] >= 500, r
        assert r["timer_us"] < 50000, r


def test_memory_map_and_allocator_are_sane(machine):
    run, _, _, total_mib = machine
    mem = run.one("memory")
    assert mem["selftest"] == "ok"
    usable_mib = mem["usable_kib"] / 1024
    # firmware keeps some of the RAM (BIOS areas, ACPI, OVMF's own data, the PCI hole)
    assert total_mib * 0.75 < usable_mib <= total_mib, mem
    # the direct map reaches all of it
    assert int(mem["direct_map_end"], 16) >= total_mib << 20, mem
    assert 0 < mem["free_pages"] * 4 <= mem["usable_kib"] - mem["reserved_kib"] + 4
    assert mem["reserved_kib"] > 0  # at least the hypervisor image and the modules


def test_acpi_finds_every_cpu(machine):
    run, cpus, _, _ = machine
    acpi = run.one("acpi")
    assert acpi["cpus"] == cpus
    assert acpi["ioapics"] >= 1


def test_manifest_accepted_and_boot_done(machine):
    run, cpus, _, _ = machine
    assert run.one("manifest")["status"] == "accepted"
    done = run.one("boot_done")
    assert done["cpus"] == cpus
    assert done["tsc_khz"] > 1000
    assert done["boot_us"] > 0


def test_invalid_vm_skipped_when_manifest_asks():
    run = boot("qemu-skip-invalid", "qemu", 1, "good/skip_invalid.json", {})
    skipped = run.of_type("vm_skipped")
    assert [s["vm"] for s in skipped] == ["orphan"], run.tail()
    assert skipped[0]["field"] == "vms[1].image"
    m = run.one("manifest")
    assert (m["status"], m["vms"], m["skipped"]) == ("accepted", 1, 1)
    assert run.ended == "poweroff"


@pytest.mark.parametrize("fault,vector", [("ud", 6), ("pf", 14)])
def test_exception_gives_a_panic_report(fault, vector):
    run = boot(f"qemu-selftest-{fault}", "qemu", 1, "good/smp1.json", {},
               cmdline=f"selftest={fault}")
    panic = run.one("panic")
    assert panic["vector"] == vector and panic["cpu"] == 0
    assert panic["rip"].startswith("0xffffffff8")  # inside the hypervisor image
    if vector == 14:
        assert panic["cr2"] == "0x100000000000"
    text = run.text
    assert f"(vector {vector})" in text and "rax " in text and "cr3 " in text
