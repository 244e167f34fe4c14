"""archdraw: neural-network diagrams from YAML specs, with recurrence, skips and bottlenecks visible.

:func:`load` reads and analyses a spec (a path, or the spec's text) into a :class:`Model`,
which describes (``info()``), draws (``to_dot()``, ``to_svg()``, ``save()``) and, in Jupyter,
displays itself:

>>> import archdraw
>>> spec = '''
... archdraw: 1
... name: tiny
... inputs: {x: [N, 4]}
... dims: {N: 1}
... layers:
...   - {op: dense, units: 8, act: relu}
...   - {op: dense, units: 2}
... '''
>>> model = archdraw.load(spec)
>>> [n["id"] for n in model.info()["nodes"]]
['x', 'dense_1', 'dense_2']

The steps one by one: :func:`loads` (or :func:`read` for a path) returns the spec's graph as
written, :func:`analyze` checks it and works out shapes and parameters, :func:`apply_view`
folds it, and :func:`to_dot` draws it:

>>> graph = archdraw.analyze(archdraw.loads(spec))
>>> [n.id for n in graph.nodes]
['x', 'dense_1', 'dense_2']
>>> archdraw.to_dot(graph).startswith("digraph archdraw {")
True
>>> archdraw.analyze(model) is model.graph
True
"""

from __future__ import annotations

from .dot import to_dot
from .errors import ArchdrawError, EngineNotFoundError, RenderError, SpecError
from .frontends import from_onnx, from_torch
from .info import to_info
from .ir import Diagnostic, EdgeKind, Graph, OpFamily, Role, Severity, Span
from .loader import loads, read
from .model import Model, analyze, load
from .passes import PIPELINE
from .views import View, ViewError, apply_view

__all__ = [
    "PIPELINE",
    "ArchdrawError",
    "Diagnostic",
    "EdgeKind",
    "EngineNotFoundError",
    "Graph",
    "Model",
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
    "from_onnx",
    "from_torch",
    "load",
    "loads",
    "read",
    "to_dot",
    "to_info",
]

__version__ = "0.2.0"
