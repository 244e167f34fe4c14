"""Spec loading: located YAML values to the IR's :class:`~archdraw.ir.Program`, with typed checks.

The loader checks what can be checked locally (keys, value types, ops, attribute values) and
collects every problem it finds; cross-references are left to the ``validate`` pass. A layer
with errors is kept, without its bad parts, so later checks do not report ghosts.
"""

from __future__ import annotations

import enum
import functools
import math
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Final, NoReturn, ParamSpec, TypeVar
from urllib.parse import urlsplit

from . import expr
from .errors import Diagnostic, SpecError, Suggester, did_you_mean
from .ir import (
    Attr,
    AttrValue,
    BlockDef,
    Body,
    Dim,
    EdgeKind,
    Graph,
    Layer,
    OpFamily,
    Program,
    Ref,
    Reference,
    Role,
    Span,
    Style,
    ViewDefaults,
)
from .ops import OPS, PADDINGS, TIEABLE, AttrSpec, AttrType
from .source import YMap, YScalar, YSeq, YValue, decode, parse
from .theme import THEMES

__all__ = ["FORMAT_VERSION", "loads", "read"]

FORMAT_VERSION = 1
MAX_SPEC_BYTES = 4 * 1024 * 1024
MAX_REPEAT = 10_000
MAX_DELAY = 1_000
MAX_STEPS = 64  # time steps a view unrolls
INITIAL_VALUES = ("zeros", "learned")  # what 'initial:' names other than a layer
MAX_TEXT = 4_000
_TOO_LARGE = f"spec is larger than {MAX_SPEC_BYTES // 2**20} MiB ({MAX_SPEC_BYTES:,} bytes), archdraw's limit"
RANKDIRS = ("TB", "LR", "BT", "RL")
CONNECTIONS = ("chain", "dense")  # how a repeat's copies read one another (``connect:``)

_P = ParamSpec("_P")
_T = TypeVar("_T")
_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_INT = expr.MAX_VALUE  # the largest integer a spec may write (10^15), as in size expressions
# Characters a URL may not hold as written (RFC 3986): they must be percent-encoded.
_URL_UNSAFE = frozenset('"<>\\^`{|}')


@functools.lru_cache(maxsize=4096)
def clean_text(text: str) -> str:
    r"""Free text without the characters that act rather than show.

    Those are controls (but tab and newline), format characters (bidi overrides, zero-width
    spaces) and lone surrogates: they could reorder or hide text, or drive a terminal.

    >>> clean_text("evil\u202eabc\u200b \x1b[2J\x07ok\tfine")
    'evilabc [2Jok\tfine'
    """
    return "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))


class Value(enum.Enum):
    """The kind of value a key takes; :mod:`archdraw.schema` turns each into JSON Schema."""

    VERSION = "version"  # the format version
    TEXT = "text"  # free text: any scalar but null
    IDENT = "ident"  # letters, digits and '_', not starting with a digit
    IDENTS = "idents"  # one id or a list of them
    NAMES = "names"  # one string or a list of them
    BOOL = "bool"
    COUNT = "count"  # an integer of at least 1
    STEPS = "steps"  # time steps a view unrolls, 0 to MAX_STEPS
    URL = "url"
    REFERENCE = "reference"
    DIMS = "dims"
    INPUTS = "inputs"
    BODY = "body"  # a stack (list) or a graph (mapping of id to layer)
    BLOCKS = "blocks"
    PARAMS = "params"  # a block's parameters
    OUTPUTS = "outputs"
    STYLE = "style"
    VIEW = "view"
    RANKDIR = "rankdir"
    THEME = "theme"
    OP = "op"
    BLOCK = "block"  # the name of a block to call
    REFS = "refs"  # a layer's inputs
    TARGET = "target"  # a layer id, dotted to reach inside
    EDGE_KIND = "edge_kind"
    DELAY = "delay"
    ROLES = "roles"
    REPEAT = "repeat"
    CONDITION = "condition"  # an integer or a size expression; 0 leaves the layer out
    INITIAL = "initial"  # a recurrent state's initial value: zeros, learned or a layer id
    CONNECT = "connect"  # how a repeat's copies read one another: chain or dense
    SHAPE = "shape"


@dataclass(frozen=True, slots=True)
class Key:
    """A key the loader reads: the kind of value it takes, what it is for, and whether it is required.

    These tables are the one list of the spec language's keys: the loader checks keys against
    them and :mod:`archdraw.schema` builds the JSON Schema from them.
    """

    value: Value
    doc: str
    required: bool = False


_TOP_KEYS: Final[Mapping[str, Key]] = MappingProxyType(
    {
        "archdraw": Key(Value.VERSION, f"the format version: the integer {FORMAT_VERSION}", required=True),
        "name": Key(Value.TEXT, "the model's name, drawn as the diagram's title", required=True),
        "summary": Key(Value.TEXT, "one sentence, drawn in small type under the title"),
        "family": Key(Value.TEXT, "the gallery section the spec belongs in (convolutional, recurrent, …)"),
        "reference": Key(
            Value.REFERENCE, "the paper or page the spec draws: a string (a URL), or a title and a url"
        ),
        "dims": Key(Value.DIMS, "named sizes and their example values, e.g. {N: 1, D: 784}"),
        "inputs": Key(Value.INPUTS, "the model's inputs: id to a shape list, or to a mapping with 'shape'"),
        "layers": Key(
            Value.BODY, "the layers: a list (a stack) or a mapping of id to layer (a graph)", required=True
        ),
        "blocks": Key(Value.BLOCKS, "reusable sub-graphs, called from layers with 'block: NAME'"),
        "outputs": Key(Value.OUTPUTS, "one layer id or a list of them: the model's outputs"),
        "style": Key(Value.STYLE, "how the diagram is drawn: rankdir and theme"),
        "view": Key(Value.VIEW, "the default view: depth, expand, expand_repeats, unroll, max_nodes"),
    }
)
_LAYER_KEYS: Final[Mapping[str, Key]] = MappingProxyType(
    {
        "id": Key(Value.IDENT, "the layer's id, in a list only (in a mapping the key is the id)"),
        "op": Key(Value.OP, "the op; its attributes are written beside it"),
        "block": Key(Value.BLOCK, "a block to call; its arguments are written beside it"),
        "layers": Key(Value.BODY, "an inline group of layers: a list or a mapping of id to layer"),
        "in": Key(Value.REFS, "the layer's inputs: a layer id, a reference {from: ...}, or a list of them"),
        "label": Key(Value.TEXT, "text drawn as the node's title instead of its id"),
        "note": Key(Value.TEXT, "a line of small text under the node"),
        "group": Key(Value.IDENT, "layers with the same group are drawn together in a cluster"),
        "trainable": Key(Value.BOOL, "false marks fixed weights"),
        "role": Key(Value.ROLES, "a declared role or a list of them (single layers only)"),
        "bottleneck": Key(
            Value.BOOL, "true declares the layer a bottleneck (checked); false never marks it one"
        ),
        "repeat": Key(Value.REPEAT, "how many times the layer, block call or group is repeated in a chain"),
        "shared": Key(Value.BOOL, "whether the repetitions share one set of weights"),
        "connect": Key(
            Value.CONNECT,
            "how a repeat's copies read one another: chain (each the one before, the default) or "
            "dense (each the concatenation of the repeat's input and every earlier copy, as in DenseNet)",
        ),
        "when": Key(
            Value.CONDITION,
            "0 leaves the layer out (it passes its input on); other values keep it. A condition on "
            "'step' (1, 2, …) and 'steps' holds at some time steps only: step == 1, step == steps",
        ),
        "once": Key(
            Value.BOOL,
            "true: computed once for the whole sequence, not at every time step "
            "(a CNN encoder, a loss over the sequence)",
        ),
        "initial": Key(
            Value.INITIAL,
            "a recurrent layer's initial state: zeros (the default), learned, "
            "or the layer whose final state it starts from",
        ),
        "tied": Key(
            Value.TARGET,
            "the layer whose weight matrix this layer uses as its own (tied weights: a shared "
            "embedding and output projection); its weights are counted there",
        ),
        "output": Key(Value.IDENT, "for inline groups: the inner layer that is the group's result"),
    }
)
_INPUT_KEYS: Final[Mapping[str, Key]] = MappingProxyType(
    {
        "shape": Key(Value.SHAPE, "the input's shape: a list of up to 8 sizes", required=True),
        "label": _LAYER_KEYS["label"],
        "note": _LAYER_KEYS["note"],
        "group": _LAYER_KEYS["group"],
        "from": Key(Value.TARGET, "makes this a state input: the layer whose value is fed back"),
        "delay": Key(Value.DELAY, f"steps the state is fed back over, 1 to {MAX_DELAY} (default 1)"),
        "axis": Key(Value.IDENT, "the axis the delay runs along (default: time)"),
        "initial": Key(
            Value.INITIAL,
            "a state input's value at the first step: zeros (the default), learned, "
            "or the layer whose final state it is",
        ),
        "role": _LAYER_KEYS["role"],
        "once": Key(Value.BOOL, "true: given once for the whole sequence, not at every time step"),
        "when": Key(
            Value.CONDITION, "a condition on 'step' and 'steps': the input is given at those steps only"
        ),
    }
)
_REF_KEYS: Final[Mapping[str, Key]] = MappingProxyType(
    {
        "from": Key(Value.TARGET, "the layer the edge comes from", required=True),
        "kind": Key(Value.EDGE_KIND, "the kind of edge"),
        "delay": Key(Value.DELAY, f"a number of steps, 1 to {MAX_DELAY}: the edge is recurrent"),
        "axis": Key(Value.IDENT, "the axis the delay runs along (default: time); only with 'delay'"),
        "label": Key(Value.TEXT, "text drawn on the edge"),
    }
)
_BLOCK_KEYS: Final[Mapping[str, Key]] = MappingProxyType(
    {
        "params": Key(
            Value.PARAMS, "parameter name to default (null: required), or a list of names (all required)"
        ),
        "inputs": Key(Value.IDENTS, "the names of the block's inputs (default: x)"),
        "layers": Key(Value.BODY, "the block's layers: a list (a stack) or a mapping of id to layer", True),
        "output": Key(Value.IDENT, "the layer whose result is the block's result (default: the last)"),
        "label": Key(Value.TEXT, "the default title of the clusters its calls are drawn in"),
    }
)
_REFERENCE_KEYS: Final[Mapping[str, Key]] = MappingProxyType(
    {
        "title": Key(Value.TEXT, "the title of the paper or page"),
        "url": Key(Value.URL, "its address, starting with http:// or https://"),
    }
)
_STYLE_KEYS: Final[Mapping[str, Key]] = MappingProxyType(
    {
        "rankdir": Key(Value.RANKDIR, "layout direction (default TB, top to bottom)"),
        "theme": Key(Value.THEME, "colour theme"),
        "rise": Key(
            Value.TARGET,
            "a layer after which the layers it leads to are drawn rising back up, beside the ones "
            "before it: a U, as U-Net's expansive path",
        ),
    }
)
_VIEW_KEYS: Final[Mapping[str, Key]] = MappingProxyType(
    {
        "depth": Key(Value.COUNT, "draw blocks from this depth down as single nodes"),
        "expand": Key(Value.NAMES, "blocks (ids or block names) never folded or collapsed"),
        "expand_repeats": Key(Value.BOOL, "draw every repetition instead of folding to ×N"),
        "unroll": Key(Value.STEPS, f"draw this many time steps one after another (0 to {MAX_STEPS})"),
        "max_nodes": Key(Value.COUNT, "fold deeper blocks when a view has more nodes than this"),
    }
)
_DECLARABLE_ROLES = (Role.BOTTLENECK, Role.LOSS, Role.MEMORY, Role.OUTPUT)


def read(path: str | Path) -> Graph:
    """Read the spec at ``path``, unanalysed (errors name it as given); see :func:`loads`.

    :func:`archdraw.load` reads and analyses a spec in one step.
    """
    p = Path(path)
    display = p.as_posix()
    return loads(decode(spec_bytes(p), display), display)


def spec_bytes(path: Path) -> bytes:
    """The bytes of the spec at ``path``: a regular file of at most :data:`MAX_SPEC_BYTES`."""
    display = path.as_posix()
    try:
        # A device or a pipe (a link to /dev/zero, say) would be read forever, or block.
        if not stat.S_ISREG(path.stat().st_mode):
            raise SpecError([Diagnostic(Span(display, 1, 1), "cannot read spec: not a regular file")])
        with path.open("rb") as handle:
            data = handle.read(MAX_SPEC_BYTES + 1)  # the size on disk may change, or be wrong (/proc)
    except OSError as exc:
        raise SpecError([Diagnostic(Span(display, 1, 1), f"cannot read spec: {exc.strerror}")]) from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError([Diagnostic(Span(display, 1, 1), _TOO_LARGE)])
    return data


def loads(text: str, path: str = "<spec>") -> Graph:
    """Load a spec from ``text``; ``path`` is the name used in error locations.

    Raises :class:`SpecError` when the YAML cannot be read at all. Other problems are collected
    in the returned graph's ``diagnostics`` and raised together by :func:`archdraw.passes.analyze`.
    """
    if len(text) > MAX_SPEC_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
        raise SpecError([Diagnostic(Span(path, 1, 1), _TOO_LARGE)])
    root = parse(text, path)
    return _Reader(path).spec(root)


class _Fail(Exception):
    """Stops reading one value; the diagnostic is already recorded."""


class _Reader:
    """Reads one spec, recording diagnostics as it goes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.block_params: dict[str, tuple[str, ...]] = {}
        #: the parameters of the block whose layers are being read (words and flags may name them)
        self.parameters: frozenset[str] = frozenset()
        self.suggest = Suggester()  # for names among the spec's own (blocks): bounded work

    # -- reporting ---------------------------------------------------------------------------

    def fail(self, message: str, span: Span) -> NoReturn:
        self.diagnostics.append(Diagnostic(span, message))
        raise _Fail

    def attempt(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T | None:
        """``fn(*args)``, or None when it failed (its diagnostic is recorded)."""
        try:
            return fn(*args, **kwargs)
        except _Fail:
            return None

    def check_keys(self, node: YMap, allowed: Iterable[str], what: str) -> None:
        allowed = tuple(allowed)
        for key, _ in node.items:
            name = str(key.value)
            if name not in allowed:
                self.diagnostics.append(
                    Diagnostic(key.span, f"unknown key '{name}' in {what}{did_you_mean(name, allowed)}")
                )

    # -- typed scalars -------------------------------------------------------------------------

    def mapping(self, node: YValue, what: str) -> YMap:
        if not isinstance(node, YMap):
            self.fail(f"{what} must be a mapping, got {_describe(node)}", node.span)
        return node

    def string(self, node: YValue, what: str) -> str:
        if not isinstance(node, YScalar) or not isinstance(node.value, str):
            hint = ""
            if isinstance(node, YScalar) and isinstance(node.value, bool):
                hint = f" (YAML reads {node.text} as a boolean; quote it)"
            self.fail(f"{what} must be a string, got {_describe(node)}{hint}", node.span)
        if len(node.value) > MAX_TEXT:
            self.fail(f"{what} is longer than {MAX_TEXT} characters", node.span)
        return node.value

    def text(self, node: YValue, what: str) -> str:
        """Free text (a name, label, note): any scalar but null, as it was written."""
        if not isinstance(node, YScalar) or node.value is None:
            self.fail(f"{what} must be text, got {_describe(node)}", node.span)
        if len(node.text) > MAX_TEXT:
            self.fail(f"{what} is longer than {MAX_TEXT} characters", node.span)
        return clean_text(node.value) if isinstance(node.value, str) else node.text

    def ident(self, node: YValue, what: str) -> str:
        text = self.string(node, what)
        if not _ID.match(text):
            self.fail(
                f"{what} {text!r} is not a valid id: use letters, digits and '_', not starting "
                f"with a digit (put display text in 'label:'){_non_ascii(text)}",
                node.span,
            )
        return text

    def boolean(self, node: YValue, what: str) -> bool:
        if not isinstance(node, YScalar) or not isinstance(node.value, bool):
            self.fail(f"{what} must be true or false, got {_describe(node)}", node.span)
        if node.text.lower() not in ("true", "false"):
            self.fail(f"{what}: write true or false, not {node.text!r}", node.span)
        return node.value

    def integer(self, node: YValue, what: str, minimum: int) -> int:
        if not isinstance(node, YScalar) or isinstance(node.value, bool) or not isinstance(node.value, int):
            self.fail(f"{what} must be an integer, got {_describe(node)}", node.span)
        if node.value < minimum:
            self.fail(f"{what} must be at least {minimum}, got {node.value}", node.span)
        self.bounded(node, what)
        return node.value

    def bounded(self, node: YScalar, what: str) -> None:
        """Refuse an integer beyond :data:`MAX_INT` in size (no size, count or axis is larger)."""
        if isinstance(node.value, int) and abs(node.value) > MAX_INT:
            self.fail(f"{what} must be at most 10^15 in size, got {node.text}", node.span)

    def size(self, node: YValue, what: str, allow_negative_one: bool = False) -> AttrValue:
        """A positive int, or a size expression (validated for syntax here)."""
        if isinstance(node, YScalar) and isinstance(node.value, str):
            return self.expression(node, what)
        if isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool):
            if node.value == -1 and allow_negative_one:
                return -1
            if node.value <= 0:
                self.fail(f"{what} must be a positive integer, got {node.value}", node.span)
            self.bounded(node, what)
            return node.value
        self.fail(f"{what} must be a positive integer or a size expression, got {_describe(node)}", node.span)

    def expression(self, node: YScalar, what: str) -> str:
        """A size expression, checked for syntax here and evaluated on expansion."""
        assert isinstance(node.value, str)
        try:
            expr.parse(node.value)
        except expr.ExprError as exc:
            self.fail(f"{what}: {exc}", node.span)
        return node.value

    def int_or_expr(self, node: YValue, what: str) -> AttrValue:
        if isinstance(node, YScalar) and isinstance(node.value, str):
            return self.expression(node, what)
        if isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool):
            self.bounded(node, what)
            return node.value
        self.fail(f"{what} must be an integer, got {_describe(node)}", node.span)

    # -- attributes ------------------------------------------------------------------------------

    def attr_value(self, node: YValue, spec: AttrSpec, what: str) -> AttrValue:
        kind = spec.type
        if (
            kind in (AttrType.CHOICE, AttrType.STR, AttrType.BOOL)
            and isinstance(node, YScalar)
            and isinstance(node.value, str)
            and node.value in self.parameters
        ):
            return node.value  # a parameter of the block being read: its value is set per call
        if kind is AttrType.SIZE:
            return self.size(node, what)
        if kind is AttrType.INT:
            return self.int_or_expr(node, what)
        if kind is AttrType.BOOL:
            return self.boolean(node, what)
        if kind is AttrType.STR:
            return self.string(node, what)
        if kind is AttrType.FLOAT:
            if (
                not isinstance(node, YScalar)
                or isinstance(node.value, bool)
                or not isinstance(node.value, (int, float))
            ):
                self.fail(f"{what} must be a number, got {_describe(node)}", node.span)
            if not math.isfinite(node.value):
                self.fail(f"{what} must be a finite number, got {node.text}", node.span)
            if spec.bounds is not None and not spec.bounds[0] <= node.value <= spec.bounds[1]:
                low, high = spec.bounds
                self.fail(f"{what} must be between {low:g} and {high:g}, got {node.text}", node.span)
            return float(node.value)
        if kind is AttrType.CHOICE:
            text = self.string(node, what)
            if text not in spec.choices:
                self.fail(
                    f"{what} must be one of {', '.join(spec.choices)}, got {text!r}"
                    f"{did_you_mean(text, spec.choices)}",
                    node.span,
                )
            return text
        if kind is AttrType.PADDING and isinstance(node, YScalar) and isinstance(node.value, str):
            if node.value in PADDINGS:
                return node.value
            hint = did_you_mean(node.value, PADDINGS)
            if hint:
                self.fail(f"{what} must be an integer, a list of them, 'same' or 'valid'{hint}", node.span)
            return self.expression(node, what)
        if kind in (AttrType.INTS, AttrType.PADDING):
            items = node.items if isinstance(node, YSeq) else (node,)
            if isinstance(node, YSeq) and not 1 <= len(items) <= 8:
                self.fail(f"{what} must list 1 to 8 integers", node.span)
            values: list[AttrValue] = []
            for item in items:
                if isinstance(item, YScalar) and isinstance(item.value, str):
                    values.append(self.int_or_expr(item, what))
                    continue
                values.append(self.integer(item, what, spec.minimum))
            return values[0] if not isinstance(node, YSeq) else tuple(values)
        if kind is AttrType.SHAPE:
            return self.shape(node, what, allow_negative_one=True)
        raise AssertionError(kind)  # pragma: no cover - every AttrType is handled above

    def shape(self, node: YValue, what: str, allow_negative_one: bool = False) -> tuple[AttrValue, ...]:
        if not isinstance(node, YSeq):
            self.fail(
                f"{what} must be a list of sizes like [N, 3, 224, 224], got {_describe(node)}", node.span
            )
        if len(node.items) > 8:
            self.fail(f"{what} has {len(node.items)} axes; at most 8 are supported", node.span)
        values = []
        for item in node.items:
            try:
                values.append(self.size(item, what, allow_negative_one))
            except _Fail:
                continue
        return tuple(values)

    def attrs(self, node: YMap, op: str, common: Iterable[str]) -> tuple[Attr, ...]:
        opdef = OPS[op]
        common = tuple(common)
        found: list[Attr] = []
        suggested: set[str] = set()
        for key, value in node.items:
            name = str(key.value)
            if name in common:
                continue
            spec = opdef.attrs.get(name)
            if spec is None:
                known = (*opdef.attrs, *common)
                hint = did_you_mean(name, known)
                suggested.add(hint.split("'")[1] if hint else "")
                listing = f"; {op} takes: {', '.join(opdef.attrs)}" if opdef.attrs and not hint else ""
                self.diagnostics.append(
                    Diagnostic(key.span, f"unknown key '{name}' for op {op}{hint}{listing}")
                )
                continue
            try:
                parsed = self.attr_value(value, spec, f"{op} {name}")
                if spec.type is AttrType.SHAPE and isinstance(parsed, tuple):
                    unknown = sum(1 for v in parsed if v == -1)
                    if unknown and op != "reshape":
                        self.fail(f"{op} {name} must list positive sizes; -1 is for reshape", value.span)
                    if unknown > 1:
                        self.fail(
                            f"{op} {name} may have one -1 (the size inferred), not {unknown}", value.span
                        )
                found.append(Attr(name, parsed, value.span))
            except _Fail:
                continue
        written = {a.name for a in found} | {str(k.value) for k, _ in node.items}
        for name, spec in opdef.attrs.items():
            if spec.required and name not in written and name not in suggested:
                self.diagnostics.append(Diagnostic(node.span, f"op {op} needs '{name}' ({spec.doc})"))
        return tuple(found)

    # -- edges -------------------------------------------------------------------------------------

    def refs(self, node: YValue) -> tuple[Ref, ...]:
        items = node.items if isinstance(node, YSeq) else (node,)
        refs: list[Ref] = []
        for item in items:
            try:
                refs.append(self.ref(item))
            except _Fail:
                continue
        return tuple(refs)

    def ref_target(self, node: YValue) -> str:
        text = self.string(node, "an input reference")
        parts = text.split(".")
        if not all(_ID.match(p) or p.isdigit() for p in parts) or not _ID.match(parts[0]):
            self.fail(
                f"{text!r} is not a layer id (ids are letters, digits and '_'; 'block.layer' reaches inside)"
                + _non_ascii(text),
                node.span,
            )
        return text

    def output_ref(self, node: YValue) -> str:
        if not isinstance(node, YScalar):
            self.fail(f"outputs list layer ids, got {_describe(node)}", node.span)
        return self.ref_target(node)

    def delay(self, node: YValue) -> int:
        steps = self.integer(node, "delay", 1)
        if steps > MAX_DELAY:
            self.fail(f"delay must be at most {MAX_DELAY} steps", node.span)
        return steps

    def ref(self, node: YValue) -> Ref:
        if isinstance(node, YScalar):
            return Ref(self.ref_target(node), node.span)
        m = self.mapping(node, "an input reference")
        self.check_keys(m, _REF_KEYS, "an input reference")
        source = m.get("from")
        if source is None:
            self.fail("an input reference needs 'from:' naming the layer it comes from", m.span)
        target = self.ref_target(source)
        kind: EdgeKind | None = None
        kind_node = m.get("kind")
        if kind_node is not None:
            text = self.string(kind_node, "edge kind")
            names = [k.value for k in EdgeKind if k is not EdgeKind.TIED]
            if text not in names:
                self.fail(
                    f"edge kind must be one of {', '.join(names)}, got {text!r}{did_you_mean(text, names)}",
                    kind_node.span,
                )
            kind = EdgeKind(text)
        delay_node = m.get("delay")
        delay = self.delay(delay_node) if delay_node is not None else 0
        if kind is EdgeKind.RECURRENT and delay == 0:
            delay = 1
        if delay and kind not in (None, EdgeKind.RECURRENT):
            self.fail(
                f"a delay makes an edge recurrent; it cannot also be {kind.value if kind else ''}", m.span
            )
        axis_node = m.get("axis")
        axis = self.ident(axis_node, "axis") if axis_node is not None else "time"
        if axis_node is not None and not delay:
            self.fail("'axis' names the axis of a delay; add 'delay: 1'", axis_node.span)
        label_node = m.get("label")
        label = self.text(label_node, "edge label") if label_node is not None else ""
        return Ref(target, source.span, kind, delay, axis, label)

    # -- layers ------------------------------------------------------------------------------------

    def common(self, m: YMap, span: Span) -> Layer:
        """A layer holding the keys every layer takes (label, note, group, trainable, role)."""
        text: dict[str, str] = {}
        for key in ("label", "note", "group"):
            node = m.get(key)
            if node is not None:
                value = self.attempt(self.text if key != "group" else self.ident, node, key)
                if value is not None:
                    text[key] = value
        trainable: bool | None = None
        if (node := m.get("trainable")) is not None:
            trainable = self.attempt(self.boolean, node, "trainable")
        roles: tuple[Role, ...] | None = None
        if (node := m.get("role")) is not None:
            roles = self.attempt(self.roles, node)
        once = False
        if (node := m.get("once")) is not None:
            once = bool(self.attempt(self.boolean, node, "once"))
        initial: Attr | None = None
        if (node := m.get("initial")) is not None:
            start = self.attempt(self.initial, node)
            initial = Attr("initial", start, node.span) if start is not None else None
        tied: Attr | None = None
        if (node := m.get("tied")) is not None:
            owner = self.attempt(self.ref_target, node)
            tied = Attr("tied", owner, node.span) if owner is not None else None
        refused: tuple[Role, ...] = ()
        if (node := m.get("bottleneck")) is not None:
            marked = self.attempt(self.boolean, node, "bottleneck")
            if marked is True and Role.BOTTLENECK not in (roles or ()):
                roles = (*(roles or ()), Role.BOTTLENECK)
            elif marked is False:
                if Role.BOTTLENECK in (roles or ()):
                    self.fail("'bottleneck: false' contradicts 'role: bottleneck'; keep one", node.span)
                refused = (Role.BOTTLENECK,)
        return Layer(
            "",
            span,
            label=text.get("label", ""),
            note=text.get("note", ""),
            group=text.get("group", ""),
            trainable=True if trainable is None else trainable,
            roles=roles or (),
            refused=refused,
            once=once,
            initial=initial,
            tied=tied,
        )

    def connection(self, node: YValue) -> str:
        """``chain`` or ``dense``."""
        text = self.string(node, "connect")
        if text not in CONNECTIONS:
            hint = did_you_mean(text, CONNECTIONS)
            self.fail(f"connect must be one of {', '.join(CONNECTIONS)}, got {text!r}{hint}", node.span)
        return text

    def initial(self, node: YValue) -> str:
        """``zeros``, ``learned``, or the id of the layer whose final state starts a recurrence."""
        text = self.string(node, "initial state")
        return text if text in INITIAL_VALUES else self.ref_target(node)

    def roles(self, node: YValue) -> tuple[Role, ...]:
        items = node.items if isinstance(node, YSeq) else (node,)
        found: list[Role] = []
        allowed = [r.value for r in _DECLARABLE_ROLES]
        for item in items:
            text = self.string(item, "role")
            if text not in allowed:
                self.fail(
                    f"role must be one of {', '.join(allowed)}, got {text!r}{did_you_mean(text, allowed)}",
                    item.span,
                )
            found.append(Role(text))
        return tuple(found)

    def layer(self, node: YValue, given_id: YScalar | None, counters: dict[str, int]) -> Layer | None:
        """One layer of a body; ``given_id`` is its key in a mapping body."""
        if isinstance(node, YScalar) and isinstance(node.value, str) and given_id is None:
            # Shorthand in a list: "- relu" is an op, "- stage" a block call with its defaults.
            name = node.value
            if name in OPS:
                required = [k for k, s in OPS[name].attrs.items() if s.required]
                if required:
                    self.diagnostics.append(
                        Diagnostic(node.span, f"op {name} needs '{required[0]}'; write it as a mapping")
                    )
                return Layer(self.auto_id(name, counters), node.span, op=name, auto_id=True)
            if name in self.block_params:
                return Layer(self.auto_id(name, counters), node.span, block=name, auto_id=True)
            self.diagnostics.append(
                Diagnostic(
                    node.span,
                    f"unknown op or block {name!r}{self.suggest(name, lambda: (*OPS, *self.block_params))}",
                )
            )
            return None
        try:
            m = self.mapping(node, "a layer")
        except _Fail:
            return None
        kinds = [k for k in ("op", "block", "layers") if m.get(k) is not None]
        if len(kinds) != 1:
            what = (
                "one of 'op', 'block' or 'layers'"
                if not kinds
                else f"only one of {', '.join(repr(k) for k in kinds)}"
            )
            self.diagnostics.append(Diagnostic(m.span, f"a layer needs {what}"))
            return None
        kind = kinds[0]
        id_node = m.get("id")
        if given_id is not None and id_node is not None:
            self.diagnostics.append(Diagnostic(id_node.span, "'id' is the mapping key here; remove it"))
        layer_id: str | None = None
        auto = False
        if given_id is not None:
            layer_id = self.attempt(self.ident, given_id, "layer id")
        elif id_node is not None:
            layer_id = self.attempt(self.ident, id_node, "layer id")
        refs = self.refs(in_node) if (in_node := m.get("in")) is not None else ()
        repeat = 1
        repeat_expr: Attr | None = None
        if (rn := m.get("repeat")) is not None:
            if isinstance(rn, YScalar) and isinstance(rn.value, str):
                text = self.attempt(self.expression, rn, "repeat")
                repeat_expr = Attr("repeat", text, rn.span) if text is not None else None
            else:
                repeat = self.attempt(self.integer, rn, "repeat", 1) or 1
            if repeat > MAX_REPEAT:
                self.diagnostics.append(Diagnostic(rn.span, f"repeat must be at most {MAX_REPEAT}"))
                repeat = 1
        connect = ""
        if (cn := m.get("connect")) is not None:
            connect = self.attempt(self.connection, cn) or ""
            if repeat == 1 and repeat_expr is None:
                self.diagnostics.append(
                    Diagnostic(cn.span, "'connect' says how repetitions read one another; add 'repeat: N'")
                )
                connect = ""
            elif connect == "chain":
                connect = ""
        shared = False
        if (sn := m.get("shared")) is not None:
            shared = bool(self.attempt(self.boolean, sn, "shared"))
            if shared and repeat == 1 and repeat_expr is None:
                self.diagnostics.append(
                    Diagnostic(sn.span, "'shared' says repetitions share weights; add 'repeat: N'")
                )
        if m.get("output") is not None and kind != "layers":
            self.diagnostics.append(Diagnostic(m.span, "'output' belongs to groups ('layers:') and blocks"))
        span = given_id.span if given_id is not None else m.span
        when: Attr | None = None
        if (wn := m.get("when")) is not None:
            condition = self.attempt(self.int_or_expr, wn, "when")
            when = Attr("when", condition, wn.span) if condition is not None else None
        base = replace(
            self.common(m, span),
            refs=refs,
            repeat=repeat,
            repeat_expr=repeat_expr,
            repeated=rn is not None,
            shared=shared,
            when=when,
            connect=connect,
        )
        # A layer that cannot be read is kept, without op, block or body, so references to it
        # do not add errors of their own.
        broken = replace(base, id=layer_id or self.auto_id("layer", counters), auto_id=layer_id is None)
        if kind == "op":
            op_node = m.get("op")
            assert op_node is not None
            op = self.attempt(self.string, op_node, "op")
            if op is None:
                return broken
            if op not in OPS:
                if op in self.block_params:
                    hint = f"; '{op}' is a block: write 'block: {op}'"
                else:
                    hint = did_you_mean(op, OPS)
                self.diagnostics.append(Diagnostic(op_node.span, f"unknown op {op!r}{hint}"))
                return broken
            attrs = self.attrs(m, op, _LAYER_KEYS)
            if base.initial is not None and OPS[op].family is not OpFamily.RECURRENT:
                self.diagnostics.append(
                    Diagnostic(
                        base.initial.span,
                        f"'initial' is the initial state of a recurrent layer; {op} keeps no state "
                        "(a state input takes 'initial:' too)",
                    )
                )
            if base.tied is not None and op not in TIEABLE:
                holders = ", ".join(sorted(TIEABLE))
                self.diagnostics.append(
                    Diagnostic(
                        base.tied.span,
                        f"'tied' shares a weight matrix; {op} has none (layers that have one: {holders})",
                    )
                )
            if layer_id is None:
                layer_id, auto = self.auto_id(op, counters), True
            return replace(base, id=layer_id, op=op, attrs=attrs, auto_id=auto)
        if kind == "block":
            block_node = m.get("block")
            assert block_node is not None
            block_name = self.attempt(self.string, block_node, "block")
            if block_name is None:
                return broken
            name = block_name
            if name not in self.block_params:
                if name in OPS:
                    hint = f"; '{name}' is an op: write 'op: {name}'"
                else:
                    hint = self.suggest(name, lambda: self.block_params)
                self.diagnostics.append(Diagnostic(block_node.span, f"unknown block {name!r}{hint}"))
                return broken
            args: list[Attr] = []
            params = self.block_params[name]
            for key, value in m.items:
                arg = str(key.value)
                if arg in _LAYER_KEYS:
                    continue
                if arg not in params:
                    known = ", ".join(params) if params else "no parameters"
                    hint = did_you_mean(arg, (*params, *_LAYER_KEYS))
                    self.diagnostics.append(
                        Diagnostic(key.span, f"unknown key '{arg}' for block {name}{hint} (it takes {known})")
                    )
                    continue
                # An argument that cannot be read is kept as None (its error is recorded), so
                # the call is not also reported as missing it.
                args.append(Attr(arg, self.attempt(self.block_arg, value, f"block {name} {arg}"), value.span))
            if layer_id is None:
                layer_id, auto = self.auto_id(name, counters), True
            return replace(base, id=layer_id, block=name, attrs=tuple(args), auto_id=auto)
        self.check_keys(m, _LAYER_KEYS, "a group")
        body_node = m.get("layers")
        assert body_node is not None
        body = self.body(body_node, "group")
        if body is None:
            return broken
        output = ""
        if (out := m.get("output")) is not None:
            found = self.attempt(self.ident, out, "output")
            ids = [la.id for la in body.layers]
            if isinstance(found, str) and found not in ids:
                self.diagnostics.append(
                    Diagnostic(
                        out.span, f"output {found!r} is not a layer of this group{did_you_mean(found, ids)}"
                    )
                )
            elif isinstance(found, str):
                output = found
        if layer_id is None:
            layer_id, auto = self.auto_id("group", counters), True
        return replace(base, id=layer_id, body=body, output=output, auto_id=auto)

    def block_arg(self, node: YValue, what: str) -> AttrValue:
        """A block parameter's value: an int, a size expression, a word, or a flag (1 or 0)."""
        if isinstance(node, YScalar) and isinstance(node.value, bool):
            return int(node.value)
        if isinstance(node, YScalar) and isinstance(node.value, str):
            return self.int_or_expr(node, what)
        if isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool):
            self.bounded(node, what)
            return node.value
        self.fail(
            f"{what} must be an integer, a size expression, true, false or a word (such as relu), "
            f"got {_describe(node)}",
            node.span,
        )

    def auto_id(self, base: str, counters: dict[str, int]) -> str:
        counters[base] = counters.get(base, 0) + 1
        return f"{base}_{counters[base]}"

    def body(self, node: YValue, what: str) -> Body | None:
        counters: dict[str, int] = {}
        layers: list[Layer] = []
        if isinstance(node, YSeq):
            if not node.items:
                self.diagnostics.append(Diagnostic(node.span, f"the {what} has no layers"))
                return None
            for item in node.items:
                layer = self.layer(item, None, counters)
                if layer is not None:
                    layers.append(layer)
            return Body(tuple(layers), True, node.span)
        if isinstance(node, YMap):
            if not node.items:
                self.diagnostics.append(Diagnostic(node.span, f"the {what} has no layers"))
                return None
            for key, item in node.items:
                layer = self.layer(item, key, counters)
                if layer is not None:
                    layers.append(layer)
            return Body(tuple(layers), False, node.span)
        self.diagnostics.append(
            Diagnostic(
                node.span,
                f"the {what}'s layers must be a list (a stack) or a mapping of id to layer, "
                f"got {_describe(node)}",
            )
        )
        return None

    # -- sections ----------------------------------------------------------------------------------

    def inputs(self, node: YValue) -> tuple[Layer, ...]:
        m = self.mapping(node, "inputs")
        found: list[Layer] = []
        for key, value in m.items:
            name = self.attempt(self.ident, key, "input id")
            if name is None:
                continue
            try:
                if isinstance(value, YSeq):  # shorthand: x: [N, 784]
                    found.append(
                        Layer(name, key.span, op="input", shape=self.shape_attrs(value, "input shape"))
                    )
                    continue
                im = self.mapping(value, f"input '{name}'")
                self.check_keys(im, _INPUT_KEYS, f"input '{name}'")
                base = self.common(im, key.span)
                shape_node = im.get("shape")
                shape = self.shape_attrs(shape_node, "input shape") if shape_node is not None else None
                refs: tuple[Ref, ...] = ()
                source = im.get("from")
                if shape_node is not None and shape is None:
                    raise _Fail
                if source is not None:
                    delay_node = im.get("delay")
                    delay = self.delay(delay_node) if delay_node is not None else 1
                    axis_node = im.get("axis")
                    axis = self.ident(axis_node, "axis") if axis_node is not None else "time"
                    refs = (Ref(self.ref_target(source), source.span, EdgeKind.RECURRENT, delay, axis),)
                else:
                    for key_name in ("delay", "axis", "initial"):
                        if (extra := im.get(key_name)) is not None:
                            self.diagnostics.append(
                                Diagnostic(
                                    extra.span,
                                    f"'{key_name}' belongs to a state input: "
                                    "add 'from:' naming the layer fed back",
                                )
                            )
                    if shape is None:
                        self.diagnostics.append(
                            Diagnostic(im.span, f"input '{name}' needs 'shape:' (e.g. shape: [N, 784])")
                        )
                when: Attr | None = None
                if (wn := im.get("when")) is not None:
                    condition = self.attempt(self.int_or_expr, wn, "when")
                    when = Attr("when", condition, wn.span) if condition is not None else None
                found.append(replace(base, id=name, op="input", refs=refs, shape=shape, when=when))
            except _Fail:
                # Keep the input's name (its error is recorded) so uses of it are not errors too.
                found.append(Layer(name, key.span, op="input"))
        return tuple(found)

    def shape_attrs(self, node: YValue, what: str) -> tuple[Attr, ...]:
        if not isinstance(node, YSeq):
            self.fail(f"{what} must be a list of sizes like [N, 784], got {_describe(node)}", node.span)
        values = self.shape(node, what)
        if len(values) != len(node.items):
            raise _Fail
        return tuple(
            Attr(str(i), v, item.span) for i, (v, item) in enumerate(zip(values, node.items, strict=True))
        )

    def dims(self, node: YValue) -> tuple[Dim, ...]:
        m = self.mapping(node, "dims")
        found: list[Dim] = []
        for key, value in m.items:
            name = self.attempt(self.ident, key, "dim name")
            if name is None:
                continue
            size = self.attempt(self.integer, value, f"dim {name}", 1)
            # A bad size is reported once; the name stays known so its uses are not errors too.
            found.append(Dim(name, 1 if size is None else size, key.span))
        return tuple(found)

    def block_headers(self, node: YValue) -> YMap:
        m = self.mapping(node, "blocks")
        for key, value in m.items:
            try:
                name = self.ident(key, "block name")
                if name in OPS:
                    self.fail(f"block name {name!r} is an op's name; choose another", key.span)
                params: tuple[str, ...] = ()
                if isinstance(value, YMap) and (pn := value.get("params")) is not None:
                    if isinstance(pn, YMap):
                        params = tuple(str(k.value) for k, _ in pn.items)
                    elif isinstance(pn, YSeq):
                        params = tuple(str(i.value) for i in pn.items if isinstance(i, YScalar))
                self.block_params[name] = params
            except _Fail:
                continue
        return m

    def block(self, key: YScalar, node: YValue) -> BlockDef:
        name = str(key.value)
        m = self.mapping(node, f"block '{name}'")
        self.check_keys(m, _BLOCK_KEYS, f"block '{name}'")
        params: list[Attr] = []
        pn = m.get("params")
        if isinstance(pn, YMap):
            for pk, pv in pn.items:
                pname = self.attempt(self.ident, pk, "parameter name")
                if not isinstance(pname, str):
                    continue
                default = (
                    None
                    if isinstance(pv, YScalar) and pv.value is None
                    else self.attempt(self.block_arg, pv, f"parameter {pname}")
                )
                if default is None and not (isinstance(pv, YScalar) and pv.value is None):
                    default = 1  # unreadable (already reported); not "required" on top of that
                params.append(Attr(pname, default, pk.span))
        elif isinstance(pn, YSeq):
            for item in pn.items:
                pname = self.attempt(self.ident, item, "parameter name")
                if isinstance(pname, str):
                    params.append(Attr(pname, None, item.span))
        elif pn is not None:
            self.fail(
                "block params must be a mapping of name to default (null: required) or a list of names",
                pn.span,
            )
        inputs: tuple[str, ...] = ("x",)
        if (inn := m.get("inputs")) is not None:
            items = inn.items if isinstance(inn, YSeq) else (inn,)
            inputs = tuple(
                v for v in (self.attempt(self.ident, i, "block input") for i in items) if isinstance(v, str)
            )
        body_node = m.get("layers")
        if body_node is None:
            self.fail(f"block '{name}' needs 'layers:'", m.span)
        self.parameters = frozenset(p.name for p in params)
        try:
            body = self.body(body_node, f"block '{name}'")
        finally:
            self.parameters = frozenset()
        if body is None:
            raise _Fail
        output = body.layers[-1].id if body.layers else ""
        if (out := m.get("output")) is not None:
            output = self.ident(out, "output")
            if output not in {la.id for la in body.layers}:
                self.fail(
                    f"output {output!r} is not a layer of block '{name}'"
                    f"{did_you_mean(output, [la.id for la in body.layers])}",
                    out.span,
                )
        label = self.text(ln, "label") if (ln := m.get("label")) is not None else ""
        return BlockDef(name, key.span, tuple(params), inputs, body, output, label)

    def reference(self, node: YValue) -> Reference:
        if isinstance(node, YScalar):
            # A title, or a URL: kept as the link only when it is an http(s) one.
            text = clean_text(self.string(node, "reference")).strip()
            url = self.url(node, "reference") if text.lower().startswith(("http://", "https://")) else ""
            return Reference(text, url, node.span)
        m = self.mapping(node, "reference")
        self.check_keys(m, _REFERENCE_KEYS, "reference")
        title = self.text(tn, "reference title") if (tn := m.get("title")) is not None else ""
        url = ""
        if (un := m.get("url")) is not None:
            url = self.url(un, "reference url")
        return Reference(title or url, url, node.span)

    def url(self, node: YValue, what: str) -> str:
        """An http(s) URL, as written but for surrounding spaces; any other scheme is refused."""
        url = self.string(node, what).strip()
        if not url.lower().startswith(("http://", "https://")):
            self.fail(f"{what} must start with http:// or https://", node.span)
        bad = next((ch for ch in url if ch in _URL_UNSAFE or ch.isspace() or not ch.isprintable()), None)
        if bad is not None:
            self.fail(f"{what} must be a plain http(s) URL, without {bad!r} (percent-encode it)", node.span)
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        if not host:
            self.fail(f"{what} must be an http(s) URL with a host name, got {url!r}", node.span)
        return url

    def view(self, node: YValue) -> ViewDefaults:
        m = self.mapping(node, "view")
        self.check_keys(m, _VIEW_KEYS, "view")
        view = ViewDefaults(span=node.span)
        if (dn := m.get("depth")) is not None:
            view = replace(view, depth=self.attempt(self.integer, dn, "view depth", 1))
        if (en := m.get("expand")) is not None:
            items = en.items if isinstance(en, YSeq) else (en,)
            named = [(self.attempt(self.string, item, "view expand"), item.span) for item in items]
            view = replace(
                view,
                expand=tuple(n for n, _ in named if n is not None),
                expand_spans=tuple(span for n, span in named if n is not None),
            )
        if (rn := m.get("expand_repeats")) is not None:
            view = replace(view, expand_repeats=bool(self.attempt(self.boolean, rn, "view expand_repeats")))
        if (un := m.get("unroll")) is not None:
            steps = self.attempt(self.integer, un, "view unroll", 0)
            if steps is not None and steps > MAX_STEPS:
                self.diagnostics.append(Diagnostic(un.span, f"view unroll takes at most {MAX_STEPS} steps"))
            view = replace(view, unroll=steps or 0)
        if (mn := m.get("max_nodes")) is not None:
            view = replace(view, max_nodes=self.attempt(self.integer, mn, "view max_nodes", 1))
        return view

    def style(self, node: YValue) -> Style:
        m = self.mapping(node, "style")
        self.check_keys(m, _STYLE_KEYS, "style")
        rankdir, theme = "TB", "default"
        if (rn := m.get("rankdir")) is not None:
            rankdir = self.string(rn, "rankdir")
            if rankdir not in RANKDIRS:
                self.fail(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}", rn.span)
        if (tn := m.get("theme")) is not None:
            theme = self.string(tn, "theme")
            if theme not in THEMES:
                self.fail(
                    f"theme must be one of {', '.join(THEMES)}, got {theme!r}{did_you_mean(theme, THEMES)}",
                    tn.span,
                )
        rise, rise_span = "", None
        if (sn := m.get("rise")) is not None:
            rise, rise_span = self.ref_target(sn), sn.span
        return Style(rankdir, theme, rise, rise_span)

    def spec(self, root: YValue) -> Graph:
        start = Span(self.path, 1, 1)
        if not isinstance(root, YMap):
            raise SpecError(
                [
                    Diagnostic(
                        root.span,
                        "a spec is a mapping of sections (archdraw: 1, name: ..., layers: ...), got "
                        + _describe(root),
                    )
                ]
            )
        self.check_keys(root, _TOP_KEYS, "the spec")
        version = root.get("archdraw")
        if version is None:
            self.diagnostics.append(
                Diagnostic(
                    root.span,
                    f"the spec needs 'archdraw: {FORMAT_VERSION}' (the format version) as its first key",
                )
            )
        else:
            v = self.attempt(self.integer, version, "archdraw (the format version)", 1)
            if isinstance(v, int) and v != FORMAT_VERSION:
                self.diagnostics.append(
                    Diagnostic(
                        version.span,
                        f"unsupported format version {v}; this archdraw reads version {FORMAT_VERSION}",
                    )
                )
        name = ""
        if (nn := root.get("name")) is not None:
            name = self.attempt(self.text, nn, "name") or ""
        else:
            self.diagnostics.append(Diagnostic(root.span, "the spec needs 'name:'"))
        summary = ""
        if (node := root.get("summary")) is not None:
            summary = self.attempt(self.text, node, "summary") or ""
        family = ""
        if (node := root.get("family")) is not None:
            family = self.attempt(self.text, node, "family") or ""
        reference = None
        if (node := root.get("reference")) is not None:
            reference = self.attempt(self.reference, node)
        dims: tuple[Dim, ...] = ()
        if (node := root.get("dims")) is not None:
            dims = self.attempt(self.dims, node) or ()
        style = Style()
        if (node := root.get("style")) is not None:
            style = self.attempt(self.style, node) or Style()
        view = ViewDefaults()
        if (node := root.get("view")) is not None:
            view = self.attempt(self.view, node) or ViewDefaults()
        blocks: list[BlockDef] = []
        if (node := root.get("blocks")) is not None:
            headers = self.attempt(self.block_headers, node)
            for key, value in headers.items if headers is not None else ():
                block = self.attempt(self.block, key, value)
                if block is not None:
                    blocks.append(block)
        inputs: tuple[Layer, ...] = ()
        if (node := root.get("inputs")) is not None:
            inputs = self.attempt(self.inputs, node) or ()
        body: Body | None = None
        if (ln := root.get("layers")) is not None:
            body = self.body(ln, "spec")
        else:
            self.diagnostics.append(
                Diagnostic(
                    root.span, "the spec needs 'layers:' (a list of layers, or a mapping of id to layer)"
                )
            )
        outputs: tuple[Ref, ...] = ()
        if (on := root.get("outputs")) is not None:
            items = on.items if isinstance(on, YSeq) else (on,)
            outputs = tuple(
                Ref(target, item.span)
                for item in items
                if (target := self.attempt(self.output_ref, item)) is not None
            )
        program = Program(
            inputs=inputs,
            body=body or Body((), True, start),
            blocks=tuple(blocks),
            outputs=outputs,
        )
        return Graph(
            name=name,
            path=self.path,
            span=root.span,
            program=program,
            summary=summary,
            family=family,
            reference=reference,
            dims=dims,
            style=style,
            view=view,
            diagnostics=tuple(self.diagnostics),
        )


def _non_ascii(text: str) -> str:
    """A note naming the first character of ``text`` outside ASCII (ids are ASCII), or ""."""
    odd = next((ch for ch in text if not ch.isascii()), None)
    if odd is None:
        return ""
    name = unicodedata.name(odd, "unnamed")
    return f"; ids are ASCII, and it holds U+{ord(odd):04X} ({name})"


def _describe(node: YValue | None) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    value = node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {node.text}"
    if isinstance(value, int):
        return f"the integer {node.text}"
    if isinstance(value, float):
        return f"the number {node.text}"
    shown = value if len(value) <= 40 else value[:37] + "..."
    return f"the string {shown!r}"
