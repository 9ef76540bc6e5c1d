"""The console UART on servers whose serial-over-LAN is not COM1 (README, "Booting a server from
GRUB"): `console=com2` on the command line, or the ACPI SPCR table when the command line names
none. QEMU's q35 ships no SPCR, so the tests hand it one (`-acpitable`) that names COM2; the
Run reads COM2, and what COM1 got is in build/logs/<name>.com1.log."""
import os
import struct

from conftest import ROOT, Boot

import emu

SPCR_DIR = os.path.join(ROOT, "build", "console")
COM1, COM2 = 0x3F8, 0x2F8
BAUD_115200 = 7  # SPCR baud-rate code


def spcr_table(port, baud_code=BAUD_115200):
    """A revision 2 SPCR table (Microsoft's SPCR spec): a 16550 at I/O `port`, 8N1, VT100."""
    body = struct.pack("<B3x", 0)  # interface type 0: full 16550
    body += struct.pack("<BBBBQ", 1, 8, 0, 0, port)  # GAS: system I/O, 8 bits wide
    body += struct.pack("<BBI", 1, 3, 0)  # PC-AT 8259 interrupt, IRQ 3, no GSI
    body += struct.pack("<6B", baud_code, 0, 1, 0, 0, 0)  # baud, parity, stop bits, flow, VT100
    body += struct.pack("<HHBBBIBI", 0xFFFF, 0xFFFF, 0, 0, 0, 0, 0, 0)  # not a PCI device
    length = 36 + len(body)
    header = struct.pack("<4sIBB6s8sI4sI", b"SPCR", length, 2, 0, b"CORVSR", b"TESTSPCR", 1,
                         b"CRVS", 1)
    table = bytearray(header + body)
    table[9] = -sum(table) & 0xFF
    assert length == 80 and sum(table) & 0xFF == 0
    return bytes(table)


def spcr_file(name, port):
    """The table as a file for `-acpitable file=`: written at import, before the boots start."""
    os.makedirs(SPCR_DIR, exist_ok=True)
    path = os.path.join(SPCR_DIR, name + ".bin")
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(spcr_table(port))
    os.replace(tmp, path)
    return path


SPCR_COM2 = ("extra", ("-acpitable", "file=" + spcr_file("spcr-com2", COM2)))
DEFAULT = Boot("console-default", "qemu", "good/smp1.json")
CMDLINE_COM2 = Boot("console-cmdline-com2", "qemu", "good/smp1.json",
                    cmdline="console=com2 baud=115200", options=(("serial_port", 2),))
SPCR_MOVES = Boot("console-spcr-com2", "qemu", "good/smp2.json", cpus=2,
                  options=(SPCR_COM2, ("serial_port", 2)))
CMDLINE_WINS = Boot("console-cmdline-over-spcr", "qemu", "good/smp1.json",
                    cmdline="console=com1", options=(SPCR_COM2,))
BOOTS = [DEFAULT, CMDLINE_COM2, SPCR_MOVES, CMDLINE_WINS]


def lines_of(text):
    return [emu.clean_line(line) for line in text.split("\n")]


def com1_text(boot):
    with open(os.path.join(emu.LOGS, boot.name + ".com1.log"), errors="replace") as f:
        return f.read()


def first_hypervisor_line(lines):
    """The hypervisor's first line: the one before `corevisor <version>` (GRUB's come first)."""
    at = next(i for i, line in enumerate(lines) if line.startswith("corevisor "))
    assert at > 0, lines
    return lines[at - 1]


def assert_normal_run(run, cpus=1):
    """The boot went its usual way, every record of it read from this port."""
    assert not run.malformed, run.malformed
    assert not run.of_type("panic"), run.describe()
    assert run.ended == "poweroff", run.describe()
    assert run.one("acpi")["cpus"] == cpus, run.describe()
    assert run.one("manifest")["status"] == "accepted", run.describe()
    assert len(run.of_type("cpu_online")) == cpus, run.describe()
    assert run.one("boot_done")["cpus"] == cpus, run.describe()


def test_default_is_com1_and_says_so(boots):
    run = boots.get(DEFAULT)
    assert_normal_run(run)
    assert first_hypervisor_line(lines_of(run.text)) == (
        "console: COM1 (0x3f8) 115200 by default (no console= on the command line; an ACPI "
        "SPCR table may move it)"), run.describe()
    hello = run.one("hello")
    assert (hello["console"], hello["console_source"]) == ("COM1 (0x3f8) 115200", "default")
    assert not any("SPCR table names" in line for line in run.lines), run.describe()


def test_console_com2_from_the_command_line(boots):
    run = boots.get(CMDLINE_COM2)
    assert_normal_run(run)
    lines = lines_of(run.text)
    assert lines[0] == "" and lines[1] == "console: COM2 (0x2f8) 115200 from the command line", \
        run.describe()
    assert first_hypervisor_line(lines) == lines[1]
    hello = run.one("hello")
    assert hello["cmdline"] == "console=com2 baud=115200", hello
    assert (hello["console"], hello["console_source"]) == ("COM2 (0x2f8) 115200", "cmdline")
    # COM1 carried GRUB's menu only: not one line of the hypervisor's
    com1 = com1_text(CMDLINE_COM2)
    assert "console:" not in com1 and "corevisor 0" not in com1 and "@{" not in com1, com1[-500:]


def test_spcr_moves_the_console_to_com2(boots):
    run = boots.get(SPCR_MOVES)
    assert_normal_run(run, cpus=2)
    lines = [line for line in lines_of(run.text) if line]
    # COM2's first line says where the console came from and where the first lines went
    assert lines[0] == ("console: COM2 (0x2f8) 115200 from the ACPI SPCR table (the first lines "
                        "went to COM1 (0x3f8) 115200)"), run.describe()
    moved = run.one("console")
    assert moved == {"type": "console", "console": "COM2 (0x2f8) 115200",
                     "console_source": "spcr", "previous": "COM1 (0x3f8) 115200"}, moved
    assert not run.of_type("hello") and not run.of_type("memory"), run.describe()
    # COM1: the lines before ACPI, then the move
    com1 = [line for line in lines_of(com1_text(SPCR_MOVES)) if line]
    assert first_hypervisor_line(com1).startswith("console: COM1 (0x3f8) 115200 by default"), com1
    assert com1[-1] == "console: moving to COM2 (0x2f8) 115200 from the ACPI SPCR table", com1
    hello = emu.parse_records(com1)
    assert [r["type"] for r in hello] == ["hello", "memory"], hello
    assert hello[0]["console_source"] == "default", hello


def test_command_line_wins_over_spcr(boots):
    run = boots.get(CMDLINE_WINS)
    assert_normal_run(run)
    assert first_hypervisor_line(lines_of(run.text)) == \
        "console: COM1 (0x3f8) 115200 from the command line", run.describe()
    assert "console: the ACPI SPCR table names COM2 (0x2f8) 115200; the command line wins" in \
        lines_of(run.text), run.describe()
    assert not run.of_type("console"), run.describe()
