"""The ``info`` report of a model: a documented, stable JSON contract and a text summary."""

from __future__ import annotations

from typing import Any

from .ir import Graph, Role, Sym, format_shape

__all__ = ["MAX_LABEL", "role_of", "to_info", "to_text"]

MAX_LABEL = 300  # characters of a label in the report (as in the drawing): 50,000 nodes stay small


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def to_info(graph: Graph) -> dict[str, Any]:
    """The model as plain data (see ``docs/cli.md``, "archdraw info").

    ``shape``, ``params`` and ``macs`` are null until shape inference knows them; a ``label``
    longer than :data:`MAX_LABEL` characters is cut (ending in "…"), as the drawing cuts it.
    """
    known = [n.params for n in graph.nodes]
    macs = [n.macs for n in graph.nodes]
    params = sum(p for p in known if p is not None) if known and all(p is not None for p in known) else None
    untrained = sum((n.params or 0) if not n.trainable else n.statistics for n in graph.nodes)
    return {
        "name": graph.name,
        "params": params,
        "trainable_params": None if params is None else params - untrained,
        "non_trainable_params": None if params is None else untrained,
        "macs": sum(m for m in macs if m is not None) if macs and all(m is not None for m in macs) else None,
        "nodes": [
            {
                "id": n.id,
                "op": n.op,
                "label": _cut(n.label or n.id),
                "group": n.group or n.cluster or None,
                "shape": [s.text if isinstance(s, Sym) else s for s in n.shape]
                if n.shape is not None
                else None,
                "params": n.params,
                "macs": n.macs,
                "role": role_of(n.roles),
                "loop": n.loop or None,
            }
            for n in graph.nodes
        ],
        "edges": [
            {
                "src": e.src,
                "dst": e.dst,
                "kind": e.kind.value,
                "delay": e.delay,
                "reverse": e.reverse,
                "initial": e.initial,
            }
            for e in graph.edges
        ],
    }


def role_of(roles: tuple[Role, ...]) -> str | None:
    """The one role reported: the most specific a node has."""
    for role in (Role.BOTTLENECK, Role.LOSS, Role.STATE, Role.MEMORY, Role.OUTPUT, Role.INPUT, Role.SHORTCUT):
        if role in roles:
            return str(role.value)
    return None


def _count(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def _totals(graph: Graph, report: dict[str, Any]) -> str:
    """``parameters: 25,557,032 (all trainable) · MACs: 4,089,184,256 at N=1``.

    Untrained parameters are fixed weights (``trainable: false``) or moving statistics (Keras'
    batch norm); Keras' summary calls both non-trainable.
    """
    params = report["params"]
    fixed = sum(n.params or 0 for n in graph.nodes if not n.trainable)
    statistics = sum(n.statistics for n in graph.nodes)
    untrained = [f"{fixed:,} fixed"] if fixed else []
    if statistics:
        untrained.append(f"{statistics:,} moving statistics")
    if params is None:
        kinds = ""
    elif untrained:
        kinds = f" ({params - fixed - statistics:,} trainable, " + ", ".join(untrained) + ")"
    else:
        kinds = " (all trainable)" if params else ""
    dims = ", ".join(f"{d.name}={d.size}" for d in graph.dims)
    return f"parameters: {_count(params)}{kinds} · MACs: {_count(report['macs'])}" + (
        f" at {dims}" if dims else ""
    )


def to_text(graph: Graph) -> str:
    """A short human-readable summary: totals, layers, edge kinds, roles."""
    lines = [f"{graph.name}  ({graph.path})"]
    if graph.reference is not None:
        lines.append(
            f"reference: {graph.reference.title}"
            + (
                f" <{graph.reference.url}>"
                if graph.reference.url and graph.reference.url != graph.reference.title
                else ""
            )
        )
    lines.append(_totals(graph, to_info(graph)))
    lines.append(f"{len(graph.nodes)} nodes, {len(graph.edges)} edges, {len(graph.clusters)} clusters")
    counts: dict[str, int] = {}
    for e in graph.edges:
        counts[e.kind.value] = counts.get(e.kind.value, 0) + 1
    lines.append("edges: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    width = max((len(n.id) for n in graph.nodes), default=2)
    shapes = [format_shape(n.shape) if n.shape is not None else "" for n in graph.nodes]
    shape_width = max((len(s) for s in shapes), default=0)
    params = [f"{n.params:,}" if n.params else "" for n in graph.nodes]
    params_width = max((len(p) for p in params), default=0)
    for n, shape, count in zip(graph.nodes, shapes, params, strict=True):
        role = role_of(n.roles)
        extra = "  ".join(x for x in (role or "", "" if n.trainable else "fixed") if x)
        lines.append(
            f"  {n.id:<{width}}  {n.op:<14} {shape:<{shape_width}}  {count:>{params_width}}  {extra}".rstrip()
        )
    return "\n".join(lines) + "\n"
