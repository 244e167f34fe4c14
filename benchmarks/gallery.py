"""Gallery build times: full build with one worker and with all cores, and an unchanged rebuild.

Run: ``.venv/bin/python benchmarks/gallery.py`` (prints a markdown table). Each figure is a whole
`archdraw gallery` process over specs/, in one run, so the ratios hold on a noisy machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(site: Path, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "archdraw", "gallery", "specs", "-o", str(site), *extra],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - start


def main() -> None:
    specs = len(list((ROOT / "specs").glob("*.yaml")))
    with tempfile.TemporaryDirectory() as tmp:
        serial = build(Path(tmp) / "serial", "--jobs", "1")
        parallel = build(Path(tmp) / "parallel")
        unchanged = build(Path(tmp) / "parallel")
    print(f"{specs} specs, {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| build | seconds | ratio |")
    print("|---|---:|---:|")
    print(f"| full, --jobs 1 | {serial:.2f} | 1.00 |")
    print(f"| full, all cores | {parallel:.2f} | {serial / parallel:.2f}× faster |")
    print(f"| unchanged rebuild | {unchanged:.2f} | {unchanged / parallel:.3f} of a full build |")


if __name__ == "__main__":
    main()
