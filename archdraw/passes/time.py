"""Which nodes run at every time step, and in which sequence; which run once.

A spec says what recurs in two ways, and a model may use both:

- *a cell written one step at a time*: a state input fed back from a later layer (``from:``,
  a delay in time), or a delayed edge. The layers on that cycle run at every step, and so does
  everything they feed and every input they read, unless it is declared ``once: true``; what
  is computed from once-only inputs alone (a captioning model's CNN) runs once.
- *a recurrent layer over a sequence* (``lstm`` over ``[N, T, F]``): the layers whose tensors
  carry that time axis run at every step of it (an embedding before, a per-frame classifier
  after); what the sequence is reduced to (a final state, a loss over the sequence) runs once.
  A recurrent layer fed one step at a time (``[N, 1, F]``) is a cell.

Cells connected by data run on one time line (one stack, unrolled together). Two time lines
are one only through ``initial:`` (an encoder's final state starting a decoder) or attention
over a sequence: an encoder and its decoder each unroll along their own steps.

Checks: a layer on a recurrence cannot be ``once``; a condition on the step (``when: step ==
1``) belongs to a layer that runs at every step; an initial state from another layer must be
as wide as the state it starts.
"""

from __future__ import annotations

from dataclasses import replace

from .. import sizes
from ..ir import Diagnostic, Edge, EdgeKind, Graph, Loop, Node, OpFamily, Role, Size, Sym, format_shape
from ..ops import OPS
from .structure import forward_edges, topological_order

__all__ = ["mark_time", "size_key", "time_axis"]


def time_axis(node: Node) -> int:
    """The axis a recurrent layer's sequence runs along: 1, or 0 when not ``batch_first``."""
    return 1 if node.attr("batch_first") is not False else 0


def size_key(size: Size) -> str:
    """A size as a loop's time length is told apart by: its text (``T``), or its number."""
    return size.text if isinstance(size, Sym) else str(size)


def _has_time(node: Node, length: Size) -> bool:
    """Whether ``node``'s tensor carries a time axis this long (axis 1, as batch-first layers read)."""
    if node.shape is None or len(node.shape) < 2:
        return False
    return size_key(node.shape[1]) == size_key(length)


class _Sets:
    """Union-find over node ids, each set remembering the first member (in spec order)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def mark_time(graph: Graph) -> Graph:
    """Give every node its time loop (``Node.loop``, "" for once) and the graph its loops."""
    time_edges = [e for e in graph.edges if e.kind is EdgeKind.RECURRENT and e.axis == "time"]
    nodes = {n.id: n for n in graph.nodes}
    index = {n.id: i for i, n in enumerate(graph.nodes)}
    if not time_edges:
        return _checked(graph, nodes, set())
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for e in forward_edges(graph):
        succ[e.src].append(e.dst)
        pred[e.dst].append(e.src)
    order = topological_order(graph)

    def sequence_of(node: Node) -> Size | None:
        """The time length a recurrent layer runs over, if it reads a sequence (not one step)."""
        if node.family is not OpFamily.RECURRENT or not pred[node.id]:
            return None
        shape = nodes[pred[node.id][0]].shape
        if shape is None or len(shape) != 3:
            return None
        length = shape[time_axis(node)]
        return None if length == 1 else length

    # Cells: every node on a cycle a delay in time closes, one set per connected cycle.
    cells = _Sets()
    on_cycle: set[str] = set()
    sequences: dict[str, Size] = {}  # recurrent layers over a sequence: node → time length
    for e in time_edges:
        if e.src == e.dst and (length := sequence_of(nodes[e.src])) is not None:
            sequences[e.src] = length
            continue
        ahead = _reach(e.dst, succ)
        behind = _reach(e.src, pred)
        members = (ahead & behind) | {e.src, e.dst}
        on_cycle |= members
        for m in members:
            cells.union(m, e.src)

    # Forward, in order: a node joins the cell time line of any input (joining them into one),
    # else the sequence of a recurrent layer, else the sequence of an input whose time axis it
    # keeps; a node declared once, or fed by nothing that recurs, runs once.
    cell_of: dict[str, str] = {n: cells.find(n) for n in on_cycle}
    seq_of: dict[str, str] = {}  # node → key of its sequence's time length
    lengths: dict[str, Size] = {}

    def assign() -> None:
        for node_id in order:
            node = nodes[node_id]
            if node_id in on_cycle:
                for p in pred[node_id]:
                    if p in cell_of and not nodes[p].once:
                        cells.union(p, node_id)
                continue
            if node.once:
                continue
            fed = [p for p in pred[node_id] if p in cell_of]
            if fed:
                for p in (*fed, node_id):
                    cells.union(p, fed[0])
                cell_of[node_id] = fed[0]
                seq_of.pop(node_id, None)
                continue
            if node_id in sequences:
                key = size_key(sequences[node_id])
                lengths.setdefault(key, sequences[node_id])
                seq_of[node_id] = key
                continue
            for p in pred[node_id]:
                before = seq_of.get(p)
                if before is not None and _has_time(node, lengths[before]):
                    seq_of[node_id] = before
                    break

    assign()
    # Backward: what a sequence's first recurrent layer reads, as long as it keeps the time
    # axis (the tokens, their embedding), runs at every step; a join that stacks parts without
    # that axis into a sequence (crmn's stage outputs) runs once, and so does what it reads.
    frontier = list(seq_of)
    while frontier:
        node_id = frontier.pop()
        key = seq_of[node_id]
        probe = lengths[key]
        for p in pred[node_id]:
            before = nodes[p]
            if p in seq_of or p in cell_of or before.once or not _has_time(before, probe):
                continue
            if (
                before.op in OPS
                and OPS[before.op].joins
                and not all(_has_time(nodes[q], probe) for q in pred[p])
            ):
                continue
            seq_of[p] = key
            frontier.append(p)
    # Inputs a cell reads (directly or through layers) are given at every step unless declared
    # once, and noise is drawn at every step; what is computed from them then runs at every
    # step too. A state along another axis (Grid LSTM's depth) is carried within each step.
    # Other layers that read nothing (learned tensors) are the same at every step: once.
    inputs = [
        n.id
        for n in graph.nodes
        if (n.op == "input" or n.family is OpFamily.SAMPLING)
        and not pred[n.id]
        and not n.once
        and n.id not in cell_of
    ]
    fed_cells = False
    for node_id in inputs:
        reached = _reach(node_id, succ)
        found = sorted((index[r], r) for r in reached if r in cell_of)
        if found and node_id not in seq_of:
            cell_of[node_id] = found[0][1]
            fed_cells = True
    if fed_cells:
        assign()

    # One loop per time line, in spec order of the layer it is aligned on.
    groups: dict[str, list[str]] = {}
    for node_id in cell_of:
        groups.setdefault(cells.find(node_id), []).append(node_id)
    for node_id, key in seq_of.items():
        groups.setdefault(f"\0{key}", []).append(node_id)
    spines: list[tuple[int, str, list[str], Size | None]] = []
    for key, grouped in groups.items():
        ordered = sorted(grouped, key=index.__getitem__)
        recurrent = [m for m in ordered if nodes[m].family is OpFamily.RECURRENT]
        fed_back = [e.src for e in time_edges if e.src in grouped]
        spine = (recurrent or fed_back or ordered)[0]
        spines.append((index[spine], spine, ordered, lengths[key[1:]] if key.startswith("\0") else None))
    spines.sort()
    loops: list[Loop] = []
    loop_of: dict[str, str] = {}
    for _, spine, ordered, length in spines:
        loop = Loop(spine, _loop_label(nodes[spine], len(spines)), spine, length)
        loops.append(loop)
        for m in ordered:
            loop_of[m] = loop.id
    graph = replace(
        graph,
        nodes=tuple(replace(n, loop=loop_of[n.id]) if n.id in loop_of else n for n in graph.nodes),
        loops=tuple(loops),
    )
    return _checked(graph, {n.id: n for n in graph.nodes}, on_cycle)


def _loop_label(spine: Node, count: int) -> str:
    """What a loop's steps are called: "" when it is the only one, else its group or layer."""
    if count == 1:
        return ""
    return spine.group or spine.label or spine.id


def _reach(start: str, step: dict[str, list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for m in step[stack.pop()]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return seen


def _checked(graph: Graph, nodes: dict[str, Node], on_cycle: set[str]) -> Graph:
    """The graph with the time declarations that cannot hold reported."""
    diagnostics: list[Diagnostic] = []
    for n in graph.nodes:
        if n.once and n.id in on_cycle:
            diagnostics.append(
                Diagnostic(
                    n.span,
                    f"'{n.id}' is on a recurrence (its value is carried to the next step), so it runs "
                    "at every step; remove 'once: true'",
                )
            )
        if n.step_when and not n.loop:
            what = "is declared 'once: true'" if n.once else "runs once (nothing it reads recurs in time)"
            diagnostics.append(
                Diagnostic(
                    n.span,
                    f"'{n.id}' has a condition on the time step ('{n.step_when}') but {what}",
                )
            )
    for e in graph.edges:
        if e.initial:
            problem = _initial_problem(e, nodes)
            if problem:
                diagnostics.append(Diagnostic(e.span, problem))
    return replace(graph, diagnostics=(*graph.diagnostics, *diagnostics))


def _initial_problem(edge: Edge, nodes: dict[str, Node]) -> str:
    """Why ``initial: SRC`` cannot start ``dst``'s state, or ""."""
    src, dst = nodes[edge.src], nodes[edge.dst]
    if dst.op == "input" and not dst.has_role(Role.STATE):
        return (
            f"'initial' starts a state; input '{dst.id}' is not one (add 'from:' naming the layer fed back)"
        )
    if src.shape is None or dst.shape is None or not src.shape or not dst.shape:
        return ""
    if dst.family is OpFamily.RECURRENT:
        units = dst.attr("units")
        wide: Size | None = units if isinstance(units, (int, Sym)) and not isinstance(units, bool) else None
    else:
        wide = dst.shape[-1]
    final = src.shape[-1]
    if wide is None or size_key(wide) == size_key(final) or sizes.value(wide) == sizes.value(final):
        return ""
    state = format_shape(dst.shape) if dst.family is not OpFamily.RECURRENT else f"{size_key(wide)} wide"
    return (
        f"'{dst.id}' starts from the final state of '{src.id}', which is {size_key(final)} wide, "
        f"but its state is {state}; make them agree (or add a layer between them)"
    )
