"""Reads a PyTorch module by running it once: module hooks give the scopes, a function mode the data flow."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import ArchdrawError
from ..ops import OPS
from .trace import Input, Layer, Scope, Trace, Value

__all__ = ["ImportFailed", "require_torch", "trace_torch"]


class ImportFailed(ArchdrawError):
    """A model could not be read: a missing framework, a bad source, a forward pass that failed."""


# Containers whose instances share nothing but their class: only identical ones become one block.
_GENERIC = {"Sequential", "ModuleList", "ModuleDict"}


def require_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportFailed(
            "importing PyTorch models needs the 'torch' extra: pip install 'archdraw-nn[torch]'"
        ) from None
    return torch


def _ints(values: Any) -> int | list[int]:
    """A kernel, stride or padding as a spec writes it: one integer when all are equal."""
    if isinstance(values, int):
        return values
    items = [int(v) for v in values]
    return items[0] if len(set(items)) == 1 else items


def _numel(shape: Sequence[int]) -> int:
    return math.prod(int(s) for s in shape)


_ACTIVATIONS = {
    "ReLU": "relu",
    "ReLU6": "relu6",
    "GELU": "gelu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "SiLU": "swish",
    "Hardswish": "hardswish",
    "Hardsigmoid": "hardsigmoid",
    "ELU": "elu",
    "Softplus": "softplus",
    "Mish": "",
}

# Hugging Face's activation modules, each one function (``transformers.activations``)
_HF_ACTIVATIONS = {
    "GELUActivation": "gelu",
    "NewGELUActivation": "gelu",
    "FastGELUActivation": "gelu",
    "GELUTanh": "gelu",
    "PytorchGELUTanh": "gelu",
    "SiLUActivation": "swish",
}

_FUNCTION_ACTIVATIONS = {
    "relu": "relu",
    "relu_": "relu",
    "relu6": "relu6",
    "gelu": "gelu",
    "sigmoid": "sigmoid",
    "sigmoid_": "sigmoid",
    "tanh": "tanh",
    "tanh_": "tanh",
    "silu": "swish",
    "hardswish": "hardswish",
    "hardsigmoid": "hardsigmoid",
    "elu": "elu",
    "softplus": "softplus",
}

# Calls that change nothing a diagram shows: the value passes through.
_PASS = {
    "contiguous",
    "clone",
    "detach",
    "to",
    "float",
    "half",
    "double",
    "type",
    "type_as",
    "requires_grad_",
    "cpu",
    "cuda",
    "alias",
    "identity",
}

# Element-wise arithmetic: with a constant it passes through; between two values it is a merge.
_ARITHMETIC = {
    "add": "add",
    "__add__": "add",
    "__iadd__": "add",
    "__radd__": "add",
    "add_": "add",
    "sub": "sub",
    "__sub__": "sub",
    "__isub__": "sub",
    "__rsub__": "sub",
    "sub_": "sub",
    "mul": "mul",
    "__mul__": "mul",
    "__imul__": "mul",
    "__rmul__": "mul",
    "mul_": "mul",
    "div": "",
    "__truediv__": "",
    "__itruediv__": "",
    "__rtruediv__": "",
    "div_": "",
    "pow": "",
    "__pow__": "",
    "neg": "",
    "__neg__": "",
}


class _Recorder:
    """The state of one forward pass: which value each tensor is, and the scopes open."""

    def __init__(self, torch: Any, root: Any) -> None:
        self.torch = torch
        self.values: dict[int, Input | Layer] = {}
        self.keep: list[Any] = []
        self.root = Scope("", type(root).__name__, "", generic=type(root).__name__ in _GENERIC)
        self.scopes: list[Scope] = [self.root]
        self.atomic: list[Any] = []
        self.paths = {id(m): p for p, m in root.named_modules(remove_duplicate=False)}
        self.params: dict[int, tuple[Any, str]] = {}
        for module_path, module in root.named_modules(remove_duplicate=False):
            for pname, p in module.named_parameters(recurse=False):
                self.params.setdefault(id(p), (p, f"{module_path}.{pname}".lstrip(".")))
        self.buffers: dict[int, str] = {}
        for bname, b in root.named_buffers(remove_duplicate=False):
            self.buffers.setdefault(id(b), bname)
        self.owner: dict[int, Layer] = {}
        self.names: dict[int, dict[str, int]] = {}
        self.calls: dict[int, int] = {}
        self.root_module = root
        self.depth = 0
        # second results (an LSTM's final state), drawn only where something reads them
        self.pending: dict[int, Layer] = {}

    # -- values ----------------------------------------------------------------------------------

    def bind(self, tensor: Any, value: Input | Layer) -> None:
        self.values[id(tensor)] = value
        self.keep.append(tensor)

    def value(self, tensor: Any) -> Input | Layer | None:
        """What a tensor is: an input, a layer's result, a learned tensor, a buffer, or a constant."""
        found = self.values.get(id(tensor))
        if found is not None:
            return found
        if id(tensor) in self.params:
            return self.parameter_layer(tensor)
        if id(tensor) in self.buffers:
            name = self.buffers[id(tensor)]
            layer = self.add(
                Layer(
                    self.unique(name.rsplit(".", 1)[-1]),
                    "custom",
                    {},
                    [],
                    tuple(tensor.shape),
                    0,
                    name,
                    "buffer",
                )
            )
            self.bind_layer(tensor, layer)
            return layer
        return None

    def parameter_layer(self, tensor: Any) -> Layer:
        """A learned tensor read as a value (a class token, a position table, a layer scale)."""
        _, path = self.params[id(tensor)]
        shape = tuple(int(s) for s in tensor.shape)
        if len(shape) >= 2 and shape[0] == 1:
            layer = Layer(
                self.unique(path.rsplit(".", 1)[-1]),
                "parameter",
                {"shape": list(shape)},
                [],
                shape,
                0,
                path,
                "Parameter",
            )
        else:
            layer = Layer(self.unique(path.rsplit(".", 1)[-1]), "custom", {}, [], shape, 0, path, "Parameter")
        layer.params = self.claim([tensor], layer)
        self.add(layer)
        self.bind(tensor, layer)
        return layer

    def claim(self, tensors: Sequence[Any], layer: Layer) -> int:
        """Make ``layer`` the owner of these parameters; what another layer owns already is tied."""
        count = 0
        for t in tensors:
            if t is None or id(t) not in self.params:
                continue
            holder = self.owner.get(id(t))
            if holder is None:
                self.owner[id(t)] = layer
                count += int(t.numel())
            elif holder is not layer:
                layer.tied = holder
        return count

    # -- scopes ----------------------------------------------------------------------------------

    def unique(self, name: str) -> str:
        """A name not yet used in the open scope: ``relu``, then ``relu_2`` for its second call."""
        used = self.names.setdefault(id(self.scopes[-1]), {})
        count = used.get(name, 0) + 1
        used[name] = count
        return name if count == 1 else f"{name}_{count}"

    def add(self, layer: Layer) -> Layer:
        self.scopes[-1].items.append(layer)
        return layer

    def bind_layer(self, tensor: Any, layer: Layer) -> None:
        """Bind a tensor to the layer that made it, noting whether it holds integers."""
        layer.integer = not tensor.dtype.is_floating_point and not tensor.dtype.is_complex
        self.bind(tensor, layer)

    def module_name(self, module: Any) -> tuple[str, str]:
        path = self.paths.get(id(module))
        if path is None:
            return type(module).__name__.lower(), type(module).__name__
        return path.rsplit(".", 1)[-1], path

    def enter(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if module is self.root_module:
            self.depth += 1
            return
        if self.atomic:
            self.atomic.append(module)
            return
        if _atomic(module):
            self.atomic.append(module)
            return
        name, path = self.module_name(module)
        kind = type(module).__name__
        scope = Scope(self.unique(name), kind, path, generic=kind in _GENERIC)
        self.scopes[-1].items.append(scope)
        self.scopes.append(scope)

    def leave(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        if module is self.root_module:
            self.depth -= 1
            return
        if self.atomic:
            done = self.atomic.pop()
            assert done is module
            if not self.atomic:
                self.record_module(module, args, kwargs, output)
            return
        scope = self.scopes.pop()
        if not scope.items:
            self.scopes[-1].items.remove(scope)

    # -- layers ----------------------------------------------------------------------------------

    def inputs_of(self, *objects: Any) -> list[Input | Layer]:
        found: list[Input | Layer] = []
        for t in _tensors(objects):
            v = self.value(t)
            if v is not None and v not in found:
                found.append(v)
        return found

    def record_module(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        outs = list(_tensors([output]))
        if not outs:
            return
        name, path = self.module_name(module)
        kind = type(module).__name__
        data = self.inputs_of(args, kwargs)
        main = outs[0]
        given = [t for t in _tensors([args, kwargs]) if id(t) not in self.params]
        if not data and given:
            # it reads a value made from constants only (GPT-2's positions, torch.arange): drawn
            # as a box of that shape, so the layer reads something
            const = Layer(
                self.unique(f"{name}_input"),
                "custom",
                {},
                [],
                tuple(int(s) for s in given[0].shape),
                0,
                "",
                "constant",
            )
            const.integer = not given[0].dtype.is_floating_point
            self.add(const)
            data = [const]
        if kind == "Identity" or (kind.startswith("Dropout") and float(getattr(module, "p", 1.0)) == 0.0):
            if data:
                self.bind(main, data[0])
            return
        mapped = _map_module(self.torch, module, args, kwargs, main)
        shape = tuple(int(s) for s in main.shape)
        own = list(module.parameters())
        if mapped is None:
            layer = Layer(self.unique(name), "custom", {}, data, shape, 0, path, kind)
        else:
            op, attrs = mapped
            layer = Layer(self.unique(name), op, attrs, data, shape, 0, path, kind)
            if op in ("attention",) and len(data) == 3 and data[0] is data[1] is data[2]:
                layer.inputs = [data[0]]
        layer.params = self.claim(own, layer)
        if layer.tied is not None and layer.op not in ("dense", "embedding", "conv1d", "conv2d", "conv3d"):
            layer.tied = None
        self.add(layer)
        self.bind_layer(main, layer)
        for extra in outs[1:]:
            if id(extra) not in self.values:
                state = Layer(
                    self.unique(f"{layer.name}_state"),
                    "custom",
                    {},
                    [layer],
                    tuple(int(s) for s in extra.shape),
                    0,
                    path,
                    f"{kind} state",
                )
                # A final state is drawn only where something reads it.
                self.pending[id(extra)] = state
                self.keep.append(extra)

    def resolve(self, tensor: Any) -> Input | Layer | None:
        state = self.pending.pop(id(tensor), None)
        if state is not None:
            self.add(state)
            self.bind(tensor, state)
            return state
        return self.value(tensor)

    def record_function(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        outs = list(_tensors([result]))
        if not outs or self.atomic or self.depth == 0:
            return
        name = getattr(func, "__name__", "") or type(func).__name__
        if name in ("__get__", "__set__"):
            return
        tensors = list(_tensors([args, kwargs]))
        values = [self.resolve(t) for t in tensors]
        known = [(t, v) for t, v in zip(tensors, values, strict=False) if v is not None]
        if not known:
            return  # computed from constants only: a constant itself
        learned = [t for t, v in known if id(t) in self.params]
        data = [v for t, v in known if id(t) not in self.params or not _absorbed(name)]
        main = outs[0]
        shape = tuple(int(s) for s in main.shape)
        first = known[0][0]
        first_shape = tuple(int(s) for s in first.shape)
        if name in _PASS or (name in ("expand", "expand_as") and shape == first_shape):
            self.bind(main, known[0][1])
            return
        if name in ("expand", "expand_as") and id(first) in self.params:
            self.bind(main, known[0][1])
            return
        if name in ("split", "chunk", "tensor_split", "split_with_sizes", "unbind") and len(known) == 1:
            self.pieces(name, args, kwargs, first, known[0][1], outs)
            return
        op_attrs = _map_function(name, args, kwargs, [t for t, _ in known], main)
        if op_attrs == "pass":
            self.bind(main, known[0][1])
            return
        if name in _ARITHMETIC:
            merge = _ARITHMETIC[name]
            values_only = [v for t, v in known]
            if len(values_only) < 2:
                self.bind(main, values_only[0])
                return
            if len({id(v) for v in values_only}) < len(values_only):
                merge = ""  # x + f(x) where f was arithmetic with constants: not a join of two
            if not merge:
                op_attrs = None
            elif merge == "mul" and len(known) == 2 and any(id(t) in self.params for t, _ in known):
                other = next(t for t, _ in known if id(t) in self.params)
                scale = _layer_scale(other, next(t for t, _ in known if id(t) not in self.params))
                if scale is not None:
                    base = self.values.get(id(other))
                    if isinstance(base, Layer) and base.op in ("parameter", "custom") and not base.inputs:
                        self.drop(base, other)
                    layer = Layer(
                        self.unique(self.param_name(other)),
                        "layer_scale",
                        scale,
                        [v for t, v in known if id(t) not in self.params],
                        shape,
                        0,
                        self.params[id(other)][1],
                        "Parameter",
                    )
                    layer.params = self.claim([other], layer)
                    self.add(layer)
                    self.bind_layer(main, layer)
                    return
                op_attrs = (merge, {})
            else:
                op_attrs = (merge, {})
        if isinstance(op_attrs, tuple) and op_attrs[0] in OPS:
            limit = OPS[op_attrs[0]].max_inputs
            if limit is not None and len(data) > limit:
                op_attrs = None  # it reads more values than the op takes (a weight made on the fly)
        if op_attrs is None:
            layer = Layer(
                self.unique(_snake(name.strip("_")) or "op"),
                "custom",
                {},
                data,
                shape,
                0,
                "",
                name.strip("_"),
            )
        elif isinstance(op_attrs, str):
            raise AssertionError(op_attrs)
        elif op_attrs[0] == "select":
            # x[:, 0]: a slice of one along the axis, then a reshape without it
            attrs = dict(op_attrs[1])
            axis, index = int(attrs["axis"]), int(attrs["index"])  # type: ignore[arg-type]
            index = index + first_shape[axis] if index < 0 else index
            cut = list(first_shape)
            cut[axis] = 1
            part = Layer(
                self.unique("slice"),
                "slice",
                {"axis": axis, "start": index, "stop": index + 1},
                data,
                tuple(cut),
                0,
                "",
                "getitem",
            )
            self.add(part)
            layer = Layer(
                self.unique("reshape"), "reshape", {"shape": list(shape)}, [part], shape, 0, "", "getitem"
            )
        else:
            op, attrs = op_attrs
            layer = Layer(self.unique(op), op, attrs, data, shape, 0, "", name.strip("_"))
        if _absorbed(name):
            # the learned tensors it holds were read as values first: the op holds them instead
            dropped: list[Layer] = []
            for t in learned:
                base = self.values.get(id(t))
                if isinstance(base, Layer) and base.op in ("parameter", "custom") and not base.inputs:
                    self.drop(base, t)
                    dropped.append(base)
            layer.inputs = [v for v in layer.inputs if not any(v is d for d in dropped)]
            layer.params = self.claim(learned, layer)
        self.add(layer)
        self.bind_layer(main, layer)
        for extra in outs[1:]:
            # a second result of a call that is not split into pieces (max with its indices)
            self.bind(extra, layer)

    def pieces(
        self,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        x: Any,
        source: Input | Layer,
        outs: list[Any],
    ) -> None:
        """``x.split(...)``, ``x.chunk(...)``: one slice per piece, each reading ``x``."""
        rank = x.dim()
        dim = kwargs.get(
            "dim", args[2] if len(args) > 2 else (0 if name == "unbind" and len(args) < 2 else None)
        )
        if name == "unbind":
            dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
        dim = _axis(dim if dim is not None else 0, rank)
        start = 0
        for piece in outs:
            shape = tuple(int(v) for v in piece.shape)
            width = 1 if name == "unbind" else shape[dim]
            cut = list(int(v) for v in x.shape)
            cut[dim] = width
            part = Layer(
                self.unique("slice"),
                "slice",
                {"axis": dim, "start": start, "stop": start + width},
                [source],
                tuple(cut),
                0,
                "",
                name,
            )
            self.add(part)
            if name == "unbind":
                part = self.add(
                    Layer(
                        self.unique("reshape"), "reshape", {"shape": list(shape)}, [part], shape, 0, "", name
                    )
                )
            self.bind_layer(piece, part)
            start += width

    def param_name(self, tensor: Any) -> str:
        return str(self.params[id(tensor)][1]).rsplit(".", 1)[-1]

    def drop(self, layer: Layer, tensor: Any) -> None:
        """Forget a learned-tensor layer made too early: the op that reads it holds it instead."""
        for scope in self._scopes():
            if layer in scope.items:
                scope.items.remove(layer)
        if self.owner.get(id(tensor)) is layer:
            del self.owner[id(tensor)]
        self.values.pop(id(tensor), None)

    def _scopes(self) -> Iterator[Scope]:
        stack = [self.root]
        while stack:
            s = stack.pop()
            yield s
            stack.extend(i for i in s.items if isinstance(i, Scope))


def _absorbed(name: str) -> bool:
    """Whether a function holds the learned tensors it is given (``F.linear``'s weight)."""
    return name in (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "layer_norm",
        "batch_norm",
        "group_norm",
        "embedding",
        "addmm",
    )


def _snake(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return re.sub(r"[^a-z0-9_]", "_", text).strip("_")


def _tensors(objects: Any) -> Iterator[Any]:
    """The tensors in nested arguments or results, in order (dicts and model outputs included)."""
    import torch

    stack = [objects]
    found: list[Any] = []
    while stack:
        item = stack.pop(0)
        if isinstance(item, torch.Tensor):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            stack[0:0] = list(item)
        elif isinstance(item, dict):
            stack[0:0] = list(item.values())
        elif hasattr(item, "to_tuple") and callable(item.to_tuple):
            stack[0:0] = list(item.to_tuple())
    yield from found


def _atomic(module: Any) -> bool:
    """Whether a module is drawn as one layer (a convolution) rather than opened (a block)."""
    kind = type(module).__name__
    home = type(module).__module__
    if kind in _HF_ACTIVATIONS and home.startswith("transformers."):
        return True
    if kind in _MODULES or kind in _ACTIVATIONS or kind == "Identity":
        return home.startswith("torch.nn") or kind == "Conv1D"
    return False


def _layer_scale(param: Any, x: Any) -> dict[str, Value] | None:
    """A learned per-channel scale: ``γ * x`` with γ shaped ``[C, 1, 1]`` or ``[C]``."""
    shape = [int(s) for s in param.shape]
    xs = [int(s) for s in x.shape]
    squeezed = [s for s in shape if s != 1]
    if len(squeezed) != 1:
        return None
    c = squeezed[0]
    if len(xs) >= 3 and xs[1] == c and len(shape) <= len(xs) - 1 and shape[0] == c:
        return {}
    if xs[-1] == c and shape[-1] == c:
        return {"axis": -1}
    return None


def _axis(value: Any, rank: int) -> int:
    v = int(value)
    return v + rank if v < 0 else v


def _map_function(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], tensors: list[Any], result: Any
) -> tuple[str, dict[str, Value]] | str | None:
    """The op a function call is, ``"pass"`` when it changes nothing drawn, or None (a custom box)."""
    x = tensors[0]
    rank = x.dim()
    shape = [int(s) for s in result.shape]
    in_shape = [int(s) for s in x.shape]

    def arg(i: int, key: str, default: Any = None) -> Any:
        if key in kwargs:
            return kwargs[key]
        return args[i] if len(args) > i else default

    if name in _FUNCTION_ACTIVATIONS:
        return _FUNCTION_ACTIVATIONS[name], {}
    if name in ("softmax", "log_softmax"):
        return name, {"axis": int(arg(1, "dim", -1))}
    if name == "leaky_relu":
        return "leaky_relu", {"slope": float(arg(1, "negative_slope", 0.01))}
    if (
        name in ("hardtanh", "hardtanh_")
        and float(arg(1, "min_val", -1.0)) == 0.0
        and float(arg(2, "max_val", 1.0)) == 6.0
    ):
        return "relu6", {}
    if name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
        rate = float(arg(1, "p", 0.5))
        return ("dropout", {"rate": rate}) if rate else "pass"
    if name in ("cat", "concat", "concatenate"):
        if len(tensors) == 1:
            # one value joined with constants (an empty cache): the value, if nothing was added
            return "pass" if shape == in_shape else None
        return "concat", {"axis": _axis(arg(1, "dim", 0), rank)}
    if name == "flatten":
        start = _axis(arg(1, "start_dim", 0), rank)
        end = _axis(arg(2, "end_dim", -1), rank)
        if end != rank - 1:
            return "reshape", {"shape": shape}
        return "flatten", {"start": start}
    if name in ("view", "reshape", "unflatten", "unsqueeze", "squeeze", "view_as", "reshape_as"):
        if shape == in_shape:
            return "pass"
        return "reshape", {"shape": shape}
    if name == "permute":
        dims = arg(1, "dims", None)
        if dims is None or isinstance(dims, int):
            dims = args[1:]
        axes = [_axis(d, rank) for d in dims]
        return "pass" if axes == sorted(axes) else ("permute", {"axes": axes})
    if name in ("transpose", "swapaxes", "t"):
        if name == "t":
            a, b = 0, rank - 1
        else:
            a, b = _axis(arg(1, "dim0", 0), rank), _axis(arg(2, "dim1", 1), rank)
        axes = list(range(rank))
        axes[a], axes[b] = axes[b], axes[a]
        return "pass" if a == b else ("permute", {"axes": axes})
    if name in ("matmul", "__matmul__", "bmm"):
        return "matmul", {}
    if name == "__getitem__":
        return _getitem(args[1] if len(args) > 1 else None, in_shape, shape)
    if name in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        size = _ints(shape[2:])
        return ("adaptive_avgpool2d" if "avg" in name else "adaptive_maxpool2d"), {
            "size": size if isinstance(size, list) else [size, size]
        }
    if name in ("max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d"):
        kernel = arg(1, "kernel_size")
        stride = arg(2, "stride", None) or kernel
        attrs: dict[str, Value] = {"kernel": _ints(_pair(kernel)), "stride": _ints(_pair(stride))}
        padding = arg(3, "padding", 0)
        if _ints(_pair(padding)) != 0:
            attrs["padding"] = _ints(_pair(padding))
        op = ("maxpool" if "max" in name else "avgpool") + name[-2:]
        return op, attrs
    if name == "mean" and rank == 4:
        dims = arg(1, "dim", None)
        if dims is not None and sorted(
            _axis(d, rank) for d in (dims if isinstance(dims, (list, tuple)) else [dims])
        ) == [2, 3]:
            if len(shape) == 2:
                return "global_avgpool", {}
            return "adaptive_avgpool2d", {"size": [1, 1]}
        return None
    if name == "interpolate":
        factor = arg(2, "scale_factor", None)
        mode = arg(3, "mode", "nearest")
        if factor is not None and mode in ("nearest", "bilinear") and float(factor) == int(factor):
            return "upsample", {"scale": int(factor), "mode": str(mode)} if mode != "nearest" else {
                "scale": int(factor)
            }
        return None
    if name == "linear":
        weight: Any = args[1] if len(args) > 1 else kwargs.get("weight")
        bias = args[2] if len(args) > 2 else kwargs.get("bias")
        attrs = {"units": int(weight.shape[0])}
        if bias is None:
            attrs["bias"] = False
        return "dense", attrs
    if name == "layer_norm":
        normalized = arg(1, "normalized_shape")
        weight = arg(2, "weight")
        bias = arg(3, "bias")
        eps = float(arg(4, "eps", 1e-5))
        if len(normalized) != 1 or (weight is None) != (bias is None):
            return None
        attrs = {}
        if weight is None:
            attrs["affine"] = False
        if eps != 1e-5:
            attrs["eps"] = eps
        return "layernorm", attrs
    return None


def _pair(value: Any) -> list[int]:
    if isinstance(value, int):
        return [value, value]
    return [int(v) for v in value]


def _getitem(
    index: Any, in_shape: list[int], out_shape: list[int]
) -> tuple[str, dict[str, Value]] | str | None:
    """``x[:, 0]`` and ``x[..., a:b]``: a slice along one axis, reshaped when the axis goes."""
    items = index if isinstance(index, tuple) else (index,)
    if any(i is Ellipsis for i in items):
        at = items.index(Ellipsis)
        fill = len(in_shape) - (len(items) - 1)
        items = items[:at] + (slice(None),) * fill + items[at + 1 :]
    cut = [(axis, i) for axis, i in enumerate(items) if not (isinstance(i, slice) and i == slice(None))]
    if not cut:
        return "pass"
    if len(cut) != 1:
        return None
    axis, i = cut[0]
    if isinstance(i, int):
        return (
            None
            if out_shape != in_shape[:axis] + in_shape[axis + 1 :]
            else ("select", {"axis": axis, "index": i})
        )
    if isinstance(i, slice) and (i.step in (None, 1)):
        start = i.start or 0
        stop = i.stop if i.stop is not None else in_shape[axis]
        start = start + in_shape[axis] if start < 0 else start
        stop = stop + in_shape[axis] if stop < 0 else min(stop, in_shape[axis])
        if start == 0 and stop == in_shape[axis]:
            return "pass"
        return "slice", {"axis": axis, "start": start, "stop": stop}
    return None


_MODULES: dict[str, Callable[[Any, Any], tuple[str, dict[str, Value]] | None]] = {}


def _module(*names: str) -> Callable[[Callable[[Any, Any], tuple[str, dict[str, Value]] | None]], Any]:
    def register(fn: Callable[[Any, Any], tuple[str, dict[str, Value]] | None]) -> Any:
        for n in names:
            _MODULES[n] = fn
        return fn

    return register


def _params(module: Any) -> int:
    return sum(int(p.numel()) for p in module.parameters())


@_module("Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d")
def _conv(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    kind = type(m).__name__
    op = {"Conv1d": "conv1d", "Conv2d": "conv2d", "Conv3d": "conv3d", "ConvTranspose2d": "conv_transpose2d"}[
        kind
    ]
    attrs: dict[str, Value] = {"channels": int(m.out_channels), "kernel": _ints(m.kernel_size)}
    if _ints(m.stride) != 1:
        attrs["stride"] = _ints(m.stride)
    if isinstance(m.padding, str):
        attrs["padding"] = m.padding
    elif _ints(m.padding) != 0:
        attrs["padding"] = _ints(m.padding)
    if _ints(m.dilation) != 1:
        attrs["dilation"] = _ints(m.dilation)
    if m.groups != 1:
        attrs["groups"] = int(m.groups)
    if m.bias is None:
        attrs["bias"] = False
    if kind == "ConvTranspose2d" and _ints(m.output_padding) != 0:
        attrs["output_padding"] = _ints(m.output_padding)
    if m.padding_mode != "zeros":
        return None
    expected = int(m.weight.numel()) + (int(m.out_channels) if m.bias is not None else 0)
    return (op, attrs) if expected == _params(m) else None


@_module("Linear", "LazyLinear")
def _linear(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    attrs: dict[str, Value] = {"units": int(m.out_features)}
    if m.bias is None:
        attrs["bias"] = False
    return "dense", attrs


@_module("Conv1D")
def _hf_conv1d(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    """Hugging Face's ``Conv1D`` (GPT-2): a dense layer whose weight is stored in × out."""
    if getattr(m, "weight", None) is None or m.weight.dim() != 2:
        return None
    return "dense", {"units": int(m.weight.shape[1])}


@_module("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
def _batchnorm(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    attrs: dict[str, Value] = {}
    if m.eps != 1e-5:
        attrs["eps"] = float(m.eps)
    if not m.affine:
        attrs["affine"] = False
    return "batchnorm", attrs


@_module("LayerNorm")
def _layernorm(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    if len(m.normalized_shape) != 1:
        return None
    attrs: dict[str, Value] = {}
    if m.eps != 1e-5:
        attrs["eps"] = float(m.eps)
    if not m.elementwise_affine:
        attrs["affine"] = False
    elif getattr(m, "bias", True) is None:
        return None
    return "layernorm", attrs


@_module("GroupNorm")
def _groupnorm(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    attrs: dict[str, Value] = {"groups": int(m.num_groups)}
    if m.eps != 1e-5:
        attrs["eps"] = float(m.eps)
    if not m.affine:
        attrs["affine"] = False
    return "groupnorm", attrs


@_module("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")
def _instancenorm(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    attrs: dict[str, Value] = {}
    if m.eps != 1e-5:
        attrs["eps"] = float(m.eps)
    if m.affine:
        attrs["affine"] = True
    return "instancenorm", attrs


@_module("LocalResponseNorm")
def _lrn(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    return "lrn", {"size": int(m.size), "alpha": float(m.alpha), "beta": float(m.beta), "k": float(m.k)}


@_module("Embedding")
def _embedding(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    return "embedding", {"vocab": int(m.num_embeddings), "dim": int(m.embedding_dim)}


@_module("LSTM", "GRU", "RNN")
def _recurrent(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    kind = type(m).__name__
    if getattr(m, "proj_size", 0):
        return None
    attrs: dict[str, Value] = {"units": int(m.hidden_size)}
    if m.num_layers != 1:
        attrs["num_layers"] = int(m.num_layers)
    if m.bidirectional:
        attrs["bidirectional"] = True
    if not m.batch_first:
        attrs["batch_first"] = False
    if not m.bias:
        attrs["bias"] = False
    if kind == "RNN" and m.nonlinearity == "relu":
        attrs["act"] = "relu"
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    h = int(m.hidden_size)
    dirs = 2 if m.bidirectional else 1
    expected = 0
    for level in range(int(m.num_layers)):
        fan_in = int(m.input_size) if level == 0 else h * dirs
        expected += dirs * gates * h * (fan_in + h + (2 if m.bias else 0))
    return (kind.lower(), attrs) if expected == _params(m) else None


@_module("MultiheadAttention")
def _mha(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    d = int(m.embed_dim)
    if m.in_proj_bias is None or m.bias_k is not None or not m._qkv_same_embed_dim:
        return None
    if 4 * d * d + 4 * d != _params(m):
        return None
    return "attention", {"kind": "multi_head", "heads": int(m.num_heads)}


@_module("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout")
def _dropout(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    return "dropout", {"rate": float(m.p)}


@_module("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")
def _pool(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    kind = type(m).__name__
    op = kind.lower()
    if getattr(m, "dilation", 1) not in (1, (1, 1), (1, 1, 1)):
        return None
    if getattr(m, "return_indices", False):
        return None
    attrs: dict[str, Value] = {"kernel": _ints(m.kernel_size)}
    stride = m.stride if m.stride is not None else m.kernel_size
    if _ints(stride) != _ints(m.kernel_size):
        attrs["stride"] = _ints(stride)
    if _ints(m.padding) != 0:
        attrs["padding"] = _ints(m.padding)
    if m.ceil_mode:
        attrs["ceil_mode"] = True
    if kind.startswith("Avg") and (not m.count_include_pad and _ints(m.padding) != 0):
        return None
    return op, attrs


@_module("AdaptiveAvgPool2d", "AdaptiveMaxPool2d")
def _adaptive(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    size = [int(s) for s in x.shape[2:]]
    op = "adaptive_avgpool2d" if "Avg" in type(m).__name__ else "adaptive_maxpool2d"
    return op, {"size": size}


@_module("Flatten")
def _flatten(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    if m.end_dim != -1:
        return None
    return "flatten", {"start": int(m.start_dim)}


@_module("Upsample")
def _upsample(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    factor = m.scale_factor
    if factor is None or m.mode not in ("nearest", "bilinear"):
        return None
    f = factor[0] if isinstance(factor, tuple) else factor
    if float(f) != int(f):
        return None
    attrs: dict[str, Value] = {"scale": int(f)}
    if m.mode != "nearest":
        attrs["mode"] = m.mode
    return "upsample", attrs


@_module("Softmax", "LogSoftmax")
def _softmax(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    op = "softmax" if type(m).__name__ == "Softmax" else "log_softmax"
    return op, ({"axis": int(m.dim)} if m.dim is not None and m.dim != -1 else {})


@_module("LeakyReLU")
def _leaky(m: Any, x: Any) -> tuple[str, dict[str, Value]] | None:
    return "leaky_relu", ({"slope": float(m.negative_slope)} if m.negative_slope != 0.01 else {})


def _map_module(
    torch: Any, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any
) -> tuple[str, dict[str, Value]] | None:
    kind = type(module).__name__
    if kind in _HF_ACTIVATIONS and type(module).__module__.startswith("transformers."):
        return _HF_ACTIVATIONS[kind], {}
    if kind in _ACTIVATIONS:
        op = _ACTIVATIONS[kind]
        return (op, {}) if op else None
    fn = _MODULES.get(kind)
    if fn is None:
        return None
    return fn(module, out)


def _input_names(count: int, names: Sequence[str | None] | None) -> list[str]:
    """The inputs' names: those given, and ``x`` (or ``x1``, ``x2`` …) for the others."""
    given = list(names or [None] * count)
    return [n or ("x" if count == 1 else f"x{i + 1}") for i, n in enumerate(given)]


def trace_torch(
    module: Any,
    example_inputs: Any,
    *,
    name: str | None = None,
    input_names: Sequence[str | None] | None = None,
) -> Trace:
    """Run ``module`` once on ``example_inputs`` (a tensor or a tuple of them) and record it."""
    torch = require_torch()
    if not isinstance(module, torch.nn.Module):
        raise ImportFailed(f"expected a torch.nn.Module, got {type(module).__name__}")
    inputs = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    if not inputs or not all(isinstance(t, torch.Tensor) for t in inputs):
        raise ImportFailed("example inputs must be one tensor or a tuple of tensors")
    recorder = _Recorder(torch, module)
    names = _input_names(len(inputs), input_names)
    trace_inputs: list[Input] = []
    for n, t in zip(names, inputs, strict=False):
        given = Input(n, tuple(int(s) for s in t.shape), integer=not t.dtype.is_floating_point)
        trace_inputs.append(given)
        recorder.bind(t, given)

    class Mode(torch.overrides.TorchFunctionMode):  # type: ignore[misc,name-defined]
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            result = func(*args, **kwargs)
            recorder.record_function(func, tuple(args), dict(kwargs), result)
            return result

    handles = []
    for sub in module.modules():
        handles.append(sub.register_forward_pre_hook(recorder.enter, with_kwargs=True))
        handles.append(sub.register_forward_hook(recorder.leave, with_kwargs=True))
    was_training = module.training
    module.eval()
    fastpath = None
    mha = getattr(torch.backends, "mha", None)
    if mha is not None:
        fastpath = mha.get_fastpath_enabled()
        mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), Mode():
            output = module(*inputs)
    except ImportFailed:
        raise
    except Exception as exc:  # the model's own code failed on these inputs
        raise ImportFailed(
            f"the model's forward pass failed on the example inputs: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        for h in handles:
            h.remove()
        module.train(was_training)
        if mha is not None and fastpath is not None:
            mha.set_fastpath_enabled(fastpath)
    outputs: list[Input | Layer] = []
    for t in _tensors([output]):
        v = recorder.resolve(t)
        if v is not None and v not in outputs:
            outputs.append(v)
    total = sum(int(p.numel()) for p in module.parameters())
    trace = Trace(
        name=name or type(module).__name__,
        source="PyTorch",
        inputs=trace_inputs,
        root=recorder.root,
        outputs=outputs,
        params=total,
        origin=f"{type(module).__module__}.{type(module).__qualname__}",
    )
    unused = [path for pid, (p, path) in recorder.params.items() if pid not in recorder.owner]
    held = sum(
        int(recorder.params[pid][0].numel())
        for pid in {pid for pid in recorder.params if pid not in recorder.owner}
    )
    if unused and held:
        shown = ", ".join(sorted({u.rsplit(".", 1)[0] for u in unused})[:6])
        trace.notes.append(
            f"{held:,} of the model's parameters are held by modules that the forward pass"
            f" did not run ({shown}), and are not drawn"
        )
    return trace
