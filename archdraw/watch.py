"""Watching a spec for changes by polling its size, mtime and inode (no extra dependency).

:func:`watch` calls a function once, then again each time the file changes, until it is
stopped. A spec is one file (the language has no includes), so one file is all it watches.

>>> import tempfile, threading
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as tmp:
...     spec = Path(tmp) / "spec.yaml"
...     _ = spec.write_text("one")
...     seen = []
...     watch(spec, lambda: seen.append(spec.read_text()), interval=0.01, max_cycles=3)
...     seen
['one']
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

__all__ = ["INTERVAL", "Signature", "signature", "watch"]

INTERVAL: Final = 0.3
Signature = tuple[int, int, int]


def signature(path: Path) -> Signature | None:
    """What changes when the file is written or replaced: (mtime in ns, size, inode); None if gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def watch(
    path: Path,
    on_change: Callable[[], None],
    *,
    interval: float = INTERVAL,
    stop: threading.Event | None = None,
    max_cycles: int | None = None,
    on_missing: Callable[[], None] | None = None,
) -> None:
    """Call ``on_change`` now, and again after every change of ``path``, polled every ``interval`` s.

    A change counts once it has held for one interval, so a file caught half-written is not read.

    Returns when ``stop`` is set, or after ``max_cycles`` polls (for tests); otherwise it runs
    until interrupted (KeyboardInterrupt goes to the caller). While the file is missing (an
    editor replacing it, or deleted), ``on_missing`` is called once and nothing is run; it
    runs again when the file is back.
    """
    stop = stop if stop is not None else threading.Event()
    last = signature(path)
    on_change()
    seen = last  # what the previous poll saw
    cycles = 0
    while not stop.wait(interval):
        cycles += 1
        current = signature(path)
        # Act on a change once it has held for a whole interval: a write in progress (the file
        # truncated, then filled) is seen as more than one change, and only its end is read.
        settled = current == seen
        seen = current
        if settled and current != last:
            last = current
            if current is None:
                if on_missing is not None:
                    on_missing()
            else:
                on_change()
        if max_cycles is not None and cycles >= max_cycles:
            return
