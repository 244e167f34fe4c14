"""Views: folded repeats, collapsed blocks, budgets, spec defaults and the CLI (unrolled: test_unroll.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import archdraw
from archdraw.cli import EXIT_USAGE, main
from archdraw.ir import EdgeKind, Graph
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
