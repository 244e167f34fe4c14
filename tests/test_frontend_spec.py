"""The spec writer on hand-made traces: what it writes for scopes of one kind, without a framework."""

from __future__ import annotations

import yaml

import archdraw
from archdraw.frontends.spec import write_spec
from archdraw.frontends.trace import Input, Layer, Scope, Trace


def _unit(name: str, x: Input | Layer, width: int) -> tuple[Scope, Layer]:
    """A module that views [1, 16] as [1, width, 1, 16 / width] and back."""
    scope = Scope(name, "Unit", f"units.{name}")
    shape = (1, width, 1, 16 // width)
    layer = Layer("view", "reshape", {"shape": list(shape)}, [x], shape, 0, "", "view")
    flat = Layer("flat", "reshape", {"shape": [1, 16]}, [layer], (1, 16), 0, "", "view")
    scope.items = [layer, flat]
    return scope, flat


def test_a_size_one_axis_is_not_the_batch() -> None:
    """Only the first axis of a shape is the batch: a later axis of size 1 stays 1.

    The two instances' shapes differ in their second and fourth axes, so those are parameters
    and the others are written one by one.
    """
    x = Input("x", (1, 16))
    a, out_a = _unit("a", x, 8)
    b, out_b = _unit("b", out_a, 4)
    root = Scope("", "Model", "", [a, b])
    trace = Trace("t", "test", [x], root, [out_b], 0, dims={"N": 1})
    text = write_spec(trace)
    spec = yaml.safe_load(text)
    (block,) = spec["blocks"].values()
    view = next(layer for layer in block["layers"] if layer["id"] == "view")
    assert view["shape"][0] == "N" and view["shape"][2] == 1
    archdraw.load(text)
