"""NumPy reference implementations of every op (float64, small random weights): the shape rules' oracle."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..ir import Sym
from . import OPS

__all__ = ["REFERENCES", "Evaluation", "ExecutionError", "FloatArray", "evaluate", "run"]

FloatArray = npt.NDArray[np.float64]
AnyArray = npt.NDArray[Any]

_CHUNK = 1 << 22  # weight values drawn (and held) at once


class ExecutionError(ValueError):
    """An op refuses its inputs or attributes, as PyTorch (or the op's definition) would."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """An op's output and the number of weight values it created (its parameter count)."""

    value: FloatArray
    weights: int


class _Weights:
    """Small random weights, uniform in PyTorch's default range ±1/√fan_in, and their count.

    Values are drawn as bytes (a 256-level grid) because that is several times faster than
    drawing floats and the values only need to be random, not fine.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.count = 0

    def draw(self, shape: tuple[int, ...], fan_in: int) -> FloatArray:
        size = math.prod(shape)
        self.count += size
        raw = np.frombuffer(self.rng.bytes(size), dtype=np.int8)
        scale = 1.0 / (128.0 * math.sqrt(max(fan_in, 1)))
        return (raw.astype(np.float64) * scale).reshape(shape)

    def declare(self, count: int) -> None:
        """Count weights that are never drawn (a custom box's declared parameters)."""
        self.count += count

    def linear(self, x: FloatArray, units: int, bias: bool) -> FloatArray:
        """``x @ W (+ b)`` on the last axis; a large ``W`` is drawn and used a block at a time."""
        fan_in = x.shape[-1]
        step = max(1, _CHUNK // max(fan_in, 1))
        parts = [x @ self.draw((fan_in, min(step, units - j)), fan_in) for j in range(0, units, step)]
        y: FloatArray = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
        if bias:
            y = y + self.draw((units,), fan_in)
        return y


@dataclass(slots=True)
class _Run:
    """One application of an op: inputs, attributes (defaults filled in), randomness, weights."""

    op: str
    inputs: tuple[AnyArray, ...]
    attrs: Mapping[str, object]
    rng: np.random.Generator
    weights: _Weights
    delayed: tuple[AnyArray, ...] = ()

    def fail(self, message: str) -> ExecutionError:
        return ExecutionError(f"{self.op} {message}")

    def input(self, index: int = 0, rank: int | None = None) -> FloatArray:
        if index >= len(self.inputs):
            raise self.fail(f"needs {index + 1} input(s), got {len(self.inputs)}")
        x = np.asarray(self.inputs[index], dtype=np.float64)
        if rank is not None and x.ndim != rank:
            raise self.fail(f"needs a {rank}-D input, got shape {x.shape}")
        return x

    def size(self, name: str) -> int:
        return _integer(self.attrs.get(name), name, self)

    def ints(self, name: str, n: int, default: int | None = None) -> tuple[int, ...]:
        value = self.attrs.get(name)
        if value is None and default is not None:
            return (default,) * n
        items = value if isinstance(value, tuple) else (value,)
        numbers = tuple(_integer(v, name, self) for v in items)
        if len(numbers) == 1:
            return numbers * n
        if len(numbers) != n:
            raise self.fail(f"'{name}' needs 1 or {n} values, got {len(numbers)}")
        return numbers

    def number(self, name: str) -> float:
        value = self.attrs.get(name)
        if isinstance(value, Sym):
            return float(value.value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"needs a number '{name}'")
        return float(value)

    def flag(self, name: str) -> bool:
        return bool(self.attrs.get(name))

    def text(self, name: str) -> str:
        value = self.attrs.get(name)
        return "" if value is None else str(value)


def _floats(x: object) -> FloatArray:
    """``x`` as a float64 array (no copy when it is one)."""
    return np.asarray(x, dtype=np.float64)


def _integer(value: object, name: str, run: _Run) -> int:
    if isinstance(value, Sym):
        return value.value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise run.fail(f"needs an integer '{name}', got {value!r}")
    return int(value)


# -- activations ---------------------------------------------------------------------------------


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.exp(-np.logaddexp(0.0, -x))


def _softmax(x: FloatArray, axis: int) -> FloatArray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return _floats(e / np.sum(e, axis=axis, keepdims=True))


def _log_softmax(x: FloatArray, axis: int) -> FloatArray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return _floats(shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)))


def _activate(x: FloatArray, name: str, axis: int = -1, slope: float = 0.01) -> FloatArray:
    """An activation by name; softmax and log-softmax work along ``axis``."""
    if name in ("none", "linear", "identity", ""):
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        return _softmax(x, axis)
    if name == "log_softmax":
        return _log_softmax(x, axis)
    if name == "gelu":  # PyTorch's approximate='tanh'
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
    if name == "leaky_relu":
        return np.where(x > 0, x, slope * x)
    if name == "softplus":
        return np.logaddexp(0.0, x)
    if name == "swish":
        return x * _sigmoid(x)
    if name == "relu6":
        return np.clip(x, 0.0, 6.0)
    if name == "hardsigmoid":
        return np.clip(x + 3.0, 0.0, 6.0) / 6.0
    if name == "hardswish":
        return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0
    raise ExecutionError(f"unknown activation {name!r}")


def _activation_op(r: _Run) -> FloatArray:
    x = r.input()
    if r.op in ("softmax", "log_softmax"):
        return _activate(x, r.op, _axis(r, x, r.size("axis")))
    slope = r.number("slope") if r.op == "leaky_relu" else 0.01
    return _activate(x, r.op, slope=slope)


def _identity(r: _Run) -> FloatArray:
    """Dropout at inference, gradient reversal forward: the input unchanged."""
    return _floats(r.input().copy())


# -- dense and convolution -----------------------------------------------------------------------


def _dense(r: _Run) -> FloatArray:
    """A weight matrix on the last axis; extra and delayed inputs are concatenated first."""
    parts = [r.input(i) for i in range(len(r.inputs))]
    parts += [np.asarray(d, dtype=np.float64) for d in r.delayed]
    if not parts or parts[0].ndim < 2:
        raise r.fail("needs an input [N, features]")
    x = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
    return _activate(r.weights.linear(x, r.size("units"), r.flag("bias")), r.text("act"))


def _index(*parts: slice | int) -> tuple[slice | int, ...]:
    """An index tuple (mypy reads ``x[(a, *b)]`` as 3.11 syntax)."""
    return parts


def _same_padding(length: int, kernel: int, stride: int, dilation: int) -> tuple[int, int, int]:
    """TF's 'same': output ceil(L / stride), the padding split with the odd one at the end."""
    out = -(-length // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - length, 0)
    return out, total // 2, total - total // 2


def _conv_geometry(r: _Run, dims: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    kernel = r.ints("kernel", dims)
    stride = r.ints("stride", dims, 1)
    dilation = r.ints("dilation", dims, 1)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise r.fail("needs kernel, stride and dilation of at least 1")
    return kernel, stride, dilation


def _conv(dims: int) -> Callable[[_Run], FloatArray]:
    """Cross-correlation over ``dims`` axes, one matrix product per kernel offset and group."""

    def conv(r: _Run) -> FloatArray:
        x = r.input(rank=dims + 2)
        n, cin, spatial = x.shape[0], x.shape[1], x.shape[2:]
        cout, groups = r.size("channels"), r.size("groups")
        kernel, stride, dilation = _conv_geometry(r, dims)
        if groups < 1 or cin % groups or cout % groups:
            raise r.fail(f"groups {groups} must divide input channels {cin} and output channels {cout}")
        padding = r.attrs.get("padding")
        pads: list[tuple[int, int]] = []
        out: list[int] = []
        for i in range(dims):
            span = dilation[i] * (kernel[i] - 1) + 1
            if padding == "same":
                length, before, after = _same_padding(spatial[i], kernel[i], stride[i], dilation[i])
            else:
                p = 0 if padding == "valid" else r.ints("padding", dims, 0)[i]
                before = after = p
                if spatial[i] + 2 * p < span:
                    raise r.fail(f"kernel span {span} is larger than the padded input along axis {i + 2}")
                length = (spatial[i] + 2 * p - span) // stride[i] + 1
            pads.append((before, after))
            out.append(length)
        xp = np.pad(x, [(0, 0), (0, 0), *pads])
        cig, cog = cin // groups, cout // groups
        weight = r.weights.draw((cout, cig, *kernel), cig * math.prod(kernel))
        y = np.zeros((n, cout, *out))
        for g in range(groups):
            xg = xp[:, g * cig : (g + 1) * cig]
            for offset in itertools.product(*(range(k) for k in kernel)):
                window = tuple(
                    slice(o * d, o * d + (m - 1) * s + 1, s)
                    for o, d, m, s in zip(offset, dilation, out, stride, strict=True)
                )
                patch = xg[_index(slice(None), slice(None), *window)]
                w = weight[_index(slice(g * cog, (g + 1) * cog), slice(None), *offset)]
                y[:, g * cog : (g + 1) * cog] += np.moveaxis(np.tensordot(w, patch, axes=([1], [1])), 0, 1)
        if r.flag("bias"):
            y += r.weights.draw((cout,), cig * math.prod(kernel)).reshape((cout,) + (1,) * dims)
        return _activate(y, r.text("act"), axis=1)

    return conv


def _conv_transpose(dims: int) -> Callable[[_Run], FloatArray]:
    """Transposed convolution: every input position scatters a weighted kernel patch."""

    def conv_transpose(r: _Run) -> FloatArray:
        x = r.input(rank=dims + 2)
        n, cin, spatial = x.shape[0], x.shape[1], x.shape[2:]
        cout, groups = r.size("channels"), r.size("groups")
        kernel, stride, dilation = _conv_geometry(r, dims)
        if r.attrs.get("padding") in ("same", "valid"):
            raise r.fail("takes integer padding")
        pad = r.ints("padding", dims, 0)
        extra = r.ints("output_padding", dims, 0)
        if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation, strict=True)):
            raise r.fail("output_padding must be smaller than either stride or dilation")
        if groups < 1 or cin % groups or cout % groups:
            raise r.fail(f"groups {groups} must divide input channels {cin} and output channels {cout}")
        full = [
            (spatial[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 + extra[i] for i in range(dims)
        ]
        out = [full[i] - 2 * pad[i] for i in range(dims)]
        if min(out) < 1:
            raise r.fail(f"gives an empty output {out}")
        cig, cog = cin // groups, cout // groups
        weight = r.weights.draw((cin, cog, *kernel), cog * math.prod(kernel))
        y = np.zeros((n, cout, *full))
        for g in range(groups):
            xg = x[:, g * cig : (g + 1) * cig]
            for offset in itertools.product(*(range(k) for k in kernel)):
                window = tuple(
                    slice(o * d, o * d + (m - 1) * s + 1, s)
                    for o, d, m, s in zip(offset, dilation, spatial, stride, strict=True)
                )
                w = weight[_index(slice(g * cig, (g + 1) * cig), slice(None), *offset)]
                contribution = np.moveaxis(np.tensordot(w, xg, axes=([0], [1])), 0, 1)
                y[_index(slice(None), slice(g * cog, (g + 1) * cog), *window)] += contribution
        y = y[_index(slice(None), slice(None), *(slice(p, p + m) for p, m in zip(pad, out, strict=True)))]
        if r.flag("bias"):
            y = y + r.weights.draw((cout,), cog * math.prod(kernel)).reshape((cout,) + (1,) * dims)
        return _activate(y, r.text("act"), axis=1)

    return conv_transpose


# -- pooling -------------------------------------------------------------------------------------


def _pool(dims: int, kind: str) -> Callable[[_Run], FloatArray]:
    """Max or average pooling with PyTorch's ceil mode and divisor, or TF's 'same' padding."""

    def pool(r: _Run) -> FloatArray:
        x = r.input(rank=dims + 2)
        spatial = x.shape[2:]
        kernel = r.ints("kernel", dims)
        stride = r.ints("stride", dims) if r.attrs.get("stride") is not None else kernel
        if min(kernel) < 1 or min(stride) < 1:
            raise r.fail("needs kernel and stride of at least 1")
        padding = r.attrs.get("padding")
        ceil = r.flag("ceil_mode")
        pads: list[tuple[int, int]] = []
        counts: list[FloatArray] = []
        out: list[int] = []
        for i in range(dims):
            length, k, s = spatial[i], kernel[i], stride[i]
            if padding == "same":
                m, before, _ = _same_padding(length, k, s, 1)
                starts = np.arange(m) * s - before
                count = np.minimum(starts + k, length) - np.maximum(starts, 0)  # padding excluded
            else:
                p = 0 if padding == "valid" else r.ints("padding", dims, 0)[i]
                if 2 * p > k:
                    raise r.fail(f"padding {p} is more than half the kernel {k}")
                top = length + 2 * p - k + (s - 1 if ceil else 0)
                m = top // s + 1
                if ceil and (m - 1) * s >= length + p:
                    m -= 1  # the last window must start inside the input or the left padding
                if m < 1:
                    raise r.fail(f"output size {m} is too small along axis {i + 2}")
                before = p
                starts = np.arange(m) * s - p
                count = np.minimum(starts + k, length + p) - starts  # PyTorch's count_include_pad
            after = max((m - 1) * s + k - length - before, 0)
            pads.append((before, after))
            counts.append(count.astype(np.float64))
            out.append(m)
        fill = -np.inf if kind == "max" else 0.0
        xp = np.pad(x, [(0, 0), (0, 0), *pads], constant_values=fill)
        y = np.full((*x.shape[:2], *out), fill)
        for offset in itertools.product(*(range(k) for k in kernel)):
            window = tuple(
                slice(o, o + (m - 1) * s + 1, s) for o, m, s in zip(offset, out, stride, strict=True)
            )
            patch = xp[_index(slice(None), slice(None), *window)]
            y = np.maximum(y, patch) if kind == "max" else y + patch
        if kind == "avg":
            divisor = counts[0]
            for count in counts[1:]:
                divisor = np.multiply.outer(divisor, count)
            y = y / divisor
        return y

    return pool


def _global_pool(r: _Run) -> FloatArray:
    x = r.input()
    if x.ndim < 3:
        raise r.fail(f"needs spatial axes [N, C, ...], got shape {x.shape}")
    axes = tuple(range(2, x.ndim))
    return _floats(np.max(x, axis=axes) if r.op == "global_maxpool" else np.mean(x, axis=axes))


def _adaptive_pool(r: _Run) -> FloatArray:
    """PyTorch's windows: output i covers floor(i·L/out) to ceil((i+1)·L/out)."""
    x = r.input(rank=4)
    out = r.ints("size", 2)
    h, w = x.shape[2:]
    reduce = np.max if r.op == "adaptive_maxpool2d" else np.mean
    y = np.zeros((*x.shape[:2], *out))
    for i in range(out[0]):
        h0, h1 = (i * h) // out[0], -(-((i + 1) * h) // out[0])
        for j in range(out[1]):
            w0, w1 = (j * w) // out[1], -(-((j + 1) * w) // out[1])
            y[:, :, i, j] = reduce(x[:, :, h0:h1, w0:w1], axis=(2, 3))
    return y


def _unpool(r: _Run) -> FloatArray:
    """Max unpooling: each value goes where its switch says, else to its window's first position.

    Integer switches are PyTorch's indices into each output plane; other switches (a pooling
    layer's values, when a graph is executed) only fix the shape.
    """
    x = r.input(rank=4)
    kernel = r.ints("kernel", 2)
    stride = r.ints("stride", 2) if r.attrs.get("stride") is not None else kernel
    if min(kernel) < 1 or min(stride) < 1:
        raise r.fail("needs kernel and stride of at least 1")
    n, c, h, w = x.shape
    oh, ow = (h - 1) * stride[0] + kernel[0], (w - 1) * stride[1] + kernel[1]
    if len(r.inputs) > 1:
        switches = np.asarray(r.inputs[1])
        if switches.shape != x.shape:
            raise r.fail(f"switches of shape {switches.shape} do not match its input {x.shape}")
    if len(r.inputs) > 1 and np.issubdtype(np.asarray(r.inputs[1]).dtype, np.integer):
        index = np.asarray(r.inputs[1]).reshape(n, c, h * w)
    else:
        rows = np.arange(h)[:, None] * stride[0] * ow
        cols = np.arange(w)[None, :] * stride[1]
        index = np.broadcast_to((rows + cols).reshape(1, 1, h * w), (n, c, h * w))
    y = np.zeros((n, c, oh * ow))
    np.put_along_axis(y, index, x.reshape(n, c, h * w), axis=2)
    return y.reshape(n, c, oh, ow)


def _upsample(r: _Run) -> FloatArray:
    x = r.input()
    if x.ndim < 3:
        raise r.fail(f"needs spatial axes [N, C, ...], got shape {x.shape}")
    scale = r.ints("scale", x.ndim - 2)
    if min(scale) < 1:
        raise r.fail("needs a scale of at least 1")
    if r.text("mode") == "bilinear":
        if x.ndim != 4:
            raise r.fail(f"bilinear mode needs a 4-D input [N, C, H, W], got shape {x.shape}")
        for axis, f in zip((2, 3), scale, strict=True):
            length = x.shape[axis]
            src = np.maximum((np.arange(length * f) + 0.5) / f - 0.5, 0.0)  # align_corners=False
            lo = np.floor(src).astype(np.int64)
            hi = np.minimum(lo + 1, length - 1)
            frac = (src - lo).reshape((-1,) + (1,) * (x.ndim - 1 - axis))
            x = np.take(x, lo, axis=axis) * (1 - frac) + np.take(x, hi, axis=axis) * frac
        return x
    for axis, f in enumerate(scale, 2):
        x = np.repeat(x, f, axis=axis)
    return x


# -- normalisation -------------------------------------------------------------------------------


def _batchnorm(r: _Run) -> FloatArray:
    """Training-mode batch normalisation: statistics over every axis but the channels (axis 1)."""
    x = r.input()
    if x.ndim < 2:
        raise r.fail(f"needs an input [N, C, ...], got shape {x.shape}")
    axes = (0, *range(2, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + r.number("eps"))
    if r.flag("affine"):
        c = x.shape[1]
        shape = (c,) + (1,) * (x.ndim - 2)
        y = y * r.weights.draw((c,), 1).reshape(shape) + r.weights.draw((c,), 1).reshape(shape)
    return _floats(y)


def _layernorm(r: _Run) -> FloatArray:
    x = r.input()
    if x.ndim < 1:
        raise r.fail("needs an input with at least one axis")
    axis = _axis(r, x, r.size("axis"))
    mean, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
    y = (x - mean) / np.sqrt(var + r.number("eps"))
    if r.flag("affine"):
        d = x.shape[axis]
        shape = [1] * x.ndim
        shape[axis] = d
        y = y * r.weights.draw((d,), 1).reshape(shape) + r.weights.draw((d,), 1).reshape(shape)
    return _floats(y)


def _scale_shift(r: _Run, y: FloatArray) -> FloatArray:
    """``y`` times a learned scale plus a learned shift, per channel (axis 1), when affine."""
    if not r.flag("affine"):
        return y
    c = y.shape[1]
    shape = (c,) + (1,) * (y.ndim - 2)
    return _floats(y * r.weights.draw((c,), 1).reshape(shape) + r.weights.draw((c,), 1).reshape(shape))


def _layer_scale(r: _Run) -> FloatArray:
    """``x · γ (+ β)``, one γ (and β) per index of the channel axis."""
    x = r.input()
    axis = _axis(r, x, r.size("axis"))
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    y = x * r.weights.draw((x.shape[axis],), 1).reshape(shape)
    if r.flag("bias"):
        y = y + r.weights.draw((x.shape[axis],), 1).reshape(shape)
    return _floats(y)


def _groupnorm(r: _Run) -> FloatArray:
    """Each group of C/G channels normalised over its channels and space (Wu and He, 2018)."""
    x = r.input()
    if x.ndim < 2:
        raise r.fail(f"needs an input [N, C, ...], got shape {x.shape}")
    n, c, groups = x.shape[0], x.shape[1], r.size("groups")
    if groups < 1 or c % groups:
        raise r.fail(f"needs channels divisible by groups: {c} channels in {groups} groups")
    g = x.reshape(n, groups, -1)
    y = (g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + r.number("eps"))
    return _scale_shift(r, _floats(y.reshape(x.shape)))


def _instancenorm(r: _Run) -> FloatArray:
    """Each channel of each sample normalised over space (Ulyanov et al., 2016)."""
    x = r.input()
    if x.ndim < 3:
        raise r.fail(f"needs an input [N, C, ...] with at least 3 axes, got shape {x.shape}")
    axes = tuple(range(2, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + r.number("eps"))
    return _scale_shift(r, _floats(y))


def _lrn(r: _Run) -> FloatArray:
    """PyTorch's local response normalisation across channels (axis 1)."""
    x = r.input()
    if x.ndim < 3:
        raise r.fail(f"needs a 3-D or larger input [N, C, ...], got shape {x.shape}")
    size = r.size("size")
    squares = np.pad(x**2, [(0, 0), (size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 2))
    total = np.cumsum(np.pad(squares, [(0, 0), (1, 0)] + [(0, 0)] * (x.ndim - 2)), axis=1)
    window = total[:, size:] - total[:, :-size]
    return x / (r.number("k") + r.number("alpha") / size * window) ** r.number("beta")


# -- reshaping and merging -----------------------------------------------------------------------


def _axis(r: _Run, x: FloatArray, axis: int) -> int:
    if not -x.ndim <= axis < x.ndim:
        raise r.fail(f"axis {axis} does not exist in shape {x.shape}")
    return axis % x.ndim


def _flatten(r: _Run) -> FloatArray:
    x = r.input()
    start = _axis(r, x, r.size("start"))
    return x.reshape(*x.shape[:start], -1)


def _reshape(r: _Run) -> FloatArray:
    target = r.attrs.get("shape")
    if not isinstance(target, tuple):
        raise r.fail("needs 'shape'")
    return r.input().reshape(tuple(_integer(t, "shape", r) for t in target))


def _crop(r: _Run) -> FloatArray:
    """The centre of each spatial axis: ``x[..., o:o + h, ...]`` with ``o = (H - h) // 2``."""
    x = r.input()
    if x.ndim < 3:
        raise r.fail(f"needs an input [N, C, ...] with at least 3 axes, got shape {x.shape}")
    written = r.attrs.get("size")
    items = written if isinstance(written, tuple) else (written,)
    kept = [_integer(k, "size", r) for k in items]
    if len(kept) == 1:
        kept *= x.ndim - 2
    if len(kept) != x.ndim - 2:
        raise r.fail(f"'size' needs 1 or {x.ndim - 2} values, got {len(kept)}")
    cuts = []
    for have, want in zip(x.shape[2:], kept, strict=True):
        if not 1 <= want <= have:
            raise r.fail(f"cannot cut an axis of {have} to {want}")
        start = (have - want) // 2
        cuts.append(slice(start, start + want))
    window = (slice(None), slice(None), *cuts)
    return x[window]


def _permute(r: _Run) -> FloatArray:
    axes = r.attrs.get("axes")
    items = axes if isinstance(axes, tuple) else (axes,)
    return np.transpose(r.input(), tuple(_integer(a, "axes", r) for a in items))


def _split(r: _Run) -> FloatArray:
    x = r.input()
    parts, index = r.size("parts"), r.size("index")
    if not 0 <= index < parts:
        raise r.fail(f"index {index} is not one of the {parts} parts")
    piece: FloatArray = np.split(x, parts, axis=_axis(r, x, r.size("axis")))[index]
    return piece


def _slice(r: _Run) -> FloatArray:
    x = r.input()
    axis = _axis(r, x, r.size("axis"))
    stop = r.attrs.get("stop")
    cut = slice(r.size("start"), None if stop is None else r.size("stop"))
    y = x[(slice(None),) * axis + (cut,)]
    if y.shape[axis] == 0:
        raise r.fail(f"selects nothing from axis {axis} of size {x.shape[axis]}")
    return y


def _concat(r: _Run) -> FloatArray:
    arrays = [r.input(i) for i in range(len(r.inputs))]
    if not arrays:
        raise r.fail("needs an input")
    return np.concatenate(arrays, axis=r.size("axis"))


def _elementwise(r: _Run) -> FloatArray:
    """add, sub and mul with NumPy broadcasting."""
    arrays = [r.input(i) for i in range(len(r.inputs))]
    if not arrays:
        raise r.fail("needs an input")
    y = arrays[0]
    for other in arrays[1:]:
        y = y + other if r.op == "add" else y - other if r.op == "sub" else y * other
    return y


def _matmul(r: _Run) -> FloatArray:
    y: FloatArray = np.matmul(r.input(0), r.input(1))
    return np.asarray(y, dtype=np.float64)


def _ids(x: AnyArray, classes: int) -> npt.NDArray[np.int64]:
    """Integer ids as given; other values (random activations, say) folded into range."""
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(np.int64)
    folded = np.floor(np.abs(np.asarray(x, dtype=np.float64)) * 1000.0) % max(classes, 1)
    return folded.astype(np.int64)


def _embedding(r: _Run) -> FloatArray:
    """A lookup table; only the rows looked up are drawn, but the whole table is counted."""
    if not r.inputs:
        raise r.fail("needs token ids")
    vocab, dim = r.size("vocab"), r.size("dim")
    ids = _ids(np.asarray(r.inputs[0]), vocab)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        raise r.fail(f"ids must lie in [0, {vocab})")
    rows, where = np.unique(ids, return_inverse=True)
    table = r.weights.draw((len(rows), dim), 1)
    r.weights.declare((vocab - len(rows)) * dim)
    return table[where.reshape(ids.shape)]


# -- recurrent layers ----------------------------------------------------------------------------

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _direction(
    op: str, xs: FloatArray, units: int, r: _Run, bias_vectors: int, act: str
) -> tuple[FloatArray, FloatArray]:
    """One direction of one layer over [N, T, F]: every step's output, and the last state."""
    n, steps, width = xs.shape
    gates = _GATES[op]
    w_ih = r.weights.draw((width, gates * units), units)
    w_hh = r.weights.draw((units, gates * units), units)
    b_ih = r.weights.draw((gates * units,), units) if bias_vectors >= 1 else np.zeros(gates * units)
    b_hh = r.weights.draw((gates * units,), units) if bias_vectors >= 2 else np.zeros(gates * units)
    projected = xs @ w_ih + b_ih  # every step's input projection at once
    h = np.zeros((n, units))
    c = np.zeros((n, units))
    outputs = np.zeros((n, steps, units))
    for t in range(steps):
        gi, gh = projected[:, t], h @ w_hh + b_hh
        if op == "rnn":
            h = _activate(gi + gh, act)
        elif op == "lstm":  # PyTorch's gate order: input, forget, cell, output
            i, f, g, o = np.split(gi + gh, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
        else:  # gru: reset, update, new; the reset gate scales the hidden projection
            ir, iz, inn = np.split(gi, 3, axis=1)
            hr, hz, hn = np.split(gh, 3, axis=1)
            reset, update = _sigmoid(ir + hr), _sigmoid(iz + hz)
            candidate = np.tanh(inn + reset * hn)
            h = (1 - update) * candidate + update * h
        outputs[:, t] = h
    return outputs, h


def _recurrent(r: _Run) -> FloatArray:
    """rnn, lstm and gru: a step loop per layer and direction; h and c start at zero."""
    x = r.input(rank=3)
    batch_first = r.flag("batch_first")
    seq = x if batch_first else x.transpose(1, 0, 2)
    units, layers = r.size("units"), r.size("num_layers")
    directions = 2 if r.flag("bidirectional") else 1
    if not r.flag("bias"):
        bias_vectors = 0
    elif r.text("convention") == "keras" and r.op != "gru":
        bias_vectors = 1
    else:
        bias_vectors = 2
    act = r.text("act") or "tanh"
    finals: list[FloatArray] = []
    for _ in range(layers):
        outs: list[FloatArray] = []
        finals = []
        for direction in range(directions):
            xs = seq[:, ::-1] if direction else seq
            out, last = _direction(r.op, xs, units, r, bias_vectors, act)
            outs.append(out[:, ::-1] if direction else out)
            finals.append(last)
        seq = np.concatenate(outs, axis=2)
    if not r.flag("return_sequences"):
        return np.concatenate(finals, axis=1)
    return seq if batch_first else seq.transpose(1, 0, 2)


# -- attention and memory ------------------------------------------------------------------------


def _attention(r: _Run) -> FloatArray:
    query = r.input(0, rank=3)
    key = r.input(1, rank=3) if len(r.inputs) > 1 else query
    value = r.input(2, rank=3) if len(r.inputs) > 2 else key
    if not query.shape[0] == key.shape[0] == value.shape[0]:
        raise r.fail(f"batch sizes differ: {query.shape}, {key.shape}, {value.shape}")
    if key.shape[1] != value.shape[1]:
        raise r.fail(f"keys {key.shape} and values {value.shape} differ in length")
    kind = r.text("kind")
    dq, dk = query.shape[2], key.shape[2]
    if kind in ("dot", "scaled_dot"):
        scores = query @ key.transpose(0, 2, 1)  # matmul raises when dq != dk
        if kind == "scaled_dot":
            scores = scores / math.sqrt(dk)
        return _softmax(scores, -1) @ value
    if kind == "additive":
        units = r.size("units") if r.attrs.get("units") is not None else dq
        wq = r.weights.draw((dq, units), dq)
        wk = r.weights.draw((dk, units), dk)
        v = r.weights.draw((units,), units)
        hidden = np.tanh((query @ wq)[:, :, None, :] + (key @ wk)[:, None, :, :])  # [N, Tq, Tk, U]
        return _softmax(hidden @ v, -1) @ value
    model = r.size("units") if r.attrs.get("units") is not None else dq
    heads = r.size("heads")
    if heads < 1 or model % heads:
        raise r.fail(f"width {model} is not divisible by {heads} heads")
    q, k, v = (r.weights.linear(t, model, True) for t in (query, key, value))
    n, tq, tk, dh = q.shape[0], q.shape[1], k.shape[1], model // heads
    qh = q.reshape(n, tq, heads, dh).transpose(0, 2, 1, 3)
    kh = k.reshape(n, tk, heads, dh).transpose(0, 2, 1, 3)
    vh = v.reshape(n, tk, heads, dh).transpose(0, 2, 1, 3)
    mixed = _softmax(qh @ kh.transpose(0, 1, 3, 2) / math.sqrt(dh), -1) @ vh
    return r.weights.linear(mixed.transpose(0, 2, 1, 3).reshape(n, tq, model), model, True)


def _memory(r: _Run) -> FloatArray:
    """The memory matrix: a fed-in or fed-back memory of the right shape, else NTM's small constant."""
    slots, width = r.size("slots"), r.size("width")
    first = np.asarray(r.inputs[0]) if r.inputs else None
    batch = first.shape[0] if first is not None and first.ndim else 1
    for candidate in (*r.inputs, *r.delayed):
        if np.shape(candidate) == (batch, slots, width):
            return np.array(candidate, dtype=np.float64)
    return np.full((batch, slots, width), 1e-6)


def _address(
    memory: FloatArray, head: FloatArray, addressing: str, width: int
) -> tuple[FloatArray, FloatArray]:
    """NTM addressing: head weights over the slots, and what is left of the head's outputs."""
    n, slots, _ = memory.shape
    previous = np.full((n, slots), 1.0 / slots)  # step one: no previous weighting
    weights = previous
    if addressing in ("content", "content_location"):
        key, strength, head = head[:, :width], head[:, width], head[:, width + 1 :]
        similarity = np.einsum("nsw,nw->ns", memory, key) / (
            np.linalg.norm(memory, axis=2) * np.linalg.norm(key, axis=1)[:, None] + 1e-8
        )
        weights = _softmax(np.logaddexp(0.0, strength)[:, None] * similarity, -1)
    if addressing in ("location", "content_location"):
        gate, shift, sharpen, head = head[:, 0], head[:, 1:4], head[:, 4], head[:, 5:]
        gate = _sigmoid(gate)[:, None]
        weights = gate * weights + (1 - gate) * previous
        shift = _softmax(shift, -1)
        weights = sum(np.roll(weights, s, axis=1) * shift[:, s + 1 : s + 2] for s in (-1, 0, 1))
        weights = weights ** (1.0 + np.logaddexp(0.0, sharpen))[:, None]
        weights = weights / (weights.sum(axis=1, keepdims=True) + 1e-12)
    return weights, head


def _memory_access(r: _Run) -> FloatArray:
    """NTM read or write heads: memory [N, S, W] and controller [N, F] (batches broadcast)."""
    memory = r.input(0, rank=3)
    controller = r.input(1, rank=2)
    batch = np.broadcast_shapes(memory.shape[:1], controller.shape[:1])[0]
    memory = np.broadcast_to(memory, (batch, *memory.shape[1:])).copy()
    width = memory.shape[2]
    heads = r.size("heads")
    addressing = r.text("addressing")
    per = {"content": width + 1, "location": 5}.get(addressing, width + 6)
    per += 2 * width if r.op == "memory_write" else 0
    emitted = r.weights.linear(controller, heads * per, True).reshape(-1, heads, per)
    emitted = np.broadcast_to(emitted, (batch, heads, per))
    reads: list[FloatArray] = []
    for h in range(heads):
        weights, rest = _address(memory, emitted[:, h], addressing, width)
        if r.op == "memory_read":
            reads.append(np.einsum("ns,nsw->nw", weights, memory))
        else:
            erase, add = _sigmoid(rest[:, :width]), rest[:, width : 2 * width]
            memory = (
                memory * (1 - weights[:, :, None] * erase[:, None, :]) + weights[:, :, None] * add[:, None]
            )
    return np.concatenate(reads, axis=1) if r.op == "memory_read" else memory


# -- sampling, losses, the rest ------------------------------------------------------------------


def _noise(r: _Run) -> FloatArray:
    target = r.attrs.get("shape")
    if not isinstance(target, tuple):
        raise r.fail("needs 'shape'")
    shape = tuple(_integer(t, "shape", r) for t in target)
    if r.text("dist") == "uniform":
        return r.rng.random(shape)
    return r.rng.standard_normal(shape)


def _parameter(r: _Run) -> FloatArray:
    """One learned copy (its first axis is 1), broadcast over the batch."""
    target = r.attrs.get("shape")
    if not isinstance(target, tuple):
        raise r.fail("needs 'shape'")
    shape = tuple(_integer(t, "shape", r) for t in target)
    one = r.weights.draw((1, *shape[1:]), 1)
    return _floats(np.broadcast_to(one.reshape((1, *shape[1:])), shape).copy())


def _sample(r: _Run) -> FloatArray:
    """μ + exp(½·log σ²)·ε, with ε drawn when not given; every input has one shape."""
    arrays = [r.input(i) for i in range(len(r.inputs))]
    if not arrays:
        raise r.fail("needs μ")
    if any(a.shape != arrays[0].shape for a in arrays[1:]):
        raise r.fail(f"inputs differ in shape: {[a.shape for a in arrays]}")
    mu = arrays[0]
    logvar = arrays[1] if len(arrays) > 1 else np.zeros_like(mu)
    eps = arrays[2] if len(arrays) > 2 else r.rng.standard_normal(mu.shape)
    return mu + np.exp(0.5 * logvar) * eps


def _same(r: _Run, a: FloatArray, b: FloatArray) -> None:
    if a.shape != b.shape:
        raise r.fail(f"prediction {a.shape} and target {b.shape} differ")


def _ctc(log_probs: FloatArray, target: npt.NDArray[np.int64], blank: int) -> float:
    """−log p(target) by the CTC forward algorithm over one sequence [T, C]."""
    labels = [blank]
    for label in target:
        labels += [int(label), blank]
    # A step may skip the blank between two different labels.
    skips = np.array(
        [i >= 2 and labels[i] != blank and labels[i] != labels[i - 2] for i in range(len(labels))]
    )
    alpha = np.full(len(labels), -np.inf)
    alpha[0] = log_probs[0, blank]
    if len(labels) > 1:
        alpha[1] = log_probs[0, labels[1]]
    for t in range(1, log_probs.shape[0]):
        total = np.logaddexp(alpha, np.concatenate(([-np.inf], alpha[:-1])))
        skip = np.concatenate(([-np.inf, -np.inf], alpha[:-2]))
        alpha = np.where(skips, np.logaddexp(total, skip), total) + log_probs[t, labels]
    return -float(np.logaddexp(alpha[-1], alpha[-2]) if len(labels) > 1 else alpha[-1])


def _loss(r: _Run) -> FloatArray:
    """A scalar loss; with one input, the prediction is compared with zeros."""
    pred = r.input()
    target_raw = np.asarray(r.inputs[1]) if len(r.inputs) > 1 else None
    target = np.asarray(target_raw, dtype=np.float64) if target_raw is not None else np.zeros_like(pred)
    op = r.op
    if op in ("mse_loss", "content_loss"):
        _same(r, pred, target)
        return np.asarray(np.mean((pred - target) ** 2))
    if op == "bce_loss":
        _same(r, pred, target)
        p = np.clip(pred, 1e-7, 1 - 1e-7)
        return np.asarray(-np.mean(target * np.log(p) + (1 - target) * np.log(1 - p)))
    if op == "ranking_loss":
        _same(r, pred, target)
        return np.asarray(np.mean(np.maximum(0.0, r.number("margin") - (pred - target))))
    if op == "kl_divergence":
        # KL(N(μ, σ²) ‖ N(0, 1)) separates into a μ part and a log σ² part of any shapes.
        logvar = target if target_raw is not None else np.zeros(())
        return np.asarray(0.5 * (np.sum(pred**2) + np.sum(np.exp(logvar) - 1 - logvar)))
    if op == "style_loss":
        if pred.ndim != 4 or target.ndim != 4 or pred.shape[1] != target.shape[1]:
            raise r.fail(f"needs [N, C, H, W] maps with one C, got {pred.shape} and {target.shape}")

        def gram(f: FloatArray) -> FloatArray:
            flat = f.reshape(f.shape[0], f.shape[1], -1)
            return _floats(flat @ flat.transpose(0, 2, 1) / flat[0].size)

        if target_raw is None:
            target = pred
        return np.asarray(np.mean((gram(pred) - gram(target)) ** 2))
    if op == "cross_entropy":
        if pred.ndim < 1:
            raise r.fail(f"needs class scores [N, C, ...] or [C], got shape {pred.shape}")
        axis = 1 if pred.ndim > 1 else 0
        logp = _log_softmax(pred, axis)
        if target_raw is None:
            return np.asarray(-np.mean(np.sum(np.exp(logp) * logp, axis=axis)))
        if target.shape == pred.shape:  # class probabilities
            return np.asarray(-np.mean(np.sum(target * logp, axis=axis)))
        ids_shape = pred.shape[:1] + pred.shape[2:] if pred.ndim > 1 else ()
        if target.shape != ids_shape:
            raise r.fail(f"target {target.shape} fits neither class ids nor probabilities of {pred.shape}")
        ids = _ids(target_raw, pred.shape[axis])
        picked = np.take_along_axis(logp, np.expand_dims(ids, axis), axis=axis)
        return np.asarray(-np.mean(picked))
    if op == "ctc_loss":
        if pred.ndim != 3:
            raise r.fail(f"needs log-probabilities [N, T, C], got {pred.shape}")
        classes = pred.shape[2]
        blank = r.size("blank")
        if not 0 <= blank < classes:
            raise r.fail(f"blank {blank} is not one of the {classes} classes")
        if target_raw is None:
            labels = np.zeros((pred.shape[0], 0), dtype=np.int64)
        else:
            if target.ndim != 2 or target.shape[0] != pred.shape[0]:
                raise r.fail(f"needs targets [N, S] for {pred.shape}, got {target.shape}")
            if np.issubdtype(target_raw.dtype, np.integer):  # label ids: any class but the blank
                labels = target_raw.astype(np.int64)
                if labels.size and (labels.min() < 0 or labels.max() >= classes or (labels == blank).any()):
                    raise r.fail(f"targets must be class ids in [0, {classes}) other than the blank {blank}")
            else:  # other values folded into the labels that are not the blank
                labels = _ids(target_raw, max(classes - 1, 1))
                labels = np.where(labels >= blank, labels + 1, labels) if classes > 1 else labels
        logp = _log_softmax(pred, 2)
        return np.asarray(np.mean([_ctc(logp[i], labels[i], blank) for i in range(pred.shape[0])]))
    raise r.fail("is not a loss")  # pragma: no cover - every loss is handled above


def _custom(r: _Run) -> FloatArray:
    """Zeros of the declared shape (else the first input's); the declared parameters counted."""
    declared = r.attrs.get("shape")
    if isinstance(declared, tuple):
        shape = tuple(_integer(t, "shape", r) for t in declared)
    elif r.inputs:
        shape = np.shape(r.inputs[0])
    else:
        raise r.fail("has no input, so it needs 'shape'")
    r.weights.declare(r.size("params"))
    return np.zeros(shape)


Reference = Callable[[_Run], FloatArray]

_ACTIVATIONS = (
    "relu",
    "sigmoid",
    "tanh",
    "gelu",
    "elu",
    "softplus",
    "swish",
    "leaky_relu",
    "relu6",
    "hardswish",
    "hardsigmoid",
)
_LOSSES = (
    "mse_loss",
    "bce_loss",
    "cross_entropy",
    "ctc_loss",
    "kl_divergence",
    "content_loss",
    "style_loss",
    "ranking_loss",
)

REFERENCES: Mapping[str, Reference] = {
    "dense": _dense,
    "conv1d": _conv(1),
    "conv2d": _conv(2),
    "conv3d": _conv(3),
    "conv_transpose2d": _conv_transpose(2),
    **{f"{kind}pool{d}d": _pool(d, kind) for kind in ("max", "avg") for d in (1, 2, 3)},
    "global_avgpool": _global_pool,
    "global_maxpool": _global_pool,
    "adaptive_avgpool2d": _adaptive_pool,
    "adaptive_maxpool2d": _adaptive_pool,
    "unpool2d": _unpool,
    "upsample": _upsample,
    "batchnorm": _batchnorm,
    "layernorm": _layernorm,
    "groupnorm": _groupnorm,
    "layer_scale": _layer_scale,
    "instancenorm": _instancenorm,
    "lrn": _lrn,
    "dropout": _identity,
    "identity": _identity,
    "gradient_reversal": _identity,
    **dict.fromkeys(_ACTIVATIONS, _activation_op),
    "softmax": _activation_op,
    "log_softmax": _activation_op,
    "flatten": _flatten,
    "reshape": _reshape,
    "permute": _permute,
    "crop": _crop,
    "split": _split,
    "slice": _slice,
    "concat": _concat,
    "add": _elementwise,
    "sub": _elementwise,
    "mul": _elementwise,
    "matmul": _matmul,
    "embedding": _embedding,
    "rnn": _recurrent,
    "lstm": _recurrent,
    "gru": _recurrent,
    "attention": _attention,
    "memory": _memory,
    "memory_read": _memory_access,
    "memory_write": _memory_access,
    "noise": _noise,
    "parameter": _parameter,
    "sample": _sample,
    **dict.fromkeys(_LOSSES, _loss),
    "custom": _custom,
}


def evaluate(
    op: str,
    inputs: Sequence[AnyArray],
    attrs: Mapping[str, object],
    rng: np.random.Generator,
    delayed: Sequence[AnyArray] = (),
) -> Evaluation:
    """Run ``op`` on ``inputs``; attributes not given take the op table's defaults.

    Raises :class:`ExecutionError` (or NumPy's own ValueError, IndexError) where the op refuses
    its inputs.
    """
    if op not in REFERENCES:
        raise ExecutionError(f"no reference implementation of op {op!r}")
    full: dict[str, object] = (
        {name: spec.default for name, spec in OPS[op].attrs.items()} if op in OPS else {}
    )
    full.update(attrs)
    run_ = _Run(op, tuple(inputs), full, rng, _Weights(rng), tuple(delayed))
    with np.errstate(all="ignore"):
        value = np.asarray(REFERENCES[op](run_), dtype=np.float64)
    return Evaluation(value, run_.weights.count)


def run(
    op: str,
    inputs: Sequence[AnyArray],
    attrs: Mapping[str, object],
    rng: np.random.Generator,
    delayed: Sequence[AnyArray] = (),
) -> FloatArray:
    """The output of ``op`` on ``inputs`` (see :func:`evaluate`)."""
    return evaluate(op, inputs, attrs, rng, delayed).value
