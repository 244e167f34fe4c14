"""Every benchmark in one run, written as markdown to docs/performance.md.

Run: ``.venv/bin/python benchmarks/run.py [--peers] [--runs N] [--out FILE]``

Every figure is a whole process, and every ratio is taken against the floor
F = ``python -c "import yaml, click, numpy"`` timed in the same run, so the ratios hold on a
shared, noisy machine where absolute times do not. Sections:

(a) render overhead: ``archdraw render`` ÷ (F + the engine laying out archdraw's own DOT alone),
    for every spec in specs/ and synthetic stacks, per engine (Graphviz ``dot``, ``graphviz-pure``);
(b) ``archdraw validate specs/`` in one process ÷ F;
(c) peers (only with ``--peers``): torchview drawing ResNet-50 and a 2-layer LSTM, in a venv of
    its own under /tmp (created on first use), against ``archdraw render`` of the same models;
(d) the gallery: one worker against all cores, and an unchanged rebuild against a full build;
(e) scale: validate time and peak RSS of synthetic stacks and VGG-16; ResNet-152 render times.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gallery import build as gallery_build  # noqa: E402
from validate import measure, synthetic  # noqa: E402

FLOOR = [sys.executable, "-c", "import yaml, click, numpy"]
ARCHDRAW = [sys.executable, "-m", "archdraw"]
PEER_VENV = Path(tempfile.gettempdir()) / "archdraw-peers"
PEER_PACKAGES = ["torch==2.13.0", "torchview", "graphviz"]
SYNTHETIC_RENDER = (100, 300, 1_000)
SYNTHETIC_SCALE = (1_000, 10_000, 100_000)

# ResNet-50 and a 2-layer LSTM in plain torch (no torchvision), drawn by torchview as a whole
# process; argv: model name, output directory.
PEER_SCRIPT = """
import sys
import torch
from torch import nn
from torchview import draw_graph


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.down is None else self.down(x)))


class ResNet50(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        blocks, cin = [], 64
        for width, count, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            for i in range(count):
                blocks.append(Bottleneck(cin, width, stride if i == 0 else 1))
                cin = width * 4
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


class StackedLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(128, 256, num_layers=2, batch_first=True)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


name, out = sys.argv[1], sys.argv[2]
if name == "resnet50":
    graph = draw_graph(ResNet50(), input_size=(1, 3, 224, 224), directory=out, filename=name)
else:
    graph = draw_graph(StackedLSTM(), input_size=(1, 16, 128), directory=out, filename=name)
graph.visual_graph.render(format="svg")
"""


def timed(argv: Sequence[str], runs: int) -> float:
    """Median wall seconds of ``runs`` whole processes; exits if one fails."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(list(argv), capture_output=True, cwd=ROOT, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr.decode(errors='replace')}")
    return statistics.median(times)


def machine() -> str:
    dot = shutil.which("dot")
    dot_version = "not installed"
    if dot:
        proc = subprocess.run([dot, "-V"], capture_output=True, text=True, check=False)
        dot_version = (proc.stderr or proc.stdout).strip()
    try:
        pure = importlib.metadata.version("graphviz-pure")
    except importlib.metadata.PackageNotFoundError:
        pure = "not installed"
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, Python {sys.version.split()[0]}, "
        f"{dot_version}, graphviz-pure {pure}"
    )


def engines() -> list[tuple[str, str]]:
    """(archdraw's --engine name, the executable) of each engine on this machine."""
    found = []
    if shutil.which("dot"):
        found.append(("dot", shutil.which("dot") or "dot"))
    beside = Path(sys.executable).parent / "graphviz-pure"
    pure = str(beside) if beside.is_file() else shutil.which("graphviz-pure")
    if pure:
        found.append(("bundled", pure))
    return found


def render_overhead(tmp: Path, floor: float, runs: int) -> list[str]:
    """(a): for each spec, render ÷ (F + the engine alone on archdraw's DOT)."""
    specs = [(p.stem, p) for p in sorted((ROOT / "specs").glob("*.yaml"))]
    for layers in SYNTHETIC_RENDER:
        path = tmp / f"synthetic{layers}.yaml"
        path.write_text(synthetic(layers))
        specs.append((f"synthetic {layers:,}", path))
    kinds = engines()
    ratios: dict[str, list[tuple[float, str]]] = {kind: [] for kind, _ in kinds}
    for name, path in specs:
        dot_file = tmp / "spec.dot"
        subprocess.run(
            [*ARCHDRAW, "render", str(path), "-f", "dot", "-o", str(dot_file)], check=True, cwd=ROOT
        )
        for kind, exe in kinds:
            alone = timed([exe, "-Tsvg", str(dot_file), "-o", str(tmp / "alone.svg")], runs)
            whole = timed(
                [*ARCHDRAW, "render", str(path), "--engine", kind, "-o", str(tmp / "out.svg")], runs
            )
            ratios[kind].append((whole / (floor + alone), name))
    lines = [
        "## (a) Render overhead",
        "",
        f"`archdraw render SPEC` ÷ (F + the engine alone laying out archdraw's DOT for SPEC), over "
        f"{len(specs)} specs (specs/ and synthetic stacks of "
        f"{', '.join(f'{n:,}' for n in SYNTHETIC_RENDER)} layers). Target: median ≤ 1.3.",
        "",
        "| engine | median | best | worst (spec) | specs over 1.3 |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, values in ratios.items():
        values.sort()
        median = statistics.median(v for v, _ in values)
        over = sum(1 for v, _ in values if v > 1.3)
        worst, worst_name = values[-1]
        lines.append(f"| {kind} | {median:.2f} | {values[0][0]:.2f} | {worst:.2f} ({worst_name}) | {over} |")
    return lines


def validate_all(floor: float, runs: int) -> list[str]:
    """(b): one process validating every spec in specs/."""
    seconds = timed([*ARCHDRAW, "validate", "-q", "specs"], runs)
    return [
        "## (b) Validate the gallery",
        "",
        "| command | wall (s) | ÷ F | target |",
        "|---|---:|---:|---:|",
        f"| `archdraw validate specs/` ({len(list((ROOT / 'specs').glob('*.yaml')))} specs) "
        f"| {seconds:.3f} | {seconds / floor:.2f} | ≤ 1.5 |",
    ]


def peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import torch, torchview"], capture_output=True, check=False)
    if probe.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def peers(tmp: Path, runs: int) -> list[str]:
    """(c): torchview against archdraw, whole processes, drawing the same two models."""
    python = peer_python()
    script = tmp / "peer.py"
    script.write_text(PEER_SCRIPT)
    version = subprocess.run(
        [
            str(python),
            "-c",
            "import torch, importlib.metadata as m; print(torch.__version__, m.version('torchview'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    lines = [
        "## (c) Peers",
        "",
        f"torchview {version[1]} on torch {version[0]} (CPU), in its own venv; each a whole process "
        "drawing the model to SVG with Graphviz `dot`. Target: archdraw ≥ 10× faster.",
        "",
        "| model | torchview (s) | archdraw (s) | archdraw faster by |",
        "|---|---:|---:|---:|",
    ]
    for model, spec, title in (
        ("resnet50", "specs/resnet50.yaml", "ResNet-50"),
        ("lstm", "specs/stacked_lstm.yaml", "2-layer LSTM"),
    ):
        peer = timed([str(python), str(script), model, str(tmp / "peer")], runs)
        ours = timed([*ARCHDRAW, "render", spec, "--engine", "dot", "-o", str(tmp / f"{model}.svg")], runs)
        lines.append(f"| {title} | {peer:.2f} | {ours:.2f} | {peer / ours:.1f}× |")
    return lines


def gallery(tmp: Path) -> list[str]:
    """(d): the gallery with one worker and all cores, and an unchanged rebuild."""
    serial = gallery_build(tmp / "serial", "--jobs", "1")
    parallel = gallery_build(tmp / "parallel")
    unchanged = gallery_build(tmp / "parallel")
    return [
        "## (d) Gallery",
        "",
        "| build | wall (s) | ratio | target |",
        "|---|---:|---:|---:|",
        f"| full, `--jobs 1` | {serial:.2f} | 1.00 | |",
        f"| full, all {os.cpu_count()} cores | {parallel:.2f} | {serial / parallel:.2f}× faster "
        "| ≥ 1.6× on 2 cores |",
        f"| unchanged rebuild | {unchanged:.2f} | {unchanged / parallel:.3f} of a full build | ≤ 0.1 |",
    ]


def scale(tmp: Path, floor: float, runs: int) -> list[str]:
    """(e): validate time and peak RSS as specs grow; ResNet-152 render times."""
    lines = [
        "## (e) Scale",
        "",
        "Whole processes; peak RSS is the process's maximum resident set. Targets: validate time "
        "linear in layers, 10,000 layers in ≤ 2 s, VGG-16 under 100 MB.",
        "",
        "| command | wall (s) | ÷ F | peak RSS (MB) |",
        "|---|---:|---:|---:|",
    ]
    cases = [("VGG-16", str(ROOT / "specs" / "vgg16.yaml"))]
    for layers in SYNTHETIC_SCALE:
        path = tmp / f"scale{layers}.yaml"
        path.write_text(synthetic(layers))
        cases.append((f"synthetic, {layers:,} layers", str(path)))
    for name, target in cases:
        try:
            seconds, mb = measure(["archdraw", "validate", "-q", target], runs)
        except SystemExit as exc:
            reason = str(exc).strip().splitlines()[-1]
            lines.append(f"| validate {name} | refused: {reason.split(': error: ')[-1]} | | |")
            continue
        lines.append(f"| validate {name} | {seconds:.3f} | {seconds / floor:.2f} | {mb:.0f} |")
    for name, args in (
        ("ResNet-152, folded (default view)", ["specs/resnet152.yaml"]),
        ("ResNet-152, expanded", ["specs/resnet152.yaml", "--expand-repeats", "--max-nodes", "100000"]),
    ):
        seconds = timed([*ARCHDRAW, "render", *args, "--engine", "dot", "-o", str(tmp / "r152.svg")], runs)
        lines.append(f"| render {name}, dot | {seconds:.3f} | {seconds / floor:.2f} | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--peers", action="store_true", help=f"also time torchview (installs it in {PEER_VENV})"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (the median is kept)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--only", default="abcde", help="sections to run, e.g. 'ae'")
    args = parser.parse_args()

    floor = timed(FLOOR, max(args.runs, 5))
    sections: list[list[str]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if "a" in args.only:
            sections.append(render_overhead(tmp, floor, args.runs))
        if "b" in args.only:
            sections.append(validate_all(floor, args.runs))
        if "c" in args.only:
            if args.peers:
                sections.append(peers(tmp, args.runs))
            else:
                sections.append(["## (c) Peers", "", "Skipped: run with `--peers` to time torchview."])
        if "d" in args.only:
            sections.append(gallery(tmp))
        if "e" in args.only:
            sections.append(scale(tmp, floor, args.runs))
    head = [
        "# Performance",
        "",
        "Written by `python benchmarks/run.py` (add `--peers` for the torchview table). Every figure "
        "is a whole process, the median of a few runs; every ratio is against the floor "
        '`F = python -c "import yaml, click, numpy"` timed in the same run, so ratios hold on a '
        "shared, noisy machine where absolute times do not.",
        "",
        f"Machine: {machine()}. F = {floor:.3f} s.",
    ]
    text = "\n\n".join("\n".join(s) for s in [head, *sections]) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
