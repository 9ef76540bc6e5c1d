#!/usr/bin/python3
"""Writes the seed inputs of the libFuzzer harnesses into tests/fuzz/corpus/NAME/seed-*.

    tests/fuzz/seeds.py [NAME...]     all harnesses' seeds, or only those named (fuzz_elf ...)

Each seed is a well-formed input in the harness's own format (see the comment at the top of
tests/fuzz/NAME.c), so fuzzing starts from the deep states: manifests from the integration
tests, ACPI tables captured from QEMU and Bochs, small ELF images, page tables, APIC
register sequences and virtio requests. A merge (`-merge=1`) afterwards keeps those that
still add coverage.
"""
import glob
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def le16(v):
    return struct.pack("<H", v & 0xffff)


def le32(v):
    return struct.pack("<I", v & 0xffffffff)


def le64(v):
    return struct.pack("<Q", v & 0xffffffffffffffff)


def put(ram, at, b):
    ram[at:at + len(b)] = b


# --- manifest ------------------------------------------------------------------------------

def manifest():
    for d in ("good", "bad"):
        for p in sorted(glob.glob(os.path.join(ROOT, "tests/integration/manifests", d, "*.json"))):
            yield f"{d}-{os.path.basename(p)[:-5]}", open(p, "rb").read()


# --- ELF -----------------------------------------------------------------------------------

def elf64(segments, entry):
    """An x86-64 ET_EXEC with the given (paddr, bytes, memsz) PT_LOAD segments, packed."""
    phoff, n = 64, len(segments)
    data_at = phoff + 56 * n
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    out = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, phoff, 0, 0, 64, 56, n, 0, 0, 0)
    body = b""
    for paddr, b, memsz in segments:
        out += struct.pack("<IIQQQQQQ", 1, 5, data_at + len(body), paddr, paddr, len(b), memsz,
                           0x1000)
        body += b
    return out + body


def elf32(segments, entry):
    phoff, n = 52, len(segments)
    data_at = phoff + 32 * n
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    out = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, phoff, 0, 0, 52, 32, n, 0, 0, 0)
    body = b""
    for paddr, b, memsz in segments:
        out += struct.pack("<IIIIIIII", 1, data_at + len(body), paddr, paddr, len(b), memsz, 5,
                           0x1000)
        body += b
    return out + body


def packed_elf(path):
    """A real image with its PT_LOAD segments packed after the headers (no section table)."""
    f = open(path, "rb").read()
    if f[4] == 1:
        entry, phoff = struct.unpack_from("<II", f, 24)
        phnum = struct.unpack_from("<H", f, 44)[0]
        segs = []
        for i in range(phnum):
            t, off, _, paddr, filesz, memsz = struct.unpack_from("<IIIIII", f, phoff + 32 * i)
            if t == 1:
                segs.append((paddr, f[off:off + filesz], memsz))
        return elf32(segs, entry)
    entry, phoff = struct.unpack_from("<QQ", f, 24)
    phnum = struct.unpack_from("<H", f, 56)[0]
    segs = []
    for i in range(phnum):
        t, _, off, _, paddr, filesz, memsz = struct.unpack_from("<IIQQQQQ", f, phoff + 56 * i)
        if t == 1:
            segs.append((paddr, f[off:off + filesz], memsz))
    return elf64(segs, entry)


def elf():
    code = bytes([0xf4, 0xeb, 0xfd])  # hlt; jmp .-1
    yield "elf64-one", elf64([(0x100000, code, 0x1000)], 0x100000)
    yield "elf64-two", elf64([(0x100000, code, 3), (0x180000, b"data" * 8, 0x2000)], 0x100000)
    yield "elf32-one", elf32([(0x100000, code, 3)], 0x100000)
    yield "elf32-bss", elf32([(0x1000, code, 0x10000)], 0x1000)
    shim32 = os.path.join(ROOT, "build/guests/guest-shim32.elf")
    if os.path.exists(shim32):
        yield "guest-shim32", packed_elf(shim32)


# --- multiboot version 1 ---------------------------------------------------------------------

def mb1_header(flags, addresses=()):
    magic = 0x1BADB002
    return le32(magic) + le32(flags) + le32(-(magic + flags)) + b"".join(le32(a) for a in addresses)


def multiboot1():
    code = bytes([0xf4, 0xeb, 0xfd])  # hlt; jmp .-1
    # a.out kludge: the file loads at 1 MiB, header at its start, entry after the header
    aout = mb1_header(0x10003, (0x100000, 0x100000, 0x100000 + 32 + 3, 0x102000, 0x100020))
    yield "aout", aout + code
    yield "aout-to-eof", mb1_header(0x10000, (0x100000, 0x100000, 0, 0, 0x100020)) + code
    yield "aout-late-header", bytes(64) + mb1_header(
        0x10002, (0x100040, 0x100000, 0, 0x101000, 0x100060)) + code
    yield "plain", mb1_header(0x3) + code
    yield "plain-elf32", elf32([(0x100000, mb1_header(0x3) + code, 0x1000)], 0x10000c)
    yield "video", mb1_header(0x4) + code
    for name in ("guest-mb", "guest-mb-elf"):
        path = os.path.join(ROOT, f"build/guests/{name}.elf")
        if os.path.exists(path):
            yield name, open(path, "rb").read()


# --- ACPI ----------------------------------------------------------------------------------

def checksum(b, at):
    b = bytearray(b)
    b[at] = 0
    b[at] = (-sum(b)) & 0xff
    return bytes(b)


def captured(name):
    d = os.path.join(ROOT, "tests/unit/data/acpi", name)
    tables = {}
    for p in sorted(glob.glob(os.path.join(d, "*.bin"))):
        sig = os.path.basename(p)[:4]
        if sig != "RSDP":
            tables[sig] = open(p, "rb").read()
    return tables


def raw_image(tables, xsdt):
    """BIOS-area memory from 0xe0000: RSDP, root table, then the tables, pointers fixed."""
    base, at = 0xe0000, 0x40
    order = [s for s in ("FACP", "APIC", "HPET", "MCFG", "WAET", "SSDT") if s in tables]
    addr = {}
    mem = bytearray(0x40)
    root_len = 36 + (8 if xsdt else 4) * len(order)
    root_at = at
    at += (root_len + 15) & ~15
    for sig in order + ["DSDT"]:
        addr[sig] = base + at
        at += (len(tables[sig]) + 15) & ~15
    mem = bytearray(at)
    for sig in order + ["DSDT"]:
        t = bytearray(tables[sig])
        if sig == "FACP":
            t[40:44] = le32(addr["DSDT"])
            if len(t) >= 148:
                t[140:148] = le64(addr["DSDT"])
        put(mem, addr[sig] - base, checksum(t, 9))
    entries = b"".join((le64 if xsdt else le32)(addr[s]) for s in order)
    root = (b"XSDT" if xsdt else b"RSDT") + le32(root_len) + bytes([1, 0]) + b"FUZZ  " + \
        b"FUZZTBL " + le32(1) + le32(0) + le32(0) + entries
    put(mem, root_at, checksum(root, 9))
    rsdp = bytearray(b"RSD PTR " + b"\0" + b"FUZZ  " + bytes([2 if xsdt else 0]) +
                     le32(0 if xsdt else base + root_at) + le32(36) +
                     le64(base + root_at if xsdt else 0) + bytes(4))
    rsdp = checksum(rsdp[:20], 8) + rsdp[20:]
    rsdp = checksum(rsdp, 32)
    put(mem, 0, rsdp)
    return bytes(mem)


def acpi():
    for name in ("qemu-q35-smp4", "qemu-q35-iommu", "bochs-2cpu"):
        t = captured(name)
        order = ["APIC", "FACP", "DSDT"] + [s for s in sorted(t) if s not in ("APIC", "FACP",
                                                                             "DSDT")]
        body = b"".join(t[s] for s in order)
        yield f"{name}-xsdt", bytes([0x05]) + body
        yield f"{name}-rsdt", bytes([0x04]) + body
        yield f"{name}-madt", bytes([0x00]) + t["APIC"]
        yield f"{name}-raw", bytes([0x80]) + raw_image(t, name.startswith("qemu"))


# --- instruction decoder -------------------------------------------------------------------

def insn_decode():
    forms = {
        "mov-store32": "89 07", "mov-store8": "88 27", "mov-store64": "48 89 47 08",
        "mov-store16": "66 89 87 00 01 00 00", "mov-load32": "8b 07", "mov-load8-ah": "8a 20",
        "mov-load64-r15": "4c 8b 3c 24", "mov-load-rip": "8b 05 10 00 00 00",
        "mov-load-sib": "8b 04 8d 00 10 00 00", "mov-imm8": "c6 00 5a",
        "mov-imm32": "c7 40 04 78 56 34 12", "mov-imm64": "48 c7 00 ff ff ff ff",
        "mov-imm16": "66 c7 00 34 12", "movzx-b": "0f b6 07", "movzx-w": "0f b7 07",
        "movsx-b": "48 0f be 07", "movsx-w": "0f bf 07", "movzx-16": "66 0f b6 07",
        "moffs-load": "a1 00 00 e0 fe 00 00 00 00", "moffs-store8": "a2 00 00 e0 fe 00 00 00 00",
        "moffs-addr32": "67 a3 00 00 e0 fe", "movs": "f3 a5", "movsb": "a4",
        "stos": "f3 48 ab", "stosb": "aa", "seg-lock": "64 f0 89 07", "rex-r": "44 89 07",
    }
    for name, hexs in forms.items():
        yield name, le64(0x8877665544332211 if "sx" not in name else 0x80f0) + bytes.fromhex(hexs)


# --- guest page walk -----------------------------------------------------------------------

def guest_walk():
    P, PS = 1, 0x80
    # Every level in page 0, at the indices 0, 1, 2, 3 of the address's four index fields.
    gva = (0 << 39) | (1 << 30) | (2 << 21) | (3 << 12) | 0x123
    for name, e1, e2, e3 in (("4k", P, P, 0x5000 | P), ("2m", P, 0x200000 | P | PS, 0),
                             ("1g", 0x40000000 | P | PS, 0, 0), ("absent", P, P, 0x5000)):
        mem = le64(P) + le64(e1) + le64(e2) + le64(e3)
        yield name, le64(0) + le64(gva) + mem
    # Separate tables in pages 1-3 for the address 0.
    mem = bytearray(0x1020)
    put(mem, 0, le64(0x1000 | P))
    put(mem, 0x1000, le64(0x0 | P))
    yield "selfref", le64(0) + le64(0x7fffffffffff) + bytes(mem)


# --- virtual LAPIC -------------------------------------------------------------------------

def vlapic():
    def rec(op, arg=0, off=0, value=0):
        return bytes([op, arg]) + le16(off) + le64(value)
    svr_on = rec(1, 0, 0x0f0, 0x1ff)
    x2 = rec(3, 0, 0, 0xfee00000 | (1 << 11) | (1 << 10))
    yield "enable-timer-oneshot", bytes([0]) + svr_on + rec(1, 0, 0x3e0, 0xb) + \
        rec(1, 0, 0x320, 0x30) + rec(1, 0, 0x380, 1000) + rec(0, 0, 0x390) + rec(4, 1) + \
        rec(6) + rec(8)
    yield "timer-periodic", bytes([1]) + svr_on + rec(1, 0, 0x3e0, 0x3) + \
        rec(1, 0, 0x320, 0x20031) + rec(1, 0, 0x380, 100) + rec(4, 0, 0, 12345) + rec(6) + \
        rec(4, 1) + rec(7, 0x10, 0, 0xffffffff)
    yield "tsc-deadline", bytes([2]) + svr_on + rec(1, 0, 0x320, 0x40032) + \
        rec(3, 1, 0, 5000) + rec(4, 1) + rec(2, 1) + rec(6) + rec(8)
    yield "x2apic-ipi", bytes([3]) + svr_on + x2 + rec(3, 2, 0x30, 0x0000000500004041) + \
        rec(3, 2, 0x3f, 0x55) + rec(3, 2, 0x08, 0x20) + rec(2, 2, 0x0a) + rec(6) + rec(8)
    yield "xapic-ipi-logical", bytes([0]) + svr_on + rec(1, 0, 0x0d0, 0x01000000) + \
        rec(1, 0, 0x310, 0xff000000) + rec(1, 0, 0x300, 0x00000840) + \
        rec(1, 0, 0x300, 0x000c0031) + rec(0, 0, 0x280) + rec(1, 0, 0x280)
    yield "priorities", bytes([4]) + svr_on + rec(5, 0x31) + rec(5, 0x52) + rec(5, 0x40) + \
        rec(1, 0, 0x080, 0x40) + rec(6) + rec(6) + rec(8) + rec(7, 0, 0, 0x0f0f0f0f0f) + \
        rec(5, 5) + rec(0, 0, 0x0a0)


# --- virtio-blk ----------------------------------------------------------------------------

def desc(gpa, length, flags, nxt):
    return le64(gpa) + le32(length) + le16(flags) + le16(nxt)


def vblk():
    NEXT, WRITE, INDIRECT = 1, 2, 4
    qsize = 8
    avail = 16 * qsize

    def image(chains, features=0, hdrs=()):
        ram = bytearray(0x800)
        d = 0
        heads = []
        for chain in chains:
            heads.append(d)
            for i, (gpa, length, flags) in enumerate(chain):
                nxt = d + 1 if i + 1 < len(chain) else 0
                put(ram, 16 * d, desc(gpa, length, flags | (NEXT if i + 1 < len(chain) else 0),
                                      nxt))
                d += 1
        put(ram, avail + 2, le16(len(heads)))
        for i, h in enumerate(heads):
            put(ram, avail + 4 + 2 * i, le16(h))
        for gpa, b in hdrs:
            put(ram, gpa, b)
        return bytes([3, features | (3 << 2)]) + bytes(ram)

    def hdr(t, sector):
        return le32(t) + le32(0) + le64(sector)
    yield "read", image([[(0x100, 16, 0), (0x200, 512, WRITE), (0x400, 1, WRITE)]],
                        hdrs=[(0x100, hdr(0, 3))])
    yield "write", image([[(0x100, 16, 0), (0x200, 512, 0), (0x400, 1, WRITE)]],
                         hdrs=[(0x100, hdr(1, 127))])
    yield "write-merged", image([[(0x100, 16 + 512, 0), (0x400, 1, WRITE)]],
                                hdrs=[(0x100, hdr(1, 0))])
    yield "read-merged-status", image([[(0x100, 16, 0), (0x200, 513, WRITE)]],
                                      features=1, hdrs=[(0x100, hdr(0, 1))])
    yield "flush-getid-unsupp", image([[(0x100, 16, 0), (0x400, 1, WRITE)],
                                       [(0x120, 16, 0), (0x200, 20, WRITE), (0x401, 1, WRITE)],
                                       [(0x140, 16, 0), (0x402, 1, WRITE)]],
                                      hdrs=[(0x100, hdr(4, 0)), (0x120, hdr(8, 0)),
                                            (0x140, hdr(99, 0))])
    yield "past-end", image([[(0x100, 16, 0), (0x200, 1024, WRITE), (0x400, 1, WRITE)]],
                            hdrs=[(0x100, hdr(0, 127))])
    # An indirect table at 0x600 with the whole request.
    table = desc(0x100, 16, NEXT, 1) + desc(0x200, 512, WRITE | NEXT, 2) + desc(0x400, 1, WRITE, 0)
    yield "indirect", image([[(0x600, len(table), INDIRECT)]], features=2,
                            hdrs=[(0x100, hdr(0, 0)), (0x600, table)])


# --- virtio-net ----------------------------------------------------------------------------

def vnet():
    NEXT, WRITE = 1, 2
    mac_b = bytes([0x52, 0x54, 0, 0, 0, 0x0b])
    mac_a = bytes([0x52, 0x54, 0, 0, 0, 0x0a])

    def image(head, tx, rx, mem=()):
        """tx, rx: lists of chains of (gpa, len, flags)."""
        ram = bytearray(0xc00)
        for dbase, abase, chains in ((0x0, 0x100, tx), (0x200, 0x300, rx)):
            d = 0
            for n, chain in enumerate(chains):
                put(ram, abase + 4 + 2 * n, le16(d))
                for i, (gpa, length, flags) in enumerate(chain):
                    last = i + 1 == len(chain)
                    put(ram, dbase + 16 * d, desc(gpa, length, flags | (0 if last else NEXT),
                                                  0 if last else d + 1))
                    d += 1
            put(ram, abase + 2, le16(len(chains)))
        for gpa, b in mem:
            put(ram, gpa, b)
        return bytes(head) + bytes(ram)

    frame = bytes(12) + mac_b + mac_a + b"\x08\x00" + bytes(range(46))
    bcast = bytes(12) + b"\xff" * 6 + mac_a + b"\x08\x06" + bytes(28)
    rx_big = [[(0x800, 1526, WRITE)]]
    rx_small = [[(0x800 + 0x80 * i, 0x80, WRITE)] for i in range(4)]
    yield "to-b", image([3, 0x10, 0x02, 10], [[(0x400, len(frame), 0)]], rx_big,
                        [(0x400, frame)])
    yield "to-b-split", image([3, 0x10, 0x01, 10], [[(0x400, 12, 0), (0x410, len(frame) - 12, 0)]],
                              rx_big, [(0x400, frame[:12]), (0x410, frame[12:])])
    yield "broadcast", image([3, 0x00, 0x0b, 10], [[(0x400, len(bcast), 0)]], rx_big,
                             [(0x400, bcast)])
    yield "mrg-rx", image([3, 0x31, 0x03, 40], [[(0x400, len(frame), 0)]], rx_small,
                          [(0x400, frame)])
    yield "event-idx", image([0x43, 0x22, 0x04, 10], [[(0x400, len(frame), 0)]], rx_big,
                             [(0x400, frame)])

# --- host PCI ------------------------------------------------------------------------------

def pci_fn(bus, dev, fn, vendor, device, class_prog, header=0, bars=(), caps=(), sec_bus=0):
    """One function in fuzz_pci_host's format: bus, devfn, a 64-byte header, six BAR masks.
    bars: (index, value, mask); caps: (offset, id, next), offsets inside the header's
    repetition (reads past 64 bytes wrap)."""
    cfg = bytearray(64)
    put(cfg, 0, le16(vendor) + le16(device))
    put(cfg, 4, le16(0x7) + le16(0x10 if caps else 0))
    put(cfg, 8, le32(class_prog << 8 | 1))
    cfg[14] = header
    masks = [0] * 6
    for index, value, mask in bars:
        put(cfg, 0x10 + 4 * index, le32(value))
        masks[index] = mask
    if caps:
        cfg[0x34] = caps[0][0]
    for at, cap_id, nxt in caps:
        put(cfg, at % 64, bytes([cap_id, nxt]))
    if header & 0x7f == 1:
        put(cfg, 0x18, bytes([bus, sec_bus, sec_bus, 0]))
    return bytes([bus, dev << 3 | fn]) + bytes(cfg) + b"".join(le32(m) for m in masks)


def pci_host():
    host = pci_fn(0, 0, 0, 0x8086, 0x29c0, 0x060000)
    ahci = pci_fn(0, 0x1f, 2, 0x8086, 0x2922, 0x010601,
                  bars=((4, 0xc081, 0xffe0), (5, 0xfebd9000, 0xfffff000)), caps=((0x80, 5, 0),))
    lpc = pci_fn(0, 0x1f, 0, 0x8086, 0x2918, 0x060100, header=0x80)
    nic = pci_fn(0, 3, 0, 0x8086, 0x10d3, 0x020000,
                 bars=((0, 0xfeb40000, 0xfffe0000), (2, 0xc041, 0xffe0),
                       (3, 0x0000000c, 0xfffff000), (4, 0x8, 0xffffffff)),
                 caps=((0xc8, 1, 0xd0), (0xd0, 5, 0xa0), (0xa0, 0x11, 0)))
    bridge = pci_fn(0, 1, 0, 0x1b36, 0x0001, 0x060400, header=1, sec_bus=1,
                    bars=((0, 0xfe000000, 0xffffff00),))
    behind = pci_fn(1, 0, 0, 0x8086, 0x10d3, 0x020000, bars=((0, 0xfe800000, 0xfffe0000),))
    back = pci_fn(1, 1, 0, 0x1b36, 0x0001, 0x060400, header=1, sec_bus=0)
    looping = pci_fn(0, 5, 0, 0x10ec, 0x8139, 0x020000, caps=((0x40, 9, 0x50), (0x50, 9, 0x43)))
    yield "q35", host + lpc + ahci + nic
    yield "bridges", host + bridge + behind + back
    yield "cap-loop", host + looping
    yield "i440fx", host + pci_fn(0, 1, 0, 0x8086, 0x7000, 0x060100, header=0x80) + \
        pci_fn(0, 1, 1, 0x8086, 0x7010, 0x010180, bars=((4, 0xc001, 0xfff0),))


# --- virtual platform (vplat/) -------------------------------------------------------------

def linux_boot():
    """bzImage setup headers: a Debian-like 2.15 one, and the ways linux_parse refuses one."""
    def header(version=0x020F, sects=4, jump_len=0x6A, xload=1, init_size=0x2000000, size=0xC00):
        b = bytearray(size)
        b[0x1F1] = sects
        b[0x1FE:0x200] = le16(0xAA55)
        b[0x200:0x202] = bytes([0xEB, jump_len])
        b[0x202:0x206] = b"HdrS"
        b[0x206:0x208] = le16(version)
        b[0x22C:0x230] = le32(0x7FFFFFFF)
        b[0x230:0x234] = le32(0x200000)
        b[0x234] = 1
        b[0x236:0x238] = le16(xload)
        b[0x238:0x23C] = le32(2047)
        b[0x258:0x260] = le64(0x1000000)
        b[0x260:0x264] = le32(init_size)
        return bytes(b)
    yield "debian-2.15", header()
    yield "sects-0", header(sects=0)
    yield "protocol-2.11", header(version=0x020B)
    yield "no-64bit-entry", header(xload=0)
    yield "setup-past-file", header(sects=40)
    yield "short-header", header(jump_len=0x20)
    yield "init-size-small", header(init_size=0x100)


def vioapic():
    def rec(op, arg=0, value=0):
        return bytes([op, arg]) + le32(value)

    def route(pin, low, high=0):
        return rec(0, 0, 0x11 + 2 * pin) + rec(0, 1, high) + rec(0, 0, 0x10 + 2 * pin) + \
            rec(0, 1, low)
    ver = rec(0, 0, 1) + rec(1, 1)
    yield "edge-pin4", ver + route(4, 0x44) + rec(2, 4, 1) + rec(2, 4, 0) + rec(2, 4, 1)
    yield "level-eoi", route(9, 0x61 | 1 << 15) + rec(2, 9, 1) + rec(3, 0x61) + rec(2, 9, 0) + \
        rec(0, 2, 0x61) + rec(2, 9, 1)
    yield "masked-unmask", route(2, 0x52 | 1 << 15 | 1 << 16) + rec(2, 2, 1) + \
        route(2, 0x52 | 1 << 15) + rec(4) + rec(3, 0x52) + rec(4) + rec(2, 2, 1)
    yield "id-polarity", rec(0, 0, 0) + rec(0, 1, 0xffffffff) + rec(2, 11, 1) + \
        route(11, 0x80 | 1 << 13) + rec(2, 11, 0)


def vuart():
    def w(reg, value):
        return bytes([0x80 | reg, value])

    def r(reg):
        return bytes([reg, 0])
    autoconfig = w(1, 0) + r(1) + w(1, 0x0f) + r(1) + w(1, 0) + w(4, 0x1a) + r(6) + \
        w(4, 0) + w(3, 0xbf) + r(2) + w(3, 0) + w(2, 1) + r(2) + w(2, 0x21) + r(2) + \
        w(3, 0x80) + w(2, 0x21) + r(2) + w(3, 0) + w(1, 0x40) + r(1) + w(7, 0xa5) + r(7)
    yield "linux-autoconfig", autoconfig
    yield "linux-startup", w(2, 7) + r(5) + r(0) + r(2) + r(6) + w(1, 2) + r(2) + w(1, 0) + \
        w(1, 2) + r(2) + w(1, 0) + w(4, 0x0b)
    yield "polled-line", w(3, 0x83) + w(0, 1) + w(1, 0) + w(3, 3) + \
        b"".join(r(5) + w(0, c) for c in b"hello\n")
    yield "irq-line", w(1, 2) + b"".join(r(2) + w(0, c) for c in b"irq\n") + r(2) + w(1, 0) + \
        w(4, 0x10) + w(1, 8) + r(2) + r(6) + r(2)


# --- the VM's ACPI tables ------------------------------------------------------------------

def vacpi():
    """le16 ncpus, ioapic_id, le16 sleep_port, le32 ioapic_base, le32 size, flags."""
    def cfg(ncpus, size=0x20000, flags=0, ioapic_id=None):
        ioapic_id = ncpus if ioapic_id is None else ioapic_id
        return (le16(ncpus) + bytes([ioapic_id & 0xff]) + le16(0x600) + le32(0xfec00000) +
                le32(size) + bytes([flags]))

    yield "1-cpu", cfg(1)
    yield "3-cpus", cfg(3)
    yield "254-cpus", cfg(254)
    yield "300-cpus-x2apic", cfg(300, ioapic_id=0)
    yield "1024-cpus", cfg(1024, ioapic_id=0)
    yield "1025-cpus-beyond-the-parser", cfg(1025, ioapic_id=0)
    yield "no-cpu", cfg(0)
    yield "too-small", cfg(3, size=0x200)
    yield "unaligned", cfg(2, flags=1)
    yield "foreign-ecam", cfg(2, flags=2)
    yield "foreign-window", cfg(2, flags=4)


def dmar_struct(kind, body):
    return le16(kind) + le16(4 + len(body)) + body


def dmar_scope(kind, bus, path, enum_id=0):
    hops = b"".join(bytes(hop) for hop in path)
    return bytes([kind, 6 + len(hops), 0, 0, enum_id, bus]) + hops


def dmar_table(structs, haw=38, flags=0):
    body = b"".join(structs)
    header = b"DMAR" + le32(48 + len(body)) + bytes([1, 0]) + b"CVSEED" + bytes(20)
    return header + bytes([haw, flags]) + bytes(10) + body


def dmar():
    """QEMU's table (the FIX_HEADER mode byte 0 and 1), and synthetic ones with what QEMU lacks."""
    table = open(os.path.join(ROOT, "tests/unit/data/acpi/qemu-q35-iommu/DMAR.bin"), "rb").read()
    yield "qemu-intel-iommu", b"\x00" + table
    yield "qemu-intel-iommu-fixed", b"\x01" + table
    drhd = lambda flags, size, base, scopes: dmar_struct(  # noqa: E731
        0, bytes([flags, size]) + le16(0) + le64(base) + b"".join(scopes))
    rmrr = dmar_struct(1, le16(0) + le16(0) + le64(0x7c000000) + le64(0x7c0fffff)
                       + dmar_scope(1, 0, [(0x14, 0)]))
    yield "units-rmrr-atsr", b"\x01" + dmar_table([
        drhd(0, 1, 0xfed90000, [dmar_scope(1, 0, [(2, 0)]), dmar_scope(2, 0, [(0x1c, 4)]),
                                dmar_scope(1, 0, [(0x1c, 0), (0, 0)])]),
        drhd(1, 0, 0xfed91000, [dmar_scope(3, 0xf0, [(0x1f, 0)], 8), dmar_scope(4, 0, [(0x1f, 0)])]),
        rmrr, dmar_struct(2, bytes(4)), dmar_struct(3, bytes(16)), dmar_struct(99, b"")], 45, 1)
    yield "scope-past-its-structure", b"\x01" + dmar_table([
        drhd(0, 0, 0xfed90000, [bytes([1, 10, 0, 0, 0, 0, 1, 0])])])


def ahci_identify(sectors, depth, model=b"QEMU HARDDISK"):
    """IDENTIFY DEVICE data: LBA48 capacity, NCQ with `depth` tags (0: none), a model."""
    w = [0] * 256
    w[83] = 1 << 10
    for i in range(4):
        w[100 + i] = sectors >> (16 * i) & 0xffff
    w[60], w[61] = min(sectors, 0x0fffffff) & 0xffff, min(sectors, 0x0fffffff) >> 16
    w[76] = 1 << 8 if depth else 0
    w[75] = depth - 1 if depth else 0
    text = model.ljust(40)
    for i in range(20):
        w[27 + i] = text[2 * i] << 8 | text[2 * i + 1]
    return b"".join(le16(x) for x in w)


def ahci():
    def sg(*pieces):
        return b"".join(le64(a) + le32(n) for a, n in pieces)

    yield "qemu-disk", ahci_identify(131072, 32) + bytes([64 << 1 | 1]) + sg((0x10000, 4096))
    yield "no-ncq-split", ahci_identify(1 << 20, 0) + bytes([8 << 1]) + sg((0x100000, 9 << 20),
                                                                            (0x2000, 512))
    yield "odd", ahci_identify(1 << 40, 8) + bytes([4 << 1 | 1]) + sg((0x1001, 512))
    yield "high", ahci_identify(1, 1) + bytes([4 << 1]) + sg((0xfffffe00, 0x400))


TARGETS = {
    "fuzz_manifest": manifest, "fuzz_elf": elf, "fuzz_acpi": acpi,
    "fuzz_insn_decode": insn_decode, "fuzz_guest_walk": guest_walk, "fuzz_vlapic": vlapic,
    "fuzz_vblk": vblk, "fuzz_vnet": vnet, "fuzz_linux_boot": linux_boot, "fuzz_vioapic": vioapic,
    "fuzz_vuart": vuart, "fuzz_vacpi": vacpi,
    "fuzz_multiboot1": multiboot1, "fuzz_pci_host": pci_host, "fuzz_dmar": dmar,
    "fuzz_ahci": ahci,
}


def main():
    names = sys.argv[1:] or sorted(TARGETS)
    for name in names:
        d = os.path.join(CORPUS, name)
        os.makedirs(d, exist_ok=True)
        n = 0
        for seed, data in TARGETS[name]():
            with open(os.path.join(d, f"seed-{seed}"), "wb") as f:
                f.write(data)
            n += 1
        print(f"{name}: {n} seeds")


if __name__ == "__main__":
    main()
