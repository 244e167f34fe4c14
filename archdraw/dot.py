"""Render an analysed graph as Graphviz DOT text: pure, deterministic, every user string escaped.

DOT node names are generated (``n1``, ``n2`` …); the spec's ids travel in ``id`` and ``class``
attributes, so the SVG can be queried and styled. No user string becomes any attribute other
than an escaped label, tooltip, id or class.
"""

from __future__ import annotations

import functools
import re
import textwrap
import unicodedata
from collections.abc import Mapping

from . import sizes
from .ir import AttrValue, Cluster, Edge, EdgeKind, Graph, Node, OpFamily, Role, Size, Sym, format_shape
from .notation import axis, size_text
from .theme import THEMES, Theme
from .views import COPIES, RECURSION, SHARED

__all__ = ["describe", "escape_html", "escape_string", "to_dot"]

MAX_LABEL = 300
_SYMBOLS = {"add": "+", "sub": "−", "mul": "×"}
_SMALL_OPS = {"add", "sub", "mul", "concat"}
_ACT_SHORT = {
    "sigmoid": "σ",
    "tanh": "tanh",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "softmax": "softmax",
    "log_softmax": "log-softmax",
    "relu6": "ReLU6",
    "hardswish": "h-swish",
    "hardsigmoid": "h-sigmoid",
    "none": "",
    "linear": "",
}
# A subscript as papers write one: a one-letter symbol, an underscore, one or two letters or
# digits (L_y, y_16, h_g, H_d). A name with digits before its underscore (VGG's conv4_2,
# ResNet's conv2_x) is a name, kept as written; an underscore between words is a space.
_SUBSCRIPT = re.compile(r"(?<![A-Za-z0-9_])([A-Za-zα-ωΑ-Ω])_([A-Za-z0-9]{1,2}|[0-9]+)(?![A-Za-z0-9_])")
_BETWEEN_WORDS = re.compile(r"(?<=[A-Za-z])_(?=[A-Za-z])")
ARROW_FONT = "DejaVu Sans"  # see _finished
SUMMARY_WIDTH = 72  # characters of the summary line under the title before it wraps
# Spaces at the edge of a text run (next to a tag): SVG drops them unless kept as no-break ones.
_RUN_EDGE = re.compile(r"(?<=>) +| +(?=<)")
_CLASS_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@functools.lru_cache(maxsize=4096)
def _clean(text: str) -> str:
    """Drop control and invisible format characters (a BEL in SVG makes it invalid XML); cut.

    Only as much of ``text`` is looked at as the cut keeps, and a text met again (one label on
    thousands of layers, through a YAML alias) is cleaned once.
    """
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cc":
            if ch in "\t\n\r":
                out.append(" ")
        elif cat not in ("Cf", "Cs", "Co", "Cn"):
            out.append(ch)
        if len(out) > MAX_LABEL:
            break
    cleaned = "".join(out)
    return cleaned if len(cleaned) <= MAX_LABEL else cleaned[: MAX_LABEL - 1] + "…"


def written(text: str) -> str:
    r"""Text of a spec as an HTML-like label: escaped, with subscripts drawn as subscripts.

    ``L_y`` is L with a subscript y (a one-letter symbol before the underscore); an underscore
    between words is a space (``content_location``); a name like VGG's ``conv4_2`` stays as
    written.

    >>> written("label loss L_y"), written("y_1 … y_16"), written("content_location <x>")
    ('label loss L<sub>y</sub>', 'y<sub>1</sub> … y<sub>16</sub>', 'content location &lt;x&gt;')
    >>> written("conv4_2 of x"), written("ResNet-50 stage conv2_x")
    ('conv4_2 of x', 'ResNet-50 stage conv2_x')

    Text between backticks is code, kept as written without the backticks (a module path):

    >>> written("`mlp.c_fc` of x_1"), written("a lone ` stays")
    ('mlp.c_fc of x<sub>1</sub>', 'a lone ` stays')
    """
    escaped = escape_html(text)
    if "_" not in escaped and "`" not in escaped:
        return escaped
    return "".join(
        part if code else _BETWEEN_WORDS.sub(" ", _SUBSCRIPT.sub(r"\1<sub>\2</sub>", part))
        for code, part in _code_runs(escaped)
    )


def _code_runs(text: str) -> list[tuple[bool, str]]:
    """Text cut at its backtick pairs: (is it code, the run); a backtick left alone is text."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: the last one is text
        parts[-2:] = [parts[-2] + "`" + parts[-1]]
    return [(k % 2 == 1, part) for k, part in enumerate(parts)]


def _finished(html: str) -> str:
    """An HTML-like label as drawn: arrows in a font that draws them well, spaces kept.

    No text run starts or ends with a plain space: SVG drops those, and "t−1 recurrent edge"
    would read "t−1recurrent edge".

    Arial's metric twins (Liberation Sans, which Graphviz finds for Arial, and the bundled
    engine's Arimo) draw ``→`` small and low; DejaVu Sans draws it at the height of the text,
    and the bundled engine, which has no DejaVu, falls back to its own serif's arrow.
    """
    for arrow in "→↔":
        if arrow in html:
            html = html.replace(arrow, f'<font face="{ARROW_FONT}">{arrow}</font>')
    return _RUN_EDGE.sub(lambda m: "\u00a0" * len(m.group(0)), html)


def escape_html(text: str) -> str:
    r"""Escape text for a Graphviz HTML-like label.

    Backslashes are doubled: Graphviz expands ``\N`` and friends even in HTML-like labels,
    after decoding character references, so only a doubled backslash stays literal.

    >>> escape_html('<b> & "x" \\N')
    '&lt;b&gt; &amp; &quot;x&quot; \\\\N'
    """
    return (
        _clean(text)
        .replace("&", "&amp;")
        .replace("\\", "\\\\")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def escape_string(text: str) -> str:
    r"""Quote text as a DOT string; backslashes are doubled so ``\N`` and friends stay literal.

    >>> print(escape_string('say "hi" \\N'))
    "say \"hi\" \\N"
    """
    return '"' + _clean(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(value: AttrValue) -> str:
    if isinstance(value, tuple):  # a shape or a kernel: a compound size in parentheses
        return "×".join(axis(v.text) if isinstance(v, Sym) else _value(v) for v in value)
    if isinstance(value, Sym):
        return size_text(value.text)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _pair(value: AttrValue, dims: int = 2) -> str:
    """A kernel or stride for display: 3 → 3×3 for 2-D ops."""
    if isinstance(value, tuple):
        return _value(value)
    return "×".join([_value(value)] * dims)


def count(number: int) -> str:
    """A count in three significant figures: ``61.7 K``, ``25.6 M``, ``4.09 G``.

    >>> count(61_706), count(25_557_032), count(4_089_184_256), count(950)
    ('61.7 K', '25.6 M', '4.09 G', '950')
    """
    for scale, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if number >= scale:
            value = number / scale
            digits = 2 if value < 10 else 1 if value < 100 else 0
            return f"{value:.{digits}f} {unit}"
    return str(number)


_OP_NAMES = {
    "parameter": "learned tensor",
    "kl_divergence": "KL divergence",
    "lrn": "LRN",
    "ctc_loss": "connectionist temporal classification",
}
_KERNEL_OPS = {
    "conv": "conv",
    "conv_transpose": "transposed conv",
    "maxpool": "max pool",
    "avgpool": "avg pool",
    "unpool": "unpool",
    "maxunpool": "max unpool",
}


def describe(node: Node, fan_in: Size | None = None, linked: bool = False) -> str:
    """A short account of what a node computes, for the line under its title.

    ``fan_in`` is the width of the node's inputs where shapes are known (``dense 384→256``);
    ``linked``: they come in by undirected links, which have no direction (``784 ↔ 500``).
    """
    op, a = node.op, node.attr
    act = _ACT_SHORT.get(str(a("act") or "none"), str(a("act")))
    suffix = f" · {act}" if act else ""
    if op == "input":
        return format_shape(node.shape) if node.shape else "input"
    if op == "dense":
        if linked and fan_in is not None:
            return f"{_value(fan_in)} ↔ {_value(a('units'))} symmetric{suffix}"
        into = f"{_value(fan_in)} → " if fan_in is not None else ""
        return f"dense {into}{_value(a('units'))}{suffix}"
    if op.startswith(("conv", "maxpool", "avgpool", "unpool", "maxunpool")):
        # As papers write them: "7×7 conv, 64, /2", "3×3 max pool, /2".
        dims = 1 if op.endswith("1d") else 3 if op.endswith("3d") else 2
        name = _KERNEL_OPS.get(op.rstrip("123d").rstrip("_"), op.replace("_", " "))
        kernel = _pair(a("kernel"), dims)
        text = f"{name} {kernel}" if dims == 1 else f"{kernel} {name}"
        if a("channels") is not None:
            text += f", {_value(a('channels'))}"
        stride = a("stride")
        if stride not in (None, 1):
            # A transposed conv or an unpooling scales up by its stride: ×2, not /2.
            up = op.startswith(("conv_transpose", "unpool", "maxunpool"))
            text += f", {'×' if up else '/'}{_value(stride)}"
        if a("groups") not in (None, 1):
            text += f", groups {_value(a('groups'))}"
        if a("dilation") not in (None, 1):
            text += f", dilation {_value(a('dilation'))}"
        return text + suffix
    if op in ("rnn", "lstm", "gru"):
        text = f"{op.upper()} {_value(a('units'))}"
        if a("num_layers") not in (None, 1):
            text += f" ×{_value(a('num_layers'))} layers"
        if a("bidirectional"):
            text += ", bidirectional"
        return text
    if op == "embedding":
        return f"embedding {_value(a('vocab'))}→{_value(a('dim'))}"
    if op == "attention":
        heads = a("heads")
        extra = f", {_value(heads)} heads" if heads not in (None, 1) else ""
        return f"attention ({str(a('kind') or 'dot').replace('_', '-')}{extra})"
    if op == "memory":
        return f"memory {_value(a('slots'))}×{_value(a('width'))}"
    if op in ("memory_read", "memory_write"):
        heads = a("heads")
        extra = f", {_value(heads)} heads" if heads not in (None, 1) else ""
        return f"{op.replace('_', ' ')} ({a('addressing') or 'content'}{extra})"
    if op == "dropout":
        return f"dropout {_value(a('rate') if a('rate') is not None else 0.5)}"
    if op == "upsample":
        return f"upsample ×{_value(a('scale') or 2)}"
    if op in ("adaptive_avgpool2d", "adaptive_maxpool2d"):
        return f"adaptive {'avg' if 'avg' in op else 'max'} pool → {_pair(a('size'))}"
    if op in ("global_avgpool", "global_maxpool"):
        return f"global {'avg' if 'avg' in op else 'max'} pool"
    if op == "reshape":
        return f"reshape {_value(a('shape'))}"
    if op == "crop":
        return f"crop to {_pair(a('size'))}"
    if op == "layer_scale":
        return "layer scale + shift" if a("bias") else "layer scale"
    if op == "noise":
        return f"noise {a('dist') or 'normal'} {_value(a('shape'))}"
    if op == "custom":
        return str(a("kind") or "custom")
    if op == "block":
        return node.note
    if op in _SYMBOLS:
        return _SYMBOLS[op]
    if op == "gradient_reversal":
        return "gradient reversal"
    if op in _OP_NAMES:
        return _OP_NAMES[op]
    return op.replace("_", " ")


_UNPOOL_OPS = frozenset({"unpool2d", "maxunpool2d"})
_MEMORY_HOLDERS = frozenset({"memory", "memory_write"})  # ops whose output is a memory


def _count_attr(node: Node, name: str) -> int:
    value = node.attr(name) if node.op == "block" else None
    return value if isinstance(value, int) else 0


def _local_id(node_id: str) -> str:
    """The id as written inside its block: ``stage.2.conv`` (and ``conv@3``, unrolled) is ``conv``."""
    parts = [p for p in node_id.split("@")[0].split(".") if not p.isdigit()]
    return parts[-1] if parts else node_id


def _attrs(attrs: Mapping[str, str], html_label: str | None = None) -> str:
    parts = [f"{k}={escape_string(v)}" for k, v in sorted(attrs.items())]
    if html_label is not None:
        parts.append(f"label=<{_finished(html_label)}>")
    return " [" + " ".join(parts) + "]" if parts else ""


def _css(text: str) -> str:
    return _CLASS_SAFE.sub("_", text)


def _node_style(
    node: Node, theme: Theme, fan_in: Size | None, sink: bool, again: bool = False, linked: bool = False
) -> tuple[dict[str, str], str]:
    """(attributes, HTML label) of one node; ``sink`` nodes show their own output shape.

    ``again`` marks a copy at a later step of an unrolled view: its weights are those of the
    first step's copy, so their count is not repeated (the caption has the total).
    """
    family = node.family
    if family is OpFamily.BLOCK:  # drawn in the colours of the layers inside it
        family = OpFamily(str(node.attr("family") or OpFamily.CUSTOM.value))
    fill, border = theme.families.get(family, theme.families[OpFamily.CUSTOM])
    style = ["filled"]
    attrs: dict[str, str] = {}
    small = node.op in _SMALL_OPS and not node.label and not node.has_role(Role.OUTPUT)
    if node.has_role(Role.STATE):
        fill, border = theme.state
        style.append("dashed")
    elif node.has_role(Role.OUTPUT) and node.family is not OpFamily.LOSS:
        fill, border = theme.output
    if small:
        symbol = _SYMBOLS.get(node.op, node.op)
        attrs.update(
            shape="circle", width="0.4", fixedsize="true" if node.op != "concat" else "false", margin="0.02"
        )
        html = escape_html(symbol) if node.op != "concat" else '<font point-size="10">concat</font>'
    else:
        if node.family is OpFamily.ACTIVATION and not node.label:
            attrs["shape"] = "ellipse"
        elif node.op == "memory" or node.has_role(Role.MEMORY):
            attrs["shape"] = "cylinder"
        elif node.op == "block":
            attrs["shape"] = "box3d"  # a stack of layers drawn as one
        elif node.family is OpFamily.SAMPLING:
            attrs["shape"] = "ellipse"
        else:
            attrs["shape"] = "box"
            style.insert(0, "rounded")
        detail = describe(node, fan_in, linked)
        if node.label or node.family not in (
            OpFamily.ACTIVATION,
            OpFamily.REGULARIZATION,
            OpFamily.RESHAPE,
            OpFamily.MERGE,
        ):
            if not node.label and node.auto_id and detail:
                # An id archdraw made up (conv2d_1) says nothing: the layer is titled by what it is.
                title, detail = detail, ""
            else:
                title = node.label or _local_id(node.id)
            lines = [f"<b>{written(title)}</b>"]
            if detail and detail != title:
                lines.append(f'<font point-size="10">{written(detail)}</font>')
        else:
            # A plain op says what it is; its id adds nothing (it is in the tooltip).
            lines = [written(detail)]
        facts = []
        if node.shape is not None and node.op != "input" and sink:
            facts.append(format_shape(node.shape))  # other shapes are on the outgoing edges
        copies = node.attr(COPIES)
        if node.params and not again:
            every = ""
            if isinstance(copies, int) and copies > 1:  # a folded copy: what all the copies hold
                every = f" shared by all {copies}" if node.attr(SHARED) else f" in all {copies}"
            facts.append(f"{count(node.params)} params{every}")
        if facts:
            lines.append(
                f'<font point-size="9" color="{theme.muted}">{escape_html(" · ".join(facts))}</font>'
            )
        tags = []
        if not node.trainable and (node.params or node.op == "block"):  # a pool has no weights
            tags.append("fixed weights")
        if node.has_role(Role.BOTTLENECK):
            tags.append("bottleneck")
        if node.has_role(Role.SHORTCUT):
            tags.append("on the shortcut")
        inside = _count_attr(node, "bottlenecks")
        if inside:
            tags.append("bottleneck inside" if inside == 1 else f"{inside} bottlenecks inside")
        if tags:
            lines.append(
                f'<font point-size="9" color="{theme.muted}"><i>{escape_html(", ".join(tags))}</i></font>'
            )
        residual = _count_attr(node, "residual")
        if residual:
            skip = theme.edges[EdgeKind.SKIP].get("color", theme.edge)
            what = "residual" if residual == 1 else f"{residual} residual blocks"
            # In the skip's colour: the word, not a glyph (⊕ is missing from common fonts).
            lines.append(f'<font point-size="10" color="{skip}"><b>{escape_html(what)}</b></font>')
        if _count_attr(node, "dense"):
            skip = theme.edges[EdgeKind.SKIP].get("color", theme.edge)
            lines.append(f'<font point-size="10" color="{skip}"><b>densely connected</b></font>')
        if node.note and node.op != "block":
            lines.append(f'<font point-size="9" color="{theme.muted}">{written(node.note)}</font>')
        html = "<br/>".join(lines)
    if not node.trainable and (node.params or node.op == "block"):  # a pool has no weights to fix
        style.append(theme.fixed_style)
        border = theme.fixed
        if theme.fixed_width is not None:
            attrs["penwidth"] = theme.fixed_width
    if node.has_role(Role.SHORTCUT):  # drawn in the skip's style, as the edges along it are
        border = theme.edges[EdgeKind.SKIP].get("color", border)
        style.append("dashed")
        attrs["penwidth"] = theme.edges[EdgeKind.SKIP].get("penwidth", "1.6")
    if node.has_role(Role.BOTTLENECK):
        border = theme.bottleneck
        attrs["penwidth"] = theme.bottleneck_width
    attrs.update(style=",".join(style), fillcolor=fill, color=border)
    return attrs, html


def _edge_lines(
    graph: Graph, ids: Mapping[str, str], theme: Theme, rising: set[str], turn: set[str]
) -> list[str]:
    """The edges' lines; ``rising`` and ``turn`` are :func:`_rising`'s (drawn pointing up)."""
    order = {n.id: i for i, n in enumerate(graph.nodes)}
    nodes = {n.id: n for n in graph.nodes}
    kinds = list(EdgeKind)
    dense = {c.id for c in graph.clusters if c.dense}
    edges = sorted(
        graph.edges, key=lambda e: (order[e.dst], order[e.src], kinds.index(e.kind), e.delay, e.label)
    )
    lines = []
    for index, e in enumerate(edges, 1):
        attrs = dict(theme.edges[e.kind])
        access = _access(e, nodes)
        if access is not None:
            attrs.update(_access_style(access, theme))
        # Unrolled, a state runs from one step to another (no delay mark: the steps say it).
        # It does not rank the layout: the steps are level and in order (see _step_lines).
        between_steps = graph.steps and e.kind is EdgeKind.RECURRENT and e.axis == "time"
        if between_steps:
            attrs["constraint"] = "false"
        if e.initial:
            attrs.update(_INITIAL_STYLE)
            attrs["color"] = attrs["fontcolor"] = theme.edges[EdgeKind.RECURRENT].get("color", theme.edge)

        attrs["id"] = f"edge-{index}"
        attrs["class"] = f"{e.kind.value} from-{_css(e.src)} to-{_css(e.dst)}" + (
            f" {access}" if access else ""
        )
        attrs["tooltip"] = f"{e.src} → {e.dst} ({e.kind.value})"
        label = e.label
        if e.kind is EdgeKind.TIED:
            label = "tied weights"
        elif e.initial:
            label = label or "initial state"
        elif e.kind is EdgeKind.RECURRENT and not between_steps:
            label = label or _delay_mark(e)
        elif e.kind in (EdgeKind.DATA, EdgeKind.SKIP) and not label and not _fans_out(e, nodes):
            shape = nodes[e.src].shape
            # Into a dense block's concatenations only the newest map is labelled: the skips
            # from every earlier one carry shapes already said where those maps are made.
            if e.kind is EdgeKind.SKIP and nodes[e.dst].cluster in dense:
                shape = None
            if shape is not None:
                label = format_shape(shape)
        if label:
            attrs["fontsize"] = "9"
            attrs["fontcolor"] = attrs.get("fontcolor", theme.muted)
        src, dst = ids[e.src], ids[e.dst]
        if e.kind is EdgeKind.GRADIENT or (between_steps and e.reverse):
            # Drawn from the layer receiving the gradient so it does not pull the layout
            # backwards; dir=back puts the arrowhead at that layer. A bidirectional layer's
            # backward state is drawn so too: beside the forward one, not on top of it.
            src, dst = dst, src
            attrs["dir"] = "back"
        elif (
            e.dst in rising
            and (e.src in rising or e.src in turn)
            and e.kind in (EdgeKind.DATA, EdgeKind.SKIP)
        ):
            # Drawn rising (style rise): the edge is laid out from its head, pointing up.
            src, dst = dst, src
            attrs["dir"] = "back"
        if e.kind is EdgeKind.TIED:
            # Placed after the layout, clear of other labels: a tie crosses the picture, and
            # its words must not run on into a loop's "t−1" beside it.
            attrs["xlabel"] = label
            label = ""
        # An HTML-like label, so that a subscript in it (L_d) is drawn as one.
        lines.append(f"  {src} -> {dst}{_attrs(attrs, written(label) if label else None)}")
    lines += _state_lines(graph, ids, theme, len(edges))
    return lines


def _rising(graph: Graph) -> tuple[set[str], set[str]]:
    """(the nodes drawn rising, the nodes they turn at) for ``style: {rise: LAYER}``.

    The turn is the layer named (or, drawn open, every node of it); the nodes it leads to
    by data and skip edges within a step rise back up beside the way down, which is drawn
    as before: a U, with the contracting path down the left and the expansive path up the
    right, joined across by the skips.
    """
    name = graph.style.rise
    if not name:
        return set(), set()
    turn = {n.id for n in graph.nodes if n.id == name or n.id.startswith(name + ".")}
    succ: dict[str, list[str]] = {}
    for e in graph.edges:
        if e.kind in (EdgeKind.DATA, EdgeKind.SKIP) and not e.delay and not e.initial:
            succ.setdefault(e.src, []).append(e.dst)
    rising: set[str] = set()
    queue = list(turn)
    while queue:
        for m in succ.get(queue.pop(), []):
            if m not in turn and m not in rising:
                rising.add(m)
                queue.append(m)
    return rising, turn


def _level_lines(graph: Graph, ids: Mapping[str, str], rising: set[str]) -> list[str]:
    """Drawn as a U (``style: {rise: …}``), a skip across stands level: U-Net's copy and crop.

    The layer a skip leaves on the way down, the layers on the skip and the join it reaches on
    the way up share a rank, so the skip runs across and each level of the way up stands
    beside its level of the way down. ``rising`` is what :func:`_rising` found.
    """
    if not rising:
        return []
    skips = [e for e in graph.edges if e.kind is EdgeKind.SKIP and not e.delay]
    feeds = {e.src: e.dst for e in skips}
    level: dict[str, str] = {}  # each node's group, by the join its skip chain reaches

    def join_of(node: str) -> str | None:
        seen: set[str] = set()
        while node not in rising:
            if node in seen or node not in feeds:
                return None
            seen.add(node)
            node = feeds[node]
        return node

    for e in skips:
        join = join_of(e.dst)
        if join is not None and e.src not in rising:
            level[e.src] = join
            for end in (e.dst, join):
                level[end] = join
    groups: dict[str, list[str]] = {}
    for n in graph.nodes:
        if n.id in level:
            groups.setdefault(level[n.id], []).append(ids[n.id])
    return [f"  {{rank=same; {'; '.join(members)}}}" for members in groups.values() if len(members) > 1]


def _fans_out(edge: Edge, nodes: Mapping[str, Node]) -> bool:
    """Unrolled, an edge from one loop's steps into another's: one of many alike, unlabelled."""
    src, dst = nodes[edge.src], nodes[edge.dst]
    return bool(src.step and dst.step and src.loop != dst.loop)


def _step_lines(graph: Graph, ids: Mapping[str, str]) -> list[str]:
    """Unrolled, the steps in one row: each node level with its copies, the steps in order.

    Every node's copies share a rank (so each step is laid out alike, with no staircase), and
    a row of invisible marks above each loop's steps, one per step, chained in order and
    tied to every node of its step, holds the steps left to right (top to bottom for
    ``rankdir LR``): Graphviz keeps the order of flat edges between nodes outside clusters,
    not between the clusters themselves, which the state edges from step to step would
    otherwise reorder. Two loops (an encoder, its decoder) each keep their own order: the
    decoder's steps, which read the encoder's, come out below or after them.
    """
    if not graph.steps:
        return []
    copies: dict[str, list[str]] = {}
    for n in graph.nodes:
        if n.step:
            copies.setdefault(n.origin, []).append(n.id)
    lines = [
        "  {rank=same; " + " ".join(ids[c] for c in group) + "}"
        for group in copies.values()
        if len(group) > 1
    ]
    parent = {c.id: c.parent for c in graph.clusters}

    def outermost(cluster: str) -> str:
        while parent.get(cluster):
            cluster = parent[cluster]
        return cluster

    into: dict[str, set[str]] = {n.id: set() for n in graph.nodes}
    out_of: dict[str, set[str]] = {n.id: set() for n in graph.nodes}
    for e in graph.edges:
        if e.kind is not EdgeKind.RECURRENT or e.axis != "time":
            into[e.dst].add(e.src)
            out_of[e.src].add(e.dst)
    held: dict[str, list[str]] = {}
    loop_of: dict[str, str] = {}
    for n in graph.nodes:
        if n.step:
            step = outermost(n.cluster)
            held.setdefault(step, []).append(n.id)
            loop_of[step] = n.loop
    # What runs once and feeds the steps (an encoder CNN) comes before the first step.
    stepped = {n.id for n in graph.nodes if n.step}
    before = [n.id for n in graph.nodes if not n.step and out_of[n.id] & stepped]
    # Rows: one loop's steps follow another's in the same row (an encoder's, then its
    # decoder's), unless the later loop reads the earlier one at every step (attention over
    # the encoder's states): then its steps are a row of their own, below.
    loop_at = {n.id: n.loop for n in graph.nodes if n.step}
    rows: list[list[tuple[list[str], list[str]]]] = []
    number = 0
    for k, loop in enumerate(graph.loops):
        groups = [held[c.id] for c in graph.clusters if loop_of.get(c.id) == loop.id]
        if k == 0 and before:
            groups.insert(0, before)
        marks: list[tuple[list[str], list[str]]] = []
        for members in groups:
            number += 1
            top, bottom = f"step_mark_{number}", f"step_mark_{number}_end"
            inside = set(members)
            # From a mark above the steps to every node that starts its step (reads nothing
            # else in it), and from every node that ends it to a mark below: any other order of
            # the steps crosses these edges. (Edges to nodes deeper in would pass between the
            # steps and push the state edges from step to step out of their way.)
            starts = [m for m in members if not into[m] & inside] or members[:1]
            ends = [m for m in members if not out_of[m] & inside] or members[-1:]
            lines.append(f'  {top} [shape=point style=invis width="0.01"]')
            lines.append(f'  {bottom} [shape=point style=invis width="0.01"]')
            lines.extend(f"  {top} -> {ids[m]} [style=invis]" for m in starts)
            lines.extend(f"  {ids[m]} -> {bottom} [style=invis]" for m in ends)
            marks.append(([top], [bottom]))
        earlier = {other.id for other in graph.loops[:k]}
        reads = any(
            loop_at.get(e.dst) == loop.id and loop_at.get(e.src) in earlier and not e.initial
            for e in graph.edges
        )
        if rows and not reads:  # at most a final state handed on: the same row
            rows[-1].extend(marks)
        else:
            if rows:  # below the row before it
                lines.extend(
                    f"  {above} -> {below} [style=invis]" for _, (above,) in rows[-1] for (below,), _ in marks
                )
            rows.append(marks)
    for row in rows:
        for side in (0, 1):
            names = [mark[side][0] for mark in row]
            if len(names) > 1:
                lines.append("  {rank=same; " + " ".join(names) + "}")
                lines.append("  " + " -> ".join(names) + " [style=invis]")
    return lines


def _owned_states(graph: Graph) -> list[tuple[str, str]]:
    """(state input, recurrent layer) pairs: a layer's state fed back through a state input.

    Where a spec feeds a recurrent layer's state back through a state input (for an attention
    query, say), the layer gets no loop of its own (a state is drawn once), and the layer does
    not read that input itself. Unrolled, the steps' own edges say it.
    """
    if graph.steps:
        return []
    nodes = {n.id: n for n in graph.nodes}
    read = {(e.src, e.dst) for e in graph.edges if e.delay == 0}
    pairs = []
    for e in graph.edges:
        state, layer = nodes.get(e.dst), nodes.get(e.src)
        if (
            e.kind is EdgeKind.RECURRENT
            and state is not None
            and layer is not None
            and state.has_role(Role.STATE)
            and layer.family is OpFamily.RECURRENT
            and (state.id, layer.id) not in read
        ):
            pairs.append((state.id, layer.id))
    return pairs


def _state_lines(graph: Graph, ids: Mapping[str, str], theme: Theme, numbered: int) -> list[str]:
    """A thin dashed edge from each owned state input into its layer: the state is the layer's own."""
    lines = []
    color = theme.edges[EdgeKind.RECURRENT].get("color", theme.edge)
    for state, layer in _owned_states(graph):
        numbered += 1
        attrs = {
            "id": f"edge-{numbered}",
            "class": f"state from-{_css(state)} to-{_css(layer)}",
            "tooltip": f"{state} → {layer} (state)",
            "color": color,
            "style": "dashed",
            "arrowhead": "empty",
            "constraint": "false",
        }
        lines.append(f"  {ids[state]} -> {ids[layer]}{_attrs(attrs)}")
    return lines


def _access(edge: Edge, nodes: Mapping[str, Node]) -> str | None:
    """How an edge reads: 'memory', 'attention' or 'switches', or None for plain data.

    'memory' is a memory itself, on its way to a head that reads or writes it, 'attention' data
    attended over, and
    'switches' a max pooling's switches read by the unpooling that mirrors it.
    """
    if edge.kind is not EdgeKind.DATA:
        return None
    if nodes[edge.dst].op in _UNPOOL_OPS and nodes[edge.src].family is OpFamily.POOLING:
        return "switches"
    src = nodes[edge.src]
    if src.op in _MEMORY_HOLDERS or src.has_role(Role.MEMORY):
        return "memory"  # the edge carries the memory itself (not a head's parameters or reads)
    if nodes[edge.dst].family is OpFamily.ATTENTION:
        return "attention"
    return None


def _access_style(access: str, theme: Theme) -> dict[str, str]:
    """The look of a read: a diamond (memory), a hollow arrow (attention), dotted with a dot (switches)."""
    if access == "switches":
        color = theme.families[OpFamily.POOLING][1]
        return {"color": color, "penwidth": "1.6", "style": "dotted", "arrowhead": "dot", "fontcolor": color}
    family = OpFamily.MEMORY if access == "memory" else OpFamily.ATTENTION
    color = theme.families[family][1]
    head = "diamond" if access == "memory" else "empty"
    if access == "attention" and theme.double_reads:  # two parallel lines: plain in greyscale
        return {
            "color": f"{color}:{theme.background}:{color}",
            "penwidth": "1",
            "arrowhead": head,
            "fontcolor": color,
        }
    return {"color": color, "penwidth": "1.6", "arrowhead": head, "fontcolor": color}


def _delay_mark(edge: Edge) -> str:
    """``t−1`` for a one-step delay in time, ``depth−2`` for two steps along depth, ``t+1`` backwards."""
    return f"{'t' if edge.axis == 'time' else edge.axis}{'+' if edge.reverse else '−'}{edge.delay}"


_INITIAL_STYLE = {"style": "dashed", "penwidth": "1.4", "arrowhead": "empty"}
_EDGE_MEANING = {
    EdgeKind.DATA: "data flow",
    EdgeKind.SKIP: "skip connection",
    EdgeKind.RECURRENT: "recurrent edge from an earlier step",
    EdgeKind.GRADIENT: "gradient path (flows backwards)",
    EdgeKind.UNDIRECTED: "undirected, symmetric link",
    EdgeKind.TIED: "tied weights: one matrix, used by the layers it links",
}


def _legend(graph: Graph, theme: Theme) -> list[str]:
    """One table node listing only the edge kinds and node marks the diagram uses."""
    rows: list[str] = []
    recursion = [e for e in graph.edges if e.kind is EdgeKind.RECURRENT and e.axis == RECURSION]
    for kind in EdgeKind:
        if not any(e.kind is kind and e.axis != RECURSION for e in graph.edges):
            continue
        attrs = theme.edges[kind]
        color = attrs.get("color", theme.edge)
        width = str(max(1, round(float(attrs.get("penwidth", "1")))))
        style = attrs.get("style", "")
        style_attr = f' style="{style}"' if style in ("dashed", "dotted") else ""
        text = escape_html(_EDGE_MEANING[kind])
        if kind is EdgeKind.RECURRENT and any(e.reverse for e in graph.edges if e.kind is kind):
            text = escape_html("recurrent edge from an earlier (−) or a later (+) step")
        if kind is EdgeKind.RECURRENT and graph.steps:
            text = escape_html(
                "state carried to the next step"
                + (" (backwards: to the step before)" if any(e.reverse for e in graph.edges) else "")
            )
            if any(e.kind is kind and e.axis not in ("time", RECURSION) for e in graph.edges):
                text += escape_html("; marked along another axis (depth−1)")
        elif kind is EdgeKind.RECURRENT:
            shown = {
                (e.reverse, e.axis, e.delay): _delay_mark(e)
                for e in graph.edges
                if e.kind is kind and not e.label and e.axis != RECURSION
            }
            delays = [shown[k] for k in sorted(shown)]
            steps = ", ".join(delays[:3]) + (", …" if len(delays) > 3 else "")
            text = f'<font color="{color}">{escape_html(steps)}</font> {text}'
        rows.append(
            f'<tr><td width="36" height="8" fixedsize="true" sides="b" border="{width}" color="{color}"'
            f'{style_attr}></td><td align="left">{text}</td></tr>'
        )
    if any(e.initial for e in graph.edges):
        color = theme.edges[EdgeKind.RECURRENT].get("color", theme.edge)
        rows.append(
            f'<tr><td width="36" height="8" fixedsize="true" sides="b" border="1" color="{color}"'
            ' style="dashed"></td>'
            '<td align="left">initial state, from another layer (its final value)</td></tr>'
        )
    if recursion:
        color = theme.edges[EdgeKind.RECURRENT].get("color", theme.edge)
        rows.append(
            f'<tr><td width="36" height="8" fixedsize="true" sides="b" border="2" color="{color}"></td>'
            '<td align="left">recursion: the block applied again to its own output, same weights</td></tr>'
        )
    nodes_by_id = {n.id: n for n in graph.nodes}
    for access, meaning in (
        ("memory", "memory read or write"),
        ("attention", "attended over (queries, keys, values)"),
        ("switches", "pooling switches: where each maximum was, for the unpooling"),
    ):
        if any(_access(e, nodes_by_id) == access for e in graph.edges):
            look = _access_style(access, theme)
            dotted = ' style="dotted"' if look.get("style") == "dotted" else ""
            color = look["color"].split(":")[0]
            # A double line is drawn as a cell with a top and a bottom border.
            cell = (
                'height="5" sides="tb" border="1"'
                if ":" in look["color"]
                else 'height="8" sides="b" border="2"'
            )
            rows.append(
                f'<tr><td width="36" {cell} fixedsize="true" color="{color}"'
                f'{dotted}></td><td align="left">{escape_html(meaning)}</td></tr>'
            )
    marks: list[tuple[str, str, str, str, str]] = []  # text, cell style, fill, border, border width
    fixed_style = ",".join(
        ["rounded", *(s for s in theme.fixed_style.split(",") if s in ("dashed", "dotted"))]
    )
    bottleneck_width = str(max(2, round(float(theme.bottleneck_width))))
    nodes = graph.nodes
    if any(n.has_role(Role.STATE) for n in nodes):
        text = (
            "state fed back along another axis, within the step"
            if graph.steps
            else "state fed back from an earlier step"
        ) + (" (a thin dashed arrow: into the layer whose state it is)" if _owned_states(graph) else "")
        marks.append((text, "rounded,dashed", *theme.state, "2"))
    if any(not n.trainable for n in nodes):
        marks.append(
            ("fixed weights (not trained by gradient)", fixed_style, theme.legend_fill, theme.fixed, "2")
        )
    if any(n.has_role(Role.BOTTLENECK) for n in nodes):
        marks.append(("bottleneck", "rounded", theme.legend_fill, theme.bottleneck, bottleneck_width))
    skip_color = theme.edges[EdgeKind.SKIP].get("color", theme.edge)
    on_shortcut = {"a crop" if n.op == "crop" else "a projection" for n in nodes if n.has_role(Role.SHORTCUT)}
    if on_shortcut:
        kinds = " or ".join(sorted(on_shortcut, reverse=True))  # "a projection or a crop"
        marks.append((f"layer on a shortcut ({kinds})", "rounded,dashed", theme.legend_fill, skip_color, "2"))
    for text, style, fill, border, border_width in marks:
        rows.append(
            f'<tr><td width="36" height="12" fixedsize="true" border="{border_width}" style="{style}"'
            f' bgcolor="{fill}"'
            f' color="{border}"></td><td align="left">{escape_html(text)}</td></tr>'
        )
    if any(_count_attr(n, "residual") for n in nodes):
        rows.append(
            f'<tr><td width="36" height="12"><font point-size="9" color="{skip_color}">'
            "<b>residual</b></font></td>"
            '<td align="left">residual block: its shortcut runs inside it</td></tr>'
        )
    if any(_count_attr(n, "bottlenecks") for n in nodes):
        # a collapsed block says "bottleneck inside" in italics: the legend says what that is
        rows.append(
            f'<tr><td width="36" height="12"><font point-size="9" color="{theme.bottleneck}">'
            "<i>inside</i></font></td>"
            '<td align="left">block with a bottleneck (a narrowing waist) among its layers</td></tr>'
        )
    if any(_count_attr(n, "dense") for n in nodes):
        rows.append(
            f'<tr><td width="36" height="12"><font point-size="9" color="{skip_color}">'
            "<b>dense</b></font></td>"
            '<td align="left">densely connected: each layer inside reads every one before it</td></tr>'
        )
    if not rows:
        return []
    table = (
        '<table border="1" cellborder="0" cellspacing="3" cellpadding="2" style="rounded"'
        f' color="{theme.cluster}">' + "".join(rows) + "</table>"
    )
    legend = 'legend [id="legend" class="legend" shape=plaintext fontsize=9 margin=0'
    return [f"  {legend} label=<{_finished(table)}>]"]


def _fan_in(graph: Graph) -> dict[str, Size]:
    """The summed width (last axis) of each node's data inputs, where every one is known.

    Symbolic where the spec is (``X+H``, not its example value 384).
    """
    shapes = {n.id: n.shape for n in graph.nodes}
    widths: dict[str, Size] = {}
    unknown: set[str] = set()
    for e in graph.edges:
        # Unrolled, a state from the step before that the spec reads through a state input (a
        # data edge, rolled) is read like any input.
        carried = e.kind is EdgeKind.RECURRENT and e.declared is EdgeKind.DATA
        plain = e.kind in (EdgeKind.DATA, EdgeKind.SKIP, EdgeKind.UNDIRECTED) and not e.delay
        if e.initial or not (plain or carried):
            continue
        shape = shapes[e.src]
        if not shape:
            unknown.add(e.dst)
            continue
        try:
            widths[e.dst] = sizes.add(widths.get(e.dst, 0), shape[-1])
        except sizes.SizeError:
            unknown.add(e.dst)
    return {k: v for k, v in widths.items() if k not in unknown}


def _cluster_label(cluster: Cluster, theme: Theme, shown: int = 0) -> str:
    """The HTML label of a cluster: its name and "×N" on a folded repeat.

    ``shown`` is how many of a repeat's copies are drawn in it: when all are, there is no "×N"
    to say (the copies are there to count, each titled "k/N"). A fold's shapes in and out
    (``Cluster.detail``) are not drawn here: they are on the edges into and out of it, and a
    line of them under the title would be struck through by the edge coming in.
    """
    label = written(cluster.label)
    if cluster.repeat_count > 1 and cluster.repeat_index == 0 and shown < cluster.repeat_count:
        badge = f"×{cluster.repeat_count}" + (" shared weights" if cluster.shared else "")
        label += f"  <b>{escape_html(badge)}</b>"
    return label


def to_dot(graph: Graph, theme: str | None = None, rankdir: str | None = None) -> str:
    """The DOT text of an analysed graph (see :func:`archdraw.passes.analyze`)."""
    if not graph.expanded:
        raise ValueError("to_dot needs an analysed graph: run archdraw.analyze() first")
    th = THEMES[theme or graph.style.theme]
    direction = rankdir or graph.style.rankdir
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes, 1)}
    title = f"<b>{written(graph.name)}</b>" if graph.name else ""
    if graph.summary:
        # Wrapped, so that a long summary does not make the canvas wider than the diagram.
        lines = "<br/>".join(written(line) for line in textwrap.wrap(graph.summary, SUMMARY_WIDTH))
        title += f'<br/><font point-size="10" color="{th.muted}">{lines}</font>'
    if graph.totals is not None:
        total, fixed, macs = graph.totals.params, graph.totals.fixed, graph.totals.macs
        facts = f"{total:,} parameters" + (f" ({count(total)})" if total >= 1000 else "")
        if fixed:
            facts += f", {fixed:,} of them fixed"
        if graph.totals.statistics:
            facts += f", {graph.totals.statistics:,} of them moving statistics"
        facts += f" · {count(macs)}MACs" if macs >= 1000 else f" · {macs} MACs"
        title += f'<br/><font point-size="10" color="{th.muted}">{escape_html(facts)}</font>'
    graph_attrs = {
        "rankdir": direction,
        "bgcolor": th.background,
        "fontname": th.font,
        "fontcolor": th.text,
        "labelloc": "t",
        "nodesep": "0.35",
        "ranksep": "0.45",
        "newrank": "true",
        "id": "archdraw",
        "class": "archdraw",
    }
    node_attrs = {
        "fontname": th.font,
        "fontsize": "11",
        "fontcolor": th.text,
        "margin": "0.12,0.06",
        "penwidth": "1.2",
    }
    out = [
        "digraph archdraw {",
        f"  graph{_attrs(graph_attrs, title or None)}",
        f"  node{_attrs(node_attrs)}",
        f"  edge{_attrs({'fontname': th.font, 'fontsize': '9', 'arrowsize': '0.7', 'color': th.edge})}",
    ]
    sources = {e.src for e in graph.edges if e.kind in (EdgeKind.DATA, EdgeKind.SKIP) and e.delay == 0}
    fan_in = _fan_in(graph)
    first_copy: dict[str, str] = {}
    for n in graph.nodes:
        if n.step:
            first_copy.setdefault(n.origin, n.id)
    again = {n.id for n in graph.nodes if n.step and first_copy[n.origin] != n.id}
    linked = {e.dst for e in graph.edges if e.kind is EdgeKind.UNDIRECTED}
    children: dict[str, list[Cluster]] = {}
    for c in graph.clusters:
        children.setdefault(c.parent, []).append(c)
    members: dict[str, list[Node]] = {}
    for n in graph.nodes:
        members.setdefault(n.cluster, []).append(n)
    counter = iter(range(1, len(graph.clusters) + 1))
    # How many copies of each repeat are drawn: its repetitions' clusters, or its layer's copies.
    copies_shown: dict[str, int] = {}
    held = [(c.id, c.parent) for c in graph.clusters] + [(n.id, n.cluster) for n in graph.nodes]
    for item, owner in held:
        head, _, index = item.rpartition(".")
        if head == owner and index.isdigit():
            copies_shown[owner] = copies_shown.get(owner, 0) + 1

    def emit(cluster_id: str, indent: str) -> None:
        for n in members.get(cluster_id, ()):
            attrs, html = _node_style(
                n, th, fan_in.get(n.id), n.id not in sources, n.id in again, n.id in linked
            )
            classes = [
                "layer",
                f"op-{n.op}",
                f"family-{n.family.value}",
                *(f"role-{r.value}" for r in n.roles),
            ]
            if not n.trainable:
                classes.append("fixed")
            attrs.update(
                id=f"layer-{n.id}",
                tooltip=n.id if not n.note else f"{n.id}: {n.note}",
                **{"class": " ".join(classes)},
            )
            out.append(f"{indent}{ids[n.id]}{_attrs(attrs, html)}")
        for c in children.get(cluster_id, ()):
            out.append(f"{indent}subgraph cluster_{next(counter)} {{")
            attrs = {
                "id": f"cluster-{c.id}",
                "class": "block"
                + (f" block-{_css(c.block)}" if c.block else "")
                + (" repeat" if c.repeat_count > 1 else ""),
                "style": "rounded,dashed" if c.repeat_index >= 1 and c.repeat_count > 1 else "rounded,filled",
                "color": th.cluster,
                "fillcolor": th.cluster_fill,
                "fontsize": "11",
                "fontcolor": th.muted,
                "labeljust": "l",
                "tooltip": c.note or c.label,
                "margin": "10",
            }
            out.append(f"{indent}  graph{_attrs(attrs, _cluster_label(c, th, copies_shown.get(c.id, 0)))}")
            emit(c.id, indent + "  ")
            out.append(f"{indent}}}")

    emit("", "  ")
    out.extend(_step_lines(graph, ids))
    rising, turn = _rising(graph)
    out.extend(_level_lines(graph, ids, rising))
    out.extend(_edge_lines(graph, ids, th, rising, turn))
    out.extend(_legend(graph, th))
    out.append("}")
    return "\n".join(out) + "\n"
