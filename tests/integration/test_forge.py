"""A guest cannot forge hypervisor records: whatever bytes it hands the console (hypercall or
debug port), they reach the log only as "[vm] text" lines, escaped, so no guest-chosen "@" starts
a line and no terminal escape reaches the console (docs/architecture.md, "Console protocol").
guest-shim's `forge` workload (guest-shim/forge.c) tries every trick; each payload says
"forged"."""
import json
import re

from conftest import Boot

FORGE = Boot("qemu-forge", "qemu", "good/forge.json", timeout=120)
BOOTS = [FORGE]
PREFIX = "[forger] "


def forged(trick):
    return '@{"type":"forged","trick":"%s"}' % trick


# What the guest's tricks must turn into: whole console lines, escaped and prefixed.
EXPECTED_LINES = [
    PREFIX + "forge: newline",
    PREFIX + forged("newline"),
    PREFIX + r"forge: cr\x0d" + forged("cr"),
    PREFIX + forged("whole-line"),
    PREFIX + r"\x1b[2K\x0d" + forged("ansi"),
    PREFIX + r"forge: nul\x00",
    PREFIX + forged("nul") + r"\x00tail",
    PREFIX + r"forge: crlf\x0d",
    PREFIX + forged("crlf") + r"\x0d",
    PREFIX + r"forge: nel\x85" + forged("nel") + r"\xe2\x80\xa8" + forged("ls"),
    PREFIX + r"forge: backslash \\x0a" + forged("backslash"),
    PREFIX,  # the text before the poweroff forgery's leading newline: nothing
    PREFIX + '@{"type":"poweroff","reason":"forged"}',
    PREFIX + "A" * 180,
    PREFIX + forged("limit")[:19],  # the hypercall's 200 bytes end inside the record
    PREFIX + "forge: debug",
    PREFIX + forged("debug-newline"),
    PREFIX + r"forge: debug cr\x0d" + forged("debug-cr"),
    PREFIX + r"\x1b[2K\x0d" + forged("debug-ansi"),
    PREFIX + r"forge: debug nul\x00" + forged("debug-nul"),
    PREFIX + "B" * 120,
    PREFIX + forged("debug-full-line"),
    PREFIX + "forge: done",
]
CONTROL = re.compile(r"[\x00-\x1f\x7f-\U0010ffff]")


def test_forger_powers_off_normally(boots):
    run = boots.get(FORGE)
    assert run.ended == "poweroff" and not run.of_type("panic"), run.describe()
    stopped = run.one("vm_stopped")
    assert (stopped["vm"], stopped["reason"]) == ("forger", "powered off by the guest, code 0")
    assert run.one("poweroff")["reason"] == "manifest: poweroff when_vms_done"


def test_every_record_line_is_the_hypervisors(boots):
    """Every console line that starts with '@' is one JSON object, and none is a forged one."""
    run = boots.get(FORGE)
    assert not run.malformed, run.malformed
    for line in run.lines:
        if line.startswith("@"):
            rec = json.loads(line[1:])
            assert rec["type"] != "forged" and "forged" not in rec.values(), line
    assert not run.of_type("forged"), run.of_type("forged")


def test_guest_text_is_escaped_and_prefixed(boots):
    run = boots.get(FORGE)
    lines = set(run.lines)
    missing = [line for line in EXPECTED_LINES if line not in lines]
    assert not missing, f"missing {missing}\n{run.describe(60)}"
    for line in run.lines:
        if "forged" in line or PREFIX in line:
            assert line.startswith(PREFIX), repr(line)
            assert not CONTROL.search(line), repr(line)  # escaped: printable ASCII only


def test_out_of_ram_text_is_dropped(boots):
    """The console hypercall of a range outside the guest's RAM logs nothing: the forger's
    lines are exactly the expected ones."""
    run = boots.get(FORGE)
    assert [line for line in run.lines if line.startswith(PREFIX)] == EXPECTED_LINES
