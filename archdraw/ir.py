"""The typed graph IR: spans, closed vocabularies, the unexpanded spec program and the flat graph."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .notation import axis

__all__ = [
    "Attr",
    "AttrValue",
    "BlockDef",
    "Body",
    "Cluster",
    "Diagnostic",
    "Dim",
    "Edge",
    "EdgeKind",
    "Graph",
    "Layer",
    "Loop",
    "Node",
    "OpFamily",
    "Program",
    "Ref",
    "Reference",
    "Role",
    "Severity",
    "Size",
    "Span",
    "Style",
    "Sym",
    "Totals",
    "ViewDefaults",
    "format_shape",
    "printable",
]


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """Where a value stands in a spec: the path as given, 1-based line and column."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


def printable(text: str) -> str:
    r"""``text`` with every character that would act on a terminal escaped (``\x1b``, ``\u202e``).

    Messages quote what a spec (or a file name) holds, and are printed to a terminal.

    >>> print(printable("unknown key 'a\u202eb\x1b[2J'"))
    unknown key 'a\u202eb\x1b[2J'
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class Severity(enum.Enum):
    """How bad a diagnostic is."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One problem in a spec, at a place in it."""

    span: Span
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return printable(f"{self.span}: {self.severity.value}: {self.message}")

    @property
    def is_error(self) -> bool:
        """Whether this is an error rather than a warning."""
        return self.severity is Severity.ERROR


class EdgeKind(enum.Enum):
    """What an edge carries: the closed set the picture and `info --json` speak of."""

    DATA = "data"
    SKIP = "skip"
    RECURRENT = "recurrent"
    GRADIENT = "gradient"
    UNDIRECTED = "undirected"
    TIED = "tied"  # one weight matrix used by two layers (``tied:``); carries no data


class Role(enum.Enum):
    """What a node is for, beyond its op: each role is drawn distinctly."""

    INPUT = "input"
    OUTPUT = "output"
    STATE = "state"
    BOTTLENECK = "bottleneck"
    LOSS = "loss"
    MEMORY = "memory"
    SHORTCUT = "shortcut"  # a layer on a skip connection's branch (a projection shortcut)


class OpFamily(enum.Enum):
    """Op families: nodes are coloured by family."""

    INPUT = "input"
    CONVOLUTION = "convolution"
    POOLING = "pooling"
    DENSE = "dense"
    RECURRENT = "recurrent"
    NORMALIZATION = "normalization"
    ACTIVATION = "activation"
    REGULARIZATION = "regularization"
    MERGE = "merge"
    RESHAPE = "reshape"
    ATTENTION = "attention"
    MEMORY = "memory"
    EMBEDDING = "embedding"
    SAMPLING = "sampling"
    GRADIENT = "gradient"
    LOSS = "loss"
    CUSTOM = "custom"
    BLOCK = "block"  # a whole block drawn as one node by a view


@dataclass(frozen=True, slots=True)
class Sym:
    """A size that stays symbolic in labels (``H``, ``4*H``) with its example value."""

    text: str
    value: int

    def __str__(self) -> str:
        return self.text


Size = int | Sym


def format_shape(shape: Iterable[Size]) -> str:
    """A shape for labels: ``N×64×56×56``, symbolic sizes as written.

    A compound size is parenthesised and written as a reader writes it (see
    :mod:`archdraw.notation`):

    >>> format_shape((Sym("N", 1), 64, 56, 56))
    'N×64×56×56'
    >>> format_shape((Sym("N", 1), Sym("X+H", 24))), format_shape((Sym("N", 1), Sym("H+H", 32)))
    ('N×(X+H)', 'N×2H')
    >>> format_shape(())
    'scalar'
    """
    sizes = tuple(shape)
    alone = len(sizes) == 1
    return "×".join(axis(s.text, alone) if isinstance(s, Sym) else str(s) for s in sizes) or "scalar"


AttrValue = int | float | bool | str | Sym | tuple["AttrValue", ...] | None


@dataclass(frozen=True, slots=True)
class Attr:
    """One op attribute as written (``raw``) and, after expansion, evaluated (``value``)."""

    name: str
    value: AttrValue
    span: Span


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference from a layer to one of its inputs, with the edge's declared properties."""

    target: str
    span: Span
    kind: EdgeKind | None = None
    delay: int = 0
    axis: str = "time"
    label: str = ""


@dataclass(frozen=True, slots=True)
class Dim:
    """A named symbolic dimension with the example size used for arithmetic."""

    name: str
    size: int
    span: Span


@dataclass(frozen=True, slots=True)
class Reference:
    """The paper or page a spec draws."""

    title: str
    url: str
    span: Span


@dataclass(frozen=True, slots=True)
class Style:
    """Drawing defaults a spec may set."""

    rankdir: str = "TB"
    theme: str = "default"
    #: a layer after which the main path is drawn rising back up beside the way down (a U:
    #: U-Net's expansive path), "" for none; with where it is written
    rise: str = ""
    rise_span: Span | None = None


@dataclass(frozen=True, slots=True)
class ViewDefaults:
    """The view a spec asks for unless the command line says otherwise (see archdraw.views)."""

    depth: int | None = None
    expand: tuple[str, ...] = ()
    expand_repeats: bool = False
    unroll: int = 0
    max_nodes: int | None = None
    #: where each of ``expand``'s names was written, so that an unknown one is located
    expand_spans: tuple[Span, ...] = field(default=(), compare=False)
    #: where the ``view:`` section is, if the spec has one
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Body:
    """A list (sequential) or mapping (graph) of layers: the spec's layers, a block's or a group's."""

    layers: tuple[Layer, ...]
    sequential: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Layer:
    """One entry of a body as written: an op, a block call, an inline group or an input.

    ``shape`` is set on inputs only; ``body`` (and ``output``, when not its last layer) on inline
    groups; ``block`` on block calls, whose arguments are in ``attrs``.
    """

    id: str
    span: Span
    op: str | None = None
    block: str | None = None
    body: Body | None = None
    attrs: tuple[Attr, ...] = ()
    refs: tuple[Ref, ...] = ()
    label: str = ""
    note: str = ""
    group: str = ""
    trainable: bool = True
    roles: tuple[Role, ...] = ()
    #: roles the spec switched off on this layer (``bottleneck: false``): never marked
    refused: tuple[Role, ...] = ()
    repeat: int = 1
    repeat_expr: Attr | None = None  # a repeat count written as a size expression
    #: ``repeat:`` is written (even ``repeat: 1``): ``index`` and ``first`` have a meaning
    repeated: bool = False
    when: Attr | None = None  # the layer exists only where this expression is not 0
    shared: bool = False
    #: "dense": each copy reads the concatenation of the repeat's input and all earlier copies
    connect: str = ""
    #: computed once for the whole sequence, not at every time step (``once: true``)
    once: bool = False
    #: a recurrent state's initial value: "zeros", "learned" or the id of the layer whose
    #: final state it is (``initial:``); "" when not declared
    initial: Attr | None = None
    #: the layer whose weight matrix this one uses (``tied:``), as written
    tied: Attr | None = None
    shape: tuple[Attr, ...] | None = None
    output: str = ""
    auto_id: bool = False

    def attr(self, name: str) -> Attr | None:
        """The attribute called ``name``, if written."""
        for a in self.attrs:
            if a.name == name:
                return a
        return None


@dataclass(frozen=True, slots=True)
class BlockDef:
    """A parameterised sub-graph: ``params`` maps names to defaults (None: required)."""

    name: str
    span: Span
    params: tuple[Attr, ...]
    inputs: tuple[str, ...]
    body: Body
    output: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Program:
    """The spec as written, before blocks and repeats are expanded."""

    inputs: tuple[Layer, ...]
    body: Body
    blocks: tuple[BlockDef, ...]
    outputs: tuple[Ref, ...]


@dataclass(frozen=True, slots=True)
class Cluster:
    """A drawn group: a block instance, one repetition of it, an inline group or a ``group:``.

    ``parent`` is the enclosing cluster's id ("" at top level). ``repeat_index`` counts from 1
    and ``repeat_count`` is 1 for clusters that are not repetitions.
    """

    id: str
    label: str
    parent: str
    span: Span
    block: str = ""
    repeat_index: int = 1
    repeat_count: int = 1
    shared: bool = False
    #: a repeat whose copies are densely connected (``connect: dense``): never folded
    dense: bool = False
    note: str = ""
    detail: str = ""  # a view's second line, e.g. the shapes going into and out of a fold
    kind: str = ""  # what a block instance is: the block's label, else its name


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the expanded graph. ``shape``/``params``/``macs`` are None until inferred."""

    id: str
    op: str
    family: OpFamily
    span: Span
    label: str = ""
    note: str = ""
    attrs: tuple[Attr, ...] = ()
    cluster: str = ""
    group: str = ""
    trainable: bool = True
    roles: tuple[Role, ...] = ()
    declared_roles: tuple[Role, ...] = ()
    refused_roles: tuple[Role, ...] = ()
    shape: tuple[Size, ...] | None = None
    params: int | None = None
    macs: int | None = None
    #: of ``params``, the values that are not weights trained by gradient but are counted as
    #: parameters (Keras' batch-norm moving mean and variance)
    statistics: int = 0
    #: declared to run once for the whole sequence (``once: true``)
    once: bool = False
    #: a condition on the time step (``when: step == 1``), kept as written: the layer exists
    #: only at the steps where it holds
    step_when: str = ""
    #: a recurrent state's declared initial value: "zeros" or "learned" ("" when not declared
    #: or when another layer's final state is the initial one, which is an edge)
    initial: str = ""
    #: the time loop the node runs in (see archdraw.passes.time); "" when it runs once
    loop: str = ""
    #: in an unrolled view: the step this copy is drawn at (0: drawn once) and the id of the
    #: node it is a copy of
    step: int = 0
    origin: str = ""
    #: its id was made up by archdraw (``conv2d_1``): drawn by what it is, never by that id
    auto_id: bool = False

    def attr(self, name: str) -> AttrValue:
        """The value of attribute ``name``, or None when absent."""
        for a in self.attrs:
            if a.name == name:
                return a.value
        return None

    def has_role(self, role: Role) -> bool:
        """Whether the node carries ``role``."""
        return role in self.roles


@dataclass(frozen=True, slots=True)
class Edge:
    """A directed edge of the expanded graph; ``declared`` is the kind the spec asked for."""

    src: str
    dst: str
    kind: EdgeKind
    span: Span
    delay: int = 0
    axis: str = "time"
    label: str = ""
    declared: EdgeKind | None = None
    #: a recurrent edge that carries a value from a later step (a bidirectional layer's
    #: backward direction, ``t+1``) rather than an earlier one
    reverse: bool = False
    #: carries the source's final state in as the destination's initial state (``initial:``),
    #: once, before the destination's first step; not an input of its computation
    initial: bool = False


@dataclass(frozen=True, slots=True)
class Totals:
    """Whole-model counts, kept when a view draws only part of the model."""

    params: int
    fixed: int
    macs: int
    #: of ``params``, the moving statistics counted as parameters (see Node.statistics); they
    #: are not trained, like ``fixed`` weights, but they are not fixed either
    statistics: int = 0


@dataclass(frozen=True, slots=True)
class Loop:
    """A run of time steps: the nodes computed at every step of one sequence.

    ``spine`` is the node the steps are aligned on (the recurrent layer); ``time`` the length
    of the sequence a recurrent layer runs over, when its input has a time axis (axis 1), or
    None for a cell written one step at a time.
    """

    id: str
    label: str
    spine: str
    time: Size | None = None


@dataclass(frozen=True, slots=True)
class Graph:
    """A spec's model: metadata, the program as written and, once expanded, nodes and edges."""

    name: str
    path: str
    span: Span
    program: Program
    summary: str = ""
    family: str = ""  # the gallery section a spec belongs in ("convolutional", "recurrent", …)
    reference: Reference | None = None
    dims: tuple[Dim, ...] = ()
    style: Style = field(default_factory=Style)
    view: ViewDefaults = field(default_factory=ViewDefaults)
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    expanded: bool = False
    diagnostics: tuple[Diagnostic, ...] = ()
    totals: Totals | None = None
    steps: int = 0  # time steps drawn by an unrolled view (0: rolled)
    loops: tuple[Loop, ...] = ()  # the time loops found by archdraw.passes.time

    def node(self, node_id: str) -> Node:
        """The node called ``node_id``; KeyError if there is none."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def edges_between(self, src: str, dst: str) -> Iterator[Edge]:
        """Every edge from ``src`` to ``dst``."""
        return (e for e in self.edges if e.src == src and e.dst == dst)

    def cluster(self, cluster_id: str) -> Cluster:
        """The cluster called ``cluster_id``; KeyError if there is none."""
        for c in self.clusters:
            if c.id == cluster_id:
                return c
        raise KeyError(cluster_id)
