"""Run the Graphviz layout engine: the one place archdraw starts a subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .dot import ARROW_FONT
from .errors import EngineNotFoundError, RenderError

__all__ = ["ENGINES", "FORMATS", "Engine", "end_engines", "engine_version", "find_engine", "run_engine"]

ENGINES: Final = ("auto", "dot", "bundled")
FORMATS: Final = ("svg", "png", "pdf")
DEFAULT_TIMEOUT: Final = 60.0
_BUNDLED = "graphviz-pure"
_INSTALL_HINT = (
    "install Graphviz (e.g. 'apt-get install graphviz' or 'brew install graphviz'), "
    "or the bundled engine with 'pip install \"archdraw-nn[bundled]\"'"
)


@dataclass(frozen=True, slots=True)
class Engine:
    """A layout engine: which kind, and the executable that runs it."""

    kind: str
    executable: str

    @property
    def formats(self) -> tuple[str, ...]:
        """The output formats this engine writes."""
        return FORMATS if self.kind == "dot" else ("svg", "png")


def _bundled() -> str | None:
    # Next to this interpreter first: a venv's bin/ need not be on PATH.
    beside = Path(sys.executable).parent / (_BUNDLED + (".exe" if os.name == "nt" else ""))
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(_BUNDLED)


def find_engine(kind: str = "auto") -> Engine:
    """The engine to use: ``dot`` on PATH, else the bundled ``graphviz-pure``, for ``auto``."""
    if kind not in ENGINES:
        raise ValueError(f"unknown engine {kind!r} (must be one of {', '.join(ENGINES)})")
    if kind in ("auto", "dot"):
        found = shutil.which("dot")
        if found:
            return Engine("dot", found)
        if kind == "dot":
            raise EngineNotFoundError(f"Graphviz 'dot' was not found on PATH; {_INSTALL_HINT}")
    bundled = _bundled()
    if bundled:
        return Engine("bundled", bundled)
    if kind == "bundled":
        raise EngineNotFoundError(
            "the bundled engine (graphviz-pure) is not installed; "
            "install it with 'pip install \"archdraw-nn[bundled]\"'"
        )
    raise EngineNotFoundError(f"no Graphviz layout engine found; {_INSTALL_HINT}")


def for_bundled(dot_source: str, fmt: str = "svg") -> str:
    """The DOT text as the bundled engine draws it best.

    Arrows in the text's own font: Graphviz draws ``→`` in Arial (Liberation Sans) small and
    low, so archdraw writes arrows in DejaVu Sans (see :func:`archdraw.dot.to_dot`); the
    bundled engine has no DejaVu and its Arimo arrow is right, while a font it lacks is drawn
    in its serif but measured otherwise. Its PNG does not lower a subscript (its SVG does):
    there a subscript is drawn smaller, so that ``L_y`` does not read "Ly".
    """
    for arrow in "→↔":
        dot_source = dot_source.replace(f'<font face="{ARROW_FONT}">{arrow}</font>', arrow)
    if fmt == "png":
        dot_source = dot_source.replace("<sub>", '<font point-size="7">').replace("</sub>", "</font>")
    return dot_source


def run_engine(
    dot_source: str, fmt: str, engine: Engine, *, timeout: float = DEFAULT_TIMEOUT, what: str = ""
) -> bytes:
    """Lay out ``dot_source`` and return the ``fmt`` output bytes.

    archdraw writes the DOT itself, so a DOT syntax error here is archdraw's bug, and the
    message says so and names ``what`` (the spec) that triggered it.
    """
    if fmt not in engine.formats:
        raise RenderError(
            f"the {engine.kind} engine cannot write {fmt}; it writes {', '.join(engine.formats)}"
            + ("; install Graphviz for pdf" if fmt == "pdf" else "")
        )
    if engine.kind == "bundled":
        dot_source = for_bundled(dot_source, fmt)
    try:
        # Its own session, so a timeout or an interrupt ends the engine and anything it started.
        proc = subprocess.Popen(
            [engine.executable, f"-T{fmt}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
    except OSError as exc:
        raise EngineNotFoundError(f"cannot run {engine.executable}: {exc.strerror}") from None
    _RUNNING.add(proc)
    try:
        out, err = proc.communicate(dot_source.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise RenderError(
            f"layout took longer than {timeout:g} s{f' for {what}' if what else ''}; "
            "draw fewer nodes (fold repeats) or raise the timeout"
        ) from None
    except BaseException:
        _kill(proc)
        raise
    finally:
        _RUNNING.discard(proc)
    stderr = err.decode("utf-8", errors="replace")
    if proc.returncode != 0 or not out:
        if "syntax error" in stderr:
            raise RenderError(
                f"archdraw produced DOT that {engine.kind} rejects{f' for {what}' if what else ''}: "
                "this is a bug in archdraw, please report it with the spec",
                stderr,
            )
        raise RenderError(
            f"{engine.kind} failed (exit {proc.returncode}){f' for {what}' if what else ''}", stderr
        )
    return out


# The engines this process is running now, so that a process told to stop can end them first.
_RUNNING: set[subprocess.Popen[bytes]] = set()


def end_engines() -> None:
    """End every layout engine this process is running (and what each started), at once."""
    for proc in list(_RUNNING):
        _signal_group(proc)


def _signal_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the engine's whole process group (it may have started others)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - no process groups
            proc.kill()
    except OSError:
        pass  # already gone


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End the engine's whole process group and reap it."""
    _signal_group(proc)
    proc.communicate()


def engine_version(engine: Engine) -> str:
    """What the engine says its version is (``dot -V``), for cache keys; "" if it will not say."""
    try:
        proc = subprocess.run([engine.executable, "-V"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (proc.stderr or proc.stdout).decode("utf-8", errors="replace").strip()
