"""Run an analysed graph with the NumPy reference ops and check every node's shape against inference."""

from __future__ import annotations

import math

import numpy as np

from . import sizes
from .ir import Diagnostic, EdgeKind, Graph, Node, OpFamily, Role, Severity, Size, Span, Sym
from .ops.reference import AnyArray, run
from .ops.rules import show
from .passes.structure import CARRIES, incoming, topological_order

__all__ = ["MAX_ACTIVATION", "MAX_LIVE", "MAX_MACS", "MAX_STEPS", "MAX_VALUES", "execute"]

# What one 'validate --execute' may cost: a spec past any of these is not run (a warning says
# so). Together they keep a run to seconds and a few hundred MB (benchmarks/worst.py).
MAX_MACS = 2 * 10**10  # multiply-accumulates of the whole graph (BLAS: a few seconds)
MAX_ACTIVATION = 2 * 10**7  # values in the largest node output (160 MB)
MAX_LIVE = 4 * 10**7  # values held at once: the outputs still to be read, and the one computed
MAX_VALUES = 5 * 10**8  # values computed in all, over every node (element-wise work)
MAX_STEPS = 200_000  # time steps a recurrent reference loops over, summed over the layers

# What a reference may raise when an op refuses its inputs.
_FAILURES = (ArithmeticError, LookupError, TypeError, ValueError, MemoryError)


def _values(shape: tuple[Size, ...]) -> tuple[int, ...]:
    return tuple(sizes.value(s) for s in shape)


def _not_run(span: Span, message: str) -> Diagnostic:
    return Diagnostic(span, f"not executed: {message}", Severity.WARNING)


def _budget(graph: Graph) -> Diagnostic | None:
    """A warning when running the graph would take too long or too much memory.

    Such a spec is not wrong, only too large to run here: a warning (which ``--strict`` makes a
    failure), not an error. Live memory is worked out by walking the order the run takes, as
    the run frees each output once its last reader has run.
    """
    macs = sum(n.macs or 0 for n in graph.nodes)
    if macs > MAX_MACS:
        return _not_run(
            graph.span,
            f"the graph needs {macs:.3g} multiply-accumulates, more than the {MAX_MACS:.0e} "
            "'validate --execute' runs; use smaller example sizes for the dims",
        )
    sizes_of = {n.id: math.prod(_values(n.shape or ())) for n in graph.nodes}
    largest = max(graph.nodes, key=lambda n: sizes_of[n.id], default=None)
    if largest is not None and largest.shape is not None and sizes_of[largest.id] > MAX_ACTIVATION:
        return _not_run(
            largest.span,
            f"'{largest.id}' outputs {sizes_of[largest.id]:.3g} values {show(largest.shape)}, more than "
            f"the {MAX_ACTIVATION:.0e} 'validate --execute' holds; use smaller example sizes",
        )
    total = sum(sizes_of.values())
    if total > MAX_VALUES:
        return _not_run(
            graph.span,
            f"the graph computes {total:.3g} values in all, more than the {MAX_VALUES:.0e} "
            "'validate --execute' runs; use smaller example sizes for the dims",
        )
    steps = sum(
        sizes.value(n.shape[1])
        for n in graph.nodes
        if n.family is OpFamily.RECURRENT and n.shape and len(n.shape) > 2
    )
    if steps > MAX_STEPS:
        return _not_run(
            graph.span,
            f"the recurrent layers run {steps:,} time steps in all, more than the {MAX_STEPS:,} "
            "'validate --execute' runs; use a smaller example size for the time dim",
        )
    into = incoming(graph, CARRIES)
    readers = {n.id: 0 for n in graph.nodes}
    for edges in into.values():
        for e in edges:
            readers[e.src] += 1
    live = 0
    for node_id in topological_order(graph, CARRIES):
        held = live + sizes_of[node_id]
        if held > MAX_LIVE:
            node = graph.node(node_id)
            return _not_run(
                node.span,
                f"computing '{node_id}' holds {held:.3g} values at once (the outputs still to be "
                f"read, and its own), more than the {MAX_LIVE:.0e} 'validate --execute' holds; "
                "use smaller example sizes",
            )
        for e in into[node_id]:
            readers[e.src] -= 1
            if not readers[e.src]:
                live -= sizes_of[e.src]  # freed once its last reader has run
        if readers[node_id]:
            live += sizes_of[node_id]  # kept for the nodes still to read it
    return None


def _source(node: Node, consumers: list[Node], rng: np.random.Generator) -> AnyArray:
    """An input's value: zeros for state at step one, token ids for embeddings, else noise."""
    assert node.shape is not None
    shape = _values(node.shape)
    if node.has_role(Role.STATE):
        return np.zeros(shape)
    if consumers and all(c.op == "embedding" for c in consumers):
        vocab = min(sizes.value(v) if isinstance(v := c.attr("vocab"), (int, Sym)) else 1 for c in consumers)
        return rng.integers(0, max(vocab, 1), size=shape)
    return rng.standard_normal(shape)


def execute(graph: Graph, seed: int = 0) -> list[Diagnostic]:
    """Run ``graph`` (analysed) with NumPy and small random weights; shape mismatches are located.

    Every dim takes its example size. Nodes run in topological order of the data, skip and
    undirected edges without a delay; a delayed input is fed zeros of the fed-back shape (step
    one) and state inputs start at zero. A node whose array differs from its inferred shape, or
    whose op fails, gets a diagnostic at its span, and the nodes after it are not run. A graph
    beyond :data:`MAX_MACS` or :data:`MAX_ACTIVATION` is not run: one warning says so.
    """
    unshaped = [n for n in graph.nodes if n.shape is None]
    if unshaped:
        return [
            Diagnostic(unshaped[0].span, f"'{unshaped[0].id}' has no inferred shape; analyse the graph first")
        ]
    refusal = _budget(graph)
    if refusal is not None:
        return [refusal]
    nodes = {n.id: n for n in graph.nodes}
    into = incoming(graph, CARRIES)
    consumers: dict[str, list[Node]] = {n.id: [] for n in graph.nodes}
    for node_id, edges in into.items():
        for e in edges:
            consumers[e.src].append(nodes[node_id])
    delayed_from: dict[str, list[str]] = {}
    for e in graph.edges:
        if e.kind is EdgeKind.RECURRENT:
            delayed_from.setdefault(e.dst, []).append(e.src)
    rng = np.random.default_rng(seed)
    values: dict[str, AnyArray] = {}
    pending = {node_id: len(users) for node_id, users in consumers.items()}
    failed: set[str] = set()
    diagnostics: list[Diagnostic] = []
    for node_id in topological_order(graph, CARRIES):
        node = nodes[node_id]
        assert node.shape is not None
        edges = into[node_id]
        if any(e.src in failed for e in edges):
            failed.add(node_id)
            continue
        if node.op == "input":
            out: AnyArray = _source(node, consumers[node_id], rng)
        else:
            # A recurrent layer op runs its own recurrence; other ops get zeros for step one.
            delayed = (
                []
                if node.family is OpFamily.RECURRENT
                else [np.zeros(_values(nodes[src].shape or ())) for src in delayed_from.get(node_id, [])]
            )
            attrs = {a.name: a.value for a in node.attrs}
            try:
                out = run(node.op, [values[e.src] for e in edges], attrs, rng, delayed)
            except _FAILURES as exc:
                diagnostics.append(
                    Diagnostic(node.span, f"{node.op} '{node_id}' fails when run with NumPy: {exc}")
                )
                failed.add(node_id)
                continue
        for e in edges:
            pending[e.src] -= 1
            if not pending[e.src]:
                del values[e.src]
        expected = _values(node.shape)
        if out.shape != expected:
            given = show(node.shape)
            numbers = "[" + ", ".join(map(str, expected)) + "]"
            diagnostics.append(
                Diagnostic(
                    node.span,
                    f"{node.op} '{node_id}' computes an array of shape [{', '.join(map(str, out.shape))}] "
                    f"when run with NumPy, but its inferred shape is {given}"
                    + (f" = {numbers}" if numbers != given else ""),
                )
            )
            failed.add(node_id)
            continue
        if pending[node_id]:
            values[node_id] = out
    return diagnostics
