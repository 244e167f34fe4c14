"""Tied weights (``tied:``): one weight matrix used by two layers, counted once and drawn as such.

Sources: Press and Wolf, "Using the output embedding to improve language models" (EACL 2017),
tie a language model's input embedding to its softmax projection; Vaswani et al. (2017, §3.4)
share one matrix between the source and target embeddings and the pre-softmax projection.
"""

from __future__ import annotations

import re

import pytest

import archdraw
from archdraw.errors import SpecError

LM = """archdraw: 1
name: Tied language model
dims: {N: 1, T: 35, V: 10000, D: 1500}
inputs:
  words: [N, T]
layers:
  - {id: embed, op: embedding, vocab: V, dim: D}
  - {id: lstm, op: lstm, units: D, num_layers: 2}
  - {id: decoder, op: dense, units: V, TIED}
  - softmax
"""


def total(text: str) -> int:
    graph = archdraw.analyze(archdraw.loads(text))
    assert graph.totals is not None
    return graph.totals.params


def errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        archdraw.analyze(archdraw.loads(text, "spec.yaml"))
    return [str(d) for d in caught.value.diagnostics]


def test_a_tied_projection_holds_only_its_bias() -> None:
    # Press and Wolf (2017, Table 2): the large model of Zaremba et al. is 66M parameters, and
    # 51M with the output embedding tied to the input embedding.
    untied = total(LM.replace(", TIED", ""))
    tied = total(LM.replace("TIED", "tied: embed"))
    assert (round(untied / 1e6), round(tied / 1e6)) == (66, 51)
    dims = {"V": 10000, "D": 1500}
    assert untied - tied == dims["V"] * dims["D"]
    graph = archdraw.analyze(archdraw.loads(LM.replace("TIED", "tied: embed")))
    assert graph.node("decoder").params == dims["V"]  # its bias: the matrix is the embedding's
    assert graph.node("embed").params == dims["V"] * dims["D"]


def test_the_tie_is_drawn_between_the_two_layers() -> None:
    spec = archdraw.loads(LM.replace("TIED", "tied: embed"))
    svg = archdraw.load(LM.replace("TIED", "tied: embed")).to_svg()  # the layout engine's SVG
    # One edge from the embedding to the projection, drawn with its own class and label.
    tied = re.findall(r'class="edge tied from&#45;embed to&#45;decoder">(.*?)</g>\s*</g>', svg, re.S)
    assert len(tied) == 1
    assert "tied weights" in tied[0]
    assert "tied weights: one matrix, used by the layers it links" in svg  # the legend says what it is
    info = archdraw.to_info(archdraw.analyze(spec))
    assert {"src": "embed", "dst": "decoder", "kind": "tied"} in [
        {k: e[k] for k in ("src", "dst", "kind")} for e in info["edges"]
    ]
    # It carries no data: the projection still reads the LSTM only, and is the model's output.
    assert [e["src"] for e in info["edges"] if e["dst"] == "decoder" and e["kind"] == "data"] == ["lstm"]


def test_unrolled_the_tie_is_drawn_once() -> None:
    graph = archdraw.analyze(archdraw.loads(LM.replace("TIED", "tied: embed")))
    shown, _ = archdraw.apply_view(graph, archdraw.View(unroll=3))
    ties = [(e.src, e.dst) for e in shown.edges if e.kind is archdraw.EdgeKind.TIED]
    assert ties == [("embed@1", "decoder@1")]


def test_a_convolution_can_share_its_kernel_with_a_transposed_one() -> None:
    # A convolutional autoencoder whose decoder uses the encoder's kernels (Masci et al. 2011).
    spec = """archdraw: 1
name: tied autoencoder
dims: {N: 1}
inputs:
  x: [N, 1, 28, 28]
layers:
  - {id: enc, op: conv2d, channels: 16, kernel: 5}
  - {id: dec, op: conv_transpose2d, channels: 1, kernel: 5, tied: enc}
"""
    graph = archdraw.analyze(archdraw.loads(spec))
    assert (graph.node("enc").params, graph.node("dec").params) == (16 * 25 + 16, 1)


def test_weights_of_another_shape_cannot_be_tied() -> None:
    text = LM.replace("TIED", "tied: embed").replace("units: D, num_layers", "units: 600, num_layers")
    (message,) = errors(text)
    line = text.splitlines().index("  - {id: decoder, op: dense, units: V, tied: embed}") + 1
    column = text.splitlines()[line - 1].index("embed}") + 1
    assert message.startswith(
        f"spec.yaml:{line}:{column}: error: 'decoder' cannot use the weights of 'embed'"
    )
    assert "its weight matrix is 10000×600 but 'embed' holds 10000×1500" in message


@pytest.mark.parametrize(
    ("tie", "expected"),
    [
        ("tied: embd", "unknown layer 'embd' (did you mean 'embed'?)"),
        ("tied: decoder", "'decoder' is tied to itself; name the layer whose weights it uses"),
        ("tied: softmax_1", "'decoder' is tied to 'softmax_1', softmax, which has no weight matrix"),
    ],
)
def test_a_tie_names_a_layer_with_weights(tie: str, expected: str) -> None:
    (message,) = errors(LM.replace("TIED", tie))
    assert expected in message


def test_only_layers_with_a_weight_matrix_take_tied() -> None:
    text = LM.replace("  - softmax", "  - {op: softmax, tied: embed}").replace(", TIED", "")
    (message,) = errors(text)
    assert "'tied' shares a weight matrix; softmax has none (layers that have one: conv1d," in message


def test_a_block_call_takes_no_tie() -> None:
    text = """archdraw: 1
name: t
dims: {N: 1}
blocks:
  proj:
    layers: [{op: dense, units: 8}]
inputs:
  x: [N, 8]
layers:
  - {id: a, op: dense, units: 8}
  - {id: b, block: proj, tied: a}
"""
    (message,) = errors(text)
    assert "'tied' applies to single layers; put it on the layer inside the block" in message


def test_tied_is_not_an_edge_kind_to_write() -> None:
    text = LM.replace(", TIED", ", in: [{from: lstm, kind: tied}]")
    (message,) = errors(text)
    assert "edge kind must be one of data, skip, recurrent, gradient, undirected, got 'tied'" in message
