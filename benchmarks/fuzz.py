"""Fuzz archdraw with 100,000 seeded cases: every one must be analysed or refused, never crash.

Run: ``.venv/bin/python benchmarks/fuzz.py [--cases N] [--seed S] [--jobs J] [--save DIR]``

The cases come from the generators tests/test_fuzz.py uses under hypothesis (tests/fuzzing.py):
specs from specs/ mutated in their parsed form and their text, and YAML written from scratch.
Case i is made by ``random.Random(f"{seed}:{i}")``, so any case is made again from its number.
Prints the counts of accepted, refused and crashing cases, the time, and the slowest cases;
exits 1 if any case crashed (each crash is saved under --save, with its traceback).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzzing import generate, run_case  # noqa: E402

CHUNK = 500


def _chunk(
    args: tuple[int, int, int],
) -> tuple[Counter[str], list[tuple[float, int, str]], list[tuple[int, str]]]:
    """Run cases ``start`` to ``stop``: (counts, the five slowest, crashes with tracebacks)."""
    seed, start, stop = args
    counts: Counter[str] = Counter()
    slowest: list[tuple[float, int, str]] = []
    crashes: list[tuple[int, str]] = []
    for i in range(start, stop):
        name, data = generate(random.Random(f"{seed}:{i}"))
        began = time.perf_counter()
        try:
            accepted, _ = run_case(data, f"<case {i}>")
            counts["accepted" if accepted else "refused"] += 1
            counts[f"{name}: {'accepted' if accepted else 'refused'}"] += 1
        except Exception:  # a bug: anything but SpecError (or ViewError) escaping
            counts["crashes"] += 1
            crashes.append((i, traceback.format_exc()))
        slowest.append((time.perf_counter() - began, i, name))
        slowest = sorted(slowest, reverse=True)[:5]
    return counts, slowest, crashes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--save", type=Path, help="directory to save crashing cases in")
    args = parser.parse_args()

    began = time.perf_counter()
    chunks = [(args.seed, s, min(s + CHUNK, args.cases)) for s in range(0, args.cases, CHUNK)]
    counts: Counter[str] = Counter()
    slowest: list[tuple[float, int, str]] = []
    crashes: list[tuple[int, str]] = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for done, (c, s, x) in enumerate(pool.map(_chunk, chunks), 1):
            counts += c
            slowest = sorted(slowest + s, reverse=True)[:5]
            crashes += x
            if done % 20 == 0:
                print(f"  {done * CHUNK:,} cases, {time.perf_counter() - began:.0f} s", file=sys.stderr)
    seconds = time.perf_counter() - began

    total = counts["accepted"] + counts["refused"] + counts["crashes"]
    print(f"fuzz: {total:,} cases (seed {args.seed}) in {seconds:.1f} s, {total / seconds:,.0f} cases/s")
    print(f"  accepted {counts['accepted']:,}  refused {counts['refused']:,}  crashes {counts['crashes']:,}")
    for key in sorted(k for k in counts if ":" in k):
        print(f"  {key}: {counts[key]:,}")
    print("  slowest: " + ", ".join(f"case {i} ({name}) {t * 1000:.0f} ms" for t, i, name in slowest))
    for i, trace in crashes[:3]:
        print(f"\ncase {i} crashed:\n{trace}", file=sys.stderr)
    if crashes and args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for i, trace in crashes:
            _, data = generate(random.Random(f"{args.seed}:{i}"))
            (args.save / f"case{i}.yaml").write_bytes(data)
            (args.save / f"case{i}.txt").write_text(trace)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
