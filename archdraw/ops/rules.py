"""Shape rules: per op, its output shape, parameter count and multiply-accumulates (MACs).

Conventions: tensors are batch-first and channels-first (``[N, C, H, W]``), as in PyTorch;
parameter counts follow PyTorch (an LSTM has two bias vectors, batch norm counts its scale and
shift) unless an attribute says otherwise; MACs count the multiply-accumulates of weight layers
(convolutions, dense and recurrent layers, attention and memory products) for the example sizes
of the dims, and nothing for element-wise ops, pooling or normalisation. Sizes are exact Python
ints; no tensor is ever allocated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn

from .. import sizes
from ..ir import AttrValue, Size, Sym

__all__ = ["RULES", "Call", "Result", "Rule", "Shape", "ShapeError", "show"]

Shape = tuple[Size, ...]


class ShapeError(ValueError):
    """An op cannot take the shapes it is given; the message says why."""


def show(shape: Shape) -> str:
    """A shape for messages: ``[N, 64, 56, 56]``."""
    return "[" + ", ".join(s.text if isinstance(s, Sym) else str(s) for s in shape) + "]"


@dataclass(frozen=True, slots=True)
class Call:
    """One application of an op: input shapes, attributes (defaults filled in) and names."""

    op: str
    node: str
    inputs: tuple[Shape, ...]
    sources: tuple[str, ...]
    attrs: Mapping[str, AttrValue]
    delayed: tuple[Shape, ...] = ()

    def fail(self, message: str) -> NoReturn:
        """Raise a :class:`ShapeError` that names the op and node."""
        raise ShapeError(f"{self.op} '{self.node}' {message}")

    def attr(self, name: str) -> AttrValue:
        """An attribute's value (its default when not written)."""
        return self.attrs.get(name)

    def size(self, name: str) -> int:
        """An integer attribute's example value."""
        value = self.attrs.get(name)
        if isinstance(value, Sym):
            return value.value
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"needs '{name}'")
        return value

    def dim(self, name: str) -> Size:
        """A size attribute as written (symbolic sizes stay symbolic)."""
        value = self.attrs.get(name)
        if isinstance(value, Sym) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.fail(f"needs '{name}'")

    def tuple(self, name: str, n: int, default: int | None = None) -> tuple[int, ...]:
        """An int-or-list attribute as ``n`` ints (``kernel: 3`` is ``(3, 3)`` in 2-D)."""
        value = self.attrs.get(name)
        if value is None and default is not None:
            return (default,) * n
        items = value if isinstance(value, tuple) else (value,)
        numbers = [sizes.value(v) for v in items if isinstance(v, (int, Sym)) and not isinstance(v, bool)]
        if len(numbers) != len(items):
            self.fail(f"'{name}' must be integers")
        if len(numbers) == 1:
            return (numbers[0],) * n
        if len(numbers) != n:
            self.fail(f"'{name}' needs 1 or {n} values, got {len(numbers)}")
        return tuple(numbers)

    def input(self, rank: int | None = None, index: int = 0, layout: str = "") -> Shape:
        """Input ``index``, checked to have ``rank`` axes when given."""
        if index >= len(self.inputs):
            self.fail(f"needs {index + 1} input(s), got {len(self.inputs)}")
        shape = self.inputs[index]
        if rank is not None and len(shape) != rank:
            self.fail(
                f"needs a {rank}-D input {layout}, got {show(shape)}{self.source(index)}".replace("  ", " ")
            )
        return shape

    def source(self, index: int) -> str:
        return f" from '{self.sources[index]}'" if index < len(self.sources) else ""


@dataclass(frozen=True, slots=True)
class Result:
    """What an op produces: its output shape, and its parameters and MACs."""

    shape: Shape
    params: int = 0
    macs: int = 0
    #: of ``params``, the values not trained by gradient (Keras' batch-norm moving statistics)
    statistics: int = 0
    #: the shape of the op's weight matrix, as PyTorch holds it (what ``tied:`` shares)
    weight: tuple[int, ...] = ()


Rule = Callable[[Call], Result]

_LAYOUTS = {1: "[N, C, L]", 2: "[N, C, H, W]", 3: "[N, C, D, H, W]"}


def _batch(shape: Shape) -> int:
    return sizes.product_value(shape[:1])


def _spatial(c: Call, dims: int) -> tuple[Shape, Shape]:
    shape = c.input(dims + 2, layout=_LAYOUTS[dims])
    return shape, shape[2:]


def _padding(c: Call, dims: int) -> tuple[int, ...] | str:
    """Padding per axis, or 'same' / 'valid'."""
    value = c.attr("padding")
    if value in ("same", "valid"):
        return str(value)
    return c.tuple("padding", dims, 0)


def _windows(
    c: Call,
    spatial: Shape,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pad: tuple[int, ...] | str,
    dilation: tuple[int, ...],
    ceil: bool,
) -> Shape:
    """Output lengths of a sliding window over the spatial axes (convolution and pooling)."""
    pads = (0,) * len(spatial) if isinstance(pad, str) else pad
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]
    padded = [sizes.value(e) + 2 * p for e, p in zip(spatial, pads, strict=True)]
    # In ceil mode the last window may hang over the end: one window fits when it starts inside.
    overhang = [s - 1 if ceil else 0 for s in stride]
    if pad != "same" and any(s > p + o for s, p, o in zip(spans, padded, overhang, strict=True)):
        what = "kernel " + "×".join(map(str, kernel))
        if any(d > 1 for d in dilation):
            what += " (dilated to " + "×".join(map(str, spans)) + ")"
        c.fail(f"{what} is larger than the padded input {'×'.join(map(str, padded))}")
    return tuple(
        sizes.ceildiv(e, s) if pad == "same" else _window(e, k, s, p, d, ceil)
        for e, k, s, p, d in zip(spatial, kernel, stride, pads, dilation, strict=True)
    )


def _window(extent: Size, kernel: int, stride: int, pad: int, dilation: int, ceil: bool) -> Size:
    """Output length of a sliding window along one axis that fits its padded input."""
    span = dilation * (kernel - 1) + 1
    top = sizes.add(extent, 2 * pad - span)
    if ceil:
        out = sizes.add(sizes.ceildiv(top, stride), 1)
        # The last window must start inside the input or the left padding (PyTorch's rule).
        if (sizes.value(out) - 1) * stride >= sizes.value(extent) + pad:
            out = sizes.sub(out, 1)
        return out
    return sizes.add(sizes.floordiv(top, stride), 1)


@dataclass(frozen=True, slots=True)
class _Window:
    """What a convolution (plain or transposed) reads from its call, checked."""

    shape: Shape
    spatial: Shape
    cin: int
    cout: Size
    groups: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]


def _convolution(c: Call, dims: int) -> _Window:
    shape, spatial = _spatial(c, dims)
    cin = sizes.value(shape[1])
    cout = c.dim("channels")
    groups = c.size("groups")
    kernel = c.tuple("kernel", dims)
    stride = c.tuple("stride", dims, 1)
    dilation = c.tuple("dilation", dims, 1)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        c.fail("needs kernel, stride and dilation of at least 1")
    if cin % groups or sizes.value(cout) % groups:
        c.fail(f"groups {groups} must divide input channels {cin} and output channels {sizes.value(cout)}")
    return _Window(shape, spatial, cin, cout, groups, kernel, stride, dilation)


def conv(dims: int) -> Rule:
    """Convolution over ``dims`` spatial axes."""

    def rule(c: Call) -> Result:
        w = _convolution(c, dims)
        shape, spatial, cin, cout, groups = w.shape, w.spatial, w.cin, w.cout, w.groups
        kernel, stride, dilation = w.kernel, w.stride, w.dilation
        pad = _padding(c, dims)
        out = _windows(c, spatial, kernel, stride, pad, dilation, False)
        per_output = (cin // groups) * math.prod(kernel)
        params = sizes.value(cout) * per_output + (sizes.value(cout) if c.attr("bias") else 0)
        macs = _batch(shape) * sizes.value(cout) * sizes.product_value(out) * per_output
        weight = (sizes.value(cout), cin // groups, *kernel)
        return Result((shape[0], cout, *out), params, macs, weight=weight)

    return rule


def conv_transpose(dims: int) -> Rule:
    """Transposed convolution: each input position scatters a kernel-sized patch."""

    def rule(c: Call) -> Result:
        w = _convolution(c, dims)
        shape, spatial, cin, cout, groups = w.shape, w.spatial, w.cin, w.cout, w.groups
        kernel, stride, dilation = w.kernel, w.stride, w.dilation
        extra = c.tuple("output_padding", dims, 0)
        if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation, strict=True)):
            c.fail("needs output_padding smaller than either stride or dilation")
        if c.attr("padding") in ("same", "valid"):
            c.fail("takes integer padding")
        pad = c.tuple("padding", dims, 0)
        out: list[Size] = []
        for i in range(dims):
            length = sizes.add(
                sizes.mul(sizes.sub(spatial[i], 1), stride[i]),
                dilation[i] * (kernel[i] - 1) + extra[i] + 1 - 2 * pad[i],
            )
            if sizes.value(length) < 1:
                c.fail(f"gives an empty output along axis {i + 2}")
            out.append(length)
        per_input = (sizes.value(cout) // groups) * math.prod(kernel)
        params = cin * per_input + (sizes.value(cout) if c.attr("bias") else 0)
        macs = _batch(shape) * sizes.product_value(spatial) * cin * per_input
        weight = (cin, sizes.value(cout) // groups, *kernel)
        return Result((shape[0], cout, *out), params, macs, weight=weight)

    return rule


def pool(dims: int) -> Rule:
    """Max or average pooling over ``dims`` spatial axes."""

    def rule(c: Call) -> Result:
        shape, spatial = _spatial(c, dims)
        kernel = c.tuple("kernel", dims)
        stride = c.tuple("stride", dims) if c.attr("stride") is not None else kernel
        if min(kernel) < 1 or min(stride) < 1:
            c.fail("needs kernel and stride of at least 1")
        pad = _padding(c, dims)
        if not isinstance(pad, str) and any(2 * p > k for p, k in zip(pad, kernel, strict=True)):
            c.fail("padding must be at most half the kernel")
        ceil = bool(c.attr("ceil_mode"))
        out = _windows(c, spatial, kernel, stride, pad, (1,) * dims, ceil)
        return Result((shape[0], shape[1], *out))

    return rule


def global_pool(c: Call) -> Result:
    """Pool over every spatial axis: ``[N, C, ...] → [N, C]``."""
    shape = c.input()
    if len(shape) < 3:
        c.fail(f"needs an input with spatial axes [N, C, ...], got {show(shape)}{c.source(0)}")
    return Result(shape[:2])


def adaptive_pool(c: Call) -> Result:
    """Pool to a fixed output size."""
    shape, _ = _spatial(c, 2)
    out = c.tuple("size", 2)
    return Result((shape[0], shape[1], *out))


def unpool(c: Call) -> Result:
    """Max unpooling: the inverse size rule of max pooling."""
    shape, spatial = _spatial(c, 2)
    kernel = c.tuple("kernel", 2)
    stride = c.tuple("stride", 2) if c.attr("stride") is not None else kernel
    if min(kernel) < 1 or min(stride) < 1:
        c.fail("needs kernel and stride of at least 1")
    if len(c.inputs) > 1 and (
        len(c.inputs[1]) != len(shape)
        or not all(sizes.same(a, b) for a, b in zip(c.inputs[1], shape, strict=True))
    ):
        c.fail(f"switches {show(c.inputs[1])}{c.source(1)} do not match its input {show(shape)}")
    out = tuple(sizes.add(sizes.mul(sizes.sub(spatial[i], 1), stride[i]), kernel[i]) for i in range(2))
    return Result((shape[0], shape[1], *out))


def upsample(c: Call) -> Result:
    """Nearest or bilinear upsampling by an integer factor."""
    shape = c.input()
    if len(shape) < 3:
        c.fail(f"needs an input with spatial axes [N, C, ...], got {show(shape)}{c.source(0)}")
    scale = c.tuple("scale", len(shape) - 2)
    if min(scale) < 1:
        c.fail("needs a scale of at least 1")
    if c.attr("mode") == "bilinear" and len(shape) != 4:
        c.fail(f"bilinear mode needs an input [N, C, H, W], got {show(shape)}{c.source(0)}")
    return Result((*shape[:2], *(sizes.mul(s, f) for s, f in zip(shape[2:], scale, strict=True))))


def dense(c: Call) -> Result:
    """A weight matrix on the last axis; delayed and undirected inputs add their own weights."""
    shape = c.input()
    if len(shape) < 2:
        c.fail(f"needs an input [N, features], got {show(shape)}{c.source(0)}")
    units = c.dim("units")
    widths = [sizes.value(s[-1]) for s in (*c.inputs, *c.delayed) if s]
    for other, source in zip(c.inputs[1:], c.sources[1:], strict=False):
        if len(other) != len(shape) or not all(
            sizes.same(a, b) for a, b in zip(other[:-1], shape[:-1], strict=True)
        ):
            c.fail(f"inputs {show(shape)} and {show(other)} from '{source}' differ before the last axis")
    for other in c.delayed:
        if len(other) != len(shape) or not all(
            sizes.same(a, b) for a, b in zip(other[:-1], shape[:-1], strict=True)
        ):
            c.fail(f"input {show(shape)} and the delayed input {show(other)} differ before the last axis")
    fan_in = sum(widths)
    params = fan_in * sizes.value(units) + (sizes.value(units) if c.attr("bias") else 0)
    macs = sizes.product_value(shape[:-1]) * fan_in * sizes.value(units)
    return Result((*shape[:-1], units), params, macs, weight=(sizes.value(units), fan_in))


def same_shape(c: Call) -> Result:
    """Element-wise ops keep their input's shape."""
    return Result(c.input())


def lrn(c: Call) -> Result:
    """Local response normalisation across channels: ``[N, C, ...]`` with at least one more axis."""
    shape = c.input()
    if len(shape) < 3:
        c.fail(f"needs an input [N, C, ...] with at least 3 axes, got {show(shape)}{c.source(0)}")
    return Result(shape)


def softmax(c: Call) -> Result:
    """Softmax along an axis that must exist."""
    shape = c.input()
    _axis(c, shape, c.size("axis"))
    return Result(shape)


def batchnorm(c: Call) -> Result:
    """Normalise each channel (axis 1); a scale and shift per channel.

    PyTorch keeps the moving mean and variance as buffers, not parameters; Keras counts them
    as non-trainable parameters (``convention: keras``).
    """
    shape = c.input()
    if len(shape) < 2:
        c.fail(f"needs an input [N, C, ...], got {show(shape)}{c.source(0)}")
    channels = sizes.value(shape[1])
    learned = 2 * channels if c.attr("affine") else 0
    statistics = 2 * channels if c.attr("convention") == "keras" else 0
    return Result(shape, learned + statistics, statistics=statistics)


def layernorm(c: Call) -> Result:
    """Normalise over one axis (the last, or ConvNeXt's channels); a scale and shift per feature."""
    shape = c.input()
    if not shape:
        c.fail("needs an input with at least one axis")
    axis = _axis(c, shape, c.size("axis"))
    return Result(shape, 2 * sizes.value(shape[axis]) if c.attr("affine") else 0)


def groupnorm(c: Call) -> Result:
    """Normalise groups of channels (axis 1) over the group and space; a scale and shift per channel."""
    shape = c.input()
    if len(shape) < 2:
        c.fail(f"needs an input [N, C, ...], got {show(shape)}{c.source(0)}")
    channels, groups = sizes.value(shape[1]), c.size("groups")
    if groups < 1 or channels % groups:
        c.fail(f"needs channels divisible by groups: {channels} channels in {groups} groups")
    return Result(shape, 2 * channels if c.attr("affine") else 0)


def layer_scale(c: Call) -> Result:
    """A learned scale (and, with bias, a shift) per channel of one axis: layer scale."""
    shape = c.input()
    axis = _axis(c, shape, c.size("axis"))
    channels = sizes.value(shape[axis])
    return Result(shape, channels * (2 if c.attr("bias") else 1))


def instancenorm(c: Call) -> Result:
    """Normalise each channel of each sample over space; a scale and shift per channel if affine."""
    shape = c.input()
    if len(shape) < 3:
        c.fail(f"needs an input [N, C, ...] with at least 3 axes, got {show(shape)}{c.source(0)}")
    return Result(shape, 2 * sizes.value(shape[1]) if c.attr("affine") else 0)


def flatten(c: Call) -> Result:
    """Flatten every axis from ``start``."""
    shape = c.input()
    start = _axis(c, shape, c.size("start"))
    return Result((*shape[:start], sizes.prod(shape[start:])))


def reshape(c: Call) -> Result:
    """Reshape; one -1 takes whatever size is left."""
    shape = c.input()
    target = c.attr("shape")
    assert isinstance(target, tuple)
    total = sizes.product_value(shape)
    if sum(1 for t in target if isinstance(t, (int, Sym)) and sizes.value(t) == -1) > 1:
        c.fail(f"may have one -1 (the size inferred), got {_show_target(target)}")
    known = [t for t in target if not (isinstance(t, int) and t == -1)]
    fixed = sizes.product_value(s for s in known if isinstance(s, (int, Sym)))
    out: list[Size] = []
    for t in target:
        if isinstance(t, int) and t == -1:
            if fixed == 0 or total % fixed:
                c.fail(f"cannot reshape {show(shape)} ({total} values) to {_show_target(target)}")
            out.append(total // fixed)
        elif isinstance(t, (int, Sym)):
            out.append(t)
    if sizes.product_value(out) != total:
        c.fail(f"cannot reshape {show(shape)} ({total} values) to {show(tuple(out))}")
    return Result(tuple(out))


def _show_target(target: tuple[AttrValue, ...]) -> str:
    return "[" + ", ".join(str(t) for t in target) + "]"


def permute(c: Call) -> Result:
    """Reorder axes."""
    shape = c.input()
    written = c.attr("axes")
    axes = written if isinstance(written, tuple) else (written,)
    numbers = [sizes.value(a) for a in axes if isinstance(a, (int, Sym)) and not isinstance(a, bool)]
    rank = len(shape)
    # Negative axes count from the end, as NumPy's transpose allows.
    order = [a % rank if -rank <= a < rank else a for a in numbers]
    if sorted(order) != list(range(rank)):
        c.fail(f"axes {numbers} are not an order of the {rank} axes of {show(shape)}")
    return Result(tuple(shape[a] for a in order))


def _axis(c: Call, shape: Shape, axis: int) -> int:
    if not -len(shape) <= axis < len(shape):
        c.fail(f"axis {axis} does not exist in {show(shape)}{c.source(0)}")
    return axis % len(shape)


def split(c: Call) -> Result:
    """One of ``parts`` equal parts along an axis."""
    shape = c.input()
    axis = _axis(c, shape, c.size("axis"))
    parts = c.size("parts")
    index = c.size("index")
    if not 0 <= index < parts:
        c.fail(f"index {index} is not one of the {parts} parts")
    if sizes.value(shape[axis]) % parts:
        c.fail(f"cannot split axis {axis} of size {sizes.value(shape[axis])} into {parts} equal parts")
    return Result((*shape[:axis], sizes.floordiv(shape[axis], parts), *shape[axis + 1 :]))


def slice_(c: Call) -> Result:
    """``x[start:stop]`` along an axis, with Python's clamping."""
    shape = c.input()
    axis = _axis(c, shape, c.size("axis"))
    length = sizes.value(shape[axis])
    stop = c.attr("stop")
    start, end = c.size("start"), None if stop is None else c.size("stop")
    start_i, stop_i, _ = slice(start, end).indices(length)
    size: Size = max(0, stop_i - start_i)
    if size == 0:
        c.fail(f"selects nothing from axis {axis} of size {length}")
    if 0 <= start <= length and (end is None or start <= end <= length):
        # Nothing clamped: the size as the spec writes it (C, not its example value 32).
        written = sizes.sub(shape[axis] if end is None else c.dim("stop"), c.dim("start"))
        if sizes.value(written) == size:
            size = written
    return Result((*shape[:axis], size, *shape[axis + 1 :]))


def crop(c: Call) -> Result:
    """The centre of every spatial axis (past batch and channels), cut to ``size``."""
    shape = c.input()
    if len(shape) < 3:
        c.fail(f"needs an input [N, C, ...] with at least 3 axes, got {show(shape)}{c.source(0)}")
    kept = c.tuple("size", len(shape) - 2)
    for axis, (have, want) in enumerate(zip(shape[2:], kept, strict=True), start=2):
        if not 1 <= want <= sizes.value(have):
            c.fail(f"cannot cut axis {axis} of {show(shape)}{c.source(0)} to {want}")
    return Result((*shape[:2], *kept))


def concat(c: Call) -> Result:
    """Join along an axis; every other axis must agree."""
    first = c.input()
    axis = _axis(c, first, c.size("axis"))
    total: Size = first[axis]
    for i, shape in enumerate(c.inputs[1:], 1):
        if len(shape) != len(first):
            c.fail(
                f"along axis {axis}: {show(first)}{c.source(0)} and {show(shape)}{c.source(i)} differ in rank"
            )
        for k, (a, b) in enumerate(zip(first, shape, strict=True)):
            if k != axis and not sizes.same(a, b):
                c.fail(
                    f"along axis {axis}: {show(first)}{c.source(0)} and {show(shape)}{c.source(i)} "
                    f"differ in axis {k} ({sizes.value(a)} vs {sizes.value(b)})"
                )
        total = sizes.add(total, shape[axis])
    return Result((*first[:axis], total, *first[axis + 1 :]))


def broadcast(c: Call) -> Result:
    """Element-wise add, sub and mul with NumPy broadcasting."""
    out = c.input()
    for i, shape in enumerate(c.inputs[1:], 1):
        out = _broadcast(c, out, shape, i)
    return Result(out)


def _broadcast(c: Call, a: Shape, b: Shape, index: int) -> Shape:
    rank = max(len(a), len(b))
    pa = (1,) * (rank - len(a)) + a
    pb = (1,) * (rank - len(b)) + b
    out: list[Size] = []
    for x, y in zip(pa, pb, strict=True):
        if sizes.same(x, y) or sizes.value(y) == 1:
            out.append(x)
        elif sizes.value(x) == 1:
            out.append(y)
        else:
            first = c.source(0) if index == 1 else ""
            c.fail(f"cannot broadcast {show(a)}{first} with {show(b)}{c.source(index)}")
    return tuple(out)


def matmul(c: Call) -> Result:
    """Matrix product with NumPy's rules (batch axes broadcast)."""
    a, b = c.input(), c.input(index=1)
    if not a or not b:
        c.fail("needs inputs with at least one axis")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if not sizes.same(a2[-1], b2[-2]):
        c.fail(
            f"cannot multiply {show(a)} by {show(b)}{c.source(1)}: "
            f"{sizes.value(a2[-1])} vs {sizes.value(b2[-2])}"
        )
    batch = _broadcast(c, a2[:-2], b2[:-2], 1)
    out: tuple[Size, ...] = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    macs = sizes.product_value(batch) * sizes.value(a2[-2]) * sizes.value(a2[-1]) * sizes.value(b2[-1])
    return Result(out, 0, macs)


def embedding(c: Call) -> Result:
    """A lookup table: token ids ``[N, T]`` to vectors ``[N, T, dim]``."""
    shape = c.input()
    dim = c.dim("dim")
    table = (sizes.value(c.dim("vocab")), sizes.value(dim))
    return Result((*shape, dim), table[0] * table[1], weight=table)


_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def recurrent(c: Call) -> Result:
    """rnn, lstm and gru layers: stacked, optionally bidirectional, over ``[N, T, F]``."""
    shape = c.input(3, layout="[N, T, F]" if c.attr("batch_first") else "[T, N, F]")
    batch_first = bool(c.attr("batch_first"))
    n, t = (shape[0], shape[1]) if batch_first else (shape[1], shape[0])
    hidden = c.dim("units")
    h = sizes.value(hidden)
    gates = _GATES[c.op]
    directions = 2 if c.attr("bidirectional") else 1
    layers = c.size("num_layers")
    convention = c.attr("convention")
    if not c.attr("bias"):
        bias_vectors = 0
    elif convention == "keras" and c.op != "gru":
        bias_vectors = 1  # Keras: one bias per gate (its GRU, with reset_after, has two)
    else:
        bias_vectors = 2  # PyTorch: an input and a hidden bias per gate
    params = macs = 0
    width = sizes.value(shape[2])
    for _ in range(layers):
        per_direction = gates * h * (width + h) + bias_vectors * gates * h
        params += directions * per_direction
        macs += directions * sizes.value(n) * sizes.value(t) * gates * h * (width + h)
        width = directions * h
    features = sizes.mul(hidden, directions)
    if c.attr("return_sequences"):
        out: Shape = (n, t, features) if batch_first else (t, n, features)
    else:
        out = (n, features)
    return Result(out, params, macs)


def attention(c: Call) -> Result:
    """Additive, dot-product or multi-head attention of queries over keys and values."""
    query = c.input(3, layout="[N, Tq, D]")
    key = c.input(3, index=1, layout="[N, Tk, D]") if len(c.inputs) > 1 else query
    val = c.input(3, index=2, layout="[N, Tk, Dv]") if len(c.inputs) > 2 else key
    if not sizes.same(query[0], key[0]) or not sizes.same(key[0], val[0]):
        c.fail(f"batch sizes differ: {show(query)}, {show(key)}, {show(val)}")
    if not sizes.same(key[1], val[1]):
        c.fail(f"keys {show(key)} and values {show(val)} differ in length")
    n, tq, tk = (sizes.value(s) for s in (query[0], query[1], key[1]))
    dq, dk, dv = (sizes.value(s) for s in (query[2], key[2], val[2]))
    kind = c.attr("kind")
    if kind in ("dot", "scaled_dot"):
        if dq != dk:
            c.fail(f"needs queries and keys of one width, got {dq} and {dk}")
        return Result((query[0], query[1], val[2]), 0, n * tq * tk * (dk + dv))
    if kind == "additive":
        units = c.size("units") if c.attr("units") is not None else dq
        params = dq * units + dk * units + units
        macs = n * (tq * dq * units + tk * dk * units + tq * tk * units + tq * tk * dv)
        return Result((query[0], query[1], val[2]), params, macs)
    model: Size = c.dim("units") if c.attr("units") is not None else query[2]
    d = sizes.value(model)
    heads = c.size("heads")
    if d % heads:
        c.fail(f"width {d} is not divisible by {heads} heads")
    params = (dq + dk + dv) * d + 3 * d + d * d + d
    macs = n * (tq * dq * d + tk * dk * d + tk * dv * d + 2 * tq * tk * d + tq * d * d)
    return Result((query[0], query[1], model), params, macs)


def memory(c: Call) -> Result:
    """An external memory matrix ``[N, slots, width]`` (its batch from the first input, else 1)."""
    batch: Size = c.inputs[0][0] if c.inputs and c.inputs[0] else 1
    return Result((batch, c.dim("slots"), c.dim("width")))


def _head_outputs(c: Call, width: int) -> int:
    """What the controller emits per head: key and strength, plus gate, shift and sharpening."""
    addressing = c.attr("addressing")
    content = width + 1
    location = 1 + 3 + 1
    per = {"content": content, "location": location}.get(str(addressing), content + location)
    return per + (2 * width if c.op == "memory_write" else 0)  # writes add erase and add vectors


def memory_access(c: Call) -> Result:
    """NTM-style read or write heads: ``memory [N, S, W]`` and ``controller [N, C]``."""
    mem = c.input(3, layout="[N, slots, width]")
    ctrl = c.input(2, index=1, layout="[N, features]")
    # The batches broadcast: a memory of batch 1 (one without inputs) serves every controller.
    if not sizes.same(mem[0], ctrl[0]) and 1 not in (sizes.value(mem[0]), sizes.value(ctrl[0])):
        c.fail(f"memory {show(mem)}{c.source(0)} and controller {show(ctrl)}{c.source(1)} differ in batch")
    batch = ctrl[0] if sizes.value(mem[0]) == 1 else mem[0]
    n, slots, width = (sizes.value(s) for s in (batch, *mem[1:]))
    features = sizes.value(ctrl[1])
    heads = c.size("heads")
    per = _head_outputs(c, width)
    params = heads * (features * per + per)
    macs = n * heads * (features * per + 2 * slots * width)
    if c.op == "memory_read":
        return Result((batch, sizes.mul(mem[2], heads)), params, macs)
    return Result((batch, *mem[1:]), params, macs)


def noise(c: Call) -> Result:
    """Random noise of a declared shape."""
    shape = c.attr("shape")
    assert isinstance(shape, tuple)
    return Result(tuple(s for s in shape if isinstance(s, (int, Sym))))


def parameter(c: Call) -> Result:
    """A learned tensor of a declared shape: one copy shared over the batch (the first axis)."""
    value = c.attr("shape")
    shape = tuple(s for s in value if isinstance(s, (int, Sym))) if isinstance(value, tuple) else ()
    if not shape:
        c.fail("needs 'shape'")
    return Result(shape, sizes.product_value(shape[1:]))


def sample(c: Call) -> Result:
    """μ + σ·ε: every input (μ, log σ², ε) has one shape."""
    first = c.input()
    for i, shape in enumerate(c.inputs[1:], 1):
        if len(shape) != len(first) or not all(sizes.same(a, b) for a, b in zip(first, shape, strict=True)):
            c.fail(f"inputs {show(first)}{c.source(0)} and {show(shape)}{c.source(i)} differ")
    return Result(first)


def loss(c: Call) -> Result:
    """A loss is a scalar; prediction and target must fit each other."""
    pred = c.input()
    target = c.inputs[1] if len(c.inputs) > 1 else None
    if c.op == "cross_entropy":
        if not pred:
            c.fail(f"needs class scores [N, C, ...] or [C], got {show(pred)}{c.source(0)}")
        ids = pred[:1] + pred[2:] if len(pred) > 1 else ()  # [N, C, ...] → [N, ...]; [C] → []
        if target is not None and not any(
            len(target) == len(fits) and all(sizes.same(a, b) for a, b in zip(target, fits, strict=True))
            for fits in (ids, pred)
        ):
            c.fail(
                f"target {show(target)}{c.source(1)} fits neither class ids nor probabilities of {show(pred)}"
            )
    elif c.op == "ctc_loss":
        if len(pred) != 3 or (
            target is not None and (len(target) != 2 or not sizes.same(pred[0], target[0]))
        ):
            c.fail(
                "needs log-probabilities [N, T, C] and targets [N, S], "
                f"got {show(pred)}" + (f" and {show(target)}" if target is not None else "")
            )
        if not 0 <= c.size("blank") < sizes.value(pred[2]):
            c.fail(f"blank {c.size('blank')} is not one of the {sizes.value(pred[2])} classes")
    elif c.op == "style_loss":
        if len(pred) != 4 or (
            target is not None
            and (
                len(target) != 4
                or not sizes.same(pred[1], target[1])
                or not (sizes.same(pred[0], target[0]) or 1 in (sizes.value(pred[0]), sizes.value(target[0])))
            )
        ):
            c.fail(
                "compares Gram matrices of [N, C, H, W] maps with one C (and one N, or N = 1 on one side), "
                f"got {show(pred)}" + (f" and {show(target)}" if target is not None else "")
            )
    elif c.op != "kl_divergence" and target is not None:
        if len(pred) != len(target) or not all(sizes.same(a, b) for a, b in zip(pred, target, strict=True)):
            c.fail(f"prediction {show(pred)}{c.source(0)} and target {show(target)}{c.source(1)} differ")
    return Result(())


def custom(c: Call) -> Result:
    """The escape hatch: a declared output shape (else its first input's) and parameter count."""
    declared = c.attr("shape")
    if isinstance(declared, tuple):
        shape: Shape = tuple(s for s in declared if isinstance(s, (int, Sym)))
    elif c.inputs:
        shape = c.inputs[0]
    else:
        c.fail("has no input, so it needs 'shape:'")
    return Result(shape, c.size("params"))


RULES: Mapping[str, Rule] = {
    "dense": dense,
    "conv1d": conv(1),
    "conv2d": conv(2),
    "conv3d": conv(3),
    "conv_transpose2d": conv_transpose(2),
    "maxpool1d": pool(1),
    "maxpool2d": pool(2),
    "maxpool3d": pool(3),
    "avgpool1d": pool(1),
    "avgpool2d": pool(2),
    "avgpool3d": pool(3),
    "global_avgpool": global_pool,
    "global_maxpool": global_pool,
    "adaptive_avgpool2d": adaptive_pool,
    "adaptive_maxpool2d": adaptive_pool,
    "unpool2d": unpool,
    "upsample": upsample,
    "batchnorm": batchnorm,
    "layer_scale": layer_scale,
    "crop": crop,
    "layernorm": layernorm,
    "groupnorm": groupnorm,
    "instancenorm": instancenorm,
    "lrn": lrn,
    "dropout": same_shape,
    "relu": same_shape,
    "sigmoid": same_shape,
    "tanh": same_shape,
    "gelu": same_shape,
    "elu": same_shape,
    "softplus": same_shape,
    "swish": same_shape,
    "relu6": same_shape,
    "hardswish": same_shape,
    "hardsigmoid": same_shape,
    "identity": same_shape,
    "leaky_relu": same_shape,
    "softmax": softmax,
    "log_softmax": softmax,
    "flatten": flatten,
    "reshape": reshape,
    "permute": permute,
    "split": split,
    "slice": slice_,
    "concat": concat,
    "add": broadcast,
    "sub": broadcast,
    "mul": broadcast,
    "matmul": matmul,
    "embedding": embedding,
    "rnn": recurrent,
    "lstm": recurrent,
    "gru": recurrent,
    "attention": attention,
    "memory": memory,
    "memory_read": memory_access,
    "memory_write": memory_access,
    "noise": noise,
    "parameter": parameter,
    "sample": sample,
    "gradient_reversal": same_shape,
    "mse_loss": loss,
    "bce_loss": loss,
    "cross_entropy": loss,
    "ctc_loss": loss,
    "kl_divergence": loss,
    "content_loss": loss,
    "style_loss": loss,
    "ranking_loss": loss,
    "custom": custom,
}
