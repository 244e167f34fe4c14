"""Every word and number in every gallery diagram reads right (default view, both engines).

Each test renders the whole gallery and reads the SVG text a reader sees; a pattern that
misleads (``N×X+H``, ``2*H``, ``conv2d_1``, ``L_y``, a dropped space) fails on any spec.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import archdraw
from archdraw.cli import main
from archdraw.dot import ARROW_FONT, SUMMARY_WIDTH

from .conftest import ROOT, require_engine

SVG = "{http://www.w3.org/2000/svg}"
SPECS = sorted(p.stem for p in (ROOT / "specs").glob("*.yaml"))
# Each SVG is written here, read and removed: a directory of this run's own, so that two runs
# at once (or a file left by another user) do not meet.
_OUT = Path(tempfile.mkdtemp(prefix="archdraw-text-"))
atexit.register(shutil.rmtree, _OUT, ignore_errors=True)
ENGINES = ["dot", "bundled"]


@cache
def svg(name: str, engine: str, *options: str) -> ET.Element:
    """The SVG of a gallery spec, rendered once per session."""
    require_engine(engine)
    out = _OUT / f"{engine}-{name}-{'-'.join(options)}.svg"
    with pytest.raises(SystemExit) as exc:
        main(["render", str(ROOT / "specs" / f"{name}.yaml"), "--engine", engine, "-o", str(out), *options])
    assert exc.value.code == 0
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    out.unlink()
    return root


def texts(root: ET.Element) -> list[str]:
    """Every text element's text, as drawn."""
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def offenders(pattern: re.Pattern[str], engine: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in SPECS:
        bad = sorted({t for t in texts(svg(name, engine)) if pattern.search(t)})
        if bad:
            found[name] = bad
    return found


# A shape axis with a sum not in parentheses: N×X+H reads as (N×X)+H.
_UNBRACKETED = re.compile(r"×[^×()\s,]*[+−-]|[+−-][^×()\s,]*×")


@pytest.mark.parametrize("engine", ENGINES)
def test_shapes_have_their_precedence(engine: str) -> None:
    assert offenders(_UNBRACKETED, engine) == {}


@pytest.mark.parametrize("engine", ENGINES)
def test_one_multiplication_sign_and_sums_collected(engine: str) -> None:
    assert offenders(re.compile(r"\*"), engine) == {}
    assert offenders(re.compile(r"\b([A-Za-z]\w*)\+\1\b"), engine) == {}  # H+H is 2H


@pytest.mark.parametrize("engine", ENGINES)
def test_no_generated_id_is_drawn(engine: str) -> None:
    """A layer whose id archdraw made up (conv2d_1) is titled by what it is."""
    found = {}
    for name in SPECS:
        graph = archdraw.load(ROOT / "specs" / f"{name}.yaml").graph
        made_up = {n.id.rsplit(".", 1)[-1] for n in graph.nodes if n.auto_id}
        drawn = " ".join(texts(svg(name, engine)))
        shown = sorted(m for m in made_up if re.search(rf"(?<![\w.]){re.escape(m)}(?![\w])", drawn))
        if shown:
            found[name] = shown
    assert found == {}


@pytest.mark.parametrize("engine", ENGINES)
def test_no_generated_id_is_drawn_unrolled(engine: str) -> None:
    """Unrolled, a step's copy is titled by what it is too, not "dropout_1 (2)"."""
    found = {}
    for name in SPECS:
        graph = archdraw.load(ROOT / "specs" / f"{name}.yaml").graph
        if not graph.loops:
            continue
        made_up = {n.id.rsplit(".", 1)[-1] for n in graph.nodes if n.auto_id}
        drawn = " ".join(texts(svg(name, engine, "--unroll", "3")))
        shown = sorted(m for m in made_up if re.search(rf"(?<![\w.]){re.escape(m)}(?![\w])", drawn))
        if shown:
            found[name] = shown
    assert found == {}


@pytest.mark.parametrize("engine", ENGINES)
def test_no_raw_underscore(engine: str) -> None:
    """L_y is drawn with a subscript, content_location as words; VGG's conv4_2 as written."""
    assert offenders(re.compile(r"(?<![0-9])_"), engine) == {}  # conv4_2, a layer name, stays


@pytest.mark.parametrize("engine", ENGINES)
def test_no_text_run_starts_or_ends_with_a_space_a_browser_would_drop(engine: str) -> None:
    found: dict[str, list[str]] = {}
    for name in SPECS:
        for t in svg(name, engine).iter(f"{SVG}text"):
            text = "".join(t.itertext())
            preserved = t.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"
            if (text.startswith(" ") or text.endswith(" ")) and not preserved:
                found.setdefault(name, []).append(text)
    assert found == {}


def test_arrows_are_drawn_in_a_font_that_has_them() -> None:
    """Graphviz's Arial (Liberation Sans) draws → small and low: every arrow is in ARROW_FONT."""
    for name in SPECS:
        for t in svg(name, "dot").iter(f"{SVG}text"):
            text = "".join(t.itertext())
            if "→" in text or "↔" in text:
                assert text in ("→", "↔") and ARROW_FONT in (t.get("font-family") or ""), (name, text)


def test_fixed_weights_only_where_there_are_weights() -> None:
    found = []
    for name in SPECS:
        graph = archdraw.load(ROOT / "specs" / f"{name}.yaml").graph
        weightless = {n.id for n in graph.nodes if not n.params}
        for g in svg(name, "bundled").iter(f"{SVG}g"):
            node = (g.get("id") or "").removeprefix("layer-")
            if node in weightless and any("fixed weights" in t for t in texts(g)):
                found.append((name, node))
    assert found == []


def test_summaries_wrap_to_the_diagram() -> None:
    for name in SPECS:
        graph = archdraw.load(ROOT / "specs" / f"{name}.yaml").graph
        lines = [t for t in texts(svg(name, "bundled")) if t and t in graph.summary]
        assert lines and all(len(line) <= SUMMARY_WIDTH for line in lines), name


def test_folded_copies_count_every_copy() -> None:
    """VGG-16's conv3 ×3 holds its first conv (128 → 256) and two 256 → 256 ones: all three."""
    graph = archdraw.load(ROOT / "specs" / "vgg16.yaml").graph
    stage = [n for n in graph.nodes if n.op == "conv2d" and n.cluster.startswith("conv3")]
    assert len(stage) == 3 and len({n.params for n in stage}) == 2
    total = sum(n.params or 0 for n in stage)
    shown = " ".join(texts(svg("vgg16", "bundled")))
    assert f"{archdraw.dot.count(total)} params in all 3" in shown


def test_a_badge_counts_only_what_is_folded() -> None:
    badge = re.compile(r"^×\d+( shared weights)?$")
    every = [
        t
        for t in texts(svg("resnet50", "bundled", "--expand-repeats", "--max-nodes", "1000"))
        if badge.match(t)
    ]
    assert every == []  # every copy is drawn: nothing to count
    folded = {t for t in texts(svg("resnet50", "bundled")) if badge.match(t)}
    assert folded == {"×3", "×4", "×6"}


def test_undirected_links_have_no_direction_and_count_the_visible_biases() -> None:
    """An RBM's energy has W, the hidden biases and the visible biases (Hinton 2010, §1)."""
    graph = archdraw.load(ROOT / "specs" / "rbm.yaml").graph
    visible, hidden = (archdraw.sizes.value(n.shape[-1]) for n in graph.nodes if n.shape)
    assert graph.totals is not None
    assert graph.totals.params == visible * hidden + hidden + visible  # 393,284 for 784-500
    shown = " ".join(texts(svg("rbm", "bundled")))
    assert "↔" in shown and "→" not in shown


def test_paper_tells_attention_from_data() -> None:
    """Greyscale: data attended over is a double line, data flow a single one."""
    root = svg("attention", "bundled", "--theme", "paper")
    strokes: dict[str, set[int]] = {}
    for g in root.iter(f"{SVG}g"):
        classes = (g.get("class") or "").split()
        if "edge" in classes and "data" in classes:
            kind = "attention" if "attention" in classes else "plain"
            strokes.setdefault(kind, set()).add(len(list(g.iter(f"{SVG}path"))))
    assert strokes["plain"] == {1} and min(strokes["attention"]) >= 2


def test_no_block_shorthand_is_drawn() -> None:
    """A block named in shorthand (cb, cbr) is drawn as what it holds ("conv + batch norm")."""
    found = {}
    for name in SPECS:
        graph = archdraw.load(ROOT / "specs" / f"{name}.yaml").graph
        shorthand = {b.name for b in graph.program.blocks if not b.label and len(b.name) <= 3}
        drawn = set(re.findall(r"\w+", " ".join(texts(svg(name, "bundled", "--depth", "2")))))
        if shorthand & drawn:
            found[name] = sorted(shorthand & drawn)
    assert found == {}


def test_where_the_spec_is_symbolic_the_text_is_symbolic() -> None:
    """A fan-in and a slice say X+H and C (their example values 384 and 32 are not drawn)."""
    lstm = re.sub(r"\s+", " ", " ".join(texts(svg("lstm", "bundled"))))  # the arrow is a run of its own
    assert "dense X+H → H" in lstm
    graph = archdraw.load(ROOT / "specs" / "lstm.yaml").graph
    widths = {d.name: d.size for d in graph.dims}
    assert f"dense {widths['X'] + widths['H']} " not in lstm
    dntm = " ".join(texts(svg("dntm", "bundled")))
    assert "N×S×C" in dntm and "N×S×32" not in dntm


def test_the_bundled_engine_gets_arrows_in_its_own_font_and_png_subscripts_it_can_draw() -> None:
    from archdraw.engine import for_bundled

    dot = archdraw.to_dot(archdraw.load(ROOT / "specs" / "dann.yaml").graph)
    assert f'<font face="{ARROW_FONT}">→</font>' in dot and "L<sub>y</sub>" in dot
    svg_source, png_source = for_bundled(dot, "svg"), for_bundled(dot, "png")
    assert ARROW_FONT not in svg_source and "→" in svg_source
    assert "L<sub>y</sub>" in svg_source  # its SVG lowers a subscript
    assert "<sub>" not in png_source and 'L<font point-size="7">y</font>' in png_source
