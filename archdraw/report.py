r"""Machine-readable reports of diagnostics: JSON, GitHub Actions workflow commands and SARIF 2.1.0.

Every text a report carries from outside (a message, which may quote a spec; a file name) is
shown with the characters that would act on a terminal or a log viewer escaped, as ``\x1b``,
``\u202e``: reports land in CI logs as the text format does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from . import __version__
from .codes import OTHER, RULES, rule_of
from .ir import Diagnostic, printable

__all__ = [
    "FORMATS",
    "INFORMATION_URI",
    "SARIF_SCHEMA",
    "FileReport",
    "passed",
    "to_github",
    "to_json",
    "to_sarif",
]

FORMATS = ("text", "json", "github", "sarif")
INFORMATION_URI = "https://pypi.org/project/archdraw-nn/"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


@dataclass(frozen=True, slots=True)
class FileReport:
    """One spec checked: its path as given and every diagnostic it got, in order."""

    path: str
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> int:
        """How many diagnostics are errors."""
        return sum(1 for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> int:
        """How many diagnostics are warnings."""
        return len(self.diagnostics) - self.errors


def _text(text: str) -> str:
    """``text`` with terminal-acting characters escaped; line breaks stay (each format encodes them)."""
    return "\n".join("\r".join(printable(part) for part in line.split("\r")) for line in text.split("\n"))


def passed(files: Sequence[FileReport], strict: bool = False) -> bool:
    """Whether a run passes: no errors, and with ``strict`` no warnings either."""
    return not any(f.errors or (strict and f.warnings) for f in files)


def to_json(files: Sequence[FileReport], strict: bool = False) -> str:
    """One JSON document: every file with its diagnostics, and a summary.

    >>> from archdraw.ir import Span
    >>> d = Diagnostic(Span("a.yaml", 8, 17), "unknown key 'unit' for op dense")
    >>> data = json.loads(to_json([FileReport("a.yaml", (d,))]))
    >>> data["files"][0]["diagnostics"][0]["rule"], data["summary"]["passed"]
    ('AD003', False)
    """
    document = {
        "files": [
            {
                "path": _text(f.path),
                "errors": f.errors,
                "warnings": f.warnings,
                "diagnostics": [
                    {
                        "path": _text(d.span.path),
                        "line": d.span.line,
                        "column": d.span.column,
                        "severity": d.severity.value,
                        "rule": rule_of(d).id,
                        "message": _text(d.message),
                    }
                    for d in f.diagnostics
                ],
            }
            for f in files
        ],
        "summary": {
            "files": len(files),
            "files_with_errors": sum(1 for f in files if f.errors),
            "errors": sum(f.errors for f in files),
            "warnings": sum(f.warnings for f in files),
            "strict": strict,
            "passed": passed(files, strict),
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(files: Sequence[FileReport]) -> str:
    """GitHub Actions workflow commands, one ``::error`` or ``::warning`` line per diagnostic.

    The message escapes ``%``, CR and LF; the properties escape ``:`` and ``,`` too.

    >>> from archdraw.ir import Span
    >>> print(to_github([FileReport("a,b.yaml", (Diagnostic(Span("a,b.yaml", 2, 5), "100% bad"),))]), end="")
    ::error file=a%2Cb.yaml,line=2,col=5,title=archdraw::100%25 bad
    """
    lines = []
    for f in files:
        for d in f.diagnostics:
            props = ",".join(
                f"{key}={_escape_property(value)}"
                for key, value in (
                    ("file", _text(d.span.path)),
                    ("line", str(d.span.line)),
                    ("col", str(d.span.column)),
                    ("title", "archdraw"),
                )
            )
            lines.append(f"::{d.severity.value} {props}::{_escape_data(_text(d.message))}\n")
    return "".join(lines)


def _uri(path: str, root: Path) -> tuple[str, bool]:
    """A SARIF artifact URI for ``path``, and whether it is relative to ``root`` (%SRCROOT%)."""
    absolute = Path(os.path.abspath(Path(path) if Path(path).is_absolute() else root / path))
    try:
        relative = absolute.relative_to(os.path.abspath(root))
    except ValueError:
        return absolute.as_uri(), False
    return quote(PurePosixPath(*relative.parts).as_posix()), True


def _directory_uri(path: Path) -> str:
    uri = Path(os.path.abspath(path)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def to_sarif(files: Sequence[FileReport], root: Path | None = None) -> str:
    """A SARIF 2.1.0 log: one run of archdraw, with its rules and one result per diagnostic.

    Locations are URIs relative to ``root`` (default: the current directory), with forward
    slashes, under the ``%SRCROOT%`` base; a file outside ``root`` gets an absolute file URI.
    """
    base = Path.cwd() if root is None else root
    rules = (*RULES, OTHER)
    index = {rule.id: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for f in files:
        for d in f.diagnostics:
            rule = rule_of(d)
            uri, relative = _uri(d.span.path, base)
            artifact: dict[str, Any] = {"uri": uri}
            if relative:
                artifact["uriBaseId"] = "%SRCROOT%"
            results.append(
                {
                    "ruleId": rule.id,
                    "ruleIndex": index[rule.id],
                    "level": d.severity.value,
                    "message": {"text": _text(d.message)},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": artifact,
                                "region": {
                                    "startLine": max(d.span.line, 1),
                                    "startColumn": max(d.span.column, 1),
                                },
                            }
                        }
                    ],
                }
            )
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "archdraw",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {
                                "id": rule.id,
                                "name": rule.name,
                                "shortDescription": {"text": rule.summary},
                            }
                            for rule in rules
                        ],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": _directory_uri(base)}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
