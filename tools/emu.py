"""Boot a corevisor ISO in an emulator and collect what it says on COM1.

QEMU (TCG, SVM-capable CPU models) runs under pexpect with the serial port on stdio; Bochs
(VT-x models) writes COM1 to a file, which is followed while it runs. A run ends at the first
terminal record (poweroff, halt, panic), when the emulator exits, or at the timeout. Every run's
serial log is kept under build/logs/ for debugging.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import pexpect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGS = os.path.join(ROOT, "build", "logs")
OVMF = "/usr/share/ovmf/OVMF.fd"
BOCHS_BIOS = "/usr/share/bochs/BIOS-bochs-latest"
BOCHS_VGABIOS = "/usr/share/vgabios/vgabios.bin"
TERMINAL_TYPES = ("poweroff", "halt", "panic")
TERMINAL_RE = r'@\{"type":"(poweroff|halt|panic)"[^\r\n]*[\r\n]'
RECORD_RE = re.compile(r'@(\{"type":.*\})\s*$')


class Run:
    """The outcome of one boot: serial lines, parsed records, why it ended."""

    def __init__(self, name, text, ended, seconds, exit_status=None):
        self.name = name
        self.text = text
        self.lines = [l.rstrip("\r") for l in text.split("\n")]
        self.records = parse_records(self.lines)
        self.ended = ended  # "poweroff" | "halt" | "panic" | "exit" | "timeout"
        self.seconds = seconds
        self.exit_status = exit_status

    def of_type(self, rtype):
        return [r for r in self.records if r.get("type") == rtype]

    def one(self, rtype):
        found = self.of_type(rtype)
        assert len(found) == 1, f"{self.name}: expected one @{rtype} record, got {len(found)}\n{self.tail()}"
        return found[0]

    def tail(self, n=25):
        return "\n".join(self.lines[-n:])


def parse_records(lines):
    """Records are '@' + one JSON object; GRUB's escape sequences may precede the first."""
    records = []
    for line in lines:
        at = line.find('@{"type":')
        if at < 0:
            continue
        m = RECORD_RE.match(line[at:].strip())
        if not m:
            continue
        try:
            records.append(json.loads(m.group(1)))
        except json.JSONDecodeError:
            pass  # a line cut off when the emulator was stopped
    return records


def _save_log(name, text):
    os.makedirs(LOGS, exist_ok=True)
    with open(os.path.join(LOGS, name + ".log"), "w") as f:
        f.write(text)


def _ended_by(text):
    recs = parse_records(text.split("\n"))
    for r in reversed(recs):
        if r.get("type") in TERMINAL_TYPES:
            return r["type"]
    return None


def qemu_command(iso, smp=1, cpu="EPYC", uefi=False, icount=None, mem="512M", extra=()):
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-cpu", cpu,
           "-smp", str(smp), "-m", mem, "-display", "none", "-no-reboot",
           "-serial", "stdio", "-monitor", "none",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-cdrom", iso]
    if uefi:
        cmd += ["-bios", OVMF]
    if icount is not None:
        cmd += ["-icount", f"shift={icount},sleep=off"]
    return cmd + list(extra)


def run_qemu(iso, name, timeout=60, **kw):
    """Boot `iso` in QEMU; see qemu_command for the machine options."""
    cmd = qemu_command(iso, **kw)
    start = time.monotonic()
    child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", codec_errors="replace",
                          timeout=timeout, env={**os.environ, "TERM": "dumb"})
    idx = child.expect([TERMINAL_RE, pexpect.EOF, pexpect.TIMEOUT])
    text = child.before + (child.after if isinstance(child.after, str) else "")
    if idx == 0:
        try:  # let the rest of the line and a power-off finish
            child.expect(pexpect.EOF, timeout=2)
            text += child.before
        except pexpect.TIMEOUT:
            text += child.before if isinstance(child.before, str) else ""
    child.close(force=True)
    ended = _ended_by(text) or ("exit" if idx == 1 else "timeout")
    _save_log(name, text)
    return Run(name, text, ended, time.monotonic() - start, child.exitstatus)


BOCHSRC = """\
megs: {megs}
cpu: model={model}, count={cpus}, ips=50000000, reset_on_triple_fault=0
romimage: file={bios}
vgaromimage: file={vgabios}
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev={serial}
display_library: rfb, options="timeout=0"
clock: sync=none, time0=local
log: {log}
panic: action=fatal
error: action=report
mouse: enabled=0
"""


def run_bochs(iso, name, cpus=1, model="corei7_skylake_x", megs=512, timeout=120, echo=False):
    """Boot `iso` in Bochs; Bochs' exit code says nothing, the serial output says all.
    With `echo`, the serial output is also printed as it arrives."""
    with tempfile.TemporaryDirectory() as tmp:
        serial = os.path.join(tmp, "com1.txt")
        rc = os.path.join(tmp, "bochsrc")
        cmds = os.path.join(tmp, "cmds")
        with open(rc, "w") as f:
            f.write(BOCHSRC.format(megs=megs, model=model, cpus=cpus, bios=BOCHS_BIOS,
                                   vgabios=BOCHS_VGABIOS, iso=os.path.abspath(iso),
                                   serial=serial, log=os.path.join(tmp, "bochs.log")))
        with open(cmds, "w") as f:
            f.write("c\n")
        start = time.monotonic()
        proc = subprocess.Popen(["bochs", "-q", "-rc", cmds, "-f", rc], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
        ended, text = None, ""
        while time.monotonic() - start < timeout:
            time.sleep(0.25)
            if os.path.exists(serial):
                with open(serial, errors="replace") as f:
                    new = f.read()
                if echo:
                    sys.stdout.write(new[len(text):])
                    sys.stdout.flush()
                text = new
                ended = _ended_by(text)
            if ended or proc.poll() is not None:
                break
        time.sleep(0.3 if ended else 0)
        if os.path.exists(serial):
            with open(serial, errors="replace") as f:
                text = f.read()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        ended = _ended_by(text) or ("exit" if proc.returncode is not None and not ended and
                                    time.monotonic() - start < timeout else "timeout")
    _save_log(name, text)
    return Run(name, text, ended, time.monotonic() - start, proc.returncode)
