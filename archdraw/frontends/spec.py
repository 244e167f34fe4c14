"""Writes a trace as a spec a person would write: scopes as blocks and groups, runs as ``repeat:``."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from ..ops import OPS, AttrType
from .trace import Input, Layer, Scope, Trace, Value

__all__ = ["write_spec"]

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# What a spec may not call a block: the op names, and the names repetitions give meaning to.
_RESERVED = set(OPS) | {"index", "first", "step", "steps", "x", "true", "false"}

# A reference relative to one instance of a scope: a layer at a path inside it, or its k-th input.
Ref = tuple[str, tuple[str, ...]] | tuple[str, int]
Item = Layer | Scope


# What may not differ between the copies of a repeat: it would make them different layers.
_SHAPE_OF_KERNEL = {"kernel", "dilation", "padding", "size", "axis", "axes", "shape", "kind"}


def _snake(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    text = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower()
    return text or "block"


def _ident(name: str, fallback: str) -> str:
    """A spec id for a framework name: ``conv1`` stays, ``0`` becomes ``conv2d_0``."""
    if _ID.match(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
    if not cleaned or cleaned[0].isdigit():
        cleaned = f"{fallback}_{cleaned}" if cleaned else fallback
    return cleaned


# -- the tree, with parents and consumers ----------------------------------------------------------


@dataclass
class _Tree:
    parent: dict[int, Scope] = field(default_factory=dict)
    readers: dict[int, list[Layer]] = field(default_factory=dict)
    outputs: set[int] = field(default_factory=set)

    def inside(self, item: Item, scope: Scope) -> bool:
        node: Scope | None = self.parent.get(id(item))
        while node is not None:
            if node is scope:
                return True
            node = self.parent.get(id(node))
        return False

    def path_in(self, item: Item, scope: Scope) -> tuple[str, ...]:
        names: list[str] = []
        node: Item = item
        while node is not scope:
            names.append(node.name)
            node = self.parent[id(node)]
        return tuple(reversed(names))


def _tree(trace: Trace) -> _Tree:
    """Who holds and who reads each item of a trace, and which layers are its outputs."""
    tree = _Tree(outputs={id(v) for v in trace.outputs})
    stack = [trace.root]
    while stack:
        scope = stack.pop()
        for item in scope.items:
            tree.parent[id(item)] = scope
            if isinstance(item, Scope):
                stack.append(item)
    for layer in trace.layers():
        for v in layer.inputs:
            tree.readers.setdefault(id(v), []).append(layer)
    return tree


def _walk(scope: Scope) -> Iterator[Layer]:
    for item in scope.items:
        if isinstance(item, Scope):
            yield from _walk(item)
        else:
            yield item


def _externals(scope: Scope, tree: _Tree) -> list[Input | Layer]:
    """What a scope reads from outside itself, in the order first read."""
    found: list[Input | Layer] = []
    for layer in _walk(scope):
        for v in layer.inputs:
            if (isinstance(v, Input) or not tree.inside(v, scope)) and v not in found:
                found.append(v)
    return found


def _result(scope: Scope, tree: _Tree) -> Layer | None:
    """The layer a scope gives: the last one read from outside it (or a model output)."""
    best: Layer | None = None
    for layer in _walk(scope):
        if id(layer) in tree.outputs or any(
            not tree.inside(r, scope) for r in tree.readers.get(id(layer), [])
        ):
            best = layer
    return best


def _refs(layer: Layer, scope: Scope, tree: _Tree, ext: list[Input | Layer]) -> list[Ref]:
    refs: list[Ref] = []
    for v in layer.inputs:
        if isinstance(v, Layer) and tree.inside(v, scope):
            refs.append(("L", tree.path_in(v, scope)))
        else:
            refs.append(("X", ext.index(v)))
    return refs


# -- templates: one shape for the instances of a block ------------------------------------------


@dataclass
class _TItem:
    name: str
    ident: str
    insts: list[Item | None]
    children: list[_TItem] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)

    @property
    def is_scope(self) -> bool:
        return any(isinstance(i, Scope) for i in self.insts)

    def first(self) -> Item:
        for i in self.insts:
            if i is not None:
                return i
        raise AssertionError("an item with no instance")

    @property
    def optional(self) -> bool:
        return any(i is None for i in self.insts)


class _Mismatch(Exception):
    """Instances that cannot be written as one block."""


def _layer_count(item: Item) -> int:
    return sum(1 for _ in _walk(item)) if isinstance(item, Scope) else 1


def _unify(scopes: Sequence[Scope | None]) -> list[_TItem]:
    """The union of the scopes' items, by name, in order; a name that differs in kind fails."""
    order: list[str] = []
    fullest = max((s for s in scopes if s is not None), key=_layer_count)
    order = [i.name for i in fullest.items]
    for s in scopes:
        if s is None:
            continue
        last = -1
        for i in s.items:
            if i.name in order:
                last = order.index(i.name)
            else:
                order.insert(last + 1, i.name)
                last += 1
    items: list[_TItem] = []
    for name in order:
        insts: list[Item | None] = []
        for s in scopes:
            found = None if s is None else next((i for i in s.items if i.name == name), None)
            insts.append(found)
        present = [i for i in insts if i is not None]
        if any(isinstance(i, Scope) for i in present) and not all(isinstance(i, Scope) for i in present):
            raise _Mismatch(name)
        if all(isinstance(i, Layer) for i in present):
            ops = {i.op for i in present if isinstance(i, Layer)}
            origins = {i.origin for i in present if isinstance(i, Layer)}
            if len(ops) != 1 or ("custom" in ops and len(origins) != 1):
                raise _Mismatch(name)
            tied = {i.tied is not None for i in present if isinstance(i, Layer)}
            if len(tied) != 1:
                raise _Mismatch(name)
        fallback = _fallback(present[0])
        item = _TItem(name, _ident(name, fallback), insts)
        if item.is_scope:
            kinds = {i.kind for i in present if isinstance(i, Scope)}
            if len(kinds) != 1:
                raise _Mismatch(name)
            item.children = _unify([i if isinstance(i, Scope) else None for i in insts])
        items.append(item)
    _unique_idents(items)
    return items


def _fallback(item: Item) -> str:
    return item.op if isinstance(item, Layer) else _snake(item.kind)


def _unique_idents(items: list[_TItem], taken: set[str] | None = None) -> None:
    seen = set(taken or ())
    for item in items:
        base = item.ident
        n = 1
        while item.ident in seen:
            n += 1
            item.ident = f"{base}_{n}"
        seen.add(item.ident)


# -- values of attributes across instances --------------------------------------------------------


def _full(layer: Layer) -> dict[str, Value]:
    """A layer's attributes with the op's defaults filled in, so instances compare."""
    attrs: dict[str, Value] = {}
    spec = OPS[layer.op].attrs
    for key, a in spec.items():
        if key in layer.attrs:
            attrs[key] = layer.attrs[key]
        elif not a.required and a.default is not None:
            attrs[key] = a.default  # type: ignore[assignment]
    for key, v in layer.attrs.items():
        attrs.setdefault(key, v)
    return attrs


def _is_default(layer: Layer, key: str, value: Value) -> bool:
    a = OPS[layer.op].attrs.get(key)
    return a is not None and not a.required and a.default == value and type(a.default) is type(value)


def _expressible(layer: Layer, key: str) -> bool:
    """Whether an attribute may hold a block parameter (a size, a flag or a word)."""
    a = OPS[layer.op].attrs.get(key)
    if a is None:
        return False
    return a.type in (
        AttrType.SIZE,
        AttrType.INT,
        AttrType.INTS,
        AttrType.PADDING,
        AttrType.BOOL,
        AttrType.CHOICE,
        AttrType.SHAPE,
    )


@dataclass
class _Param:
    name: str
    values: Sequence[object]  # per instance; None where the layer is absent
    #: the attributes it is written in (``when`` for a flag)
    uses: set[str] = field(default_factory=set)


@dataclass
class _Block:
    name: str
    kind: str
    items: list[_TItem]
    params: list[_Param]
    inputs: int
    output: tuple[str, ...]
    # per template layer and attribute: the parameter written there, or None for a literal
    slots: dict[tuple[int, str, int], str] = field(default_factory=dict)
    flags: dict[int, str] = field(default_factory=dict)


def _same(values: Sequence[object]) -> bool:
    present = [json.dumps(v) for v in values if v is not None]
    return len(set(present)) <= 1


def _optional_join(instances: list[Scope], tree: _Tree) -> None:
    """A residual add that only some instances have (MobileNetV2's blocks that keep their size).

    The instances without it give the add's other input. The add's inputs are put in the order
    that makes ``when:`` pass that input on, so all instances give the add.
    """
    results = [_result(s, tree) for s in instances]
    paths = [tree.path_in(r, s) if r is not None else None for r, s in zip(results, instances, strict=True)]
    if len({p for p in paths if p is not None}) < 2:
        return
    fullest = max(range(len(instances)), key=lambda k: _layer_count(instances[k]))
    join = results[fullest]
    if join is None or join.op not in ("add", "mul") or len(paths[fullest] or ()) != 1:
        return
    for k, scope in enumerate(instances):
        r = results[k]
        if r is None or paths[k] == paths[fullest]:
            continue
        if any(i.name == join.name for i in scope.items):
            return  # the join is there, but something else is the result
    others = {p for p in paths if p is not None and p != paths[fullest]}
    for scope in instances:
        joins = [i for i in scope.items if isinstance(i, Layer) and i.name == join.name]
        for layer in joins:
            first = [
                v
                for v in layer.inputs
                if isinstance(v, Layer) and tree.inside(v, scope) and tree.path_in(v, scope) in others
            ]
            if first:
                layer.inputs = [first[0], *[v for v in layer.inputs if v is not first[0]]]


def _build_block(name: str, kind: str, instances: list[Scope], tree: _Tree) -> _Block:
    _optional_join(instances, tree)
    items = _unify(instances)
    exts = [_externals(s, tree) for s in instances]
    results = [_result(s, tree) for s in instances]
    outs = {tree.path_in(r, s) for r, s in zip(results, instances, strict=False) if r is not None}
    full = max(range(len(instances)), key=lambda k: _layer_count(instances[k]))
    if len(outs) > 1 and results[full] is not None:
        # the instances without the join give its first input, as 'when:' passes it on
        join = tree.path_in(results[full], instances[full])  # type: ignore[arg-type]
        t = _find(items, join)
        if t is not None and t.optional and results[full].op in ("add", "mul"):  # type: ignore[union-attr]
            outs = {join}
    if len(outs) > 1:
        raise _Mismatch("output")
    if outs:
        output = outs.pop()
    else:
        last = [layer for layer in _walk(instances[0])][-1]
        output = tree.path_in(last, instances[0])
    if len(output) > 1 and output != _default_path(items):
        raise _Mismatch("a result inside a group that is not the block's last")
    block = _Block(name, kind, items, [], max(len(e) for e in exts), output)
    params: list[_Param] = []

    def visit(titems: list[_TItem], prefix: str, parent: list[bool] | None = None) -> None:
        for t in titems:
            label = f"{prefix}{t.ident}"
            presence = [i is not None for i in t.insts]
            if t.optional and presence != parent:
                flag = _Param(label, [1 if i is not None else 0 for i in t.insts], uses={"when"})
                params.append(flag)
                block.flags[id(t)] = flag.name
            if t.is_scope:
                visit(t.children, f"{label}_", presence)
                continue
            # the references must agree wherever the layer is present
            template: list[Ref] | None = None
            fullest = None
            for k, inst in enumerate(t.insts):
                if isinstance(inst, Layer):
                    refs = _refs(inst, instances[k], tree, exts[k])
                    if template is None or len(refs) > len(template):
                        template, fullest = refs, k
            assert template is not None and fullest is not None
            t.refs = template
            for k, inst in enumerate(t.insts):
                if isinstance(inst, Layer):
                    got = _refs(inst, instances[k], tree, exts[k])
                    if [_resolve(r, items, k) for r in template] != got:
                        raise _Mismatch(f"inputs of {t.name}")
            layers = [i for i in t.insts if isinstance(i, Layer)]
            full = [(_full(i) if isinstance(i, Layer) else None) for i in t.insts]
            keys = sorted({key for f in full if f is not None for key in f})
            for key in keys:
                values = [None if f is None else f.get(key) for f in full]
                if _same(values):
                    continue
                if not _expressible(layers[0], key):
                    raise _Mismatch(f"{t.name}.{key}")
                present = [v for v in values if v is not None]
                if all(isinstance(v, list) for v in present):
                    lengths = {len(v) for v in present if isinstance(v, list)}
                    if len(lengths) != 1:
                        raise _Mismatch(f"{t.name}.{key}")
                    for j in range(lengths.pop()):
                        column = [None if not isinstance(v, list) else v[j] for v in values]
                        if not _same(column):
                            p = _Param(f"{label}_{key}{j + 1}", column, uses={key})
                            params.append(p)
                            block.slots[(id(t), key, j)] = p.name
                    continue
                if any(isinstance(v, (list, float)) for v in present) or len({type(v) for v in present}) > 1:
                    raise _Mismatch(f"{t.name}.{key}")
                p = _Param(f"{label}_{key}", list(values), uses={key})
                params.append(p)
                block.slots[(id(t), key, -1)] = p.name

    visit(items, "")
    # one parameter for values that always agree, and multiples written as expressions
    merged: list[_Param] = []
    rename: dict[str, str] = {}
    for p in params:
        twin = next((q for q in merged if _agree(q.values, p.values)), None)
        if twin is not None:
            rename[p.name] = twin.name
            twin.uses |= p.uses
            continue
        factor = next(
            ((q, f) for q in merged for f in (_factor(q.values, p.values),) if f is not None),
            None,
        )
        if factor is not None:
            q, f = factor
            rename[p.name] = f"{q.name} * {f}"
            q.uses |= p.uses
            continue
        merged.append(p)
    block.params = merged
    block.slots = {k: rename.get(v, v) for k, v in block.slots.items()}
    block.flags = {k: rename.get(v, v) for k, v in block.flags.items()}
    _shorten(block)
    return block


def _shorten(block: _Block) -> None:
    """Parameter names from the shortest tail of their layer's path that tells them apart.

    ``conv_conv2d_norm_activation_0_conv2d_0_channels`` becomes ``conv2d_0_channels`` when no
    other parameter would take that name.
    """
    taken = {_input_name(k) for k in range(max(block.inputs, 1))} | _RESERVED
    short: dict[str, str] = {}
    for p in block.params:
        parts = p.name.split("_")
        for n in range(1, len(parts) + 1):
            candidate = "_".join(parts[-n:])
            if candidate[0].isdigit() or candidate in taken:
                continue
            if any(q is not p and q.name.endswith("_" + candidate) for q in block.params) and n < len(parts):
                continue
            break
        else:
            candidate = p.name
        taken.add(candidate)
        short[p.name] = candidate
    for p in block.params:
        p.name = short[p.name]

    def apply(text: str) -> str:
        head, sep, tail = text.partition(" ")
        return short.get(head, head) + sep + tail

    block.slots = {k: apply(v) for k, v in block.slots.items()}
    block.flags = {k: apply(v) for k, v in block.flags.items()}


def _agree(a: Sequence[object], b: Sequence[object]) -> bool:
    """Whether ``b`` can be written as ``a``: equal wherever ``b``'s layer is present."""
    if any(x is None and y is not None for x, y in zip(a, b, strict=False)):
        return False
    return all(json.dumps(x) == json.dumps(y) for x, y in zip(a, b, strict=False) if y is not None)


def _factor(a: Sequence[object], b: Sequence[object]) -> int | None:
    """``f`` when every value of ``b`` is ``f`` times ``a``'s (a bottleneck's ``width * 4``)."""
    if any(x is None and y is not None for x, y in zip(a, b, strict=False)):
        return None
    pairs = [(x, y) for x, y in zip(a, b, strict=False) if y is not None]
    if not pairs or not all(type(x) is int and type(y) is int and x > 0 for x, y in pairs):
        return None
    ratios = {y / x for x, y in pairs}  # type: ignore[operator]
    if len(ratios) != 1:
        return None
    f = ratios.pop()
    return int(f) if f == int(f) and f >= 2 else None


def _resolve(ref: Ref, items: list[_TItem], k: int) -> Ref:
    """Where a template reference points in instance ``k``: an absent layer passes its input on."""
    for _ in range(1000):
        if ref[0] == "X":
            return ref
        path = ref[1]
        assert isinstance(path, tuple)
        t = _find(items, path)
        if t is None or t.insts[k] is not None:
            return ref
        ref = _entry(t)
    return ref


def _entry(t: _TItem) -> Ref:
    """What an absent item passes on: its first input."""
    while t.is_scope and t.children:
        t = t.children[0]
    return t.refs[0] if t.refs else ("X", 0)


def _find(items: list[_TItem], path: tuple[str, ...]) -> _TItem | None:
    level = items
    found: _TItem | None = None
    for name in path:
        found = next((t for t in level if t.name == name), None)
        if found is None:
            return None
        level = found.children
    return found


# -- the writer ---------------------------------------------------------------------------------


def _fmt(value: object) -> str:
    """A value in YAML flow style, quoted only where plain text would be misread."""
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
        if isinstance(value, float) and "e" in text and "." not in text.split("e")[0]:
            mantissa, exp = text.split("e")
            text = f"{mantissa}.0e{exp}"
        return text
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    text = str(value)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*( [*+-] [A-Za-z0-9_]+)*", text) and text.lower() not in (
        "yes",
        "no",
        "on",
        "off",
        "true",
        "false",
        "null",
        "y",
        "n",
    ):
        return text
    return _quote(text)


# Characters YAML does not take raw in a scalar (controls, line and paragraph separators, the
# byte-order mark, non-characters, lone surrogates): written as escapes.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _quote(text: str) -> str:
    """Text as a YAML double-quoted scalar that reads back as the same text."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _mapping(entries: list[tuple[str, object]]) -> str:
    return "{" + ", ".join(f"{k}: {v if isinstance(v, _Raw) else _fmt(v)}" for k, v in entries) + "}"


class _Raw(str):
    """Text already written as YAML."""


@dataclass
class _Context:
    """Where names are looked up: the chain of inline groups from the top (no block body)."""

    path: tuple[str, ...]


class _Writer:
    def __init__(self, trace: Trace, dense: dict[int, int]) -> None:
        self.trace = trace
        self.tree = _tree(trace)
        #: the first copy of each dense block (by id), with its number of copies
        self.dense = dense
        self.inner_ids: dict[int, dict[int, str]] = {}
        self.group_result: dict[tuple[str, ...], int] = {}
        self.run_cache: dict[int, dict[int, tuple[Scope, int, int, str]]] = {}
        self.input_names = {i.name for i in trace.inputs}
        self.blocks: dict[str, _Block] = {}
        self.block_of: dict[int, tuple[_Block, int]] = {}
        self.address: dict[int, tuple[str, ...]] = {}
        self.dims = dict(trace.dims)
        self.batch = ""
        if trace.inputs and trace.inputs[0].shape:
            b = trace.inputs[0].shape[0]
            self.batch = next((n for n, v in self.dims.items() if v == b), "")

    # -- which scopes are blocks

    def plan(self) -> None:
        """Which scopes are calls of which block: scopes of one kind that can be written as one.

        Instances of one class that cannot all share a block (ResNet's bottlenecks can; the
        first MobileNetV2 block, whose Sequential numbers its layers differently, cannot) are
        split into the largest sets that can; a scope left alone is an inline group, opened.
        """
        opened: set[int] = set()
        for _ in range(16):
            groups: dict[tuple[str, str], list[Scope]] = {}
            self._collect(self.trace.root, groups, opened)
            self.blocks.clear()
            self.block_of.clear()
            changed = False
            names: set[str] = set()
            for members in groups.values():
                if len(members) < 2:
                    continue
                subsets: list[tuple[list[Scope], _Block]] = []
                for m in members:
                    for k, (subset, _) in enumerate(subsets):
                        try:
                            block = _build_block("", m.kind, [*subset, m], self.tree)
                        except _Mismatch:
                            continue
                        subsets[k] = ([*subset, m], block)
                        break
                    else:
                        try:
                            subsets.append(([m], _build_block("", m.kind, [m], self.tree)))
                        except _Mismatch:
                            opened.add(id(m))
                            changed = True
                for subset, block in subsets:
                    if len(subset) < 2:
                        if id(subset[0]) not in opened:
                            opened.add(id(subset[0]))
                            changed = True
                        continue
                    block.name = self._block_name(subset[0].kind, names)
                    names.add(block.name)
                    self.blocks[block.name] = block
                    for k, s in enumerate(subset):
                        self.block_of[id(s)] = (block, k)
            if not changed:
                return

    def _key(self, scope: Scope) -> tuple[str, str]:
        return (scope.kind, self._signature(scope) if scope.generic else "")

    def _signature(self, scope: Scope) -> str:
        parts: list[str] = []
        ext = _externals(scope, self.tree)
        for item in scope.items:
            if isinstance(item, Scope):
                parts.append(f"{item.name}[{self._signature(item)}]")
            else:
                refs = _refs(item, scope, self.tree, ext)
                parts.append(
                    f"{item.name}:{item.op}:{item.origin}:{json.dumps(_full(item), sort_keys=True)}:{refs}"
                )
        return "|".join(parts)

    def _collect(self, scope: Scope, groups: dict[tuple[str, str], list[Scope]], opened: set[int]) -> None:
        for item in scope.items:
            # a dense block is written as its repeat, never inside a block of its own
            if isinstance(item, Scope) and any(id(i) in self.dense for i in item.items):
                opened.add(id(item))
            if isinstance(item, Scope) and id(item) not in opened:
                groups.setdefault(self._key(item), []).append(item)
        for item in scope.items:
            if isinstance(item, Scope) and (id(item) in opened or len(groups.get(self._key(item), [])) < 2):
                self._collect(item, groups, opened)

    def _block_name(self, kind: str, taken: set[str]) -> str:
        base = _snake(kind)
        if base in _RESERVED or base.isdigit():
            base = f"{base}_block"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        return name

    # -- writing

    def write(self) -> str:
        self.plan()
        for head, copies in self.dense.items():
            parent = self.tree.parent[head]
            run = self._runs(parent).get(head)
            if run is None or run[1] != copies:
                raise _NotDense
        lines: list[str] = ["archdraw: 1", f"name: {_fmt(self.trace.name)}", f"family: {_family(self.trace)}"]
        summary = f"Imported from {self.trace.source}" + (
            f" ({_code(self.trace.origin)})." if self.trace.origin else "."
        )
        if self.trace.notes:
            summary += " " + " ".join(
                n[0].upper() + n[1:] + ("" if n.endswith(".") else ".") for n in self.trace.notes
            )
        lines.append(f"summary: {_quote(summary)}")
        if self.dims:
            lines.append("dims: " + _mapping(list(self.dims.items())))
        body: list[str] = []
        top_ids = self._assign(self.trace.root, ())
        self._addresses(self.trace.root, (), top_ids)
        self._emit_scope(self.trace.root, _Context(()), body, 1, top_ids, top=True)
        if self.blocks:
            lines.append("blocks:")
            for block in self.blocks.values():
                lines.extend(self._emit_block(block))
        lines.append("inputs:")
        for i in self.trace.inputs:
            lines.append(f"  {i.name}: {_fmt([_Raw(self._size(s, True)) for s in i.shape])}")
        lines.append("layers:")
        lines.extend(body)
        outs = [self._ref(v, _Context(())) for v in self.trace.outputs if isinstance(v, Layer)]
        if outs:
            lines.append("outputs: " + (outs[0] if len(outs) == 1 else "[" + ", ".join(outs) + "]"))
        return "\n".join(lines) + "\n"

    def _size(self, value: int, named: bool) -> str:
        if named:
            hits = [n for n, v in self.dims.items() if v == value]
            if len(hits) == 1:
                return hits[0]
        return str(value)

    def _assign(self, scope: Scope, taken: tuple[str, ...]) -> dict[int, str]:
        """Ids for the items of an inline scope, none equal to a name of the groups around it."""
        ids: dict[int, str] = {}
        seen = set(taken)
        for item in scope.items:
            base = _ident(item.name, _fallback(item))
            ident, n = base, 1
            while ident in seen or ident in self.blocks or ident in self.input_names:
                n += 1
                ident = f"{base}_{n}"
            seen.add(ident)
            ids[id(item)] = ident
        return ids

    def _addresses(
        self,
        scope: Scope,
        prefix: tuple[str, ...],
        ids: dict[int, str],
        collapsed: str | None = None,
        taken: frozenset[str] = frozenset(),
    ) -> None:
        """Where each layer is reached from the top: ``layer1.2.conv1``, ``features.conv2d_0``."""
        runs = self._runs(scope)
        for item in scope.items:
            ident = ids[id(item)]
            if isinstance(item, Layer):
                self.address[id(item)] = (*prefix, ident)
                continue
            if id(item) in self.block_of:
                block, k = self.block_of[id(item)]
                run = runs.get(id(item))
                if run is not None:
                    head, count, position, _ = run
                    run_id = self.run_ident(scope, head, ids) if collapsed is None else collapsed
                    base = (prefix[:-1] if collapsed is not None else prefix) + (run_id, str(position))
                    last = position == count
                else:
                    base, last = (*prefix, ident), True
                for t in block.items:
                    self._template_addresses(t, k, base)
                result = _result(item, self.tree)
                if result is not None:
                    self.address[id(result)] = base[:-1] if (run is not None and last) else base
                continue
            visible = taken | set(ids.values())
            inner = self._assign(item, tuple(visible))
            self.inner_ids[id(item)] = inner
            self._addresses(item, (*prefix, ident), inner, ident if self._collapsed(item) else None, visible)
            result = _result(item, self.tree)
            if result is not None and not self._collapsed(item) and self._group_output(item)[0]:
                key = (*prefix, ident)
                self.group_result[key] = id(result)

    def run_ident(self, scope: Scope, head: Scope, ids: dict[int, str]) -> str:
        """A run's id: the list that holds it (``layers`` for ``layers.0`` … ``layers.11``)."""
        if head.name.isdigit() and "." in head.path:
            holder = head.path.rsplit(".", 1)[0]
            if holder != scope.path:
                name = _ident(holder.rsplit(".", 1)[-1], "blocks")
                if name not in ids.values() or ids.get(id(head)) == name:
                    return name
        return ids[id(head)]

    def _default_result(self, item: Item) -> Layer | None:
        """What a group gives without ``output:``: its last item's result."""
        if isinstance(item, Layer):
            return item
        if id(item) in self.block_of:
            return _result(item, self.tree)
        return self._default_result(item.items[-1]) if item.items else None

    def _group_output(self, scope: Scope) -> tuple[bool, Layer | None]:
        """Whether a group's result can be its result, and the inner layer ``output:`` names."""
        result = _result(scope, self.tree)
        if result is None or not scope.items or self._collapsed(scope):
            return False, None
        if self._default_result(scope.items[-1]) is result:
            return True, None
        if result in scope.items:
            return True, result
        return False, None

    def _collapsed(self, scope: Scope) -> bool:
        """Whether a scope holds nothing but one run of calls, and so is written as that call."""
        runs = self._runs(scope)
        return (
            bool(scope.items)
            and all(id(i) in runs for i in scope.items)
            and len({id(runs[id(i)][0]) for i in scope.items}) == 1
        )

    def _template_addresses(self, t: _TItem, k: int, base: tuple[str, ...]) -> None:
        inst = t.insts[k]
        if inst is None:
            return
        if isinstance(inst, Layer):
            self.address[id(inst)] = (*base, t.ident)
        for c in t.children:
            self._template_addresses(c, k, (*base, t.ident))

    def _runs(self, scope: Scope) -> dict[int, tuple[Scope, int, int, str]]:
        """Consecutive calls of one block, each reading the one before: one call with ``repeat``."""
        cached = self.run_cache.get(id(scope))
        if cached is not None:
            return cached
        runs: dict[int, tuple[Scope, int, int, str]] = {}
        items = scope.items
        i = 0
        while i < len(items):
            item = items[i]
            if not isinstance(item, Scope) or id(item) not in self.block_of:
                i += 1
                continue
            block, _ = self.block_of[id(item)]
            j = i + 1
            while j < len(items) and self._continues(items[i:j], items[j], block):
                j += 1
            if j - i >= 2:
                members = [m for m in items[i:j] if isinstance(m, Scope)]
                for position, m in enumerate(members, start=1):
                    runs[id(m)] = (members[0], j - i, position, "")
            i = j
        self.run_cache[id(scope)] = runs
        return runs

    def _continues(self, run: list[Item], nxt: Item, block: _Block) -> bool:
        if not isinstance(nxt, Scope) or self.block_of.get(id(nxt), (None, 0))[0] is not block:
            return False
        prev = run[-1]
        assert isinstance(prev, Scope)
        ext_prev = _externals(prev, self.tree)
        ext_next = _externals(nxt, self.tree)
        if not ext_next or ext_next[0] is not _result(prev, self.tree):
            return False
        if ext_next[1:] != ext_prev[1:]:
            return False
        # copies of one repeat give one shape: modules of other widths are other modules
        # (GoogLeNet's inception 3a and 3b), however their arguments could be written
        if _result(nxt, self.tree).shape != _result(prev, self.tree).shape:  # type: ignore[union-attr]
            return False
        members = [s for s in [*run, nxt] if isinstance(s, Scope)]
        if not all(self._arg_expr(block, p, members) is not None for p in block.params):
            return False
        # A width may differ between copies only as their input's does (MobileNetV2's expansion,
        # t × the channels in): GoogLeNet's 4a and 4b give one shape from other widths.
        inputs = [_externals(m, self.tree)[0] for m in members]
        fan = [i.shape[1] if len(i.shape) > 1 else 1 for i in inputs]
        for p in block.params:
            if not p.uses & {"channels", "groups", "units"}:
                continue
            values = _filled([p.values[self.block_of[id(m)][1]] for m in members])
            if values is None or len({json.dumps(v) for v in values}) == 1:
                continue
            if not all(isinstance(v, int) for v in values):
                return False
            ratios = {Fraction(int(v), f) for v, f in zip(values, fan, strict=True)}  # type: ignore[call-overload]
            if len(ratios) != 1:
                return False
        return True

    def _arg_expr(self, block: _Block, p: _Param, members: list[Scope]) -> str | None:
        """A parameter's values along a run as one expression of ``first`` or ``index``."""
        values = _filled([p.values[self.block_of[id(m)][1]] for m in members])
        if values is None:
            return None
        if len({json.dumps(v) for v in values}) == 1:
            return _fmt(values[0])
        if p.uses & _SHAPE_OF_KERNEL:
            return None  # layers of other kernels are other layers, not copies (a 1×1 and a 3×3)
        if not all(isinstance(v, (int, bool)) for v in values):
            return None
        ints = [int(v) for v in values]  # type: ignore[call-overload]
        a, rest = ints[0], ints[1:]
        if len(set(rest)) == 1:
            b = rest[0]
            d = a - b
            if b == 0:
                return "first" if d == 1 else f"{d} * first"
            if d == 1:
                return f"{b} + first"
            if d == -1:
                return f"{b} - first"
            return f"{b} + {d} * first" if d > 0 else f"{b} - {-d} * first"
        step = ints[1] - ints[0]
        if all(ints[k + 1] - ints[k] == step for k in range(len(ints) - 1)):
            start = ints[0] - step
            if start == 0:
                return "index" if step == 1 else f"{step} * index"
            return f"{start} + {step} * index" if step > 0 else f"{start} - {-step} * index"
        return None

    # -- emitting inline scopes

    def _emit_scope(
        self,
        scope: Scope,
        ctx: _Context,
        out: list[str],
        depth: int,
        ids: dict[int, str],
        top: bool = False,
        group_input: Input | Layer | None = None,
    ) -> bool:
        """Write a scope's entries; True when written as a list that starts from ``group_input``."""
        pad = "  " * depth
        runs = self._runs(scope)
        entries: list[tuple[str, list[tuple[str, object]], list[str] | None, list[Item]]] = []
        i = 0
        items = scope.items
        while i < len(items):
            item = items[i]
            ident = ids[id(item)]
            run = runs.get(id(item))
            if run is not None:
                head, count, _, _ = run
                members = items[i : i + count]
                entries.append(self._call_entry(self.run_ident(scope, head, ids), members, ctx))
                i += count
                continue
            if isinstance(item, Layer):
                entries.append(self._layer_entry(ident, item, ctx))
            elif id(item) in self.block_of:
                entries.append(self._call_entry(ident, [item], ctx))
            else:
                entries.append(self._group_entry(ident, item, ctx))
            i += 1
        # In a stack a layer that reads nothing would read the layer before it (a custom box
        # does): a scope with one is written as a graph.
        stackable = all(self._entry_flow(e[3])[0] or self._reads_nothing(e[3]) for e in entries)
        if top and stackable:
            self._emit_stack(entries, out, pad, self.trace.inputs[0] if len(self.trace.inputs) == 1 else None)
            return True
        if group_input is not None and entries and stackable:
            if self._entry_flow(entries[0][3])[0] == [group_input]:
                self._emit_stack(entries, out, pad, group_input)
                return True
        for ident, keys, sub, _ in entries:
            line = _mapping(keys)
            if sub is None:
                out.append(f"{pad}{ident}: {line}")
            else:
                out.append(f"{pad}{ident}:")
                out.extend(f"{pad}  {s}" for s in sub)
        return False

    def _emit_stack(
        self,
        entries: list[tuple[str, list[tuple[str, object]], list[str] | None, list[Item]]],
        out: list[str],
        pad: str,
        previous: Input | Layer | None,
    ) -> None:
        """Entries as a list (a stack), each reading the one before unless it names its input."""
        for ident, keys, sub, members in entries:
            reads, gives = self._entry_flow(members)
            chained = previous is not None and reads == [previous]
            if sub is None:
                if chained:
                    keys = [kv for kv in keys if kv[0] != "in"]
                out.append(f"{pad}- {_mapping([('id', ident), *keys])}")
            else:
                if chained and sub[0].startswith("in: "):
                    sub = sub[1:]
                out.append(f"{pad}- id: {ident}")
                out.extend(f"{pad}  {s}" for s in sub)
            previous = gives

    def _reads_nothing(self, members: list[Item]) -> bool:
        """An entry that reads no value and in a stack would not read the one before either."""
        first = members[0] if members else None
        if isinstance(first, Layer):
            return first.op in ("parameter", "noise")
        return isinstance(first, Scope) and id(first) not in self.block_of

    def _entry_flow(self, members: list[Item]) -> tuple[list[Input | Layer], Input | Layer | None]:
        """What an entry reads and what it gives."""
        if not members:
            return [], None
        first, last = members[0], members[-1]
        if isinstance(first, Layer):
            return list(first.inputs), first
        reads = _externals(first, self.tree)
        assert isinstance(last, Scope)
        if id(first) in self.block_of:
            return reads, _result(last, self.tree)
        return reads, _result(last, self.tree) if self._group_output(last)[0] else None

    def _layer_entry(
        self, ident: str, layer: Layer, ctx: _Context
    ) -> tuple[str, list[tuple[str, object]], None, list[Item]]:
        keys: list[tuple[str, object]] = [("op", layer.op)]
        for key, value in layer.attrs.items():
            if key == "shape" and isinstance(value, list):
                keys.append((key, _Raw(self._shape(value))))
            elif not _is_default(layer, key, value):
                keys.append((key, value))
        refs = [self._ref(v, ctx) for v in layer.inputs]
        if refs:
            keys.insert(1, ("in", _Raw(refs[0] if len(refs) == 1 else "[" + ", ".join(refs) + "]")))
        if layer.tied is not None:
            keys.append(("tied", _Raw(self._ref(layer.tied, ctx))))
        if layer.integer:
            keys.append(("bottleneck", False))  # it narrows ids, not features
        if layer.path and layer.path != ident:
            keys.append(("label", _code(layer.path)))
        return ident, keys, None, [layer]

    def _shape(self, values: list[int]) -> str:
        """A shape, its batch axis and the named sizes written with their names."""
        parts: list[str] = []
        for k, v in enumerate(values):
            if k == 0 and self.batch and v == self.dims[self.batch]:
                parts.append(self.batch)
            elif v == -1:
                parts.append("-1")
            else:
                parts.append(self._size(v, v > 1))
        return "[" + ", ".join(parts) + "]"

    def _call_entry(
        self, ident: str, members: list[Item], ctx: _Context
    ) -> tuple[str, list[tuple[str, object]], None, list[Item]]:
        first = members[0]
        assert isinstance(first, Scope)
        block, k = self.block_of[id(first)]
        keys: list[tuple[str, object]] = [("block", block.name)]
        ext = _externals(first, self.tree)
        refs = [self._ref(v, ctx) for v in ext]
        if refs:
            keys.append(("in", _Raw(refs[0] if len(refs) == 1 else "[" + ", ".join(refs) + "]")))
        scopes = [m for m in members if isinstance(m, Scope)]
        for p in block.params:
            if len(scopes) > 1:
                expr = self._arg_expr(block, p, scopes)
                assert expr is not None
                if expr != _fmt(_first_value(p.values)):
                    keys.append((p.name, _Raw(expr)))
            else:
                v = p.values[k]
                if v is not None and json.dumps(v) != json.dumps(_first_value(p.values)):
                    keys.append((p.name, v))
        if len(scopes) > 1:
            keys.append(("repeat", len(scopes)))
            if id(scopes[0]) in self.dense:
                keys.append(("connect", _Raw("dense")))
        label = first.path if len(scopes) == 1 else _span(s.path for s in scopes)
        if label and label != ident:
            keys.append(("label", _code(label)))
        return ident, keys, None, list(members)

    def _group_entry(
        self, ident: str, scope: Scope, ctx: _Context
    ) -> tuple[str, list[tuple[str, object]], list[str] | None, list[Item]]:
        inner_ctx = _Context((*ctx.path, ident))
        sub: list[str] = []
        ids = self.inner_ids[id(scope)]
        # a group whose whole content is one repeated call is that call
        if self._collapsed(scope):
            entry = self._call_entry(ident, list(scope.items), ctx)
            keys = [kv for kv in entry[1] if kv[0] != "label"]
            if scope.path and scope.path != ident:
                keys.append(("label", _code(scope.path)))
            return ident, keys, None, list(scope.items)
        lines: list[str] = []
        ext = _externals(scope, self.tree)
        start = ext[0] if len(ext) == 1 else None
        if self._emit_scope(scope, inner_ctx, lines, 1, ids, group_input=start):
            assert start is not None
            sub.append(f"in: {self._ref(start, ctx)}")
        sub.append("layers:")
        sub.extend(lines)
        _, named = self._group_output(scope)
        if named is not None:
            sub.append(f"output: {ids[id(named)]}")
        if scope.path and scope.path != ident:
            sub.append(f"label: {_fmt(_code(scope.path))}")
        return ident, [], sub, [scope]

    def _ref(self, v: Input | Layer, ctx: _Context) -> str:
        if isinstance(v, Input):
            return v.name
        address = self.address[id(v)]
        common = 0
        while common < min(len(address) - 1, len(ctx.path)) and address[common] == ctx.path[common]:
            common += 1
        end = len(address)
        # a group's result is named by the group
        while end - common >= 2 and self.group_result.get(address[: end - 1]) == id(v):
            end -= 1
        return ".".join(address[common:end])

    # -- blocks

    def _emit_block(self, block: _Block) -> list[str]:
        lines = [f"  {block.name}:"]
        if block.params:
            defaults = [(p.name, _first_value(p.values)) for p in block.params]
            lines.append(f"    params: {_mapping(defaults)}")
        if block.inputs == 0:
            lines.append("    inputs: []")
        if block.inputs > 1:
            lines.append("    inputs: [" + ", ".join(_input_name(k) for k in range(block.inputs)) + "]")
        lines.append("    layers:")
        self._emit_template(block, block.items, (), lines, 3, stack=block.inputs == 1)
        if block.output != _default_path(block.items):
            lines.append(f"    output: {self._template_ident(block.items, block.output)[0]}")
        if block.kind:
            lines.append(f"    label: {_fmt(_code(block.kind))}")
        return lines

    def _template_ident(self, items: list[_TItem], path: tuple[str, ...]) -> list[str]:
        found: list[str] = []
        level = items
        for name in path:
            t = next(t for t in level if t.name == name)
            found.append(t.ident)
            level = t.children
        return found

    def _emit_template(
        self,
        block: _Block,
        items: list[_TItem],
        prefix: tuple[str, ...],
        out: list[str],
        depth: int,
        stack: bool = False,
    ) -> None:
        """A block's layers; with ``stack``, as a list.

        In the list each layer reads the one before it unless its ``in:`` says otherwise; the
        first reads the block's input.
        """
        pad = "  " * depth
        previous: Ref | None = ("X", 0) if stack else None
        for t in items:
            if t.is_scope:
                chain = self._template_chain(t, prefix)
                out.append(f"{pad}- id: {t.ident}" if stack else f"{pad}{t.ident}:")
                if chain and not (stack and t.children[0].refs[0] == previous):
                    out.append(f"{pad}  in: {self._template_ref(block, t.children[0].refs[0], prefix)}")
                if id(t) in block.flags:
                    out.append(f"{pad}  when: {block.flags[id(t)]}")
                first = t.first()
                assert isinstance(first, Scope)
                rel = ".".join((*prefix, t.name))  # its module path within the block
                if rel != t.ident:
                    out.append(f"{pad}  label: {_fmt(_code(rel))}")
                out.append(f"{pad}  layers:")
                if chain:
                    for c in t.children:
                        keys = [("id", c.ident), *self._template_keys(block, c, (*prefix, t.name), False)]
                        out.append(f"{pad}    - {_mapping(keys)}")
                else:
                    self._emit_template(block, t.children, (*prefix, t.name), out, depth + 2)
                previous = ("L", (*prefix, t.name, *_default_path(t.children)))
                continue
            keys = self._template_keys(block, t, prefix, True)
            if stack:
                if t.refs == [previous]:
                    keys = [kv for kv in keys if kv[0] != "in"]
                out.append(f"{pad}- {_mapping([('id', t.ident), *keys])}")
                previous = ("L", (*prefix, t.name))
                continue
            out.append(f"{pad}{t.ident}: {_mapping(keys)}")

    def _template_chain(self, t: _TItem, prefix: tuple[str, ...]) -> bool:
        """Whether a group in a block is a plain chain from one outside value (written as a list)."""
        kids = t.children
        if not kids or any(c.is_scope for c in kids) or len(kids[0].refs) != 1:
            return False
        head = kids[0].refs[0]
        inside = (*prefix, t.name)
        if head[0] == "L" and isinstance(head[1], tuple) and head[1][: len(inside)] == inside:
            return False
        return all(c.refs == [("L", (*inside, kids[k].name))] for k, c in enumerate(kids[1:]))

    def _template_keys(
        self, block: _Block, t: _TItem, prefix: tuple[str, ...], with_in: bool
    ) -> list[tuple[str, object]]:
        keys: list[tuple[str, object]] = []
        layer = t.first()
        assert isinstance(layer, Layer)
        keys.append(("op", layer.op))
        refs = [self._template_ref(block, r, prefix) for r in t.refs]
        if refs and with_in:
            keys.append(("in", _Raw(refs[0] if len(refs) == 1 else "[" + ", ".join(refs) + "]")))
        full = _full(layer)
        for key, value in full.items():
            slot = block.slots.get((id(t), key, -1))
            if slot is not None:
                keys.append((key, _Raw(slot)))
                continue
            if isinstance(value, list) and any((id(t), key, j) in block.slots for j in range(len(value))):
                parts = [
                    block.slots.get((id(t), key, j)) or self._elem(key, layer, j, v)
                    for j, v in enumerate(value)
                ]
                keys.append((key, _Raw("[" + ", ".join(parts) + "]")))
                continue
            if key == "shape" and isinstance(value, list):
                keys.append((key, _Raw(self._shape(value))))
                continue
            if key in layer.attrs or not _is_default(layer, key, value):
                if key not in layer.attrs and _is_default(layer, key, value):
                    continue
                keys.append((key, value))
        if layer.tied is not None:
            keys.append(("tied", _Raw(self._ref(layer.tied, _Context(())))))
        if layer.integer:
            keys.append(("bottleneck", False))
        if id(t) in block.flags:
            keys.append(("when", _Raw(block.flags[id(t)])))
        rel = ".".join((*prefix, t.name))
        if rel != t.ident and layer.path:
            keys.append(("label", _code(rel)))
        return keys

    def _elem(self, key: str, layer: Layer, j: int, v: object) -> str:
        if key == "shape" and isinstance(v, int):
            # only the first axis is the batch; a size-1 axis after it is no N
            return self._shape([v]).strip("[]") if j == 0 else self._size(v, v > 1)
        return _fmt(v)

    def _template_ref(self, block: _Block, ref: Ref, prefix: tuple[str, ...]) -> str:
        if ref[0] == "X":
            k = ref[1]
            assert isinstance(k, int)
            return _input_name(k)
        path = ref[1]
        assert isinstance(path, tuple)
        idents = self._template_ident(block.items, path)
        # inside a nested group the outer names are visible: drop what the groups share
        shared = 0
        while shared < min(len(path) - 1, len(prefix)) and path[shared] == prefix[shared]:
            shared += 1
        end = len(path)
        while end - shared >= 2:
            group = _find(block.items, path[: end - 1])
            if group is None or not group.children or group.children[-1].name != path[end - 1]:
                break
            end -= 1
        return ".".join(idents[shared:end])


def _filled(values: list[object]) -> list[object] | None:
    """Values where an absent layer's ``None`` takes its neighbour's value: it is never read."""
    if all(v is None for v in values):
        return None
    out = list(values)
    for k, v in enumerate(out):
        if v is None:
            before = [x for x in out[:k] if x is not None]
            after = [x for x in values[k + 1 :] if x is not None]
            out[k] = before[-1] if before else after[0]
    return out


def _default_path(items: list[_TItem]) -> tuple[str, ...]:
    """What a block or group gives without ``output:``: its last item, followed down."""
    path: list[str] = []
    level = items
    while level:
        path.append(level[-1].name)
        level = level[-1].children
    return tuple(path)


def _family(trace: Trace) -> str:
    """The gallery section the model belongs in, from what its layers are."""
    ops = {layer.op for layer in trace.layers()}
    if ops & {"lstm", "gru", "rnn"}:
        return "recurrent"
    if "attention" in ops or {"matmul", "softmax"} <= ops:
        return "attention and transformers"
    return "feed-forward and convolutional"


def _code(text: str) -> str:
    """A module path or class name as a label: in backticks when it has an underscore.

    ``mlp.c_fc`` is then drawn as written, not as c with a subscript fc.
    """
    return f"`{text}`" if "_" in text and "`" not in text else text


def _first_value(values: Sequence[object]) -> object:
    for v in values:
        if v is not None:
            return v
    return 0


def _input_name(k: int) -> str:
    return "x" if k == 0 else f"x{k + 1}"


def _span(paths: Iterator[str]) -> str:
    """The module paths of a run's copies: ``features.2–3``, or ``layers`` for all of a list."""
    items = list(paths)
    first, last = items[0].rsplit(".", 1), items[-1].rsplit(".", 1)
    if (
        len(first) == 2
        and len(last) == 2
        and first[0] == last[0]
        and first[1].isdigit()
        and last[1].isdigit()
    ):
        return f"{first[0]}.{first[1]}–{last[1]}"
    return _common(iter(items))


def _common(paths: Iterator[str]) -> str:
    items = [p.split(".") for p in paths]
    if not items:
        return ""
    common: list[str] = []
    for parts in zip(*items, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return ".".join(common)


def _flatten(scope: Scope) -> None:
    """A module that holds one layer (an activation module calling one function) is that layer."""
    for k, item in enumerate(scope.items):
        if not isinstance(item, Scope):
            continue
        _flatten(item)
        if len(item.items) == 1 and isinstance(item.items[0], Layer):
            layer = item.items[0]
            layer.name = item.name
            layer.path = item.path
            scope.items[k] = layer


def _repoint(trace: Trace, old: Layer, new: Input | Layer) -> None:
    """Every reader of ``old`` reads ``new`` instead; so do the outputs."""
    for layer in trace.layers():
        layer.inputs = [new if v is old else v for v in layer.inputs]
    trace.outputs = [new if v is old else v for v in trace.outputs]


def _first_layer(scope: Scope) -> Layer | None:
    for layer in _walk(scope):
        return layer
    return None


def _dense_blocks(trace: Trace) -> dict[int, int]:
    """DenseNet's dense blocks: copies each reading the concatenation of all before them.

    Such a block runs layers D1 … DL, where Dk begins by concatenating the block's input and
    the results of D1 … Dk−1, and ends by concatenating its input and all their results. It is
    written as ``repeat: L, connect: dense`` (archdraw makes those concatenations itself), so
    the concatenations are taken out: Dk reads Dk−1, and what read the last one reads DL, which
    a reference to the repeat names. Returns the first scope of each such run (its id), with
    the number of copies.
    """
    heads: dict[int, int] = {}
    stack = [trace.root]
    while stack:
        scope = stack.pop()
        stack.extend(i for i in scope.items if isinstance(i, Scope))
        items = scope.items
        if len(items) < 3 or not isinstance(items[-1], Layer) or items[-1].op != "concat":
            continue
        copies = [i for i in items[:-1] if isinstance(i, Scope)]
        final = items[-1]
        if len(copies) != len(items) - 1 or len({c.kind for c in copies}) != 1:
            continue
        tree = _tree(trace)  # again for each block: the one before changed who reads what
        results = [_result(c, tree) for c in copies]
        first = _first_layer(copies[0])
        if first is None or any(r is None for r in results) or len(first.inputs) != 1:
            continue
        start = first.inputs[0]
        if final.attrs.get("axis", 1) != 1 or final.inputs != [start, *results]:
            continue
        joins: list[Layer] = []
        for k, later in enumerate(copies[1:], start=1):
            join = _first_layer(later)
            if join is None or join.op != "concat" or join.inputs != [start, *results[:k]]:
                break
            joins.append(join)
        if len(joins) != len(copies) - 1:
            continue
        for k, join in enumerate(joins, start=1):
            previous = results[k - 1]
            assert previous is not None
            _repoint(trace, join, previous)
            _remove(copies[k], join)
        last = results[-1]
        assert last is not None
        _repoint(trace, final, last)
        scope.items.remove(final)
        heads[id(copies[0])] = len(copies)
    return heads


def _remove(scope: Scope, layer: Layer) -> None:
    for item in list(scope.items):
        if item is layer:
            scope.items.remove(item)
        elif isinstance(item, Scope):
            _remove(item, layer)


class _NotDense(Exception):
    """Dense layers that do not make one repeat: written as they are instead."""


def write_spec(trace: Trace) -> str:
    """The spec text for a trace: blocks for scopes of one kind, ``repeat:`` for their runs."""
    _flatten(trace.root)
    plain = copy.deepcopy(trace)
    try:
        return _write(trace, _dense_blocks(trace))
    except _NotDense:
        return _write(plain, {})


def _write(trace: Trace, dense: dict[int, int]) -> str:
    taken: set[str] = set()
    for given in trace.inputs:
        # ONNX names inputs freely ('input.1'); a spec's inputs are ids
        base = _ident(given.name, "input")
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        given.name = name
        taken.add(name)
    for layer in trace.layers():
        if layer.op == "custom":
            # what the framework says the box gives and holds
            layer.attrs = {"shape": list(layer.shape), "params": layer.params, "kind": layer.origin}
    return _Writer(trace, dense).write()
