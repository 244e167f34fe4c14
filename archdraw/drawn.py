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
from .ir import Graph, Node, Sym
from .views import COPIES, View

__all__ = ["to_drawn"]


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _repeats(node: Node) -> int:
    """How many repetitions of the repeats around ``node`` its one drawn copy stands for.

    A fold says so on the copy it keeps (``COPIES``: one for each copy folded into it, "conv3
    ×3" three, a ResNet stage's projecting "conv3 1" one); every other drawn node, a copy drawn
    with ``--expand-repeats`` or ``--expand`` among them, stands for itself.
    """
    copies = node.attr(COPIES)
    return copies if isinstance(copies, int) and not isinstance(copies, bool) and copies > 1 else 1


def to_drawn(shown: Graph, view: View, notes: tuple[str, ...]) -> dict[str, Any]:
    """The view ``shown`` (as :func:`archdraw.views.apply_view` returns it) as plain data."""
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
                "repeats": _repeats(n),
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
