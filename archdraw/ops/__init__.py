"""The op table: per op its attributes (type, default, choices), inputs it takes and family."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final

from ..ir import AttrValue, OpFamily
from .rules import RULES, Rule

__all__ = ["ACTIVATIONS", "OPS", "PADDINGS", "TIEABLE", "AttrSpec", "AttrType", "OpDef", "op_names"]


class AttrType(enum.Enum):
    """The kinds of value an attribute takes."""

    SIZE = "size"  # a positive integer or a size expression over dims and block parameters
    INT = "int"  # any integer (axes, offsets), or an expression
    INTS = "ints"  # one non-negative integer, or a list of them (kernel: 3 or [3, 5])
    PADDING = "padding"  # like INTS, or 'same' / 'valid'
    FLOAT = "float"
    BOOL = "bool"
    CHOICE = "choice"  # one string of ``choices``
    STR = "str"
    SHAPE = "shape"  # a list of sizes; reshape allows one -1


@dataclass(frozen=True, slots=True)
class AttrSpec:
    """How one attribute is written; ``required`` attributes have no default."""

    type: AttrType
    default: AttrValue = None
    required: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""
    bounds: tuple[float, float] | None = None  # inclusive range of a FLOAT attribute
    minimum: int = 0  # the smallest integer an INTS or PADDING attribute takes


@dataclass(frozen=True, slots=True)
class OpDef:
    """An op: its family, attributes and the number of data inputs it takes.

    ``joins`` marks ops that merge branches (add, concat): an edge into one that bypasses other
    nodes is a skip connection. ``mul`` gates rather than joins, so it is not one.
    """

    name: str
    family: OpFamily
    doc: str
    attrs: Mapping[str, AttrSpec] = field(default_factory=dict)
    min_inputs: int = 1
    max_inputs: int | None = 1
    joins: bool = False
    rule: Rule | None = None


ACTIVATIONS: Final = (
    "none",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "gelu",
    "elu",
    "leaky_relu",
    "softplus",
    "swish",
    "relu6",
    "hardswish",
    "hardsigmoid",
    "linear",
)

#: ops with one weight matrix that another layer can use as its own (``tied:``)
TIEABLE: Final = frozenset({"dense", "embedding", "conv1d", "conv2d", "conv3d", "conv_transpose2d"})

PADDINGS: Final = ("same", "valid")  # the words a PADDING attribute takes besides integers

_ACT = AttrSpec(AttrType.CHOICE, "none", choices=ACTIVATIONS, doc="activation applied after the op")
_BIAS = AttrSpec(AttrType.BOOL, True, doc="whether the op adds a learned bias")


def _req(kind: AttrType, doc: str) -> AttrSpec:
    return AttrSpec(kind, None, required=True, doc=doc)


def _conv(dims: int, transpose: bool = False) -> dict[str, AttrSpec]:
    attrs = {
        "channels": _req(AttrType.SIZE, "output channels"),
        "kernel": _req(AttrType.INTS, f"kernel size (one int or {dims})"),
        "stride": AttrSpec(AttrType.INTS, 1, doc="stride"),
        "padding": AttrSpec(AttrType.PADDING, 0, doc="zero padding, or 'same' / 'valid'"),
        "dilation": AttrSpec(AttrType.INTS, 1, doc="dilation"),
        "groups": AttrSpec(AttrType.SIZE, 1, doc="grouped convolution"),
        "bias": _BIAS,
        "act": _ACT,
    }
    if transpose:
        attrs["output_padding"] = AttrSpec(AttrType.INTS, 0, doc="extra size on one side")
    return attrs


def _pool() -> dict[str, AttrSpec]:
    return {
        "kernel": _req(AttrType.INTS, "window size"),
        "stride": AttrSpec(AttrType.INTS, None, doc="stride (default: the kernel size)"),
        "padding": AttrSpec(AttrType.PADDING, 0, doc="zero padding, or 'same' / 'valid'"),
        "ceil_mode": AttrSpec(AttrType.BOOL, False, doc="round output sizes up"),
    }


def _recurrent(act: bool) -> dict[str, AttrSpec]:
    attrs = {
        "units": _req(AttrType.SIZE, "hidden size"),
        "num_layers": AttrSpec(AttrType.SIZE, 1, doc="stacked layers"),
        "bidirectional": AttrSpec(AttrType.BOOL, False, doc="run forward and backward"),
        "return_sequences": AttrSpec(AttrType.BOOL, True, doc="output every step, not the last"),
        "batch_first": AttrSpec(AttrType.BOOL, True, doc="inputs are [N, T, F] (else [T, N, F])"),
        "bias": _BIAS,
        "convention": AttrSpec(
            AttrType.CHOICE,
            "pytorch",
            choices=("pytorch", "keras"),
            doc="parameter count: two bias vectors per gate (pytorch) or one (keras lstm and rnn)",
        ),
    }
    if act:
        attrs["act"] = AttrSpec(AttrType.CHOICE, "tanh", choices=ACTIVATIONS, doc="activation")
    return attrs


def _loss(doc: str, **extra: AttrSpec) -> OpDef:
    return OpDef("", OpFamily.LOSS, doc, dict(extra), min_inputs=1, max_inputs=2)


_HEADS = {
    "heads": AttrSpec(AttrType.SIZE, 1, doc="read or write heads"),
    "addressing": AttrSpec(
        AttrType.CHOICE, "content", choices=("content", "location", "content_location"), doc="addressing"
    ),
}
_EPS = AttrSpec(AttrType.FLOAT, 1e-5, doc="numerical epsilon")
_AXIS = AttrSpec(AttrType.INT, 1, doc="axis")

_TABLE: dict[str, OpDef] = {
    "dense": OpDef(
        "",
        OpFamily.DENSE,
        "fully connected layer",
        {"units": _req(AttrType.SIZE, "output features"), "bias": _BIAS, "act": _ACT},
    ),
    "conv1d": OpDef("", OpFamily.CONVOLUTION, "1-D convolution", _conv(1)),
    "conv2d": OpDef("", OpFamily.CONVOLUTION, "2-D convolution", _conv(2)),
    "conv3d": OpDef("", OpFamily.CONVOLUTION, "3-D convolution", _conv(3)),
    "conv_transpose2d": OpDef(
        "", OpFamily.CONVOLUTION, "2-D transposed (up-)convolution", _conv(2, transpose=True)
    ),
    "maxpool1d": OpDef("", OpFamily.POOLING, "1-D max pooling", _pool()),
    "maxpool2d": OpDef("", OpFamily.POOLING, "2-D max pooling", _pool()),
    "maxpool3d": OpDef("", OpFamily.POOLING, "3-D max pooling", _pool()),
    "avgpool1d": OpDef("", OpFamily.POOLING, "1-D average pooling", _pool()),
    "avgpool2d": OpDef("", OpFamily.POOLING, "2-D average pooling", _pool()),
    "avgpool3d": OpDef("", OpFamily.POOLING, "3-D average pooling", _pool()),
    "global_avgpool": OpDef("", OpFamily.POOLING, "average over all spatial positions"),
    "global_maxpool": OpDef("", OpFamily.POOLING, "maximum over all spatial positions"),
    "adaptive_avgpool2d": OpDef(
        "",
        OpFamily.POOLING,
        "average pooling to a fixed output size",
        {"size": _req(AttrType.INTS, "output height and width")},
    ),
    "adaptive_maxpool2d": OpDef(
        "",
        OpFamily.POOLING,
        "max pooling to a fixed output size",
        {"size": _req(AttrType.INTS, "output height and width")},
    ),
    "unpool2d": OpDef(
        "",
        OpFamily.POOLING,
        "max unpooling with the switches of a max pooling layer",
        {"kernel": _req(AttrType.INTS, "window size"), "stride": AttrSpec(AttrType.INTS, None)},
        max_inputs=2,
    ),
    "upsample": OpDef(
        "",
        OpFamily.POOLING,
        "nearest or bilinear upsampling",
        {
            "scale": AttrSpec(AttrType.INTS, 2, doc="scale factor"),
            "mode": AttrSpec(AttrType.CHOICE, "nearest", choices=("nearest", "bilinear")),
        },
    ),
    "batchnorm": OpDef(
        "",
        OpFamily.NORMALIZATION,
        "batch normalisation",
        {
            "eps": _EPS,
            "affine": AttrSpec(AttrType.BOOL, True, doc="learned scale and shift"),
            "convention": AttrSpec(
                AttrType.CHOICE,
                "pytorch",
                choices=("pytorch", "keras"),
                doc="parameter count: the scale and shift (pytorch), or also the moving mean and "
                "variance, as non-trainable parameters (keras)",
            ),
        },
    ),
    "layernorm": OpDef(
        "",
        OpFamily.NORMALIZATION,
        "layer normalisation over the last axis (or another one)",
        {
            "eps": _EPS,
            "affine": AttrSpec(AttrType.BOOL, True, doc="learned scale and shift"),
            "axis": AttrSpec(
                AttrType.INT, -1, doc="the axis normalised: -1 the last, 1 the channels of [N, C, H, W]"
            ),
        },
    ),
    "groupnorm": OpDef(
        "",
        OpFamily.NORMALIZATION,
        "group normalisation: channels in groups, each normalised over itself and space",
        {
            "groups": AttrSpec(AttrType.SIZE, None, required=True, doc="channel groups (C divisible by it)"),
            "eps": _EPS,
            "affine": AttrSpec(AttrType.BOOL, True, doc="learned scale and shift"),
        },
    ),
    "instancenorm": OpDef(
        "",
        OpFamily.NORMALIZATION,
        "instance normalisation: each channel of each sample over space",
        {"eps": _EPS, "affine": AttrSpec(AttrType.BOOL, False, doc="learned scale and shift (PyTorch: off)")},
    ),
    "layer_scale": OpDef(
        "",
        OpFamily.NORMALIZATION,
        "a learned scale per channel (layer scale), and a shift with bias: true",
        {
            "axis": AttrSpec(AttrType.INT, 1, doc="the channel axis (1: [N, C, ...]; -1: [N, T, D])"),
            "bias": AttrSpec(AttrType.BOOL, False, doc="a learned shift per channel too"),
        },
    ),
    "lrn": OpDef(
        "",
        OpFamily.NORMALIZATION,
        "local response normalisation",
        {
            "size": AttrSpec(AttrType.SIZE, 5, doc="channels in the window"),
            "alpha": AttrSpec(AttrType.FLOAT, 1e-4),
            "beta": AttrSpec(AttrType.FLOAT, 0.75),
            "k": AttrSpec(AttrType.FLOAT, 2.0),
        },
    ),
    "dropout": OpDef(
        "",
        OpFamily.REGULARIZATION,
        "dropout",
        {"rate": AttrSpec(AttrType.FLOAT, 0.5, doc="drop probability", bounds=(0.0, 1.0))},
    ),
    **{
        name: OpDef("", OpFamily.ACTIVATION, f"{name} activation")
        for name in ("relu", "sigmoid", "tanh", "gelu", "elu", "softplus", "swish", "identity")
    },
    # MobileNetV2's clipped ReLU and MobileNetV3's piecewise-linear gates (Howard et al. 2019).
    "relu6": OpDef("", OpFamily.ACTIVATION, "ReLU clipped at 6: min(max(x, 0), 6)"),
    "hardswish": OpDef("", OpFamily.ACTIVATION, "hard swish: x · relu6(x + 3) / 6"),
    "hardsigmoid": OpDef("", OpFamily.ACTIVATION, "hard sigmoid: relu6(x + 3) / 6"),
    "leaky_relu": OpDef(
        "",
        OpFamily.ACTIVATION,
        "leaky ReLU",
        {"slope": AttrSpec(AttrType.FLOAT, 0.01, doc="negative slope")},
    ),
    "softmax": OpDef("", OpFamily.ACTIVATION, "softmax", {"axis": AttrSpec(AttrType.INT, -1)}),
    "log_softmax": OpDef("", OpFamily.ACTIVATION, "log-softmax", {"axis": AttrSpec(AttrType.INT, -1)}),
    "flatten": OpDef(
        "",
        OpFamily.RESHAPE,
        "flatten all axes from ``start``",
        {"start": AttrSpec(AttrType.INT, 1, doc="first axis flattened")},
    ),
    "reshape": OpDef(
        "",
        OpFamily.RESHAPE,
        "reshape (one -1 allowed)",
        {"shape": _req(AttrType.SHAPE, "the new shape")},
    ),
    "crop": OpDef(
        "",
        OpFamily.RESHAPE,
        "the centre of a feature map, cut to a size (U-Net's copy and crop)",
        {"size": _req(AttrType.INTS, "the spatial size kept (one int or one per spatial axis)")},
    ),
    "permute": OpDef(
        "",
        OpFamily.RESHAPE,
        "reorder axes",
        {"axes": AttrSpec(AttrType.INTS, None, required=True, doc="new axis order", minimum=-64)},
    ),
    "split": OpDef(
        "",
        OpFamily.RESHAPE,
        "take one part of an even split",
        {
            "parts": _req(AttrType.SIZE, "number of equal parts"),
            "index": AttrSpec(AttrType.INT, 0, doc="which part this node is"),
            "axis": _AXIS,
        },
    ),
    "slice": OpDef(
        "",
        OpFamily.RESHAPE,
        "a slice along one axis",
        {
            "axis": _AXIS,
            "start": AttrSpec(AttrType.INT, 0),
            "stop": AttrSpec(AttrType.INT, None),
        },
    ),
    "concat": OpDef(
        "",
        OpFamily.MERGE,
        "concatenate along an axis",
        {"axis": _AXIS},
        min_inputs=1,
        max_inputs=None,
        joins=True,
    ),
    "add": OpDef("", OpFamily.MERGE, "element-wise sum", max_inputs=None, joins=True),
    "sub": OpDef("", OpFamily.MERGE, "element-wise difference", max_inputs=2, joins=True),
    "mul": OpDef("", OpFamily.MERGE, "element-wise product (gating)", max_inputs=None),
    "matmul": OpDef("", OpFamily.MERGE, "matrix product", min_inputs=2, max_inputs=2),
    "embedding": OpDef(
        "",
        OpFamily.EMBEDDING,
        "token embedding table",
        {"vocab": _req(AttrType.SIZE, "vocabulary size"), "dim": _req(AttrType.SIZE, "width")},
    ),
    "rnn": OpDef("", OpFamily.RECURRENT, "simple recurrent layer", _recurrent(act=True)),
    "lstm": OpDef("", OpFamily.RECURRENT, "LSTM layer", _recurrent(act=False)),
    "gru": OpDef("", OpFamily.RECURRENT, "GRU layer", _recurrent(act=False)),
    "attention": OpDef(
        "",
        OpFamily.ATTENTION,
        "attention over keys and values",
        {
            "kind": AttrSpec(AttrType.CHOICE, "dot", choices=("additive", "dot", "scaled_dot", "multi_head")),
            "heads": AttrSpec(AttrType.SIZE, 1, doc="attention heads"),
            "units": AttrSpec(AttrType.SIZE, None, doc="projection width"),
        },
        max_inputs=3,
    ),
    "memory": OpDef(
        "",
        OpFamily.MEMORY,
        "an external memory matrix (NTM-style)",
        {"slots": _req(AttrType.SIZE, "rows"), "width": _req(AttrType.SIZE, "row width")},
        min_inputs=0,
        max_inputs=None,
    ),
    "memory_read": OpDef("", OpFamily.MEMORY, "read heads over a memory", _HEADS, max_inputs=2),
    "memory_write": OpDef(
        "", OpFamily.MEMORY, "write heads into a memory (erase and add)", _HEADS, max_inputs=2
    ),
    "noise": OpDef(
        "",
        OpFamily.SAMPLING,
        "random noise (e.g. the ε of the reparameterisation trick)",
        {
            "shape": _req(AttrType.SHAPE, "shape of the noise"),
            "dist": AttrSpec(AttrType.CHOICE, "normal", choices=("normal", "uniform")),
        },
        min_inputs=0,
        max_inputs=0,
    ),
    "parameter": OpDef(
        "",
        OpFamily.EMBEDDING,
        "a learned tensor that reads nothing (a class token, a position table)",
        {
            "shape": _req(
                AttrType.SHAPE, "its shape; the first axis is the batch, over which one copy is shared"
            )
        },
        min_inputs=0,
        max_inputs=0,
    ),
    "sample": OpDef(
        "",
        OpFamily.SAMPLING,
        "reparameterised sample μ + σ·ε",
        min_inputs=1,
        max_inputs=3,
    ),
    "gradient_reversal": OpDef(
        "",
        OpFamily.GRADIENT,
        "identity forward, gradient times −λ backward",
        {"scale": AttrSpec(AttrType.FLOAT, 1.0, doc="λ")},
    ),
    "mse_loss": _loss("mean squared error"),
    "bce_loss": _loss("binary cross-entropy"),
    "cross_entropy": _loss("cross-entropy"),
    "ctc_loss": _loss("connectionist temporal classification", blank=AttrSpec(AttrType.INT, 0)),
    "kl_divergence": _loss("KL divergence to the prior"),
    "content_loss": _loss("content loss (feature distance)"),
    "style_loss": _loss("style loss (Gram-matrix distance)"),
    "ranking_loss": _loss("pairwise ranking loss", margin=AttrSpec(AttrType.FLOAT, 0.2, doc="margin")),
    "custom": OpDef(
        "",
        OpFamily.CUSTOM,
        "a box with a declared output shape and parameter count",
        {
            "shape": AttrSpec(AttrType.SHAPE, None, doc="declared output shape"),
            "params": AttrSpec(AttrType.INT, 0, doc="declared parameter count"),
            "kind": AttrSpec(AttrType.STR, "", doc="what the box is, shown under its label"),
        },
        min_inputs=0,
        max_inputs=None,
    ),
}

OPS: Final[Mapping[str, OpDef]] = MappingProxyType(
    {
        name: replace(d, name=name, attrs=MappingProxyType(dict(d.attrs)), rule=RULES[name])
        for name, d in sorted(_TABLE.items())
    }
)


def op_names() -> tuple[str, ...]:
    """Every op name, sorted."""
    return tuple(OPS)
