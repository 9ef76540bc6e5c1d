"""VMs with one and two vCPUs on both vendors (SVM in QEMU, VT-x in Bochs): the virtual local
APIC's timer in its three modes and IPIs between vCPUs in x2APIC and xAPIC mode, memory touched
by every vCPU, and the SMP matrix of issue 3: 1, 2 and 4 VMs with 1 and 2 vCPUs each, all
finishing their workloads with exit and interrupt counts that match what the guests did."""
import json
import os

import pytest

from conftest import ROOT, Boot

EMULATORS = ("qemu", "bochs")
MATRIX = [(vms, vcpus) for vms in (1, 2, 4) for vcpus in (1, 2)]
MATRIX_CPUID = 100
MATRIX_MIB = 2
MATRIX_IPIS = 10
MATRIX_TIMER_TICKS = 5  # guest-shim's matrix workload: periodic, 500 us
GENERATED = os.path.join(ROOT, "build", "manifests")


def matrix_manifest(vms, vcpus):
    """A manifest of `vms` VMs with `vcpus` vCPUs each on two regular cores (written to build/)."""
    os.makedirs(GENERATED, exist_ok=True)
    path = os.path.join(GENERATED, f"matrix-{vms}x{vcpus}.json")
    manifest = {
        "cores": {"regular": [0, 1]},
        "poweroff": "when_vms_done",
        "vms": [{"name": f"vm{i}", "memory_mib": 16, "vcpus": vcpus, "image": "guest-shim",
                 "cmdline": f"workload=matrix n={MATRIX_CPUID} mib={MATRIX_MIB} "
                            f"ipis={MATRIX_IPIS}"} for i in range(vms)],
    }
    with open(path, "w") as f:
        json.dump(manifest, f)
    return path


def boot(emulator, name, manifest):
    return Boot(f"{emulator}-{name}", emulator, manifest, cpus=2,
                timeout=300 if emulator == "bochs" else 120)


APIC = {e: boot(e, "apic", "good/apic.json") for e in EMULATORS}
MATRIX_BOOTS = {(e, vms, vcpus): boot(e, f"matrix-{vms}x{vcpus}", matrix_manifest(vms, vcpus))
                for e in EMULATORS for vms, vcpus in MATRIX}
BOOTS = [*APIC.values(), *MATRIX_BOOTS.values()]


def apicv(run):
    """Whether the CPU virtualizes the APIC (VT-x APICv in Bochs): then the guest's EOI and TPR
    writes in x2APIC mode do not exit, and the CPU delivers without interrupt-window exits."""
    return run.one("virt")["apic_virtualization"]


def stats(run):
    return {r["vm"]: r for r in run.of_type("vm_stats")}


def reports(run, vm, key):
    """{vcpu: value} of one report key of one VM."""
    return {r["vcpu"]: r["value"] for r in run.of_type("guest_report")
            if r["vm"] == vm and r["key"] == key}


def assert_all_powered_off(run, names):
    stopped = {r["vm"]: r["reason"] for r in run.of_type("vm_stopped")}
    assert stopped == {n: "powered off by the guest, code 0" for n in names}, run.tail()
    assert run.ended == "poweroff" and not run.of_type("panic"), run.tail()


@pytest.fixture(scope="module", params=EMULATORS)
def apic(request, boots):
    return boots.get(APIC[request.param])


def test_apic_vms_finish(apic):
    assert_all_powered_off(apic, {"oneshot", "periodic", "deadline", "ipi", "ipi-xapic",
                                  "memtouch"})


@pytest.mark.parametrize("vm", ["oneshot", "deadline"])
def test_timer_one_interrupt_per_arming(apic, vm):
    """20 one-shot (x2APIC MSRs) or TSC-deadline armings, 200 us each: 20 interrupts, never
    early, each injected once and signalled with EOI (an MSR write)."""
    assert reports(apic, vm, "timer_irqs") == {0: 20}
    assert reports(apic, vm, "timer_us")[0] >= 20 * 200
    s = stats(apic)[vm]
    assert s["timer_irqs"] == 20 and s["irqs"] == 20
    # 20 armings + 20 EOIs + DCR, LVT, SVR, TPR and IA32_APIC_BASE; with APICv, no EOI or TPR
    assert s["exit_msr_write"] == (24 if apicv(apic) else 45)
    assert s["exit_hlt"] <= 20


def test_periodic_timer_through_the_xapic_page(apic):
    """Periodic mode, programmed through the xAPIC page (MMIO exits): at least 20 ticks spanning
    at least 20 periods; every tick the guest took was injected, none beyond those that fired."""
    got = reports(apic, "periodic", "timer_irqs")[0]
    s = stats(apic)["periodic"]
    assert got >= 20 and reports(apic, "periodic", "timer_us")[0] >= 20 * 200
    assert s["irqs"] == got <= s["timer_irqs"]
    # only IA32_APIC_BASE is read: the registers are MMIO
    assert s["exit_msr_read"] == 1 and s["exit_msr_write"] == 0
    # an EOI per tick; SVR, TPR, DCR, LVT, initial count; LVT and count again to stop
    assert s["exit_npf"] == got + 7


@pytest.mark.parametrize("vm", ["ipi", "ipi-xapic"])
def test_ipi_ping_pong_between_vcpus(apic, vm):
    """50 IPI round trips between the two vCPUs of a VM (on two cores), and one more IPI saying
    vCPU 1 is done: every one sent is delivered once."""
    assert reports(apic, vm, "ipi_received") == {0: 50, 1: 50}
    s = stats(apic)[vm]
    assert s["ipis"] == 101 and s["irqs"] == 101
    if vm == "ipi":  # x2APIC: ICR and EOI (and TPR) are MSR writes, EOI and TPR not with APICv
        assert s["exit_msr_write"] == (101 + 2 * 2 if apicv(apic) else 101 + 101 + 2 * 3)
        if apicv(apic):
            assert s["exit_intr_window"] == 0


def test_memory_touched_by_both_vcpus(apic):
    """All of a 33 MiB VM's RAM from 4 MiB up to its two 64 KiB stacks, written and read back, half
    by each vCPU: every 4 KiB page intact, the last MiB (mapped with 4 KiB nested pages, as
    33 MiB is not a multiple of 2 MiB) included."""
    pages = (33 * 2**20 - 2 * 2**16 - 4 * 2**20) // 2 // 4096
    assert reports(apic, "memtouch", "mem_pages_ok") == {0: pages, 1: pages}


@pytest.fixture(scope="module", params=[(e, vms, vcpus) for e in EMULATORS for vms, vcpus in MATRIX],
                ids=lambda p: f"{p[0]}-{p[1]}vm-{p[2]}vcpu")
def matrix(request, boots):
    _, vms, vcpus = request.param
    return vms, vcpus, boots.get(MATRIX_BOOTS[request.param])


def test_matrix_every_vm_finishes(matrix):
    vms, _, run = matrix
    assert_all_powered_off(run, {f"vm{i}" for i in range(vms)})


def test_matrix_workload_results(matrix):
    vms, vcpus, run = matrix
    every = set(range(vcpus))
    pages = MATRIX_MIB * 256 // vcpus
    for i in range(vms):
        vm = f"vm{i}"
        assert reports(run, vm, "cpuid_count") == {v: MATRIX_CPUID + 1 for v in every}
        assert reports(run, vm, "mem_pages_ok") == {v: pages for v in every}
        assert all(n >= MATRIX_TIMER_TICKS for n in reports(run, vm, "timer_irqs").values())
        assert set(reports(run, vm, "timer_irqs")) == every
        if vcpus > 1:
            assert reports(run, vm, "ipi_received") == {0: MATRIX_IPIS, 1: MATRIX_IPIS}


def test_matrix_exit_and_interrupt_counts(matrix):
    """CPUID exits: the workload's N, the hypercall probe and the timer-frequency leaf, per vCPU.
    Interrupts delivered: the timer ticks and IPIs the guests counted, plus one "done" IPI per
    vCPU beyond the first (and a last periodic tick or not)."""
    vms, vcpus, run = matrix
    for i in range(vms):
        vm = f"vm{i}"
        s = stats(run)[vm]
        assert s["vcpus"] == vcpus
        assert s["exit_cpuid"] == vcpus * (MATRIX_CPUID + 2)
        ticks = sum(reports(run, vm, "timer_irqs").values())
        ipis = sum(reports(run, vm, "ipi_received").values())
        # a periodic tick that was already due when the guest masked its timer still arrives,
        # after the guest has reported its count: at most one per vCPU
        assert ticks + ipis + (vcpus - 1) <= s["irqs"] <= ticks + ipis + (vcpus - 1) + vcpus, s
        assert s["timer_irqs"] >= ticks
        assert s["ipis"] == ipis + (vcpus - 1)
