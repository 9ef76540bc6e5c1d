"""The emulator runner's choice of accelerator (tools/emu.py kvm_nesting): KVM only where /dev/kvm
is usable, the CPU has VMX or SVM and the KVM module nests, with COREVISOR_ACCEL to override;
TCG otherwise, and always with -icount. A fake /proc, /sys and /dev stand in for the machine:
the project's own machines have no nesting KVM, so the KVM path itself is not run here."""
import pytest

from conftest import emu


def fake_machine(tmp_path, flags, module=None, nested="Y", kvm=True):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cpuinfo").write_text(f"processor : 0\nflags : fpu {flags} sse\n")
    if module:
        d = tmp_path / "sys" / "module" / module / "parameters"
        d.mkdir(parents=True)
        (d / "nested").write_text(nested + "\n")
    (tmp_path / "dev").mkdir()
    if kvm:
        (tmp_path / "dev" / "kvm").write_text("")
    return str(tmp_path)


@pytest.mark.parametrize("flags,module,nested,kvm,want", [
    ("vmx", "kvm_intel", "Y", True, "vmx"),
    ("svm", "kvm_amd", "1", True, "svm"),
    ("vmx", "kvm_intel", "N", True, None),   # nesting off
    ("svm", "kvm_amd", "0", True, None),
    ("vmx", None, "Y", True, None),          # no KVM module loaded
    ("vmx", "kvm_intel", "Y", False, None),  # no /dev/kvm
    ("", "kvm_intel", "Y", True, None),      # no hardware virtualization to pass on
])
def test_detection(tmp_path, flags, module, nested, kvm, want):
    root = fake_machine(tmp_path, flags, module, nested, kvm)
    assert emu.kvm_nesting(root, env={}) == want


def test_environment_overrides(tmp_path):
    intel, amd = tmp_path / "intel", tmp_path / "amd"
    intel.mkdir()
    amd.mkdir()
    root = fake_machine(intel, "vmx", "kvm_intel", "N")
    assert emu.kvm_nesting(root, env={"COREVISOR_ACCEL": "kvm"}) == "vmx"
    root = fake_machine(amd, "svm", "kvm_amd", "1")
    assert emu.kvm_nesting(root, env={"COREVISOR_ACCEL": "tcg"}) is None


def test_tcg_here_and_with_icount(monkeypatch):
    monkeypatch.setenv("COREVISOR_ACCEL", "tcg")
    assert emu.qemu_command("x.iso")[1:5] == ["-accel", "tcg", "-cpu", "EPYC"]
    monkeypatch.setenv("COREVISOR_ACCEL", "kvm")
    assert emu.qemu_accel(icount=3)[:2] == ["-accel", "tcg"]  # -icount is TCG's alone
