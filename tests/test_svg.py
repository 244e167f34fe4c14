"""SVG structure with each layout engine present: node ids, edge classes, valid XML."""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import archdraw
from archdraw.engine import find_engine, run_engine
from archdraw.errors import RenderError
from archdraw.ir import EdgeKind

from .conftest import SPECS, require_engine

SVG = "{http://www.w3.org/2000/svg}"
ENGINES = ("dot", "bundled")


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


@pytest.mark.exe
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_svg_structure(spec: Path, engine: str) -> None:
    require_engine(engine)
    graph = archdraw.load(spec).graph
    svg = run_engine(archdraw.to_dot(graph), "svg", find_engine(engine))
    root = ET.fromstring(svg)
    layer_ids = {g.get("id") for g in groups(root, "layer")}
    assert layer_ids == {f"layer-{n.id}" for n in graph.nodes}
    edges = [g for g in groups(root, "edge") if "state" not in (g.get("class") or "").split()]
    assert len(edges) == len(graph.edges)
    for kind in EdgeKind:
        expected = sum(1 for e in graph.edges if e.kind is kind)
        assert sum(1 for g in edges if kind.value in (g.get("class") or "").split()) == expected
    if graph.edges:
        assert groups(root, "legend"), "a diagram with edges has a legend"


@pytest.mark.exe
@pytest.mark.parametrize("engine", ENGINES)
def test_svg_is_byte_identical_across_runs(engine: str) -> None:
    require_engine(engine)
    dot = archdraw.to_dot(archdraw.load(SPECS[0]).graph)
    chosen = find_engine(engine)
    assert run_engine(dot, "svg", chosen) == run_engine(dot, "svg", chosen)


@pytest.mark.exe
@pytest.mark.parametrize("engine", ENGINES)
def test_png_output(engine: str) -> None:
    require_engine(engine)
    dot = archdraw.to_dot(archdraw.load(SPECS[0]).graph)
    assert run_engine(dot, "png", find_engine(engine)).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.exe
def test_pdf_needs_native_dot() -> None:
    require_engine("bundled")
    dot = archdraw.to_dot(archdraw.load(SPECS[0]).graph)
    with pytest.raises(RenderError, match="cannot write pdf"):
        run_engine(dot, "pdf", find_engine("bundled"))


@pytest.mark.exe
def test_pdf_with_native_dot() -> None:
    require_engine("dot")
    dot = archdraw.to_dot(archdraw.load(SPECS[0]).graph)
    assert run_engine(dot, "pdf", find_engine("dot")).startswith(b"%PDF")


@pytest.mark.exe
@pytest.mark.parametrize("engine", ENGINES)
def test_hostile_labels_stay_text_in_svg(engine: str) -> None:
    require_engine(engine)
    hostile = '<script>alert(1)</script> ]]> </text> "quoted" \\N {{x}} -> digraph'
    spec = f"""
archdraw: 1
name: 'safe'
dims: {{N: 1}}
inputs:
  x: {{shape: [N, 4], label: '{hostile}'}}
layers:
  - {{id: fc, op: dense, units: 2, label: '{hostile}', note: "bell \\a here"}}
"""
    svg = run_engine(archdraw.to_dot(archdraw.analyze(archdraw.loads(spec))), "svg", find_engine(engine))
    root = ET.fromstring(svg)  # valid XML: the BEL was dropped
    assert not list(root.iter(f"{SVG}script"))
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "<script>alert(1)</script>" in texts
    assert '"quoted" \\N' in texts


def test_engine_errors_name_the_engine_and_carry_stderr(tmp_path: Path) -> None:
    fake = tmp_path / "fake-dot"
    fake.write_text("#!/bin/sh\necho 'Error: something broke' >&2\nexit 1\n")
    fake.chmod(0o755)
    from archdraw.engine import Engine

    with pytest.raises(RenderError) as info:
        run_engine("digraph {}", "svg", Engine("dot", str(fake)), what="specs/x.yaml")
    assert "something broke" in str(info.value)
    assert "specs/x.yaml" in str(info.value)


def test_engine_timeout(tmp_path: Path) -> None:
    slow = tmp_path / "slow-dot"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    from archdraw.engine import Engine

    with pytest.raises(RenderError, match=r"longer than 0\.2 s"):
        run_engine("digraph {}", "svg", Engine("dot", str(slow)), timeout=0.2)


def test_engine_timeout_ends_what_the_engine_started(tmp_path: Path) -> None:
    # A wrapper that starts the real work in a child: the timeout must end the child too.
    pidfile = tmp_path / "child.pid"
    wrapper = tmp_path / "wrapper-dot"
    wrapper.write_text(f"#!/bin/sh\nsleep 30 &\necho $! > {pidfile}\nwait\n")
    wrapper.chmod(0o755)
    from archdraw.engine import Engine

    with pytest.raises(RenderError, match="longer than"):
        run_engine("digraph {}", "svg", Engine("dot", str(wrapper)), timeout=0.5)
    child = int(pidfile.read_text())
    for _ in range(50):  # reaped by init shortly after it is killed
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        state = Path(f"/proc/{child}/stat")
        assert state.exists() and state.read_text().split()[2] == "Z", "the engine's child still runs"
