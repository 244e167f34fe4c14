"""Render times of whole `archdraw render` processes, as ratios to Python's floor.

Run: ``.venv/bin/python benchmarks/render.py`` (prints a markdown table). F is
``python -c "import yaml, click, numpy"``, timed in the same run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
CASES = [
    ("LSTM cell", ["specs/lstm.yaml"]),
    ("ResNet-50, default view", ["specs/resnet50.yaml"]),
    ("ResNet-152, default view (folded)", ["specs/resnet152.yaml"]),
    ("ResNet-152, depth 1", ["specs/resnet152.yaml", "--depth", "1"]),
    (
        "ResNet-152, fully expanded (515 nodes)",
        ["specs/resnet152.yaml", "--expand-repeats", "--max-nodes", "100000"],
    ),
    ("DenseNet dense block, expanded", ["specs/densenet_block.yaml", "--max-nodes", "1000"]),
    ("LSTM cell unrolled ×8", ["specs/lstm.yaml", "--unroll", "8"]),
]


def timed(argv: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, cwd=ROOT, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{argv} failed:\n{proc.stderr.decode()}")
    return statistics.median(times)


def main() -> None:
    floor = timed([sys.executable, "-c", "import yaml, click, numpy"])
    engines = ["bundled"] + (["dot"] if shutil.which("dot") else [])
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; median of {RUNS} runs; F = {floor:.3f} s\n"
    )
    print("| render | " + " | ".join(f"{e} (s) | ÷ F" for e in engines) + " |")
    print("|---|" + "---:|---:|" * len(engines))
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in CASES:
            cells = []
            for engine in engines:
                out = Path(tmp) / "out.svg"
                seconds = timed(
                    [sys.executable, "-m", "archdraw", "render", *args, "--engine", engine, "-o", str(out)]
                )
                cells.append(f"{seconds:.3f} | {seconds / floor:.2f}")
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
