"""The Sphinx extension: a small project built with ``.. archdraw::`` pages, cached, failing on bad specs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from sphinx.cmd.build import build_main

from archdraw.engine import run_engine

from .conftest import ROOT, require_engine

INDEX = """\
Models
======

.. archdraw:: specs/lstm.yaml
   :caption: An *LSTM* cell, two steps.
   :unroll: 2
   :name: fig-lstm

.. toctree::

   sub/page
"""
PAGE = """\
Another page
============

.. archdraw:: ../specs/lstm.yaml
   :theme: dark
   :width: 50%
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "specs").mkdir(parents=True)
    (src / "sub").mkdir()
    shutil.copy(ROOT / "specs" / "lstm.yaml", src / "specs" / "lstm.yaml")
    (src / "conf.py").write_text('project = "demo"\nextensions = ["archdraw.sphinx"]\n')
    (src / "index.rst").write_text(INDEX)
    (src / "sub" / "page.rst").write_text(PAGE)
    return src


def build(src: Path, *options: str) -> tuple[int, str]:
    """Build HTML into src/../out with warnings as errors; the exit code and the warnings."""
    warnings = src.parent / "warnings.txt"
    code = build_main(
        ["-b", "html", "-q", "-W", "-w", str(warnings), *options, str(src), str(src.parent / "out")]
    )
    return code, warnings.read_text(encoding="utf-8") if warnings.exists() else ""


def images(html: str) -> list[str]:
    return re.findall(r'<img alt="LSTM cell" src="((?:\.\./)?_images/lstm-[0-9a-f]+\.svg)"', html)


def count_layouts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def counting(dot: str, fmt: str, *args: Any, **kwargs: Any) -> bytes:
        calls.append(fmt)
        return run_engine(dot, fmt, *args, **kwargs)

    monkeypatch.setattr("archdraw.model.run_engine", counting)
    return calls


@pytest.mark.exe
def test_directive_renders_figures_with_captions(project: Path) -> None:
    require_engine("auto")
    code, warnings = build(project)
    assert (code, warnings) == (0, "")
    out = project.parent / "out"
    index = (out / "index.html").read_text(encoding="utf-8")
    [src] = images(index)
    assert "<figcaption>" in index
    assert "An <em>LSTM</em> cell, two steps." in index
    assert 'id="fig-lstm"' in index
    svg = (out / src).read_text(encoding="utf-8")
    assert "<svg" in svg
    assert "t = 2" in svg, "the :unroll: option is applied"
    page = (out / "sub" / "page.html").read_text(encoding="utf-8")
    [other] = images(page)
    assert other.startswith("../_images/") and Path(other).name != Path(src).name
    assert 'style="width: 50%;"' in page


@pytest.mark.exe
def test_unchanged_specs_come_from_the_cache_and_edits_rebuild(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_engine("auto")
    assert build(project) == (0, "")
    calls = count_layouts(monkeypatch)
    assert build(project, "-E") == (0, "")  # every page read again: the diagrams are cached
    assert calls == []
    spec = project / "specs" / "lstm.yaml"
    spec.write_text(spec.read_text().replace("label: forget gate", "label: forget gate (new)"))
    assert build(project) == (0, "")  # the spec is a dependency of both pages
    assert calls == ["svg", "svg"]
    out = project.parent / "out"
    [src] = images((out / "index.html").read_text(encoding="utf-8"))
    assert "forget gate (new)" in (out / src).read_text(encoding="utf-8")


def test_a_bad_spec_fails_the_build_at_its_line(project: Path) -> None:
    spec = project / "specs" / "lstm.yaml"
    spec.write_text(spec.read_text().replace("in: xh, units: H, act: tanh", "in: xhh, units: H, act: tanh"))
    code, warnings = build(project)
    assert code != 0
    located = f"{spec.as_posix()}:17:22: error: unknown layer 'xhh' (did you mean 'xh'?)"
    assert f"index.rst:4: ERROR: {located}" in warnings
    assert f"page.rst:4: ERROR: {located}" in warnings
    assert "in: xhh" in warnings, "the source line is shown under the location"


def test_a_missing_spec_and_a_bad_option_fail_the_build(project: Path) -> None:
    (project / "index.rst").write_text(INDEX.replace("specs/lstm.yaml", "specs/gone.yaml"))
    (project / "sub" / "page.rst").write_text(PAGE.replace(":theme: dark", ":theme: neon"))
    code, warnings = build(project)
    assert code != 0
    assert "gone.yaml: cannot read spec: No such file or directory" in warnings
    assert "neon" in warnings and "theme" in warnings


def test_a_bad_engine_setting_is_a_config_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "conf.py").write_text('extensions = ["archdraw.sphinx"]\narchdraw_engine = "neato"\n')
    code, _ = build(project)
    assert code != 0
    assert "archdraw_engine must be one of auto, dot, bundled, not 'neato'" in capsys.readouterr().err
