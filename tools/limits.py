"""The build's limits, read from lib/config.h, for the host tools (tools/check-manifest,
tools/gen-largest-manifest) and the tests: the one place they are written down is that header,
which the hypervisor compiles in.

    read_config()          {"CONFIG_MAX_VMS": 256, ...}: every `#define CONFIG_* <expression>`
    apply_to_schema(s, c)  docs/manifest.schema.json with the limits of lib/config.h
    schema_disagreements   where the schema file says otherwise than lib/config.h
    count_tokens(text)     the JSON tokens of a manifest as the hypervisor's tokenizer (jsmn)
                           counts them: one per object, array, string, number and literal, and
                           one per key
"""
import ast
import json
import operator
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_H = os.path.join(ROOT, "lib", "config.h")
SCHEMA = os.path.join(ROOT, "docs", "manifest.schema.json")

_DEFINE = re.compile(r"^#define\s+(CONFIG_\w+)\s+(.*?)\s*$")
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv, ast.Div: operator.floordiv}


def _eval(node, names):
    """An integer expression of the header: numbers, + - * /, parentheses, CONFIG_ names."""
    if isinstance(node, ast.Expression):
        return _eval(node.body, names)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left, names), _eval(node.right, names))
    raise ValueError(f"lib/config.h: cannot evaluate {ast.dump(node)}")


def read_config(path=CONFIG_H):
    """Every CONFIG_* constant of lib/config.h, evaluated (a #define may span lines with
    backslashes and use the ones before it; comments are dropped)."""
    with open(path) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S).replace("\\\n", " ")
    names = {}
    for line in text.splitlines():
        m = _DEFINE.match(line.strip())
        if m:
            expr = re.sub(r"(\d+)[uUlL]+\b", r"\1", m.group(2))
            names[m.group(1)] = _eval(ast.parse(expr, mode="eval"), names)
    return names


def _at(schema, path):
    node = schema
    for key in path:
        node = node[key]
    return node


DEVICE_NET = ("$defs", "device", "oneOf", 1, "properties")
DEVICE_BLK = ("$defs", "device", "oneOf", 0, "properties")
VM = ("$defs", "vm", "properties")

# Where each limit sits in docs/manifest.schema.json: (path, key, value from the config).
SCHEMA_LIMITS = (
    (("properties", "vms"), "maxItems", lambda c: c["CONFIG_MAX_VMS"]),
    (("$defs", "cpu_list"), "maxItems", lambda c: c["CONFIG_MAX_CPUS"]),
    (("$defs", "cpu_id"), "maximum", lambda c: c["CONFIG_MAX_CPUS"] - 1),
    (("$defs", "name"), "pattern", lambda c: f"^[A-Za-z0-9_-]{{1,{c['CONFIG_NAME_MAX']}}}$"),
    (VM + ("memory_mib",), "maximum", lambda c: c["CONFIG_MAX_MEMORY_MIB"]),
    (VM + ("vcpus",), "maximum", lambda c: c["CONFIG_MAX_VCPUS"]),
    (VM + ("cmdline",), "maxLength", lambda c: c["CONFIG_CMDLINE_MAX"]),
    (VM + ("devices",), "maxItems", lambda c: c["CONFIG_MAX_DEVICES"]),
    (VM + ("modules",), "maxItems", lambda c: c["CONFIG_MAX_VM_MODULES"]),
    (DEVICE_BLK + ("size_mib",), "maximum", lambda c: c["CONFIG_MAX_DISK_MIB"]),
    (DEVICE_NET + ("tx_queue_len",), "maximum", lambda c: c["CONFIG_TX_QUEUE_MAX"]),
)


def load_schema(path=SCHEMA):
    with open(path) as f:
        return json.load(f)


def schema_disagreements(schema, config):
    """[(where, the schema's value, lib/config.h's)] for every limit they disagree on."""
    out = []
    for path, key, value in SCHEMA_LIMITS:
        node = _at(schema, path)
        if node.get(key) != value(config):
            out.append(("/".join(map(str, path + (key,))), node.get(key), value(config)))
    return out


def apply_to_schema(schema, config):
    """The schema with lib/config.h's limits in place of its own (changed in place)."""
    for path, key, value in SCHEMA_LIMITS:
        _at(schema, path)[key] = value(config)
    return schema


class _Object(list):
    """A JSON object as its (key, value) pairs, duplicates kept."""


def count_tokens(text):
    """The JSON tokens of `text` (valid JSON), counted as jsmn does."""
    def count(v):
        if isinstance(v, _Object):
            return 1 + sum(1 + count(val) for _, val in v)
        if isinstance(v, list):
            return 1 + sum(count(x) for x in v)
        return 1

    return count(json.loads(text, object_pairs_hook=_Object))
