"""The hypervisor's own AHCI driver as a virtio-blk backend (issue 11, point 2), on QEMU only:
Bochs has no AHCI controller. QEMU q35's built-in AHCI (00:1f.2) gets a 64 MiB raw image on
port 0, every sector filled with a canary naming its LBA before the boot. Three VMs share the
port, each given its own LBA range (`backend: "ahci"`):

- "disk" (sectors 2048-4095) writes the blk workload's pattern (offset ^ seed, 8-byte words)
  over its 1 MiB with NCQ at queue depth 8, FLUSHes, reads it back and verifies it, then reads
  one sector past its range: that read fails alone (IOERR) and GET_ID still works after it;
- "neighbour" (8192-9215) does the same with another seed at queue depth 32, all 32 NCQ slots;
- "bench" (16384-20479) runs 2000 random 4 KiB reads and writes at queue depth 32 and reports
  IOPS (TCG: a rough figure, never asserted).

After the power-off the test reads the image: exactly each pattern in its range, and every
sector outside the three ranges still its canary."""
import os
import struct

from conftest import ROOT, Boot

SECTOR = 512
DISK_SECTORS = 131072  # 64 MiB
IMAGE = os.path.join(ROOT, "build", "ahci", "disk.img")
# (VM, lba_start, lba_count, seed) as in good/ahci.json
PATTERNS = (("disk", 2048, 2048, 1234605616436508552), ("neighbour", 8192, 1024, 841540765299359966))
BENCH = ("bench", 16384, 4096)
QEMU_DISK = ("-drive", f"file={IMAGE},if=none,id=d0,format=raw", "-device", "ide-hd,drive=d0,bus=ide.0")


def canary(lba):
    return (b"canary%010d" % lba).ljust(16, b"-") * (SECTOR // 16)


def make_image():
    """The image, rewritten whenever this module is loaded, before its boot starts."""
    os.makedirs(os.path.dirname(IMAGE), exist_ok=True)
    with open(IMAGE, "wb") as f:
        f.write(b"".join(canary(lba) for lba in range(DISK_SECTORS)))


def pattern(sectors, seed):
    """guest-shim's blk pattern (blk_workloads.c): the 8-byte word at disk offset o is o ^ seed."""
    return b"".join(struct.pack("<Q", o ^ seed) for o in range(0, sectors * SECTOR, 8))


make_image()
QEMU = Boot("ahci-qemu", "qemu", "good/ahci.json", cpus=2, timeout=300, options=(("extra", QEMU_DISK),))
BOOTS = [QEMU]


def reports(run, vm):
    return {r["key"]: r["value"] for r in run.of_type("guest_report") if r["vm"] == vm}


def final_io(run, vm):
    (io,) = [r for r in run.of_type("io_stats") if r["vm"] == vm and r["final"]]
    return io


def test_every_vm_finishes(boots):
    run = boots.get(QEMU)
    assert run.ended == "poweroff", run.describe()
    assert {r["vm"]: r["reason"] for r in run.of_type("vm_stopped")} == {
        vm: "powered off by the guest, code 0" for vm in ("disk", "neighbour", "bench")}, run.describe()


def test_controller_and_port_are_found(boots):
    run = boots.get(QEMU)
    assert "ahci 00:1f.2: AHCI 1.0, 6 ports (PI 0x3f), 32 command slots, NCQ, 64-bit DMA" in run.lines
    assert ('ahci port 0: "QEMU HARDDISK", 131072 sectors (64 MiB), NCQ (READ/WRITE FPDMA QUEUED), '
            "32 slots") in run.lines
    (port,) = run.of_type("ahci_port")  # only the port the manifest names is started
    assert port == {"type": "ahci_port", "bdf": "00:1f.2", "port": 0, "status": "ok",
                    "model": "QEMU HARDDISK", "sectors": DISK_SECTORS, "ncq": True, "depth": 32}


def test_patterns_written_and_verified_by_the_guests(boots):
    run = boots.get(QEMU)
    for vm, start, count, _ in PATTERNS:
        r, io = reports(run, vm), final_io(run, vm)
        size = count * SECTOR
        req = 16384 if vm == "disk" else 4096
        assert r["blk_errors"] == 0, (vm, run.describe())
        assert r["blk_requests"] == 2 * size // req + 1  # writes, FLUSH, reads
        assert r["blk_bytes"] == 2 * size
        assert (io["ahci_port"], io["lba_start"], io["lba_count"]) == (0, start, count)
        assert io["write_bytes"] == size and io["read_bytes"] == size and io["flushes"] == 1
        assert io["disk_errors"] == 0 and io["rejected"] == 0 and io["status"] == "ok"
        assert f"[{vm}] guest-shim: blk: serial cv-{vm}-0" in run.lines  # GET_ID


def test_request_past_the_range_fails_alone(boots):
    run = boots.get(QEMU)
    r, io = reports(run, "disk"), final_io(run, "disk")
    assert r["blk_past_end_failed"] == 1
    # the data requests, the one past the end, GET_ID; only that one failed, before the disk
    assert io["requests"] == r["blk_requests"] + 2
    assert io["errors"] == 1 and io["disk_errors"] == 0
    assert final_io(run, "neighbour")["errors"] == 0


def test_bench_reports_iops(boots):
    run = boots.get(QEMU)
    r, io = reports(run, "bench"), final_io(run, "bench")
    assert r["blk_requests"] == 2000 and r["blk_errors"] == 0, run.describe()
    assert r["blk_iops"] > 0
    assert io["read_bytes"] + io["write_bytes"] == 2000 * 4096
    print(f"ahci backend, QEMU TCG: {r['blk_iops']} IOPS at qd 32, 4 KiB, p50 "
          f"{r['blk_p50_ns']} ns, p99 {r['blk_p99_ns']} ns")


def test_image_holds_exactly_the_patterns(boots):
    run = boots.get(QEMU)
    assert run.ended == "poweroff", run.describe()
    with open(IMAGE, "rb") as f:
        image = f.read()
    assert len(image) == DISK_SECTORS * SECTOR
    for vm, start, count, seed in PATTERNS:
        assert image[start * SECTOR:(start + count) * SECTOR] == pattern(count, seed), vm
    ranges = [(s, s + n) for _, s, n, _ in PATTERNS] + [(BENCH[1], BENCH[1] + BENCH[2])]
    touched = [lba for lba in range(DISK_SECTORS)
               if not any(a <= lba < b for a, b in ranges)
               and image[lba * SECTOR:(lba + 1) * SECTOR] != canary(lba)]
    assert touched == []
