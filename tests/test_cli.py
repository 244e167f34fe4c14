"""The command line: exit codes, messages, outputs; never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from archdraw.cli import EXIT_RENDER, EXIT_SPEC, EXIT_USAGE, main

from .conftest import ROOT, require_engine


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    code = exc.value.code
    assert isinstance(code, int)
    assert "Traceback" not in captured.err
    return Result(code, captured.out, captured.err)


BROKEN = """archdraw: 1
name: broken
dims: {N: 1}
inputs:
  x: [N, 784]
layers:
  fc1: {op: dense, in: x, units: 256}
  fc3: {op: dense, in: fc2, units: 10}
  out: {op: softmx, in: fc3}
"""


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    return path


def test_validate_clean_gallery(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "validate", str(ROOT / "specs"))
    assert result.code == 0, result.err
    count = len(list((ROOT / "specs").glob("*.yaml")))
    assert f"{count} specs checked: no errors" in result.err


def test_validate_reports_every_error_located(capsys: pytest.CaptureFixture[str], broken: Path) -> None:
    result = run(capsys, "validate", str(broken))
    assert result.code == EXIT_SPEC
    lines = [line for line in result.err.splitlines() if ": error: " in line]
    assert lines == [
        f"{broken.as_posix()}:8:24: error: unknown layer 'fc2' (did you mean 'fc1'?)",
        f"{broken.as_posix()}:9:13: error: unknown op 'softmx' (did you mean 'softmax'?)",
    ]
    # The source line and a caret under the column follow each error.
    assert "  fc3: {op: dense, in: fc2, units: 10}\n                         ^" in result.err
    assert "2 errors in 1 file" in result.err


def test_validate_directory_mixes_good_and_bad(
    capsys: pytest.CaptureFixture[str], broken: Path, tmp_path: Path
) -> None:
    (tmp_path / "good.yml").write_text((ROOT / "specs" / "elm.yaml").read_text())
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "ignored.yaml").write_text("not: a spec")
    result = run(capsys, "validate", str(tmp_path))
    assert result.code == EXIT_SPEC
    assert "2 specs checked: 2 errors in 1 file" in result.err


def test_validate_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "validate").code == EXIT_USAGE
    assert run(capsys, "validate", str(tmp_path / "missing.yaml")).code == EXIT_USAGE
    result = run(capsys, "validate", str(tmp_path))
    assert result.code == EXIT_USAGE
    assert "no specs" in result.err
    assert run(capsys, "render", "--format", "gif", str(ROOT / "specs" / "esn.yaml")).code == EXIT_USAGE


def test_info_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    esn = json.loads(run(capsys, "info", str(ROOT / "specs" / "esn.yaml"), "--json").out)
    assert set(esn) == {
        "name",
        "params",
        "trainable_params",
        "non_trainable_params",
        "macs",
        "nodes",
        "edges",
    }
    assert esn["name"] == "Echo state network"
    # The fixed reservoir is non-trainable, as Keras' summary counts it; the readout is trained.
    reservoir = next(n["params"] for n in esn["nodes"] if n["id"] == "reservoir")
    assert (esn["trainable_params"], esn["non_trainable_params"]) == (esn["params"] - reservoir, reservoir)
    for node in esn["nodes"]:
        assert set(node) == {"id", "op", "label", "group", "shape", "params", "macs", "role", "loop"}
    # The reservoir's loop holds the input it reads at every step and the readout it feeds.
    assert {n["id"]: n["loop"] for n in esn["nodes"]} == {
        "u": "reservoir",
        "reservoir": "reservoir",
        "readout": "reservoir",
    }
    for edge in esn["edges"]:
        assert set(edge) == {"src", "dst", "kind", "delay", "reverse", "initial"}
        assert edge["kind"] in {"data", "skip", "recurrent", "gradient", "undirected"}
    assert [e for e in esn["edges"] if e["kind"] == "recurrent"] == [
        {
            "src": "reservoir",
            "dst": "reservoir",
            "kind": "recurrent",
            "delay": 1,
            "reverse": False,
            "initial": False,
        }
    ]
    elm = json.loads(run(capsys, "info", str(ROOT / "specs" / "elm.yaml"), "--json").out)
    assert not [e for e in elm["edges"] if e["kind"] == "recurrent"]


def test_info_text(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "info", str(ROOT / "specs" / "resnet_block.yaml"))
    assert result.code == 0
    assert "skip 1" in result.out


def test_render_dot_and_json_need_no_engine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot, no graphviz-pure on PATH
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    out = tmp_path / "lstm.dot"
    assert run(capsys, "render", str(ROOT / "specs" / "lstm.yaml"), "-o", str(out)).code == 0
    assert out.read_text().startswith("digraph archdraw {")
    result = run(capsys, "render", str(ROOT / "specs" / "lstm.yaml"), "-f", "json", "-o", "-")
    assert json.loads(result.out)["name"] == "LSTM cell"
    # SVG needs an engine: one clear message naming both ways to get one.
    result = run(capsys, "render", str(ROOT / "specs" / "lstm.yaml"), "-o", str(tmp_path / "x.svg"))
    assert result.code == EXIT_RENDER
    assert "apt-get install graphviz" in result.err and "archdraw-nn[bundled]" in result.err
    assert not (tmp_path / "x.svg").exists()


@pytest.mark.exe
@pytest.mark.parametrize("engine", ["dot", "bundled"])
def test_render_svg_default_output_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    require_engine(engine)
    monkeypatch.chdir(tmp_path)
    result = run(capsys, "render", str(ROOT / "specs" / "lstm.yaml"), "--engine", engine)
    assert result.code == 0, result.err
    assert result.err.strip() == "wrote lstm.svg"
    svg = (tmp_path / "lstm.svg").read_text()
    assert 'class="edge recurrent' in svg
    assert not list(tmp_path.glob(".*.tmp"))


def test_failed_render_keeps_earlier_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, broken: Path
) -> None:
    out = tmp_path / "broken.svg"
    out.write_text("earlier")
    assert run(capsys, "render", str(broken), "-o", str(out)).code == EXIT_SPEC
    assert out.read_text() == "earlier"


def test_refuses_to_overwrite_the_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = tmp_path / "esn.yaml"
    text = (ROOT / "specs" / "esn.yaml").read_text()
    spec.write_text(text)
    result = run(capsys, "render", str(spec), "-f", "dot", "-o", str(spec))
    assert result.code == EXIT_RENDER
    assert "it is an input" in result.err
    assert spec.read_text() == text


def test_unwritable_output_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = run(
        capsys, "render", str(ROOT / "specs" / "esn.yaml"), "-f", "dot", "-o", str(tmp_path / "no" / "x.dot")
    )
    assert result.code == EXIT_RENDER
    assert "does not exist" in result.err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version").code == 0
    result = run(capsys, "--help")
    assert result.code == 0
    assert "render" in result.out and "validate" in result.out and "info" in result.out


def test_python_dash_m_entry_point(broken: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "archdraw", "validate", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == EXIT_SPEC
    assert "unknown layer 'fc2'" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- small promises: each as the user meets it ------------------------------------------------------


def test_an_unknown_output_suffix_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out.jpg"
    result = run(capsys, "render", str(ROOT / "specs" / "mlp.yaml"), "-o", str(out))
    assert result.code == EXIT_USAGE
    assert "out.jpg" in result.err and "svg, png, pdf, dot, json" in result.err
    assert not out.exists()
    # With -f the name is the user's choice; without a suffix the format is svg's default.
    result = run(capsys, "render", str(ROOT / "specs" / "mlp.yaml"), "-f", "dot", "-o", str(out))
    assert result.code == 0 and out.read_text().startswith("digraph archdraw {")


def _node_ids(dot: str) -> set[str]:
    """The spec ids of the nodes a DOT text draws (their id= attributes)."""
    import re

    return set(re.findall(r'\bid="layer-([^"]+)"', dot))


def test_expand_on_the_command_line_replaces_the_specs(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/cli.md: command-line view options replace the spec's view: section."""
    googlenet = str(ROOT / "specs" / "googlenet.yaml")  # view: {expand: [inception3a]}
    spec_view = _node_ids(run(capsys, "render", googlenet, "-f", "dot", "-o", "-").out)
    assert "inception3a.cat" in spec_view and "inception4a.cat" not in spec_view
    asked = _node_ids(run(capsys, "render", googlenet, "--expand", "inception4a", "-f", "dot", "-o", "-").out)
    assert "inception4a.cat" in asked and "inception3a.cat" not in asked


def test_expanding_an_unknown_name_says_what_was_meant(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(
        capsys, "render", str(ROOT / "specs" / "googlenet.yaml"), "--expand", "inception4z", "-o", "-"
    )
    assert result.code == EXIT_USAGE and not result.out
    assert "'inception4z'" in result.err and "did you mean 'inception4" in result.err
    result = run(capsys, "render", str(ROOT / "specs" / "mlp.yaml"), "--expand", "nothere", "-o", "-")
    assert result.code == EXIT_USAGE and "no blocks" in result.err


def test_an_unknown_name_in_the_specs_view_is_located(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "g.yaml"
    text = (ROOT / "specs" / "googlenet.yaml").read_text(encoding="utf-8")
    spec.write_text(text.replace("view: {expand: [inception3a]}", "view: {expand: [inception3z]}"))
    result = run(capsys, "validate", str(spec))
    assert result.code == EXIT_SPEC
    assert (
        f"{spec.as_posix()}:9:17: error: view expand: no block or block call is named 'inception3z' "
        "(did you mean 'inception3"
    ) in result.err


def test_validate_execute_passes_the_gallery(capsys: pytest.CaptureFixture[str]) -> None:
    """A spec too large to run is not wrong: a warning (which --strict makes a failure)."""
    result = run(capsys, "validate", "--execute", str(ROOT / "specs"))
    assert result.code == 0, result.err
    assert "warning: not executed:" in result.err and "no errors" in result.err
    assert run(capsys, "validate", "--execute", "--strict", str(ROOT / "specs")).code == EXIT_SPEC


def test_info_text_gives_the_totals(capsys: pytest.CaptureFixture[str]) -> None:
    """The totals of the text report are those of the JSON contract, written out."""
    for name in ("resnet50", "esn"):
        spec = str(ROOT / "specs" / f"{name}.yaml")
        report = json.loads(run(capsys, "info", spec, "--json").out)
        text = run(capsys, "info", spec).out
        assert f"parameters: {report['params']:,}" in text
        assert f"MACs: {report['macs']:,} at N=1" in text
    esn = run(capsys, "info", str(ROOT / "specs" / "esn.yaml")).out
    assert "(1,002 trainable, 255,500 fixed)" in esn  # readout 500·2 + 2; reservoir 10·500 + 500² ... fixed
