"""Validate the spec as written: unique ids, references that resolve, block calls that fit.

Runs on the unexpanded program, where every name still has the span the user wrote it at.
Cycles are checked after expansion, by ``mark_recurrence``, since only the expanded graph
has every edge.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace

from .. import expr
from ..errors import Suggester
from ..ir import Attr, BlockDef, Body, Diagnostic, EdgeKind, Graph, Layer, Ref, Span
from ..loader import INITIAL_VALUES
from ..ops import OPS, AttrType

__all__ = ["REPETITION_NAMES", "STEP_NAMES", "data_refs", "initial_ref", "is_word", "tied_ref", "validate"]

# Names a layer's expressions may use for the repetition being expanded: its number (from 1),
# and 1 in the first repetition, else 0 (so 'stride: 1 + first' strides only the first copy).
REPETITION_NAMES = frozenset({"index", "first"})
# Names a 'when:' condition may use for the time step: its number (from 1) and how many are
# drawn. A condition that uses them is evaluated at each step of an unrolled view.
STEP_NAMES = frozenset({"step", "steps"})

MAX_LISTED = 20  # known names listed in a message
MAX_RECURSIVE_NAMED = 10  # blocks that use themselves reported with the path they take

_EXPR_TYPES = (AttrType.SIZE, AttrType.INT, AttrType.INTS, AttrType.PADDING, AttrType.SHAPE)


def initial_ref(layer: Layer) -> Ref | None:
    """The reference ``initial: LAYER`` makes (to the layer whose final state starts this one)."""
    if layer.initial is None or not isinstance(layer.initial.value, str):
        return None
    if layer.initial.value in INITIAL_VALUES:
        return None
    return Ref(layer.initial.value, layer.initial.span)


def is_word(value: object, env: Collection[str]) -> bool:
    """Whether a block argument or default is a word (``relu``): a name that is no size here.

    ``index``, ``first``, ``step`` and ``steps`` never are: where they are unbound, using them
    is an error.
    """
    reserved = REPETITION_NAMES | STEP_NAMES
    return isinstance(value, str) and value.isidentifier() and value not in env and value not in reserved


def tied_ref(layer: Layer) -> Ref | None:
    """The reference ``tied: LAYER`` makes (to the layer whose weight matrix this one uses)."""
    if layer.tied is None or not isinstance(layer.tied.value, str):
        return None
    return Ref(layer.tied.value, layer.tied.span, EdgeKind.TIED)


def data_refs(refs: tuple[Ref, ...]) -> tuple[Ref, ...]:
    """The references that carry data forward (no delay, not gradient, not undirected)."""
    return tuple(r for r in refs if r.delay == 0 and r.kind in (None, EdgeKind.DATA, EdgeKind.SKIP))


@dataclass
class _Scope:
    """Names visible in one body; ``parent`` is None for blocks, which see only their inputs."""

    names: dict[str, Span]
    parent: _Scope | None
    env: frozenset[str]
    layers: dict[str, Layer] = field(default_factory=dict)

    def visible(self) -> Iterator[str]:
        scope: _Scope | None = self
        while scope is not None:
            yield from scope.names
            scope = scope.parent

    def resolves(self, name: str) -> bool:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names:
                return True
            scope = scope.parent
        return False


class _Validator:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.diagnostics: list[Diagnostic] = []
        self.suggest = Suggester()
        self.blocks = {b.name: b for b in graph.program.blocks}
        self.dims = frozenset(d.name for d in graph.dims)
        for dim in graph.dims:
            if dim.name in REPETITION_NAMES:
                self.error(dim.span, f"'{dim.name}' names a repetition's number; choose another dim name")

    def error(self, span: Span, message: str) -> None:
        self.diagnostics.append(Diagnostic(span, message))

    def declare(self, scope: _Scope, layer: Layer) -> None:
        if layer.id in scope.names:
            first = scope.names[layer.id]
            self.error(layer.span, f"duplicate id '{layer.id}' (first at line {first.line})")
            return
        scope.names[layer.id] = layer.span
        scope.layers[layer.id] = layer

    def check_ref(self, scope: _Scope, ref: Ref, owner: str = "") -> None:
        """Check that ``ref`` resolves; ``owner`` (the referring layer) is not suggested."""
        head = ref.target.split(".")[0]
        if scope.resolves(head):
            if "." in ref.target:
                layer = self.find(scope, head)
                second = ref.target.split(".")[1]
                repeated = layer is not None and (layer.repeat > 1 or layer.repeat_expr is not None)
                if layer is not None and layer.op is not None and not (second.isdigit() and repeated):
                    self.error(
                        ref.span, f"'{head}' is a single layer; 'a.b' reaches inside blocks and groups"
                    )
            return
        hint = self.suggest(head, lambda: (n for n in scope.visible() if n != owner))
        self.error(ref.span, f"unknown layer '{head}'{hint}")

    def find(self, scope: _Scope | None, name: str) -> Layer | None:
        while scope is not None:
            if name in scope.layers:
                return scope.layers[name]
            scope = scope.parent
        return None

    def check_exprs(self, attrs: tuple[Attr, ...], env: frozenset[str], op: str | None) -> None:
        for attr in attrs:
            if op is not None and op != "input":
                spec = OPS[op].attrs.get(attr.name)
                if spec is None or spec.type not in _EXPR_TYPES:
                    continue
            values = attr.value if isinstance(attr.value, tuple) else (attr.value,)
            for value in values:
                if not isinstance(value, str) or value in ("same", "valid"):
                    continue
                for name in expr.names(expr.parse(value)):
                    if name not in env:
                        hint = listing = ""
                        if self.suggest.left > 0:  # past the budget, no names are gathered
                            known = sorted(env - REPETITION_NAMES)
                            hint = self.suggest(name, known)
                            if known and not hint:
                                more = f", … ({len(known)} in all)" if len(known) > MAX_LISTED else ""
                                listing = f" (known: {', '.join(known[:MAX_LISTED])}{more})"
                        self.error(attr.span, f"unknown name '{name}' in size expression{hint}{listing}")

    def step_condition(self, when: Attr, env: frozenset[str]) -> bool:
        """Whether ``when`` is a condition on the time step.

        One that mixes the step with a repetition's names or a block's parameters is an error:
        it is evaluated at each step of an unrolled view, after expansion.
        """
        if not isinstance(when.value, str):
            return False
        try:
            used = set(expr.names(expr.parse(when.value)))
        except expr.ExprError:
            return False
        timed = used & STEP_NAMES - env
        if not timed:
            return False
        other = sorted(used - STEP_NAMES - self.dims)
        if other:
            self.error(
                when.span,
                f"a condition on the time step may use step, steps and dims, not {', '.join(other)}",
            )
        return True

    def body(self, body: Body, scope: _Scope, implicit_inputs: int) -> None:
        for layer in body.layers:
            self.declare(scope, layer)
        previous = implicit_inputs
        for layer in body.layers:
            for ref in layer.refs:
                self.check_ref(scope, ref, layer.id)
            if (start := initial_ref(layer)) is not None:
                self.check_ref(scope, start, layer.id)
            if (owner := tied_ref(layer)) is not None:
                self.check_ref(scope, owner, layer.id)
            explicit = len(data_refs(layer.refs))
            takes_none = layer.op is not None and OPS[layer.op].max_inputs == 0
            given = explicit if explicit or not body.sequential or takes_none else previous
            self.layer(layer, scope, given)
            previous = 1

    def layer(self, layer: Layer, scope: _Scope, given: int) -> None:
        if layer.op is None and layer.block is None and layer.body is None:
            return  # a layer the loader could not read: its error is already reported
        if layer.repeat_expr is not None:
            self.check_exprs((layer.repeat_expr,), scope.env, None)
        # A repetition's own attributes may use its number: 'index' (from 1) and 'first'.
        own = scope.env | REPETITION_NAMES
        if layer.when is not None:
            self.check_exprs((layer.when,), own | STEP_NAMES, None)
            self.step_condition(layer.when, scope.env)
        undirected = sum(1 for r in layer.refs if r.kind is EdgeKind.UNDIRECTED)
        if layer.op is not None:
            opdef = OPS[layer.op]
            if opdef.max_inputs is not None and given > opdef.max_inputs:
                hint = " (concat or add them first)" if opdef.max_inputs == 1 else ""
                self.error(
                    layer.span,
                    f"{layer.op} '{layer.id}' takes at most {opdef.max_inputs} input(s), got {given}{hint}",
                )
            if given + undirected < opdef.min_inputs:
                self.error(
                    layer.span, f"{layer.op} '{layer.id}' has no input; add 'in:' naming the layer it reads"
                )
            self.check_exprs(layer.attrs, own, layer.op)
        else:
            what = "block" if layer.block is not None else "group"
            for ref in layer.refs:
                if ref not in data_refs(layer.refs):
                    self.error(
                        ref.span,
                        f"a {what} takes data inputs only; put a delayed, gradient or undirected "
                        "input on a layer inside it",
                    )
            if layer.roles:
                self.error(
                    layer.span, f"'role' applies to single layers; put it on a layer inside the {what}"
                )
            if layer.tied is not None:
                self.error(
                    layer.tied.span,
                    f"'tied' applies to single layers; put it on the layer inside the {what} "
                    "whose weights are shared",
                )
        if layer.block is not None:
            block = self.blocks.get(layer.block)
            if block is None:
                return
            self.call(layer, block, given, own)
        elif layer.body is not None:
            first = layer.body.layers[0] if layer.body.layers else None
            names_own = first is not None and bool(data_refs(first.refs))
            if layer.body.sequential and given == 0 and not names_own:
                self.error(
                    layer.span,
                    f"group '{layer.id}' has no input, and its first layer reads the group's input; "
                    "add 'in:' to the group, or to its first layer",
                )
            if not layer.body.sequential and data_refs(layer.refs):
                self.error(
                    data_refs(layer.refs)[0].span,
                    f"the layers of group '{layer.id}' are a mapping and name their own inputs "
                    "(outer layers are visible inside); remove 'in:'",
                )
            self.body(layer.body, _Scope({}, scope, scope.env), given)

    def call(self, layer: Layer, block: BlockDef, given: int, env: frozenset[str]) -> None:
        args = {a.name for a in layer.attrs}
        for param in block.params:
            if param.value is None and param.name not in args:
                self.error(layer.span, f"block {block.name} needs '{param.name}'")
        if given != len(block.inputs):
            names = ", ".join(block.inputs)
            self.error(
                layer.span, f"block {block.name} takes {len(block.inputs)} input(s) ({names}), got {given}"
            )
        self.check_exprs(tuple(a for a in layer.attrs if not is_word(a.value, env)), env, None)

    def block(self, block: BlockDef) -> None:
        env = self.dims | {p.name for p in block.params}
        scope = _Scope({}, None, env)
        for name in block.inputs:
            scope.names[name] = block.span
        earlier: set[str] = set(self.dims)
        for param in block.params:
            if param.name in REPETITION_NAMES:
                self.error(param.span, f"'{param.name}' names a repetition's number; choose another name")
            # A default may use the repetition of the call ('first'): a call with no repeat
            # that leaves it to the default is an error where it is expanded.
            if not is_word(param.value, frozenset(earlier)):
                self.check_exprs((param,), frozenset(earlier) | REPETITION_NAMES, None)
            earlier.add(param.name)
        self.body(block.body, scope, len(block.inputs))

    def recursion(self) -> None:
        calls: dict[str, list[str]] = {}
        for block in self.graph.program.blocks:
            calls[block.name] = sorted(set(_calls(block.body)))
        cyclic = _on_cycles(calls)
        named = 0
        for block in self.graph.program.blocks:
            if block.name not in cyclic:
                continue
            named += 1
            if named > MAX_RECURSIVE_NAMED:  # each path is a search of its own: name a few
                self.error(block.span, f"block {block.name} uses itself (through other blocks)")
                continue
            # Depth first, callees in name order, each block visited once (paths by parent links).
            parent: dict[str, str] = {}
            stack = [block.name]
            while stack:
                name = stack.pop()
                for callee in calls.get(name, ()):
                    if callee == block.name:
                        path = [name]
                        while path[-1] != block.name:
                            path.append(parent[path[-1]])
                        chain = " → ".join([*reversed(path), callee])
                        self.error(block.span, f"block {block.name} uses itself: {chain}")
                        stack.clear()
                        break
                    if callee not in parent and callee != block.name:
                        parent[callee] = name
                        stack.append(callee)

    def run(self) -> None:
        program = self.graph.program
        for block in program.blocks:
            self.block(block)
        self.recursion()
        top = _Scope({}, None, self.dims)
        for inp in program.inputs:
            self.declare(top, inp)
            if inp.shape is not None:
                self.check_exprs(inp.shape, self.dims, "input")
        plain_inputs = sum(1 for i in program.inputs if not i.refs)
        if program.body.sequential and program.body.layers:
            first = program.body.layers[0]
            takes_none = first.op is not None and OPS[first.op].max_inputs == 0
            names_own = first.body is not None and not first.body.sequential
            if not data_refs(first.refs) and plain_inputs != 1 and not takes_none and not names_own:
                what = "no inputs" if plain_inputs == 0 else f"{plain_inputs} inputs"
                self.error(first.span, f"the first layer needs 'in:' since the spec has {what}")
        self.body(program.body, top, 1)
        for inp in program.inputs:  # state inputs name layers further down
            for ref in inp.refs:
                self.check_ref(top, ref, inp.id)
            if (start := initial_ref(inp)) is not None:
                self.check_ref(top, start, inp.id)
            if inp.when is not None:
                self.check_exprs((inp.when,), self.dims | STEP_NAMES, None)
                if not self.step_condition(inp.when, self.dims):
                    self.error(
                        inp.when.span,
                        "an input's 'when' says at which time steps it is given: write a condition "
                        "on 'step' (step == 1 for the first, step == steps for the last)",
                    )
        for ref in program.outputs:
            self.check_ref(top, ref)
        style = self.graph.style
        if style.rise and style.rise_span is not None:
            self.check_ref(top, Ref(style.rise, style.rise_span))


def _on_cycles(calls: dict[str, list[str]]) -> set[str]:
    """The blocks that call themselves, directly or through others (Kosaraju, without recursion)."""
    order: list[str] = []
    done: set[str] = set()
    for start in calls:
        if start in done:
            continue
        done.add(start)
        stack = [(start, iter(calls[start]))]
        while stack:
            name, callees = stack[-1]
            for callee in callees:
                if callee in calls and callee not in done:
                    done.add(callee)
                    stack.append((callee, iter(calls[callee])))
                    break
            else:
                order.append(name)
                stack.pop()
    callers: dict[str, list[str]] = {name: [] for name in calls}
    for name, called in calls.items():
        for callee in called:
            if callee in callers:
                callers[callee].append(name)
    cyclic: set[str] = set()
    placed: set[str] = set()
    for start in reversed(order):
        if start in placed:
            continue
        component = [start]
        placed.add(start)
        todo = [start]
        while todo:
            for caller in callers[todo.pop()]:
                if caller not in placed:
                    placed.add(caller)
                    component.append(caller)
                    todo.append(caller)
        if len(component) > 1 or start in calls[start]:
            cyclic.update(component)
    return cyclic


def _calls(body: Body) -> Iterator[str]:
    for layer in body.layers:
        if layer.block is not None:
            yield layer.block
        if layer.body is not None:
            yield from _calls(layer.body)


def validate(graph: Graph) -> Graph:
    """Check ids, references and block calls; errors are added to ``graph.diagnostics``."""
    checker = _Validator(graph)
    checker.run()
    return replace(graph, diagnostics=(*graph.diagnostics, *checker.diagnostics))
