"""Dense connectivity (``connect: dense``): each copy of a repeat reads every map before it.

Sources: Huang et al., "Densely connected convolutional networks" (CVPR 2017), §3: layer ℓ
reads [x0, x1, …, xℓ−1], concatenated; a dense block of L layers has L(L+1)/2 connections.
torchvision's densenet121 documents 7,978,856 parameters.
https://pytorch.org/vision/stable/models/generated/torchvision.models.densenet121.html
"""

from __future__ import annotations

import re

import pytest

import archdraw
from archdraw.errors import SpecError
from archdraw.ir import EdgeKind
from archdraw.sizes import value

from .conftest import ROOT

DENSENET121 = """archdraw: 1
name: DenseNet-121
dims: {N: 1}
blocks:
  dense_layer:
    layers:
      - batchnorm
      - relu
      - {op: conv2d, channels: 128, kernel: 1, bias: false}
      - batchnorm
      - relu
      - {op: conv2d, channels: 32, kernel: 3, padding: 1, bias: false}
  transition:
    params: [c]
    layers:
      - batchnorm
      - relu
      - {op: conv2d, channels: c, kernel: 1, bias: false}
      - {op: avgpool2d, kernel: 2}
inputs:
  image: [N, 3, 224, 224]
layers:
  - {op: conv2d, channels: 64, kernel: 7, stride: 2, padding: 3, bias: false}
  - batchnorm
  - relu
  - {op: maxpool2d, kernel: 3, stride: 2, padding: 1}
  - {id: block1, block: dense_layer, repeat: 6, connect: dense}
  - {id: trans1, block: transition, c: 128}
  - {id: block2, block: dense_layer, repeat: 12, connect: dense}
  - {id: trans2, block: transition, c: 256}
  - {id: block3, block: dense_layer, repeat: 24, connect: dense}
  - {id: trans3, block: transition, c: 512}
  - {id: block4, block: dense_layer, repeat: 16, connect: dense}
  - batchnorm
  - relu
  - global_avgpool
  - {op: dense, units: 1000}
"""


def test_densenet121_has_its_published_parameter_count() -> None:
    graph = archdraw.analyze(archdraw.loads(DENSENET121))
    assert graph.totals is not None and graph.totals.params == 7_978_856
    # Each block's result is every map in it: 64 + 6 × 32, then (128 + 12 × 32) and so on.
    widths = {
        b: value((graph.node(f"{b}.out").shape or ())[1]) for b in ("block1", "block2", "block3", "block4")
    }
    assert widths == {"block1": 256, "block2": 512, "block3": 1024, "block4": 1024}


def test_layer_l_reads_every_map_before_it() -> None:
    graph = archdraw.analyze(archdraw.load(ROOT / "specs" / "densenet_block.yaml").graph)
    into: dict[str, list[tuple[str, EdgeKind]]] = {}
    for e in graph.edges:
        into.setdefault(e.dst, []).append((e.src, e.kind))
    outs = ["x", *(f"block1.{k}.conv2d_2" for k in range(1, 7))]
    for k in range(2, 7):
        # Copy k's first layer reads one concatenation: of x and copies 1 … k − 1.
        assert into[f"block1.{k}.batchnorm_1"] == [(f"block1.in{k}", EdgeKind.DATA)]
        assert [src for src, _ in into[f"block1.in{k}"]] == outs[:k]
        # The newest map is read straight on; every earlier one bypasses a layer: a skip.
        assert [kind for _, kind in into[f"block1.in{k}"]] == [EdgeKind.SKIP] * (k - 1) + [EdgeKind.DATA]
    assert [src for src, _ in into["block1.out"]] == outs
    skips = sum(1 for e in graph.edges if e.kind is EdgeKind.SKIP)
    layers = 6
    assert skips == layers * (layers + 1) // 2  # every connection but the chain's own
    assert graph.node("block1.out").has_role(archdraw.Role.OUTPUT)


def test_a_dense_block_is_drawn_with_every_connection_and_never_folded() -> None:
    model = archdraw.load(ROOT / "specs" / "densenet_block.yaml")
    svg = model.to_svg()
    # Every layer is drawn (as a node of its own, here collapsed to fit), not one copy ×6.
    titles = re.findall(r">dense layer (\d)/6<", svg)
    assert titles == [str(k) for k in range(1, 7)]
    skips = len(re.findall(r'class="edge skip ', svg))
    assert skips == 21
    # Shapes are said on the chain, not on each of the 21 skips.
    labelled = re.findall(r'class="edge skip [^"]*">.*?</g>\s*</g>', svg, re.S)
    assert not any("N×32×56×56" in g or "N×64×56×56" in g for g in labelled)


def test_connect_needs_a_repeat_and_a_known_word() -> None:
    base = "archdraw: 1\nname: t\ndims: {N: 1}\ninputs:\n  x: [N, 4, 8, 8]\nlayers:\n"
    with pytest.raises(SpecError, match="'connect' says how repetitions read one another; add 'repeat: N'"):
        archdraw.analyze(archdraw.loads(base + "  - {op: conv2d, channels: 4, kernel: 1, connect: dense}\n"))
    with pytest.raises(
        SpecError, match=r"connect must be one of chain, dense, got 'densse' \(did you mean 'dense'\?\)"
    ):
        archdraw.analyze(
            archdraw.loads(base + "  - {op: conv2d, channels: 4, kernel: 1, repeat: 2, connect: densse}\n")
        )


def test_a_dense_repeat_of_one_op_concatenates_along_the_channels() -> None:
    text = "archdraw: 1\nname: t\ndims: {N: 1}\ninputs:\n  x: [N, 4, 8, 8]\nlayers:\n"
    text += "  - {id: c, op: conv2d, channels: 2, kernel: 3, padding: 1, repeat: 3, connect: dense}\n"
    graph = archdraw.analyze(archdraw.loads(text))
    assert [value(s) for s in graph.node("c.out").shape or ()] == [1, 4 + 3 * 2, 8, 8]
    # Copy 3 reads x, copy 1 and copy 2 (4 + 2 + 2 channels): 8 × 2 × 9 weights and 2 biases.
    assert graph.node("c.3").params == 8 * 2 * 9 + 2
