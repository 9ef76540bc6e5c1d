"""Sidecore virtio I/O (issue: virtio-pci devices served by polling I/O cores) in the emulators:
virtio-blk verifies every byte of a 16 MiB ramdisk, two VMs exchange 10 000 frames over a virtual
switch, every malformed request puts only its own device in NEEDS_RESET while a neighbour's I/O
finishes, and a VM's requests cost it (almost) no exits in sidecore mode and at least one each in
exit mode. Exit counts come from the `@mark` records the guest's phase marks produce, so the
driver's set-up is not counted."""
import json
import os
import subprocess

import pytest

from conftest import ROOT, Boot, manifest_json

BAD_CASES = [vm["cmdline"].split("case=")[1]
             for part in ("good/vio_bad1.json", "good/vio_bad2.json")
             for vm in manifest_json(part)["vms"] if "case=" in vm["cmdline"]]

VIO = {
    "qemu-svm": Boot("vio-qemu", "qemu", "good/vio.json", cpus=2, timeout=240),
    "bochs-vmx": Boot("vio-bochs", "bochs", "good/vio.json", cpus=2, timeout=600,
                      options=(("model", "corei7_skylake_x"),)),
}
BOCHS = (("model", "corei7_skylake_x"),)
BAD = {(n, emulator): Boot(f"vio-bad{n}-{emulator}", emulator, f"good/vio_bad{n}.json", cpus=2,
                           timeout=240 if emulator == "qemu" else 600,
                           options=() if emulator == "qemu" else BOCHS)
       for n in (1, 2) for emulator in ("qemu", "bochs")}
SIDECORE = {e: Boot(f"vio-sidecore-{e}", e, "good/vio_sidecore.json", cpus=2,
                    timeout=300 if e == "qemu" else 900, options=() if e == "qemu" else BOCHS)
            for e in ("qemu", "bochs")}
EXIT_MODE = {e: Boot(f"vio-exit-{e}", e, "good/vio_exit.json", cpus=2,
                     timeout=300 if e == "qemu" else 900, options=() if e == "qemu" else BOCHS)
             for e in ("qemu", "bochs")}
BOOTS = list(VIO.values()) + list(BAD.values()) + list(SIDECORE.values()) + list(EXIT_MODE.values())


def reports(run, vm):
    return {r["key"]: r["value"] for r in run.of_type("guest_report") if r["vm"] == vm}


def stopped(run):
    return {r["vm"]: r["reason"] for r in run.of_type("vm_stopped")}


def final_io(run, vm):
    return [r for r in run.of_type("io_stats") if r["vm"] == vm and r["final"]]


def phase_exits(run, vm, reason):
    """Exits of one reason between the guest's marks 0 and 1."""
    marks = [r for r in run.of_type("mark") if r["vm"] == vm]
    assert len(marks) == 2, run.describe()
    return marks[1][f"exit_{reason}"] - marks[0][f"exit_{reason}"]


@pytest.fixture(scope="module", params=sorted(VIO))
def vio(request, boots):
    return boots.get(VIO[request.param])


def test_every_vm_finishes(vio):
    assert stopped(vio) == {**{vm: "powered off by the guest, code 0"
                               for vm in ("disk", "tx", "rx", "plain", "bad")},
                            "typo": "powered off by the guest, code 2"}, vio.describe()
    assert vio.ended == "poweroff" and not vio.of_type("panic")


def test_unknown_workload_fails_its_vm(vio):
    assert "[typo] guest-shim: unknown workload blk-bnech" in vio.text


def test_malformed_request_stops_only_its_device_on_both_vendors(vio):
    (err,) = vio.of_type("vio_error")
    assert err["vm"] == "bad" and err["reason"].startswith("an indirect table")
    r = reports(vio, "bad")
    assert r["vio_needs_reset"] == 1 and r["vio_recovered"] == 1


def test_blk_verifies_every_byte_of_the_disk(vio):
    r = reports(vio, "disk")
    disk = 16 << 20
    assert r["blk_errors"] == 0
    assert r["blk_bytes"] == 2 * disk  # written once, read back once, each byte checked
    (io,) = final_io(vio, "disk")
    assert io["write_bytes"] == disk and io["read_bytes"] == disk
    assert io["requests"] == r["blk_requests"] + 1  # GET_ID is not a data request
    assert io["status"] == "ok" and io["io_core"] == 1


def test_ten_thousand_frames_over_the_switch(vio):
    tx, rx = reports(vio, "tx"), reports(vio, "rx")
    assert tx["net_sent"] == 10000
    assert rx["net_received"] == 10000 and rx["net_bad"] == 0  # payloads and order verified
    (txio,), (rxio,) = final_io(vio, "tx"), final_io(vio, "rx")
    assert txio["tx_frames"] >= 10000 and rxio["rx_frames"] >= 10000
    assert rxio["rx_bytes"] >= 10000 * 1000
    for io in (txio, rxio):
        # (a READY frame the receiver sends before the sender's device is live may be dropped
        # as drop_down: the flood itself is counted exactly above)
        assert io["drop_bad_frame"] == 0, io


def test_a_vm_without_devices_is_unchanged(vio):
    plain = {r["vm"]: r for r in vio.of_type("vm_stats")}["plain"]
    assert plain["exit_cpuid"] == 1001  # the workload's 1000 and the hypercall probe
    assert plain["exit_npf"] == 0 and not final_io(vio, "plain")


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
@pytest.mark.parametrize("case", BAD_CASES)
def test_malformed_request_stops_only_its_device(boots, case, emulator):
    part = 1 if case in manifest_vm_cases("good/vio_bad1.json") else 2
    run = boots.get(BAD[part, emulator])
    vm = "bad-" + case
    errors = [e for e in run.of_type("vio_error") if e["vm"] == vm]
    assert len(errors) == 1, run.describe()
    assert errors[0]["device"] == 0 and errors[0]["reason"]
    r = reports(run, vm)
    assert r["vio_needs_reset"] == 1  # the guest saw status bit 0x40
    assert r["vio_recovered"] == 1  # ... and the device worked again after a reset
    assert stopped(run)[vm] == "powered off by the guest, code 0"


def manifest_vm_cases(part):
    return [vm["cmdline"].split("case=")[1] for vm in manifest_json(part)["vms"]
            if "case=" in vm["cmdline"]]


@pytest.mark.parametrize("boot", BAD.values(), ids=lambda b: b.name)
def test_neighbour_io_finishes_beside_bad_devices(boots, boot):
    run = boots.get(boot)
    assert not run.of_type("panic") and run.ended == "poweroff", run.describe()
    assert stopped(run)["neighbour"] == "powered off by the guest, code 0"
    assert reports(run, "neighbour")["blk_errors"] == 0
    assert not [e for e in run.of_type("vio_error") if e["vm"] == "neighbour"]
    bad_vms = {vm["name"] for vm in manifest_json(boot.manifest)["vms"]} - {"neighbour"}
    assert {e["vm"] for e in run.of_type("vio_error")} == bad_vms


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_sidecore_requests_cost_no_exits(boots, emulator):
    run = boots.get(SIDECORE[emulator])
    r = reports(run, "bench")
    assert r["blk_requests"] == 10000 and r["blk_errors"] == 0, run.describe()
    exits = phase_exits(run, "bench", "npf") + phase_exits(run, "bench", "io")
    assert exits < 0.01 * r["blk_requests"], exits
    assert r["blk_kicks"] == phase_exits(run, "bench", "npf")  # every notify write exits


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_exit_mode_requests_exit_each(boots, emulator):
    run = boots.get(EXIT_MODE[emulator])
    r = reports(run, "bench")
    assert r["blk_requests"] == 10000 and r["blk_errors"] == 0, run.describe()
    exits = phase_exits(run, "bench", "npf") + phase_exits(run, "bench", "io")
    assert exits >= r["blk_requests"], exits
    (io,) = final_io(run, "bench")
    assert io["io_core"] == -1 and io["exit_mode_runs"] >= r["blk_requests"]


def test_cvtop_snapshot_of_the_run(vio):
    """tools/cvtop --once --json on this emulator run's console: every virtio device with the
    figures of its final @io_stats record, and the VMs the run had."""
    out = subprocess.run([os.path.join(ROOT, "tools", "cvtop"), "--once", "--json",
                          os.path.join(ROOT, "build", "logs", vio.name + ".log")],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    snap = json.loads(out)
    devices = {(d["vm"], d["device"]): d for d in snap["devices"]}
    finals = [r for r in vio.of_type("io_stats") if r["final"]]
    assert set(devices) == {(r["vm"], r["device"]) for r in finals}
    for r in finals:
        d = devices[r["vm"], r["device"]]
        assert d["final"] and d["kicks"] == r["kicks"] and d["irqs"] == r["irqs"], d
        if r["device_type"] == "virtio-blk":
            assert d["requests"] == r["requests"] and d["bytes"] == r["bytes"], d
        else:
            assert d["tx_frames"] == r["tx_frames"] and d["rx_frames"] == r["rx_frames"], d
    names = {v["name"] if isinstance(v, dict) else v for v in snap["vms"]}
    assert {"disk", "tx", "rx", "plain", "bad", "typo"} <= names, names
