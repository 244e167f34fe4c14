"""Every theme draws every spec, takes all its colours from the theme, and keeps the grammar."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import pytest

import archdraw
from archdraw.dot import _EDGE_MEANING
from archdraw.engine import find_engine, run_engine
from archdraw.ir import EdgeKind, Graph, OpFamily, Role
from archdraw.theme import THEMES, Theme
from archdraw.views import RECURSION, View, apply_view

from .conftest import SPECS, require_engine

NAMES = tuple(THEMES)
VIEWS = ("full", "default")
SPEC_IDS = [p.stem for p in SPECS]
# Colour attributes of DOT statements and of HTML-like labels (font, table, td).
_COLOUR = re.compile(r'\b(?:color|fillcolor|fontcolor|bgcolor|pencolor)="([^"]*)"')
_NAMED = {"white": "#ffffff", "black": "#000000"}
OKABE_ITO = {"#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7"}


def build(path: Path, view: str = "full") -> Graph:
    """The whole graph, or the default view of it (what `archdraw render` draws: blocks folded)."""
    graph = archdraw.load(path).graph
    return graph if view == "full" else apply_view(graph, View.of(graph.view))[0]


analysed = cache(build)


def colours(dot: str) -> list[str]:
    """Every colour a diagram uses; a colour list (a double line, "#000:#fff:#000") by its parts."""
    return [part for found in _COLOUR.findall(dot) for part in found.split(":")]


def rgb(colour: str) -> tuple[int, int, int]:
    value = _NAMED.get(colour.lower(), colour)
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", value), f"not an #rrggbb colour: {colour!r}"
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def contrast(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two colours."""

    def luminance(colour: str) -> float:
        def channel(v: int) -> float:
            c = v / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in rgb(colour))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def theme_strings(theme: Theme) -> set[str]:
    """Every string a theme holds: the only colours its DOT may contain."""

    def walk(value: object) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, tuple):
            for v in value:
                yield from walk(v)
        elif isinstance(value, Mapping):
            for v in value.values():
                yield from walk(v)

    return {s for name in theme.__dataclass_fields__ for s in walk(getattr(theme, name))}


def legend(dot: str) -> str:
    lines = [line for line in dot.splitlines() if line.lstrip().startswith("legend ")]
    assert len(lines) <= 1
    return lines[0] if lines else ""


def test_the_four_themes_exist_and_are_complete() -> None:
    assert set(NAMES) == {"default", "paper", "dark", "colorblind"}
    for name, theme in THEMES.items():
        assert theme.name == name
        assert theme.font == "Arial"
        # Families a theme leaves out (a collapsed block) are drawn in its CUSTOM colours.
        assert OpFamily.CUSTOM in theme.families
        assert set(theme.families) == set(THEMES["default"].families)
        assert set(theme.edges) == set(EdgeKind)


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("theme", NAMES)
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_theme_draws_every_spec_with_its_own_colours(spec: Path, theme: str, view: str) -> None:
    graph = analysed(spec, view)
    dot = archdraw.to_dot(graph, theme=theme)
    assert dot.startswith("digraph archdraw {") and dot.endswith("}\n")
    for node in graph.nodes:
        assert dot.count(f'id="layer-{node.id}"') == 1, node.id
    used = colours(dot)
    assert used, "a diagram has colours"
    allowed = theme_strings(THEMES[theme])
    assert set(used) <= allowed, f"colours not from the {theme} theme: {sorted(set(used) - allowed)}"


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("theme", NAMES)
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_dot_of_every_theme_is_deterministic(spec: Path, theme: str, view: str) -> None:
    first = archdraw.to_dot(build(spec, view), theme=theme)
    second = archdraw.to_dot(build(spec, view), theme=theme)
    assert first == second


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_paper_is_greys_only(spec: Path, view: str) -> None:
    dot = archdraw.to_dot(analysed(spec, view), theme="paper")
    for colour in colours(dot):
        r, g, b = rgb(colour)
        assert r == g == b, f"paper uses the colour {colour}"


def test_paper_theme_holds_no_colour_at_all() -> None:
    for value in theme_strings(THEMES["paper"]):
        if value.startswith("#") or value.lower() in _NAMED:
            r, g, b = rgb(value)
            assert r == g == b, value


def test_paper_edge_kinds_differ_without_colour() -> None:
    edges = THEMES["paper"].edges

    def line(kind: EdgeKind) -> tuple[str, float, str]:
        attrs = edges[kind]
        return attrs.get("style", "solid"), float(attrs.get("penwidth", "1")), attrs.get("dir", "forward")

    looks = {kind: line(kind) for kind in EdgeKind}
    assert len(set(looks.values())) == len(looks), looks
    # The legend's swatches (style and rounded width) tell them apart too.
    swatches = {(style, max(1, round(width))) for style, width, _ in looks.values()}
    assert len(swatches) == len(looks)
    assert looks[EdgeKind.RECURRENT][1] > max(
        w for k, (_, w, _) in looks.items() if k is not EdgeKind.RECURRENT
    )
    assert looks[EdgeKind.UNDIRECTED][2] == "none"


def test_paper_marks_fixed_and_bottleneck_by_line_not_colour() -> None:
    spec = """
archdraw: 1
name: marks
dims: {N: 1}
inputs:
  x: {shape: [N, 8]}
layers:
  - {id: frozen, op: dense, units: 4, trainable: false}
  - {id: narrow, op: dense, units: 2, role: bottleneck}
  - {id: out, op: dense, units: 4}
  - {id: head, op: dense, units: 1}
"""
    dot = archdraw.to_dot(archdraw.analyze(archdraw.loads(spec)), theme="paper")
    node = {
        m.group(1): m.group(0) for m in re.finditer(r'n\d+ \[[^\n]*id="layer-(\w+)"[^\n]*', dot, flags=re.M)
    }
    assert 'style="rounded,filled,dotted"' in node["frozen"]
    assert 'penwidth="2.4"' in node["frozen"]
    assert 'penwidth="3.4"' in node["narrow"]
    assert "dotted" not in node["narrow"] and "penwidth" not in node["out"]
    table = legend(dot)
    assert 'style="rounded,dotted"' in table and 'border="3"' in table


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("theme", NAMES)
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_legend_lists_only_the_edge_kinds_used(spec: Path, theme: str, view: str) -> None:
    graph = analysed(spec, view)
    table = legend(archdraw.to_dot(graph, theme=theme))
    for kind in EdgeKind:
        used = any(e.kind is kind and e.axis != RECURSION for e in graph.edges)
        meaning = _EDGE_MEANING[kind]
        if kind is EdgeKind.RECURRENT:  # unrolled, a state runs from step to step
            meaning = "state carried to the next step" if graph.steps else "recurrent edge from an earlier"
        assert (meaning in table) == used, kind
    blocks = [n for n in graph.nodes if n.op == "block"]
    marks = {
        "state fed back": any(n.has_role(Role.STATE) for n in graph.nodes),
        "fixed weights (not trained by gradient)": any(not n.trainable for n in graph.nodes),
        ">bottleneck<": any(n.has_role(Role.BOTTLENECK) for n in graph.nodes),
        "layer on a shortcut": any(n.has_role(Role.SHORTCUT) for n in graph.nodes),
        "recursion: the block applied again": any(e.axis == RECURSION for e in graph.edges),
        ("(backwards: to the step before)" if graph.steps else "or a later (+) step"): any(
            e.reverse for e in graph.edges
        ),
        "residual block: its shortcut runs inside it": any(n.attr("residual") for n in blocks),
    }
    for text, used in marks.items():
        assert (text in table) == used, text


def test_the_specs_cover_every_edge_kind() -> None:
    # So that the legend test above sees each kind both present and absent.
    kinds = {e.kind for spec in SPECS for e in analysed(spec).edges}
    assert kinds == set(EdgeKind)


@pytest.mark.parametrize("theme", NAMES)
def test_text_is_readable_on_every_fill(theme: str) -> None:
    th = THEMES[theme]
    fills = [fill for fill, _ in (*th.families.values(), th.state, th.output)]
    fills += [th.background, th.cluster_fill, th.legend_fill]
    for fill in fills:
        assert contrast(th.text, fill) >= 7, (fill, th.text)
        assert contrast(th.muted, fill) >= 4, (fill, th.muted)
    for kind, attrs in th.edges.items():
        assert contrast(attrs.get("color", th.edge), th.background) >= 3, kind
        assert contrast(attrs.get("fontcolor", th.muted), th.background) >= 3, kind


def test_dark_theme_is_dark_with_light_text() -> None:
    th = THEMES["dark"]
    assert sum(rgb(th.background)) < 3 * 64
    assert sum(rgb(th.text)) > 3 * 200
    for fill, border in th.families.values():
        assert sum(rgb(fill)) < 3 * 80, fill  # muted dark tints
        assert contrast(border, fill) >= 4, (border, fill)  # bright borders


def test_colorblind_theme_uses_okabe_ito() -> None:
    th = THEMES["colorblind"]
    for kind in EdgeKind:
        if kind is not EdgeKind.DATA:
            assert th.edges[kind]["color"].lower() in OKABE_ITO, kind
    default = THEMES["default"]
    for family, (_, border) in th.families.items():
        if default.families[family] != th.families[family]:  # the neutral greys stay as they were
            assert border.lower() in OKABE_ITO, family
    for kind in EdgeKind:  # line styles as in default
        for attr in ("style", "penwidth", "dir", "arrowtail", "constraint"):
            assert th.edges[kind].get(attr) == default.edges[kind].get(attr), (kind, attr)


@pytest.mark.exe
@pytest.mark.parametrize("engine", ("dot", "bundled"))
@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("theme", NAMES)
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_theme_renders_svg(spec: Path, theme: str, view: str, engine: str) -> None:
    require_engine(engine)
    graph = analysed(spec, view)
    svg = run_engine(archdraw.to_dot(graph, theme=theme), "svg", find_engine(engine))
    root = ET.fromstring(svg)
    ids = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert {f"layer-{n.id}" for n in graph.nodes} <= ids
