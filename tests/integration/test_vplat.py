"""The virtual platform every VM gets (issue 10, kernel/vplat_devices.h): a 16550A UART as COM1
whose lines reach the log as "[vm] text", escaped like every guest's text, and an I/O APIC that
routes COM1's interrupt (ISA IRQ 4, pin 4) to a vCPU's virtual local APIC.

guest-shim's `uart` workload (guest-shim/uart.c) writes lines polling LSR, one with a record
in it and one that starts with one; then it routes pin 4 edge-triggered to its own APIC ID and
writes a line from its THRE interrupt handler: N bytes take exactly N + 1 THRE interrupts.
Three VMs share the core: `serial` drives its APIC in xAPIC mode, `serial-x2` in x2APIC mode (on
Bochs/VT-x with APIC virtualization), both with pin 4 edge-triggered; `serial-level` routes it
level-triggered, so each interrupt after the first is delivered by the EOI of the one before
(remote IRR, the local APIC's TMR and its EOI message back to the I/O APIC)."""
import json

import pytest

from conftest import Boot

QEMU = Boot("vplat-qemu", "qemu", "good/uart.json", cpus=1, timeout=120)
BOCHS = Boot("vplat-bochs", "bochs", "good/uart.json", cpus=1, timeout=300,
             options=(("model", "corei7_skylake_x"),))
BOOTS = [QEMU, BOCHS]
VMS = ["serial", "serial-x2", "serial-level"]
IRQ_LINE = "uart: written from THRE interrupts"
IOAPIC_VERSION = 0x170020  # 24 entries (highest 0x17), version 0x20


def expected_lines(vm):
    return [
        f"[{vm}] uart: polled line one",
        f'[{vm}] uart: @{{"type":"forged","trick":"uart"}}',
        f'[{vm}] @{{"type":"forged","trick":"uart-line-start"}}',
        f"[{vm}] {IRQ_LINE}",
    ]


def reports(run, vm):
    return {r["key"]: r["value"] for r in run.of_type("guest_report") if r["vm"] == vm}


@pytest.fixture(scope="module", params=BOOTS, ids=lambda b: b.emulator)
def run(request, boots):
    return boots.get(request.param)


def test_vms_power_off_normally(run):
    stopped = {r["vm"]: r["reason"] for r in run.of_type("vm_stopped")}
    assert stopped == {vm: "powered off by the guest, code 0" for vm in VMS}, run.describe()
    assert run.ended == "poweroff" and not run.of_type("panic")


@pytest.mark.parametrize("vm", VMS)
def test_uart_lines_reach_the_log_in_order(run, vm):
    mine = [line for line in run.lines if line.startswith(f"[{vm}] ")]
    assert mine == expected_lines(vm), run.describe(60)


def test_guest_records_stay_text(run):
    """The guest's `@{"type":"forged",...}` is never a record: no line of it starts with '@'."""
    assert not run.malformed, run.malformed
    assert not run.of_type("forged")
    for line in run.lines:
        if line.startswith("@"):
            assert json.loads(line[1:])["type"] != "forged", line


@pytest.mark.parametrize("vm", VMS)
def test_thre_interrupts_are_exact(run, vm):
    got = reports(run, vm)
    n = len(IRQ_LINE) + 1  # with its newline
    assert got["uart_tx_bytes"] == n, got
    assert got["uart_thre_irqs"] == n + 1, got  # one more: it turns ETBEI off
    assert got["uart_other_irqs"] == 0, got
    assert got["ioapic_version"] == IOAPIC_VERSION, got
