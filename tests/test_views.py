"""Views: folded repeats, collapsed blocks, budgets, spec defaults and the CLI (unrolled: test_unroll.py)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import archdraw
from archdraw.cli import EXIT_USAGE, main
from archdraw.ir import EdgeKind, Graph
from archdraw.theme import THEMES
from archdraw.views import View, ViewError, apply_view

from .conftest import ROOT


def analysed(name: str) -> Graph:
    return archdraw.load(ROOT / "specs" / f"{name}.yaml").graph


def test_resnet50_default_view_is_small_and_shows_the_repeats() -> None:
    graph = analysed("resnet50")
    shown, notes = apply_view(graph, View.of(graph.view))
    assert len(shown.nodes) <= 40
    assert notes  # it says that it folded blocks to stay within the budget
    dot = archdraw.to_dot(shown)
    for stage, count in (("conv2", 3), ("conv3", 4), ("conv4", 6), ("conv5", 3)):
        assert re.search(rf'id="cluster-{stage}" .*label=<{stage}\s+<b>×{count}</b>', dot), stage
    # The whole model's totals stay in the caption.
    assert "25,557,032 parameters" in dot


def test_resnet50_fully_expanded_has_every_convolution() -> None:
    graph = analysed("resnet50")
    convs = [n for n in graph.nodes if n.op == "conv2d"]
    assert len(convs) == 1 + 16 * 3 + 4  # stem, three per block, four projections
    shown, notes = apply_view(graph, View(expand_repeats=True, max_nodes=10_000))
    assert notes == ()
    assert [n.id for n in shown.nodes] == [n.id for n in graph.nodes]


def test_depth_one_shows_stages() -> None:
    graph = analysed("resnet50")
    shown, _ = apply_view(graph, View(depth=1))
    blocks = {n.id: n for n in shown.nodes if n.op == "block"}
    assert set(blocks) == {"stem", "conv2", "conv3", "conv4", "conv5"}
    # A collapsed stage carries the parameters of all its blocks.
    conv2 = sum(n.params or 0 for n in graph.nodes if n.id.startswith("conv2."))
    assert blocks["conv2"].params == conv2
    assert "×3" in blocks["conv2"].note


def test_folding_keeps_the_first_copy_and_reroutes_its_edges() -> None:
    graph = analysed("resnet_stage")
    shown, _ = apply_view(graph, View(max_nodes=1000))
    ids = {n.id for n in shown.nodes}
    assert "blocks.1.reduce" in ids and "blocks.2.reduce" not in ids
    # Nothing points at a copy that is not drawn, and the copy chain is gone.
    for e in shown.edges:
        assert e.src in ids and e.dst in ids
    assert ("blocks.1.out", "blocks.1.reduce") not in {(e.src, e.dst) for e in shown.edges}


def test_expand_opens_a_named_block() -> None:
    graph = analysed("googlenet")
    shown, _ = apply_view(graph, View(depth=1, expand=("inception4a",)))
    ids = {n.id for n in shown.nodes}
    assert "inception4a.cat" in ids and "inception4b" in ids and "inception4b.cat" not in ids


def test_spec_view_defaults() -> None:
    graph = analysed("googlenet")
    assert graph.view.expand == ("inception3a",)
    shown, _ = apply_view(graph, View.of(graph.view))
    assert "inception3a.cat" in {n.id for n in shown.nodes}


def test_unroll_is_bounded() -> None:
    with pytest.raises(ViewError, match="unroll fewer steps"):
        apply_view(analysed("gnmt"), View(unroll=60, expand_repeats=True, max_nodes=100_000))


def test_views_are_deterministic() -> None:
    graph = analysed("resnet50")
    first = archdraw.to_dot(apply_view(graph, View())[0])
    assert first == archdraw.to_dot(apply_view(graph, View())[0])


def test_cli_view_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "lstm.dot"
    with pytest.raises(SystemExit) as exc:
        main(["render", str(ROOT / "specs" / "lstm.yaml"), "--unroll", "3", "-o", str(out)])
    assert exc.value.code == 0
    assert out.read_text().count('id="cluster-step') == 3
    with pytest.raises(SystemExit) as exc:
        main(["render", str(ROOT / "specs" / "resnet50.yaml"), "--depth", "1", "-f", "dot", "-o", "-"])
    assert exc.value.code == 0
    assert 'id="layer-conv3"' in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["render", str(ROOT / "specs" / "lstm.yaml"), "--unroll", "-1", "-f", "dot", "-o", "-"])
    assert exc.value.code == EXIT_USAGE
    # --unroll 0 draws a spec rolled even when its view: asks for steps.
    with pytest.raises(SystemExit) as exc:
        main(
            ["render", str(ROOT / "specs" / "rnn_many_to_one.yaml"), "--unroll", "0", "-f", "dot", "-o", "-"]
        )
    assert exc.value.code == 0
    assert "cluster-step" not in capsys.readouterr().out


def test_a_folded_shared_repeat_is_a_recursion_loop() -> None:
    """DRCN: one convolution applied 16 times with the same weights, folded to one copy."""
    shown, _ = apply_view(analysed("drcn"), View())
    loops = [e for e in shown.edges if e.kind is EdgeKind.RECURRENT and e.src == e.dst]
    assert [(e.src, e.label) for e in loops] == [("rec.1.conv", "×16, same weights")]
    dot = archdraw.to_dot(shown)
    assert "recursion: the block applied again to its own output, same weights" in dot
    assert "recurrent edge from an earlier step" not in dot  # no time recurrence in DRCN


def test_pooling_switches_are_drawn_apart() -> None:
    dot = archdraw.to_dot(apply_view(analysed("deconvnet"), View())[0])
    switches = [line for line in dot.splitlines() if " switches" in line and "->" in line]
    assert len(switches) == 5 and all(
        'style="dotted"' in line and 'arrowhead="dot"' in line for line in switches
    )
    assert "pooling switches: where each maximum was" in dot


def test_what_the_user_asks_for_wins_over_the_budget() -> None:
    """--expand-repeats on ResNet-152 draws every block, and says the drawing is large."""
    graph = analysed("resnet152")
    shown, notes = apply_view(graph, View(expand_repeats=True))
    assert len(shown.nodes) == len(graph.nodes) and not [n for n in shown.nodes if n.op == "block"]
    assert notes and "as asked" in notes[0]
    shallow, _ = apply_view(graph, View(depth=1))
    assert [n.id for n in shallow.nodes if n.op == "block"] == ["stem", "conv2", "conv3", "conv4", "conv5"]


def test_unrolling_a_model_without_recurrence_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Three disconnected copies of a feed-forward model would say nothing: a clear message instead."""
    with pytest.raises(ViewError, match="nothing to unroll"):
        apply_view(analysed("mlp"), View(unroll=3))
    with pytest.raises(SystemExit) as exc:
        main(["render", str(ROOT / "specs" / "elm.yaml"), "--unroll", "3", "-f", "dot", "-o", "-"])
    assert exc.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "'Extreme learning machine' has nothing to unroll" in err and "Traceback" not in err
    assert apply_view(analysed("esn"), View(unroll=3))[0].steps == 3  # its reservoir is recurrent


# -- what a drawn copy stands for: an output, its repeat's ×N, how many repetitions --------------

FOLDED_OUTPUT = """\
archdraw: 1
name: t
dims: {N: 1}
inputs: {x: [N, 8]}
layers:
  - {id: fc, op: dense, units: 8, repeat: 3}
  - {id: head, op: dense, units: 2}
outputs: [fc, head]
"""

# A residual stage the model ends in: its last sum is the output (nothing reads it).
RESIDUAL_STAGE = """\
archdraw: 1
name: t
dims: {N: 1}
inputs: {x: [N, 8]}
blocks:
  res:
    layers:
      - {id: fc, op: dense, units: 8}
      - {id: s, op: add, in: [fc, x]}
layers:
  - {id: stage, block: res, repeat: 4}
"""

_SVG = "{http://www.w3.org/2000/svg}"


def _node_line(dot: str, node_id: str) -> str:
    (line,) = [line for line in dot.splitlines() if f'id="layer-{node_id}"' in line]
    return line


def _cluster_title(dot: str, cluster_id: str) -> str:
    (line,) = [line for line in dot.splitlines() if f'id="cluster-{cluster_id}"' in line]
    found = re.search(r"label=<(.*)>\]$", line)
    assert found, line
    return found.group(1)


def _is_green(line: str) -> bool:
    """A DOT node line drawn as an output: its class says so, in the output's colours."""
    fill, border = THEMES["default"].output
    return "role-output" in line and f'fillcolor="{fill}"' in line and f' color="{border}"' in line


def _svg_group(svg: str, group_id: str) -> ET.Element:
    (group,) = [g for g in ET.fromstring(svg).iter(f"{_SVG}g") if g.get("id") == group_id]
    return group


def _drawn_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, *options: str
) -> dict[str, Any]:
    spec = tmp_path / "t.yaml"
    spec.write_text(text)
    with pytest.raises(SystemExit) as exc:
        main(["render", str(spec), "-f", "json", "-o", "-", *options])
    assert exc.value.code == 0
    view: dict[str, Any] = json.loads(capsys.readouterr().out)
    return view


def test_a_folded_copy_is_an_output_when_its_last_copy_is() -> None:
    """fc.3 is an output: the one fc drawn for fc.1 to fc.3 is green, as fc.3 drawn alone is."""
    model = archdraw.load(FOLDED_OUTPUT)
    assert _is_green(_node_line(model.to_dot(), "fc.1"))
    assert _is_green(_node_line(model.to_dot(), "head"))
    every = model.to_dot(View(expand_repeats=True))
    assert [_is_green(_node_line(every, f"fc.{k}")) for k in (1, 2, 3)] == [False, False, True]
    # What no copy of which is an output stays in its family's colours.
    plain = archdraw.load(FOLDED_OUTPUT.replace("outputs: [fc, head]", "outputs: [head]"))
    assert not _is_green(_node_line(plain.to_dot(), "fc.1"))
    # And in the picture: the SVG node is an output, filled in the output's colour.
    fill, _ = THEMES["default"].output
    node = _svg_group(model.to_svg(engine="bundled"), "layer-fc.1")
    assert "role-output" in (node.get("class") or "").split()
    assert fill in {shape.get("fill") for shape in node.iter() if shape.get("fill")}


def test_a_folded_sum_and_a_collapsed_block_holding_the_output_are_outputs() -> None:
    model = archdraw.load(RESIDUAL_STAGE)
    folded = _node_line(model.to_dot(), "stage.1.s")  # stands for stage.1.s … stage.4.s
    assert _is_green(folded) and 'shape="circle"' not in folded  # an output sum is a box, as unfolded
    assert not _is_green(_node_line(model.to_dot(), "stage.1.fc"))
    stage = _node_line(model.to_dot(View(depth=1)), "stage")  # the whole stage as one block
    assert _is_green(stage) and 'shape="box3d"' in stage
    blocks = _node_line(model.to_dot(View(depth=2)), "stage.1")  # one block for the four copies
    assert _is_green(blocks) and "<b>stage ×4</b>" in blocks


def test_a_repeat_drawn_copy_by_copy_counts_its_copies_by_their_titles() -> None:
    """Every copy drawn, each says which it is ("stage 2/4"); a "×N" badge is for a fold only."""
    model = archdraw.load(RESIDUAL_STAGE)
    for view in (View(expand=("stage",)), View(expand_repeats=True)):
        dot = model.to_dot(view)
        assert _cluster_title(dot, "stage") == "stage"
        assert [_cluster_title(dot, f"stage.{k}") for k in (1, 2, 3, 4)] == [
            "stage 1/4",
            "stage 2/4",
            "stage 3/4",
            "stage 4/4",
        ]
    assert _cluster_title(model.to_dot(), "stage") == "stage\xa0\xa0<b>×4</b>"  # folded
    svg = model.to_svg(engine="bundled", view=View(expand=("stage",)))
    texts = [t.text for t in _svg_group(svg, "cluster-stage").iter(f"{_SVG}text")]
    assert [t.strip() for t in texts if t] == ["stage"]  # the cluster's own title: no ×4


def test_drawn_json_counts_the_repetitions_each_drawn_copy_stands_for(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def repeats(view: dict[str, Any]) -> dict[str, int]:
        return {n["id"]: n["repeats"] for n in view["nodes"]}

    assert repeats(_drawn_json(capsys, tmp_path, FOLDED_OUTPUT)) == {"x": 1, "fc.1": 3, "head": 1}
    every = repeats(_drawn_json(capsys, tmp_path, FOLDED_OUTPUT, "--expand-repeats"))
    assert every == {"x": 1, "fc.1": 1, "fc.2": 1, "fc.3": 1, "head": 1}
    opened = repeats(_drawn_json(capsys, tmp_path, RESIDUAL_STAGE, "--expand", "stage"))
    assert set(opened.values()) == {1} and len(opened) == 9
    folded = _drawn_json(capsys, tmp_path, RESIDUAL_STAGE)
    assert repeats(folded) == {"x": 1, "stage.1.fc": 4, "stage.1.s": 4}
    assert {n["id"]: n["role"] for n in folded["nodes"]}["stage.1.s"] == "output"
    # Copies that differ fold apart: ResNet-50's conv3 draws its projecting first block, "conv3
    # 1", for one repetition and "conv3 ×3" for the other three.
    resnet = _drawn_json(capsys, tmp_path, (ROOT / "specs" / "resnet50.yaml").read_text())
    drawn = {n["id"]: (n["label"], n["repeats"]) for n in resnet["nodes"]}
    assert drawn["conv3.1"][1] == 1 and drawn["conv3.2"] == ("conv3 ×3", 3)
