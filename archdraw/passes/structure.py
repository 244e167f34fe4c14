"""Mark what a diagram must make visible: recurrence, skip connections and bottlenecks.

- Recurrence: an edge with a delay is recurrent; a recurrent layer op (rnn, lstm, gru) carries
  a delayed self-loop. What is left without delays must be acyclic, and a cycle is an error
  that names it.
- Skips: a data edge into a joining op (add, concat, sub) is a skip when its source also
  reaches the join along a branch of its own: through a node that reads that source alone, as
  the first convolution of a residual block does. Gate wiring inside a cell (where every way
  around passes a node that also reads other state) is not a skip, and ``mul`` gates rather
  than joins. A declared skip needs only to bypass some node, and a warning says when it
  bypasses none. An edge declared ``kind: data`` is left as it is.
- Bottlenecks need shapes (see :func:`mark_bottlenecks`); where shapes are unknown a declared
  bottleneck is kept as declared.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, replace

from ..ir import Diagnostic, Edge, EdgeKind, Graph, Node, OpFamily, Role, Severity, Sym
from ..ops import OPS

__all__ = [
    "MAX_SKIP_SEARCH",
    "forward_edges",
    "mark_bottlenecks",
    "mark_recurrence",
    "mark_shortcuts",
    "mark_skips",
    "topological_order",
    "width",
]

MAX_CYCLES_REPORTED = 10
MAX_SKIP_SEARCH = 2_000_000  # edges followed, in all, looking for skip connections
_FORWARD = (EdgeKind.DATA, EdgeKind.SKIP)
# What carries values a node computes with: data and skip edges, and undirected links (an RBM).
CARRIES = (EdgeKind.DATA, EdgeKind.SKIP, EdgeKind.UNDIRECTED)


def forward_edges(graph: Graph) -> list[Edge]:
    """The edges data flows along within one step: data and skip edges without a delay.

    An initial state brought in from another layer's final state (``initial:``) is not one.
    """
    return [e for e in graph.edges if e.kind in _FORWARD and e.delay == 0 and not e.initial]


def incoming(graph: Graph, kinds: tuple[EdgeKind, ...] = _FORWARD) -> dict[str, list[Edge]]:
    """Each node's undelayed incoming edges of ``kinds``, in edge order."""
    into: dict[str, list[Edge]] = {n.id: [] for n in graph.nodes}
    for e in graph.edges:
        if e.kind in kinds and e.delay == 0 and not e.initial:
            into[e.dst].append(e)
    return into


def topological_order(graph: Graph, kinds: tuple[EdgeKind, ...] = _FORWARD) -> list[str]:
    """Node ids in a topological order of the undelayed edges of ``kinds``, ties in spec order.

    Nodes on a cycle of such edges are left out.
    """
    into = incoming(graph, kinds)
    index = {n.id: i for i, n in enumerate(graph.nodes)}
    succ: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    degree = {n.id: len(into[n.id]) for n in graph.nodes}
    for edges in into.values():
        for e in edges:
            succ[e.src].append(e.dst)
    ready = [(index[n], n) for n, d in degree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n)
        for m in succ[n]:
            degree[m] -= 1
            if degree[m] == 0:
                heapq.heappush(ready, (index[m], m))
    return order


def mark_recurrence(graph: Graph) -> Graph:
    """Make delayed edges recurrent, loop recurrent layer ops, and reject undelayed cycles.

    A recurrent layer op gets a loop carrying its state from step t−1, unless the spec feeds
    its state back itself (a delayed edge to itself or to a state input); a bidirectional one a
    second loop, from step t+1.
    """
    edges: list[Edge] = []
    for e in graph.edges:
        if e.delay > 0 and e.kind is not EdgeKind.RECURRENT:
            e = replace(e, kind=EdgeKind.RECURRENT)
        edges.append(e)
    # A state the spec feeds back itself (a state input fed from the layer) is drawn once: the
    # layer gets no loop of its own beside it.
    states = {n.id for n in graph.nodes if n.has_role(Role.STATE)}
    fed_back = {
        e.src
        for e in edges
        if e.kind is EdgeKind.RECURRENT and not e.reverse and (e.dst == e.src or e.dst in states)
    }
    backward = {e.src for e in edges if e.kind is EdgeKind.RECURRENT and e.reverse}
    for n in graph.nodes:
        if n.family is OpFamily.RECURRENT and n.id not in fed_back:
            edges.append(Edge(n.id, n.id, EdgeKind.RECURRENT, n.span, delay=1))
        if n.family is OpFamily.RECURRENT and n.attr("bidirectional") and n.id not in backward:
            # The backward direction runs from the next step: t+1, drawn beside t−1.
            edges.append(Edge(n.id, n.id, EdgeKind.RECURRENT, n.span, delay=1, reverse=True))
    graph = replace(graph, edges=tuple(edges))
    return replace(graph, diagnostics=(*graph.diagnostics, *_cycles(graph)))


def _cycles(graph: Graph) -> list[Diagnostic]:
    succ: dict[str, list[Edge]] = {n.id: [] for n in graph.nodes}
    for e in forward_edges(graph):
        succ[e.src].append(e)
    state = dict.fromkeys(succ, 0)  # 0 new, 1 on the stack, 2 done
    found: list[Diagnostic] = []
    seen: set[frozenset[str]] = set()
    for start in succ:
        if state[start]:
            continue
        path: list[str] = [start]
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, i = stack[-1]
            if i < len(succ[node]):
                stack[-1] = (node, i + 1)
                edge = succ[node][i]
                nxt = edge.dst
                if state[nxt] == 0:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, 0))
                elif state[nxt] == 1:
                    cycle = path[path.index(nxt) :]
                    key = frozenset(cycle)
                    if key not in seen and len(found) < MAX_CYCLES_REPORTED:
                        seen.add(key)
                        names = " → ".join([*cycle, nxt])
                        found.append(
                            Diagnostic(
                                edge.span,
                                f"cycle with no delay: {names}; give the edge that carries state "
                                "to the next step 'delay: 1'",
                            )
                        )
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return found


def mark_skips(graph: Graph) -> Graph:
    """Mark edges that bypass at least one node into a join as skips; verify declared ones."""
    order = topological_order(graph)
    rank = {n: i for i, n in enumerate(order)}
    nodes = {n.id: n for n in graph.nodes}
    succ: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    pred: dict[str, set[str]] = {n.id: set() for n in graph.nodes}
    for e in forward_edges(graph):
        succ[e.src].append(e.dst)
        pred[e.dst].add(e.src)
    diagnostics: list[Diagnostic] = []
    edges: list[Edge] = []
    budget, warned = [MAX_SKIP_SEARCH], False
    for e in graph.edges:
        candidate = e.kind in _FORWARD and e.delay == 0 and e.declared is not EdgeKind.DATA
        joins = e.dst in nodes and nodes[e.dst].op in OPS and OPS[nodes[e.dst].op].joins
        if candidate and (joins or e.declared is EdgeKind.SKIP):
            declared = e.declared is EdgeKind.SKIP
            bypasses = _reaches_around(e, succ, pred, rank, branch=not declared, budget=budget)
            if bypasses is None:  # out of budget: left as written
                if not warned:
                    warned = True
                    diagnostics.append(
                        Diagnostic(
                            e.span,
                            f"the graph is too large to search for skip connections past here "
                            f"(more than {MAX_SKIP_SEARCH:,} steps); undeclared skips from here on "
                            "are drawn as data edges (declare them with 'kind: skip')",
                            Severity.WARNING,
                        )
                    )
            elif bypasses:
                e = replace(e, kind=EdgeKind.SKIP)
            elif e.declared is EdgeKind.SKIP:
                diagnostics.append(
                    Diagnostic(
                        e.span,
                        f"declared skip from '{e.src}' to '{e.dst}' bypasses no layer; "
                        "it is drawn as a data edge",
                        Severity.WARNING,
                    )
                )
                e = replace(e, kind=EdgeKind.DATA)
        edges.append(e)
    return replace(graph, edges=tuple(edges), diagnostics=(*graph.diagnostics, *diagnostics))


def mark_shortcuts(graph: Graph) -> Graph:
    """Make the shortcut branches with layers on them skips, edges and layers alike.

    Runs after shape inference: a shortcut joins values with as many axes as the join's (see
    :func:`_shortcuts`).
    """
    order = topological_order(graph)
    rank = {n: i for i, n in enumerate(order)}
    succ: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for e in forward_edges(graph):
        succ[e.src].append(e.dst)
    edges, on_shortcut = _shortcuts(graph, list(graph.edges), succ, rank, [MAX_SKIP_SEARCH])
    nodes = tuple(
        replace(n, roles=(*n.roles, Role.SHORTCUT))
        if n.id in on_shortcut and not n.has_role(Role.SHORTCUT)
        else n
        for n in graph.nodes
    )
    return replace(graph, nodes=nodes, edges=tuple(edges))


MAX_SHORTCUT = 3  # layers on a shortcut branch (a projection: a 1×1 convolution and a norm)
_RESIDUAL_JOINS = frozenset({"add", "sub"})


def _shortcuts(
    graph: Graph, edges: list[Edge], succ: dict[str, list[str]], rank: dict[str, int], budget: list[int]
) -> tuple[list[Edge], set[str]]:
    """Shortcut branches with layers on them: a projection into a residual sum, an FCN fusion.

    An input of an add or sub that is the end of a short chain of projections (each reading
    one value, read by the next alone: a 1×1 convolution, a linear layer without activation, a
    norm, a pool), which starts at a node that also reaches the join along a longer way and has
    as many axes as the join, is a shortcut: every edge along the chain becomes a skip, and the
    chain's layers are marked as lying on it. Branches joined by a concat (an inception module)
    are parallel paths, not shortcuts, except a copy cut to size (U-Net's "copy and crop": a
    chain of crops into a concat); a sum of losses is no residual sum.
    """
    nodes = {n.id: n for n in graph.nodes}
    into: dict[str, list[int]] = {n.id: [] for n in graph.nodes}
    for i, e in enumerate(edges):
        if e.kind in _FORWARD and e.delay == 0:
            into[e.dst].append(i)
    marked: set[int] = set()
    on_path: set[str] = set()
    for join in graph.nodes:
        if join.op in _RESIDUAL_JOINS:
            on_shortcut = _projection
        elif join.op == "concat":
            on_shortcut = _copied
        else:
            continue
        if len(into[join.id]) < 2 or join.has_role(Role.LOSS):
            continue
        for i in into[join.id]:
            e = edges[i]
            if e.kind is EdgeKind.SKIP or e.declared is EdgeKind.DATA:
                continue
            chain: list[int] = [i]  # the chain's edges, from the join backwards
            node = e.src
            for _ in range(MAX_SHORTCUT):
                ins = into.get(node, [])
                if not on_shortcut(nodes[node]) or len(ins) != 1 or len(succ[node]) != 1:
                    break
                chain.append(ins[0])
                fork = edges[ins[0]].src
                if nodes[fork].shape is None or len(nodes[fork].shape or ()) != len(join.shape or ()):
                    break
                layers = [edges[k].src for k in chain[:-1]]
                longer = _other_way(fork, join.id, layers[-1], len(layers), succ, rank, budget)
                if longer:
                    marked.update(chain)
                    on_path.update(layers)
                    break
                node = fork
    out = [
        replace(e, kind=EdgeKind.SKIP) if i in marked and e.declared is not EdgeKind.DATA else e
        for i, e in enumerate(edges)
    ]
    return out, on_path


def _copied(node: Node) -> bool:
    """Whether a layer may sit on a shortcut into a concat: a crop, which only cuts a copy."""
    return node.op == "crop"


def _projection(node: Node) -> bool:
    """Whether a layer may sit on a shortcut: it reprojects or rescales, with no nonlinearity."""
    if node.family in (OpFamily.NORMALIZATION, OpFamily.POOLING):
        return True
    act = node.attr("act")
    if act not in (None, "none", "linear"):
        return False
    if node.family is OpFamily.DENSE:
        return True
    kernel = node.attr("kernel")
    sizes = kernel if isinstance(kernel, tuple) else (kernel,)
    return node.family is OpFamily.CONVOLUTION and all(k == 1 for k in sizes)


def _other_way(
    fork: str,
    join: str,
    first: str,
    length: int,
    succ: dict[str, list[str]],
    rank: dict[str, int],
    budget: list[int],
) -> bool:
    """Whether ``fork`` reaches ``join`` other than through ``first``, past more than ``length`` layers."""
    if fork not in rank or join not in rank:
        return False
    limit = rank[join]
    depth = {m: 1 for m in succ[fork] if m not in (first, join) and rank.get(m, limit) < limit}
    queue = deque(depth)
    while queue:
        n = queue.popleft()
        budget[0] -= len(succ[n])
        if budget[0] <= 0:
            budget[0] = 0
            return False
        for m in succ[n]:
            if m == join:
                if depth[n] > length:
                    return True
            elif m not in depth and rank.get(m, limit) < limit:
                depth[m] = depth[n] + 1
                queue.append(m)
    return False


def _reaches_around(
    edge: Edge,
    succ: dict[str, list[str]],
    pred: dict[str, set[str]],
    rank: dict[str, int],
    branch: bool,
    budget: list[int],
) -> bool | None:
    """Whether ``edge.src`` reaches ``edge.dst`` through another node (forward edges only).

    With ``branch``, the way around must start at a node that reads ``edge.src`` alone: a
    branch of its own, as in a residual block, rather than a gate that also reads other state.
    Each edge followed spends one step of ``budget[0]``, shared by every search of a graph (one
    search is linear, but one per join is quadratic); None when the budget is spent.
    """
    if edge.src not in rank or edge.dst not in rank:
        return False
    if budget[0] <= 0:
        return None
    budget[0] -= len(succ[edge.src])
    if budget[0] <= 0:
        budget[0] = 0
        return None
    limit = rank[edge.dst]
    alone = {edge.src}
    queue = deque(n for n in succ[edge.src] if n != edge.dst and (not branch or pred[n] == alone))
    seen = set(queue)
    while queue:
        n = queue.popleft()
        budget[0] -= len(succ[n])
        if budget[0] <= 0:
            budget[0] = 0
            return None
        for m in succ[n]:
            if m == edge.dst:
                return True
            if m not in seen and rank.get(m, limit) < limit:
                seen.add(m)
                queue.append(m)
    return False


# Ops that read the last axis as features: a 3-axis tensor after them is a sequence [N, T, F].
_SEQUENCE_OPS = frozenset({"dense", "rnn", "lstm", "gru", "attention", "embedding", "layernorm"})


def _layouts(graph: Graph) -> dict[str, bool]:
    """Whether each node's output is channels-first: feature maps, and [N, C, L] after 1-D ops."""
    preds: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for e in forward_edges(graph):
        preds[e.dst].append(e.src)
    nodes = {n.id: n for n in graph.nodes}
    layout: dict[str, bool] = {}
    for node_id in topological_order(graph):
        n = nodes[node_id]
        rank = len(n.shape) if n.shape is not None else 0
        if rank != 3:
            layout[node_id] = rank >= 4
        elif n.op.endswith("1d") or n.op == "batchnorm":
            layout[node_id] = True
        else:
            inherited = any(layout.get(p, False) for p in preds[node_id])
            layout[node_id] = inherited and n.op not in _SEQUENCE_OPS
    return layout


def width(node: Node, channels_first: bool) -> int | None:
    """A node's feature width: its channels (axis 1) when channels-first, else its last axis."""
    shape = node.shape
    if shape is None or len(shape) < 2:
        return None
    axis = shape[1] if channels_first else shape[-1]
    return axis.value if isinstance(axis, Sym) else axis


BOTTLENECK_RATIO = 2  # a waist is at least this many times narrower than the layers beside it
_SOFTMAX = frozenset({"softmax", "log_softmax"})
MAX_BOTTLENECK_HOPS = 16
MAX_BOTTLENECK_EDGES = 256  # edges one walk looks at: fan-out cannot make the pass quadratic


def mark_bottlenecks(graph: Graph) -> Graph:
    """Mark each narrow waist between wider sides once; check declared bottlenecks.

    A waist is a run of layers of one width ``w`` (a plateau is one waist, not many) such that,
    along some path on each side, the nearest layer of another width is at least
    :data:`BOTTLENECK_RATIO` times wider, and the network widens again towards what it narrowed
    from (the wider side after is at least 1/BOTTLENECK_RATIO of the side before): an
    autoencoder's code, a VAE's z, a ResNet bottleneck block's reduced middle (256 → 64 → 256).
    Like is compared with like: channels of feature maps with channels, units of vectors with
    units; a flatten, a reshape or a global pool changes the measure and ends the walk. Going
    forwards, the wider side must be inside the network: a join (add, concat) is not a widening
    of the waist's own values, and an output, a loss, a softmax or a layer only a softmax or a
    loss reads (a classifier, a vocabulary projection) is not a decoder side. The wider sides
    are on the main path, which the values pass through: a wider layer on a branch that is
    summed back (add, sub) into a value of the waist's width that goes around it is an
    expansion of a residual stream, not a side of a waist (a Transformer's feed-forward layers,
    pre-norm or post-norm; an inverted residual or ConvNeXt block), and the walk goes on along
    the stream, through the sums of its own width: the stream is the network's width, and only
    a narrowing of the stream itself between wider layers on the main path is a waist (a
    MobileNetV2 stage's linear bottleneck, between its first block's expansion and the next
    stage's). A ResNet bottleneck block's expansion is a side: what goes around it, the block's
    input, is wider than its middle. When in doubt, nothing is marked.

    One waist gets one mark: the layer every path through the run passes (the others sit on
    branches of it), and of those the one with the most weights; a sampling layer (a VAE's z)
    first. A layer declared a bottleneck (``bottleneck: true`` or ``role: bottleneck``) takes
    its waist's mark, and gets a warning if it is no waist; ``bottleneck: false`` on any layer
    of a run leaves that waist unmarked.
    """
    layout = _layouts(graph)
    nodes = {n.id: n for n in graph.nodes}
    widths = {n.id: width(n, layout.get(n.id, False)) for n in graph.nodes}
    measure = {n.id: _measure(n, layout.get(n.id, False)) for n in graph.nodes}
    joins = frozenset(n.id for n in graph.nodes if n.op in OPS and OPS[n.op].joins)
    ends = frozenset(n.id for n in graph.nodes if n.has_role(Role.OUTPUT) or n.has_role(Role.LOSS))
    succ: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    pred: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for e in forward_edges(graph):
        succ[e.src].append(e.dst)
        pred[e.dst].append(e.src)
    # A flatten or a reshape counts values, not learned features: no side of a waist.
    reshapes = frozenset(n.id for n in graph.nodes if n.family is OpFamily.RESHAPE)
    # A classifier or a vocabulary projection: a softmax, or a layer read only by one or a loss.
    softmax = {n.id for n in graph.nodes if n.op in _SOFTMAX or n.attr("act") in _SOFTMAX}
    heads = frozenset(
        softmax
        | {m for m in nodes if succ[m] and all(r in softmax or nodes[r].has_role(Role.LOSS) for r in succ[m])}
    )
    residual = frozenset(n.id for n in graph.nodes if n.op in _RESIDUAL_JOINS and not n.has_role(Role.LOSS))
    walk = _Walk(widths, measure, joins, ends, reshapes, heads, residual, succ, pred)
    waist = set()
    for n in graph.nodes:
        if widths[n.id] is None or n.family is OpFamily.INPUT or n.id in ends:
            continue
        before = walk.wider(n.id, pred, forward=False)
        after = walk.wider(n.id, succ, forward=True) if before else 0
        # The network widens again after the waist, towards what it narrowed from: an embedding
        # of wide features into a recurrent layer (4096 → 500 → 1000) is no waist.
        if before and after and BOTTLENECK_RATIO * after >= before:
            waist.add(n.id)
    marked = set()
    for run in _runs(graph, waist, widths, succ):
        if any(Role.BOTTLENECK in nodes[m].refused_roles for m in run):
            continue  # switched off in the spec
        chosen = [m for m in run if Role.BOTTLENECK in nodes[m].declared_roles]
        marked.update(chosen or [_waist_mark(run, nodes, succ)])
    diagnostics: list[Diagnostic] = []
    out: list[Node] = []
    for n in graph.nodes:
        roles: tuple[Role, ...] = tuple(r for r in n.roles if r is not Role.BOTTLENECK)
        declared = Role.BOTTLENECK in n.declared_roles
        if n.id in marked or (declared and widths[n.id] is None):
            roles = (*roles, Role.BOTTLENECK)
        elif declared:
            diagnostics.append(
                Diagnostic(
                    n.span,
                    f"'{n.id}' is declared a bottleneck, but it is no narrow waist: the layers on "
                    f"both sides of it are not at least {BOTTLENECK_RATIO}× wider than its "
                    f"{widths[n.id]} features",
                )
            )
        out.append(replace(n, roles=roles) if roles != n.roles else n)
    return replace(graph, nodes=tuple(out), diagnostics=(*graph.diagnostics, *diagnostics))


def _measure(node: Node, channels_first: bool) -> str:
    """What a width counts: channels of feature maps, or features of vectors and sequences."""
    shape = node.shape or ()
    return "channels" if channels_first and len(shape) >= 3 else "features"


@dataclass(frozen=True)
class _Walk:
    """The walks from a layer to the nearest layer of another width, on either side."""

    widths: dict[str, int | None]
    measure: dict[str, str]
    joins: frozenset[str]
    ends: frozenset[str]
    reshapes: frozenset[str]
    heads: frozenset[str]
    residual: frozenset[str]  # add and sub: where a branch is summed back into a stream
    succ: dict[str, list[str]]
    pred: dict[str, list[str]]

    def wider(self, start: str, step: dict[str, list[str]], forward: bool) -> int:
        """The widest layer, at least BOTTLENECK_RATIO× wider, that a path from ``start`` meets first.

        0 when no path does.

        The walk goes through layers of ``start``'s own width (a plateau); a path ends at the
        first layer of another width, which counts when wide enough and not a branch of a
        stream of ``start``'s width (see :meth:`expands_stream`), or at a change of measure, a
        reshape, an output or a classifier (uncounted); going forwards, at a join too, but for
        an add or sub of ``start``'s width, which carries the stream on: the walk follows a
        residual stream past the branches summed back into it. At most MAX_BOTTLENECK_HOPS
        steps and MAX_BOTTLENECK_EDGES edges are looked at.
        """
        w = self.widths[start]
        assert w is not None
        kind = self.measure[start]
        seen = {start}
        frontier = [start]
        budget = MAX_BOTTLENECK_EDGES
        found = 0
        for _ in range(MAX_BOTTLENECK_HOPS):
            nxt: list[str] = []
            for n in frontier:
                for m in step[n]:
                    budget -= 1
                    if budget < 0:
                        return found
                    if m in seen:
                        continue
                    seen.add(m)
                    mw = self.widths[m]
                    if mw is None or self.measure[m] != kind or m in self.reshapes or m in self.ends:
                        continue
                    # A sum of the same width carries the stream on (its branches summed back in);
                    # any other join is no widening of these values, a classifier no decoder side.
                    stream = m in self.residual and mw == w
                    if forward and ((m in self.joins and not stream) or m in self.heads):
                        continue
                    if mw == w:
                        nxt.append(m)
                    elif mw >= BOTTLENECK_RATIO * w and mw > found and not self.expands_stream(m, w, kind):
                        found = mw
            if not nxt:
                return found
            frontier = nxt
        return found

    def expands_stream(self, wide: str, w: int, kind: str) -> bool:
        """Whether ``wide`` is on a branch summed back into a ``w``-wide value that goes around it.

        That is a residual stream of width ``w`` with ``wide`` on its branch (a Transformer's
        feed-forward expansion, an inverted residual block): an add or sub of width ``w``,
        reached from ``wide``, that also reads a ``w``-wide value not computed from ``wide``.
        The search follows the branch from ``wide`` to the first such joins, within
        MAX_BOTTLENECK_HOPS steps and MAX_BOTTLENECK_EDGES edges, and the joins it found are
        judged by what it saw: when in doubt, ``wide`` is a branch, and nothing is marked.
        """
        below = {wide}
        frontier = [wide]
        rejoins: list[str] = []
        budget = MAX_BOTTLENECK_EDGES
        for _ in range(MAX_BOTTLENECK_HOPS):
            nxt: list[str] = []
            for m in (m for n in frontier for m in self.succ[n]):
                budget -= 1
                if budget < 0:
                    break
                if m in below:
                    continue
                below.add(m)
                if m in self.residual and self.widths[m] == w and self.measure[m] == kind:
                    rejoins.append(m)  # back on a stream of width w: the branch ends here
                else:
                    nxt.append(m)
            if not nxt or budget < 0:
                break
            frontier = nxt
        return any(
            p not in below and self.widths[p] == w and self.measure[p] == kind
            for j in rejoins
            for p in self.pred[j]
        )


def _runs(
    graph: Graph, waist: set[str], widths: dict[str, int | None], succ: dict[str, list[str]]
) -> list[list[str]]:
    """The waist's layers grouped into runs: connected, of one width, in spec order."""
    parent = {m: m for m in waist}

    def root(m: str) -> str:
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    for m in waist:
        for r in succ[m]:
            if r in waist and widths[r] == widths[m]:
                parent[root(r)] = root(m)
    runs: dict[str, list[str]] = {}
    for n in graph.nodes:
        if n.id in waist:
            runs.setdefault(root(n.id), []).append(n.id)
    return list(runs.values())


def _waist_mark(run: list[str], nodes: dict[str, Node], succ: dict[str, list[str]]) -> str:
    """The one layer of a waist's run that carries its mark (see :func:`mark_bottlenecks`)."""
    members = set(run)
    below: dict[str, set[str]] = {}
    for m in reversed(run):  # spec order is a topological order within a run
        below[m] = set()
        for r in succ[m]:
            if r in members:
                below[m] |= {r} | below.get(r, set())
    above: dict[str, set[str]] = {m: set() for m in run}
    for m, after in below.items():
        for r in after:
            above[r].add(m)
    through = [m for m in run if len(below[m]) + len(above[m]) == len(run) - 1] or run
    return max(
        through,
        key=lambda m: (nodes[m].family is OpFamily.SAMPLING, nodes[m].params or 0, -run.index(m)),
    )
