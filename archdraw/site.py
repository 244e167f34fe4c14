"""A site directory that archdraw builds into: it writes and removes only its own files.

A build may go into a directory that holds other things (a docs tree, say). The site keeps a
manifest, ``.archdraw-manifest.json``, of every file archdraw wrote there. A file is written
only where nothing is, or over a file the manifest lists; a file is removed only when the
manifest lists it and this build did not write it again. No link is followed: a path whose
directories or file are links, devices or pipes is refused. The manifest names a file before
the file is written, so an interrupted build leaves nothing that the next one would not own.
One build at a time holds the directory (a lock on it, where the system has one); a second
waits for the first to finish.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from .errors import ArchdrawError
from .output import write_atomic

__all__ = ["MANIFEST", "Site", "SiteError", "open_site"]

MANIFEST = ".archdraw-manifest.json"
_FORMAT = 1


class SiteError(ArchdrawError, ValueError):
    """The site cannot be written as asked without touching what is not archdraw's."""


def _parts(relative: str) -> tuple[str, ...]:
    """The components of a relative POSIX path inside the site; anything else is refused."""
    path = PurePosixPath(relative)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise SiteError(f"refusing to write {relative!r}: not a plain path inside the site")
    return path.parts


class Site:
    """The files archdraw owns in one site directory (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.listed = (root / MANIFEST).exists()
        self.owned: set[str] = set(self._read_manifest())
        self.written: set[str] = set()

    # -- the manifest -----------------------------------------------------------------------------

    def _read_manifest(self) -> list[str]:
        path = self.root / MANIFEST
        try:
            status = os.lstat(path)
        except FileNotFoundError:
            return []
        if not stat.S_ISREG(status.st_mode):
            raise SiteError(f"{path} is not a regular file; archdraw keeps its list of files there")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SiteError(f"cannot read {path} (archdraw's list of the files it wrote): {exc}") from None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise SiteError(f"{path} is not archdraw's list of files; move it away to build here")
        out = []
        for name in files:
            try:
                _parts(name)
            except SiteError:
                continue  # never act on a path that leads out of the site
            out.append(name)
        return out

    def _write_manifest(self, files: Iterable[str]) -> None:
        document = {"archdraw_manifest": _FORMAT, "files": sorted(set(files))}
        write_atomic(self.root / MANIFEST, (json.dumps(document, indent=1) + "\n").encode("utf-8"))

    def check(self, relatives: Iterable[str]) -> None:
        """Refuse, before anything is written, paths that are links or files archdraw did not write."""
        for relative in relatives:
            self._check(relative)

    def claim(self, relatives: Iterable[str]) -> None:
        """Name files in the manifest before they are written (they must be free or archdraw's)."""
        new = []
        for relative in relatives:
            self._check(relative)
            if relative not in self.owned:
                new.append(relative)
        if new:
            self.owned.update(new)
            self._write_manifest(self.owned)

    # -- paths ------------------------------------------------------------------------------------

    def _lstat(self, relative: str) -> os.stat_result | None:
        try:
            return os.lstat(self.root.joinpath(*_parts(relative)))
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            raise SiteError(f"cannot write {relative}: a part of its path is a file") from None

    def _check(self, relative: str) -> None:
        """Refuse a path that goes through a link or over something that is not archdraw's file."""
        parts = _parts(relative)
        here = self.root
        for part in parts[:-1]:
            here = here / part
            try:
                mode = os.lstat(here).st_mode
            except FileNotFoundError:
                break
            if stat.S_ISLNK(mode):
                raise SiteError(
                    f"refusing to write {relative}: {here} is a link, and a site's links are not followed"
                )
            if not stat.S_ISDIR(mode):
                raise SiteError(f"cannot write {relative}: {here} is not a directory")
        status = self._lstat(relative)
        if status is None:
            return
        if stat.S_ISLNK(status.st_mode):
            raise SiteError(
                f"refusing to write {relative}: it is a link, and a site's links are not followed"
            )
        if not stat.S_ISREG(status.st_mode):
            raise SiteError(f"refusing to write {relative}: it is not a regular file")
        if relative not in self.owned:
            older = (
                ""
                if self.listed
                else " (a site built by archdraw before 0.2.0 has no list of its files: if this is "
                "one, delete it and build again)"
            )
            raise SiteError(
                f"refusing to replace {self.root / relative}: archdraw did not write it. Move it away, "
                f"or build the gallery into another directory{older}"
            )

    def is_file(self, relative: str) -> bool:
        """Whether ``relative`` is one of archdraw's files, there as a regular file (no link)."""
        if relative not in self.owned:
            return False
        try:
            status = self._lstat(relative)
        except SiteError:
            return False
        return status is not None and stat.S_ISREG(status.st_mode) and self._no_links_above(relative)

    def _no_links_above(self, relative: str) -> bool:
        here = self.root
        for part in _parts(relative)[:-1]:
            here = here / part
            try:
                if not stat.S_ISDIR(os.lstat(here).st_mode):
                    return False
            except OSError:
                return False
        return True

    def read(self, relative: str) -> bytes | None:
        """The bytes of one of archdraw's files, or None when it is not there (or not a plain file)."""
        if not self.is_file(relative):
            return None
        try:
            return self.root.joinpath(*_parts(relative)).read_bytes()
        except OSError:
            return None

    # -- writing and removing ---------------------------------------------------------------------

    def write(self, relative: str, data: bytes) -> None:
        """Write one file atomically, only if its bytes change; claimed first if new."""
        self.claim([relative])
        parts = _parts(relative)
        here = self.root
        for part in parts[:-1]:
            here = here / part
            try:
                here.mkdir()
            except FileExistsError:
                pass
            self._check(relative)  # what was made or found there is a directory, not a link
        target = self.root.joinpath(*parts)
        self.written.add(relative)
        if self.read(relative) == data:
            return
        write_atomic(target, data)

    def finish(self) -> list[str]:
        """Remove archdraw's files that this build did not write; the manifest lists the rest.

        Returns what was removed. Directories left empty by a removal go too, never the site.
        """
        removed = []
        for relative in sorted(self.owned - self.written):
            if self.is_file(relative):
                try:
                    self.root.joinpath(*_parts(relative)).unlink()
                except OSError:
                    continue
                removed.append(relative)
                self._prune(relative)
        self.owned = set(self.written) | {r for r in self.owned - self.written if self.is_file(r)}
        self._write_manifest(self.owned)
        return removed

    def _prune(self, relative: str) -> None:
        parts = _parts(relative)[:-1]
        while parts:
            here = self.root.joinpath(*parts)
            try:
                if not stat.S_ISDIR(os.lstat(here).st_mode):
                    return
                here.rmdir()  # only when empty
            except OSError:
                return
            parts = parts[:-1]


@contextmanager
def open_site(root: Path) -> Iterator[Site]:
    """The site at ``root`` (created if missing), held by this build until the block ends."""
    try:
        mode = os.lstat(root).st_mode
    except FileNotFoundError:
        root.mkdir(parents=True, exist_ok=True)
        mode = os.lstat(root).st_mode
    if not stat.S_ISDIR(mode):
        raise SiteError(f"{root} is not a directory")
    lock = _lock(root)
    try:
        yield Site(root)
    finally:
        if lock is not None:
            os.close(lock)  # closing the descriptor releases the lock


def _lock(root: Path) -> int | None:
    """An exclusive lock on the site directory, so two builds into it run one after the other."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: no lock
        return None
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        return None
    return fd
