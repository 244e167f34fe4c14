"""The marks in the gallery tell the truth: bottlenecks, skips and recurrence, checked from the papers.

tests/truth/gallery.json lists, for every spec in specs/, the layers that are bottlenecks, the
edges that are skips and the recurrent edges with their direction, each entry checked by hand
against the paper the spec cites (its "checked" note says what the paper shows). Here
``archdraw info --json`` must report exactly that, and the SVG of three views (the default one,
``--depth 1`` and ``--expand-repeats``) must draw no mark the table does not hold, and show
every one it holds: on the layer, or on the collapsed block or folded copy that stands for it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import archdraw
from archdraw.cli import main
from archdraw.ir import EdgeKind
from archdraw.theme import THEMES

from .conftest import ROOT, require_engine

TRUTH = json.loads((ROOT / "tests" / "truth" / "gallery.json").read_text(encoding="utf-8"))
# Rolled views: the table says what the model's marks are (tests/test_unroll.py checks the
# unrolled pictures, which some specs ask for by default).
VIEWS = {
    "default": ["--unroll", "0"],
    "depth1": ["--depth", "1", "--unroll", "0"],
    # Every layer: every repetition, and no block collapsed, whatever depth the spec's view asks.
    "expanded": ["--expand-repeats", "--depth", "1000", "--unroll", "0"],
}
SVG = "{http://www.w3.org/2000/svg}"
SKIP_COLOUR = THEMES["default"].edges[EdgeKind.SKIP]["color"]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    assert exc.value.code == 0, captured.err
    return captured.out


def test_the_table_covers_the_gallery() -> None:
    assert sorted(TRUTH) == sorted(p.stem for p in (ROOT / "specs").glob("*.yaml"))
    for name, entry in TRUTH.items():
        assert entry["paper"] and len(entry["checked"]) > 40, name


def _mark(edge: dict[str, object]) -> str:
    return f"t{'+' if edge['reverse'] else '−'}{edge['delay']}"


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_info_reports_the_true_marks(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    info = json.loads(cli(capsys, "info", "--json", str(ROOT / "specs" / f"{name}.yaml")))
    truth = TRUTH[name]
    assert sorted(n["id"] for n in info["nodes"] if n["role"] == "bottleneck") == truth["bottlenecks"]
    assert sorted([e["src"], e["dst"]] for e in info["edges"] if e["kind"] == "skip") == truth["skips"]
    recurrent = sorted([e["src"], e["dst"], _mark(e)] for e in info["edges"] if e["kind"] == "recurrent")
    # The axis of a delay is the spec's (grid LSTM's depth); its direction and count are info's.
    assert [[s, d, m[-2:]] for s, d, m in recurrent] == [[s, d, m[-2:]] for s, d, m in truth["recurrent"]]
    # A state started from another layer's final state (initial:) is not a recurrent edge.
    assert sorted([e["src"], e["dst"]] for e in info["edges"] if e["initial"]) == truth["initial"]


# -- the pictures ---------------------------------------------------------------------------------


@dataclass
class Picture:
    """What an SVG draws: each node's classes and text, and each edge's kind, ends and label.

    ``around`` gives, for each layer of the analysed spec, the clusters it sits in, innermost
    first: a drawn block node has its cluster's id, so a layer is shown by itself, by the block
    or group it was collapsed into, or by the copy its own copy was folded into.
    """

    nodes: dict[str, tuple[set[str], str]] = field(default_factory=dict)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)
    around: dict[str, list[str]] = field(default_factory=dict)
    # blocks that say, in the skip's colour, "residual" or "densely connected"
    residual: set[str] = field(default_factory=set)

    def covering(self, node_id: str) -> set[str]:
        """The drawn nodes that stand for ``node_id``."""
        chain = [node_id.split("@")[0], *self.around.get(node_id.split("@")[0], [])]
        plain = {_unnumbered(c) for c in chain}
        return {drawn for drawn in self.nodes if drawn.split("@")[0] in chain or _unnumbered(drawn) in plain}


def _unnumbered(node_id: str) -> str:
    """An id without its repetition numbers and time step: ``conv2.3.add@2`` is ``conv2.add``."""
    return ".".join(p for p in node_id.split("@")[0].split(".") if not p.isdigit())


def _text(element: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in element.iter(f"{SVG}text"))


XLINK = "{http://www.w3.org/1999/xlink}"


def picture(svg: str, around: dict[str, list[str]]) -> Picture:
    """What ``svg`` draws; an edge's ends are read from its tooltip, "src → dst (kind)"."""
    shown = Picture(around=around)
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        classes = set(g.get("class", "").split())
        if "node" in classes and (g.get("id") or "").startswith("layer-"):
            node_id = g.get("id", "")[len("layer-") :]
            shown.nodes[node_id] = (classes, _text(g))
            for text in g.iter(f"{SVG}text"):
                said = "".join(text.itertext())
                if text.get("fill") == SKIP_COLOUR and ("residual" in said or "densely connected" in said):
                    shown.residual.add(node_id)
        elif "edge" in classes:
            tip = next(a.get(f"{XLINK}title", "") for a in g.iter(f"{SVG}a"))
            found = re.fullmatch(r"(.+) → (.+) \((\w+)\)", tip)
            assert found, tip
            shown.edges.append((found[3], found[1], found[2], _text(g)))
    return shown


@pytest.mark.exe
@pytest.mark.parametrize(
    "name, view",
    [(n, v) for n in sorted(TRUTH) for v in VIEWS],
    ids=[f"{n}-{v}" for n in sorted(TRUTH) for v in VIEWS],
)
def test_the_picture_draws_the_true_marks(
    name: str, view: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_engine("bundled")
    spec = str(ROOT / "specs" / f"{name}.yaml")
    graph = archdraw.analyze(archdraw.read(spec))
    parents = {c.id: c.parent for c in graph.clusters}
    around: dict[str, list[str]] = {}
    for n in graph.nodes:
        chain, cluster = [], n.cluster
        while cluster:
            chain.append(cluster)
            cluster = parents.get(cluster, "")
        around[n.id] = chain
    out = tmp_path / f"{name}.svg"
    cli(
        capsys,
        "render",
        str(ROOT / "specs" / f"{name}.yaml"),
        "--engine",
        "bundled",
        "-o",
        str(out),
        *VIEWS[view],
    )
    shown = picture(out.read_text(encoding="utf-8"), around)
    truth = TRUTH[name]

    # Bottlenecks: a marked layer is a true one; a true one is marked, or said inside its block.
    for node_id, (classes, _) in shown.nodes.items():
        if "role-bottleneck" in classes:
            assert _unnumbered(node_id) in {_unnumbered(b) for b in truth["bottlenecks"]}, node_id
    for waist in truth["bottlenecks"]:
        covering = shown.covering(waist)
        assert covering, f"{waist} is not drawn at all"
        assert any(
            "role-bottleneck" in shown.nodes[c][0] or re.search(r"bottlenecks? inside", shown.nodes[c][1])
            for c in covering
        ), f"the bottleneck {waist} is not shown"
    if view == "expanded":
        marked = sorted(n for n, (classes, _) in shown.nodes.items() if "role-bottleneck" in classes)
        assert marked == truth["bottlenecks"]

    # Skips: a drawn skip stands for a true one; a true one is drawn, or its block says residual.
    pairs = {(s, d) for kind, s, d, _ in shown.edges if kind == "data"}
    for kind, src, dst, _ in shown.edges:
        if kind != "skip":
            continue
        assert (src, dst) not in pairs, f"a skip beside a data edge {src} → {dst}: it skips nothing"
        assert any(src in shown.covering(s) and dst in shown.covering(d) for s, d in truth["skips"]), (
            f"{src} → {dst} is drawn as a skip"
        )
    for s, d in truth["skips"]:
        drawn = any(k == "skip" and dst in shown.covering(d) for k, _, dst, _ in shown.edges)
        residual = any(c in shown.residual for c in shown.covering(d) if "op-block" in shown.nodes[c][0])
        assert drawn or residual, f"the skip {s} → {d} is not shown"
    if view == "expanded":
        assert sorted([s, d] for k, s, d, _ in shown.edges if k == "skip") == truth["skips"]

    # Recurrence: every true recurrent edge is drawn, with its direction; nothing else is one.
    drawn_recurrent = [(s, d, label) for k, s, d, label in shown.edges if k == "recurrent"]
    for s, d, mark in truth["recurrent"]:
        assert any(
            a in shown.covering(s) and b in shown.covering(d) and (mark in label or "×" not in label)
            for a, b, label in drawn_recurrent
        ), f"the recurrent edge {s} → {d} ({mark}) is not drawn"
    for mark in {m for _, _, m in truth["recurrent"]}:
        unlabelled = [t for t in truth["recurrent"] if t[2] == mark]
        if unlabelled and not any("(" in label or ":" in label for _, _, label in drawn_recurrent):
            assert any(mark in label for _, _, label in drawn_recurrent), f"no edge is marked {mark}"
    for a, b, label in drawn_recurrent:
        if "same weights" in label:  # a folded shared repeat's recursion, not a recurrent edge
            continue
        assert any(a in shown.covering(s) and b in shown.covering(d) for s, d, _ in truth["recurrent"]), (
            a,
            b,
        )
