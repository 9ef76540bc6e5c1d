"""The hypervisor boots on every emulated machine we support and says so, record by record:
QEMU TCG (AMD, SVM) with BIOS and UEFI and Bochs (Intel, VT-x), one CPU and several."""
import pytest

from conftest import Boot, manifest_json

MIB = 512  # the emulators' default RAM


def qemu(name, cpus, manifest, **options):
    return Boot(name, "qemu", manifest, cpus=cpus, options=tuple(sorted(options.items())))


MACHINES = [
    qemu("qemu-epyc-smp1-bios", 1, "good/smp1.json", cpu="EPYC"),
    qemu("qemu-epyc-smp4-bios", 4, "good/smp4.json", cpu="EPYC"),
    qemu("qemu-max-smp4-bios", 4, "good/smp4.json", cpu="max"),
    qemu("qemu-epyc-smp1-uefi", 1, "good/smp1.json", cpu="EPYC", uefi=True),
    qemu("qemu-epyc-smp4-uefi", 4, "good/smp4.json", cpu="EPYC", uefi=True),
    # above 4 GiB the direct map is extended: with 1 GiB pages (EPYC), with 2 MiB ones (qemu64)
    qemu("qemu-epyc-smp2-6g", 2, "good/smp2.json", cpu="EPYC", mem="6G"),
    qemu("qemu-qemu64-smp2-6g", 2, "good/smp2.json", cpu="qemu64", mem="6G"),
    Boot("bochs-skylake-1cpu", "bochs", "good/smp1.json", cpus=1, timeout=150,
         options=(("megs", MIB),)),
    Boot("bochs-skylake-2cpu", "bochs", "good/smp2.json", cpus=2, timeout=150,
         options=(("megs", MIB),)),
]
SKIP_INVALID = qemu("qemu-skip-invalid", 1, "good/skip_invalid.json")
SELFTESTS = {fault: Boot(f"qemu-selftest-{fault}", "qemu", "good/smp1.json",
                         cmdline=f"selftest={fault}") for fault in ("ud", "pf")}
BOOTS = MACHINES + [SKIP_INVALID, *SELFTESTS.values()]


def memory_mib(boot):
    """The machine's RAM in MiB, from QEMU's -m or Bochs' megs."""
    mem = str(boot.option("mem", boot.option("megs", MIB)))
    if mem[-1] in "GM":
        return int(mem[:-1]) * (1024 if mem[-1] == "G" else 1)
    return int(mem)


def manifest_roles(manifest, cpus):
    """CPU -> role as the manifest gives them; CPUs it does not name are regular."""
    roles = {cpu: "regular" for cpu in range(cpus)}
    for role, ids in manifest_json(manifest).get("cores", {}).items():
        for cpu in ids:
            roles[cpu] = role
    return roles


@pytest.fixture(scope="module", params=MACHINES, ids=[m.name for m in MACHINES])
def machine(request, boots):
    """(boot, run) of one machine."""
    return request.param, boots.get(request.param)


def test_reaches_poweroff_without_panic(machine):
    _, run = machine
    assert not run.of_type("panic"), run.describe()
    assert run.ended == "poweroff", run.describe()


def test_console_records_are_well_formed(machine):
    """Every line that starts with '@' is one JSON object with a type; the first is hello."""
    _, run = machine
    assert not run.malformed, run.malformed
    assert run.records and run.records[0]["type"] == "hello", run.describe()


def test_every_cpu_online_with_its_manifest_role(machine):
    boot, run = machine
    online = run.of_type("cpu_online")
    assert sorted(r["cpu"] for r in online) == list(range(boot.cpus)), run.describe()
    assert len({r["apic_id"] for r in online}) == boot.cpus, online
    roles = manifest_roles(boot.manifest, boot.cpus)
    for r in online:
        assert r["role"] == roles[r["cpu"]], r


def test_every_cpu_timer_fires(machine):
    _, run = machine
    online = run.of_type("cpu_online")
    assert online, run.describe()
    for r in online:
        # a 500 us one-shot: it fired, not before it was due, and not absurdly late
        assert 500 <= r["timer_us"] < 50000, r


def test_memory_map_and_allocator_are_sane(machine):
    boot, run = machine
    total_mib = memory_mib(boot)
    mem = run.one("memory")
    assert mem["selftest"] == "ok"
    usable_mib = mem["usable_kib"] / 1024
    # firmware keeps some of the RAM (BIOS areas, ACPI, OVMF's own data, the PCI hole)
    assert total_mib * 0.75 < usable_mib <= total_mib, mem
    # the direct map reaches all of it
    assert int(mem["direct_map_end"], 16) >= total_mib << 20, mem
    assert 0 < mem["free_pages"] * 4 <= mem["usable_kib"] - mem["reserved_kib"] + 4, mem
    assert mem["reserved_kib"] > 0, mem  # at least the hypervisor image and the modules


def test_acpi_finds_every_cpu(machine):
    boot, run = machine
    acpi = run.one("acpi")
    assert acpi["cpus"] == boot.cpus, acpi
    assert acpi["ioapics"] >= 1, acpi


def test_manifest_accepted_and_boot_done(machine):
    boot, run = machine
    m = run.one("manifest")
    assert m["status"] == "accepted", m
    assert m["vms"] == len(manifest_json(boot.manifest)["vms"]) and m["skipped"] == 0, m
    done = run.one("boot_done")
    assert done["cpus"] == boot.cpus, done
    assert done["tsc_khz"] > 1000, done
    assert done["boot_us"] > 0, done


def test_invalid_vm_skipped_when_manifest_asks(boots):
    run = boots.get(SKIP_INVALID)
    skipped = run.of_type("vm_skipped")
    assert [s["vm"] for s in skipped] == ["orphan"], run.describe()
    assert skipped[0]["field"] == "vms[1].image"
    assert "no-such-image" in skipped[0]["reason"], skipped[0]
    m = run.one("manifest")
    assert (m["status"], m["vms"], m["skipped"]) == ("accepted", 1, 1), m
    assert run.ended == "poweroff", run.describe()


@pytest.mark.parametrize("fault,vector", [("ud", 6), ("pf", 14)])
def test_exception_gives_a_panic_report(boots, fault, vector):
    """`selftest=ud|pf` on the command line: the boot CPU faults on purpose after boot_done."""
    run = boots.get(SELFTESTS[fault])
    assert run.ended == "panic", run.describe()
    panic = run.one("panic")
    assert panic["vector"] == vector and panic["cpu"] == 0, panic
    assert panic["rip"].startswith("0xffffffff8"), panic  # inside the hypervisor image
    if vector == 14:
        assert panic["cr2"] == "0x100000000000", panic
    # and the human report, registers included
    text = run.text
    assert f"(vector {vector})" in text and "rax " in text and "cr3 " in text, run.describe()
