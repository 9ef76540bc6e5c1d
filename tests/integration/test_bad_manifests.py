"""Every invalid manifest is refused at boot with a line naming the field and the reason,
then the machine halts cleanly: no panic, no hang."""
import json
import os

import pytest

from conftest import MANIFESTS, emu, make_iso

with open(os.path.join(MANIFESTS, "bad", "expected.json")) as f:
    EXPECTED = json.load(f)


def test_every_bad_manifest_has_an_expectation():
    files = {f for f in os.listdir(os.path.join(MANIFESTS, "bad")) if f != "expected.json"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_manifest_rejected_at_boot(name):
    want = EXPECTED[name]
    run = emu.run_qemu(make_iso("bad/" + name), "bad-" + name[:-5], smp=1, timeout=60)
    assert not run.of_type("panic"), run.tail()
    m = run.one("manifest")
    assert m["status"] == "rejected", m
    assert m["field"] == want["field"], m
    assert want["reason_contains"] in m["reason"], m
    assert run.ended == "halt", f"ended by {run.ended}\n{run.tail()}"
    assert not run.of_type("boot_done")


def test_missing_manifest_module_rejected():
    from conftest import ISO_DIR, isobuild

    iso = os.path.join(ISO_DIR, "no-manifest.iso")
    # the manifest file is there, but under another module name
    isobuild.build_iso(os.path.join(MANIFESTS, "good", "smp1.json"), iso, manifest_name="config")
    run = emu.run_qemu(iso, "no-manifest", smp=1, timeout=60)
    m = run.one("manifest")
    assert (m["status"], m["field"]) == ("rejected", "manifest")
    assert run.ended == "halt"
