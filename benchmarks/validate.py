"""Validate time and peak memory for VGG-16 and synthetic stacks, as ratios to Python's floor.

Run: ``.venv/bin/python benchmarks/validate.py`` (prints a markdown table). Every figure is a
whole process, timed in this one run against the floor F = ``python -c "import yaml, click,
numpy"``, so the ratios hold on a shared, noisy machine where absolute times do not.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5


def synthetic(layers: int) -> str:
    """A stack of ``layers`` dense, normalisation and activation layers with residual sums."""
    lines = [
        "archdraw: 1",
        f"name: synthetic {layers}",
        "dims: {N: 8}",
        "inputs:",
        "  x: [N, 256]",
        "layers:",
    ]
    previous = "x"
    for i in range(layers // 4):
        lines += [
            f"  d{i}: {{op: dense, in: {previous}, units: 256}}",
            f"  n{i}: {{op: layernorm, in: d{i}}}",
            f"  r{i}: {{op: relu, in: n{i}}}",
            f"  s{i}: {{op: add, in: [r{i}, {previous}]}}",
        ]
        previous = f"s{i}"
    return "\n".join(lines) + "\n"


def measure(argv: list[str], runs: int = RUNS) -> tuple[float, float]:
    """Median wall seconds over ``runs``, and peak RSS in MB, of a whole process."""
    times: list[float] = []
    peak = 0.0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _WRAPPER, *argv], capture_output=True, text=True, check=False
        )
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{argv} failed:\n{proc.stderr}")
        peak = max(peak, float(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(times), peak


# Runs the command in this process and prints its peak RSS (MB) last.
_WRAPPER = """
import resource, runpy, sys
argv = sys.argv[1:]
if argv[0] == "-c":
    exec(argv[1])
else:
    sys.argv = ["archdraw", *argv[1:]]
    try:
        runpy.run_module("archdraw", run_name="__main__")
    except SystemExit as exc:
        if exc.code:
            raise
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def main() -> None:
    floor, floor_mb = measure(["-c", "import yaml, click, numpy"])
    rows = [("floor F: import yaml, click, numpy", floor, floor_mb)]
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("VGG-16 (specs/vgg16.yaml)", str(ROOT / "specs" / "vgg16.yaml"))]
        for layers in (1_000, 10_000):
            path = Path(tmp) / f"synthetic{layers}.yaml"
            path.write_text(synthetic(layers))
            cases.append((f"synthetic, {layers:,} layers", str(path)))
        cases.append(("whole gallery (specs/)", str(ROOT / "specs")))
        for name, target in cases:
            seconds, mb = measure(["archdraw", "validate", "-q", target])
            rows.append((f"archdraw validate: {name}", seconds, mb))
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; median of {RUNS} runs\n")
    print("| command | wall (s) | ÷ F | peak RSS (MB) |")
    print("|---|---:|---:|---:|")
    for name, seconds, mb in rows:
        print(f"| {name} | {seconds:.3f} | {seconds / floor:.2f} | {mb:.0f} |")


if __name__ == "__main__":
    main()
