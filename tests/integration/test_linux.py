"""Unmodified Linux guests (issue 10, docs/linux-guests.md): Debian's stock 6.1 kernel
(`make linux-guest`: the linux-image-amd64 package's vmlinuz, no rebuild) with an initramfs of
busybox-static, the kernel package's virtio modules and guest-linux/init.

One boot on QEMU/SVM, shared by every test here: a VM of 2 vCPUs and a turbo vCPU with a
virtio-blk disk served by an I/O core. The kernel starts at its 64-bit entry (the zero page of
vplat/linux_boot.c), finds its CPUs, the I/O APIC, the PCI bus and COM1 in the VM's ACPI tables
(vplat/acpi_build.c), starts its application processors with INIT and STARTUP IPIs, and runs
init, which loads the virtio modules, steers the virtio interrupts to the turbo vCPU (CPU 2) and
checks the disk: a 1 MiB random pattern written with dd, the page cache dropped, read back and
compared by MD5. Then it powers the VM off through the FADT's sleep register (ACPI S5).

And one boot on Bochs/VT-x (APIC virtualization): a 2-vCPU VM starts its second CPU in real mode
(unrestricted guest), reaches init with both online and powers off the same way. It takes Bochs
a few minutes, in parallel with the other boots."""
import re
import time

import pytest
from conftest import Boot

QEMU = Boot("linux-qemu-smp", "qemu", "good/linux_smp.json", cpus=3, timeout=300)
BOCHS = Boot("linux-bochs", "bochs", "good/linux_bochs.json", cpus=2, timeout=1500)
BOOTS = [QEMU, BOCHS]
# The kernel's own words for a problem (WARN, BUG, oops, a backtrace); the SRSO notice
# "Speculative Return Stack Overflow: WARNING: See ..." is advice, not a WARN.
KERNEL_PROBLEMS = re.compile(r"WARNING: CPU:|BUG:|Oops|Call Trace")


@pytest.fixture(scope="module")
def run(boots):
    return boots.get(QEMU)


@pytest.fixture(scope="module", params=[QEMU, BOCHS], ids=lambda b: b.emulator)
def each(request, boots):
    return boots.get(request.param)


def guest(run):
    """The VM's console lines, without the "[linux] " prefix."""
    return [line[len("[linux] "):] for line in run.lines if line.startswith("[linux] ")]


def init_lines(run):
    return [line[len("corevisor: "):] for line in guest(run) if line.startswith("corevisor: ")]


def test_linux_reaches_init_with_every_cpu(each):
    up = [line for line in init_lines(each) if line.startswith("init up")]
    assert len(up) == 1, each.describe(60)
    cpus = 3 if each.emulator == "qemu" else 2
    want = rf"init up, kernel 6\.1\.0-\d+-amd64, {cpus} cpus online, uptime [0-9.]+ s"
    assert re.fullmatch(want, up[0]), up


def test_the_kernel_reports_no_problem(each):
    problems = [line for line in guest(each) if KERNEL_PROBLEMS.search(line)]
    assert problems == [], problems
    assert not each.of_type("panic")


def test_the_guest_knows_the_date(run):
    """Its wall clock (KVM's, at the VM's first entry) is the host's CMOS RTC read at boot plus
    the TSC since: within an hour of the host's clock (QEMU's RTC keeps the host's UTC)."""
    date = [line for line in init_lines(run) if line.startswith("date ")]
    assert len(date) == 1, init_lines(run)
    assert abs(int(date[0].split()[1]) - time.time()) < 3600, date


def test_every_virtio_module_loads(run):
    assert [line for line in init_lines(run) if "insmod" in line] == []


def test_the_disk_keeps_what_was_written(run):
    blk = [line for line in init_lines(run) if line.startswith("blk ")]
    assert len(blk) == 1 and re.fullmatch(r"blk ok [0-9a-f]{32}", blk[0]), blk


def test_virtio_interrupts_land_on_the_turbo_vcpu(run):
    """/proc/interrupts after the disk check: the request queue's interrupts were all taken by
    CPU 2, the turbo vCPU (init names it from corevisor.turbo_cpu=2, which the loader adds)."""
    assert "turbo cpu 2, work on cpus 0-1" in init_lines(run)
    req = [line for line in init_lines(run) if line.startswith("irq ") and "virtio0-req" in line]
    assert len(req) == 1, init_lines(run)
    counts = [int(n) for n in req[0].split(":")[1].split()[:3]]
    assert counts[0] == 0 and counts[1] == 0 and counts[2] > 0, req


def test_the_guest_powers_off_through_acpi(each):
    stopped = [(r["vm"], r["reason"]) for r in each.of_type("vm_stopped")]
    assert stopped == [("linux", "powered off by the guest (ACPI S5)")], each.describe()
    assert "done" in init_lines(each)


def test_the_turbo_vcpu_takes_device_interrupts_without_exits(run):
    """The VM has a device served by an I/O core and runs in 64-bit mode: its turbo vCPU, which
    takes the device interrupts, is set up for exitless delivery (an interrupt that finds it
    halted goes through its IRR instead). Its two regular vCPUs share one regular core, and SVM
    has no preemption timer: they use injection (kernel/vm.c, use_exitless_delivery)."""
    delivery = {r["vcpu"]: r["mechanism"] for r in run.of_type("delivery") if r["vm"] == "linux"}
    assert delivery == {0: "inject", 1: "inject", 2: "exitless"}, delivery
