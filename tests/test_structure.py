"""Structure passes on small graphs: recurrence, cycles, skips, expansion, bottlenecks."""

from __future__ import annotations

from pathlib import Path

import pytest

import archdraw
from archdraw.errors import SpecError
from archdraw.ir import EdgeKind, Graph, Role, Severity


def build(layers: str, inputs: str = "x: [N, 8]", extra: str = "") -> Graph:
    text = f"archdraw: 1\nname: t\ndims: {{N: 1}}\n{extra}inputs:\n  {inputs}\nlayers:\n{layers}"
    return archdraw.analyze(archdraw.loads(text, "t.yaml"))


def kinds(graph: Graph) -> dict[tuple[str, str], str]:
    return {(e.src, e.dst): e.kind.value for e in graph.edges}


def test_residual_edge_is_a_skip() -> None:
    g = build("  a: {op: dense, in: x, units: 8}\n  b: {op: relu, in: a}\n  s: {op: add, in: [b, x]}\n")
    assert kinds(g) == {("x", "a"): "data", ("a", "b"): "data", ("b", "s"): "data", ("x", "s"): "skip"}


def test_gate_inputs_are_not_skips() -> None:
    # mul gates rather than joins: x reaches m through a as well, but that is not a skip.
    g = build("  a: {op: sigmoid, in: x}\n  m: {op: mul, in: [a, x]}\n")
    assert kinds(g)[("x", "m")] == "data"


def test_declared_data_opts_out_and_declared_skip_is_verified() -> None:
    g = build("  a: {op: relu, in: x}\n  s: {op: add, in: [a, {from: x, kind: data}]}\n")
    assert kinds(g)[("x", "s")] == "data"
    g = build("  a: {op: relu, in: x}\n  b: {op: relu, in: [{from: a, kind: skip}]}\n")
    assert kinds(g)[("a", "b")] == "data"
    (warning,) = g.diagnostics
    assert warning.severity is Severity.WARNING
    assert "bypasses no layer" in warning.message


def test_undelayed_cycle_is_named() -> None:
    with pytest.raises(SpecError) as info:
        build("  a: {op: add, in: [x, c]}\n  b: {op: relu, in: a}\n  c: {op: relu, in: b}\n")
    (error,) = info.value.errors
    assert "cycle with no delay: a → b → c → a" in error.message
    assert (error.span.line, error.span.column) == (7, 24)


def test_delayed_cycle_is_recurrence() -> None:
    g = build(
        "  a: {op: add, in: [x, {from: c, delay: 1}]}\n  b: {op: relu, in: a}\n  c: {op: relu, in: b}\n"
    )
    assert kinds(g)[("c", "a")] == "recurrent"


def test_recurrent_ops_loop_on_themselves() -> None:
    g = build("  - {op: lstm, units: 16, num_layers: 2}\n  - {op: dense, units: 4}\n", inputs="x: [N, 5, 8]")
    loops = [(e.src, e.dst, e.delay) for e in g.edges if e.kind is EdgeKind.RECURRENT]
    assert loops == [("lstm_1", "lstm_1", 1)]


def test_gradient_and_undirected_edges_are_not_data() -> None:
    g = build(
        "  a: {op: dense, in: [x, {from: m, kind: gradient}], units: 4}\n"
        "  m: {op: dense, in: a, units: 4}\n"
        "  h: {op: dense, in: [{from: x, kind: undirected}], units: 3}\n"
    )
    assert kinds(g)[("m", "a")] == "gradient"
    assert kinds(g)[("x", "h")] == "undirected"


BLOCKS = """blocks:
  res:
    params: {width: null, scale: 2}
    layers:
      - {id: conv, op: dense, units: width * scale}
      - {id: back, op: dense, units: width}
      - {id: add, op: add, in: [back, x]}
"""


def test_blocks_and_repeats_expand_with_clusters() -> None:
    g = build(
        "  - {id: stage, block: res, width: 8, repeat: 3}\n  - {id: head, op: dense, units: 2}\n",
        extra=BLOCKS,
    )
    ids = [n.id for n in g.nodes]
    assert ids[:4] == ["x", "stage.1.conv", "stage.1.back", "stage.1.add"]
    assert ids[-1] == "head"
    assert len(ids) == 1 + 3 * 3 + 1
    assert g.node("stage.2.conv").attr("units") == 16
    # Each repetition's shortcut comes from the previous repetition's output.
    assert kinds(g)[("stage.1.add", "stage.2.add")] == "skip"
    assert kinds(g)[("stage.3.add", "head")] == "data"
    container = g.cluster("stage")
    assert (container.repeat_count, container.repeat_index) == (3, 0)
    assert [c.id for c in g.clusters if c.parent == "stage"] == ["stage.1", "stage.2", "stage.3"]
    assert g.node("stage.2.back").cluster == "stage.2"


def test_dotted_references_reach_inside_blocks() -> None:
    g = build(
        "  stage: {block: res, in: x, width: 8, repeat: 2}\n  tap: {op: dense, in: stage.1.conv, units: 2}\n",
        extra=BLOCKS,
    )
    assert ("stage.1.conv", "tap") in kinds(g)
    with pytest.raises(SpecError, match="has no layer 'cnv'"):
        build(
            "  stage: {block: res, in: x, width: 8}\n  tap: {op: dense, in: stage.cnv, units: 2}\n",
            extra=BLOCKS,
        )


def test_inline_groups_see_outer_names() -> None:
    g = build(
        "  enc:\n    in: x\n    layers:\n      - {op: dense, units: 8}\n      - {op: relu}\n"
        "  dec: {op: add, in: [enc, x]}\n"
    )
    assert [n.id for n in g.nodes] == ["x", "enc.dense_1", "enc.relu_1", "dec"]
    assert kinds(g)[("enc.relu_1", "dec")] == "data"
    assert kinds(g)[("x", "dec")] == "skip"


def test_outputs_default_to_sinks_and_can_be_named() -> None:
    g = build("  a: {op: dense, in: x, units: 4}\n  b: {op: dense, in: a, units: 2}\n")
    assert [n.id for n in g.nodes if n.has_role(Role.OUTPUT)] == ["b"]
    g = build(
        "  a: {op: dense, in: x, units: 4}\n  b: {op: dense, in: a, units: 2}\n", extra="outputs: [a, b]\n"
    )
    assert [n.id for n in g.nodes if n.has_role(Role.OUTPUT)] == ["a", "b"]


def test_expansion_is_bounded() -> None:
    blocks = "blocks:\n  big:\n    layers:\n      - {op: relu, repeat: 1000}\n"
    with pytest.raises(SpecError, match="expands to more than"):
        build("  - {block: big, repeat: 100}\n", extra=blocks)


def test_block_recursion_is_an_error() -> None:
    blocks = "blocks:\n  a:\n    layers:\n      - {block: b}\n  b:\n    layers:\n      - {block: a}\n"
    with pytest.raises(SpecError, match="uses itself: a → b → a"):
        build("  - {block: a}\n", extra=blocks)


def test_declared_bottleneck_confirmed_by_shapes() -> None:
    g = build(
        "  a: {op: dense, in: x, units: 2, role: bottleneck}\n  b: {op: dense, in: a, units: 8}\n"
        "  c: {op: dense, in: b, units: 1}\n"
    )
    assert g.node("a").has_role(Role.BOTTLENECK)
    # The output layer does not count as the wider side: a classifier head is no decoder.
    with pytest.raises(SpecError, match="declared a bottleneck"):
        build("  a: {op: dense, in: x, units: 2, role: bottleneck}\n  b: {op: dense, in: a, units: 8}\n")


def test_gate_wiring_in_cells_is_not_a_skip() -> None:
    # In a GRU cell x and h(t−1) reach the joins through gates that also read other state.
    for name in ("gru", "lstm"):
        graph = archdraw.load(Path(__file__).parent.parent / "specs" / f"{name}.yaml").graph
        assert not [e for e in graph.edges if e.kind is EdgeKind.SKIP], name


def test_repeated_multi_input_blocks_keep_their_other_inputs() -> None:
    blocks = (
        "blocks:\n  dec:\n    inputs: [x, memory]\n    layers:\n"
        "      - {id: cat, op: concat, in: [x, memory]}\n      - {id: fc, op: dense, units: 8}\n"
    )
    g = build(
        "  mem: {op: dense, in: x, units: 8}\n  d: {block: dec, in: [x, mem], repeat: 3}\n", extra=blocks
    )
    assert kinds(g)[("d.2.fc", "d.3.cat")] == "data"
    assert all((("mem", f"d.{k}.cat") in kinds(g)) for k in (1, 2, 3))


def test_repetitions_are_addressable() -> None:
    g = build(
        "  fc: {op: dense, in: x, units: 8, repeat: 3}\n  tap: {op: relu, in: fc.2}\n"
        "  grp:\n    in: x\n    output: a\n    repeat: 2\n    layers:\n"
        "      - {id: a, op: relu}\n      - {id: b, op: tanh}\n"
        "  t2: {op: relu, in: grp.1}\n"
    )
    assert ("fc.2", "tap") in kinds(g)
    assert ("grp.1.a", "t2") in kinds(g)


def test_frozen_block_freezes_its_layers() -> None:
    g = build("  - {id: f, block: res, width: 8, trainable: false}\n", extra=BLOCKS)
    assert not any(n.trainable for n in g.nodes if n.id.startswith("f."))


def test_when_leaves_a_layer_out_and_passes_its_input_on() -> None:
    blocks = (
        "blocks:\n  blk:\n    params: {project: 0}\n    layers:\n"
        "      main: {op: relu, in: x}\n"
        "      short: {op: dense, in: x, units: 8, when: project}\n"
        "      add: {op: add, in: [main, short]}\n"
    )
    g = build("  - {id: b, block: blk, project: first, repeat: 3}\n", extra=blocks)
    ids = [n.id for n in g.nodes]
    assert "b.1.short" in ids and "b.2.short" not in ids and "b.3.short" not in ids
    # Where 'short' is left out, 'add' reads the block's input directly: an identity skip.
    assert kinds(g)[("b.1.add", "b.2.add")] == "skip"
    assert kinds(g)[("b.1.short", "b.1.add")] == "data"


def test_repetition_names_in_attributes() -> None:
    g = build("  - {id: fc, op: dense, units: 4 * index, repeat: 3}\n")
    assert [g.node(f"fc.{k}").attr("units") for k in (1, 2, 3)] == [4, 8, 12]
    text = "archdraw: 1\nname: t\ndims: {index: 2}\ninputs: {x: [1, 4]}\nlayers: [relu]\n"
    with pytest.raises(SpecError, match="'index' names a repetition's number"):
        archdraw.analyze(archdraw.loads(text))


# -- marks that tell the truth ------------------------------------------------------------------------


def marked(graph: Graph) -> list[str]:
    return [n.id for n in graph.nodes if n.has_role(Role.BOTTLENECK)]


def test_a_waist_is_marked_once() -> None:
    """A run of layers at the waist's width is one waist: one mark, on its heaviest layer."""
    g = build(
        "  - {id: r, op: conv2d, channels: 64, kernel: 1}\n  - {id: bn, op: batchnorm}\n  - relu\n"
        "  - {id: c, op: conv2d, channels: 64, kernel: 3, padding: 1}\n  - {id: bn2, op: batchnorm}\n"
        "  - {id: e, op: conv2d, channels: 256, kernel: 1}\n  - {op: conv2d, channels: 10, kernel: 1}\n",
        inputs="x: [N, 256, 8, 8]",
    )
    assert marked(g) == ["c"]


@pytest.mark.parametrize(
    "layers, inputs",
    [
        # a plateau of equal widths (GNMT's LSTM stack) is no waist
        (
            "  - {op: dense, units: 64}\n  - {op: dense, units: 64}\n  - {op: dense, units: 64}\n",
            "x: [N, 64]",
        ),
        # 384 → 256 → 384 is under 2× narrower (AlexNet's conv5)
        (
            "  - {op: dense, units: 384}\n  - {op: dense, units: 256}\n  - {op: dense, units: 384}\n",
            "x: [N, 8]",
        ),
        # a flatten changes the measure: 256 maps of 6×6 are not "9216 wider" than 256
        (
            "  - {op: conv2d, channels: 256, kernel: 3, padding: 1}\n  - flatten\n"
            "  - {op: dense, units: 4096}\n",
            "x: [N, 384, 6, 6]",
        ),
        # the wider side after is the vocabulary projection, a classifier
        ("  - {op: dense, units: 500}\n  - {op: dense, units: 30000, act: softmax}\n", "x: [N, 2000]"),
        # an embedding of wide features into a wider recurrent layer that does not widen back
        ("  - {op: dense, units: 500}\n  - {op: lstm, units: 1000}\n", "x: [N, 1, 4096]"),
    ],
    ids=["plateau", "under-2x", "flatten", "classifier", "embedding"],
)
def test_no_false_waist(layers: str, inputs: str) -> None:
    assert marked(build(layers, inputs=inputs)) == []


def test_a_transformer_encoder_has_no_waist() -> None:
    """Its residual stream and feed-forward output are no bottleneck (a join is no widening)."""
    layer = (
        "  - layers:\n      n1: {op: layernorm, in: x}\n      a: {op: dense, in: n1, units: 512}\n"
        "      s1: {op: add, in: [a, x]}\n      n2: {op: layernorm, in: s1}\n"
        "      f1: {op: dense, in: n2, units: 2048, act: relu}\n      f2: {op: dense, in: f1, units: 512}\n"
        "      d: {op: dropout, in: f2}\n      s2: {op: add, in: [d, s1]}\n    repeat: 2\n"
    )
    g = build(layer + "  - {op: dense, units: 1000, act: softmax}\n", inputs="x: [N, 16, 512]")
    assert marked(g) == []


POST_NORM = """archdraw: 1
name: post-norm encoder
dims: {N: 1}
blocks:
  layer:
    layers:
      - {id: attn, op: dense, units: 512}
      - {id: add1, op: add, in: [attn, x]}
      - {id: n1, op: layernorm}
      - {id: ff1, op: dense, units: 2048, act: relu}
      - {id: ff2, op: dense, units: 512}
      - {id: add2, op: add, in: [ff2, n1]}
      - {id: n2, op: layernorm}
inputs:
  x: [N, 16, 512]
layers:
  - {id: enc, block: layer, repeat: 2}
"""

# The same layer, pre-norm, as a block: each repetition reads the one before (an inline group's
# 'x' is the graph's input, so the test above does not stack its layers).
PRE_NORM = """archdraw: 1
name: pre-norm encoder
dims: {N: 1}
blocks:
  layer:
    layers:
      - {id: n1, op: layernorm}
      - {id: attn, op: dense, units: 512}
      - {id: add1, op: add, in: [attn, x]}
      - {id: n2, op: layernorm}
      - {id: ff1, op: dense, units: 2048, act: relu}
      - {id: ff2, op: dense, units: 512}
      - {id: d, op: dropout}
      - {id: add2, op: add, in: [d, add1]}
inputs:
  x: [N, 16, 512]
layers:
  - {id: enc, block: layer, repeat: 2}
  - {op: layernorm}
  - {op: dense, units: 1000, act: softmax}
"""


@pytest.mark.parametrize("text", [POST_NORM, PRE_NORM], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("repeat", [2, 6, 12])
def test_a_stacked_transformer_residual_stream_is_no_waist(text: str, repeat: int) -> None:
    """Between two layers' 2048-wide feed-forward expansions the 512-wide stream is no waist.

    The expansions are branches summed back into the stream, which goes around them: the
    stream is the model's width (BERT-base stacks 12 such layers), not a narrowing.
    """
    g = archdraw.analyze(archdraw.loads(text.replace("repeat: 2", f"repeat: {repeat}")))
    assert len([n for n in g.nodes if n.id.endswith(".ff1")]) == repeat
    assert [n.id for n in g.nodes if n.has_role(Role.BOTTLENECK)] == []


def test_a_waist_after_a_residual_stream_is_still_marked() -> None:
    """Squeezing the stream itself (512 → 64 → 512) is a waist: the main path goes through it."""
    text = POST_NORM.replace("repeat: 2}", "repeat: 3}") + (
        "  - {id: code, op: dense, units: 64}\n  - {id: up, op: dense, units: 512}\n"
        "  - {id: out, op: dense, units: 512}\n"
    )
    assert marked(archdraw.analyze(archdraw.loads(text))) == ["code"]


INVERTED = """archdraw: 1
name: inverted residuals
dims: {N: 1}
blocks:
  ir:
    layers:
      - {op: conv2d, channels: 144, kernel: 1, act: relu}
      - {op: conv2d, channels: 144, kernel: 3, padding: 1, groups: 144, act: relu}
      - {id: proj, op: conv2d, channels: 24, kernel: 1}
      - {id: add, op: add, in: [proj, x]}
inputs:
  x: [N, IN, 56, 56]
layers:
FIRST  - {id: b, block: ir, repeat: 3}
  - {id: next, op: conv2d, channels: 144, kernel: 1, act: relu}
  - {op: conv2d, channels: 32, kernel: 1}
"""


def test_an_inverted_residual_stream_narrows_only_on_its_main_path() -> None:
    """MobileNetV2: the stream between 144-wide expansions is no waist, a linear bottleneck one.

    The 24-wide projection of a block with no shortcut is on the main path (96 → 24 → 144).
    """
    residual = INVERTED.replace("IN", "24").replace("FIRST", "")
    assert marked(archdraw.analyze(archdraw.loads(residual))) == []
    first = (
        "  - {id: e, op: conv2d, channels: 96, kernel: 1, act: relu}\n"
        "  - {id: dw, op: conv2d, channels: 96, kernel: 3, padding: 1, groups: 96, act: relu}\n"
        "  - {id: proj, op: conv2d, channels: 24, kernel: 1}\n"
    )
    stage = INVERTED.replace("IN", "16").replace("FIRST", first)
    assert marked(archdraw.analyze(archdraw.loads(stage))) == ["proj"]


def test_bottleneck_false_switches_a_mark_off_and_true_is_checked() -> None:
    layers = (
        "  - {op: dense, units: 512}\n  - {id: code, op: dense, units: 32, BN}\n  - {op: dense, units: 512}\n"
        "  - {op: dense, units: 784}\n"
    )
    assert marked(build(layers.replace(", BN", ""), inputs="x: [N, 784]")) == ["code"]
    assert marked(build(layers.replace("BN", "bottleneck: false"), inputs="x: [N, 784]")) == []
    assert marked(build(layers.replace("BN", "bottleneck: true"), inputs="x: [N, 784]")) == ["code"]
    wide = "  - {id: wide, op: dense, units: 512, bottleneck: true}\n  - {op: dense, units: 10}\n"
    with pytest.raises(SpecError, match="'wide' is declared a bottleneck, but it is no narrow waist"):
        build(wide, inputs="x: [N, 64]")


def test_bottleneck_false_on_a_block_call_holds_inside_it() -> None:
    extra = "blocks:\n  squeeze:\n    layers: [{op: dense, units: 32}]\n"
    layers = (
        "  - {op: dense, units: 512}\n  - {id: s, block: squeeze, OFF}\n  - {op: dense, units: 512}\n"
        "  - {op: dense, units: 784}\n"
    )
    assert marked(build(layers.replace(", OFF", ""), inputs="x: [N, 784]", extra=extra)) == ["s.dense_1"]
    assert marked(build(layers.replace("OFF", "bottleneck: false"), inputs="x: [N, 784]", extra=extra)) == []


def test_a_projection_shortcut_is_a_skip_path() -> None:
    g = build(
        "  a: {op: conv2d, in: x, channels: 64, kernel: 3, padding: 1, act: relu}\n"
        "  b: {op: conv2d, in: a, channels: 128, kernel: 3, padding: 1}\n  bn: {op: batchnorm, in: b}\n"
        "  p: {op: conv2d, in: x, channels: 128, kernel: 1}\n  pn: {op: batchnorm, in: p}\n"
        "  s: {op: add, in: [bn, pn]}\n",
        inputs="x: [N, 64, 8, 8]",
    )
    assert {k: v for k, v in kinds(g).items() if v == "skip"} == {
        ("x", "p"): "skip",
        ("p", "pn"): "skip",
        ("pn", "s"): "skip",
    }
    assert [n.id for n in g.nodes if n.has_role(Role.SHORTCUT)] == ["p", "pn"]


def test_concatenated_branches_and_summed_losses_are_no_shortcuts() -> None:
    inception = build(
        "  a: {op: conv2d, in: x, channels: 8, kernel: 1}\n  r: {op: conv2d, in: x, channels: 4, kernel: 1}\n"
        "  b: {op: conv2d, in: r, channels: 8, kernel: 3, padding: 1}\n  c: {op: concat, in: [a, b]}\n",
        inputs="x: [N, 16, 8, 8]",
    )
    assert "skip" not in kinds(inception).values()
    losses = build(
        "  f: {op: dense, in: x, units: 8}\n  g: {op: dense, in: f, units: 8}\n"
        "  l1: {op: mse_loss, in: [f, x]}\n  l2: {op: mse_loss, in: [g, x]}\n"
        "  total: {op: add, in: [l1, l2]}\n"
    )
    assert "skip" not in kinds(losses).values()


def test_bidirectional_layers_loop_both_ways_and_a_state_is_drawn_once() -> None:
    g = build("  - {op: lstm, units: 4, bidirectional: true}\n", inputs="x: [N, 5, 3]")
    loops = sorted((e.delay, e.reverse) for e in g.edges if e.kind is EdgeKind.RECURRENT)
    assert loops == [(1, False), (1, True)]
    assert "t+1" in archdraw.to_dot(g) and "t−1" in archdraw.to_dot(g)
    explicit = build(
        "  xh: {op: concat, in: [x, h_prev], axis: -1}\n  h: {op: gru, in: xh, units: 4}\n",
        inputs="x: [N, 1, 4]\n  h_prev: {shape: [N, 1, 4], from: h}",
    )
    assert [(e.src, e.dst) for e in explicit.edges if e.kind is EdgeKind.RECURRENT] == [("h", "h_prev")]
