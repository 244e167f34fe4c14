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
from dataclasses import replace

from ..ir import Diagnostic, Edge, EdgeKind, Graph, Node, OpFamily, Role, Severity, Sym
from ..ops import OPS

__all__ = [
    "MAX_SKIP_SEARCH",
    "forward_edges",
    "mark_bottlenecks",
    "mark_recurrence",
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
    """The edges data flows along within one step: data and skip edges without a delay."""
    return [e for e in graph.edges if e.kind in _FORWARD and e.delay == 0]


def incoming(graph: Graph, kinds: tuple[EdgeKind, ...] = _FORWARD) -> dict[str, list[Edge]]:
    """Each node's undelayed incoming edges of ``kinds``, in edge order."""
    into: dict[str, list[Edge]] = {n.id: [] for n in graph.nodes}
    for e in graph.edges:
        if e.kind in kinds and e.delay == 0:
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
    """Make delayed edges recurrent, loop recurrent layer ops, and reject undelayed cycles."""
    edges: list[Edge] = []
    for e in graph.edges:
        if e.delay > 0 and e.kind is not EdgeKind.RECURRENT:
            e = replace(e, kind=EdgeKind.RECURRENT)
        edges.append(e)
    looped = {e.src for e in edges if e.kind is EdgeKind.RECURRENT and e.src == e.dst}
    for n in graph.nodes:
        if n.family is OpFamily.RECURRENT and n.id not in looped:
            edges.append(Edge(n.id, n.id, EdgeKind.RECURRENT, n.span, delay=1))
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


def mark_bottlenecks(graph: Graph) -> Graph:
    """Mark narrow points between wider sides; check declared bottlenecks where shapes exist.

    A node is a bottleneck when, going backwards and forwards through nodes at least as wide
    as it, both directions reach something wider: the code of an autoencoder, a ResNet block's
    reduced middle, an inception module's 1×1 reductions. A narrowing that never widens again
    (a classifier's head) is not one.
    """
    layout = _layouts(graph)
    widths = {n.id: width(n, layout.get(n.id, False)) for n in graph.nodes}
    # Going forwards, a join that widens (a concat with another branch) is not a decoder side:
    # in a gated cell the gate's output is concatenated with the input again.
    joins = {n.id for n in graph.nodes if n.op in OPS and OPS[n.op].joins}
    succ: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    pred: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    # Nor is the output itself (a projection to a vocabulary, a loss): a decoder side is
    # inside the network.
    ends = {n.id for n in graph.nodes if n.has_role(Role.OUTPUT) or n.has_role(Role.LOSS)}
    succ = {n.id: [] for n in graph.nodes}
    for e in forward_edges(graph):
        succ[e.src].append(e.dst)
        pred[e.dst].append(e.src)
    diagnostics: list[Diagnostic] = []
    nodes: list[Node] = []
    for n in graph.nodes:
        w = widths[n.id]
        narrow = (
            w is not None
            and n.family is not OpFamily.INPUT
            and Role.LOSS not in n.roles
            and _wider(n.id, w, pred, widths, frozenset())
            and _wider(n.id, w, succ, widths, joins, ends)
        )
        roles: tuple[Role, ...] = tuple(r for r in n.roles if r is not Role.BOTTLENECK)
        if narrow or (Role.BOTTLENECK in n.declared_roles and w is None):
            roles = (*roles, Role.BOTTLENECK)
        elif Role.BOTTLENECK in n.declared_roles:
            diagnostics.append(
                Diagnostic(
                    n.span,
                    f"'{n.id}' is declared a bottleneck, but nothing on both sides of it is wider "
                    f"than its {w} features",
                )
            )
        nodes.append(replace(n, roles=roles) if roles != n.roles else n)
    return replace(graph, nodes=tuple(nodes), diagnostics=(*graph.diagnostics, *diagnostics))


MAX_BOTTLENECK_HOPS = 16
MAX_BOTTLENECK_EDGES = 256  # edges one walk looks at: fan-out cannot make the pass quadratic


def _wider(
    start: str,
    w: int,
    step: dict[str, list[str]],
    widths: dict[str, int | None],
    *passing: frozenset[str] | set[str],
) -> bool:
    """Whether walking ``step`` from ``start`` through nodes at least ``w`` wide finds a wider one.

    Nodes in any of the ``passing`` sets are walked through but do not count as wider. A walk
    looks at no more than :data:`MAX_BOTTLENECK_HOPS` steps and :data:`MAX_BOTTLENECK_EDGES`
    edges; past either, nothing wider was found.
    """
    seen = {start}
    frontier = [start]
    budget = MAX_BOTTLENECK_EDGES
    for _ in range(MAX_BOTTLENECK_HOPS):
        nxt: list[str] = []
        for n in frontier:
            for m in step[n]:
                budget -= 1
                if budget < 0:
                    return False
                if m in seen:
                    continue
                seen.add(m)
                mw = widths[m]
                if mw is None or mw < w:
                    continue
                if mw > w and not any(m in p for p in passing):
                    return True
                nxt.append(m)
        if not nxt:
            return False
        frontier = nxt
    return False
