"""VT-d at boot (issue 11, point 4): QEMU q35 with `-device intel-iommu` (TCG needs no
`kernel-irqchip=split`; that is KVM's) gives a DMAR table with one remapping unit; the hypervisor
reports it in one @iommu record, gives it an empty root table and turns translation on, so no
device can DMA anywhere. `iommu_selftest` on the command line makes the AHCI controller write its
first FIS into a canary page: with the IOMMU the write is blocked, recorded as @iommu_fault
(device, page, reason) and no byte of the page changes; without one the 20-byte D2H register FIS
lands (AHCI 1.3.1 §4.2.2), which shows the self-test does DMA at all. Without a DMAR table the boot
says that DMA is unprotected. The guests' devices are emulated, so VMs with virtio I/O run as
before with translation on. QEMU only: Bochs emulates no VT-d (its boots report
@dma_unprotected)."""
from conftest import Boot

SELFTEST = Boot("iommu-qemu", "qemu", "good/smp1.json", cmdline="iommu_selftest",
                options=(("iommu", True),))
ABSENT = Boot("iommu-absent-qemu", "qemu", "good/smp1.json", cmdline="iommu_selftest",
              options=(("iommu", False),))
OFF = Boot("iommu-off-qemu", "qemu", "good/smp1.json", cmdline="iommu=off",
           options=(("iommu", True),))
VIO = Boot("iommu-vio-qemu", "qemu", "good/vio.json", cpus=2, timeout=240,
           options=(("iommu", True),))
BOOTS = [SELFTEST, ABSENT, OFF, VIO]

UNIT_FIELDS = {"type", "unit", "address", "version", "sagaw", "levels", "mgaw", "domains", "qi",
               "ir", "include_all", "scopes", "status"}
# QEMU 7.2's intel-iommu: VT-d 1.0, 39-bit (3-level) second-level tables only (aw-bits=39),
# ND=6 (65536 domain ids), queued invalidation and interrupt remapping offered; its DMAR lists
# the I/O APIC and the q35 functions on bus 0 one by one (no INCLUDE_PCI_ALL)
QEMU_UNIT = {"type": "iommu", "unit": 0, "address": "0xfed90000", "version": "1.0", "sagaw": 2,
             "levels": 3, "mgaw": 39, "domains": 65536, "qi": True, "ir": True,
             "include_all": False,
             "scopes": "ioapic0=ff:00.0 00:00.0 00:01.0 00:02.0 00:1f.0 00:1f.2 00:1f.3",
             "status": "translating, no device mapped"}
D2H_FIS_BYTES = 20


def kinds(run):
    return [r["type"] for r in run.records]


def test_unit_record(boots):
    run = boots.get(SELFTEST)
    assert run.ended == "poweroff", run.describe()
    (unit,) = run.of_type("iommu")
    assert set(unit) == UNIT_FIELDS, unit
    assert unit == QEMU_UNIT, unit
    assert not run.of_type("dma_unprotected"), run.describe()
    assert ("iommu: DMAR: 1 remapping units, host address width 39, interrupt remapping offered"
            in run.lines), run.describe()
    assert sum(1 for x in run.lines if x.startswith("iommu 0: VT-d 1.0 at 0xfed90000")) == 1


def test_unit_reported_after_pci_before_manifest(boots):
    order = kinds(boots.get(SELFTEST))
    last_pci = len(order) - 1 - order[::-1].index("pci")
    assert last_pci < order.index("iommu") < order.index("manifest"), order


def test_blocked_dma_is_a_fault_and_changes_nothing(boots):
    run = boots.get(SELFTEST)
    (selftest,) = run.of_type("iommu_selftest")
    assert selftest == {"type": "iommu_selftest", "device": "00:1f.2",
                        "address": selftest["address"], "changed": 0, "error": ""}, selftest
    (fault,) = run.of_type("iommu_fault")
    # the empty root table: the request stops at bus 0's root entry (VT-d spec §7.1.3, 1h)
    assert fault == {"type": "iommu_fault", "unit": 0, "source": "00:1f.2",
                     "address": selftest["address"], "access": "write", "reason": 1,
                     "meaning": "root entry not present"}, fault
    order = kinds(run)
    assert order.index("iommu") < order.index("iommu_fault") < order.index("iommu_selftest")


def test_without_dmar_dma_is_unprotected(boots):
    run = boots.get(ABSENT)
    assert run.ended == "poweroff", run.describe()
    (rec,) = run.of_type("dma_unprotected")
    assert rec == {"type": "dma_unprotected", "reason": "no DMAR table (no VT-d)"}
    assert "iommu: DMA is unprotected: no DMAR table (no VT-d)" in run.lines
    assert not run.of_type("iommu") and not run.of_type("iommu_fault")
    (selftest,) = run.of_type("iommu_selftest")
    assert (selftest["device"], selftest["changed"], selftest["error"]) == (
        "00:1f.2", D2H_FIS_BYTES, ""), selftest


def test_iommu_off_on_the_command_line(boots):
    run = boots.get(OFF)
    assert run.ended == "poweroff", run.describe()
    (unit,) = run.of_type("iommu")
    assert unit == {**QEMU_UNIT, "status": "off (iommu=off on the command line)"}, unit
    assert run.of_type("dma_unprotected") == [
        {"type": "dma_unprotected", "reason": "iommu=off on the command line"}]
    assert not run.of_type("iommu_fault")


def test_vms_with_virtio_run_with_translation_on(boots):
    run = boots.get(VIO)
    assert run.ended == "poweroff" and not run.of_type("panic"), run.describe()
    (unit,) = run.of_type("iommu")
    assert unit["status"] == "translating, no device mapped", unit
    stopped = {r["vm"]: r["reason"] for r in run.of_type("vm_stopped")}
    assert stopped == {**{vm: "powered off by the guest, code 0"
                          for vm in ("disk", "tx", "rx", "plain", "bad")},
                       "typo": "powered off by the guest, code 2"}, run.describe()
    reports = {(r["vm"], r["key"]): r["value"] for r in run.of_type("guest_report")}
    assert reports[("disk", "blk_errors")] == 0 and reports[("disk", "blk_bytes")] == 32 << 20
    assert reports[("rx", "net_received")] == 10000 and reports[("rx", "net_bad")] == 0
    assert not run.of_type("iommu_fault"), run.of_type("iommu_fault")  # no host device DMAs
