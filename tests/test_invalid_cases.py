"""Data-driven error tests: each tests/cases/invalid/*.yaml names in its header the diagnostics it gets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import archdraw

CASES_DIR = Path(__file__).resolve().parent / "cases" / "invalid"
CASES = sorted(CASES_DIR.glob("*.yaml"))
MIN_CASES = 25

# A case starts with one header line per expected diagnostic, in the order they are reported:
#   # error: LINE:COL: message        (or  # warning: LINE:COL: message)
# and may add, after them, a line marking a known bug in archdraw (the test is then a strict xfail):
#   # xfail: what archdraw does wrong
_EXPECT_PREFIXES = ("# error: ", "# warning: ")
_XFAIL_PREFIX = "# xfail: "


@dataclass(frozen=True)
class Header:
    """What a case's header comments say: the expected diagnostics, and the xfail reason if any."""

    expected: tuple[str, ...]
    xfail: str | None


def read_header(path: Path) -> Header:
    """Parse the leading comment lines of a case (a case need not be valid UTF-8 past them)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    expected: list[str] = []
    xfail: str | None = None
    for line in text.splitlines():
        if line.startswith(_EXPECT_PREFIXES):
            expected.append(line.removeprefix("# "))
        elif line.startswith(_XFAIL_PREFIX):
            xfail = line.removeprefix(_XFAIL_PREFIX).strip()
        else:
            break
    return Header(tuple(expected), xfail)


def _marks(path: Path) -> list[pytest.MarkDecorator]:
    reason = read_header(path).xfail
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def _format(diagnostic: archdraw.Diagnostic) -> str:
    span = diagnostic.span
    return f"{diagnostic.severity.value}: {span.line}:{span.column}: {diagnostic.message}"


@pytest.mark.parametrize("path", [pytest.param(path, id=path.stem, marks=_marks(path)) for path in CASES])
def test_invalid_case(path: Path) -> None:
    expected = list(read_header(path).expected)
    assert expected, f"{path.name} has no '# error:' or '# warning:' header lines"
    if any(line.startswith("error: ") for line in expected):
        with pytest.raises(archdraw.SpecError) as info:
            archdraw.analyze(archdraw.read(path))
        diagnostics = info.value.diagnostics
    else:
        # Warnings alone do not raise: the spec must analyse, and carry the warnings on the graph.
        diagnostics = archdraw.analyze(archdraw.read(path)).diagnostics
    assert [_format(d) for d in diagnostics] == expected


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= MIN_CASES, f"only {len(CASES)} cases in {CASES_DIR}"


def test_every_case_starts_with_an_expectation() -> None:
    for path in CASES:
        with path.open("rb") as f:
            first = f.readline().decode("utf-8", errors="replace")
        assert first.startswith(("# error:", "# warning:")), f"{path.name} starts with {first!r}"
