"""tools/cvtop on a recorded console of every emulator scenario of the suite (issue 13): the logs
in tests/integration/data/cvtop_logs/ (made by tools/cvtop-logs from the integration tests' own
boots; its README says which test and emulator each comes from). Host only, no emulator.

Each log is read twice: by the real `tools/cvtop --once --json` (and the text `--once`), and
here, line by line with json.loads. The snapshot must show what the log says: the machine's
state, every core with its role and last counters, every VM the records name with its last exit
counters, state and reports, every virtio device, the guests' lines, and the rates of the last
two rounds. The same holds for each log cut at a seeded random byte offset, cut inside a record,
and with its lines interleaved with another scenario's."""
import concurrent.futures
import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import random
import re
import subprocess
import zlib

import pytest

from conftest import ROOT

CVTOP = os.path.join(ROOT, "tools", "cvtop")
RECORDER = os.path.join(ROOT, "tools", "cvtop-logs")
DATA = os.path.join(ROOT, "tests", "integration", "data", "cvtop_logs")
LOGS = sorted(f[:-len(".log")] for f in os.listdir(DATA) if f.endswith(".log"))
# the manifest's stats_interval_ms where it is not cvtop's default (1000): no record carries it
INTERVAL_MS = {"vms-timeslice": 100}
GUEST_KEEP, VM_CONSOLE_KEEP, VM_ERRORS_KEEP = 500, 200, 20  # what cvtop keeps
GUEST = re.compile(r"\[([^\]\s]{1,64})\] ?(.*)\Z", re.S)  # docs/architecture.md: `[vm] text`
LATENCY = ("irq_p50_ns", "irq_p99_ns", "irq_max_ns")
VM_COUNTERS = ("irqs", "timer_irqs", "ipis", "regular_us", "turbo_us")
CORE_COUNTERS = ("picks", "idle_picks", "preemptions", "busy_us")
STATE_LETTERS = {"running": "R", "stopped": "S", "skipped": "-"}


def load(path, name):
    """A tool without a .py suffix as a module."""
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


cvtop = load(CVTOP, "cvtop")


@pytest.fixture(scope="session", autouse=True)
def built():
    """Host only: nothing here needs the hypervisor built (this replaces conftest's `make all`)."""


def log_bytes(name):
    with open(os.path.join(DATA, name + ".log"), "rb") as f:
        return f.read()


def interval_s(name):
    return INTERVAL_MS.get(name, 1000) / 1000


def run_cvtop(name, *options):
    """The real program on a recorded log: `tools/cvtop --once OPTIONS LOG`."""
    return subprocess.run([CVTOP, "--once", "--interval-ms", str(INTERVAL_MS.get(name, 1000)),
                           *options, os.path.join(DATA, name + ".log")],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def real_runs():
    """(log, "--json" or "text") -> the real program's run on it, all started up front, a few at
    a time: each is mostly an interpreter starting."""
    jobs = [(name, how) for name in LOGS for how in ("--json", "text")]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        runs = pool.map(lambda job: run_cvtop(job[0], *([job[1]] if job[1] != "text" else [])),
                        jobs)
        return dict(zip(jobs, runs))


def output(real_runs, name, how):
    run = real_runs[(name, how)]
    assert run.returncode == 0, run.stderr
    return run.stdout


def cvtop_main_json(path, name):
    """`tools/cvtop --once --json PATH` in this process (the same main(); no interpreter start)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cvtop.main(["--once", "--json", "--interval-ms",
                           str(INTERVAL_MS.get(name, 1000)), path]) == 0
    return json.loads(out.getvalue())


# --- the log, read without cvtop ------------------------------------------------------------

def split_lines(data):
    """The lines as the protocol has them: split at \\n, UTF-8 (bad bytes replaced), CRs at the
    end dropped; a last piece without its newline is a line unless it is empty."""
    pieces = data.split(b"\n")
    last = pieces.pop()
    if last.strip(b"\r"):
        pieces.append(last)
    return [p.decode("utf-8", errors="replace").rstrip("\r") for p in pieces]


def parse_record(line):
    """`@` and a JSON object with a string "type", or None."""
    try:
        rec = json.loads(line[1:])
    except ValueError:
        return None
    return rec if isinstance(rec, dict) and isinstance(rec.get("type"), str) else None


def last_machine(records):
    """The records of the machine on screen: a `@hello` after a core or VM was seen is a new
    boot, whose counters start from zero."""
    start, seen = 0, False
    for i, rec in enumerate(records):
        if rec["type"] == "hello" and seen:
            start, seen = i, False
        elif rec["type"] in ("cpu_online", "core_stats") or "vm" in rec:
            seen = True
    return records[start:]


class Log:
    """A console log: its lines, records, malformed lines, guest lines, and the last machine."""

    def __init__(self, data):
        self.lines = split_lines(data)
        self.records, self.guest, self.malformed, self.human = [], [], 0, 0
        for line in self.lines:
            if line.startswith("@"):
                rec = parse_record(line)
                if rec is None:
                    self.malformed += 1
                else:
                    self.records.append(rec)
            elif line.startswith("[") and GUEST.match(line):
                self.guest.append(GUEST.match(line).groups())
            else:
                self.human += 1
        self.boot = last_machine(self.records)

    def of(self, *types):
        return [r for r in self.boot if r["type"] in types]

    def vm_names(self):
        """Every VM a record names, in order of first appearance."""
        return list(dict.fromkeys(r["vm"] for r in self.boot if "vm" in r))

    def machine(self):
        m = {"status": "booting"}
        for rec in self.boot:
            kind = rec["type"]
            if kind == "hello":
                m["version"] = rec["version"]
            elif kind == "acpi":
                m.setdefault("cpus", rec["cpus"])
            elif kind == "boot_done":
                m.update(status="running", cpus=rec["cpus"])
                m.pop("rejected", None)
            elif kind == "virt":
                m["virt"] = rec["backend"]
            elif kind == "manifest" and rec["status"] == "rejected":
                m["status"], m["rejected"] = "manifest rejected", rec
            elif kind in ("poweroff", "halt", "panic"):
                if not (kind == "halt" and m["status"] == "manifest rejected"):
                    m.pop("rejected", None)  # a halt keeps the refusal it follows
                m["status"], m["last"] = kind, rec
        return m

    def core_roles(self):
        roles = {}
        for rec in self.boot:
            if rec["type"] in ("cpu_online", "core_stats"):
                roles[rec["cpu"]] = rec["role"]
            elif rec["type"] == "io_stats" and rec["io_core"] >= 0 \
                    and roles.get(rec["io_core"], "?") == "?":
                roles[rec["io_core"]] = "io"
        return roles

    def devices(self):
        """(vm, index) -> the device's last @io_stats and its status, in cvtop's order: by the
        VM's first appearance, then index."""
        devs = {}
        for rec in self.boot:
            key = (rec.get("vm"), rec.get("device"))
            if rec["type"] == "io_stats":
                devs[key] = {"last": rec, "status": str(rec.get("status", "?"))}
            elif rec["type"] == "vio_error" and key in devs:
                devs[key]["status"] = "needs_reset"
        order = self.vm_names()
        return dict(sorted(devs.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])))


def named(items, **match):
    found = [i for i in items if all(i.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, [{k: i.get(k) for k in match} for i in items])
    return found[0]


def exits_of(rec):
    return {k[len("exit_"):]: v for k, v in rec.items() if k.startswith("exit_")}


# --- what the snapshot must show ------------------------------------------------------------

def check_counts(snap, log):
    assert snap["counts"] == {"lines": len(log.lines), "records": len(log.records),
                              "human": log.human, "guest": len(log.guest),
                              "malformed": log.malformed}
    assert snap["malformed_lines"] == log.malformed
    assert snap["guest_lines"] == [f"[{vm}] {text}" for vm, text in log.guest][-GUEST_KEEP:]


def check_machine(snap, log):
    want, got = log.machine(), snap["machine"]
    assert got["status"] == want["status"], got
    for key in ("version", "virt", "cpus"):
        assert got.get(key) == want.get(key), (key, got)
    if want["status"] in ("poweroff", "halt"):
        assert got["detail"].startswith(want["last"]["reason"]), got
    if want["status"] == "halt" and "rejected" in want:  # the refusal is not lost at the halt
        assert want["rejected"]["field"] in got["detail"], got
        assert want["rejected"]["reason"] in got["detail"], got
    if want["status"] == "panic":
        assert want["last"]["name"] in got["detail"], got


def check_cores(snap, log, rates, seconds):
    roles = log.core_roles()
    assert [(c["cpu"], c["role"]) for c in snap["cores"]] == sorted(roles.items())
    for core in snap["cores"]:
        samples = [r for r in log.of("core_stats") if r["cpu"] == core["cpu"]]
        if core["role"] == "io" or not samples:
            continue
        assert {k: core[k] for k in CORE_COUNTERS} == {k: samples[-1][k] for k in CORE_COUNTERS}
        if rates and len(samples) >= 2:
            before, last = samples[-2], samples[-1]
            assert core["busy_pct"] == round(
                100 * (last["busy_us"] - before["busy_us"]) / (seconds * 1e6), 2), core
            assert core["picks_per_s"] == round((last["picks"] - before["picks"]) / seconds, 3)


def check_vm(vm, log, rates, seconds):
    name = vm["name"]
    mine = [r for r in log.boot if r.get("vm") == name]
    state, reason = "running", None
    for rec in mine:
        if rec["type"] in ("vm_stats", "vm_stopped"):
            state = "stopped"
        if rec["type"] == "vm_stopped":
            reason = str(rec["reason"])
        if rec["type"] == "vm_skipped":
            state, reason = "skipped", f"{rec['field']}: {rec['reason']}"
    assert (vm["state"], vm["stop_reason"]) == (state, reason)
    counters = [r for r in mine if r["type"] in ("stats", "vm_stats", "mark")]
    if counters:  # the last @stats, @mark or @vm_stats: every exit reason and counter
        last = counters[-1]
        assert vm["exits"] == exits_of(last), name
        assert vm["exits_total"] == sum(exits_of(last).values())
        for key in VM_COUNTERS + ("vcpus", "cpu"):
            assert vm[key] == last.get(key), (name, key)
    else:
        assert vm["exits"] == {} and vm["vcpus"] is None
    reports = {r["key"]: r["value"] for r in mine if r["type"] == "guest_report"}
    assert {k: vm[k] for k in LATENCY} == {k: reports.pop(k, None) for k in LATENCY}
    assert vm["reports"] == reports
    assert vm["errors"] == [f"device {r['device']} queue {r.get('queue')}: {r['reason']}"
                            for r in mine if r["type"] == "vio_error"][-VM_ERRORS_KEEP:]
    console = [text for v, text in log.guest if v == name]
    if len(log.guest) <= GUEST_KEEP:
        assert vm["console"] == console[-VM_CONSOLE_KEEP:]
    periodic = [r for r in mine if r["type"] == "stats"]
    if state != "running" or len(periodic) < 2:
        assert vm["exits_per_s"] is None
    elif rates:  # the last two rounds
        before, last = periodic[-2:]
        delta = {k: v - exits_of(before)[k] for k, v in exits_of(last).items()}
        assert vm["exits_per_s"] == round(sum(delta.values()) / seconds, 3), name
        assert vm["exit_rates"] == {k: round(v / seconds, 3) for k, v in delta.items()}
        assert vm["irqs_per_s"] == round((last["irqs"] - before["irqs"]) / seconds, 3)
        assert vm["cpu_pct_regular"] == round(
            100 * (last["regular_us"] - before["regular_us"]) / (seconds * 1e6), 2)
        assert vm["cpu_pct_turbo"] == round(
            100 * (last["turbo_us"] - before["turbo_us"]) / (seconds * 1e6), 2)


def check_vms(snap, log, rates, seconds):
    assert [vm["name"] for vm in snap["vms"]] == log.vm_names()
    for vm in snap["vms"]:
        check_vm(vm, log, rates, seconds)


def check_devices(snap, log):
    want = log.devices()
    assert [(d["vm"], d["device"]) for d in snap["devices"]] == list(want)
    for dev in snap["devices"]:
        w = want[(dev["vm"], dev["device"])]
        last = w["last"]
        net = "tx_frames" in last
        requests = last["tx_frames"] + last["rx_frames"] if net else last["requests"]
        assert (dev["type"], dev["io_core"], dev["final"], dev["status"]) == (
            last["device_type"], last["io_core"], last.get("final") is True, w["status"])
        assert (dev["requests"], dev["kicks"], dev["irqs"]) == (
            requests, last["kicks"], last["irqs"])
        if net and last["device_type"] == "virtio-net":
            assert (dev["frames"], dev["tx_frames"], dev["rx_frames"]) == (
                requests, last["tx_frames"], last["rx_frames"])
        if dev["final"]:  # no rates; the ratios are the totals'
            assert dev["requests_per_s"] is None
            assert dev["kicks_per_request"] == (
                round(last["kicks"] / requests, 4) if requests else None)
            assert dev["requests_per_irq"] == (
                round(requests / last["irqs"], 4) if last["irqs"] else None)
    for core in snap["cores"]:
        if core["role"] == "io":
            assert core["devices"] == [f"{vm}/{i}" for (vm, i), w in want.items()
                                       if w["last"]["io_core"] == core["cpu"]]


def check_snapshot(snap, log, rates=True, seconds=1.0):
    """Everything the log says, in cvtop's --json snapshot. `rates`: the rates of the last two
    rounds too (one log, rounds in order)."""
    check_counts(snap, log)
    check_machine(snap, log)
    check_cores(snap, log, rates, seconds)
    check_vms(snap, log, rates, seconds)
    check_devices(snap, log)


def section(text, title):
    """The lines of one section of the text snapshot (up to the blank line after it)."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i]), len(lines))
    return lines[start + 1:end]


def escaped(text):
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", text)


# --- the tests ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", LOGS)
def test_json_snapshot_shows_what_the_log_says(real_runs, name):
    log = Log(log_bytes(name))
    snap = json.loads(output(real_runs, name, "--json"))
    check_snapshot(snap, log, seconds=interval_s(name))
    assert log.malformed == 0, "a recorded log is whole"


@pytest.mark.parametrize("name", LOGS)
def test_text_snapshot_lists_every_core_vm_and_device(real_runs, name):
    log = Log(log_bytes(name))
    text = output(real_runs, name, "text")
    machine = log.machine()
    header = text.split("\n")[0]
    assert machine["status"] in header and f"lines {len(log.lines)}" in header
    if "cpus" in machine:
        assert f"{machine['cpus']} CPUs" in header
    if "rejected" in machine:
        assert machine["rejected"]["field"] in header
    cores = section(text, "CORES")[1:]
    assert [line.split()[:2] for line in cores] == [
        [str(cpu), role] for cpu, role in sorted(log.core_roles().items())]
    vms = section(text, "VMS")[1:]
    assert sorted(line[2:14].rstrip() for line in vms) == sorted(
        n[:12] for n in log.vm_names())
    states = {vm: "R" for vm in log.vm_names()}
    states.update({r["vm"]: "S" for r in log.of("vm_stopped", "vm_stats")})
    states.update({r["vm"]: "-" for r in log.of("vm_skipped")})
    assert {line[2:14].rstrip(): line[19] for line in vms} == {
        n[:12]: s for n, s in states.items()}
    devices = section(text, "VIRTIO DEVICES")[1:]
    assert [line.split()[:3] for line in devices] == [  # a device of no I/O core: exit mode
        [f"{vm}/{i}"[:10], w["last"]["device_type"][:11],
         str(w["last"]["io_core"]) if w["last"]["io_core"] >= 0 else "-"]
        for (vm, i), w in log.devices().items()]
    guest = text.split("\nGUEST CONSOLE\n")[1].split("\n")[:-1]
    assert guest == [escaped(f"[{vm}] {t}") for vm, t in log.guest][-10:]


@pytest.mark.parametrize("name", LOGS)
def test_detail_view_of_every_vm(name):
    """The detail view (Enter on a VM) from the snapshot: every exit reason with its total, the
    VM's state and why it stopped, its devices and last guest lines."""
    log = Log(log_bytes(name))
    snap = cvtop_main_json(os.path.join(DATA, name + ".log"), name)
    for vm in snap["vms"]:
        lines = [text for text, _ in cvtop.detail_lines(snap, vm["name"])]
        assert vm["state"] in lines[0] and (vm["stop_reason"] or "") in lines[0]
        for reason, total in vm["exits"].items():
            assert any(line.startswith(f"  {reason:<16} {total:>8} ") for line in lines), (
                vm["name"], reason)
        for dev in vm["devices"]:
            assert any(line.startswith("  " + dev[:10]) for line in lines), dev
        tail = [text for v, text in log.guest if v == vm["name"]][-50:]
        assert lines[len(lines) - len(tail):] == [f"  {t}" for t in tail]


def seeded(name, salt):
    return random.Random(zlib.crc32(f"{name}/{salt}".encode()))


@pytest.mark.parametrize("name", LOGS)
def test_truncated_at_a_random_byte(tmp_path, name):
    """The log as an emulator killed at any moment leaves it: what was written is shown."""
    data = log_bytes(name)
    cut = data[:seeded(name, "byte").randrange(1, len(data))]
    path = tmp_path / "cut.log"
    path.write_bytes(cut)
    check_snapshot(cvtop_main_json(str(path), name), Log(cut), seconds=interval_s(name))


@pytest.mark.parametrize("name", LOGS)
def test_cut_inside_a_record(tmp_path, name):
    """The last line a record cut before its end: one malformed line, the rest as before."""
    data = log_bytes(name)
    lines = data.split(b"\n")
    rng = seeded(name, "record")
    at = rng.choice([i for i, line in enumerate(lines) if line.startswith(b"@{")])
    cut = b"\n".join(lines[:at] + [lines[at][:rng.randrange(2, lines[at].rindex(b"}"))]])
    path = tmp_path / "cut.log"
    path.write_bytes(cut)
    log = Log(cut)
    assert log.malformed == 1
    snap = cvtop_main_json(str(path), name)
    assert snap["malformed_lines"] == 1
    check_snapshot(snap, log, seconds=interval_s(name))


@pytest.mark.parametrize("name", LOGS)
def test_interleaved_with_another_log(tmp_path, name):
    """Two consoles' lines mixed (two machines on one log, or a serial line shared): no crash,
    no line lost or miscounted, and what is shown is the last records of each VM and core."""
    other = LOGS[(LOGS.index(name) + 1) % len(LOGS)]
    mine, theirs = log_bytes(name).split(b"\n"), log_bytes(other).split(b"\n")
    rng = seeded(name, "interleave")
    merged = []
    while mine or theirs:
        source = mine if theirs == [] or (mine and rng.random() < 0.5) else theirs
        merged.append(source.pop(0))
    data = b"\n".join(merged)
    path = tmp_path / "mixed.log"
    path.write_bytes(data)
    check_snapshot(cvtop_main_json(str(path), name), Log(data), rates=False)


def test_logs_cover_every_scenario():
    """A log per scenario tools/cvtop-logs lists, and a scenario for every test module that
    boots an emulator."""
    scenarios = load(RECORDER, "cvtop_logs").SCENARIOS
    assert sorted(scenarios) == LOGS
    here = os.path.dirname(os.path.abspath(__file__))
    booting = set()
    for file in os.listdir(here):
        if file.startswith("test_") and file.endswith(".py"):
            with open(os.path.join(here, file)) as f:
                # a Boot, or a subclass of it named ...Boot (test_multiboot's)
                if re.search(r"\b\w*Boot\(|emu\.run_(qemu|bochs)\(", f.read()):
                    booting.add(file[:-len(".py")])
    assert booting == {module for module, _ in scenarios.values()}


def test_logs_hold_what_the_view_shows():
    """Between them, the logs exercise every part of the view: each end of a run, both
    virtualization backends, each core role, rates, devices of both kinds, a device needing a
    reset, a skipped VM, guest text (and forged records in it)."""
    logs = {name: Log(log_bytes(name)) for name in LOGS}
    statuses = {log.machine()["status"] for log in logs.values()}
    assert {"running", "poweroff", "halt", "panic"} <= statuses
    assert {log.machine().get("virt") for log in logs.values()} >= {"svm", "vmx"}
    roles = {role for log in logs.values() for role in log.core_roles().values()}
    assert roles == {"regular", "turbo", "io"}
    kinds = {r["device_type"] for log in logs.values() for r in log.of("io_stats")}
    assert kinds == {"virtio-blk", "virtio-net"}
    for rtype in ("vio_error", "vm_skipped", "mark", "vm_stats", "stats", "core_stats"):
        assert any(log.of(rtype) for log in logs.values()), rtype
    assert any('@{"type"' in text for log in logs.values() for _, text in log.guest)
    assert max(len(log.of("core_stats")) for log in logs.values()) > 10
    assert all(len(log_bytes(name)) <= 64 * 1024 for name in LOGS)
