"""Every invalid manifest is refused at boot with a record naming the field and the reason,
then the machine stops cleanly: no panic, no hang (a timeout fails the test)."""
import json
import os

import pytest

from conftest import MANIFESTS, Boot

with open(os.path.join(MANIFESTS, "bad", "expected.json")) as f:
    EXPECTED = json.load(f)


def bad_boot(file):
    return Boot("bad-" + file[:-len(".json")], "qemu", "bad/" + file, cpus=1, timeout=60)


# the manifest is in the ISO, but under another module name than "manifest"
NO_MANIFEST = Boot("no-manifest", "qemu", "good/smp1.json", cpus=1, timeout=60,
                   manifest_name="config")
BOOTS = [bad_boot(file) for file in sorted(EXPECTED)] + [NO_MANIFEST]


def stopped_cleanly(run):
    assert not run.of_type("panic"), run.describe()
    assert run.ended == "halt", run.describe()
    assert not run.of_type("boot_done"), run.describe()


def test_every_bad_manifest_has_an_expectation():
    files = {f for f in os.listdir(os.path.join(MANIFESTS, "bad")) if f != "expected.json"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_bad_manifest_rejected_at_boot(boots, file):
    want = EXPECTED[file]
    run = boots.get(bad_boot(file))
    m = run.one("manifest")
    assert m["status"] == "rejected", m
    assert m["field"] == want["field"], m
    assert want["reason_contains"] in m["reason"], m
    stopped_cleanly(run)


def test_missing_manifest_module_rejected(boots):
    run = boots.get(NO_MANIFEST)
    m = run.one("manifest")
    assert (m["status"], m["field"]) == ("rejected", "manifest"), m
    assert run.ended == "halt", run.describe()
    stopped_cleanly(run)
