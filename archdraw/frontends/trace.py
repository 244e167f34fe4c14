"""What a frontend records of one model run: its inputs, its layers and the scopes holding them."""

from __future__ import annotations

from dataclasses import dataclass, field

#: A value an attribute may hold: what a spec would write.
Value = int | float | bool | str | list[int] | None


@dataclass(eq=False)
class Input:
    """One of the model's inputs, as the user gave it (``--input 1x3x224x224``)."""

    name: str
    shape: tuple[int, ...]
    integer: bool = False


@dataclass(eq=False)
class Layer:
    """One drawn layer: an archdraw op (or ``custom``) with what it reads and what it holds.

    ``params`` is the framework's own count of the weights this layer owns (a tied layer owns
    none of the matrix it borrows); ``path`` is where the framework keeps it (a module path, an
    ONNX node name) and becomes the layer's label; ``origin`` is the framework's name for what
    it is (``Conv2d``, ``Conv``), shown on custom boxes and listed in the import's warnings.
    """

    name: str
    op: str
    attrs: dict[str, Value]
    inputs: list[Input | Layer]
    shape: tuple[int, ...]
    params: int
    path: str
    origin: str
    tied: Layer | None = None
    #: whether it gives integers (token ids, positions, indices): never a bottleneck
    integer: bool = False


@dataclass(eq=False)
class Scope:
    """A module (or an ONNX name scope) that holds layers and other scopes, in the order run.

    ``kind`` is its class (``Bottleneck``, ``Sequential``); scopes of one kind are candidates
    for one block. ``generic`` marks containers such as ``nn.Sequential``, whose instances have
    nothing in common but their class.
    """

    name: str
    kind: str
    path: str
    items: list[Layer | Scope] = field(default_factory=list)
    generic: bool = False


@dataclass
class Trace:
    """A whole model: what :mod:`archdraw.frontends.spec` turns into spec text."""

    name: str
    source: str
    inputs: list[Input]
    root: Scope
    outputs: list[Layer | Input]
    params: int
    notes: list[str] = field(default_factory=list)
    origin: str = ""
    dims: dict[str, int] = field(default_factory=dict)

    def layers(self) -> list[Layer]:
        """Every layer, in the order run."""
        found: list[Layer] = []

        def walk(scope: Scope) -> None:
            for item in scope.items:
                if isinstance(item, Scope):
                    walk(item)
                else:
                    found.append(item)

        walk(self.root)
        return found

    def custom(self) -> dict[str, int]:
        """What the frontend could not map to an op: origin → how many boxes."""
        counts: dict[str, int] = {}
        for layer in self.layers():
            if layer.op == "custom":
                counts[layer.origin] = counts.get(layer.origin, 0) + 1
        return dict(sorted(counts.items()))
