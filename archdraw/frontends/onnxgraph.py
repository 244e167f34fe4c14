"""Read an ONNX model into a :class:`~archdraw.frontends.trace.Trace`: layers, shapes, scopes."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ArchdrawError
from .trace import Input, Layer, Scope, Trace, Value

if TYPE_CHECKING:
    import onnx

__all__ = ["trace_onnx"]

FOLDED_NOTE = (
    "batch normalization is folded into the convolutions, as the ONNX export does: "
    "each convolution carries a bias and there are no BatchNorm layers"
)

#: input positions that hold shapes, axes, states or statistics, never weights
_CONTROL: dict[str, tuple[int, ...]] = {
    "Reshape": (1,),
    "Expand": (1,),
    "Tile": (1,),
    "Slice": (1, 2, 3, 4),
    "Pad": (1, 2, 3),
    "Resize": (1, 2, 3),
    "Upsample": (1,),
    "Unsqueeze": (1,),
    "Squeeze": (1,),
    "Split": (1,),
    "TopK": (1,),
    "Clip": (1, 2),
    "Dropout": (1, 2),
    "CumSum": (1,),
    "Trilu": (1,),
    "OneHot": (1, 2),
    "Range": (0, 1, 2),
    "ConstantOfShape": (0,),
    "BatchNormalization": (3, 4),
    "LSTM": (4, 5, 6),
    "GRU": (4, 5),
    "RNN": (4, 5),
    "ReduceMean": (1,),
    "ReduceMax": (1,),
    "ReduceMin": (1,),
    "ReduceSum": (1,),
    "ReduceProd": (1,),
    "ReduceL2": (1,),
    "ScatterND": (1,),
}
#: nodes whose output is known without running the model
_STATIC_OPS = frozenset({"Shape", "Size", "Constant", "ConstantOfShape", "EyeLike", "Range"})
_ACTIVATIONS = {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Gelu": "gelu",
    "Elu": "elu",
    "HardSwish": "hardswish",
    "Softplus": "softplus",
    "LogSoftmax": "log_softmax",
    "Softmax": "softmax",
}
#: ops that only move values around: they may sit beside the one weight op of a module
_SHAPE_OPS = frozenset({"reshape", "permute", "flatten", "dropout"})
_GENERIC = frozenset({"Sequential", "ModuleList", "ModuleDict"})
_FLOAT_TYPES = frozenset({1, 10, 11, 16})  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
_INTEGER_TYPES = frozenset({2, 3, 4, 5, 6, 7, 12, 13})

Dims = tuple[int | None, ...]


class _Custom(Exception):
    """A node that maps to no archdraw op: it becomes a custom layer."""


@dataclass(eq=False)
class _Piece:
    """One mapped node (or a few folded nodes) before it becomes a layer."""

    op: str
    attrs: dict[str, Value]
    inputs: list[str]
    output: str
    shape: Dims
    used: list[str]
    node: Any
    origin: str
    path: str
    chain: list[str]
    weight: str | None = None
    absorbed: bool = False


@dataclass
class _Module:
    """What the exporter recorded of one module: its class, when known."""

    path: str
    cls: str | None = None


@dataclass
class _Reader:
    """The state of one reading: values, shapes, static values and the pieces made so far."""

    graph: Any
    opset: int
    shapes: dict[str, Dims] = field(default_factory=dict)
    inits: dict[str, Any] = field(default_factory=dict)
    consts: dict[str, Any] = field(default_factory=dict)
    static: set[str] = field(default_factory=set)
    carry: dict[str, list[str]] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)
    pieces: list[_Piece] = field(default_factory=list)
    consumers: dict[str, list[Any]] = field(default_factory=dict)
    outputs: set[str] = field(default_factory=set)
    skip: set[int] = field(default_factory=set)
    modules: dict[str, _Module] = field(default_factory=dict)
    counter: int = 0

    # -- values ---------------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def shape(self, name: str) -> Dims | None:
        return self.shapes.get(self.resolve(name))

    def known(self, name: str) -> tuple[int, ...] | None:
        dims = self.shape(name)
        if dims is None or any(d is None for d in dims):
            return None
        return tuple(d for d in dims if d is not None)

    def value(self, name: str) -> Any:
        """The contents of a small static tensor, or None."""
        if not name:
            return None
        return self.consts.get(self.resolve(name))

    def params_of(self, name: str) -> list[str]:
        return list(self.carry.get(self.resolve(name), [])) if name else []

    def is_static(self, name: str) -> bool:
        return not name or self.resolve(name) in self.static

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}::archdraw{self.counter}"


# -- helpers ----------------------------------------------------------------------------------


def _attr(node: Any, name: str, default: Any = None) -> Any:
    import onnx

    for a in node.attribute:
        if a.name == name:
            value = onnx.helper.get_attribute_value(a)
            if isinstance(value, bytes):
                return value.decode("utf-8", "replace")
            if isinstance(value, list):
                return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
            return value
    return default


def _one(values: Sequence[int]) -> int | list[int]:
    """``3`` for ``[3, 3]``; the list when its values differ."""
    items = [int(v) for v in values]
    return items[0] if items and all(v == items[0] for v in items) else items


def _pads(node: Any, dims: int) -> int | list[int] | str:
    """A conv or pool's padding as archdraw writes it; asymmetric padding cannot be written."""
    auto = str(_attr(node, "auto_pad", "NOTSET") or "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return "same"
    if auto == "VALID":
        return "valid"
    pads = [int(p) for p in _attr(node, "pads", [0] * (2 * dims))]
    if len(pads) != 2 * dims or pads[:dims] != pads[dims:]:
        raise _Custom
    return _one(pads[:dims])


def _short(cls: str) -> str:
    return cls.rsplit(".", 1)[-1]


def _stem(name: str) -> str:
    return re.sub(r"[\d_.]+$", "", name)


def _to_attr(value: Value) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _fits(
    op: str, attrs: Mapping[str, Value], inputs: Sequence[tuple[int, ...]], shape: Dims, params: int
) -> bool:
    """Whether archdraw's own rule for ``op`` gives this shape and parameter count."""
    from ..ops import OPS

    spec = OPS.get(op)
    if spec is None or spec.rule is None or any(d is None for d in shape):
        return False
    if len(inputs) < spec.min_inputs or (spec.max_inputs is not None and len(inputs) > spec.max_inputs):
        return False
    if any(name not in spec.attrs for name in attrs):
        return False
    full: dict[str, Any] = {name: a.default for name, a in spec.attrs.items()}
    full.update({k: _to_attr(v) for k, v in attrs.items()})
    from ..ops.rules import Call

    try:
        result = spec.rule(Call(op, "onnx", tuple(inputs), (), full))
    except Exception:
        return False
    got = tuple(s if isinstance(s, int) else s.value for s in result.shape)
    return got == tuple(shape) and result.params == params


# -- loading ----------------------------------------------------------------------------------


def _load(model: str | os.PathLike[str] | onnx.ModelProto) -> tuple[Any, str]:
    import onnx

    if isinstance(model, onnx.ModelProto):
        copy = onnx.ModelProto()
        copy.CopyFrom(model)
        return copy, ""
    path = Path(model)
    try:
        loaded = onnx.load(str(path), load_external_data=False)
    except OSError as exc:
        raise ArchdrawError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:
        raise ArchdrawError(f"{path} is not a valid ONNX model ({type(exc).__name__}: {exc})") from None
    if loaded.ir_version <= 0 or not loaded.graph.node:
        raise ArchdrawError(f"{path} is not a valid ONNX model: it holds no graph")
    return loaded, path.stem


def _dims_of(value_info: Any) -> Dims | None:
    t = value_info.type
    if not t.HasField("tensor_type") or not t.tensor_type.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") else None for d in t.tensor_type.shape.dim)


# -- the reading ------------------------------------------------------------------------------


def trace_onnx(
    model: str | os.PathLike[str] | onnx.ModelProto,
    *,
    name: str | None = None,
    dims: Mapping[str, int] | None = None,
) -> Trace:
    """Read an ONNX model (a file or a loaded ``ModelProto``) into a framework-neutral trace.

    ``dims`` gives values to the model's named dynamic axes (``dim_param``); any other dynamic
    axis is taken as 1.
    """
    try:
        import onnx
        import onnx.shape_inference
    except ImportError:
        raise ArchdrawError(
            "reading ONNX models needs the 'onnx' extra: pip install 'archdraw-nn[onnx]'"
        ) from None
    proto, stem = _load(model)
    label = stem or "model"
    graph = proto.graph
    notes: list[str] = []
    init_names = {i.name for i in graph.initializer}
    resolved: dict[str, int] = {}
    for inp in graph.input:
        if inp.name in init_names or not inp.type.HasField("tensor_type"):
            continue
        for d in inp.type.tensor_type.shape.dim:
            if not d.HasField("dim_value") or d.dim_value <= 0:
                param = d.dim_param
                size = int((dims or {}).get(param, 1)) if param else 1
                if param:
                    resolved[param] = size
                d.Clear()
                d.dim_value = size
    try:
        inferred = onnx.shape_inference.infer_shapes(
            proto, check_type=False, strict_mode=False, data_prop=True
        )
    except Exception as exc:
        inferred = proto
        notes.append(f"ONNX shape inference failed ({exc}); shapes it could not give are guessed")
    opset = max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), default=13)
    r = _Reader(inferred.graph, opset)
    _collect(r)
    inputs: dict[str, Input] = {}
    for inp in r.graph.input:
        if inp.name in init_names:
            continue
        shape = tuple(d or 1 for d in (r.shapes.get(inp.name) or ()))
        elem = inp.type.tensor_type.elem_type if inp.type.HasField("tensor_type") else 1
        inputs[inp.name] = Input(inp.name, shape, integer=elem in _INTEGER_TYPES)
    _walk(r)
    _fold_recurrent(r)
    for piece in r.pieces:
        _check(r, piece)
    hierarchy = _hierarchy(r)
    root_kind = "Model"
    if hierarchy is not None:
        root_kind = hierarchy or "Model"
    trace = _build(r, inputs, label if name is None else name, root_kind, notes)
    for param, size in resolved.items():
        if dims is None or param not in dims:
            notes.append(f"the dynamic axis '{param}' is taken as {size}")
    if _bn_folded(r, proto):
        notes.append(FOLDED_NOTE)
    return trace


def _collect(r: _Reader) -> None:
    """Shapes of every value, initializers, constants and who reads what."""
    from onnx import numpy_helper

    g = r.graph
    for vi in [*g.input, *g.value_info, *g.output]:
        dims = _dims_of(vi)
        if dims is not None:
            r.shapes[vi.name] = dims
    for init in g.initializer:
        r.inits[init.name] = init
        r.shapes[init.name] = tuple(int(d) for d in init.dims)
        r.static.add(init.name)
        size = math.prod(int(d) for d in init.dims)
        if init.data_type in _FLOAT_TYPES and size > 1:
            r.carry[init.name] = [init.name]
        if size <= 64 and init.data_location != 1:
            try:
                r.consts[init.name] = numpy_helper.to_array(init)
            except Exception:
                pass
    for node in g.node:
        for name in node.input:
            if name:
                r.consumers.setdefault(name, []).append(node)
    r.outputs = {o.name for o in g.output}


def _data_positions(node: Any) -> list[int]:
    control = _CONTROL.get(node.op_type, ())
    return [i for i, name in enumerate(node.input) if name and i not in control]


def _walk(r: _Reader) -> None:
    """Turn every node that computes on the model's inputs into a piece."""
    from onnx import numpy_helper

    for index, node in enumerate(r.graph.node):
        if index in r.skip:
            continue
        ins = [r.resolve(i) if i else "" for i in node.input]
        if node.op_type == "Identity" and ins and ins[0]:
            r.alias[node.output[0]] = ins[0]
            continue
        if node.op_type in _STATIC_OPS or all(r.is_static(i) for i in ins):
            carried: list[str] = []
            for pos in _data_positions(node):
                carried += [p for p in r.params_of(ins[pos]) if p not in carried]
            for out in node.output:
                r.static.add(out)
                if carried and node.op_type not in ("Shape", "Size"):
                    r.carry[out] = carried
            if node.op_type == "Constant":
                tensor = _attr(node, "value")
                if tensor is not None:
                    try:
                        r.consts[node.output[0]] = numpy_helper.to_array(tensor)
                    except Exception:
                        pass
                    r.shapes.setdefault(node.output[0], tuple(int(d) for d in tensor.dims))
            return_value = _fold_constant(r, node)
            if return_value is not None:
                r.consts[node.output[0]] = return_value
            continue
        chain = _chain(r, node)
        try:
            made = _map(r, node, ins, chain, index)
        except _Custom:
            made = None
        if made == "pass":
            dynamic = next(i for i in ins if not r.is_static(i))
            if r.shape(node.output[0]) == r.shape(dynamic):
                r.alias[node.output[0]] = dynamic
                continue
            made = None
        if made is None:
            _custom(r, node, ins, chain)
        _extra_outputs(r, node, chain)


def _fold_constant(r: _Reader, node: Any) -> Any:
    """Values of the few static nodes whose results later nodes need (Clip bounds, axes)."""
    if node.op_type in ("Cast", "Unsqueeze", "Squeeze", "Reshape") and node.input:
        return r.value(node.input[0])
    return None


def _custom(r: _Reader, node: Any, ins: list[str], chain: list[str]) -> _Piece:
    used: list[str] = []
    data: list[str] = []
    for pos in _data_positions(node):
        name = ins[pos]
        if r.is_static(name):
            used += [p for p in r.params_of(name) if p not in used]
        elif name not in data:
            data.append(name)
    return _add(r, node, "custom", {}, data, used, chain)


def _add(
    r: _Reader,
    node: Any,
    op: str,
    attrs: dict[str, Value],
    inputs: list[str],
    used: list[str],
    chain: list[str],
    output: str | None = None,
    weight: str | None = None,
) -> _Piece:
    out = output or node.output[0]
    piece = _Piece(
        op,
        attrs,
        inputs,
        out,
        r.shapes.get(out) or (),
        used,
        node,
        node.op_type,
        node.name or f"{node.op_type}:{node.output[0]}",
        chain,
        weight,
    )
    r.pieces.append(piece)
    return piece


def _extra_outputs(r: _Reader, node: Any, chain: list[str]) -> None:
    """Second and later outputs that something reads (an LSTM's last state, pooling indices)."""
    if node.op_type == "Split":
        return
    for out in node.output[1:]:
        if out and (out in r.consumers or out in r.outputs):
            piece = _add(r, node, "custom", {}, [node.output[0]], [], chain, output=out)
            piece.path += f":{out}"


def _material(r: _Reader, node: Any, name: str, chain: list[str]) -> str:
    """A static operand holding weights, made into a ``parameter`` layer; returns its value."""
    shape = r.known(name)
    used = r.params_of(name)
    out = r.fresh(name)
    values = sum(_size(r, u) for u in used)
    if shape is None and len(used) == 1:
        shape = tuple(int(d) for d in r.inits[used[0]].dims)
    if shape is not None:
        declared = shape if shape and math.prod(shape[1:]) == values else (1, *shape)
        batch = (r.known(node.output[0]) or (0,))[:1]
        if (
            declared[:1] == (1,)
            and batch
            and batch[0] > 1
            and len(declared) == len(r.shape(node.output[0]) or ())
        ):
            declared = (batch[0], *declared[1:])  # one copy, shared over the batch
        r.shapes[out] = declared
        piece = _add(r, node, "parameter", {"shape": list(declared)}, [], used, chain, output=out)
    else:
        piece = _add(r, node, "custom", {}, [], used, chain, output=out)
    piece.origin = "initializer"
    piece.path = name
    return out


def _map(r: _Reader, node: Any, ins: list[str], chain: list[str], index: int) -> _Piece | str | None:
    """The archdraw op for one node; "pass" for nodes that change nothing drawn."""
    op = node.op_type
    out = node.output[0]
    shape = r.shape(out) or ()
    rank = len(shape)
    x = ins[0] if ins else ""
    if op in ("Conv", "ConvTranspose"):
        return _conv(r, node, ins, chain)
    if op == "Gemm":
        return _gemm(r, node, ins, chain)
    if op == "MatMul":
        return _matmul(r, node, ins, chain, index)
    if op in ("Add", "Sub", "Mul", "Div"):
        return _binary(r, node, ins, chain)
    if op == "BatchNormalization":
        attrs = _eps(node)
        return _add(r, node, "batchnorm", attrs, [x], r.params_of(ins[1]) + r.params_of(ins[2]), chain)
    if op in ("LayerNormalization", "InstanceNormalization", "GroupNormalization"):
        if op == "LayerNormalization":
            axis = int(_attr(node, "axis", -1))
            if axis not in (-1, rank - 1):
                raise _Custom
        used = [p for i in ins[1:3] for p in r.params_of(i)]
        attrs = _eps(node)
        kind = {"LayerNormalization": "layernorm", "InstanceNormalization": "instancenorm"}.get(
            op, "groupnorm"
        )
        if kind == "instancenorm":
            attrs["affine"] = True
        if kind == "groupnorm":
            attrs["groups"] = int(_attr(node, "num_groups", 1))
        return _add(r, node, kind, attrs, [x], used, chain)
    if op == "LRN":
        attrs = {"size": int(_attr(node, "size", 5))}
        for key, spelled, default in (("alpha", "alpha", 1e-4), ("beta", "beta", 0.75), ("bias", "k", 1.0)):
            value = float(_attr(node, key, default))
            attrs[spelled] = float(f"{value:.6g}")
        return _add(r, node, "lrn", attrs, [x], [], chain)
    if op in _ACTIVATIONS:
        attrs = {}
        if op in ("Softmax", "LogSoftmax"):
            axis = int(_attr(node, "axis", -1 if r.opset >= 13 else 1))
            attrs["axis"] = -1 if axis in (-1, rank - 1) else axis % max(rank, 1)
            if r.opset < 13 and attrs["axis"] != -1:
                raise _Custom
        return _add(r, node, _ACTIVATIONS[op], attrs, [x], [], chain)
    if op == "LeakyRelu":
        slope = float(f"{float(_attr(node, 'alpha', 0.01)):.6g}")
        return _add(r, node, "leaky_relu", {} if slope == 0.01 else {"slope": slope}, [x], [], chain)
    if op == "HardSigmoid":
        alpha, beta = float(_attr(node, "alpha", 0.2)), float(_attr(node, "beta", 0.5))
        if abs(alpha - 1 / 6) > 1e-4 or abs(beta - 0.5) > 1e-6:
            raise _Custom
        return _add(r, node, "hardsigmoid", {}, [x], [], chain)
    if op == "Clip":
        low = r.value(ins[1]) if len(ins) > 1 else _attr(node, "min")
        high = r.value(ins[2]) if len(ins) > 2 else _attr(node, "max")
        low_f = None if low is None else float(low)
        high_f = None if high is None else float(high)
        if low_f == 0.0 and high_f == 6.0:
            return _add(r, node, "relu6", {}, [x], [], chain)
        if low_f == 0.0 and (high_f is None or math.isinf(high_f)):
            return _add(r, node, "relu", {}, [x], [], chain)
        raise _Custom
    if op == "Dropout":
        ratio = r.value(ins[1]) if len(ins) > 1 else None
        rate = float(ratio) if ratio is not None else float(_attr(node, "ratio", 0.5))
        return _add(r, node, "dropout", {"rate": float(f"{rate:.6g}")}, [x], [], chain)
    if op == "Cast":
        return "pass"
    if op in ("MaxPool", "AveragePool", "LpPool"):
        return _pool(r, node, ins, chain)
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        if rank != 4:
            raise _Custom
        kind = "adaptive_avgpool2d" if op == "GlobalAveragePool" else "adaptive_maxpool2d"
        return _add(r, node, kind, {"size": [1, 1]}, [x], [], chain)
    if op in ("ReduceMean", "ReduceMax"):
        axes = _attr(node, "axes")
        if axes is None and len(ins) > 1:
            value = r.value(ins[1])
            axes = None if value is None else [int(a) for a in value.reshape(-1)]
        in_rank = len(r.shape(x) or ())
        if axes is None or in_rank != 4 or sorted(a % 4 for a in axes) != [2, 3]:
            raise _Custom
        mean = op == "ReduceMean"
        if int(_attr(node, "keepdims", 1)):
            kind = "adaptive_avgpool2d" if mean else "adaptive_maxpool2d"
            return _add(r, node, kind, {"size": [1, 1]}, [x], [], chain)
        return _add(r, node, "global_avgpool" if mean else "global_maxpool", {}, [x], [], chain)
    if op == "Concat":
        parts: list[str] = []
        for name in ins:
            if r.is_static(name):
                if not r.params_of(name):
                    raise _Custom
                parts.append(_material(r, node, name, chain))
            else:
                parts.append(name)
        axis = int(_attr(node, "axis", 1))
        return _add(r, node, "concat", {"axis": axis}, parts, [], chain)
    if op == "Flatten":
        axis = int(_attr(node, "axis", 1))
        in_rank = len(r.shape(x) or ())
        start = axis % in_rank if in_rank else axis
        if start == 0:
            return _reshape(r, node, x, chain)
        return _add(r, node, "flatten", {"start": start}, [x], [], chain)
    if op in ("Reshape", "Squeeze", "Unsqueeze"):
        return _reshape(r, node, x, chain)
    if op == "Transpose":
        in_rank = len(r.shape(x) or ())
        perm = [int(p) for p in _attr(node, "perm", list(range(in_rank))[::-1])]
        return _add(r, node, "permute", {"axes": perm}, [x], [], chain)
    if op == "Gather":
        table = r.known(ins[0])
        if r.is_static(ins[0]) and r.params_of(ins[0]) and table and len(table) == 2:
            if int(_attr(node, "axis", 0)) == 0 and not r.is_static(ins[1]):
                table_attrs: dict[str, Value] = {"vocab": table[0], "dim": table[1]}
                return _add(
                    r, node, "embedding", table_attrs, [ins[1]], r.params_of(ins[0]), chain, weight=ins[0]
                )
        raise _Custom
    if op in ("LSTM", "GRU", "RNN"):
        return _recurrent(r, node, ins, chain)
    if op == "Split":
        return _split(r, node, ins, chain)
    if op == "Slice":
        return _slice(r, node, ins, chain)
    if op in ("Resize", "Upsample"):
        return _resize(r, node, ins, chain)
    raise _Custom


def _eps(node: Any) -> dict[str, Value]:
    eps = float(f"{float(_attr(node, 'epsilon', 1e-5)):.6g}")
    return {} if eps == 1e-5 else {"eps": eps}


def _reshape(r: _Reader, node: Any, x: str, chain: list[str]) -> _Piece:
    shape = r.known(node.output[0])
    if shape is None:
        raise _Custom
    return _add(r, node, "reshape", {"shape": list(shape)}, [x], [], chain)


def _conv(r: _Reader, node: Any, ins: list[str], chain: list[str]) -> _Piece:
    w = r.known(ins[1]) if len(ins) > 1 else None
    if w is None or not r.is_static(ins[1]) or r.is_static(ins[0]):
        raise _Custom
    dims = len(w) - 2
    transpose = node.op_type == "ConvTranspose"
    if dims not in ((2,) if transpose else (1, 2, 3)):
        raise _Custom
    groups = int(_attr(node, "group", 1))
    kernel = [int(k) for k in _attr(node, "kernel_shape", list(w[2:]))]
    attrs: dict[str, Value] = {
        "channels": w[1] * groups if transpose else w[0],
        "kernel": _one(kernel),
        "stride": _one(_attr(node, "strides", [1] * dims)),
        "padding": _pads(node, dims),
    }
    dilation = _one(_attr(node, "dilations", [1] * dims))
    if dilation != 1:
        attrs["dilation"] = dilation
    if groups != 1:
        attrs["groups"] = groups
    has_bias = len(ins) > 2 and bool(ins[2])
    attrs["bias"] = has_bias
    if transpose:
        if _attr(node, "output_shape") is not None or attrs["padding"] in ("same", "valid"):
            raise _Custom
        extra = _one(_attr(node, "output_padding", [0] * dims))
        if extra != 0:
            attrs["output_padding"] = extra
    used = r.params_of(ins[1]) + (r.params_of(ins[2]) if has_bias else [])
    op = "conv_transpose2d" if transpose else f"conv{dims}d"
    return _add(r, node, op, attrs, [ins[0]], used, [*chain], weight=ins[1])


def _gemm(r: _Reader, node: Any, ins: list[str], chain: list[str]) -> _Piece:
    b = r.known(ins[1])
    if int(_attr(node, "transA", 0)) or b is None or len(b) != 2 or r.is_static(ins[0]):
        raise _Custom
    trans_b = int(_attr(node, "transB", 0))
    if not r.is_static(ins[1]):
        if trans_b or (len(ins) > 2 and ins[2]):
            raise _Custom
        return _add(r, node, "matmul", {}, [ins[0], ins[1]], [], chain)
    units = b[0] if trans_b else b[1]
    bias = r.params_of(ins[2]) if len(ins) > 2 and ins[2] else []
    used = r.params_of(ins[1]) + bias
    return _add(r, node, "dense", {"units": units, "bias": bool(bias)}, [ins[0]], used, chain, weight=ins[1])


def _matmul(r: _Reader, node: Any, ins: list[str], chain: list[str], index: int) -> _Piece:
    a, b = ins[0], ins[1]
    if r.is_static(a):
        raise _Custom
    if not r.is_static(b):
        return _add(r, node, "matmul", {}, [a, b], [], chain)
    w = r.known(b)
    if w is None or len(w) != 2 or not r.params_of(b):
        raise _Custom
    units = w[1]
    used = r.params_of(b)
    out = node.output[0]
    readers = r.consumers.get(out, [])
    if len(readers) == 1 and out not in r.outputs and readers[0].op_type == "Add":
        add = readers[0]
        other = [r.resolve(i) for i in add.input if r.resolve(i) != out]
        if len(other) == 1 and r.is_static(other[0]) and r.params_of(other[0]):
            bshape = r.known(other[0]) or ()
            if [d for d in bshape if d != 1] == [units] or bshape == (units,):
                nodes = list(r.graph.node)
                r.skip.add(nodes.index(add, index))
                attrs: dict[str, Value] = {"units": units, "bias": True}
                piece = _add(
                    r, node, "dense", attrs, [a], used + r.params_of(other[0]), chain, add.output[0], b
                )
                return piece
    return _add(r, node, "dense", {"units": units, "bias": False}, [a], used, chain, weight=b)


def _binary(r: _Reader, node: Any, ins: list[str], chain: list[str]) -> _Piece | str:
    op = node.op_type
    spelled = {"Add": "add", "Sub": "sub", "Mul": "mul"}.get(op)
    statics = [i for i in ins if r.is_static(i)]
    if not statics:
        if spelled is None:
            raise _Custom
        return _add(r, node, spelled, {}, list(ins), [], chain)
    dynamic = next(i for i in ins if not r.is_static(i))
    const = statics[0]
    if not r.params_of(const):
        return "pass"
    if spelled is None:
        raise _Custom
    xshape = r.known(dynamic)
    cshape = r.known(const)
    if op == "Mul" and xshape and cshape and r.known(node.output[0]) == xshape and len(cshape) <= len(xshape):
        aligned = (1,) * (len(xshape) - len(cshape)) + cshape
        axes = [i for i, d in enumerate(aligned) if d != 1]
        if len(axes) == 1 and aligned[axes[0]] == xshape[axes[0]]:
            axis = -1 if axes[0] == len(xshape) - 1 else axes[0]
            return _add(r, node, "layer_scale", {"axis": axis}, [dynamic], r.params_of(const), chain)
    parts = [_material(r, node, i, chain) if r.is_static(i) else i for i in ins]
    return _add(r, node, spelled, {}, parts, [], chain)


def _pool(r: _Reader, node: Any, ins: list[str], chain: list[str]) -> _Piece:
    kernel = [int(k) for k in _attr(node, "kernel_shape", [])]
    dims = len(kernel)
    if node.op_type == "LpPool" or dims not in (1, 2, 3):
        raise _Custom
    if any(int(d) != 1 for d in _attr(node, "dilations", [1] * dims)):
        raise _Custom
    kind = "maxpool" if node.op_type == "MaxPool" else "avgpool"
    attrs: dict[str, Value] = {
        "kernel": _one(kernel),
        "stride": _one(_attr(node, "strides", [1] * dims)),
        "padding": _pads(node, dims),
    }
    if int(_attr(node, "ceil_mode", 0)):
        attrs["ceil_mode"] = True
    return _add(r, node, f"{kind}{dims}d", attrs, [ins[0]], [], chain)


def _recurrent(r: _Reader, node: Any, ins: list[str], chain: list[str]) -> _Piece:
    op = node.op_type
    w = r.known(ins[1])
    if w is None or not r.is_static(ins[1]) or not r.is_static(ins[2]):
        raise _Custom
    acts = [a.lower() for a in (_attr(node, "activations") or [])]
    defaults = {"LSTM": ["sigmoid", "tanh", "tanh"], "GRU": ["sigmoid", "tanh"], "RNN": ["tanh"]}[op]
    directions = 2 if _attr(node, "direction", "forward") == "bidirectional" else 1
    attrs: dict[str, Value] = {
        "units": int(_attr(node, "hidden_size", w[1])),
        "bidirectional": directions == 2,
        "batch_first": bool(int(_attr(node, "layout", 0))),
    }
    if op == "RNN" and acts[:1] in (["relu"],):
        attrs["act"] = "relu"
    elif acts and acts != defaults * directions and acts != defaults:
        raise _Custom
    if _attr(node, "direction", "forward") == "reverse":
        raise _Custom
    has_bias = len(ins) > 3 and bool(ins[3])
    if not has_bias:
        attrs["bias"] = False
    used = [p for i in (1, 2, 3, 7) if i < len(ins) and ins[i] for p in r.params_of(ins[i])]
    data = [ins[0]] + [i for i in ins[5:7] if i and not r.is_static(i)]
    return _add(r, node, op.lower(), attrs, data, used, chain)


def _split(r: _Reader, node: Any, ins: list[str], chain: list[str]) -> _Piece:
    shape = r.known(ins[0])
    parts = len(node.output)
    axis = int(_attr(node, "axis", 0))
    outs = [r.known(o) for o in node.output]
    if shape is None or any(o is None or o != outs[0] for o in outs):
        raise _Custom
    first: _Piece | None = None
    for i, out in enumerate(node.output):
        attrs: dict[str, Value] = {"parts": parts, "index": i, "axis": axis}
        piece = _add(r, node, "split", attrs, [ins[0]], [], chain, output=out)
        if i:
            piece.path += f":{i}"
        first = first or piece
    assert first is not None
    return first


def _slice(r: _Reader, node: Any, ins: list[str], chain: list[str]) -> _Piece:
    values = [r.value(i) if i else None for i in ins[1:5]]
    starts, ends = values[0], values[1]
    if starts is None or ends is None or starts.size != 1 or ends.size != 1:
        raise _Custom
    axes = values[2] if len(values) > 2 else None
    steps = values[3] if len(values) > 3 else None
    if steps is not None and int(steps.reshape(-1)[0]) != 1:
        raise _Custom
    axis = int(axes.reshape(-1)[0]) if axes is not None else 0
    start, stop = int(starts.reshape(-1)[0]), int(ends.reshape(-1)[0])
    attrs: dict[str, Value] = {"axis": axis, "start": start}
    length = (r.known(ins[0]) or (0,) * (axis + 1))[axis]
    if stop < length:
        attrs["stop"] = stop
    return _add(r, node, "slice", attrs, [ins[0]], [], chain)


def _resize(r: _Reader, node: Any, ins: list[str], chain: list[str]) -> _Piece:
    a, b = r.known(ins[0]), r.known(node.output[0])
    mode = str(_attr(node, "mode", "nearest"))
    if a is None or b is None or len(a) != len(b) or len(a) < 3 or a[:2] != b[:2]:
        raise _Custom
    if any(y % x for x, y in zip(a[2:], b[2:], strict=True)):
        raise _Custom
    attrs: dict[str, Value] = {"scale": _one([y // x for x, y in zip(a[2:], b[2:], strict=True)])}
    if mode == "linear" and len(a) == 4:
        attrs["mode"] = "bilinear"
    elif mode != "nearest":
        raise _Custom
    return _add(r, node, "upsample", attrs, [ins[0]], [], chain)


# -- recurrent outputs, checks ----------------------------------------------------------------


def _readers(r: _Reader) -> dict[str, list[_Piece]]:
    readers: dict[str, list[_Piece]] = {}
    for piece in r.pieces:
        if piece.absorbed:
            continue
        for name in piece.inputs:
            readers.setdefault(name, []).append(piece)
    return readers


def _sole(r: _Reader, readers: dict[str, list[_Piece]], value: str) -> _Piece | None:
    found = readers.get(value, [])
    if len(found) != 1 or value in r.outputs:
        return None
    return found[0]


def _fold_recurrent(r: _Reader) -> None:
    """ONNX's ``[T, directions, N, H]`` recurrent output, reshaped back: one archdraw layer.

    The reshapes after an LSTM (and the transposes around it for a batch-first model) are
    folded into it when, after them, the shape is the one archdraw's op gives.
    """
    readers = _readers(r)
    producer = {p.output: p for p in r.pieces}
    for piece in list(r.pieces):
        if piece.op not in ("lstm", "gru", "rnn") or len(piece.inputs) != 1:
            continue
        x = r.known(piece.inputs[0])
        if x is None or len(x) != 3:
            continue
        attrs = dict(piece.attrs)
        first = bool(attrs.get("batch_first"))
        units = int(attrs["units"])  # type: ignore[arg-type]
        wide = units * (2 if attrs.get("bidirectional") else 1)
        want = (x[0], x[1], wide)
        chain: list[_Piece] = []
        value = piece.output
        matched = r.known(value) == want
        while not matched:
            nxt = _sole(r, readers, value)
            if nxt is None or nxt.op not in ("reshape", "permute"):
                break
            chain.append(nxt)
            value = nxt.output
            matched = r.known(value) == want
        if not matched:
            continue
        for p in chain:
            p.absorbed = True
        piece.output, piece.shape = value, r.shapes.get(value, ())
        r.alias.update({p.output: value for p in chain if p.output != value})
        # A batch-first model: a transpose into the recurrent layer and one out of it.
        before = producer.get(piece.inputs[0])
        after = _sole(r, readers, value)
        if not first and before is not None and after is not None:
            swap = {"axes": [1, 0, 2]}
            if before.attrs == swap and after.attrs == swap and before.op == after.op == "permute":
                if len(readers.get(before.output, [])) == 1 and before.output not in r.outputs:
                    before.absorbed = after.absorbed = True
                    piece.inputs = list(before.inputs)
                    piece.attrs["batch_first"] = True
                    piece.output, piece.shape = after.output, after.shape
        readers = _readers(r)


def _check(r: _Reader, piece: _Piece) -> None:
    """A piece whose op does not give its shape and parameters becomes a custom box."""
    if piece.absorbed or piece.op == "custom":
        return
    shapes = [r.known(i) for i in piece.inputs]
    used = sum(_size(r, p) for p in dict.fromkeys(piece.used))
    if any(s is None for s in shapes) or not _fits(
        piece.op, piece.attrs, [s for s in shapes if s is not None], piece.shape, used
    ):
        piece.op, piece.attrs = "custom", {}


def _size(r: _Reader, name: str) -> int:
    init = r.inits.get(name)
    return 0 if init is None else math.prod(int(d) for d in init.dims)


# -- hierarchy --------------------------------------------------------------------------------


def _chain(r: _Reader, node: Any) -> list[str]:
    """The module paths a node sits in, outermost first (empty when the export says nothing)."""
    meta = {p.key: p.value for p in node.metadata_props}
    scopes = meta.get("pkg.torch.onnx.name_scopes")
    if scopes is not None:
        names = _literal_list(scopes)
        classes = _literal_list(meta.get("pkg.torch.onnx.class_hierarchy", "[]"))
        if classes:
            r.modules.setdefault("", _Module("", classes[0]))
        found = list(zip(names, classes + [""] * len(names), strict=False))[1:-1]
        paths: list[str] = []
        for path, cls in found:
            if not path:
                continue
            module = r.modules.setdefault(path, _Module(path))
            module.cls = module.cls or cls or None
            paths.append(path)
        return _rehome(r, node, paths)
    name = node.name or ""
    if not name.startswith("/") or name.count("/") < 2:
        return []
    parts = [p for p in name.split("/")[1:-1] if p]
    paths = []
    full, local = "", ""
    for part in parts:
        if "." in part and local and part.startswith(local + "."):
            full = full + part[len(local) :]
        else:
            full = f"{full}.{part}" if full else part
        local = part
        r.modules.setdefault(full, _Module(full))
        paths.append(full)
    return paths


def _literal_list(text: str) -> list[str]:
    import ast

    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _rehome(r: _Reader, node: Any, paths: list[str]) -> list[str]:
    """A convolution the exporter fused with the batch norm after it is named for that norm.

    Its weight still carries the convolution's module path (``layer1.0.conv1.weight``): it is
    put back in that module.
    """
    if not paths or node.op_type not in ("Conv", "ConvTranspose", "Gemm", "MatMul"):
        return paths
    cls = r.modules[paths[-1]].cls or ""
    if "BatchNorm" not in cls or len(node.input) < 2:
        return paths
    weight = r.resolve(node.input[1])
    if not weight.endswith(".weight"):
        return paths
    module = weight[: -len(".weight")]
    parent = paths[-1].rsplit(".", 1)[0] if "." in paths[-1] else ""
    if (module.rsplit(".", 1)[0] if "." in module else "") != parent:
        return paths
    r.modules.setdefault(module, _Module(module))
    return [*paths[:-1], module]


def _hierarchy(r: _Reader) -> str | None:
    """The root's class when the exporter recorded one."""
    root = r.modules.get("")
    return _short(root.cls) if root is not None and root.cls else None


def _bn_folded(r: _Reader, proto: Any) -> bool:
    nodes = list(r.graph.node)
    if any(n.op_type == "BatchNormalization" for n in nodes):
        return False
    for n in nodes:
        for p in n.metadata_props:
            if p.key == "pkg.torch.onnx.class_hierarchy" and "BatchNorm" in p.value:
                return True
            if p.key == "pkg.onnxscript.rewriter.rule_name" and "FuseBatchNorm" in p.value:
                return True
    if proto.producer_name != "pytorch":
        return False
    return any(
        n.op_type == "Conv" and len(n.input) > 2 and r.resolve(n.input[1]).startswith("onnx::Conv")
        for n in nodes
    )


# -- building the trace -----------------------------------------------------------------------


@dataclass(eq=False)
class _Group:
    """Pieces that become one layer (or one scope, when they cannot)."""

    pieces: list[_Piece]
    scopes: list[str]
    leaf: str | None


def _groups(r: _Reader) -> list[_Group]:
    live = [p for p in r.pieces if not p.absorbed]
    every = set(r.modules)
    parents = {path.rsplit(".", 1)[0] for path in every if "." in path} | {
        prefix for path in every for prefix in _prefixes(path)[:-1]
    }
    groups: list[_Group] = []
    for piece in live:
        chain = _full(piece.chain)
        leaf = chain[-1] if chain and chain[-1] not in parents else None
        scopes = chain[:-1] if leaf else chain
        last = groups[-1] if groups else None
        if leaf is not None and last is not None and last.leaf == leaf and last.scopes == scopes:
            last.pieces.append(piece)
        else:
            groups.append(_Group([piece], scopes, leaf))
    return groups


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _full(chain: list[str]) -> list[str]:
    """Every module on the way to the innermost, ModuleList parents included."""
    if not chain:
        return []
    return _prefixes(chain[-1])


def _build(r: _Reader, inputs: dict[str, Input], name: str, root_kind: str, notes: list[str]) -> Trace:
    root = Scope("", root_kind, "")
    objects: dict[str, Input | Layer] = dict(inputs)
    owner: dict[str, Layer] = {}
    stack: list[Scope] = [root]
    names: dict[int, set[str]] = {}
    unknown = 0
    readers = _readers(r)

    def obj(value: str) -> Input | Layer | None:
        return objects.get(r.resolve(value))

    def place(scopes: list[str]) -> Scope:
        while len(stack) > 1 and not (
            len(stack) - 1 <= len(scopes) and [s.path for s in stack[1:]] == scopes[: len(stack) - 1]
        ):
            stack.pop()
        for path in scopes[len(stack) - 1 :]:
            scope = _scope(r, path, stack[-1])
            scope.name = _unique(names, stack[-1], scope.name)
            stack[-1].items.append(scope)
            stack.append(scope)
        return stack[-1]

    def layer(piece: _Piece, scope: Scope, local: str | None, op: str, attrs: dict[str, Value]) -> Layer:
        return make(
            [piece],
            scope,
            local,
            op,
            attrs,
            piece.inputs,
            piece.output,
            piece.path,
            piece.origin,
            piece.weight,
        )

    def make(
        pieces: list[_Piece],
        scope: Scope,
        local: str | None,
        op: str,
        attrs: dict[str, Value],
        ins: list[str],
        out: str,
        path: str,
        origin: str,
        weight: str | None,
    ) -> Layer:
        nonlocal unknown
        shape = r.shapes.get(out) or pieces[-1].shape
        if any(d is None for d in shape) or not shape:
            unknown += 1
            op, attrs = "custom", {}
        dims = tuple(d or 1 for d in shape) or (1,)
        base = local if local is not None else (op if op != "custom" else origin.lower())
        label = _unique(names, scope, base)
        sources = [o for o in (obj(i) for i in ins) if o is not None]
        # the label is the module path where the export kept one; a node of no module (an Add
        # between two) has none; a file with no hierarchy keeps its node names
        if local is not None:
            path = f"{scope.path}.{local}" if scope.path else local
        elif scope.path or r.modules:
            path = ""
        lay = Layer(label, op, attrs, sources, dims, 0, path, origin)
        for p in pieces:
            for init in dict.fromkeys(p.used):
                if init in owner:
                    if init == weight and op in _TIEABLE and owner[init].op in _TIEABLE:
                        lay.tied = owner[init]
                    continue
                owner[init] = lay
                lay.params += _size(r, init)
            objects[p.output] = lay
        scope.items.append(lay)
        return lay

    for group in _groups(r):
        if group.leaf is None:
            scope = place(group.scopes)
            for piece in group.pieces:
                layer(piece, scope, None, piece.op, piece.attrs)
            continue
        local = group.leaf.rsplit(".", 1)[-1]
        if len(group.pieces) == 1:
            piece = group.pieces[0]
            layer(piece, place(group.scopes), local, piece.op, piece.attrs)
            continue
        collapsed = _collapse(r, group, readers)
        if collapsed is None:
            scope = place([*group.scopes, group.leaf])
            for piece in group.pieces:
                layer(piece, scope, None, piece.op, piece.attrs)
            continue
        op, attrs, ins, out, core = collapsed
        module = r.modules.get(group.leaf)
        origin = (
            core.origin if op != "custom" else _short(module.cls) if module and module.cls else core.origin
        )
        make(group.pieces, place(group.scopes), local, op, attrs, ins, out, core.path, origin, core.weight)
    outputs = [o for o in (obj(v.name) for v in r.graph.output) if o is not None]
    trace = Trace(name, "ONNX", list(inputs.values()), root, outputs, 0, notes)
    trace.params = sum(lay.params for lay in trace.layers())
    weights = {n for n, init in r.inits.items() if init.name in r.carry}
    controls = {
        r.resolve(n.input[i]) for n in r.graph.node for i in _CONTROL.get(n.op_type, ()) if i < len(n.input)
    }
    stranded = sorted(weights - set(owner) - controls)
    if stranded:
        total = sum(_size(r, n) for n in stranded)
        notes.append(
            f"{len(stranded)} initializer(s) with {total:,} values are used by no layer and are not counted"
        )
    shared = _shared(r)
    if shared:
        notes.append(
            f"{shared} initializer(s) are read by more than one layer (the exporter merges equal tensors, "
            "or the weights are tied); each is counted once, at the first layer that reads it"
        )
    if unknown:
        notes.append(f"{unknown} layer(s) have shapes ONNX shape inference could not give (taken as 1)")
    return trace


_TIEABLE = frozenset({"dense", "embedding", "conv1d", "conv2d", "conv3d", "conv_transpose2d"})


def _shared(r: _Reader) -> int:
    seen: dict[str, int] = {}
    for piece in r.pieces:
        if piece.absorbed:
            continue
        for init in dict.fromkeys(piece.used):
            seen[init] = seen.get(init, 0) + 1
    return sum(1 for count in seen.values() if count > 1)


def _unique(names: dict[int, set[str]], scope: Scope, base: str) -> str:
    taken = names.setdefault(id(scope), set())
    label, n = base, 0
    while label in taken:
        n += 1
        label = f"{base}_{n}"
    taken.add(label)
    return label


def _scope(r: _Reader, path: str, parent: Scope) -> Scope:
    local = path.rsplit(".", 1)[-1]
    module = r.modules.get(path)
    if module is not None and module.cls:
        kind = _short(module.cls)
        return Scope(local, kind, path, generic=kind in _GENERIC)
    # Without classes (the TorchScript exporter), the items of one list (layer1.0, layer1.1, …)
    # are taken to be of one kind, as they usually are; any other scope is its own kind.
    if local.isdigit():
        return Scope(local, _stem(parent.name) or parent.kind or "Module", path, generic=False)
    return Scope(local, local or "Module", path, generic=True)


def _collapse(
    r: _Reader, group: _Group, readers: dict[str, list[_Piece]]
) -> tuple[str, dict[str, Value], list[str], str, _Piece] | None:
    """One layer for the several pieces of a leaf module, or None when it has several outputs."""
    made = {p.output for p in group.pieces}
    inside = set(map(id, group.pieces))
    ins: list[str] = []
    for p in group.pieces:
        for i in p.inputs:
            if r.resolve(i) not in made and i not in ins:
                ins.append(i)
    outs = [
        p.output
        for p in group.pieces
        if p.output in r.outputs or any(id(q) not in inside for q in readers.get(p.output, []))
    ]
    if len(outs) != 1:
        return None
    out = outs[0]
    shape = r.shapes.get(out) or ()
    used = sum(_size(r, n) for n in dict.fromkeys(u for p in group.pieces for u in p.used))
    shapes = [r.known(i) for i in ins]
    known = [s for s in shapes if s is not None]
    cores = [p for p in group.pieces if p.used]
    core = cores[0] if cores else group.pieces[0]
    if len(known) == len(shapes):
        others = [p for p in group.pieces if p is not core]
        if len(cores) == 1 and all(p.op in _SHAPE_OPS for p in others):
            tries = [dict(core.attrs)]
            if core.op in ("lstm", "gru", "rnn"):
                tries += [{**core.attrs, "batch_first": not core.attrs.get("batch_first")}]
            for attrs in tries:
                if _fits(core.op, attrs, known, shape, used):
                    return core.op, attrs, ins, out, core
        if len(cores) > 1 and all(p.op == core.op for p in cores) and core.op in ("lstm", "gru", "rnn"):
            # a stacked recurrent module: the export writes one node per layer, with reshapes
            same = all(
                p.attrs.get(k) == core.attrs.get(k)
                for p in cores
                for k in ("units", "bidirectional", "bias", "act")
            )
            others = [p for p in group.pieces if p not in cores]
            if same and all(p.op in _SHAPE_OPS for p in others):
                # transposes into the stack mean the module was batch-first
                swapped = any(p.op == "permute" and p.attrs.get("axes") == [1, 0, 2] for p in others)
                for first in (swapped, not swapped):
                    attrs = {**core.attrs, "num_layers": len(cores), "batch_first": first}
                    if _fits(core.op, attrs, known, shape, used):
                        return core.op, attrs, ins, out, core
        if cores and all(p.op == "dense" for p in cores) and any(p.op == "softmax" for p in group.pieces):
            heads = _heads(r, group, known)
            attrs = {"kind": "multi_head", "heads": heads}
            if _fits("attention", attrs, known, shape, used):
                return "attention", dict(attrs), ins, out, core
    return "custom", {}, ins, out, core


def _heads(r: _Reader, group: _Group, inputs: list[tuple[int, ...]]) -> int:
    """Attention heads, from the shape of the scores the softmax normalises."""
    for p in group.pieces:
        if p.op == "softmax":
            scores = r.known(p.output) or ()
            batch = inputs[0][0] if inputs and inputs[0] else 1
            if len(scores) == 4:
                return scores[1]
            if len(scores) == 3 and batch and scores[0] % batch == 0:
                return scores[0] // batch
    return 1
