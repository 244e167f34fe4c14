"""The drawn view as data: what ``render -f json`` writes (see ``docs/cli.md``).

Where ``info --json`` describes the analysed model, this describes one view of it as drawn:
each drawn node (with the id the spec gave it, the time step it is drawn at, and whether it
stands for a collapsed block or for several folded repetitions), each drawn edge with its kind
and delay, the clusters, and the notes the view made. Tests and scripts can check a view
without reading SVG.
"""

from __future__ import annotations

from typing import Any

from .info import MAX_LABEL, role_of
from .ir import Cluster, Graph, Node, Sym
from .views import View

__all__ = ["to_drawn"]


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _repeats(node: Node, clusters: dict[str, Cluster], drawn: dict[str, int]) -> int:
    """How many repetitions of the repeats around ``node`` its one drawn copy stands for."""
    count = 1
    cluster = node.cluster
    while cluster in clusters:
        c = clusters[cluster]
        if c.repeat_count > 1 and c.repeat_index == 0:
            count *= max(c.repeat_count // max(drawn.get(c.id, 1), 1), 1)
        cluster = c.parent
    return count


def to_drawn(shown: Graph, view: View, notes: tuple[str, ...]) -> dict[str, Any]:
    """The view ``shown`` (as :func:`archdraw.views.apply_view` returns it) as plain data."""
    clusters = {c.id: c for c in shown.clusters}
    # The copies of each repeat that are drawn: its child clusters, or one when merged into it.
    drawn: dict[str, int] = {}
    for c in shown.clusters:
        parent = clusters.get(c.parent)
        if parent is not None and parent.repeat_count > 1 and parent.repeat_index == 0:
            drawn[parent.id] = drawn.get(parent.id, 0) + 1
    loops = {loop.id: loop for loop in shown.loops}
    return {
        "name": shown.name,
        "view": {
            "depth": view.depth,
            "expand": list(view.expand),
            "expand_repeats": view.expand_repeats,
            "unroll": view.unroll,
            "max_nodes": view.budget,
        },
        "notes": list(notes),
        "steps": shown.steps,
        "loops": [
            {"id": loop.id, "label": loop.label, "spine": loop.spine}
            for loop in shown.loops
            if loop.id in loops
        ],
        "nodes": [
            {
                "id": n.id,
                "spec_id": n.origin or n.id,
                "label": _cut(n.label or n.origin or n.id),
                "op": n.op,
                "stands_for": "block" if n.op == "block" else "layer",
                "repeats": _repeats(n, clusters, drawn),
                "step": n.step,
                "loop": n.loop or None,
                "cluster": n.cluster or None,
                "shape": [s.text if isinstance(s, Sym) else s for s in n.shape]
                if n.shape is not None
                else None,
                "params": n.params,
                "role": role_of(n.roles),
            }
            for n in shown.nodes
        ],
        "edges": [
            {
                "src": e.src,
                "dst": e.dst,
                "kind": e.kind.value,
                "delay": e.delay,
                "axis": e.axis if e.delay else None,
                "reverse": e.reverse,
                "initial": e.initial,
                "label": _cut(e.label) or None,
            }
            for e in shown.edges
        ],
        "clusters": [
            {
                "id": c.id,
                "label": _cut(c.label),
                "detail": _cut(c.detail) or None,
                "parent": c.parent or None,
                "repeat": c.repeat_count if c.repeat_index == 0 else 1,
            }
            for c in shown.clusters
        ],
    }
