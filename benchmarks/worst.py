"""The worst cases within archdraw's limits: every command must finish in seconds, under 1 GB.

Run: ``.venv/bin/python benchmarks/worst.py`` (prints a markdown table; ``--quick`` runs each
case once). Each row is a whole ``archdraw`` process on a spec built to be as expensive as the
limits in docs/security.md allow along one axis; its wall time is also given as a ratio to the
floor F = ``archdraw validate`` of the LSTM cell, timed in the same run (the machine is shared
and noisy; ratios hold where seconds do not). A case that archdraw refuses with a located
message counts as finished: the refusal is what the limit is for.
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
RUNS = 3
TIMEOUT = 600

_H = "archdraw: 1\nname: worst\n"


def _execute_fanout() -> str:
    # 12 branches reading one input of 4.9e7 values, joined: every activation alive at once.
    branches = "".join(f"  b{i}: {{op: relu, in: x}}\n" for i in range(12))
    joined = ", ".join(f"b{i}" for i in range(12))
    return (
        f"{_H}dims: {{N: 1}}\ninputs: {{x: [N, 7000, 7000]}}\nlayers:\n{branches}"
        f"  s: {{op: add, in: [{joined}]}}\n"
    )


def _execute_live() -> str:
    # Just within the live-memory bound: an input and three outputs of 1e7 values alive at once.
    return (
        f"{_H}dims: {{N: 1}}\ninputs: {{x: [N, 10000, 1000]}}\nlayers:\n"
        "  a: {op: relu, in: x}\n  b: {op: tanh, in: x}\n  s: {op: add, in: [a, b]}\n"
    )


def _execute_dense() -> str:
    # One dense layer at the MAC bound, its input and output at the activation bound.
    return f"{_H}dims: {{N: 20000}}\ninputs: {{x: [N, 1000]}}\nlayers:\n  - {{op: dense, units: 1000}}\n"


def _execute_chain() -> str:
    # A chain of element-wise layers at the bound on values computed in all (5e8).
    return f"{_H}dims: {{N: 1}}\ninputs: {{x: [N, 10000, 1000]}}\nlayers:\n  - {{op: relu, repeat: 49}}\n"


def _unchained_copies() -> str:
    # 49,990 layers that all read the input and feed nothing: each is an output.
    body = "".join(f"        a{i}: {{op: dense, in: x, units: 4}}\n" for i in range(10))
    return f"{_H}dims: {{N: 1}}\ninputs: {{x: [N, 8]}}\nlayers:\n  - repeat: 4999\n    layers:\n{body}"


def _alias_fanout() -> str:
    # 600 layers, each reading all 600 of a first rank through one YAML alias: 360,000 edges.
    first = "".join(f"  a{i}: {{op: relu, in: x}}\n" for i in range(600))
    names = ", ".join(f"a{i}" for i in range(600))
    second = "".join(f"  c{i}: {{op: add, in: *all}}\n" for i in range(1, 600))
    return (
        f"{_H}dims: {{N: 1}}\ninputs: {{x: [N, 8]}}\nlayers:\n{first}"
        f"  c0: {{op: add, in: &all [{names}]}}\n{second}"
    )


def _aliased_labels() -> str:
    # 6,000 layers sharing one 4,000-character label through an alias.
    label = "é" * 3999 + "\u202e"
    rest = "".join("  - {op: relu, label: *l}\n" for _ in range(5999))
    return (
        f'{_H}dims: {{N: 1}}\ninputs: {{x: [N, 8]}}\nlayers:\n  - {{op: relu, label: &l "{label}"}}\n{rest}'
    )


def _many_repeats() -> str:
    # 50,000 nodes from repeats, each with a long label, drawn copy by copy.
    label = "x" * 3000
    return f"{_H}dims: {{N: 1}}\ninputs: {{x: [N, 8]}}\nlayers:\n  - repeat: 4999\n    layers:\n" + "".join(
        f'      - {{op: relu, label: "{label}{i}"}}\n' for i in range(10)
    )


def _nested_blocks() -> str:
    # Blocks calling two copies of the next, 15 deep: 32,768 layers in 32,767 nested clusters.
    blocks = "".join(f"  b{i}: {{layers: [{{block: b{i + 1}}}, {{block: b{i + 1}}}]}}\n" for i in range(15))
    return (
        f"{_H}dims: {{N: 1}}\ninputs: {{x: [N, 8]}}\nblocks:\n{blocks}  b15: {{layers: [relu]}}\n"
        "layers:\n  - block: b0\n"
    )


CASES = [
    ("validate --execute: 12 branches of 4.9e7 values", _execute_fanout, ["validate", "--execute"]),
    ("validate --execute: 4e7 values alive at once", _execute_live, ["validate", "--execute"]),
    ("validate --execute: a dense layer at the MAC bound", _execute_dense, ["validate", "--execute"]),
    ("validate --execute: 49 element-wise layers, 5e8 values", _execute_chain, ["validate", "--execute"]),
    ("validate: 49,990 unchained outputs", _unchained_copies, ["validate"]),
    ("validate: 360,000 edges through one alias", _alias_fanout, ["validate"]),
    (
        "render -f dot: 6,000 aliased 4,000-character labels",
        _aliased_labels,
        ["render", "-f", "dot", "-o", "-"],
    ),
    (
        "render -f dot --expand-repeats: 50,000 labelled nodes",
        _many_repeats,
        ["render", "-f", "dot", "-o", "-", "--expand-repeats", "--max-nodes", "50000"],
    ),
    ("info --json: 50,000 labelled nodes", _many_repeats, ["info", "--json"]),
    ("render -f dot: blocks 15 deep, 32,768 layers", _nested_blocks, ["render", "-f", "dot", "-o", "-"]),
]

# Runs archdraw in this process and prints its peak RSS (MB) last, on standard error.
_WRAPPER = """
import resource, runpy, sys
sys.argv = ["archdraw", *sys.argv[1:]]
try:
    runpy.run_module("archdraw", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stderr.write(f"\\nexit {code} rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}\\n")
"""


def measure(argv: list[str], runs: int) -> tuple[float, float, int, str]:
    """Median wall seconds, peak RSS (MB), exit code and the first line archdraw printed."""
    times: list[float] = []
    peak, code, first = 0.0, 0, ""
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _WRAPPER, *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        times.append(time.perf_counter() - start)
        lines = proc.stderr.strip().splitlines()
        tail = lines[-1].split()
        code, peak = int(tail[1]), max(peak, float(tail[3]))
        first = next((line for line in lines[:-1] if line.strip()), "")
    return statistics.median(times), peak, code, first


def main() -> None:
    runs = 1 if "--quick" in sys.argv else RUNS
    floor, floor_mb, _, _ = measure(["validate", str(ROOT / "specs" / "lstm.yaml")], runs)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; median of {runs} runs")
    print(f"F = archdraw validate specs/lstm.yaml: {floor:.3f} s, {floor_mb:.0f} MB\n")
    print("| worst case | exit | wall (s) | ÷ F | peak RSS (MB) | what archdraw said first |")
    print("|---|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, build, args in CASES:
            spec = Path(tmp) / "worst.yaml"
            spec.write_text(build(), encoding="utf-8")
            seconds, mb, code, said = measure([*args, str(spec)], runs)
            said = said.replace(str(spec), "worst.yaml").replace("|", "\\|")[:110]
            print(
                f"| {name} | {code} | {seconds:.2f} | {seconds / floor:.1f} | {mb:.0f} | {said} |", flush=True
            )


if __name__ == "__main__":
    main()
