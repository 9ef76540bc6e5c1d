"""Manifests of the scenarios that the tests and `make bench` share. Scheduling (issue 4): one VM
taking test-irq's periodic interrupts and CPU-bound VMs, all on one regular core, with or without
a turbo core (and turbo preemption). I/O: VMs running blk-bench against virtio-blk ramdisks, in
exit mode or served by one I/O core."""
import json
import os

MODES = ("noturbo", "turbo", "turbo-preempt")


def latency_manifest(mode, vms=4, irqs=200, period_us=2000, busy_turbo=False, slice_us=30000,
                     irq_vm=True):
    """`vms` VMs on regular core 0: "irq" (its interrupts timed in the guest) and vms-1 spinners
    counting for as long as the interrupts last. CPU 1 is the turbo core, or, in "noturbo", an
    I/O core the VMs never use. With `busy_turbo` every spinner also has a turbo vCPU that spins,
    so that the turbo core is shared (what turbo preemption is for). Without `irq_vm` only the
    spinners run: the baseline of what the interrupts cost them."""
    turbo = mode != "noturbo"
    spin_ms = irqs * period_us // 1000
    spinner_turbo = turbo and busy_turbo
    return {
        "cores": {"regular": [0], ("turbo" if turbo else "io"): [1]},
        "scheduler": {"regular_slice_us": slice_us, "turbo_slice_us": 100,
                      "turbo_preempt": mode == "turbo-preempt", "turbo_preempt_min_us": 20},
        "poweroff": "when_vms_done", "stats_interval_ms": 1000,
        "vms": [{"name": "irq", "memory_mib": 8, "turbo_vcpu": turbo, "image": "guest-shim",
                 "cmdline": f"workload=irq-latency n={irqs} period_us={period_us}",
                 "devices": [{"type": "test-irq"}]}][:1 if irq_vm else 0]
        + [{"name": f"spin{i}", "memory_mib": 8, "turbo_vcpu": spinner_turbo,
            "image": "guest-shim", "cmdline": f"workload=spin ms={spin_ms}"}
           for i in range(1, vms)],
    }


def lock_manifest(regular=12, turbo=4, vms=16, vcpus=3, ms=2000, stats_interval_ms=500):
    """The scheduler-lock scenario (issue 12): `regular` regular cores (CPUs 0..), then `turbo`
    turbo cores, and `vms` VMs of `vcpus` regular vCPUs and one turbo vCPU each, every vCPU
    spinning for `ms` ms of TSC time: vms * (vcpus + 1) busy vCPUs (16 x 4 = 64 by default), so
    that every regular core re-picks every 30 ms and every turbo core every 0.1 ms."""
    return {
        "cores": {"regular": list(range(regular)),
                  "turbo": list(range(regular, regular + turbo))},
        "scheduler": {"regular_slice_us": 30000, "turbo_slice_us": 100,
                      "turbo_preempt": True, "turbo_preempt_min_us": 20},
        "poweroff": "when_vms_done", "stats_interval_ms": stats_interval_ms,
        "vms": [{"name": f"spin{i}", "memory_mib": 8, "vcpus": vcpus, "turbo_vcpu": True,
                 "image": "guest-shim", "cmdline": f"workload=spin ms={ms}"}
                for i in range(vms)],
    }


def write(manifest, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1)
    return path


# --- I/O scenarios (issue: virtio-pci devices served by polling I/O cores) ----------------------

IO_MODES = ("exit", "sidecore")


def io_manifest(mode, vms=1, qd=4, n=2000, ms=None, req_kib=4, write_pct=30, poll_idle_us=None,
                memory_mib=16, disk_mib=8, interrupts=None, coalescing=None, event_idx=None,
                irq_wait=False, workload="blk-bench"):
    """`vms` VMs on regular core 0, each running guest-shim's `blk-bench` (random 4 KiB reads and
    writes, `qd` in flight, `n` requests or for `ms` milliseconds) against a virtio-blk ramdisk
    of its own. CPU 1 is the I/O core that serves every VM's queue in "sidecore" mode; in "exit"
    mode it idles and each notify write is served in the exit handler. `poll_idle_us` None keeps
    the hypervisor's default (a queue quiet that long goes back to notifications); so do
    `interrupts` ("exitless" | "inject") and `coalescing` ("vic" | "off") for io.interrupts and
    io.coalescing. `event_idx` 0 has the driver go without VIRTIO_F_EVENT_IDX (an interrupt for
    every completion it does not suppress). With `irq_wait` the guest looks at its used ring
    again only after an interrupt (an interrupt-driven driver) instead of polling it.
    `workload` "blk-irq" reads one block at a time and waits for each one's interrupt (`qd`
    and `write_pct` do not apply)."""
    io = {"mode": mode}
    for key, value in (("poll_idle_us", poll_idle_us), ("interrupts", interrupts),
                       ("coalescing", coalescing)):
        if value is not None:
            io[key] = value
    amount = f"ms={ms}" if ms else f"n={n}"
    args = f"qd={qd} req_kib={req_kib} write_pct={write_pct} " if workload == "blk-bench" else ""
    if event_idx is not None:
        args += f"event_idx={event_idx} "
    if irq_wait and workload == "blk-bench":
        args += "irq_wait=1 "
    return {
        "cores": {"regular": [0], "io": [1]},
        "poweroff": "when_vms_done", "stats_interval_ms": 0, "io": io,
        "vms": [{"name": f"blk{i}", "memory_mib": memory_mib, "image": "guest-shim",
                 "cmdline": f"workload={workload} {amount} {args}seed={7 + i}",
                 "devices": [{"type": "virtio-blk", "size_mib": disk_mib}]}
                for i in range(vms)],
    }
