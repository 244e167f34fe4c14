"""Errors and located diagnostics: every problem in a spec names its path, line and column."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence

from .ir import Diagnostic, Severity

__all__ = [
    "ArchdrawError",
    "Diagnostic",
    "EngineNotFoundError",
    "RenderError",
    "Severity",
    "SpecError",
    "Suggester",
    "did_you_mean",
    "format_diagnostic",
]


class ArchdrawError(Exception):
    """Base of every error archdraw raises on purpose."""


class SpecError(ArchdrawError, ValueError):
    """A spec has one or more errors; ``diagnostics`` holds all of them, warnings included."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sorted(diagnostics))
        #: the text of the specs the diagnostics point into, by path, where the raiser had it:
        #: the source line and a caret are shown under each message
        self.sources: dict[str, str] = {}
        super().__init__("\n".join(str(d) for d in self.errors))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of error severity."""
        return tuple(d for d in self.diagnostics if d.is_error)

    def _render_traceback_(self) -> list[str]:
        """What IPython and Jupyter show for this error instead of a traceback.

        The located messages, as ``archdraw validate`` prints them: archdraw's own call stack
        says nothing about what is wrong in the spec.
        """
        return [format_diagnostic(d, self.sources.get(d.span.path)) for d in self.diagnostics]


class RenderError(ArchdrawError, RuntimeError):
    """The layout engine failed; ``stderr`` holds what it said."""

    def __init__(self, message: str, stderr: str = "") -> None:
        self.stderr = stderr
        text = message if not stderr.strip() else f"{message}\n{stderr.strip()}"
        super().__init__(text)


class EngineNotFoundError(RenderError):
    """No Graphviz layout engine could be found."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A `` (did you mean 'x'?)`` suffix naming the closest choice, or "" when none is close.

    A choice that differs only in case always wins, however short the word:

    >>> did_you_mean("fc2", ["fc1", "conv1"])
    " (did you mean 'fc1'?)"
    >>> did_you_mean("ReLU", ["relu", "selu", "tanh"])
    " (did you mean 'relu'?)"
    """
    options = sorted(set(choices))
    folded = word.casefold()
    same = [c for c in options if c.casefold() == folded and c != word]
    if same:
        return f" (did you mean '{same[0]}'?)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Suggester:
    """:func:`did_you_mean` for the first ``budget`` words asked about, then nothing.

    Each suggestion is a pass over the names it chooses from; a spec with thousands of unknown
    names among thousands of known ones would make that quadratic. ``choices`` may be a
    function, so that the names are not even gathered once the budget is spent.

    >>> suggest = Suggester(budget=1)
    >>> suggest("fc2", lambda: ["fc1"]), suggest("fc3", lambda: ["fc1"])
    (" (did you mean 'fc1'?)", '')
    """

    def __init__(self, budget: int = 50) -> None:
        self.left = budget

    def __call__(self, word: str, choices: Iterable[str] | Callable[[], Iterable[str]]) -> str:
        if self.left <= 0:
            return ""
        self.left -= 1
        return did_you_mean(word, choices() if callable(choices) else choices)


def format_diagnostic(diagnostic: Diagnostic, source: str | None) -> str:
    """``path:line:col: error: message``, then the source line and a caret under the column."""
    text = str(diagnostic)
    if source is None:
        return text
    lines = source.splitlines()
    if not 1 <= diagnostic.span.line <= len(lines):
        return text
    # The line is shown as text only: a control character would act on the terminal.
    line = "".join(ch if ch.isprintable() else "?" for ch in lines[diagnostic.span.line - 1].expandtabs(1))
    if len(line) > 200:
        return text
    caret = " " * (max(diagnostic.span.column, 1) - 1) + "^"
    return f"{text}\n  {line}\n  {caret}"
