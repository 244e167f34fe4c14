"""The pass pipeline: functions Graph → Graph, listed once, in order."""

from __future__ import annotations

from typing import Final, Protocol

from ..errors import SpecError
from ..ir import Graph
from .expand import expand
from .shapes import infer_shapes
from .structure import mark_bottlenecks, mark_recurrence, mark_shortcuts, mark_skips
from .time import mark_time
from .validate import validate

__all__ = ["PIPELINE", "Pass", "analyze"]


class Pass(Protocol):
    """A pass takes a graph and returns a new one; problems go into ``graph.diagnostics``."""

    __name__: str

    def __call__(self, graph: Graph, /) -> Graph: ...


# The order is a dependency chain: expansion needs valid references, cycles and skips need the
# expanded edges, shapes need an order free of undelayed cycles, and shortcuts (which compare
# the axes of what they join), bottlenecks and time loops (which follow a sequence's time axis)
# need shapes.
PIPELINE: Final[tuple[Pass, ...]] = (
    validate,
    expand,
    mark_recurrence,
    mark_skips,
    infer_shapes,
    mark_shortcuts,
    mark_bottlenecks,
    mark_time,
)


def analyze(graph: Graph, passes: tuple[Pass, ...] = PIPELINE) -> Graph:
    """Run ``passes`` in order; after any pass that leaves errors, raise them all as one.

    Warnings stay in the returned graph's ``diagnostics``.
    """
    if any(d.is_error for d in graph.diagnostics) and passes and passes[0] is not validate:
        raise SpecError(graph.diagnostics)
    for step in passes:
        graph = step(graph)
        if any(d.is_error for d in graph.diagnostics):
            raise SpecError(graph.diagnostics)
    return graph
