"""NumPy is the oracle: each op's shape rule agrees with a reference implementation of the op.

For every configuration the rule and the reference either both refuse (ShapeError; NumPy's or
the reference's ValueError or IndexError) or agree on the output shape and the parameter count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archdraw
from archdraw import sizes
from archdraw.ir import Size, Sym
from archdraw.ops import ACTIVATIONS, OPS
from archdraw.ops.reference import REFERENCES, evaluate
from archdraw.ops.rules import RULES, Call, Result, ShapeError

Array = npt.NDArray[Any]
SMALL = settings(max_examples=50, deadline=None)


def rule(
    op: str,
    shapes: Sequence[tuple[Size, ...]],
    attrs: Mapping[str, Any],
    delayed: Sequence[tuple[int, ...]] = (),
) -> Result:
    """The rule's result for these input shapes, attributes defaulted as the shapes pass does."""
    full: dict[str, Any] = {name: spec.default for name, spec in OPS[op].attrs.items()}
    full.update(attrs)
    sources = tuple(f"in{i}" for i in range(len(shapes)))
    return RULES[op](Call(op, "node", tuple(shapes), sources, full, tuple(delayed)))


def symbolic(shape: tuple[int, ...]) -> tuple[Size, ...]:
    """The shape with its first axis a symbolic dim, as specs write the batch."""
    return (Sym("N", shape[0]), *shape[1:]) if shape else shape


def agree(
    op: str,
    inputs: Sequence[Array],
    attrs: Mapping[str, Any] | None = None,
    delayed: Sequence[Array] = (),
    sym: bool = True,
) -> bool:
    """Assert that rule and reference agree; whether the op accepted its inputs."""
    attrs = dict(attrs or {})
    shapes = [symbolic(a.shape) if sym else a.shape for a in inputs]
    refused: list[str] = []
    result = None
    try:
        result = rule(op, shapes, attrs, [d.shape for d in delayed])
    except ShapeError as exc:
        refused.append(f"rule: {exc}")
    try:
        outcome = evaluate(op, inputs, attrs, np.random.default_rng(0), delayed)
    except (ValueError, IndexError) as exc:
        refused.append(f"reference: {type(exc).__name__}: {exc}")
        outcome = None
    where = f"{op} {[a.shape for a in inputs]} {attrs}"
    if result is None or outcome is None:
        assert len(refused) == 2, f"only one refuses {where}: {refused}"
        return False
    assert tuple(sizes.value(s) for s in result.shape) == outcome.value.shape, where
    assert result.params == outcome.weights, (
        f"params of {where}: rule {result.params}, {outcome.weights} made"
    )
    assert not np.isnan(outcome.value).any(), where
    return True


def array(*shape: int, seed: int = 1) -> Array:
    return np.asarray(np.random.default_rng(seed).standard_normal(shape))


def ids(high: int, *shape: int, low: int = 0) -> Array:
    return np.asarray(np.random.default_rng(2).integers(low, high, size=shape))


# -- one example per op: every op in RULES must have one ------------------------------------------

EXAMPLES: dict[str, tuple[list[Array], dict[str, Any]]] = {
    "dense": ([array(2, 5), array(2, 3)], {"units": 3, "act": "softmax"}),
    "conv1d": ([array(2, 4, 9)], {"channels": 6, "kernel": 3, "groups": 2, "padding": "same", "stride": 2}),
    "conv2d": (
        [array(1, 3, 7, 8)],
        {"channels": 4, "kernel": (3, 2), "stride": 2, "padding": 1, "dilation": (1, 2)},
    ),
    "conv3d": ([array(1, 2, 5, 6, 4)], {"channels": 3, "kernel": 2, "act": "relu"}),
    "conv_transpose2d": (
        [array(1, 4, 3, 4)],
        {"channels": 6, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
    ),
    "maxpool1d": ([array(1, 2, 7)], {"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    "maxpool2d": ([array(1, 2, 7, 6)], {"kernel": 2}),
    "maxpool3d": ([array(1, 2, 5, 4, 3)], {"kernel": 2, "padding": "same"}),
    "avgpool1d": ([array(1, 2, 8)], {"kernel": 3, "stride": 2, "ceil_mode": True}),
    "avgpool2d": ([array(1, 2, 7, 6)], {"kernel": 3, "padding": 1, "stride": 2}),
    "avgpool3d": ([array(1, 1, 4, 5, 3)], {"kernel": (2, 3, 1), "padding": "same", "stride": 2}),
    "global_avgpool": ([array(2, 3, 4, 5)], {}),
    "global_maxpool": ([array(2, 3, 4)], {}),
    "adaptive_avgpool2d": ([array(1, 2, 7, 5)], {"size": (3, 2)}),
    "adaptive_maxpool2d": ([array(1, 2, 7, 5)], {"size": 4}),
    "unpool2d": ([array(1, 2, 3, 3), array(1, 2, 3, 3)], {"kernel": 2}),
    "upsample": ([array(1, 2, 3, 4)], {"scale": (2, 3), "mode": "bilinear"}),
    "batchnorm": ([array(2, 3, 4)], {}),
    "layernorm": ([array(2, 5)], {}),
    "groupnorm": ([array(2, 6, 3, 3)], {"groups": 3}),
    "layer_scale": ([array(2, 5, 3)], {"axis": -1, "bias": True}),
    "instancenorm": ([array(2, 4, 3, 3)], {"affine": True}),
    "lrn": ([array(1, 6, 3, 3)], {"size": 3}),
    "dropout": ([array(2, 3)], {}),
    "relu": ([array(2, 3)], {}),
    "sigmoid": ([array(2, 3)], {}),
    "tanh": ([array(2, 3)], {}),
    "gelu": ([array(2, 3)], {}),
    "elu": ([array(2, 3)], {}),
    "softplus": ([array(2, 3)], {}),
    "swish": ([array(2, 3)], {}),
    "relu6": ([array(2, 3)], {}),
    "hardswish": ([array(2, 3)], {}),
    "hardsigmoid": ([array(2, 3)], {}),
    "identity": ([array(2, 3)], {}),
    "leaky_relu": ([array(2, 3)], {"slope": 0.2}),
    "softmax": ([array(2, 3, 4)], {"axis": 1}),
    "log_softmax": ([array(2, 3, 4)], {}),
    "flatten": ([array(2, 3, 4, 5)], {"start": 2}),
    "reshape": ([array(2, 3, 4)], {"shape": (2, -1, 3)}),
    "permute": ([array(2, 3, 4)], {"axes": (0, -1, 1)}),
    "crop": ([array(2, 3, 6, 5)], {"size": (4, 3)}),
    "split": ([array(2, 6)], {"parts": 3, "index": 1}),
    "slice": ([array(2, 6)], {"start": 1, "stop": -1}),
    "concat": ([array(2, 3), array(2, 4)], {}),
    "add": ([array(2, 1, 4), array(3, 1)], {}),
    "sub": ([array(2, 3), array(3)], {}),
    "mul": ([array(2, 3), array(1, 3), array(2, 1)], {}),
    "matmul": ([array(2, 3, 4), array(4, 5)], {}),
    "embedding": ([ids(7, 2, 5)], {"vocab": 7, "dim": 3}),
    "rnn": ([array(2, 4, 3)], {"units": 5, "act": "relu"}),
    "lstm": ([array(4, 2, 3)], {"units": 5, "bidirectional": True, "num_layers": 2, "batch_first": False}),
    "gru": ([array(2, 4, 3)], {"units": 5, "return_sequences": False, "bidirectional": True}),
    "attention": ([array(2, 3, 4), array(2, 5, 4), array(2, 5, 6)], {"kind": "scaled_dot"}),
    "memory": ([array(2, 4)], {"slots": 5, "width": 3}),
    "memory_read": ([array(2, 5, 3), array(2, 4)], {"heads": 2, "addressing": "content_location"}),
    "memory_write": ([array(2, 5, 3), array(2, 4)], {"heads": 2}),
    "noise": ([], {"shape": (2, 3), "dist": "uniform"}),
    "parameter": ([], {"shape": (2, 1, 3)}),
    "sample": ([array(2, 3), array(2, 3)], {}),
    "gradient_reversal": ([array(2, 3)], {}),
    "mse_loss": ([array(2, 3), array(2, 3)], {}),
    "bce_loss": ([array(2, 3), array(2, 3)], {}),
    "cross_entropy": ([array(2, 4, 3), ids(4, 2, 3)], {}),
    "ctc_loss": ([array(2, 6, 4), ids(4, 2, 2, low=1)], {}),
    "kl_divergence": ([array(2, 3), array(2, 3)], {}),
    "content_loss": ([array(1, 3, 4, 4), array(1, 3, 4, 4)], {}),
    "style_loss": ([array(1, 3, 4, 4), array(1, 3, 5, 5)], {}),
    "ranking_loss": ([array(4), array(4)], {}),
    "custom": ([array(2, 3)], {"shape": (4, 5), "params": 7}),
}


def test_every_op_has_a_reference_and_an_example() -> None:
    assert set(REFERENCES) == set(RULES), "every op needs a reference implementation"
    assert set(EXAMPLES) == set(RULES), "every op needs an example in the oracle"
    assert set(RULES) == set(OPS) - {"input"}


@pytest.mark.parametrize("op", sorted(EXAMPLES))
def test_example(op: str) -> None:
    inputs, attrs = EXAMPLES[op]
    assert agree(op, inputs, attrs), f"{op}'s example is refused"


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_every_activation(act: str) -> None:
    assert agree("dense", [array(2, 3)], {"units": 4, "act": act})
    assert agree("conv1d", [array(1, 2, 5)], {"channels": 3, "kernel": 2, "act": act})
    assert agree("rnn", [array(2, 3, 2)], {"units": 3, "act": act})


def test_reference_counts_weights() -> None:
    out = evaluate("dense", [array(2, 5)], {"units": 3}, np.random.default_rng(0))
    assert out.weights == 5 * 3 + 3
    assert evaluate("custom", [array(2, 3)], {"params": 11}, np.random.default_rng(0)).weights == 11


def test_recurrence_is_real() -> None:
    """The output at step t depends on the inputs before t, not after (a real step loop)."""
    x = array(1, 5, 3)
    y = x.copy()
    y[0, 3:] += 1.0
    for op in ("rnn", "lstm", "gru"):
        a = evaluate(op, [x], {"units": 4}, np.random.default_rng(0)).value
        b = evaluate(op, [y], {"units": 4}, np.random.default_rng(0)).value
        assert np.allclose(a[0, :3], b[0, :3]) and not np.allclose(a[0, 3:], b[0, 3:])


def test_pooling_values() -> None:
    x = np.arange(1.0, 6.0).reshape(1, 1, 5)
    assert evaluate(
        "maxpool1d", [x], {"kernel": 2, "ceil_mode": True}, np.random.default_rng(0)
    ).value.tolist() == [[[2.0, 4.0, 5.0]]]
    # PyTorch's divisor counts padding but not the overhang of ceil mode.
    avg = evaluate("avgpool1d", [x], {"kernel": 2, "padding": 1, "ceil_mode": True}, np.random.default_rng(0))
    assert avg.value.tolist() == [[[0.5, 2.5, 4.5]]]


# -- rules the oracle corrected: each case once disagreed with NumPy/PyTorch ------------------------

CORRECTED: list[tuple[str, list[Array], dict[str, Any], bool]] = [
    # ceil mode: a window that starts inside the input may hang over its end
    ("maxpool1d", [array(1, 1, 1)], {"kernel": 2, "stride": 2, "ceil_mode": True}, True),
    ("avgpool2d", [array(1, 1, 2, 2)], {"kernel": 3, "stride": 2, "ceil_mode": True}, True),
    ("maxpool2d", [array(1, 1, 4, 4)], {"kernel": 2, "stride": 0}, False),  # was ZeroDivisionError
    ("maxpool1d", [array(1, 1, 4)], {"kernel": 0}, False),
    ("conv_transpose2d", [array(1, 2, 3, 3)], {"channels": 2, "kernel": 3, "output_padding": 1}, False),
    ("conv_transpose2d", [array(1, 2, 3, 3)], {"channels": 2, "kernel": 3, "stride": 0}, False),
    ("unpool2d", [array(1, 2, 2, 2), array(1, 8)], {"kernel": 2}, False),  # switches of another shape
    ("upsample", [array(1, 2, 3)], {"mode": "bilinear"}, False),  # bilinear needs [N, C, H, W]
    ("upsample", [array(1, 2, 3, 3)], {"scale": 0}, False),
    ("lrn", [array(2, 6)], {}, False),  # PyTorch needs 3 or more axes
    ("memory_read", [array(1, 4, 3), array(3, 5)], {"heads": 2}, True),  # the batch broadcasts: [3, 6]
    ("memory_write", [array(2, 4, 3), array(3, 5)], {}, False),
    ("cross_entropy", [array(5), ids(5)], {}, True),  # unbatched: was an internal ValueError
    ("cross_entropy", [array()], {}, False),
    ("ctc_loss", [array(2, 6, 4), ids(4, 2, 2, low=1)], {"blank": 4}, False),
    ("ctc_loss", [array(2, 6)], {}, False),
    ("style_loss", [array(2, 3)], {}, False),
    ("style_loss", [array(2, 3, 4, 4), array(3, 3, 4, 4)], {}, False),  # Gram batches must broadcast
    ("style_loss", [array(2, 3, 4, 4), array(1, 3, 5, 5)], {}, True),
]


@pytest.mark.parametrize(("op", "inputs", "attrs", "accepted"), CORRECTED)
def test_corrected_rules(op: str, inputs: list[Array], attrs: dict[str, Any], accepted: bool) -> None:
    assert agree(op, inputs, attrs) == accepted


def test_dense_delayed_inputs_fit() -> None:
    """A delayed input is concatenated too, so it must agree before the last axis."""
    assert agree("dense", [array(2, 3)], {"units": 4}, delayed=[array(2, 4)])
    assert not agree("dense", [array(2, 3)], {"units": 4}, delayed=[array(3, 4)])


def test_memory_read_shape_follows_the_controller() -> None:
    result = rule("memory_read", [(1, 4, 3), (3, 5)], {"heads": 2})
    assert result.shape == (3, 6)


# -- strategies ----------------------------------------------------------------------------------


def per_axis(dims: int, low: int, high: int) -> st.SearchStrategy[Any]:
    """One int, or one per axis (as ``kernel: 3`` or ``kernel: [3, 5]``)."""
    return st.one_of(st.integers(low, high), st.tuples(*(st.integers(low, high) for _ in range(dims))))


def shapes(min_rank: int = 0, max_rank: int = 4, high: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(st.integers(1, high), min_size=min_rank, max_size=max_rank).map(tuple)


@SMALL
@given(st.data(), st.integers(1, 3))
def test_conv(data: st.DataObject, dims: int) -> None:
    groups = data.draw(st.integers(1, 3))
    cin = groups * data.draw(st.integers(1, 2)) + data.draw(st.sampled_from([0, 0, 0, 1]))
    cout = groups * data.draw(st.integers(1, 2))
    length = 6 if dims == 3 else 9
    spatial = data.draw(st.tuples(*(st.integers(1, length) for _ in range(dims))))
    attrs = {
        "channels": cout,
        "groups": groups,
        "kernel": data.draw(per_axis(dims, 1, 4)),
        "stride": data.draw(per_axis(dims, 1, 3)),
        "dilation": data.draw(per_axis(dims, 1, 3)),
        "padding": data.draw(st.one_of(per_axis(dims, 0, 3), st.sampled_from(["same", "valid"]))),
        "bias": data.draw(st.booleans()),
    }
    agree(f"conv{dims}d", [array(data.draw(st.integers(1, 2)), cin, *spatial)], attrs)


@SMALL
@given(st.data())
def test_conv_transpose(data: st.DataObject) -> None:
    groups = data.draw(st.integers(1, 2))
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    attrs = {
        "channels": cout,
        "groups": groups,
        "kernel": data.draw(per_axis(2, 1, 4)),
        "stride": data.draw(per_axis(2, 1, 3)),
        "dilation": data.draw(per_axis(2, 1, 2)),
        "padding": data.draw(per_axis(2, 0, 3)),
        "output_padding": data.draw(per_axis(2, 0, 2)),
        "bias": data.draw(st.booleans()),
    }
    spatial = data.draw(st.tuples(st.integers(1, 5), st.integers(1, 5)))
    agree("conv_transpose2d", [array(1, cin, *spatial)], attrs)


@SMALL
@given(st.data(), st.integers(1, 3), st.sampled_from(["max", "avg"]))
def test_pool(data: st.DataObject, dims: int, kind: str) -> None:
    spatial = data.draw(st.tuples(*(st.integers(1, 7 if dims < 3 else 5) for _ in range(dims))))
    attrs = {
        "kernel": data.draw(per_axis(dims, 1, 4)),
        "stride": data.draw(st.one_of(st.none(), per_axis(dims, 1, 3))),
        "padding": data.draw(st.one_of(per_axis(dims, 0, 2), st.sampled_from(["same", "valid"]))),
        "ceil_mode": data.draw(st.booleans()),
    }
    agree(f"{kind}pool{dims}d", [array(2, 2, *spatial)], attrs)


@SMALL
@given(st.data())
def test_resampling(data: st.DataObject) -> None:
    """Adaptive pools, upsampling and unpooling."""
    h, w = data.draw(st.integers(1, 7)), data.draw(st.integers(1, 7))
    size = data.draw(per_axis(2, 1, 5))
    agree(
        data.draw(st.sampled_from(["adaptive_avgpool2d", "adaptive_maxpool2d"])),
        [array(1, 2, h, w)],
        {"size": size},
    )
    rank = data.draw(st.integers(2, 5))
    scale = data.draw(per_axis(max(rank - 2, 1), 0, 3))
    mode = data.draw(st.sampled_from(["nearest", "bilinear"]))
    agree(
        "upsample",
        [array(1, 2, *data.draw(st.tuples(*(st.integers(1, 3) for _ in range(rank - 2)))))],
        {"scale": scale, "mode": mode},
    )
    kernel, stride = data.draw(per_axis(2, 0, 3)), data.draw(st.one_of(st.none(), per_axis(2, 0, 3)))
    x = array(1, 2, h, w)
    switches = (
        [data.draw(st.sampled_from([x, array(1, 2, w, h), array(1, 2 * h * w)]))]
        if data.draw(st.booleans())
        else []
    )
    agree("unpool2d", [x, *switches], {"kernel": kernel, "stride": stride})


@SMALL
@given(st.lists(shapes(), min_size=1, max_size=3), st.sampled_from(["add", "sub", "mul"]))
def test_broadcasting(operands: list[tuple[int, ...]], op: str) -> None:
    """The rule refuses exactly the shapes NumPy cannot broadcast, and gives NumPy's shape."""
    if op == "sub":
        operands = operands[:2]
    accepted = agree(op, [array(*s) for s in operands])
    try:
        expected: tuple[int, ...] | None = np.broadcast_shapes(*operands)
    except ValueError:
        expected = None
    assert accepted == (expected is not None)


@SMALL
@given(shapes(1, 4), shapes(1, 4))
def test_matmul(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    agree("matmul", [array(*a), array(*b)])


@st.composite
def reshapes(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    shape = draw(shapes(1, 4, high=4))
    total = int(np.prod(shape))
    if draw(st.booleans()):  # a target with the same number of values
        target: list[int] = []
        left = total
        while left > 1 and len(target) < 4:
            factor = draw(st.sampled_from([d for d in range(1, left + 1) if left % d == 0]))
            target.append(factor)
            left //= factor
        target.append(left)
    else:
        target = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return shape, tuple(target)


@SMALL
@given(reshapes())
def test_reshape(case: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    shape, target = case
    agree("reshape", [array(*shape)], {"shape": target})


@SMALL
@given(st.data(), shapes(1, 4))
def test_permute(data: st.DataObject, shape: tuple[int, ...]) -> None:
    rank = len(shape)
    if data.draw(st.booleans()):
        order = data.draw(st.permutations(range(rank)))
        axes: Any = tuple(a - rank if data.draw(st.booleans()) else a for a in order)
    else:
        axes = data.draw(
            st.one_of(st.integers(-5, 5), st.lists(st.integers(-5, 5), min_size=1, max_size=5).map(tuple))
        )
    agree("permute", [array(*shape)], {"axes": axes})


@SMALL
@given(shapes(1, 4), st.integers(-5, 4), st.booleans())
def test_layernorm_over_any_axis(shape: tuple[int, ...], axis: int, affine: bool) -> None:
    agree("layernorm", [array(*shape)], {"axis": axis, "affine": affine})


def test_layernorm_over_the_channels_counts_them() -> None:
    """ConvNeXt's LayerNorm2d normalises the channels of [N, C, H, W]: 2C weights (Liu et al. 2022)."""
    assert rule("layernorm", [(1, 96, 56, 56)], {"axis": 1}).params == 2 * 96
    assert rule("layernorm", [(1, 96, 56, 56)], {}).params == 2 * 56


@SMALL
@given(shapes(1, 4), st.integers(-5, 4), st.booleans())
def test_layer_scale(shape: tuple[int, ...], axis: int, bias: bool) -> None:
    agree("layer_scale", [array(*shape)], {"axis": axis, "bias": bias})


@SMALL
@given(st.data(), shapes(2, 5, high=6))
def test_crop(data: st.DataObject, shape: tuple[int, ...]) -> None:
    spatial = max(len(shape) - 2, 1)
    size = data.draw(st.lists(st.integers(0, 7), min_size=1, max_size=spatial + 1).map(tuple))
    agree("crop", [array(*shape)], {"size": size[0] if len(size) == 1 else size})


def test_layer_scale_counts_one_weight_per_channel() -> None:
    """ConvNeXt's layer scale γ is a vector of C weights (Liu et al. 2022, §3: "layer scale")."""
    spec = "archdraw: 1\nname: t\ndims: {N: 1}\ninputs:\n  x: [N, 96, 56, 56]\nlayers:\n  - layer_scale\n"
    graph = archdraw.analyze(archdraw.loads(spec))
    assert graph.node("layer_scale_1").params == 96


@SMALL
@given(st.data(), shapes(1, 3), st.integers(1, 3))
def test_concat(data: st.DataObject, base: tuple[int, ...], count: int) -> None:
    rank = len(base)
    axis = data.draw(st.integers(-rank - 1, rank))
    operands = []
    for _ in range(count):
        shape = list(base)
        if -rank <= axis < rank:
            shape[axis] = data.draw(st.integers(1, 3))
        if data.draw(st.integers(0, 5)) == 0:  # now and then, a misfit
            shape = list(data.draw(shapes(1, 3)))
        operands.append(array(*shape))
    agree("concat", operands, {"axis": axis})


@SMALL
@given(st.data(), shapes(0, 4, high=4), st.integers(-5, 4))
def test_axes(data: st.DataObject, shape: tuple[int, ...], axis: int) -> None:
    """split, slice, flatten and softmax along an axis that may not exist."""
    x = array(*shape)
    agree(
        "split",
        [x],
        {"axis": axis, "parts": data.draw(st.integers(1, 4)), "index": data.draw(st.integers(-1, 3))},
    )
    stop = data.draw(st.one_of(st.none(), st.integers(-6, 6)))
    agree("slice", [x], {"axis": axis, "start": data.draw(st.integers(-6, 6)), "stop": stop})
    agree("flatten", [x], {"start": axis})
    agree(data.draw(st.sampled_from(["softmax", "log_softmax"])), [x], {"axis": axis})


@SMALL
@given(st.data(), st.sampled_from(["rnn", "lstm", "gru"]))
def test_recurrent(data: st.DataObject, op: str) -> None:
    attrs = {
        "units": data.draw(st.integers(1, 4)),
        "num_layers": data.draw(st.integers(1, 3)),
        "bidirectional": data.draw(st.booleans()),
        "return_sequences": data.draw(st.booleans()),
        "batch_first": data.draw(st.booleans()),
        "bias": data.draw(st.booleans()),
        "convention": data.draw(st.sampled_from(["pytorch", "keras"])),
    }
    if op == "rnn":
        attrs["act"] = data.draw(st.sampled_from(["tanh", "relu", "sigmoid"]))
    n, t, f = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    shape: tuple[int, ...] = (n, t, f) if attrs["batch_first"] else (t, n, f)
    if data.draw(st.integers(0, 9)) == 0:
        shape = shape[:2]
    assert agree(op, [array(*shape)], attrs, sym=False) == (len(shape) == 3)


@SMALL
@given(st.data(), st.sampled_from(["dot", "scaled_dot", "additive", "multi_head"]))
def test_attention(data: st.DataObject, kind: str) -> None:
    n = data.draw(st.integers(1, 2))
    count = data.draw(st.integers(1, 3))
    operands = [
        array(
            data.draw(st.sampled_from([n, n, n, n + 1])),
            data.draw(st.integers(1, 3)),
            data.draw(st.integers(1, 4)),
        )
        for _ in range(count)
    ]
    attrs = {
        "kind": kind,
        "heads": data.draw(st.integers(1, 3)),
        "units": data.draw(st.one_of(st.none(), st.integers(1, 6))),
    }
    agree("attention", operands, attrs)


@SMALL
@given(st.data(), st.sampled_from(["memory_read", "memory_write"]))
def test_memory(data: st.DataObject, op: str) -> None:
    slots, width = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    memory = array(data.draw(st.integers(1, 3)), slots, width)
    controller = array(data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4)))
    attrs = {
        "heads": data.draw(st.integers(1, 3)),
        "addressing": data.draw(st.sampled_from(["content", "location", "content_location"])),
    }
    agree(op, [memory, controller], attrs, sym=False)
    agree("memory", [controller] if data.draw(st.booleans()) else [], {"slots": slots, "width": width})


@SMALL
@given(st.data(), shapes(2, 3), st.integers(0, 2))
def test_dense(data: st.DataObject, shape: tuple[int, ...], extra: int) -> None:
    """Extra and delayed inputs are concatenated on the last axis: their width adds weights."""
    operands = [array(*shape)]
    for _ in range(extra):
        other = (*shape[:-1], data.draw(st.integers(1, 3)))
        operands.append(array(*(other if data.draw(st.integers(0, 4)) else data.draw(shapes(1, 3)))))
    delayed = [array(*shape[:-1], data.draw(st.integers(1, 3)))] if data.draw(st.booleans()) else []
    agree(
        "dense", operands, {"units": data.draw(st.integers(1, 4)), "bias": data.draw(st.booleans())}, delayed
    )


@SMALL
@given(st.data(), shapes(0, 4), st.integers(1, 5))
def test_embedding(data: st.DataObject, shape: tuple[int, ...], vocab: int) -> None:
    agree("embedding", [ids(vocab, *shape)], {"vocab": vocab, "dim": data.draw(st.integers(1, 3))})


@SMALL
@given(st.data(), shapes(1, 4))
def test_losses(data: st.DataObject, pred: tuple[int, ...]) -> None:
    classes = pred[1] if len(pred) > 1 else pred[0]
    id_shape = pred[:1] + pred[2:] if len(pred) > 1 else ()
    target = data.draw(
        st.sampled_from(
            [array(*pred), ids(classes, *id_shape), array(*id_shape), array(*pred[::-1]), ids(3, 1, 2)]
        )
    )
    op = data.draw(
        st.sampled_from(
            ["cross_entropy", "mse_loss", "bce_loss", "ranking_loss", "content_loss", "kl_divergence"]
        )
    )
    agree(op, [array(*pred), target])
    agree("style_loss", [array(*pred), array(*data.draw(shapes(1, 4)))])
    ctc_pred = array(*data.draw(shapes(2, 4)))
    classes = ctc_pred.shape[-1]
    blank = data.draw(st.integers(-1, 4))
    # Labels are class ids other than the blank (with one class, there are none).
    labels = data.draw(st.integers(0, 3)) if classes > 1 else 0
    target_ids = (ids(max(classes - 1, 1), ctc_pred.shape[0], labels) + max(blank, 0) + 1) % classes
    agree("ctc_loss", [ctc_pred, target_ids], {"blank": blank})


def test_the_mobilenet_activations_are_as_published() -> None:
    """Howard et al. 2019 (MobileNetV3), eq. 1-2: h-swish(x) = x·ReLU6(x+3)/6, h-sigmoid = ReLU6(x+3)/6."""
    import numpy as np

    from archdraw.ops.reference import _activate as activation

    x = np.array([-4.0, -3.0, -1.5, 0.0, 2.0, 3.0, 7.0])
    relu6 = np.minimum(np.maximum(x, 0.0), 6.0)
    assert np.allclose(activation(x, "relu6"), relu6)
    assert np.allclose(activation(x, "hardsigmoid"), np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0)
    assert np.allclose(activation(x, "hardswish"), x * np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0)
    assert activation(np.array([-3.0, 3.0]), "hardswish").tolist() == [0.0, 3.0]  # the kinks


def test_group_and_instance_norm_count_as_pytorch_does() -> None:
    """torch.nn.GroupNorm(G, C) has 2C weights (affine by default); InstanceNorm2d(C) none."""
    spec = "archdraw: 1\nname: t\ndims: {N: 1}\ninputs:\n  x: [N, 32, 8, 8]\nlayers:\n"
    channels = 32
    group = archdraw.analyze(archdraw.loads(spec + "  - {op: groupnorm, groups: 8}\n"))
    inst = archdraw.analyze(archdraw.loads(spec + "  - instancenorm\n"))
    affine = archdraw.analyze(archdraw.loads(spec + "  - {op: instancenorm, affine: true}\n"))
    assert [g.totals.params for g in (group, inst, affine) if g.totals] == [2 * channels, 0, 2 * channels]
    with pytest.raises(archdraw.SpecError, match="divisible by groups: 32 channels in 5 groups"):
        archdraw.analyze(archdraw.loads(spec + "  - {op: groupnorm, groups: 5}\n"))


def test_a_learned_tensor_counts_one_copy_shared_over_the_batch() -> None:
    """ViT-B/16's class token is 768 weights and its position table 197 × 768 (Dosovitskiy et al. 2021)."""
    spec = "archdraw: 1\nname: t\ndims: {N: 1, D: 768, P: 196}\nlayers:\n"
    spec += "  cls: {op: parameter, shape: [N, 1, D]}\n  pos: {op: parameter, shape: [N, P + 1, D]}\n"
    graph = archdraw.analyze(archdraw.loads(spec))
    dims = {d.name: d.size for d in graph.dims}
    assert [n.params for n in graph.nodes] == [dims["D"], (dims["P"] + 1) * dims["D"]]
