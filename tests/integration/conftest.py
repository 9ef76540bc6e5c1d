"""Shared fixtures of the integration tests: the build, ISOs, and emulator boots.

Boots are what takes the time, and most of it is one emulator thread waiting on itself; so they
run side by side. A test module lists the boots it needs in a module-level `BOOTS` list of Boot
objects. Once pytest has collected the session, every listed boot of a selected module starts
on a pool of BOOT_WORKERS threads, longest first, while the tests consume the results in their
own order: `boots.get(boot)` waits for a boot's Run (and starts a boot nobody listed).
"""
import concurrent.futures
import dataclasses
import json
import os
import subprocess
import sys
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import emu  # noqa: E402
import isobuild  # noqa: E402

MANIFESTS = os.path.join(ROOT, "tests", "integration", "manifests")
ISO_DIR = os.path.join(ROOT, "build", "iso")
# Emulators at once: two on the 2-core CI machine, more where there are cores to spare.
BOOT_WORKERS = int(os.environ.get("COREVISOR_BOOT_WORKERS", max(2, (os.cpu_count() or 2) // 2)))


@dataclasses.dataclass(frozen=True)
class Boot:
    """One emulator boot of one manifest; `name` names its log, build/logs/<name>.log."""

    name: str
    emulator: str  # "qemu" (SVM) or "bochs" (VT-x)
    manifest: str  # relative to tests/integration/manifests
    cpus: int = 1
    cmdline: str = ""
    timeout: float = 90
    options: tuple = ()  # more run_qemu/run_bochs keywords, as (key, value) pairs
    manifest_name: str = "manifest"  # the GRUB module name the manifest gets

    def option(self, key, default=None):
        return dict(self.options).get(key, default)

    def cost(self):
        """A rough guess of the seconds it takes, to start the long ones first."""
        if self.emulator == "bochs":
            return 5 * self.cpus
        return 5 if self.option("uefi") else 1

    def run(self):
        iso = isobuild.build_iso(os.path.join(MANIFESTS, self.manifest), cmdline=self.cmdline,
                                 manifest_name=self.manifest_name)
        kw = dict(self.options)
        kw["smp" if self.emulator == "qemu" else "cpus"] = self.cpus
        return emu.boot(self.emulator, iso, self.name, timeout=self.timeout, **kw)


class BootPool:
    """Runs Boots on a few threads, each boot once per session."""

    def __init__(self, workers):
        self._executor = concurrent.futures.ThreadPoolExecutor(workers, "boot")
        self._futures = {}
        self._lock = threading.Lock()

    def start(self, boot):
        with self._lock:
            known = self._futures.get(boot.name)
            if known is None:
                self._futures[boot.name] = (boot, self._executor.submit(boot.run))
            elif known[0] != boot:
                raise ValueError(f"two different boots are named {boot.name!r}")
            return self._futures[boot.name][1]

    def get(self, boot):
        return self.start(boot).result()

    def shutdown(self):
        self._executor.shutdown(wait=True, cancel_futures=True)


POOL = BootPool(BOOT_WORKERS)
_build = {}


def _make_all():
    """`make all` once per session; the result is kept for the `built` fixture to report."""
    if not _build:
        r = subprocess.run(["make", "-s", "-C", ROOT, "all"], capture_output=True, text=True)
        _build.update(ok=r.returncode == 0, output=r.stdout + r.stderr)
    return _build["ok"]


def pytest_collection_finish(session):
    """Start the boots of every module that has a selected test, longest first."""
    if session.config.option.collectonly or not session.items:
        return
    modules = list(dict.fromkeys(item.module for item in session.items if item.module))
    listed = [boot for m in modules for boot in getattr(m, "BOOTS", ())]
    if listed and _make_all():
        for boot in sorted(listed, key=Boot.cost, reverse=True):
            POOL.start(boot)


def pytest_sessionfinish(session):
    POOL.shutdown()


@pytest.fixture(scope="session", autouse=True)
def built():
    """Everything the ISOs hold, built once per session."""
    assert _make_all(), "make all failed:\n" + _build["output"]


@pytest.fixture(scope="session")
def boots(built):
    """The session's BootPool: `boots.get(Boot(...))` is that boot's emu.Run."""
    return POOL


def make_iso(manifest, cmdline="", tag=None):
    """An ISO booting `manifest` (a path relative to tests/integration/manifests), also linked
    as build/iso/<tag>.iso for people to boot by hand."""
    name = tag or os.path.splitext(manifest.replace("/", "-"))[0]
    out = os.path.join(ISO_DIR, name + ".iso")
    return isobuild.build_iso(os.path.join(MANIFESTS, manifest), out, cmdline=cmdline)


def manifest_json(manifest):
    """The parsed manifest (a path relative to tests/integration/manifests)."""
    with open(os.path.join(MANIFESTS, manifest)) as f:
        return json.load(f)
