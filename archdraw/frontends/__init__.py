"""Frontends: models built in other frameworks, read into archdraw specs (``archdraw import``).

:func:`from_torch` runs a PyTorch module once on example inputs and :func:`from_onnx` reads an
ONNX file; both return the text of a spec, with blocks for the modules of one class, ``repeat:``
for their runs, and each layer labelled with its module path. Neither framework is needed to
import archdraw: each is imported when its frontend is called (the ``torch`` and ``onnx``
extras).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .pytorch import ImportFailed, require_torch, trace_torch
from .spec import write_spec
from .trace import Trace

__all__ = [
    "ImportFailed",
    "from_onnx",
    "from_torch",
    "load_callable",
    "parse_input",
    "require_torch",
    "trace_onnx",
    "trace_torch",
]


def from_torch(
    module: Any,
    example_inputs: Any,
    *,
    name: str | None = None,
    dims: Mapping[str, int] | None = None,
    input_names: Sequence[str | None] | None = None,
) -> str:
    """The spec text of a PyTorch module, traced on ``example_inputs`` (a tensor or a tuple).

    ``dims`` names sizes (``{"N": 1, "T": 128}``): an input axis of that size is written with
    the name. The module is run once in eval mode, without gradients, and left as it was.
    """
    trace = trace_torch(module, example_inputs, name=name, input_names=input_names)
    trace.dims = dict(dims or {})
    return write_spec(trace)


def trace_onnx(model: Any, *, name: str | None = None) -> Trace:
    """Read an ONNX model (a path or a ``ModelProto``) into a trace."""
    from .onnxgraph import trace_onnx as read

    return read(model, name=name)


def from_onnx(
    path: str | os.PathLike[str], *, name: str | None = None, dims: Mapping[str, int] | None = None
) -> str:
    """The spec text of an ONNX model file."""
    trace = trace_onnx(path, name=name)
    trace.dims = dict(dims or {})
    return write_spec(trace)


_SHAPE = re.compile(r"^(?:([A-Za-z_][A-Za-z0-9_]*)=)?([1-9][0-9]*(?:x[1-9][0-9]*)*)$")


def parse_input(text: str) -> tuple[str | None, tuple[int, ...]]:
    """``1x3x224x224`` or ``tokens=1x128``: an input's optional name and its shape."""
    match = _SHAPE.match(text.strip())
    if match is None:
        raise ImportFailed(
            f"--input {text!r}: write a shape as sizes joined by 'x' (1x3x224x224),"
            " optionally after a name (tokens=1x128)"
        )
    sizes = tuple(int(s) for s in match.group(2).split("x"))
    if len(sizes) > 8 or any(s > 1_000_000 for s in sizes):
        raise ImportFailed(f"--input {text!r}: at most 8 axes of at most 1,000,000 each")
    return match.group(1), sizes


def load_callable(source: str) -> Any:
    """The model that ``MODULE:CALLABLE`` names: the callable's result, or the object itself.

    The current directory is searched first, as ``python -m`` does.
    """
    module_name, _, attr = source.partition(":")
    if not module_name or not attr or not all(p.isidentifier() for p in module_name.split(".")):
        raise ImportFailed(
            f"{source!r} is neither an ONNX file nor MODULE:CALLABLE (such as torchvision.models:resnet50)"
        )
    require_torch()
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportFailed(f"cannot import {module_name!r}: {exc}") from None
    except Exception as exc:
        raise ImportFailed(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ImportFailed(f"{module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(target, torch.nn.Module):
        return target
    if not callable(target):
        raise ImportFailed(f"{source} is not callable and not an nn.Module")
    try:
        return target()
    except Exception as exc:
        raise ImportFailed(f"calling {source}() failed: {type(exc).__name__}: {exc}") from None
