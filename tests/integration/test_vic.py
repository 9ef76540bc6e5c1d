"""vIC interrupt coalescing (paper 004) on virtio-blk completions, in QEMU (SVM).

Table 1 (vic_table.json): one VM drives five virtio-blk devices at queue depths 1, 4, 8, 16 and 32,
N requests each (guest-shim `blk-bench devs=5 qd=1,4,8,16,32`). Each device keeps exactly qd
requests in flight: the guest polls the used rings and refills a slot as soon as it reaps its
request, whether or not an interrupt came (its handler only counts them). Each disk is a ramdisk
with a 1 ms service time (`service_us`), one request at a time, as a disk with one head: its
completions come one per millisecond, and the guest has refilled the ring before the next one,
so the commands in flight (CIF) at each completion are qd (apart from the last qd - 1, when the
workload runs out). That is what makes the CIF follow the queue depth: a synchronous ramdisk
completes a whole batch in one I/O-core visit, at CIF qd, qd - 1, ... 1.

QEMU runs with -icount, so virtual time is instructions: the CIF at every completion is the same
from run to run, whatever else the host runs (without it, a guest vCPU thread the host deschedules
for a few milliseconds misses refills and the CIF dips). Under -icount QEMU runs both CPUs on one
thread in turns, so the manifest's `poll_idle_us` is 0: a polling I/O core would hold that thread
while the guest waits; with 0 its queues go back to notifications at once, and it halts until a
kick or its disks' next completion. The manifest's vIC settings, and why:
  - cif_threshold 4, the paper's (Table 1 is for 4);
  - iops_threshold 500: each disk completes 1 000 requests a second (the service time), half the
    paper's 2 000, which would keep vIC off (Low-IOPS, R = 1); 500 keeps the check in Algorithm 1
    with margin;
  - epoch_ms 1: every completion ends an epoch (they are 1 ms apart), so Algorithm 1 sets the
    ratio from each completion's own CIF. With the paper's 200 ms, the first epoch (R = 1 until
    vIC has measured: vic_init) would be 200 completions of each device's N;
  - max_delay_us 10 000: at qd 32 (R = 1/4) a completion waits up to 3 service times for the
    next interrupt; the bound stays above that, and the test checks that it never fires.
Bochs is not used: the emulated time of N = 5 000 requests at 1 ms would take it far too long.

What is compared, per device (the final `@io_stats` and `@vic_cif` records):
  - interrupts per request = `irqs` (MSI-X messages the hypervisor delivered for the device) /
    `requests` (requests it took from the ring), over the whole run, against Table 1's ratio at
    CIF = qd: 100 %, 80 %, 75 %, 8/16, 8/32; within 2 % of that ratio (relative);
  - the same at CIF = qd alone: of the completions that came with CIF = qd, the share that vIC
    had interrupt (`cif_delivered` / `cif`), within 2 % of the ratio;
  - `irqs` against the expectation for the CIFs actually seen: the sum over the completions of
    Table 1's ratio at each one's CIF (Algorithm 1's, whose integer skipUp = CIF / 8 makes it
    1/3 for CIF 24-31, where Table 1 prints 8/CIF), within 2 %;
  - at qd 1: no completion held (`vic_held` 0, `vic_max_hold_ns` 0): every request interrupts at
    once.

Coalescing off (vic_off.json): the completions an I/O core publishes in one visit share one
interrupt, the only coalescing then. The drivers run without EVENT_IDX, so every interrupt the
device decides on reaches the guest."""
from conftest import Boot, manifest_json

TABLE = Boot("vic-table-qemu", "qemu", "good/vic_table.json", cpus=2, timeout=600,
             options=(("icount", 3),))
OFF = Boot("vic-off-qemu", "qemu", "good/vic_off.json", cpus=2, timeout=300)
BOOTS = [TABLE, OFF]

QDS = (1, 4, 8, 16, 32)
TOLERANCE = 0.02  # relative
CMDLINE = manifest_json("good/vic_table.json")["vms"][0]["cmdline"]
N = int(CMDLINE.split("n=")[1].split()[0])


def ratio(cif, threshold=4):
    """Table 1 as Algorithm 1 computes it (cifThreshold 4, IOPS above iopsThreshold)."""
    if cif < threshold:
        return 1.0
    if cif < 2 * threshold:
        return 4 / 5
    if cif < 3 * threshold:
        return 3 / 4
    if cif < 4 * threshold:
        return 2 / 3
    return 1 / (cif // (2 * threshold))


def final(run, rtype):
    return {r["device"]: r for r in run.of_type(rtype) if r["final"]}


def table_run(boots):
    run = boots.get(TABLE)
    io, cif = final(run, "io_stats"), final(run, "vic_cif")
    assert sorted(io) == sorted(cif) == list(range(len(QDS))), run.describe()
    return run, io, cif


def within(measured, expected):
    return abs(measured - expected) <= TOLERANCE * expected


def test_table1_nominal_ratios():
    """The paper's figures are the ones the test compares with."""
    assert [ratio(qd) for qd in QDS] == [1.0, 0.8, 0.75, 8 / 16, 8 / 32]
    assert "devs=5 qd=1,4,8,16,32" in CMDLINE


def test_workload_keeps_qd_in_flight(boots):
    """Every device took its N requests, and all but the last qd - 1 (and 1 % slack) completed
    with exactly qd in flight; never more."""
    run, io, cif = table_run(boots)
    for dev, qd in enumerate(QDS):
        assert io[dev]["requests"] == N and io[dev]["errors"] == 0, io[dev]
        assert io[dev]["service_us"] == 1000 and io[dev]["status"] == "ok", io[dev]
        hist = {int(c): n for c, n in cif[dev]["cif"].items()}
        assert sum(hist.values()) == cif[dev]["completions"] == N, cif[dev]
        assert max(hist) == qd, (qd, hist)
        assert hist[qd] >= 0.99 * (N - (qd - 1)), (qd, hist)


def test_every_decision_is_one_interrupt(boots):
    """At one completion per I/O-core visit, each interrupt vIC decides on is one MSI-X message
    (so the MSI count is vIC's); the max_delay timer never had to act."""
    run, io, cif = table_run(boots)
    for dev in range(len(QDS)):
        assert io[dev]["irqs"] == cif[dev]["interrupts"], (io[dev], cif[dev])
        assert io[dev]["irqs_undelivered"] == 0 and io[dev]["vic_forced"] == 0, io[dev]


def test_interrupts_per_request_match_table1(boots):
    """Whole run: irqs / requests within 2 % of Table 1's ratio at CIF = qd."""
    run, io, _ = table_run(boots)
    measured = {qd: io[dev]["irqs"] / io[dev]["requests"] for dev, qd in enumerate(QDS)}
    bad = {qd: (round(m, 4), ratio(qd)) for qd, m in measured.items() if not within(m, ratio(qd))}
    assert not bad, f"interrupts per request (measured, Table 1) off by more than 2 %: {bad}"


def test_ratio_at_cif_qd_matches_table1(boots):
    """The completions that came with CIF = qd: the share vIC had interrupt."""
    run, _, cif = table_run(boots)
    for dev, qd in enumerate(QDS):
        at_qd = cif[dev]["cif"][str(qd)]
        delivered = cif[dev]["cif_delivered"].get(str(qd), 0)
        assert within(delivered / at_qd, ratio(qd)), (qd, delivered, at_qd, ratio(qd))


def test_interrupts_match_the_cifs_seen(boots):
    """irqs against Table 1 applied to the CIF of every completion (the ramp-down's too)."""
    run, io, cif = table_run(boots)
    for dev, qd in enumerate(QDS):
        expected = sum(n * ratio(int(c)) for c, n in cif[dev]["cif"].items())
        assert within(io[dev]["irqs"], expected), (qd, io[dev]["irqs"], expected)


def test_queue_depth_one_is_never_delayed(boots):
    run, io, cif = table_run(boots)
    q1 = io[QDS.index(1)]
    assert q1["coalescing"] and q1["vic_held"] == 0 and q1["vic_max_hold_ns"] == 0, q1
    assert q1["irqs"] == q1["requests"] == N, q1
    # the deep queues did hold completions, and none longer than the bound
    for dev, qd in enumerate(QDS[1:], start=1):
        assert 0 < io[dev]["vic_max_hold_ns"] < 10_000_000, io[dev]


def test_off_signals_every_visit(boots):
    run = boots.get(OFF)
    io = {r["vm"]: r for r in run.of_type("io_stats") if r["final"]}
    for vm in ("q1", "q16"):
        assert io[vm]["requests"] == 2000 and not io[vm]["coalescing"], run.describe()
        assert io[vm]["vic_held"] == 0 and 0 < io[vm]["irqs"] <= io[vm]["requests"]
    assert io["q1"]["irqs"] > 0.9 * io["q1"]["requests"]  # its visits complete one each
    assert not run.of_type("vic_cif")  # vIC makes no decisions when off
