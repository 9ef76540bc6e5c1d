"""tools/check-manifest finds on the host what the hypervisor would refuse at boot."""
import glob
import json
import os
import re
import subprocess

import jsonschema
import pytest

from conftest import MANIFESTS, ROOT

CHECK = os.path.join(ROOT, "tools", "check-manifest")
GOOD = sorted(glob.glob(os.path.join(MANIFESTS, "good", "*.json")))
with open(os.path.join(MANIFESTS, "bad", "expected.json")) as f:
    EXPECTED = json.load(f)


def run_check(*args):
    return subprocess.run([CHECK, *args], capture_output=True, text=True)


@pytest.mark.parametrize("path", GOOD, ids=os.path.basename)
def test_good_manifest_passes(path):
    r = run_check(path)
    assert r.returncode == 0 and r.stdout.strip().endswith(": ok"), r.stdout


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["host_check"]))
def test_bad_manifest_fails_naming_the_field(name):
    r = run_check(os.path.join(MANIFESTS, "bad", name))
    assert r.returncode == 1
    field = r.stdout.split(": ", 2)[1]
    assert field == EXPECTED[name]["field"], r.stdout


def test_cpu_count_checked_when_given():
    path = os.path.join(MANIFESTS, "bad", "cpu_missing.json")
    assert run_check(path).returncode == 0  # machine-dependent: fine without --cpus
    r = run_check("--cpus", "1", path)
    assert r.returncode == 1 and "cores.turbo[0]" in r.stdout


def test_schema_is_valid_and_accepts_good_manifests():
    with open(os.path.join(ROOT, "docs", "manifest.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in GOOD:
        with open(path) as f:
            jsonschema.validate(json.load(f), schema, cls=jsonschema.Draft202012Validator)


def test_schema_cpu_ids_follow_the_build_limit():
    """The schema accepts exactly the CPU ids the hypervisor does: 0..CONFIG_MAX_CPUS-1."""
    with open(os.path.join(ROOT, "lib", "config.h")) as f:
        limit = int(re.search(r"#define CONFIG_MAX_CPUS\s+(\d+)", f.read()).group(1))
    with open(os.path.join(ROOT, "docs", "manifest.schema.json")) as f:
        defs = json.load(f)["$defs"]
    assert defs["cpu_id"]["maximum"] == limit - 1
    assert defs["cpu_list"]["maxItems"] == limit
    top = os.path.join(ROOT, "build", "manifests", "cpu-limit.json")
    os.makedirs(os.path.dirname(top), exist_ok=True)
    for cpu, ok in ((limit - 1, True), (limit, False)):
        with open(top, "w") as f:
            json.dump({"cores": {"regular": [cpu]}}, f)
        assert (run_check(top).returncode == 0) == ok, cpu
