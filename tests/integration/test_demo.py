"""`make run`'s demo (tests/integration/manifests/good/demo.json) boots and does what the README
says: five VMs on two regular cores, a turbo core and an I/O core; "db" reads and writes its
virtio-blk disk, "fe" floods "be" over the switch br0, "web" times test-irq interrupts on its turbo
vCPU, "batch" spins; live `@stats`, `@core_stats` and `@io_stats` every second. It runs for ever,
so the boot ends at its timeout, and the test looks at what happened by then."""
from conftest import Boot

DEMO = Boot("demo-qemu", "qemu", "good/demo.json", cpus=4, timeout=30)
BOOTS = [DEMO]


def periodic_io(run, vm):
    return [r for r in run.of_type("io_stats") if r["vm"] == vm and not r["final"]]


def test_demo_runs_without_stopping(boots):
    run = boots.get(DEMO)
    assert run.ended == "timeout" and not run.of_type("panic"), run.describe()
    assert not run.of_type("vm_stopped"), run.describe()
    assert {r["vm"] for r in run.of_type("stats")} == {"web", "db", "fe", "be", "batch"}
    assert {r["role"] for r in run.of_type("core_stats")} == {"regular", "turbo"}


def test_demo_io_flows_through_the_io_core(boots):
    run = boots.get(DEMO)
    db, fe, be = periodic_io(run, "db"), periodic_io(run, "fe"), periodic_io(run, "be")
    assert len(db) >= 3, run.describe()  # one a second
    assert db[-1]["requests"] > db[0]["requests"] and db[-1]["errors"] == 0
    assert fe[-1]["tx_frames"] > fe[0]["tx_frames"]
    assert be[-1]["rx_frames"] > be[0]["rx_frames"]
    assert {r["io_core"] for r in db + fe + be} == {3}


def test_demo_turbo_vcpu_takes_interrupts(boots):
    run = boots.get(DEMO)
    latency = [r for r in run.of_type("guest_report") if r["vm"] == "web"
               and r["key"] == "irq_p99_ns"]
    assert latency, run.describe()
