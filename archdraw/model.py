r"""The scripting and notebook API: a spec read and analysed in one step, ready to inspect, draw and save.

>>> import archdraw
>>> model = archdraw.load('''
... archdraw: 1
... name: tiny
... dims: {N: 1}
... inputs: {x: [N, 4]}
... layers:
...   - {op: dense, units: 8, act: relu}
...   - {op: dense, units: 2}
... ''')
>>> model
<archdraw.Model 'tiny': 3 nodes, 58 parameters>
>>> model.info()["params"]
58
>>> model.to_dot(rankdir="LR").startswith("digraph archdraw {")
True

A mistake is raised at once, with every located diagnostic:

>>> archdraw.load("archdraw: 1\nname: bad\nlayers: [{op: dense}]\n")
Traceback (most recent call last):
    ...
archdraw.errors.SpecError: <spec>:3:10: error: op dense needs 'units' (output features)
<spec>:3:10: error: the first layer needs 'in:' since the spec has no inputs

In a Jupyter notebook a model displays itself as its diagram (``_repr_svg_``), when a layout
engine is installed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

from .dot import to_dot
from .engine import DEFAULT_TIMEOUT, find_engine, run_engine
from .errors import ArchdrawError, EngineNotFoundError, SpecError
from .info import to_info
from .ir import Diagnostic, Graph
from .loader import loads, read, spec_bytes
from .output import check_not_input, write_atomic
from .passes import PIPELINE, Pass
from .passes import analyze as _analyze_graph
from .source import decode
from .views import View, apply_view

__all__ = ["SAVE_FORMATS", "Model", "analyze", "load"]

SAVE_FORMATS: Final = ("svg", "png", "pdf", "dot", "json")
TEXT_MARKER: Final = "archdraw:"


class Model:
    """An analysed spec: its :class:`~archdraw.ir.Graph`, and ways to describe and draw it.

    ``view`` arguments are :class:`~archdraw.views.View` values; ``None`` means the view the
    spec's own ``view:`` section asks for. ``theme`` and ``rankdir`` default to the spec's.
    """

    __slots__ = ("graph", "path")

    def __init__(self, graph: Graph, path: Path | None = None) -> None:
        if not graph.expanded:
            graph = _analyze_graph(graph)
        self.graph: Graph = graph
        """The analysed graph (nodes, edges, shapes, parameters)."""
        self.path: Path | None = path
        """The spec's file, or None for a spec given as text."""

    @property
    def name(self) -> str:
        """The spec's ``name:``."""
        return self.graph.name

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The warnings the analysis left (errors are raised, never kept)."""
        return self.graph.diagnostics

    def __repr__(self) -> str:
        params = to_info(self.graph)["params"]
        count = f"{params:,} parameters" if params is not None else "parameters unknown"
        nodes = len(self.graph.nodes)
        return f"<archdraw.Model {self.name!r}: {nodes} node{'s' if nodes != 1 else ''}, {count}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text form: the repr, and where no diagram can be drawn, why."""
        printer.text(repr(self))
        try:
            find_engine("auto")
        except EngineNotFoundError as exc:
            printer.text(f"\n(no diagram: {exc})")

    def info(self) -> dict[str, Any]:
        """The ``archdraw info --json`` report (see ``docs/cli.md``)."""
        return to_info(self.graph)

    def view(self, view: View | None = None) -> tuple[Graph, tuple[str, ...]]:
        """The graph as ``view`` shows it, and notes on what was folded to stay within budget."""
        return apply_view(self.graph, view if view is not None else View.of(self.graph.view))

    def to_dot(self, view: View | None = None, theme: str | None = None, rankdir: str | None = None) -> str:
        """The diagram as Graphviz DOT text (no layout engine needed)."""
        shown, _ = self.view(view)
        return to_dot(shown, theme=theme, rankdir=rankdir)

    def render(
        self,
        fmt: str = "svg",
        engine: str = "auto",
        view: View | None = None,
        theme: str | None = None,
        rankdir: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> bytes:
        """The diagram in ``fmt`` (one of :data:`SAVE_FORMATS`) as bytes.

        ``svg``, ``png`` and ``pdf`` run the layout engine ``engine`` (``auto``, ``dot`` or
        ``bundled``); ``dot`` and ``json`` (the info report) do not.
        """
        if fmt not in SAVE_FORMATS:
            raise ValueError(f"unknown format {fmt!r} (must be one of {', '.join(SAVE_FORMATS)})")
        if fmt == "json":
            return (json.dumps(self.info(), indent=2, ensure_ascii=False) + "\n").encode()
        dot = self.to_dot(view, theme=theme, rankdir=rankdir)
        if fmt == "dot":
            return dot.encode()
        what = self.path.as_posix() if self.path is not None else self.name
        return run_engine(dot, fmt, find_engine(engine), timeout=timeout, what=what)

    def to_svg(
        self,
        engine: str = "auto",
        view: View | None = None,
        theme: str | None = None,
        rankdir: str | None = None,
    ) -> str:
        """The diagram as SVG text; raises :class:`~archdraw.errors.RenderError` if layout fails."""
        return self.render("svg", engine, view=view, theme=theme, rankdir=rankdir).decode("utf-8")

    def save(
        self,
        path: str | os.PathLike[str],
        format: str | None = None,
        engine: str = "auto",
        view: View | None = None,
        theme: str | None = None,
        rankdir: str | None = None,
    ) -> Path:
        """Write the diagram to ``path`` atomically and return the path.

        The format comes from ``format``, else from the path's suffix (``.svg``, ``.png``,
        ``.pdf``, ``.dot``, ``.json``). The spec's own file is never overwritten.
        """
        target = Path(path)
        fmt = format if format is not None else target.suffix.lower().lstrip(".")
        if fmt not in SAVE_FORMATS:
            raise ValueError(
                f"cannot tell the format of {target.as_posix()!r}: give format= or a suffix "
                f"({', '.join('.' + f for f in SAVE_FORMATS)})"
            )
        if self.path is not None:
            check_not_input(target, [self.path])
        write_atomic(target, self.render(fmt, engine, view=view, theme=theme, rankdir=rankdir))
        return target

    def _repr_svg_(self) -> str | None:
        """Jupyter's inline picture: the SVG, or None (plain text instead) without a layout engine."""
        try:
            return self.to_svg()
        except EngineNotFoundError:
            return None


def _is_text(source: str) -> bool:
    return "\n" in source or source.lstrip().startswith(TEXT_MARKER)


def load(source: str | os.PathLike[str]) -> Model:
    r"""Read and analyse a spec: a path, or the spec's text.

    A ``str`` with a newline, or one starting with ``archdraw:``, is the spec's text; any
    other ``str`` and a :class:`~pathlib.Path` are paths.

    Raises :class:`~archdraw.errors.SpecError` with every error found. For the unanalysed
    graph, see :func:`archdraw.read` and :func:`archdraw.loads`.

    >>> load("archdraw: 1\nname: one\ndims: {N: 1}\ninputs: {x: [N, 3]}\nlayers: [relu]\n")
    <archdraw.Model 'one': 2 nodes, 0 parameters>
    >>> load("no/such/spec.yaml")
    Traceback (most recent call last):
        ...
    archdraw.errors.SpecError: no/such/spec.yaml:1:1: error: cannot read spec: No such file or directory
    """
    if isinstance(source, str) and _is_text(source):
        try:
            return Model(_analyze_graph(loads(source)))
        except SpecError as exc:
            exc.sources.setdefault("<spec>", source)
            raise
    path = Path(source)
    try:
        return Model(_analyze_graph(read(path)), path)
    except SpecError as exc:
        try:
            exc.sources.setdefault(path.as_posix(), decode(spec_bytes(path), path.as_posix()))
        except (OSError, ArchdrawError):
            pass  # unreadable: the messages say so, without source lines
        raise


def analyze(spec: Graph | Model, passes: tuple[Pass, ...] = PIPELINE) -> Graph:
    """The analysed graph of ``spec``.

    A :class:`Model`'s own graph (already analysed) as it is, or a graph from
    :func:`archdraw.read` / :func:`archdraw.loads` run through ``passes``.

    Raises :class:`~archdraw.errors.SpecError` with every error; warnings stay in the
    returned graph's ``diagnostics``.
    """
    if isinstance(spec, Model):
        return spec.graph
    return _analyze_graph(spec, passes)
