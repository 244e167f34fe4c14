"""Block parameters that are not sizes: words (an activation) and flags (true, false).

MobileNetV3 (Howard et al. 2019, Table 1) uses one bottleneck block with ReLU in its early
stages and h-swish in its later ones, and squeeze-and-excitation in some blocks only: the
activation and the SE are what a call passes to the block.
"""

from __future__ import annotations

import pytest

import archdraw
from archdraw.errors import SpecError
from archdraw.ir import Graph

SPEC = """archdraw: 1
name: words and flags
dims: {N: 1}
blocks:
  cba:
    params: {c: null, nl: relu, norm: true}
    layers:
      - {id: conv, op: conv2d, channels: c, kernel: 3, padding: 1, bias: false, act: nl}
      - {id: bn, op: batchnorm, when: norm}
      - {id: fc, op: dense, units: 4, bias: norm}
  outer:
    params: {nl: hardswish}
    layers:
      - {id: inner, block: cba, c: 8, nl: nl}
inputs:
  x: [N, 3, 8, 8]
layers:
  - {id: a, block: cba, c: 16}
  - {id: b, block: cba, c: 16, nl: relu6, norm: false}
  - {id: c, block: outer}
"""


def analysed(text: str) -> Graph:
    return archdraw.analyze(archdraw.loads(text, "spec.yaml"))


def messages(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        analysed(text)
    return [str(d) for d in caught.value.diagnostics]


def test_a_word_parameter_sets_an_activation() -> None:
    graph = analysed(SPEC)
    acts = {n.id: n.attr("act") for n in graph.nodes if n.op == "conv2d"}
    assert acts == {"a.conv": "relu", "b.conv": "relu6", "c.inner.conv": "hardswish"}
    # And the drawing says so.
    dot = archdraw.to_dot(graph)
    assert ("3×3 conv, 16 · ReLU6" in dot, "3×3 conv, 8 · h-swish" in dot) == (True, True)


def test_a_flag_parameter_keeps_or_leaves_out_a_layer_and_sets_a_bool() -> None:
    graph = analysed(SPEC)
    ids = {n.id for n in graph.nodes}
    assert {"a.bn", "c.inner.bn"} <= ids and "b.bn" not in ids
    assert (graph.node("a.fc").attr("bias"), graph.node("b.fc").attr("bias")) == (True, False)
    # b's fc reads b.conv (its batch norm is left out) and has no bias: 4 × 4 weights only.
    assert graph.node("b.fc").params == 4 * 4


def test_a_misspelt_word_is_an_error_with_a_suggestion() -> None:
    (message,) = messages(SPEC.replace("nl: relu6, norm: false", "nl: rleu"))
    assert "spec.yaml:8:" in message
    assert "parameter 'nl' is 'rleu', but conv2d act must be one of none, relu," in message
    assert "(did you mean 'relu'?)" in message


def test_a_word_is_not_a_size() -> None:
    (message,) = messages(SPEC.replace("{id: a, block: cba, c: 16}", "{id: a, block: cba, c: wide}"))
    assert "parameter 'c' is the word 'wide', not a size (in 'c')" in message


def test_a_size_is_not_a_word() -> None:
    (message,) = messages(SPEC.replace("{id: a, block: cba, c: 16}", "{id: a, block: cba, c: 16, nl: 3}"))
    assert "parameter 'nl' is a size; conv2d act takes a word" in message


def test_a_repetition_name_never_becomes_a_word() -> None:
    text = SPEC.replace("{id: a, block: cba, c: 16}", "{id: a, block: cba, c: 16, norm: first}")
    (message,) = messages(text)
    assert "'first' is the number of a repetition, but no repeat encloses this layer" in message
