"""Shared fixtures: the built hypervisor, ISOs per manifest, and emulator runs."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import emu  # noqa: E402
import isobuild  # noqa: E402

MANIFESTS = os.path.join(ROOT, "tests", "integration", "manifests")
ISO_DIR = os.path.join(ROOT, "build", "iso")


@pytest.fixture(scope="session", autouse=True)
def built():
    """Everything the ISOs hold, built once per session."""
    subprocess.run(["make", "-s", "-C", ROOT, "all"], check=True)


def make_iso(manifest, cmdline="", tag=None):
    """An ISO booting `manifest` (a path relative to tests/integration/manifests)."""
    name = tag or os.path.splitext(manifest.replace("/", "-"))[0]
    out = os.path.join(ISO_DIR, name + ".iso")
    return isobuild.build_iso(os.path.join(MANIFESTS, manifest), out, cmdline=cmdline)
