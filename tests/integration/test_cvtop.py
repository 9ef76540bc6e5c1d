"""tools/cvtop on recorded consoles, host only: exact figures from real logs (the demo, the turbo
scheduler run, the virtio run) and a synthetic one (malformed and cut-off records, binary junk, a
guest's forged records), the live time base, the curses view driven in a pty, and the real program
under tmux."""
import fcntl
import importlib.machinery
import importlib.util
import json
import os
import pty
import random
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from conftest import ROOT

CVTOP = os.path.join(ROOT, "tools", "cvtop")
DATA = os.path.join(ROOT, "tests", "integration", "data", "cvtop")


def load_cvtop():
    """tools/cvtop as a module (it has no .py suffix), for the in-process tests."""
    loader = importlib.machinery.SourceFileLoader("cvtop", CVTOP)
    spec = importlib.util.spec_from_loader("cvtop", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


cvtop = load_cvtop()


@pytest.fixture(scope="session", autouse=True)
def built():
    """Host only: nothing here needs the hypervisor built (this replaces conftest's `make all`)."""


def snapshot(path, *options):
    if not os.path.isabs(path):
        path = os.path.join(DATA, path)
    r = subprocess.run([CVTOP, "--once", "--json", *options, path], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def named(items, **match):
    found = [i for i in items if all(i.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, items)
    return found[0]


# --- --once --json on real logs -------------------------------------------------------------

def test_demo_log_figures():
    """The demo (make run's manifest), 21 rounds; its last line, a lone `@`, was cut off."""
    snap = snapshot("demo.log")
    assert {"cores", "vms", "devices", "malformed_lines", "guest_lines"} <= set(snap)
    assert snap["malformed_lines"] == 1
    assert snap["counts"]["records"] == 285 and snap["rounds"] == 21
    assert [(c["cpu"], c["role"]) for c in snap["cores"]] == [
        (0, "regular"), (1, "regular"), (2, "turbo"), (3, "io")]
    turbo = named(snap["cores"], cpu=2)
    assert turbo["busy_pct"] == 96.41 and turbo["picks_per_s"] == 136  # 964132 us, 136 picks
    assert named(snap["cores"], cpu=3)["devices"] == ["db/0", "fe/0", "be/0"]
    db = named(snap["devices"], vm="db", device=0)
    # last two periodic records: requests 43764 -> 43784, kicks 1720 -> 1725, irqs 2425 -> 2430
    assert (db["type"], db["requests"], db["requests_per_s"], db["bytes_per_s"]) == (
        "virtio-blk", 43784, 20, 81920)
    assert (db["kicks_per_request"], db["irqs_per_request"], db["requests_per_irq"]) == (
        0.25, 0.25, 4.0)
    fe = named(snap["devices"], vm="fe", device=0)
    assert (fe["frames"], fe["frames_per_s"], fe["tx_frames_per_s"], fe["rx_frames_per_s"]) == (
        29776, 32, 32, 0)
    web = named(snap["vms"], name="web")
    assert (web["vcpus"], web["exits_total"], web["exits_per_s"], web["irqs_per_s"]) == (
        3, 17070, 112, 20)
    assert web["cpu_pct_regular"] == 0 and web["cpu_pct_turbo"] == 103.15  # 1031549 us
    assert (web["irq_p50_ns"], web["irq_p99_ns"], web["irq_max_ns"]) == (
        450062, 50775963, 138146312)
    assert [v["name"] for v in snap["vms"]] == ["web", "db", "fe", "be", "batch"]


def test_turbo_scheduler_log_figures():
    """A finished run: every VM stopped (no rates), the last round's core figures stay."""
    snap = snapshot("sched-turbo.log")
    assert snap["machine"]["status"] == "poweroff" and snap["malformed_lines"] == 0
    turbo = named(snap["cores"], cpu=1)
    assert turbo["busy_pct"] == 2.75 and turbo["picks_per_s"] == 1501  # 27461 us, 1501 picks
    irq = named(snap["vms"], name="irq")
    assert irq["state"] == "stopped" and irq["exits_per_s"] is None
    assert irq["exits_total"] == 7569 and irq["irqs"] == 1501 and irq["vcpus"] == 2
    assert (irq["irq_p50_ns"], irq["irq_p99_ns"], irq["irq_max_ns"]) == (31776, 31776, 39473)
    assert all(vm["state"] == "stopped" for vm in snap["vms"])


def test_virtio_log_figures():
    """Devices reported only at marks and at their VM's end: totals and ratios, no rates."""
    snap = snapshot("vio.log")
    disk = named(snap["devices"], vm="disk", device=0)
    assert disk["final"] and disk["requests"] == 514 and disk["requests_per_s"] is None
    assert (disk["kicks_per_request"], disk["requests_per_irq"]) == (0.1362, 7.3429)  # 70, 70
    rx = named(snap["devices"], vm="rx", device=0)
    assert (rx["rx_frames"], rx["tx_frames"], rx["irqs"]) == (10000, 2, 297)
    assert named(snap["cores"], cpu=1)["devices"] == ["disk/0", "tx/0", "rx/0", "bad/0"]
    assert "[disk] guest-shim: blk: serial cv-disk-0" in snap["guest_lines"]
    assert named(snap["vms"], name="disk")["console"] == ["guest-shim: blk: serial cv-disk-0"]


# --- the synthetic log: junk, forgeries, cut-off records ------------------------------------

def test_synthetic_log_forgeries_and_junk():
    snap = snapshot("synthetic.log")
    # 8: a record cut mid-line, `@{not json}`, a JSON array, a numeric type, a mistyped cpu, a
    # lone `@`, round 3's cut-off core_stats, and the last line (no newline)
    assert snap["malformed_lines"] == 8
    assert snap["counts"] == {"lines": 51, "records": 29, "human": 9, "guest": 5,
                              "malformed": 8}
    # neither the `[evil] @{poweroff}` nor `junk before @{poweroff}` is a record
    assert snap["machine"]["status"] == "running"
    assert [v["name"] for v in snap["vms"]] == ["alpha", "beta"]
    assert '[evil] @{"type":"poweroff","reason":"forged"}' in snap["guest_lines"]
    alpha = named(snap["vms"], name="alpha")
    assert alpha["exits"]["hlt"] == 160 and alpha["exits"]["npf"] == 920  # not the forged 999999
    assert (alpha["exits_per_s"], alpha["exit_rates"]["npf"], alpha["exit_rates"]["hlt"]) == (
        650, 600, 50)
    assert alpha["top_exits"] == [["npf", 600], ["hlt", 50]]
    assert (alpha["irqs_per_s"], alpha["cpu_pct_regular"], alpha["cpu_pct_turbo"]) == (
        500, 50, 50)
    assert (alpha["cpu"], alpha["irq_p99_ns"], alpha["iops"]) == (1, 25000, 2000)
    cores = {c["cpu"]: c for c in snap["cores"]}
    assert cores[0]["busy_pct"] == 75  # round 3's record was cut: round 2's figure stays
    assert (cores[1]["busy_pct"], cores[1]["picks_per_s"]) == (50, 500)
    assert (cores[2]["role"], cores[2]["busy_pct"], cores[2]["polls_per_s"]) == ("io", 75, 2000)
    blk = named(snap["devices"], vm="alpha", device=0)
    assert (blk["requests_per_s"], blk["bytes_per_s"]) == (2000, 8192000)
    assert (blk["kicks_per_request"], blk["irqs_per_request"], blk["requests_per_irq"]) == (
        0.01, 0.1, 10.0)
    beta = named(snap["vms"], name="beta")
    assert beta["state"] == "stopped" and beta["exits_per_s"] is None
    assert beta["console"] == ["line one", "line two \\x1b[31m escaped"]
    net = named(snap["devices"], vm="beta", device=0)  # final: ratios over its totals
    assert (net["final"], net["requests"], net["requests_per_s"]) == (True, 2400, None)
    assert (net["kicks_per_request"], net["irqs_per_request"], net["requests_per_irq"]) == (
        0.0167, 0.0583, 17.1429)


def test_interval_sets_the_time_base():
    snap = snapshot("synthetic.log", "--interval-ms", "500")
    assert named(snap["vms"], name="alpha")["exits_per_s"] == 1300
    assert named(snap["devices"], vm="alpha")["requests_per_s"] == 4000


def test_text_snapshot():
    r = subprocess.run([CVTOP, "--once", os.path.join(DATA, "synthetic.log")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "malformed 8" in r.stdout and "alpha/0" in r.stdout and "beta" in r.stdout
    assert "\x1b" not in r.stdout  # the junk's ESC is shown escaped, never sent to a terminal


def test_survives_mangled_logs(tmp_path):
    """Every line of the demo cut at random, random bytes between them, a 2 MiB line without
    a newline: cvtop counts what it cannot read and carries on."""
    rng = random.Random(13)
    with open(os.path.join(DATA, "demo.log"), "rb") as f:
        lines = f.read().split(b"\n")
    out = []
    for line in lines:
        out.append(line[:rng.randrange(len(line) + 1)] if rng.random() < 0.3 else line)
        if rng.random() < 0.1:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))))
    path = tmp_path / "mangled.log"
    path.write_bytes(b"\n".join(out) + b"\n" + b"@{" + b"\xff" * (2 << 20))
    snap = snapshot(str(path))
    assert snap["malformed_lines"] > 10 and snap["vms"]


# --- in process: the live time base, a new boot, speed --------------------------------------

def rounds_of(path, n):
    """The first n rounds of a log's periodic records, each a list of lines."""
    rounds, current = [], []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith('@{"type":"core_stats","cpu":0,') and current:
                rounds.append(current)
                current = []
            if line.startswith(('@{"type":"core_stats"', '@{"type":"stats"')):
                current.append(line)
    return (rounds + [current])[:n]


def test_live_rates_use_arrival_time_unless_a_backlog():
    rounds = rounds_of(os.path.join(DATA, "demo.log"), 4)
    state = cvtop.State(live=True)
    for line in rounds[0]:
        state.feed(line, now=100.0)
    for line in rounds[1]:
        state.feed(line, now=102.0)  # two seconds later: half the per-second figures
    busy_2s = named(state.snapshot()["cores"], cpu=0)["busy_pct"]
    for line in rounds[2]:
        state.feed(line, now=102.1)  # read in the same burst: the position (1 s) is used
    busy_1s = named(state.snapshot()["cores"], cpu=0)["busy_pct"]
    # cpu 0's busy_us: 975543, 1992621, 2999361
    assert busy_2s == round(100 * (1992621 - 975543) / 2e6, 2)
    assert busy_1s == round(100 * (2999361 - 1992621) / 1e6, 2)
    assert state.snapshot()["time_base"] == "wall clock"


def test_new_boot_starts_afresh():
    """A second `@hello` (the machine rebooted): nothing of the last boot is subtracted."""
    rounds = rounds_of(os.path.join(DATA, "demo.log"), 3)
    state = cvtop.State()
    for line in rounds[0] + rounds[1] + rounds[2]:
        state.feed(line)
    state.feed('@{"type":"hello","version":"0.1.0","cmdline":""}')
    for line in rounds[0] + rounds[1]:
        state.feed(line)
    snap = state.snapshot()
    assert snap["rounds"] == 2 and named(snap["cores"], cpu=0)["busy_pct"] > 0
    assert all((vm["exits_per_s"] or 0) >= 0 for vm in snap["vms"])


def test_keeps_up_with_thousands_of_lines_a_second():
    lines = [line for r in rounds_of(os.path.join(DATA, "demo.log"), 21) for line in r]
    state = cvtop.State(live=True)
    start = time.monotonic()
    fed = 0
    while fed < 30000:
        for line in lines:
            state.feed(line, now=time.monotonic())
        fed += len(lines)
    rate = fed / (time.monotonic() - start)
    assert rate > 5000, f"{rate:.0f} lines/s"


# --- the live view in a pty -----------------------------------------------------------------

class Pty:
    """A program on a pseudo-terminal of 160x50 with TERM=xterm; what it draws is collected."""

    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
            os.environ["TERM"] = "xterm"
            os.chdir(ROOT)
            os.execv(argv[0], argv)
        self.out = b""

    def read_until(self, *needles, timeout=10.0):
        """Collect output until every needle was drawn, or the timeout."""
        end = time.monotonic() + timeout
        while not all(n in self.out for n in needles) and time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:
                    break
        return all(n in self.out for n in needles)

    def send(self, keys, settle=0.5):
        os.write(self.fd, keys)
        self.read_until(b"\x00never", timeout=settle)

    def wait(self, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read_until(b"\x00never", timeout=0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        pytest.fail("cvtop did not exit; it drew:\n" + self.out[-2000:].decode(errors="replace"))


def test_curses_view_draws_and_quits():
    term = Pty([CVTOP, os.path.join(DATA, "demo.log")])
    # the first full draw: the header, every VM and device (the cut-off last line is not
    # malformed yet: the log may still grow)
    assert term.read_until(b"malformed 0", b"batch", b"web", b"db/0", b"fe/0", b"be/0",
                           b"VIRTIO DEVICES"), term.out[-2000:]
    term.send(b"s")  # sort by cpu%
    term.send(b"/we\r")  # filter: web
    term.send(b"d")  # web's detail
    assert term.read_until(b"EXITS"), term.out[-2000:]
    term.send(b"r")
    assert term.read_until(b"RAW CONSOLE"), term.out[-2000:]
    term.send(b"q", settle=0)
    assert term.wait() == 0


def fake_emulator(tmp_path, log):
    """A stand-in for QEMU: prints a console log, notes its pid, then waits to be stopped."""
    script = tmp_path / "emulator.py"
    script.write_text(
        "import os, sys, time\n"
        f"open({str(tmp_path / 'pid')!r}, 'w').write(str(os.getpid()))\n"
        f"sys.stdout.buffer.write(open({log!r}, 'rb').read())\n"
        "sys.stdout.flush()\n"
        "time.sleep(120)\n")
    return [sys.executable, str(script)]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("how", [b"q", b"\x03"], ids=["q", "ctrl-c"])
def test_quitting_stops_the_emulator(tmp_path, how):
    log = tmp_path / "run" / "serial.log"
    term = Pty([CVTOP, str(log), "--", *fake_emulator(tmp_path, os.path.join(DATA, "demo.log"))])
    assert term.read_until(b"batch"), term.out[-2000:]
    pid = int((tmp_path / "pid").read_text())
    assert alive(pid)
    term.send(how, settle=0)
    assert term.wait() == 0
    assert not alive(pid)
    assert b"emulator stopped" in term.out
    with open(os.path.join(DATA, "demo.log"), "rb") as f:
        assert log.read_bytes() == f.read()


def test_without_a_terminal_the_console_passes_through(tmp_path):
    """`make run > file` or a pipe: no curses, the lines as they come until the input ends."""
    path = os.path.join(DATA, "vio.log")
    with open(path, "rb") as f:
        r = subprocess.run([CVTOP, "-"], stdin=f, capture_output=True, timeout=60)
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    assert lines[-1] == b""  # the log ends with a newline
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"".join(line.rstrip(b"\r") + b"\n" for line in lines[:-1])


# --- the real terminal program under tmux ---------------------------------------------------


def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", "cvtop-test", *args], capture_output=True, text=True,
                          check=check, timeout=30)


def test_cvtop_screen_under_tmux():
    """cvtop in a real terminal (tmux, 160x50) on the recorded demo log: the captured screen shows
    every core with its role, every VM and every virtio device; `q` ends it."""
    log = os.path.join(DATA, "demo.log")
    tmux("kill-server", check=False)
    tmux("new-session", "-d", "-x", "160", "-y", "50", "-s", "cv",
         f"TERM=xterm {sys.executable} {CVTOP} {log}; sleep 30")
    try:
        screen = ""
        for _ in range(50):  # up to 5 s for the first full draw
            time.sleep(0.1)
            screen = tmux("capture-pane", "-p", "-t", "cv").stdout
            if "VIRTIO" in screen and "be/0" in screen:
                break
        for word in ("regular", "turbo", "io", "web", "db", "fe", "be", "batch", "db/0",
                     "fe/0", "be/0", "virtio-blk", "virtio-net"):
            assert word in screen, screen
        tmux("send-keys", "-t", "cv", "q")
        for _ in range(50):
            time.sleep(0.1)
            if "cvtop" not in tmux("capture-pane", "-p", "-t", "cv").stdout.split("\n")[0]:
                break
        else:
            pytest.fail("cvtop did not quit on q:\n" + tmux("capture-pane", "-p", "-t", "cv").stdout)
    finally:
        tmux("kill-server", check=False)
