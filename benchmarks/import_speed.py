"""Time `archdraw import` of ResNet-50 and a Transformer encoder beside torchview, ÷ a forward pass."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    import torch
    from torch import nn

USAGE = """\
Run: .venv/bin/python benchmarks/import_speed.py [--repeat N]

Each model is built without weights, in eval mode, and measured in this one process: a plain
forward pass under torch.no_grad() (the baseline), archdraw's import through its Python API
(write_spec(trace_torch(model, example)), the spec text), and torchview's draw_graph with its
DOT source (not rendered). After one warm-up call of each (its time is shown as "first call"),
N rounds each time the three in turn, so a change in the machine's load hits all three alike:
"median" is the median of a tool's N times, "÷ forward" the median of its N ratios to the
forward pass of the same round. Ratios hold on a noisy machine where seconds do not.
Nodes: archdraw's are those of archdraw.load(spec) after expansion (info()["nodes"]);
torchview's are the node statements (lines with ' [label=') of its DOT source.
Exits 2 if torch, torchvision or torchview is missing, 1 if a tool raised on a model.
"""

REQUIRED = ("torch", "torchvision", "torchview")
FORWARD = "forward pass (baseline)"
ARCHDRAW = "archdraw import"
TORCHVIEW = "torchview draw_graph"
OUTPUT = {FORWARD: "", ARCHDRAW: "spec (YAML)", TORCHVIEW: "DOT"}


@dataclass(frozen=True)
class Case:
    """A model to measure: its name, how to build it (untrained) and its example input's shape."""

    name: str
    build: Callable[[], nn.Module]
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Row:
    """One tool on one model; the times are ``None`` where it raised."""

    tool: str
    median: float | None = None
    ratio: float | None = None
    first: float | None = None
    text: str | None = None
    nodes: int | None = None


def resnet50() -> nn.Module:
    """Torchvision's ResNet-50, without weights."""
    import torchvision  # type: ignore[import-untyped]

    model: nn.Module = torchvision.models.resnet50()
    return model


def encoder() -> nn.Module:
    """A 12-layer Transformer encoder (BERT-base sizes), without the nested-tensor fast path."""
    from torch import nn

    layer = nn.TransformerEncoderLayer(768, 12, 3072, batch_first=True)
    return nn.TransformerEncoder(layer, 12, enable_nested_tensor=False)


CASES = (
    Case("ResNet-50", resnet50, (1, 3, 224, 224)),
    Case("Transformer encoder, 12 layers", encoder, (1, 128, 768)),
)


def missing() -> list[str]:
    """The required packages that do not import."""
    absent = []
    for name in REQUIRED:
        try:
            importlib.import_module(name)
        except ImportError:
            absent.append(name)
    return absent


def frontends() -> tuple[Callable[[nn.Module, torch.Tensor], object], Callable[[object], str]]:
    """archdraw's ``trace_torch`` and ``write_spec``.

    Imported by name rather than with ``from ... import`` so that ``mypy --strict`` of this file
    checks this file: with torch installed, archdraw/frontends/ does not type-check yet.
    """
    trace_torch = importlib.import_module("archdraw.frontends.pytorch").trace_torch
    write_spec = importlib.import_module("archdraw.frontends.spec").write_spec
    return (
        cast("Callable[[nn.Module, torch.Tensor], object]", trace_torch),
        cast("Callable[[object], str]", write_spec),
    )


def call(fn: Callable[[], str | None]) -> tuple[float, str | None]:
    """Wall seconds of one call, and what it returned."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def dot_nodes(source: str) -> int:
    r"""Node statements in torchview's DOT: ``\t0 [label=<...`` (its edges carry no label)."""
    return sum(1 for line in source.splitlines() if " [label=" in line and " -> " not in line)


def measure(case: Case, repeat: int, errors: list[str]) -> list[Row]:
    """The forward pass, archdraw's import and torchview's draw_graph of one model, interleaved."""
    import torch
    from torchview import draw_graph

    import archdraw

    trace_torch, write_spec = frontends()
    torch.manual_seed(0)
    model = case.build().eval()
    example = torch.randn(case.shape)

    def forward() -> None:
        with torch.no_grad():
            model(example)

    def drawn() -> str:
        return str(draw_graph(model, input_size=case.shape, device="cpu").visual_graph.source)

    tools: dict[str, Callable[[], str | None]] = {
        FORWARD: forward,
        ARCHDRAW: lambda: write_spec(trace_torch(model, example)),
        TORCHVIEW: drawn,
    }
    first: dict[str, float] = {}
    text: dict[str, str | None] = {}
    for tool, fn in list(tools.items()):
        try:
            first[tool], text[tool] = call(fn)
        except Exception as exc:
            errors.append(f"{case.name}: {tool} raised {_error(exc)}")
            del tools[tool]

    times: dict[str, list[float]] = {tool: [] for tool in tools}
    for _ in range(repeat):
        for tool, fn in tools.items():
            times[tool].append(call(fn)[0])

    nodes: dict[str, int | None] = {FORWARD: None, ARCHDRAW: None, TORCHVIEW: None}
    spec, source = text.get(ARCHDRAW), text.get(TORCHVIEW)
    if spec is not None:
        try:
            nodes[ARCHDRAW] = len(archdraw.load(spec).info()["nodes"])
        except Exception as exc:
            errors.append(f"{case.name}: archdraw.load of the imported spec raised {_error(exc)}")
    if source is not None:
        nodes[TORCHVIEW] = dot_nodes(source)

    rows = []
    base = times.get(FORWARD)
    for tool in (FORWARD, ARCHDRAW, TORCHVIEW):
        if tool not in times:
            rows.append(Row(tool))
            continue
        ratio = statistics.median([t / b for t, b in zip(times[tool], base, strict=True)]) if base else None
        rows.append(
            Row(tool, statistics.median(times[tool]), ratio, first[tool], text.get(tool), nodes[tool])
        )
    return rows


def _error(exc: BaseException) -> str:
    """The exception's type and text, and the line of the innermost frame that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _cell(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def main() -> int:
    """Print the markdown table; 2 if a required package is missing, 1 if a tool raised."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per model (default 5)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    absent = missing()
    if absent:
        print(
            f"import_speed: needs {', '.join(absent)}, which will not import; install them with\n"
            f"  .venv/bin/pip install {' '.join(REQUIRED)}",
            file=sys.stderr,
        )
        return 2

    import torch

    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), torchview {importlib.metadata.version('torchview')}; "
        f"{args.repeat} interleaved rounds after one warm-up call each; ÷ forward is the median "
        "ratio to the forward pass of the same model in the same round\n"
    )
    print("| model | measured | median (s) | ÷ forward | first call (s) | output | lines | bytes | nodes |")
    print("|---|---|---:|---:|---:|---|---:|---:|---:|")
    errors: list[str] = []
    for case in CASES:
        for row in measure(case, args.repeat, errors):
            median = "raised" if row.median is None else f"{row.median:.3f}"
            lines = None if row.text is None else len(row.text.splitlines())
            size = None if row.text is None else len(row.text.encode())
            print(
                f"| {case.name} | {row.tool} | {median} | {_cell(row.ratio, '.2f')} | "
                f"{_cell(row.first, '.3f')} | {OUTPUT[row.tool]} | {_cell(lines, ',')} | "
                f"{_cell(size, ',')} | {_cell(row.nodes, ',')} |"
            )
    for error in errors:
        print(f"\n{error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
