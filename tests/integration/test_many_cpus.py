"""More logical CPUs than the old limit of 64: on QEMU q35 with -smp 80 (80 xAPIC entries in
the MADT, APIC IDs 0-79) the hypervisor starts every CPU, and the manifest names CPU ids past 63.
QEMU 7.2 refuses APIC IDs of 255 and up without KVM's x2APIC, so CPUs past CONFIG_MAX_CPUS and
x2APIC entries are covered by the unit tests (tests/unit/test_acpi.c) instead."""
from conftest import Boot, manifest_json

CPUS = 80
# 80 vCPUs under TCG, all started at once with INIT-SIPI-SIPI: a few seconds of wall time on a
# 2-core host; the timeout leaves room for a slow, busy CI machine.
SMP80 = Boot("qemu-epyc-smp80", "qemu", "good/smp80.json", cpus=CPUS, timeout=180,
             options=(("cpu", "EPYC"),))
BOOTS = [SMP80]


def test_boots_on_all_80_cpus(boots):
    run = boots.get(SMP80)
    assert run.ended == "poweroff" and not run.of_type("panic"), run.describe()
    assert not run.malformed, run.malformed
    assert run.one("acpi")["cpus"] == CPUS
    assert not run.of_type("cpus_ignored"), run.of_type("cpus_ignored")
    done = run.one("boot_done")
    assert done["cpus"] == CPUS, run.describe()
    print(f"\n-smp {CPUS}: boot_us {done['boot_us']}, wall {run.seconds:.1f} s")


def test_every_cpu_online_once_with_its_role(boots):
    run = boots.get(SMP80)
    online = run.of_type("cpu_online")
    assert sorted(r["cpu"] for r in online) == list(range(CPUS)), run.describe()
    assert len({r["apic_id"] for r in online}) == CPUS, online
    roles = {cpu: role for role, ids in manifest_json(SMP80.manifest)["cores"].items()
             for cpu in ids}
    for r in online:
        assert r["role"] == roles.get(r["cpu"], "regular"), r


def test_cpus_announced_once_each_in_index_order(boots):
    """The APs start and test their timers all at once, but the boot CPU announces them in index
    order, so that the console is the same from boot to boot; every CPU has a distinct APIC ID
    (each AP found its own struct cpu, whatever trampoline slot it took) and none is left out."""
    run = boots.get(SMP80)
    online = run.of_type("cpu_online")
    assert [r["cpu"] for r in online] == list(range(CPUS)), run.describe()
    assert sorted(r["apic_id"] for r in online) == list(range(CPUS)), online
    first = run.records.index(online[0])
    assert run.records[first:first + CPUS] == online, "cpu_online records are not consecutive"
    assert all(r["x2apic"] == online[0]["x2apic"] for r in online), online
    assert "did not start" not in run.text and "did not finish" not in run.text, run.describe()
