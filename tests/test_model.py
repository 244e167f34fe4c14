"""The Python API: archdraw.load() to an analysed Model, and the unanalysed read()/loads() beside it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import archdraw
import archdraw.model
from archdraw.engine import Engine
from archdraw.output import OutputError

from .conftest import ROOT, require_engine

LSTM = ROOT / "specs" / "lstm.yaml"
TEXT = """archdraw: 1
name: tiny
dims: {N: 1}
inputs: {x: [N, 4]}
layers:
  - {op: dense, units: 8, act: relu}
  - {op: dense, units: 2}
"""


def test_load_path_str_path_and_text() -> None:
    by_path = archdraw.load(LSTM)
    by_str = archdraw.load(str(LSTM))
    assert isinstance(by_path, archdraw.Model)
    assert by_path.name == by_str.name == "LSTM cell"
    assert by_path.path == LSTM
    assert by_path.graph.expanded
    by_text = archdraw.load(TEXT)
    assert by_text.path is None
    assert by_text.graph.path == "<spec>"
    assert [n["id"] for n in by_text.info()["nodes"]] == ["x", "dense_1", "dense_2"]


def test_text_is_told_from_a_path_by_newline_or_marker(tmp_path: Path) -> None:
    with pytest.raises(archdraw.SpecError) as info:
        archdraw.load("archdraw: 1")  # one line: text, not a file called "archdraw: 1"
    assert str(info.value).startswith("<spec>:")
    with pytest.raises(archdraw.SpecError) as info:
        archdraw.load("missing.yaml")
    assert str(info.value) == "missing.yaml:1:1: error: cannot read spec: No such file or directory"


def test_analyze_of_load_still_works_and_read_is_unanalysed() -> None:
    model = archdraw.load(LSTM)
    assert archdraw.analyze(model) is model.graph
    raw = archdraw.read(LSTM)
    assert not raw.expanded
    assert archdraw.analyze(raw) == model.graph
    assert archdraw.analyze(archdraw.loads(LSTM.read_text(), LSTM.as_posix())) == model.graph


def test_errors_are_raised_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEXT.replace("units: 2", "units: two"))
    with pytest.raises(archdraw.SpecError) as info:
        archdraw.load(bad)
    assert info.value.errors
    assert str(info.value).startswith(f"{bad.as_posix()}:7:")


def test_info_is_the_cli_contract() -> None:
    info = archdraw.load(ROOT / "specs" / "resnet50.yaml").info()
    assert info["params"] == 25_557_032
    assert info == archdraw.to_info(archdraw.load(ROOT / "specs" / "resnet50.yaml").graph)


def test_repr() -> None:
    assert repr(archdraw.load(TEXT)) == "<archdraw.Model 'tiny': 3 nodes, 58 parameters>"


def test_to_dot_uses_the_view_theme_and_rankdir() -> None:
    model = archdraw.load(LSTM)
    plain = model.to_dot()
    assert plain == archdraw.to_dot(model.graph)
    unrolled = model.to_dot(archdraw.View(unroll=3), theme="paper", rankdir="LR")
    shown, _ = archdraw.apply_view(model.graph, archdraw.View(unroll=3))
    assert unrolled == archdraw.to_dot(shown, theme="paper", rankdir="LR")
    assert unrolled != plain


def test_save_picks_the_format_from_the_suffix(tmp_path: Path) -> None:
    model = archdraw.load(LSTM)
    assert model.save(tmp_path / "m.dot") == tmp_path / "m.dot"
    assert (tmp_path / "m.dot").read_text() == model.to_dot()
    model.save(tmp_path / "m.JSON")
    assert json.loads((tmp_path / "m.JSON").read_text()) == model.info()
    model.save(tmp_path / "m.txt", format="dot")
    assert (tmp_path / "m.txt").read_text() == model.to_dot()
    with pytest.raises(ValueError, match="cannot tell the format"):
        model.save(tmp_path / "m.txt")
    with pytest.raises(ValueError, match="unknown format"):
        model.render("gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.JSON", "m.dot", "m.txt"]  # no temp files


def test_save_refuses_to_overwrite_the_spec(tmp_path: Path) -> None:
    spec = tmp_path / "lstm.yaml"
    shutil.copy(LSTM, spec)
    model = archdraw.load(spec)
    with pytest.raises(OutputError, match="it is an input"):
        model.save(spec, format="dot")
    assert spec.read_text() == LSTM.read_text()


@pytest.mark.exe
@pytest.mark.parametrize("engine", ["dot", "bundled"])
def test_to_svg_save_and_inline_display(engine: str, tmp_path: Path) -> None:
    require_engine(engine)
    model = archdraw.load(LSTM)
    svg = model.to_svg(engine=engine)
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:500]
    assert "layer&#45;h_prev" in svg
    model.save(tmp_path / "lstm.svg", engine=engine)
    assert (tmp_path / "lstm.svg").read_text(encoding="utf-8") == svg
    assert "<svg" in (model._repr_svg_() or "")


def test_inline_display_without_an_engine_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(kind: str = "auto") -> Engine:
        raise archdraw.EngineNotFoundError("no Graphviz layout engine found")

    monkeypatch.setattr(archdraw.model, "find_engine", missing)
    model = archdraw.load(LSTM)
    assert model._repr_svg_() is None
    with pytest.raises(archdraw.EngineNotFoundError):
        model.to_svg()


def _ipython() -> Any:
    """An IPython shell, as a notebook's kernel runs cells."""
    pytest.importorskip("IPython", reason="IPython is in the test extra")
    from IPython.testing.globalipapp import get_ipython

    return get_ipython()  # type: ignore[no-untyped-call]


def test_a_spec_error_in_a_notebook_shows_the_located_errors_only() -> None:
    from IPython.utils.capture import capture_output

    shell = _ipython()
    with capture_output() as cell:
        shell.run_cell("import archdraw\narchdraw.load('archdraw: 1\\nname: t\\nlayers: [{op: dence}]\\n')")
    shown = cell.stdout + cell.stderr
    assert "<spec>:3:15: error: unknown op 'dence' (did you mean 'dense'?)" in shown
    assert "  layers: [{op: dence}]\n                ^" in shown  # the source line and a caret
    assert "Traceback" not in shown and "archdraw/model.py" not in shown and "File " not in shown


def test_a_model_without_an_engine_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from IPython.utils.capture import capture_output

    def missing(kind: str = "auto") -> Engine:
        raise archdraw.EngineNotFoundError("no Graphviz layout engine found; install Graphviz")

    shell = _ipython()
    shell.run_cell("import archdraw")
    monkeypatch.setattr(archdraw.model, "find_engine", missing)
    with capture_output() as cell:
        shell.run_cell(f"archdraw.load({str(LSTM)!r})")
    assert "<archdraw.Model 'LSTM cell'" in cell.stdout
    assert "no diagram: no Graphviz layout engine found; install Graphviz" in cell.stdout
