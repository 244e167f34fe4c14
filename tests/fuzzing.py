"""Hostile variants of specs, for tests/test_fuzz.py (hypothesis) and benchmarks/fuzz.py (100,000 cases).

Every generator takes a :class:`random.Random` and returns the bytes of a file, so a case is
reproduced from its seed alone. :func:`mutate` changes a spec from ``specs/``: in its parsed form
(a key deleted, duplicated, renamed or retyped; values swapped; a number made huge, negative, a
float or a string) or in its text (cut at a byte, a line repeated or dropped, odd characters
inserted). :func:`random_document` writes YAML from scratch, shaped like a spec or not at all.
:func:`run_case` is the property: archdraw accepts the file, or refuses it with a
:class:`~archdraw.SpecError`; anything else escapes as the exception it is.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

import archdraw
from archdraw.dot import to_dot
from archdraw.errors import SpecError
from archdraw.info import to_info, to_text
from archdraw.ir import Graph
from archdraw.ops import OPS, AttrSpec, AttrType
from archdraw.source import decode
from archdraw.views import View, ViewError, apply_view

__all__ = ["GENERATORS", "generate", "mutate", "random_document", "run_case", "spec_texts", "unsafe"]

ROOT = Path(__file__).resolve().parent.parent

# Numbers where sizes, counts and steps belong: past every limit, at the edges, and not integers.
NUMBERS: tuple[object, ...] = (
    0,
    -1,
    -3,
    1,
    2,
    64,
    65,
    1001,
    10_001,
    50_001,
    10**12,
    10**15,
    10**15 + 1,
    10**18,
    2**63,
    2**64 + 1,
    10**29,
    -(10**20),
    0.5,
    -0.0,
    1e300,
    float("nan"),
    float("inf"),
    float("-inf"),
    "N",
    "N * N",
    "N ** 64",
    "10 ** 20",
    "1 // 0",
    "-1",
    "x",
    "",
)
# Scalars YAML (1.1) or archdraw read in surprising ways, and text meant to break out of markup.
ODD: tuple[object, ...] = (
    None,
    True,
    False,
    "no",
    "yes",
    "on",
    "~",
    "010",
    "0x1F",
    "0b11",
    "1:30",
    "2016-01-01",
    "1e-5",
    ".nan",
    "<script>alert(1)</script>",
    '" onload="alert(1)',
    "]]></text>",
    "{{ x }}",
    "\\N",
    "a -> b; digraph {",
    "javascript:alert(1)",
    " JAVASCRIPT:alert(1)",
    "data:text/html,x",
    "file:///etc/passwd",
    "https://example.org/\"'<>",
    "\u202eevil",
    "zero\u200bwidth",
    "\u0430",
    "bell\x07esc\x1b[2J",
    "nul\x00",
    "é😀",
    "x" * 4001,
    [],
    {},
    [1, 2, 3],
    {"from": "x", "delay": 1},
    {"a": {"b": {"c": [1]}}},
)
KEYS: tuple[str, ...] = (
    "archdraw",
    "name",
    "summary",
    "family",
    "reference",
    "dims",
    "inputs",
    "layers",
    "blocks",
    "outputs",
    "style",
    "view",
    "id",
    "op",
    "block",
    "in",
    "label",
    "note",
    "group",
    "trainable",
    "role",
    "repeat",
    "shared",
    "when",
    "output",
    "shape",
    "from",
    "delay",
    "axis",
    "kind",
    "params",
    "units",
    "channels",
    "kernel",
    "stride",
    "padding",
    "rate",
    "url",
    "title",
    "unroll",
    "max_nodes",
    "depth",
    "expand",
    "<<",
    "on",
    "",
)
# Fragments inserted into the text: YAML syntax, encodings' trouble, controls, bidi, look-alikes.
INSERTS: tuple[str, ...] = (
    "\u202e",
    "\u200b",
    "\ufeff",
    "\x00",
    "\x07",
    "\x1b",
    "\t",
    "\r",
    "\n",
    "\u2028",
    "\x85",
    "é",
    "😀",
    "\u0430",
    "'",
    '"',
    "\\",
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    "- ",
    ",",
    "#",
    "&a ",
    "*a",
    "&a [*a] ",
    "!!python/object:os.system ",
    "!x ",
    "%YAML 1.1\n---\n",
    "---\n",
    "...\n",
    "<<: ",
    "? ",
    "|\n",
    ">-\n",
    "  ",
    "9" * 40,
    "[" * 80,
    "{a: " * 40,
    "-1",
    "0x",
    "010",
    "1:30",
    "2016-01-01",
    "1e400",
    ".inf",
    "repeat: 10000",
    "\\ud800",
    '"\\ud800"',
    '"\\e[2J"',
)


@cache
def spec_texts() -> tuple[tuple[str, bytes], ...]:
    """(name, bytes) of every spec in specs/, read once."""
    return tuple((p.stem, p.read_bytes()) for p in sorted((ROOT / "specs").glob("*.yaml")))


def _containers(tree: object) -> list[Any]:
    """Every list and mapping in ``tree``, iteratively (a deep tree must not recurse)."""
    found: list[Any] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            found.append(node)
            todo.extend(node.values())
        elif isinstance(node, list):
            found.append(node)
            todo.extend(node)
    return found


def _slots(tree: object) -> list[tuple[Any, Any]]:
    """(container, key or index) of every value in ``tree``."""
    slots: list[tuple[Any, Any]] = []
    for c in _containers(tree):
        slots.extend((c, k) for k in (c if isinstance(c, dict) else range(len(c))))
    return slots


def _odd(rnd: random.Random) -> object:
    pool = NUMBERS if rnd.random() < 0.5 else ODD
    value = rnd.choice(pool)
    return json.loads(json.dumps(value)) if isinstance(value, (list, dict)) else value  # a copy


def _tree_mutation(rnd: random.Random, tree: object) -> object:
    """Change the parsed spec in one to three places."""
    for _ in range(rnd.randint(1, 3)):
        slots = _slots(tree)
        maps = [c for c in _containers(tree) if isinstance(c, dict) and c]
        how = rnd.randrange(7)
        if how == 0 and maps:  # delete a key
            m = rnd.choice(maps)
            del m[rnd.choice(list(m))]
        elif how == 1 and maps:  # rename a key (to another known key, or a typo of it)
            m = rnd.choice(maps)
            old = rnd.choice(list(m))
            new = rnd.choice(KEYS) if rnd.random() < 0.7 else str(old)[::-1]
            if new not in m:
                m[new] = m.pop(old)
        elif how == 2 and slots:  # retype a value
            c, k = rnd.choice(slots)
            c[k] = _odd(rnd)
        elif how == 3 and len(slots) > 1:  # swap two values
            (c1, k1), (c2, k2) = rnd.sample(slots, 2)
            v1, v2 = c1[k1], c2[k2]
            if not _contains(v1, v2) and not _contains(v2, v1):
                c1[k1], c2[k2] = v2, v1
        elif how == 4:  # numbers become huge, negative, floats or strings
            numeric = [(c, k) for c, k in slots if isinstance(c[k], int) and not isinstance(c[k], bool)]
            if numeric:
                c, k = rnd.choice(numeric)
                c[k] = rnd.choice(NUMBERS)
        elif how == 5 and slots:  # copy a value somewhere else (a layer repeated, say)
            (c1, k1), (c2, k2) = rnd.choice(slots), rnd.choice(slots)
            if not _contains(c2[k2], c1):
                c1[k1] = json.loads(json.dumps(c2[k2], default=str))
        elif how == 6:  # add a key
            targets = maps or [c for c in _containers(tree) if isinstance(c, dict)]
            if targets:
                rnd.choice(targets)[rnd.choice(KEYS)] = _odd(rnd)
    return tree


def _contains(tree: object, target: object) -> bool:
    return any(c is target for c in _containers(tree))


def _dump(tree: object, rnd: random.Random) -> bytes:
    flow = rnd.random() < 0.3
    try:
        text = yaml.safe_dump(
            tree, allow_unicode=rnd.random() < 0.8, sort_keys=False, default_flow_style=flow
        )
    except yaml.YAMLError:  # a value PyYAML cannot write: JSON is YAML too
        text = json.dumps(tree, default=str)
    return text.encode("utf-8", "surrogatepass")


def unsafe(text: str, allowed: str = "\n") -> str | None:
    """The first character of ``text`` that would act rather than show, or None.

    Those are controls (but ``allowed``), bidi overrides, zero-width characters and surrogates.
    """
    return next(
        (ch for ch in text if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cf", "Cs")), None
    )


def _text_mutation(rnd: random.Random, data: bytes) -> bytes:
    """Change the bytes of a spec in one to three places."""
    for _ in range(rnd.randint(1, 3)):
        lines = data.split(b"\n")
        how = rnd.randrange(8)
        if how == 0 and data:  # cut at a byte (perhaps inside a UTF-8 sequence)
            data = data[: rnd.randrange(len(data))]
        elif how == 1:  # repeat a line (a duplicate key, usually)
            i = rnd.randrange(len(lines))
            lines.insert(i, lines[i])
            data = b"\n".join(lines)
        elif how == 2 and len(lines) > 1:  # drop a line
            del lines[rnd.randrange(len(lines))]
            data = b"\n".join(lines)
        elif how == 3:  # swap two lines
            i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif how == 4:  # insert odd text
            text = data.decode("utf-8", "surrogateescape")
            at = rnd.randint(0, len(text))
            piece = rnd.choice(INSERTS) * rnd.choice((1, 1, 1, 2, 50))
            data = (text[:at] + piece + text[at:]).encode("utf-8", "surrogateescape")
        elif how == 5:  # insert random code points (any plane, surrogates as raw bytes)
            text = data.decode("utf-8", "surrogateescape")
            at = rnd.randint(0, len(text))
            piece = "".join(chr(rnd.choice((rnd.randrange(0x80), rnd.randrange(0x110000)))) for _ in range(3))
            data = (text[:at] + piece + text[at:]).encode("utf-8", "surrogatepass")
        elif how == 6 and data:  # flip a byte
            i = rnd.randrange(len(data))
            data = data[:i] + bytes([rnd.randrange(256)]) + data[i + 1 :]
        elif how == 7:  # re-indent a line
            i = rnd.randrange(len(lines))
            lines[i] = b" " * rnd.choice((0, 1, 2, 3, 4, 8)) + lines[i].lstrip()
            data = b"\n".join(lines)
    return data


def mutate(rnd: random.Random) -> bytes:
    """A spec from specs/, changed in its parsed form, its text, or both."""
    _, data = rnd.choice(spec_texts())
    if rnd.random() < 0.6:
        tree = yaml.safe_load(data)  # our own, trusted specs: plain PyYAML is fine here
        data = _dump(_tree_mutation(rnd, tree), rnd)
    if rnd.random() < 0.5:
        data = _text_mutation(rnd, data)
    if rnd.random() < 0.05:  # an encoding
        text = data.decode("utf-8", "surrogateescape")
        codec = rnd.choice(("utf-16", "utf-16-le", "utf-8-sig", "latin-1"))
        data = text.encode(codec, "replace") if codec != "utf-8-sig" else b"\xef\xbb\xbf" + data
    return data


def _plausible(rnd: random.Random, spec: AttrSpec) -> object:
    """A value of the attribute's own kind (so that the spec gets past the loader, often)."""
    if spec.default is not None and rnd.random() < 0.5:
        return list(spec.default) if isinstance(spec.default, tuple) else spec.default
    kind = spec.type
    if kind in (AttrType.SIZE, AttrType.INTS):
        return rnd.choice(
            (1, 2, 3, 4, 8, 16, "N", "N * 2", [2, 2]) if kind is AttrType.INTS else (1, 4, 16, "N")
        )
    if kind is AttrType.PADDING:
        return rnd.choice((0, 1, "same", "valid", [1, 0]))
    if kind is AttrType.INT:
        return rnd.choice((-1, 0, 1, 2))
    if kind is AttrType.FLOAT:
        return rnd.choice((0.0, 0.5, 1.0e-5, 2.0))
    if kind is AttrType.BOOL:
        return rnd.random() < 0.5
    if kind is AttrType.CHOICE:
        return rnd.choice(spec.choices)
    if kind is AttrType.SHAPE:
        return rnd.choice((["N", 4], [-1, 4], ["N", 2, 2]))
    return "text"


def _layer(rnd: random.Random, names: list[str], graph: bool) -> dict[str, object]:
    op = rnd.choice(sorted(OPS))
    layer: dict[str, object] = {"op": op}
    for name, spec in OPS[op].attrs.items():
        if spec.required or rnd.random() < 0.5:
            layer[name] = _plausible(rnd, spec) if rnd.random() < 0.95 else _odd(rnd)
    if names and (graph or rnd.random() < 0.3):
        refs: list[object] = list(rnd.sample(names[-3:], min(len(names[-3:]), rnd.choice((1, 1, 1, 2, 3)))))
        if rnd.random() < 0.15:
            refs.append({"from": rnd.choice(names), "delay": rnd.choice((1, 1, 1, 1, 2, 0, -1, 1001))})
        layer["in"] = refs if len(refs) > 1 else refs[0]
    for key in ("label", "note", "repeat", "group", "trainable", "role", "when", "shared"):
        if rnd.random() < 0.01:
            layer[key] = _odd(rnd)
    if rnd.random() < 0.1:
        layer["repeat"] = rnd.choice((2, 3, 10, 100))
    return layer


def _value(rnd: random.Random, depth: int) -> object:
    if depth <= 0 or rnd.random() < 0.4:
        return _odd(rnd)
    if rnd.random() < 0.5:
        return [_value(rnd, depth - 1) for _ in range(rnd.randint(0, 4))]
    return {rnd.choice(KEYS): _value(rnd, depth - 1) for _ in range(rnd.randint(0, 4))}


def random_document(rnd: random.Random) -> bytes:
    """YAML written from scratch: shaped like a spec (often valid), or any tree of odd values."""
    if rnd.random() < 0.3:
        return _dump(_value(rnd, rnd.randint(0, 6)), rnd)
    names = ["x"]
    layers: dict[str, dict[str, object]] = {}
    graph = rnd.random() < 0.5
    for i in range(rnd.randint(1, 12)):
        layers[f"l{i}"] = _layer(rnd, names, graph)
        names.append(f"l{i}")
    spec: dict[str, object] = {
        "archdraw": 1,
        "name": rnd.choice(("random", *(o for o in ODD if isinstance(o, str) and len(o) < 100))),
        "dims": {"N": rnd.choice((1, 2, 8))},
        "inputs": {
            "x": {"shape": rnd.choice((["N", 3, 32, 32], ["N", 16], ["N", 8, 16], ["N", 2, 8, 8, 8]))}
        },
        "layers": layers if graph else [{"id": k, **v} for k, v in layers.items()],
    }
    if rnd.random() < 0.3:
        spec["view"] = {"unroll": rnd.choice((0, 1, 4, 64)), "max_nodes": rnd.choice((1, 5, 40))}
    if rnd.random() < 0.2:
        spec["reference"] = rnd.choice(ODD)
    return _dump(_tree_mutation(rnd, spec) if rnd.random() < 0.3 else spec, rnd)


GENERATORS: dict[str, Callable[[random.Random], bytes]] = {
    "mutated spec": mutate,
    "random document": random_document,
}


def generate(rnd: random.Random) -> tuple[str, bytes]:
    """(generator name, file bytes): mutated specs two times in three."""
    name = "mutated spec" if rnd.random() < 2 / 3 else "random document"
    return name, GENERATORS[name](rnd)


def run_case(data: bytes, path: str = "<fuzz>") -> tuple[bool, Graph | None]:
    """Read, analyse and draw ``data``: (True, graph) when accepted, (False, None) when refused.

    Refusals are :class:`~archdraw.SpecError` (or, for a view the spec asks for that cannot be
    drawn, :class:`~archdraw.ViewError`); any other exception is a bug and propagates. Accepted
    specs are drawn as DOT and described as JSON and text, whose safety is checked here too.
    """
    try:
        graph = archdraw.analyze(archdraw.loads(decode(data, path), path))
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            assert str(diagnostic).isprintable(), str(diagnostic)
        return False, None
    try:
        shown, _ = apply_view(graph, View.of(graph.view))
    except ViewError:
        return False, None
    dot = to_dot(shown)
    assert unsafe(dot) is None, f"{unsafe(dot)!r} in the DOT"
    json.dumps(to_info(graph), allow_nan=False)
    text = to_text(graph)
    assert unsafe(text, "\n\t") is None, f"{unsafe(text, chr(10) + chr(9))!r} in the info text"
    return True, graph
