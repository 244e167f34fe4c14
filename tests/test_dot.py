"""Golden DOT for every spec, and the invariants every rendering keeps."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

import archdraw
from archdraw.dot import escape_html, escape_string
from archdraw.ir import EdgeKind, Graph, Role
from archdraw.views import View, apply_view

from .conftest import SPECS


def analysed(path: Path) -> Graph:
    return archdraw.load(path.relative_to(path.parent.parent)).graph


@pytest.fixture(autouse=True)
def _cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    # Specs are loaded by their path relative to the repository, as a user would name them.
    monkeypatch.chdir(SPECS[0].parent.parent)


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_golden_dot(spec: Path, golden: Callable[[str, str], None]) -> None:
    # The default view: what `archdraw render SPEC` draws.
    graph = analysed(spec)
    shown, _ = apply_view(graph, View.of(graph.view))
    golden(f"{spec.stem}.dot", archdraw.to_dot(shown))


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_dot_is_deterministic_and_passes_are_idempotent(spec: Path) -> None:
    first = analysed(spec)
    second = analysed(spec)
    assert archdraw.to_dot(first) == archdraw.to_dot(second)
    # Running the structural passes again changes nothing.
    again = archdraw.analyze(first, archdraw.PIPELINE[2:])
    assert again.nodes == first.nodes
    assert again.edges == first.edges


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_every_node_and_edge_drawn_once_with_its_kind(spec: Path) -> None:
    graph = analysed(spec)
    dot = archdraw.to_dot(graph)
    for node in graph.nodes:
        assert dot.count(f'id="layer-{node.id}"') == 1, node.id
    lines = [line for line in dot.splitlines() if re.match(r"\s*n\d+ -> n\d+ ", line)]
    # A state input's thin arrow into the layer whose state it is is drawn beside the graph's edges.
    edge_lines = [line for line in lines if 'class="state ' not in line]
    states = {n.id for n in graph.nodes if n.has_role(Role.STATE)}
    owned = [line for line in lines if 'class="state ' in line]
    assert all(re.search(r'class="state from-([\w.]+) ', line)[1] in states for line in owned)  # type: ignore[index]
    assert len(edge_lines) == len(graph.edges)
    for kind in EdgeKind:
        drawn = sum(1 for line in edge_lines if f'class="{kind.value} ' in line)
        assert drawn == sum(1 for e in graph.edges if e.kind is kind), kind


def test_user_strings_cannot_break_dot() -> None:
    text = 'x" -> evil [shape=none] \\N <b>bold</b> & }{'
    spec = f"""
archdraw: 1
name: {escape_yaml(text)}
summary: {escape_yaml(text)}
dims: {{N: 1}}
inputs:
  x: {{shape: [N, 4], label: {escape_yaml(text)}}}
layers:
  - {{id: fc, op: dense, units: 2, label: {escape_yaml(text)}, note: {escape_yaml(text)}}}
"""
    dot = archdraw.to_dot(archdraw.analyze(archdraw.loads(spec)))
    # Outside quoted strings and HTML labels nothing of the user's text remains.
    bare = strip_strings(dot)
    assert "evil" not in bare and "bold" not in bare
    assert bare.count("{") == bare.count("}")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in dot
    assert 'tooltip="fc: x\\" -> evil [shape=none] \\\\N' in dot


def strip_strings(dot: str) -> str:
    """DOT with every quoted string and HTML label removed."""
    out: list[str] = []
    i = 0
    while i < len(dot):
        ch = dot[i]
        if ch == '"':
            i += 1
            while dot[i] != '"':
                i += 2 if dot[i] == "\\" else 1
            i += 1
        elif ch == "<":
            depth = 0
            while True:
                depth += {"<": 1, ">": -1}.get(dot[i], 0)
                i += 1
                if depth == 0:
                    break
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def escape_yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_escape_functions() -> None:
    assert escape_string('a"b\\c') == '"a\\"b\\\\c"'
    assert escape_html('<&>"') == "&lt;&amp;&gt;&quot;"
    # Control characters would make the SVG invalid XML; invisible format characters are dropped.
    assert escape_html("a\x07b\u202ec") == "abc"
    assert len(escape_html("x" * 100_000)) <= 300


def test_esn_and_elm_differ_in_recurrence() -> None:
    esn = analysed(Path("specs/esn.yaml").resolve())
    elm = analysed(Path("specs/elm.yaml").resolve())
    assert [(e.src, e.dst, e.delay) for e in esn.edges if e.kind is EdgeKind.RECURRENT] == [
        ("reservoir", "reservoir", 1)
    ]
    assert not [e for e in elm.edges if e.kind is EdgeKind.RECURRENT]
    assert 'class="recurrent ' in archdraw.to_dot(esn)
    assert 'class="recurrent ' not in archdraw.to_dot(elm)
    # Both hidden layers are fixed random weights: that is not what tells them apart.
    assert not esn.node("reservoir").trainable and not elm.node("hidden").trainable
