"""'index' and 'first' name the innermost repeat around a layer, inside block bodies too.

A layer in a block called with ``repeat: N`` sees that call's repetition, not a repetition of
its own (it has none): ``when: first`` keeps a projection in the first copy only. A
repetition name where no repeat encloses the layer is an error, never a silent 1.
"""

from __future__ import annotations

import pytest

import archdraw
from archdraw.errors import SpecError
from archdraw.sizes import value

HEAD = "archdraw: 1\nname: t\ndims: {N: 1}\ninputs:\n  x: [N, 8, 16, 16]\n"
UNIT = """blocks:
  unit:
    params: [c]
    layers:
      main: {op: conv2d, in: x, channels: c, kernel: 3, padding: 1}
      proj: {op: conv2d, in: x, channels: c, kernel: 1, when: first}
      sum: {op: add, in: [main, proj]}
"""


def conv_params(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + c_out


def test_first_inside_a_block_is_the_calls_first_repetition() -> None:
    graph = archdraw.analyze(archdraw.loads(HEAD + UNIT + "layers:\n  - {block: unit, c: 8, repeat: 3}\n"))
    projections = sorted(n.id for n in graph.nodes if n.id.endswith(".proj"))
    assert projections == ["unit_1.1.proj"]
    assert graph.totals is not None
    assert graph.totals.params == 3 * conv_params(8, 8, 3) + conv_params(8, 8, 1)
    # Copies 2 and 3 add the block's input back: an identity shortcut, drawn as a skip.
    skips = {(e.src, e.dst) for e in graph.edges if e.kind.value == "skip"}
    assert {d for _, d in skips} == {"unit_1.2.sum", "unit_1.3.sum"}


def test_index_inside_a_block_is_the_calls_repetition() -> None:
    spec = HEAD + (
        "blocks:\n  widen:\n    layers:\n      - {op: conv2d, channels: 8 * index, kernel: 1}\n"
        "layers:\n  - {block: widen, repeat: 3}\n"
    )
    graph = archdraw.analyze(archdraw.loads(spec))
    assert [n.shape[1] for n in graph.nodes if n.op == "conv2d"] == [8, 16, 24]  # type: ignore[index]


def test_a_repeated_layer_in_a_repeated_block_sees_its_own_repetition() -> None:
    spec = HEAD + (
        "blocks:\n  twice:\n    layers:\n      - {op: conv2d, channels: 4 * index, kernel: 1, repeat: 2}\n"
        "layers:\n  - {block: twice, repeat: 2}\n"
    )
    graph = archdraw.analyze(archdraw.loads(spec))
    assert [n.shape[1] for n in graph.nodes if n.op == "conv2d"] == [4, 8, 4, 8]  # type: ignore[index]


@pytest.mark.parametrize(
    "layers",
    [
        "  - {op: conv2d, channels: 8, kernel: 1, when: first}\n",
        "  - {op: conv2d, channels: 8 * index, kernel: 1}\n",
    ],
)
def test_a_repetition_name_without_a_repeat_is_an_error(layers: str) -> None:
    with pytest.raises(SpecError) as exc:
        archdraw.analyze(archdraw.loads(HEAD + "layers:\n" + layers, "spec.yaml"))
    message = str(exc.value)
    assert "spec.yaml:7:" in message and "no repeat encloses this layer" in message


def test_a_block_called_once_has_no_repetition_either() -> None:
    with pytest.raises(SpecError, match="no repeat encloses"):
        archdraw.analyze(archdraw.loads(HEAD + UNIT + "layers:\n  - {block: unit, c: 8}\n"))


def test_a_group_whose_first_layer_names_its_input_needs_no_input_of_its_own() -> None:
    spec = "archdraw: 1\nname: t\ndims: {N: 1}\ninputs:\n  x: [N, 8, 4, 4]\n  y: [N, 8, 4, 4]\n"
    spec += (
        "layers:\n  se:\n    layers:\n      - {op: global_avgpool, in: x}\n      - {op: dense, units: 8}\n"
    )
    graph = archdraw.analyze(archdraw.loads(spec))
    assert sorted((e.src, e.dst) for e in graph.edges) == [
        ("se.global_avgpool_1", "se.dense_1"),
        ("x", "se.global_avgpool_1"),
    ]


def test_a_repeat_of_one_has_a_first_copy() -> None:
    # A stage of one block (MobileNetV2's first and last) is a repeat too: its copy is the first.
    text = """archdraw: 1
name: t
dims: {N: 1}
blocks:
  unit:
    layers:
      - {id: main, op: dense, units: 8 * (1 + first)}
inputs:
  x: [N, 4]
layers:
  - {id: fc, op: dense, units: 8 * index, repeat: 1}
  - {id: stage, block: unit, repeat: 1}
"""
    graph = archdraw.analyze(archdraw.loads(text))
    assert [n.id for n in graph.nodes] == ["x", "fc", "stage.main"]
    assert [value((graph.node(i).shape or ())[-1]) for i in ("fc", "stage.main")] == [8, 16]
