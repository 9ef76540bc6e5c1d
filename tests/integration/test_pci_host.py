"""The host's PCI functions at boot (issue 11, point 1): one @pci record and one human line per
function, found through ECAM (QEMU q35, whose MCFG gives the window) or configuration mechanism
#1 (Bochs' i440fx has no MCFG), on bus 0 and behind bridges, with BARs, MSI/MSI-X and what
corevisor will drive. QEMU gets no default NIC (`-net none`), an e1000e at 00:03.0 and a PCIe
root port at 00:04.0 with a second e1000e behind it, on the bus the firmware gave it."""
import re

from conftest import Boot

QEMU_DEVICES = ("-net", "none", "-device", "e1000e,addr=0x3",
                "-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=0x4",
                "-device", "e1000e,bus=rp1")
QEMU = Boot("pci-host-qemu", "qemu", "good/smp1.json", options=(("extra", QEMU_DEVICES),))
BOCHS = Boot("pci-host-bochs", "bochs", "good/smp1.json", timeout=150)
BOOTS = [QEMU, BOCHS]

FIELDS = {"type", "bdf", "vendor", "device", "class", "bars", "msi", "msix", "driver"}
# (bdf, vendor, device, class, driver)
QEMU_FUNCTIONS = {
    ("00:00.0", "8086", "29c0", "06:00:00", "none"),  # q35 host bridge (MCH)
    ("00:01.0", "1234", "1111", "03:00:00", "none"),  # the default VGA
    ("00:03.0", "8086", "10d3", "02:00:00", "e1000e"),
    ("00:04.0", "1b36", "000c", "06:04:00", "none"),  # PCIe root port
    ("00:1f.0", "8086", "2918", "06:01:00", "none"),  # ICH9 LPC
    ("00:1f.2", "8086", "2922", "01:06:01", "ahci"),  # ICH9 AHCI, built into q35
    ("00:1f.3", "8086", "2930", "0c:05:00", "none"),  # ICH9 SMBus
    ("01:00.0", "8086", "10d3", "02:00:00", "e1000e"),  # behind the root port
}
BOCHS_FUNCTIONS = {
    ("00:00.0", "8086", "1237", "06:00:00", "none"),  # i440FX host bridge
    ("00:01.0", "8086", "7000", "06:01:00", "none"),  # PIIX3 ISA bridge
    ("00:01.1", "8086", "7010", "01:01:80", "none"),  # PIIX3 IDE
    ("00:01.2", "8086", "7020", "0c:03:00", "none"),  # PIIX3 USB (UHCI)
    ("00:01.3", "8086", "7113", "06:80:00", "none"),  # PIIX4 ACPI (power management)
}
# "N=kind@hexbase/size", kind io, m32, m64 with p when prefetchable (drivers/pci_host.h)
BAR = re.compile(r"([0-5])=(io|m32p?|m64p?)@([0-9a-f]+)/([0-9]+[KMGT]?)\Z")


def pci_records(run):
    return run.of_type("pci")


def by_bdf(run):
    return {r["bdf"]: r for r in pci_records(run)}


def bars_of(record):
    """BAR number -> (kind, base, size text)."""
    out = {}
    for item in record["bars"].split():
        m = BAR.match(item)
        assert m, (item, record)
        out[int(m.group(1))] = (m.group(2), int(m.group(3), 16), m.group(4))
    return out


def test_qemu_lists_exactly_its_functions(boots):
    run = boots.get(QEMU)
    assert run.ended == "poweroff", run.describe()
    found = {(r["bdf"], r["vendor"], r["device"], r["class"], r["driver"])
             for r in pci_records(run)}
    assert found == QEMU_FUNCTIONS, run.describe()
    assert len(pci_records(run)) == len(QEMU_FUNCTIONS)  # each once
    assert "pci: ECAM at 0xb0000000 for buses 0-255 (ACPI MCFG)" in run.lines, run.describe()
    assert "pci: 8 functions on 2 buses" in run.lines, run.describe()


def test_qemu_sata_and_nics(boots):
    pci = by_bdf(boots.get(QEMU))
    sata = pci["00:1f.2"]
    assert (sata["msi"], sata["msix"]) == (True, False), sata
    bars = bars_of(sata)
    assert sorted(bars) == [4, 5], sata
    assert bars[4][0] == "io" and bars[4][2] == "32", sata
    assert bars[5][0] == "m32" and bars[5][2] == "4K", sata  # ABAR, AHCI 1.3 §2.1.11
    for bdf in ("00:03.0", "01:00.0"):
        nic = pci[bdf]
        assert (nic["msi"], nic["msix"]) == (True, True), nic
        bars = bars_of(nic)
        # 82574 datasheet §9.3.7: 128 KiB memory, 128 KiB flash, 32 bytes of I/O, 16 KiB MSI-X
        assert {i: (k, size) for i, (k, _, size) in bars.items()} == {
            0: ("m32", "128K"), 1: ("m32", "128K"), 2: ("io", "32"), 3: ("m32", "16K")}, nic
        assert all(base and base % (128 << 10 if i < 2 else 32 if i == 2 else 16 << 10) == 0
                   for i, (_, base, _) in bars.items()), nic


def test_qemu_bridge_and_host_bridge(boots):
    pci = by_bdf(boots.get(QEMU))
    assert pci["00:00.0"]["bars"] == "" and not pci["00:00.0"]["msi"], pci["00:00.0"]
    port = pci["00:04.0"]
    assert port["msix"] and port["driver"] == "none", port
    assert list(bars_of(port)) == [0], port  # a bridge has BARs 0 and 1 only


def test_bochs_lists_exactly_its_functions(boots):
    run = boots.get(BOCHS)
    assert run.ended == "poweroff", run.describe()
    found = {(r["bdf"], r["vendor"], r["device"], r["class"], r["driver"])
             for r in pci_records(run)}
    assert found == BOCHS_FUNCTIONS, run.describe()
    assert len(pci_records(run)) == len(BOCHS_FUNCTIONS)
    assert "pci: configuration mechanism #1 (ports 0xcf8/0xcfc): no MCFG table" in run.lines
    assert "pci: 5 functions on 1 buses" in run.lines, run.describe()
    pci = by_bdf(run)
    assert bars_of(pci["00:01.1"])[4][0::2] == ("io", "16"), pci["00:01.1"]  # IDE bus master
    assert bars_of(pci["00:01.2"])[4][0::2] == ("io", "32"), pci["00:01.2"]
    assert not any(r["msi"] or r["msix"] for r in pci.values()), pci


def test_records_are_small_and_come_after_acpi(boots):
    """Exactly the documented fields; between @acpi and @manifest; one human line each."""
    for boot in BOOTS:
        run = boots.get(boot)
        assert not run.malformed, run.malformed
        kinds = [r["type"] for r in run.records]
        first, last = kinds.index("pci"), len(kinds) - 1 - kinds[::-1].index("pci")
        assert kinds.index("acpi") < first and last < kinds.index("manifest"), kinds
        assert set(kinds[first:last + 1]) == {"pci"}, kinds
        for r in pci_records(run):
            assert set(r) == FIELDS, r
            line = f"pci {r['bdf']}: {r['vendor']}:{r['device']} class {r['class']}"
            assert sum(1 for x in run.lines if x.startswith(line)) == 1, (line, run.describe())
        record_lines = [x for x in run.lines if x.startswith('@{"type":"pci",')]
        assert len(record_lines) == len(pci_records(run)), run.describe()
        assert max(len(x.rstrip()) for x in record_lines) < 240, record_lines  # 115200 baud
