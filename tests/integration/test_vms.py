"""guest-shim VMs on both vendors' virtualization (SVM in QEMU without next-RIP saving, VT-x in
Bochs, and SVM in Bochs, whose "ryzen" model saves the next RIP): they run their
workloads, the exit counters match what the workloads did, and a misbehaving guest is stopped
alone while the others finish."""
import pytest

from conftest import emu, make_iso

EMULATORS = ["qemu-svm", "bochs-vmx"]
# Bochs' SVM ("ryzen") saves the next RIP, the case QEMU lacks; but a host interrupt does not exit
# its guests (no time slicing, no stopping a spinning guest), so it runs the finishing workloads.
WORKLOAD_EMULATORS = EMULATORS + ["bochs-svm"]


def boot(emulator, manifest, icount=None):
    """Boots `manifest`; `icount` makes QEMU's time deterministic (one instruction = 2^icount ns),
    for tests whose outcome depends on how much guest work fits in a time slice."""
    iso = make_iso(manifest)
    name = f"{emulator}-{manifest.split('/')[-1][:-5]}"
    if emulator == "qemu-svm":
        return emu.run_qemu(iso, name, smp=2, timeout=180, icount=icount)
    model = "ryzen" if emulator == "bochs-svm" else "corei7_skylake_x"
    return emu.run_bochs(iso, name, cpus=2, model=model, timeout=180)


@pytest.fixture(scope="module", params=WORKLOAD_EMULATORS)
def workloads(request):
    return boot(request.param, "good/vms.json")


@pytest.fixture(scope="module", params=EMULATORS)
def faults(request):
    return boot(request.param, "good/faults.json")


def by_vm(run, rtype):
    return {r["vm"]: r for r in run.of_type(rtype)}


def reports(run, vm):
    return {r["key"]: r["value"] for r in run.of_type("guest_report") if r["vm"] == vm}


def test_every_vm_finishes_its_workload(workloads):
    stopped = by_vm(workloads, "vm_stopped")
    assert set(stopped) == {"hello", "cpuid", "pio", "spin", "mmio", "mmio-string",
                            "pio-string", "pm32"}, workloads.tail()
    for vm, rec in stopped.items():
        assert rec["reason"] == "powered off by the guest, code 0", rec
    assert workloads.ended == "poweroff" and not workloads.of_type("panic")


def test_console_hypercall_reaches_the_log(workloads):
    assert "[hello] guest-shim: hello" in workloads.text


def test_cpuid_exits_match_the_guest_count(workloads):
    stats = by_vm(workloads, "vm_stats")
    # the guest counts every CPUID it executes, its hypercall probe included
    assert reports(workloads, "cpuid")["cpuid_count"] == 1001
    assert stats["cpuid"]["exit_cpuid"] == 1001
    assert stats["hello"]["exit_cpuid"] == 1


def test_pio_exits_match_and_read_all_ones(workloads):
    stats = by_vm(workloads, "vm_stats")
    # 50 reads of an unused port, one read and 24 writes of the debug port
    assert stats["pio"]["exit_io"] == 50 + 1 + len("pio: debug port present\n")
    assert reports(workloads, "pio")["spin_done"] == 50  # reads that returned 0xff


def test_debug_port_reaches_the_log(workloads):
    assert "[pio] pio: debug port present" in workloads.text


def test_hypercalls_counted(workloads):
    # start_tsc report, the workload's report or console line, power-off
    for vm in ("hello", "cpuid", "pio", "spin"):
        assert by_vm(workloads, "vm_stats")[vm]["exit_hypercall"] == 3


def test_mmio_emulated_through_the_decoder(workloads):
    """Seven accesses of 1, 2, 4 and 8 bytes to test-mmio: each a nested page fault, decoded
    and emulated; the guest checks every value it reads back."""
    assert by_vm(workloads, "vm_stats")["mmio"]["exit_npf"] == 7
    assert reports(workloads, "mmio")["mmio_ok"] == 5


def test_string_instructions_on_mmio(workloads):
    """REP STOSB (8 bytes), MOVSQ and REP MOVSW (4 words) with test-mmio on one side and RAM on
    the other: one exit each, the right bytes moved, every element a device access; then three
    plain reads to check."""
    assert reports(workloads, "mmio-string")["mmio_ok"] == 4
    assert by_vm(workloads, "vm_stats")["mmio-string"]["exit_npf"] == 3 + 3


def test_string_port_io(workloads):
    """REP OUTSB of a line to the debug port and REP INSW from an unused port, forwards and
    backwards (DF): one exit each, RSI/RDI/RCX as the CPU leaves them."""
    assert reports(workloads, "pio-string")["pio_string_ok"] == 3
    assert by_vm(workloads, "vm_stats")["pio-string"]["exit_io"] == 3
    assert "[pio-string] pio-string: one exit" in workloads.text


def test_32_bit_guest_without_paging(workloads):
    """guest-shim32, an ELF32 image, starts in flat 32-bit protected mode with paging off (on
    VT-x this takes an unrestricted guest) and reports its CR0: PE set, PG clear."""
    cr0 = reports(workloads, "pm32")["cr0"]
    assert cr0 & 1 and not cr0 & 0x80000000, hex(cr0)


def test_spin_progress(workloads):
    assert reports(workloads, "spin")["spin_done"] == 2000000


@pytest.mark.parametrize("vm,reason", [
    ("ud", "triple fault"),
    ("oob", "read from guest-physical 0x1200000, outside its RAM"),
    ("flood", "hypercall flood"),
])
def test_misbehaving_guest_is_stopped_with_reason_and_rip(faults, vm, reason):
    rec = by_vm(faults, "vm_stopped")[vm]
    assert rec["reason"] == reason
    assert int(rec["rip"], 16) >= 0x100000  # inside the guest image


def test_other_vms_and_the_hypervisor_go_on(faults):
    assert by_vm(faults, "vm_stopped")["good"]["reason"] == "powered off by the guest, code 0"
    assert reports(faults, "good")["cpuid_count"] == 501
    assert faults.ended == "poweroff" and not faults.of_type("panic")


@pytest.fixture(scope="module", params=EMULATORS)
def timeslice(request):
    return boot(request.param, "good/timeslice.json", icount=3)


def test_vms_on_one_core_share_it(timeslice):
    """Two spinning VMs on one core: the one-shot timer (SVM) or the VMX-preemption timer ends
    each 2 ms slice, so both make progress side by side and both finish."""
    run = timeslice
    stopped = by_vm(run, "vm_stopped")
    assert {vm: r["reason"] for vm, r in stopped.items()} == {
        "a": "powered off by the guest, code 0", "b": "powered off by the guest, code 0"}
    for vm, stats in by_vm(run, "vm_stats").items():
        assert stats["exit_extint"] + stats["exit_deadline"] >= 2, stats
    # b started before a finished: the core was shared, not run to completion
    order = [(r["vm"], r["key"]) for r in run.of_type("guest_report")]
    assert order.index(("b", "start_tsc")) < order.index(("a", "spin_done"))


def test_periodic_stats_while_vms_run(timeslice):
    stats = timeslice.of_type("stats")
    assert {s["vm"] for s in stats} == {"a", "b"}
    for vm in ("a", "b"):
        counts = [s["exit_extint"] + s["exit_deadline"] for s in stats if s["vm"] == vm]
        assert counts == sorted(counts)  # counters only grow


def guest_image_bytes(gpa, n):
    """Bytes of build/guests/guest-shim.elf at guest-physical `gpa` (its PT_LOAD segments)."""
    import os
    import struct

    from conftest import ROOT

    with open(os.path.join(ROOT, "build", "guests", "guest-shim.elf"), "rb") as f:
        elf = f.read()
    phoff, = struct.unpack_from("<Q", elf, 32)
    phnum, = struct.unpack_from("<H", elf, 56)
    for k in range(phnum):
        ptype, _, off, _, paddr, filesz = struct.unpack_from("<IIQQQQ", elf, phoff + 56 * k)
        if ptype == 1 and paddr <= gpa < paddr + filesz:
            return elf[off + gpa - paddr:off + gpa - paddr + n]
    raise AssertionError(f"0x{gpa:x} is not in the guest image")


def test_unknown_msr_raises_gp_in_the_guest(faults):
    """RDMSR of an MSR the hypervisor does not implement: one MSR exit, #GP(0) injected, and the
    guest's own IDT sees vector 13 at the RDMSR (0f 32)."""
    got = reports(faults, "msr")
    assert got["exception"] == 13
    assert guest_image_bytes(got["exception_rip"], 2) == b"\x0f\x32"
    assert by_vm(faults, "vm_stats")["msr"]["exit_msr_read"] == 1
    assert by_vm(faults, "vm_stopped")["msr"]["reason"] == "powered off by the guest, code 269"
