"""Boot a corevisor ISO in an emulator and collect what it says on COM1 (or another COM port).

The hypervisor's console carries human lines and machine records: a line starting with `@` and
one JSON object with a "type". A run ends at the first terminal record (poweroff, halt, panic),
when the emulator exits, or at the timeout; the result is a Run with every line, the parsed
records and the reason it ended. Every run's serial log is kept as build/logs/<name>.log.

QEMU (TCG, SVM-capable CPU models) runs under pexpect with COM1 on its stdio. Bochs (VT-x CPU
models) writes COM1 to a file that is followed while it runs; its exit code means nothing.
"""
import codecs
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
# Debian's ovmf package: one combined image, usable read-only with -bios (no NVRAM needed).
OVMF_CANDIDATES = ("/usr/share/ovmf/OVMF.fd", "/usr/share/qemu/OVMF.fd")
BOCHS_BIOS = "/usr/share/bochs/BIOS-bochs-latest"
BOCHS_VGABIOS = "/usr/share/vgabios/vgabios.bin"
TERMINAL_TYPES = ("poweroff", "halt", "panic")
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\x00-\x08\x0b-\x1f\x7f]")
# After the terminal record: wait for the emulator to exit, but no longer than the console is
# quiet for QUIET_S, and never more than GRACE_S (a halted machine just sits there).
QUIET_S = 0.3
GRACE_S = 2.0
POLL_S = 0.1


class Run:
    """The outcome of one boot: serial lines, parsed records, why and when it ended."""

    def __init__(self, name, emulator, text, ended, seconds, timeout, exit_status=None,
                 emulator_output=""):
        self.name = name
        self.emulator = emulator
        self.text = text
        self.lines = [line.rstrip("\r") for line in text.split("\n")]
        self.records, self.malformed = parse_console(self.lines, complete=ended == "exit")
        self.ended = ended  # "poweroff" | "halt" | "panic" | "exit" | "timeout"
        self.seconds = seconds
        self.timeout = timeout
        self.exit_status = exit_status
        self.emulator_output = emulator_output  # the emulator's own messages (stderr)

    def of_type(self, rtype):
        return [r for r in self.records if r.get("type") == rtype]

    def first(self, rtype):
        found = self.of_type(rtype)
        return found[0] if found else None

    def one(self, rtype):
        found = self.of_type(rtype)
        assert len(found) == 1, \
            f"expected one @{rtype} record, got {len(found)}: {self.describe()}"
        return found[0]

    def tail(self, n=25):
        return "\n".join(self.lines[-n:])

    def describe(self, n=25):
        """Why the run ended and its last console lines: the message of a failed assertion."""
        how = {"timeout": f"a timeout ({self.timeout:g} s)",
               "exit": "the emulator exiting with no poweroff, halt or panic record"}
        text = (f"{self.emulator} run {self.name!r} ended by {how.get(self.ended, self.ended)}"
                f" after {self.seconds:.1f} s (log build/logs/{self.name}.log); last lines:\n"
                f"{self.tail(n)}")
        if self.emulator_output.strip() and not self.records:
            text += "\n-- emulator output:\n" + "\n".join(self.emulator_output.splitlines()[-n:])
        return text


def clean_line(line):
    """The line without terminal escape sequences and control characters (GRUB clears the
    screen before the hypervisor's first line)."""
    return ANSI_RE.sub("", line).strip()


def record_of(line):
    """The record a console line carries, None for a human line, or a ValueError when it looks
    like a record but is not one."""
    line = clean_line(line)
    at = line.find('@{"type"')
    if line.startswith("@"):
        at = 0
    elif at < 0 or line.startswith("["):
        # no record; a '@' inside a human line is text, and a "[vm] " line is a guest's text,
        # whatever it holds (only the firmware's leftovers may precede a record on its line)
        return None
    rec = json.loads(line[at + 1:])  # ValueError (JSONDecodeError) if it is not JSON
    if not isinstance(rec, dict) or not isinstance(rec.get("type"), str):
        raise ValueError("a record is a JSON object with a string \"type\"")
    return rec


def parse_console(lines, complete=True):
    """(records, malformed lines). Unless `complete`, the last line may have been cut off when
    the emulator was stopped, and is not held against the run."""
    records, malformed = [], []
    last = len(lines) - 1
    for i, line in enumerate(lines):
        try:
            rec = record_of(line)
        except ValueError:
            if complete or i != last:
                malformed.append(line)
            continue
        if rec is not None:
            records.append(rec)
    return records, malformed


def parse_records(lines):
    """The records among console lines, skipping anything malformed."""
    return parse_console(lines, complete=False)[0]


class Console:
    """Serial output as it arrives: keeps all of it, echoes it if asked, and notices the
    terminal record on complete lines, so a run can stop as soon as the machine is done."""

    def __init__(self, echo=False):
        self.parts = []
        self.partial = ""
        self.echo = echo
        self.ended = None  # the terminal record's type
        self.ended_at = None
        self.last_data = time.monotonic()

    def feed(self, data):
        if not data:
            return
        self.parts.append(data)
        self.last_data = time.monotonic()
        if self.echo:
            sys.stdout.write(data)
            sys.stdout.flush()
        lines = (self.partial + data).split("\n")
        self.partial = lines.pop()
        for line in lines:
            self._check(line)

    def finish(self):
        """The emulator is gone: its last line may lack the newline (Bochs powers off before
        the UART has sent it)."""
        self._check(self.partial)

    def _check(self, line):
        if self.ended:
            return
        try:
            rec = record_of(line)
        except ValueError:
            return
        if rec and rec["type"] in TERMINAL_TYPES:
            self.ended, self.ended_at = rec["type"], time.monotonic()

    def settled(self):
        """After the terminal record: the console has been quiet long enough, or the grace
        period is over."""
        now = time.monotonic()
        return self.ended is not None and (now - self.last_data >= QUIET_S
                                           or now - self.ended_at >= GRACE_S)

    @property
    def text(self):
        return "".join(self.parts)


def _save_log(name, text, suffix=".log"):
    os.makedirs(LOGS, exist_ok=True)
    with open(os.path.join(LOGS, name + suffix), "w") as f:
        f.write(text)


def find_ovmf():
    for path in OVMF_CANDIDATES:
        if os.path.exists(path):
            return path
    raise FileNotFoundError("no OVMF firmware: install Debian's ovmf (scripts/deps.sh)")


ACCEL_ENV = "COREVISOR_ACCEL"  # "tcg" or "kvm": overrides the detection below


def kvm_nesting(root="/", env=None):
    """Which hardware virtualization a /dev/kvm here would pass on to a guest ("vmx" or "svm"), or
    None: the device must be usable, the CPU must have the feature, and the KVM module must have
    nesting on (/sys/module/kvm_intel/parameters/nested or kvm_amd's: Y or 1). COREVISOR_ACCEL in
    `env` overrides: "tcg" never uses KVM, "kvm" assumes nesting works (the vendor still comes from
    the CPU). `root` lets the unit test give it a fake /proc and /sys. The KVM path is untested on
    the project's machines: their KVM cannot nest."""
    env = os.environ if env is None else env
    forced = env.get(ACCEL_ENV, "")
    if forced == "tcg":
        return None
    try:
        with open(os.path.join(root, "proc/cpuinfo")) as f:
            flags = f.read().split()
    except OSError:
        return None
    vendor = "vmx" if "vmx" in flags else "svm" if "svm" in flags else None
    if not vendor or forced == "kvm":
        return vendor
    module = "kvm_intel" if vendor == "vmx" else "kvm_amd"
    try:
        with open(os.path.join(root, "sys/module", module, "parameters/nested")) as f:
            nested = f.read().strip() in ("Y", "1")
    except OSError:
        return None
    return vendor if nested and os.access(os.path.join(root, "dev/kvm"), os.R_OK | os.W_OK) else None


def qemu_accel(icount=None, cpu="EPYC"):
    """QEMU's accelerator and CPU: KVM with the host CPU where nesting works (and no -icount,
    which is TCG's), else TCG with an SVM-capable model, as design.md fixes for CI."""
    if icount is None and kvm_nesting():
        return ["-accel", "kvm", "-cpu", "host"]
    return ["-accel", "tcg", "-cpu", cpu]


def qemu_iommu_default():
    """COREVISOR_QEMU_IOMMU=1 gives every QEMU boot that does not choose an Intel IOMMU, so
    the whole suite can run with DMA remapping on (docs/architecture.md, "VT-d")."""
    return os.environ.get("COREVISOR_QEMU_IOMMU", "") not in ("", "0")


def qemu_command(iso, smp=1, cpu="EPYC", uefi=False, icount=None, mem="512M", iommu=None,
                 serial="stdio", extra=(), serial_port=1, other_serial="null"):
    """QEMU's command line: q35 under TCG (the SVM-capable CPU models), COM`serial_port` (1-4)
    on `serial` (a QEMU chardev) and below it COM1 on `other_serial` (any other on null), no
    display, no reboot, and the isa-debug-exit device the hypervisor can end the run through;
    `iommu` adds an Intel IOMMU (a DMAR table and VT-d registers); None: qemu_iommu_default()."""
    serials = ([other_serial] + ["null"] * (serial_port - 2) if serial_port > 1 else []) + [serial]
    cmd = ["qemu-system-x86_64", *qemu_accel(icount, cpu), "-machine", "q35",
           "-smp", str(smp), "-m", mem, "-display", "none", "-no-reboot",
           *[arg for chardev in serials for arg in ("-serial", chardev)],
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-cdrom", iso]
    if not serial.startswith("mon:"):
        cmd += ["-monitor", "none"]  # else the monitor shares the serial port (Ctrl-A C)
    if uefi:
        cmd += ["-bios", find_ovmf()]
    if icount is not None:
        # deterministic virtual time: one instruction = 2^icount ns, no sleeping while idle
        cmd += ["-icount", f"shift={icount},sleep=off"]
    if qemu_iommu_default() if iommu is None else iommu:
        cmd += ["-device", "intel-iommu"]
    return cmd + list(extra)


def run_qemu(iso, name, timeout=60, echo=False, **machine):
    """Boot `iso` in QEMU (see qemu_command for `machine`) and return the Run. The Run reads the
    console from COM`serial_port` (default 1); with another port, what COM1 gets (GRUB, and
    the hypervisor's lines before it moves to the SPCR's port) is kept in
    build/logs/<name>.com1.log."""
    os.makedirs(LOGS, exist_ok=True)
    if machine.get("serial_port", 1) != 1:
        machine.setdefault("other_serial", "file:" + os.path.join(LOGS, name + ".com1.log"))
    cmd = qemu_command(iso, **machine)
    stderr_log = os.path.join(LOGS, name + ".qemu.log")
    start = time.monotonic()
    # QEMU's own warnings go to a file of their own, so the console holds only the serial port
    child = pexpect.spawn("/bin/sh", ["-c", 'exec "$@" 2>"$QEMU_STDERR"', "sh", *cmd],
                          encoding="utf-8", codec_errors="replace",
                          env={**os.environ, "TERM": "dumb", "QEMU_STDERR": stderr_log})
    console = Console(echo)
    exited = False
    try:
        while not console.settled():
            if time.monotonic() - start > timeout:
                break
            try:
                console.feed(child.read_nonblocking(65536, timeout=POLL_S))
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                exited = True
                break
    finally:
        child.close(force=True)
    console.finish()
    ended = console.ended or ("exit" if exited else "timeout")
    _save_log(name, console.text)
    with open(stderr_log, errors="replace") as f:
        stderr = f.read()
    return Run(name, "qemu", console.text, ended, time.monotonic() - start, timeout,
               child.exitstatus, stderr)


BOCHSRC = """\
# generated by tools/emu.py
memory: guest={megs}, host={megs}
cpu: model={model}, count={cpus}, ips={ips}, reset_on_triple_fault=0, ignore_bad_msrs=0
romimage: file={bios}
vgaromimage: file={vgabios}
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev={serial}
display_library: rfb, options="timeout=0"
clock: sync=none, time0=local
mouse: enabled=0
log: {log}
debug: action=ignore
info: action=report
error: action=report
panic: action=fatal
"""
BOCHS_IPS = 50000000  # the emulated TSC and timers run at this many instructions per second


def bochsrc(iso, serial, log, cpus=1, model="corei7_skylake_x", megs=512):
    """A headless configuration: VT-x CPU model, CD-ROM boot, COM1 into `serial`, a virtual
    clock (sync=none: emulated time follows instructions, not the host's clock)."""
    return BOCHSRC.format(megs=megs, model=model, cpus=cpus, ips=BOCHS_IPS, bios=BOCHS_BIOS,
                          vgabios=BOCHS_VGABIOS, iso=os.path.abspath(iso), serial=serial, log=log)


RFB_BIND_FAILED = "RFB could not bind any port"
BOCHS_START_ATTEMPTS = 3


def run_bochs(iso, name, cpus=1, model="corei7_skylake_x", megs=512, timeout=120, echo=False):
    """Boot `iso` in Bochs and return the Run. With `echo`, the serial output is also printed as
    it arrives. Bochs' log is kept as build/logs/<name>.bochs.log. Bochs' headless display (RFB)
    now and then finds none of its ports 5900-5949 free and quits before the machine starts;
    that start is tried again, a few times."""
    for attempt in range(BOCHS_START_ATTEMPTS):
        run = _run_bochs_once(iso, name, cpus, model, megs, timeout, echo)
        log = os.path.join(LOGS, name + ".bochs.log")
        with open(log, errors="replace") as f:
            if run.text or RFB_BIND_FAILED not in f.read():
                return run
        time.sleep(1 + attempt)
    return run


def _run_bochs_once(iso, name, cpus, model, megs, timeout, echo):
    os.makedirs(LOGS, exist_ok=True)
    log = os.path.join(LOGS, name + ".bochs.log")
    with tempfile.TemporaryDirectory(prefix="corevisor-bochs-") as tmp:
        serial = os.path.join(tmp, "com1.txt")
        rc = os.path.join(tmp, "bochsrc")
        cmds = os.path.join(tmp, "cmds")
        with open(rc, "w") as f:
            f.write(bochsrc(iso, serial, log, cpus, model, megs))
        with open(cmds, "w") as f:
            f.write("c\n")  # the debugger's only command: continue
        with open(os.path.join(tmp, "out.txt"), "w+", errors="replace") as out:
            start = time.monotonic()
            proc = subprocess.Popen(["bochs", "-q", "-rc", cmds, "-f", rc], cwd=tmp,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            try:
                console = _follow_file(serial, proc, start, timeout, echo)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
            out.seek(0)
            output = out.read()
    exited = time.monotonic() - start <= timeout  # by itself, not killed at the timeout
    ended = console.ended or ("exit" if exited else "timeout")
    _save_log(name, console.text)
    return Run(name, "bochs", console.text, ended, time.monotonic() - start, timeout,
               proc.returncode, output)


def _follow_file(path, proc, start, timeout, echo):
    """Feed what Bochs appends to its COM1 file into a Console until the run is over."""
    console = Console(echo)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    f = None
    try:
        while not console.settled() and time.monotonic() - start <= timeout:
            running = proc.poll() is None
            if f is None and os.path.exists(path):
                f = open(path, "rb")
            if f is not None:
                console.feed(decoder.decode(f.read()))
            if not running:
                break  # exited; everything it wrote has been read above
            time.sleep(POLL_S)
    finally:
        if f is not None:
            f.close()
    console.finish()
    return console


def boot(emulator, iso, name, **kw):
    """Boot in "qemu" or "bochs", keyword arguments as for run_qemu or run_bochs."""
    runners = {"qemu": run_qemu, "bochs": run_bochs}
    if emulator not in runners:
        raise ValueError(f"unknown emulator {emulator!r}")
    return runners[emulator](iso, name, **kw)
