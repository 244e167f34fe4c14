"""archdraw: neural-network diagrams from YAML specs, with recurrence, skips and bottlenecks visible.

>>> import archdraw
>>> model = archdraw.analyze(archdraw.loads('''
... archdraw: 1
... name: tiny
... inputs: {x: [N, 4]}
... dims: {N: 1}
... layers:
...   - {op: dense, units: 8, act: relu}
...   - {op: dense, units: 2}
... '''))
>>> [n.id for n in model.nodes]
['x', 'dense_1', 'dense_2']
>>> archdraw.to_dot(model).startswith("digraph archdraw {")
True
"""

from __future__ import annotations

from .dot import to_dot
from .errors import ArchdrawError, EngineNotFoundError, RenderError, SpecError
from .info import to_info
from .ir import Diagnostic, EdgeKind, Graph, OpFamily, Role, Severity, Span
from .loader import load, loads
from .passes import PIPELINE, analyze
from .views import View, ViewError, apply_view

__all__ = [
    "PIPELINE",
    "ArchdrawError",
    "Diagnostic",
    "EdgeKind",
    "EngineNotFoundError",
    "Graph",
    "OpFamily",
    "RenderError",
    "Role",
    "Severity",
    "Span",
    "SpecError",
    "View",
    "ViewError",
    "__version__",
    "analyze",
    "apply_view",
    "load",
    "loads",
    "to_dot",
    "to_info",
]

__version__ = "0.1.0"
