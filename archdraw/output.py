"""Writing outputs safely: atomically, never over an input, never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import ArchdrawError

__all__ = ["OutputError", "check_not_input", "write_atomic"]


class OutputError(ArchdrawError, OSError):
    """An output cannot be written where it was asked for."""


def check_not_input(output: Path, inputs: Iterable[Path]) -> None:
    """Refuse an output path that is one of the inputs (it would be overwritten)."""
    out = output.resolve()
    for path in inputs:
        if path.resolve() == out:
            raise OutputError(f"refusing to write {output}: it is an input")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    Readers see the old file or the new one, never a part; when writing fails the old file
    is left as it was and the temporary file is removed.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise OutputError(f"cannot write {path}: directory {directory} {what}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
        raise
