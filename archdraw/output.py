"""Writing outputs safely: atomically, never over an input, never half-written."""

from __future__ import annotations

import os
import stat
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


def _special(path: Path) -> os.stat_result | None:
    """The status of what ``path`` leads to when that is not a regular file (a device, a pipe …)."""
    try:
        status = os.stat(path)  # through links: -o /dev/stdout leads to a pipe or a terminal
    except OSError:
        return None
    return None if stat.S_ISREG(status.st_mode) else status


def _write_into(path: Path, status: os.stat_result, data: bytes) -> None:
    """Write into a character device or a pipe as it is; refuse anything else that is no file."""
    mode = status.st_mode
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        what = (
            "a directory"
            if stat.S_ISDIR(mode)
            else "a block device"
            if stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        raise OutputError(f"cannot write {path}: it is {what}")
    try:
        # No O_CREAT: what is written into must be the device or pipe that was looked at.
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    Readers see the old file or the new one, never a part; when writing fails the old file
    is left as it was and the temporary file is removed. A path that is (or leads to) a
    character device or a pipe, such as ``/dev/null`` or ``/dev/stdout``, is written into as
    it is, never replaced by a file; a directory, a block device or a socket is refused.
    """
    special = _special(path)
    if special is not None:
        _write_into(path, special, data)
        return
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
