"""The limits of lib/config.h (issue 12): one place, documented in docs/manifest.md, applied alike
by tools/check-manifest and the hypervisor's parser, and a manifest at the limits both accept and
the emulator boots.

The largest valid manifest (tools/gen-largest-manifest: every CPU, every field, 256 VMs of 64
regular vCPUs and a turbo one, 8 AHCI-backed virtio-blk devices each) has exactly CONFIG_MAX_TOKENS JSON
tokens; check-manifest and the parser (build/unit/test_manifest FILE, kernel/manifest_*.c on the
host) accept it and refuse it alike one step past any limit (the switches' limits on its
virtio-net shape, --device-type net, whose devices have two tokens fewer each).

The emulator boot: QEMU (TCG, 5 CPUs, 2.5 GiB) boots 256 VMs of 64 regular vCPUs and a turbo
vCPU each (16 640 vCPUs), 6 MiB of RAM each (the least that holds guest-shim and 65 vCPU stacks
of 64 KiB), with one virtio-net device each: 256 ports on one switch, 128 devices on each of two
I/O cores, all at their limits. The full manifest's 8 devices per VM boot too (2 048 devices on
16 I/O cores, 19 CPUs) but take over a minute on a 2-core host, mostly for their 2 048 final
@io_stats records on the console."""
import copy
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, Boot

sys.path.insert(0, os.path.join(ROOT, "tools"))
import limits  # noqa: E402

CONFIG = limits.read_config()
GEN = os.path.join(ROOT, "tools", "gen-largest-manifest")
CHECK = os.path.join(ROOT, "tools", "check-manifest")
PARSER = os.path.join(ROOT, "build", "unit", "test_manifest")
GENERATED = os.path.join(ROOT, "build", "manifests", "limits")

BOOT_CPUS = 5  # 2 regular, 1 turbo, 2 I/O
BOOT_VCPUS = CONFIG["CONFIG_MAX_VCPUS"]
BOOT_VMS = CONFIG["CONFIG_MAX_VMS"]
BOOT_MIB = 6


def generate(path, *args):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run([GEN, "-o", path, *args], check=True)
    return path


def boot_manifest():
    """The boot's manifest: the largest one's shape with what the emulator has."""
    return generate(os.path.join(GENERATED, "boot.json"), "--cpus", str(BOOT_CPUS),
                    "--vms", str(BOOT_VMS), "--vcpus", str(BOOT_VCPUS), "--devices", "1",
                    "--modules", "0", "--memory-mib", str(BOOT_MIB), "--image", "guest-shim",
                    "--cmdline", "workload=hello", "--set", "io.poll_idle_us=200",
                    "--device-type", "net")


BOOT = Boot("qemu-limits", "qemu", boot_manifest(), cpus=BOOT_CPUS, timeout=240,
            options=(("mem", "2560M"),))
BOOTS = [BOOT]


@pytest.fixture(scope="module")
def largest():
    path = generate(os.path.join(GENERATED, "largest.json"))
    with open(path) as f:
        return path, f.read()


def test_schema_has_the_limits_of_config_h():
    """docs/manifest.schema.json says what lib/config.h says (check-manifest applies the
    header's limits anyway, but the schema is published for other tools too)."""
    assert limits.schema_disagreements(limits.load_schema(), CONFIG) == []


def test_docs_list_every_limit():
    """docs/manifest.md's "Limits" table: every CONFIG_ limit with lib/config.h's value."""
    with open(os.path.join(ROOT, "docs", "manifest.md")) as f:
        text = f.read()
    section = text[text.index("## Limits"):]
    rows = dict(re.findall(r"^\| [^|]+\| `(CONFIG_\w+)` \| ([\d ]+) \|", section, re.M))
    for name, value in CONFIG.items():
        if not name.startswith("CONFIG_TOKENS_"):
            assert rows.get(name, "").replace(" ", "") == str(value), name


def test_largest_manifest_has_the_most_tokens(largest):
    path, text = largest
    assert limits.count_tokens(text) == CONFIG["CONFIG_MAX_TOKENS"]
    doc = json.loads(text)
    assert len(doc["vms"]) == CONFIG["CONFIG_MAX_VMS"]
    assert sum(len(ids) for ids in doc["cores"].values()) == CONFIG["CONFIG_MAX_CPUS"]
    print(f"\nlargest manifest: {len(doc['vms'])} VMs x {doc['vms'][0]['vcpus']}+1 vCPUs, "
          f"{len(doc['vms'][0]['devices'])} devices each, {CONFIG['CONFIG_MAX_CPUS']} CPUs, "
          f"{limits.count_tokens(text)} tokens, {len(text.encode())} bytes")


def test_largest_manifest_has_every_field(largest):
    """Every field the schema knows is in it (the ahci virtio-blk device's, the device with the
    most), so that a new field shows up in the token count until CONFIG_MAX_TOKENS counts it
    too."""
    schema = limits.load_schema()
    kinds = schema["$defs"]["device"]["oneOf"]
    ahci = next(k["properties"] for k in kinds if k["properties"].get("backend") == {"const": "ahci"})
    assert all(len(k["properties"]) <= len(ahci) for k in kinds)
    doc = json.loads(largest[1])
    props = schema["properties"]
    assert set(doc) == set(props)
    for key in ("cores", "scheduler", "io"):
        assert set(doc[key]) == set(props[key]["properties"]), key
    for vm in doc["vms"]:
        assert set(vm) == set(schema["$defs"]["vm"]["properties"])
        for dev in vm["devices"]:
            assert set(dev) == set(ahci)


def test_check_manifest_accepts_the_largest(largest):
    r = subprocess.run([CHECK, "--cpus", str(CONFIG["CONFIG_MAX_CPUS"]), largest[0]],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip().endswith(": ok"), r.stdout


# --- one step past each limit: check-manifest and the hypervisor's parser agree ---------------

def one_vm_more(d):
    del d["io"]  # 18 tokens fewer, for the 17 of the VM: within CONFIG_MAX_TOKENS
    vm = {k: v for k, v in d["vms"][0].items() if k != "modules"}
    d["vms"].append(dict(vm, name="one-more", devices=[]))


def one_vcpu_more(d):
    d["vms"][5]["vcpus"] += 1


def cpu_past_the_limit(d):
    d["cores"]["io"][-1] = CONFIG["CONFIG_MAX_CPUS"]


def one_token_more(d):
    d["vms"][0]["colour"] = 1  # two tokens more, and an unknown field: the size is said first


def as_net(d):
    """The devices as gen-largest-manifest --device-type net makes them: device j of VM i a port
    of switch j with a unique MAC, on the same I/O core (fewer tokens: within the limit)."""
    for i, vm in enumerate(d["vms"]):
        vm["devices"] = [{"type": "virtio-net", "switch": (f"sw{j}-" + "s" * CONFIG["CONFIG_NAME_MAX"])[
            :CONFIG["CONFIG_NAME_MAX"]], "mac": f"52:54:{j:02x}:{i >> 8 & 0xff:02x}:{i & 0xff:02x}:00",
            "tx_queue_len": CONFIG["CONFIG_TX_QUEUE_MAX"], "io_core": dev["io_core"]}
            for j, dev in enumerate(vm["devices"])]


def one_switch_too_many(d):
    as_net(d)
    for i, vm in enumerate(d["vms"]):
        for j, dev in enumerate(vm["devices"]):
            dev["switch"] = f"s{(i * len(vm['devices']) + j) % (CONFIG['CONFIG_MAX_SWITCHES'] + 1)}"


def one_port_too_many(d):
    as_net(d)
    d["vms"][-1]["devices"][-1]["switch"] = d["vms"][0]["devices"][0]["switch"]


def io_core_overloaded(d):
    d["vms"][-1]["devices"][-1]["io_core"] = d["cores"]["io"][0]


def io_cores_in_turn_overloaded(d):
    d["cores"]["regular"].append(d["cores"]["io"].pop())  # 2048 devices in turn on 15
    for vm in d["vms"]:
        for dev in vm["devices"]:
            del dev["io_core"]


def no_turbo_core(d):
    d["cores"]["regular"] += d["cores"].pop("turbo")


PER_CORE = CONFIG["CONFIG_MAX_IO_CORE_DEVICES"]
# (mutation, the field both name, whether the reasons are the same: the schema's messages are
# jsonschema's, the rules' are the hypervisor's)
PAST_THE_LIMITS = [
    (one_vm_more, "vms", False),
    (one_vcpu_more, "vms[5].vcpus", False),
    (cpu_past_the_limit, "cores.io[15]", False),
    (one_token_more, "(top level)", True),
    (one_switch_too_many, f"vms[{CONFIG['CONFIG_MAX_SWITCHES'] // 8}].devices[0].switch", True),
    (one_port_too_many, "vms[255].devices[7].switch", True),
    (io_core_overloaded, "vms[255].devices[7].io_core", True),
    (io_cores_in_turn_overloaded, f"vms[{PER_CORE * 15 // 8}].devices[0]", True),
    (no_turbo_core, "vms[0].turbo_vcpu", True),
]


def outputs(tool, paths):
    """{path: (field, reason)} of a tool's `FILE: field: reason` or `FILE: ok` lines."""
    r = subprocess.run([tool, *paths], capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        path, _, rest = line.partition(": ")
        field, _, reason = rest.partition(": ")
        out[path] = (field, reason)
    assert set(out) == set(paths), r.stdout + r.stderr
    return out


def test_check_manifest_and_the_parser_agree_past_each_limit(largest):
    r = subprocess.run(["make", "-s", "-C", ROOT, "build/unit/test_manifest"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    base = json.loads(largest[1])
    paths = [largest[0]]
    for mutate, _, _ in PAST_THE_LIMITS:
        doc = copy.deepcopy(base)
        mutate(doc)
        paths.append(os.path.join(GENERATED, mutate.__name__ + ".json"))
        with open(paths[-1], "w") as f:
            json.dump(doc, f, separators=(",", ":"))
    host, hypervisor = outputs(CHECK, paths), outputs(PARSER, paths)
    assert host[paths[0]] == hypervisor[paths[0]] == ("ok", "")
    for path, (mutate, field, same_reason) in zip(paths[1:], PAST_THE_LIMITS):
        assert host[path][0] == hypervisor[path][0] == field, (mutate.__name__, host[path],
                                                               hypervisor[path])
        if same_reason:
            assert host[path][1] == hypervisor[path][1], (host[path], hypervisor[path])


# --- the emulator boot ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run(boots):
    return boots.get(BOOT)


def test_boot_manifest_is_valid():
    r = subprocess.run([CHECK, "--cpus", str(BOOT_CPUS), BOOT.manifest], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout


def test_boots_every_vm(run):
    assert run.ended == "poweroff" and not run.of_type("panic"), run.describe()
    assert not run.malformed, run.malformed[:3]
    assert run.one("manifest") == {"type": "manifest", "status": "accepted", "vms": BOOT_VMS,
                                   "skipped": 0}
    assert run.one("boot_done")["cpus"] == BOOT_CPUS
    print(f"\n{BOOT_VMS} VMs x {BOOT_VCPUS}+1 vCPUs on {BOOT_CPUS} CPUs: "
          f"wall {run.seconds:.1f} s")


def test_every_vcpu_of_every_vm_ran_to_its_end(run):
    """Each VM ends by its vCPU 0 powering it off once all 64 others (the turbo one among
    them) have counted themselves done and sent it their IPI, then halted."""
    with open(BOOT.manifest) as f:
        names = [vm["name"] for vm in json.load(f)["vms"]]
    stopped = {r["vm"]: r["reason"] for r in run.of_type("vm_stopped")}
    assert stopped == {n: "powered off by the guest, code 0" for n in names}, run.describe()
    stats = {r["vm"]: r for r in run.of_type("vm_stats")}
    started = {r["vm"] for r in run.of_type("guest_report") if r["key"] == "start_tsc"}
    assert started == set(names)
    for name in names:
        s = stats[name]
        assert s["vcpus"] == BOOT_VCPUS + 1, s
        assert s["ipis"] == BOOT_VCPUS, s  # one from each vCPU but 0
        assert s["exit_hlt"] >= BOOT_VCPUS, s
        assert s["turbo_us"] > 0 and s["regular_us"] > 0, s
        assert "first_hypercall_us" in s, s


def test_every_device_built_on_its_io_core(run):
    """256 ports on one switch and 128 devices on each of the two I/O cores: at their limits."""
    final = [r for r in run.of_type("io_stats") if r["final"]]
    assert len(final) == BOOT_VMS
    assert all(r["status"] == "ok" and r["device_type"] == "virtio-net" for r in final)
    per_core = {}
    for r in final:
        per_core[r["io_core"]] = per_core.get(r["io_core"], 0) + 1
    assert sorted(per_core.values()) == [PER_CORE, PER_CORE], per_core
    assert len({r["switch"] for r in final}) == 1
