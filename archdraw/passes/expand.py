"""Expand blocks, groups and repeats into the flat graph of nodes, edges and clusters.

Every repetition becomes its own nodes (``stage.2.conv``), inside a cluster that records the
block, the repetition index and count, and whether repetitions share weights, so a renderer
can draw the block once with "×N". Size expressions are evaluated here, with dims kept
symbolic. The number of nodes is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .. import expr
from ..errors import Suggester, did_you_mean
from ..ir import (
    Attr,
    AttrValue,
    BlockDef,
    Body,
    Cluster,
    Diagnostic,
    Edge,
    EdgeKind,
    Graph,
    Layer,
    Node,
    OpFamily,
    Ref,
    Role,
    Size,
    Span,
    Sym,
)
from ..loader import INITIAL_VALUES, MAX_REPEAT
from ..ops import OPS, AttrSpec, AttrType
from .validate import REPETITION_NAMES, STEP_NAMES, data_refs, initial_ref, is_word, tied_ref

__all__ = ["MAX_EDGES", "MAX_NESTING", "MAX_NODES", "expand", "unknown_expand_name"]

MAX_NODES = 50_000
MAX_EDGES = 200_000  # after expansion: a layer reading a long list (through an alias) is many edges
MAX_NESTING = 50  # blocks and groups inside one another (a block calling a block calling …)


class _TooLarge(Exception):
    """The expansion passed MAX_NODES, at the layer at ``span``."""

    def __init__(self, span: Span) -> None:
        self.span = span


class _TooDeep(Exception):
    """Blocks and groups nest deeper than MAX_NESTING, at ``span``."""

    def __init__(self, span: Span) -> None:
        self.span = span


@dataclass
class _Entry:
    """A name in a scope: the node its value comes from, and inner scopes of blocks/groups."""

    output: str
    inner: list[_Scope] = field(default_factory=list)  # a block's or group's, per repetition
    reps: list[str] = field(default_factory=list)  # a repeated op's node per repetition


@dataclass
class _Scope:
    names: dict[str, _Entry]
    parent: _Scope | None
    env: dict[str, Size]
    output: str = ""  # the node a block or group instance outputs
    #: a block's parameters that are words (an activation, a mode), by name
    words: dict[str, str] = field(default_factory=dict)


@dataclass
class _Pending:
    ref: Ref
    scope: _Scope
    dst: str
    own_id: str
    own_node: str
    # For block calls and groups, whose own output is known only once they are expanded.
    own_entry: _Entry | None = None
    initial: bool = False  # ``initial: LAYER``: the edge brings that layer's final state


def step_condition(when: Attr | None) -> str:
    """The text of a ``when:`` that is a condition on the time step, else "".

    Such a condition is kept as written and evaluated at each step of an unrolled view.
    """
    if when is None or not isinstance(when.value, str):
        return ""
    try:
        used = expr.names(expr.parse(when.value))
    except expr.ExprError:
        return ""
    return when.value if any(name in STEP_NAMES for name in used) else ""


_OP_WORDS = {
    "conv1d": "conv",
    "conv2d": "conv",
    "conv3d": "conv",
    "conv_transpose2d": "transposed conv",
    "batchnorm": "batch norm",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "maxpool2d": "max pool",
    "avgpool2d": "avg pool",
    "unpool2d": "unpool",
}


def _kind(block: BlockDef) -> str:
    """What a block's instances are called: its label, else what it holds when that is short.

    A block name is the spec writer's shorthand (``cb``, ``dense_layer``): a block of up to
    three plain layers reads as them ("conv + batch norm"), a larger one by its name in words.
    """
    if block.label:
        return block.label
    layers = block.body.layers
    plain = all(layer.op is not None and layer.repeat == 1 and layer.repeat_expr is None for layer in layers)
    if 1 <= len(layers) <= 3 and plain:
        ops = [layer.op or "" for layer in layers]
        return " + ".join(_OP_WORDS.get(op, op.replace("_", " ")) for op in ops)
    return block.name.replace("_", " ")


def copy_title(title: str, k: int, n: int) -> str:
    """The title of copy ``k`` of ``n``: "bottleneck 1/3", "conv2 · 1/3" when the title ends in a digit.

    >>> copy_title("conv2", 1, 3), copy_title("stage 1", 2, 2)
    ('conv2 · 1/3', 'stage 1 · 2/2')
    """
    return f"{title}{' ·' if title[-1:].isdigit() else ''} {k}/{n}"


def _word(value: AttrValue, env: dict[str, Size]) -> str | None:
    """``value`` as a word parameter (a name that is no size in ``env``: ``relu``), else None."""
    return value if isinstance(value, str) and is_word(value, env.keys()) else None


def _initial_value(layer: Layer) -> str:
    """``zeros`` or ``learned`` when ``initial:`` says so ("" for a layer or nothing)."""
    value = layer.initial.value if layer.initial is not None else None
    return value if isinstance(value, str) and value in INITIAL_VALUES else ""


class _Expander:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.blocks = {b.name: b for b in graph.program.blocks}
        self.nodes: list[Node] = []
        self.node_ids: set[str] = set()
        self.edges: list[Edge] = []
        self.clusters: list[Cluster] = []
        self.cluster_ids: set[str] = set()
        self.pending: list[_Pending] = []
        self.diagnostics: list[Diagnostic] = []
        self.binds: dict[str, str] = {}
        self.top = _Scope({}, None, {})
        self.depth = 0
        self.refusing: list[tuple[Role, ...]] = []  # roles switched off by the calls around
        # What the calls and groups around say about time: 'once: true', a per-step 'when:'.
        self.timing: list[tuple[bool, str]] = []
        self.suggest = Suggester()

    def error(self, span: Span, message: str) -> None:
        self.diagnostics.append(Diagnostic(span, message))

    # -- values ------------------------------------------------------------------------------

    def evaluate(
        self,
        value: AttrValue,
        env: dict[str, Size],
        span: Span,
        kind: AttrType | None,
        words: dict[str, str] | None = None,
    ) -> AttrValue:
        if isinstance(value, tuple):
            return tuple(self.evaluate(v, env, span, kind, words) for v in value)
        if (
            not isinstance(value, str)
            or value in ("same", "valid")
            or kind
            not in (
                None,
                AttrType.SIZE,
                AttrType.INT,
                AttrType.INTS,
                AttrType.PADDING,
                AttrType.SHAPE,
            )
        ):
            return value
        parsed: expr.Expr | None = None
        try:
            parsed = expr.parse(value)
            result = expr.evaluate(parsed, env)
        except expr.ExprError as exc:
            used = expr.names(parsed) if parsed is not None else ()
            unbound = sorted(n for n in REPETITION_NAMES if n not in env and n in used)
            named = words or {}
            worded = sorted(n for n in used if n in named)
            if worded:
                name = worded[0]
                hint = did_you_mean(named[name], sorted(env))
                self.error(
                    span, f"parameter '{name}' is the word {named[name]!r}, not a size (in {value!r}){hint}"
                )
            elif unbound:
                self.error(
                    span,
                    f"'{unbound[0]}' is the number of a repetition, but no repeat encloses this "
                    f"layer (in {value!r}): add 'repeat: N' here or to the block call it is in",
                )
            else:
                self.error(span, f"{exc} (in {value!r})")
            return None
        number = result.value if isinstance(result, Sym) else result
        if kind is AttrType.SIZE and number <= 0:
            self.error(span, f"size {value!r} evaluates to {number}; sizes must be positive")
        if kind in (AttrType.INTS, AttrType.PADDING) and number < 0:
            self.error(span, f"{value!r} evaluates to {number}; it must not be negative")
        if kind is AttrType.SHAPE and number <= 0 and number != -1:
            self.error(span, f"size {value!r} evaluates to {number}; sizes must be positive")
        return result

    def attrs(self, layer: Layer, env: dict[str, Size], words: dict[str, str]) -> tuple[Attr, ...]:
        assert layer.op is not None
        specs = OPS[layer.op].attrs
        out: list[Attr] = []
        for attr in layer.attrs:
            spec = specs.get(attr.name)
            kind = spec.type if spec is not None else None
            if kind is AttrType.SHAPE and layer.op != "reshape":
                kind = AttrType.SIZE  # only reshape infers a size from -1
            if spec is not None and kind in (AttrType.CHOICE, AttrType.STR, AttrType.BOOL):
                out.append(Attr(attr.name, self.word(layer.op, attr, spec, env, words), attr.span))
                continue
            out.append(Attr(attr.name, self.evaluate(attr.value, env, attr.span, kind, words), attr.span))
        return tuple(out)

    def word(
        self, op: str, attr: Attr, spec: AttrSpec, env: dict[str, Size], words: dict[str, str]
    ) -> AttrValue:
        """A word or flag attribute, given as written or by a block parameter's name."""
        value = attr.value
        if not isinstance(value, str) or (value not in words and value not in env):
            return value  # as written (the loader checked it), or a parameter of no block here
        if spec.type is AttrType.BOOL:
            if value in env:
                flag = env[value]
                return (flag.value if isinstance(flag, Sym) else flag) != 0
            self.error(
                attr.span,
                f"parameter '{value}' is the word {words[value]!r}; {op} {attr.name} is true or false",
            )
            return spec.default
        if value in env:
            self.error(attr.span, f"parameter '{value}' is a size; {op} {attr.name} takes a word")
            return spec.default
        word = words[value]
        if spec.type is AttrType.CHOICE and word not in spec.choices:
            self.error(
                attr.span,
                f"parameter '{value}' is {word!r}, but {op} {attr.name} must be one of "
                f"{', '.join(spec.choices)}{did_you_mean(word, spec.choices)}",
            )
            return spec.default
        return word

    def block_env(
        self, layer: Layer, block: BlockDef, env: dict[str, Size], words: dict[str, str]
    ) -> tuple[dict[str, Size], dict[str, str]]:
        """The names a call's body sees: dims, the call's repetition, and its parameters.

        A parameter is a size (an integer or a size expression; ``true`` and ``false`` are 1
        and 0), or a word: a name that is no size here (``relu``), for attributes that take
        words. An argument may pass on a word parameter of the caller's.
        """
        dims = {d.name: Sym(d.name, d.size) for d in self.graph.dims}
        inner: dict[str, Size] = dict(dims)
        inner_words: dict[str, str] = {}
        for name in REPETITION_NAMES & env.keys():  # the repetition of the call, if repeated
            inner[name] = env[name]
        given = {a.name: a for a in layer.attrs}
        for param in block.params:
            arg = given.get(param.name)
            written, scope_env, scope_words = (
                (arg.value, env, words) if arg is not None else (param.value, inner, inner_words)
            )
            word = _word(written, scope_env)
            if word is not None:
                inner_words[param.name] = scope_words.get(word, word)
                continue
            where = arg.span if arg is not None else param.span
            value = self.evaluate(written, scope_env, where, None, scope_words)
            if isinstance(value, (int, Sym)) and not isinstance(value, bool):
                inner[param.name] = value
            elif value is None:
                # Its error is reported where it is given: its uses inside add none of their own.
                inner[param.name] = 1
            else:
                self.error(
                    where,
                    f"block {block.name} parameter '{param.name}' must be an integer, a size "
                    "expression, true, false or a word",
                )
        return inner, inner_words

    # -- structure ---------------------------------------------------------------------------

    def repeat_count(self, attr: Attr, env: dict[str, Size]) -> int:
        """A repeat count written as an expression: a positive integer up to MAX_REPEAT."""
        value = self.evaluate(attr.value, env, attr.span, AttrType.SIZE)
        count = value.value if isinstance(value, Sym) else value
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            return 1  # reported by evaluate
        if count > MAX_REPEAT:
            self.error(attr.span, f"repeat {attr.value!r} is {count}; at most {MAX_REPEAT} repetitions")
            return 1
        return count

    def add_cluster(self, cluster: Cluster) -> None:
        if cluster.id not in self.cluster_ids:
            self.cluster_ids.add(cluster.id)
            self.clusters.append(cluster)

    def group_cluster(self, layer: Layer, cluster: str) -> str:
        if not layer.group:
            return cluster
        # '#' cannot occur in ids, so a group never shares a cluster with a block of its name.
        cid = f"{cluster}#{layer.group}"
        self.add_cluster(Cluster(cid, layer.group, cluster, layer.span))
        return cid

    def add_node(self, node: Node) -> None:
        if len(self.nodes) >= MAX_NODES:
            raise _TooLarge(node.span)
        if node.id in self.node_ids:
            # Only possible when a generated id collides with a written one; keep ids unique.
            self.error(node.span, f"expanded id '{node.id}' collides with another layer; rename one")
            return
        self.node_ids.add(node.id)
        self.nodes.append(node)

    def connect(self, srcs: list[str], dst: str, span: Span) -> None:
        for src in srcs:
            self.edges.append(Edge(src, dst, EdgeKind.DATA, span))

    def body(
        self, body: Body, scope: _Scope, prefix: str, cluster: str, implicit: list[str], frozen: bool
    ) -> str:
        """Expand a body; returns the id of the node its last layer outputs."""
        previous = implicit
        last = ""
        for layer in body.layers:
            takes_none = layer.op is not None and OPS[layer.op].max_inputs == 0
            inputs = [] if data_refs(layer.refs) or not body.sequential or takes_none else previous
            out = self.layer(layer, scope, prefix, cluster, inputs, frozen)
            previous = [out]
            last = out
        return last

    def layer(
        self, layer: Layer, scope: _Scope, prefix: str, cluster: str, inputs: list[str], frozen: bool
    ) -> str:
        cluster = self.group_cluster(layer, cluster)
        base = f"{prefix}{layer.id}"
        reps = layer.repeat
        if layer.repeat_expr is not None:
            reps = self.repeat_count(layer.repeat_expr, scope.env)
        frozen = frozen or not layer.trainable
        block = self.blocks[layer.block] if layer.block is not None else None
        label = layer.label or layer.id
        kind = _kind(block) if block is not None else ""
        container = cluster
        if reps > 1:
            container = base
            self.add_cluster(
                Cluster(
                    base,
                    label,
                    cluster,
                    layer.span,
                    block=layer.block or "",
                    repeat_index=0,
                    repeat_count=reps,
                    shared=layer.shared,
                    dense=layer.connect == "dense",
                    note=layer.note or kind,
                    kind=kind,
                )
            )
        entry = _Entry("")
        scope.names[layer.id] = entry
        explicit = data_refs(layer.refs)
        explicit_set, later = set(explicit), set(explicit[1:])  # sets: a layer may have many inputs
        first_inputs = inputs
        if layer.op is None and explicit:
            # Inputs written for a block or group may name layers further down a mapping: bind
            # placeholders now, replaced by the real sources once every name is known.
            first_inputs = []
            for i, ref in enumerate(explicit):
                placeholder = f"\0bind:{base}:{i}"
                self.pending.append(_Pending(ref, scope, placeholder, layer.id, "", entry))
                first_inputs.append(placeholder)
        dense = layer.connect == "dense" and reps > 1 and bool(first_inputs)
        if dense and reps * (reps + 1) // 2 > MAX_EDGES:
            self.error(
                layer.span,
                f"'connect: dense' over {reps} repetitions makes {reps * (reps + 1) // 2:,} edges; "
                f"at most {MAX_EDGES:,}",
            )
            dense = False
        made: list[str] = []  # the copies made so far (a copy 'when' leaves out is not one)
        for rep in range(1, reps + 1):
            rep_id = f"{base}.{rep}" if reps > 1 else base
            # 'index' and 'first' name the innermost repeat around a layer: its own when it is
            # repeated (even 'repeat: 1'), else the one it is inside (a block body's layers,
            # when the block is called with repeat: N, see that call's repetition).
            repeated = reps > 1 or layer.repeated
            env = {**scope.env, "index": rep, "first": int(rep == 1)} if repeated else scope.env
            # Repetition k > 1 reads repetition k − 1 in place of the first input; the other
            # inputs (a block's second input, say) are the same for every repetition. Densely
            # connected, it reads the concatenation of the first input and every copy before.
            if rep == 1:
                current = first_inputs
            elif layer.op is not None and OPS[layer.op].max_inputs == 0:
                current = []  # copies of an op that reads nothing (noise) are not chained
            else:
                previous = entry.output
                if dense:
                    previous = self.join(layer, f"{base}.in{rep}", container, [first_inputs[0], *made])
                current = [previous] if layer.op is not None and explicit else [previous, *first_inputs[1:]]
            timed = step_condition(layer.when)
            if layer.when is not None and not timed and not self.included(layer.when, env, scope.words):
                # Left out here: the layer passes its first input on, as an identity would.
                entry.output = self.pass_through(layer, scope, current, rep_id, entry)
                entry.reps.append(entry.output)
                continue
            if layer.op is not None:
                self.add_node(self.node(layer, rep_id, container, env, scope.words, frozen, timed))
                self.connect(current, rep_id, layer.span)
                if (start := initial_ref(layer)) is not None:
                    self.pending.append(_Pending(start, scope, rep_id, layer.id, rep_id, initial=True))
                if (owner := tied_ref(layer)) is not None:
                    self.pending.append(_Pending(owner, scope, rep_id, layer.id, rep_id))
                for ref in layer.refs:
                    if rep > 1 and ref in explicit_set and ref not in later:
                        continue  # the first input: repetition k reads repetition k - 1 instead
                    # Delayed, gradient and undirected inputs apply to every repetition.
                    self.pending.append(_Pending(ref, scope, rep_id, layer.id, rep_id))
                entry.reps.append(rep_id)
                entry.output = rep_id
                made.append(rep_id)
                continue
            # A block call or an inline group: a cluster per instance (and per repetition).
            self.add_cluster(
                Cluster(
                    rep_id,
                    label if reps == 1 else copy_title(label, rep, reps),
                    container,
                    layer.span,
                    block=layer.block or "",
                    repeat_index=rep,
                    repeat_count=reps,
                    shared=layer.shared,
                    note=(layer.note or kind) if reps == 1 else kind,
                    kind=kind,
                )
            )
            if block is not None:
                inner_env, inner_words = self.block_env(layer, block, env, scope.words)
                inner = _Scope({}, None, inner_env, words=inner_words)
                body, wanted, input_names = block.body, block.output, block.inputs
            else:
                assert layer.body is not None
                inner = _Scope({}, scope, scope.env, words=scope.words)
                body, wanted, input_names = layer.body, layer.output, ()
            entry.inner.append(inner)
            for name, src in zip(input_names, current, strict=False):
                inner.names[name] = _Entry(src)
            if self.depth >= MAX_NESTING:
                raise _TooDeep(layer.span)
            self.depth += 1
            self.refusing.append(layer.refused)  # 'bottleneck: false' on a call holds inside it
            self.timing.append((layer.once, timed))
            last = self.body(body, inner, f"{rep_id}.", rep_id, current, frozen)
            self.timing.pop()
            self.refusing.pop()
            self.depth -= 1
            inner.output = inner.names[wanted].output if wanted and wanted in inner.names else last
            entry.output = inner.output
            made.append(entry.output)
        if dense:
            # A dense block's result is every feature map it holds: its input and each copy's.
            entry.output = self.join(layer, f"{base}.out", container, [first_inputs[0], *made])
        return entry.output

    def join(self, layer: Layer, node_id: str, cluster: str, sources: list[str]) -> str:
        """A concatenation (along the channels) of ``sources``, for a densely connected repeat."""
        self.add_node(
            Node(
                id=node_id,
                op="concat",
                family=OPS["concat"].family,
                span=layer.span,
                cluster=cluster,
                group=layer.group,
                once=layer.once or any(once for once, _ in self.timing),
                auto_id=True,
            )
        )
        # Every source but the newest bypasses a copy: a skip, as the spec had declared it.
        for k, src in enumerate(sources):
            skip = k < len(sources) - 1
            kind = EdgeKind.SKIP if skip else EdgeKind.DATA
            self.edges.append(Edge(src, node_id, kind, layer.span, declared=kind if skip else None))
        return node_id

    def included(self, when: Attr, env: dict[str, Size], words: dict[str, str]) -> bool:
        """Whether a ``when:`` condition holds (is not 0) in ``env``."""
        value = self.evaluate(when.value, env, when.span, AttrType.INT, words)
        return value is None or (value.value if isinstance(value, Sym) else value) != 0

    def pass_through(
        self, layer: Layer, scope: _Scope, current: list[str], rep_id: str, entry: _Entry
    ) -> str:
        """The node a left-out layer stands for: its first input."""
        if current:
            return current[0]
        explicit = data_refs(layer.refs)
        if explicit:
            placeholder = f"\0bind:{rep_id}:when"
            self.pending.append(_Pending(explicit[0], scope, placeholder, layer.id, "", entry))
            return placeholder
        self.error(
            layer.when.span if layer.when else layer.span,
            f"'{layer.id}' is left out by 'when' but has no input to pass on",
        )
        return ""

    def node(
        self,
        layer: Layer,
        node_id: str,
        cluster: str,
        env: dict[str, Size],
        words: dict[str, str],
        frozen: bool,
        timed: str,
    ) -> Node:
        assert layer.op is not None
        opdef = OPS[layer.op]
        roles = list(layer.roles)
        if opdef.family is OpFamily.LOSS and Role.LOSS not in roles:
            roles.append(Role.LOSS)
        if layer.op == "memory" and Role.MEMORY not in roles:
            roles.append(Role.MEMORY)
        return Node(
            id=node_id,
            op=layer.op,
            family=opdef.family,
            span=layer.span,
            label=layer.label,
            note=layer.note,
            attrs=self.attrs(layer, env, words),
            cluster=cluster,
            group=layer.group,
            trainable=layer.trainable and not frozen,
            roles=tuple(roles),
            declared_roles=layer.roles,
            refused_roles=tuple(dict.fromkeys((*layer.refused, *(r for rs in self.refusing for r in rs)))),
            once=layer.once or any(once for once, _ in self.timing),
            step_when=timed or next((w for _, w in reversed(self.timing) if w), ""),
            initial=_initial_value(layer),
            auto_id=layer.auto_id,
        )

    def inputs(self, scope: _Scope) -> list[str]:
        plain: list[str] = []
        for inp in self.graph.program.inputs:
            shape: tuple[Size, ...] | None = None
            if inp.shape is not None:
                values = [self.evaluate(a.value, scope.env, a.span, AttrType.SIZE) for a in inp.shape]
                if all(isinstance(v, (int, Sym)) and not isinstance(v, bool) for v in values):
                    shape = tuple(v for v in values if isinstance(v, (int, Sym)))
            role = Role.STATE if inp.refs else Role.INPUT
            cluster = self.group_cluster(inp, "")
            self.add_node(
                Node(
                    id=inp.id,
                    op="input",
                    family=OpFamily.INPUT,
                    span=inp.span,
                    label=inp.label,
                    note=inp.note,
                    cluster=cluster,
                    group=inp.group,
                    roles=(role, *inp.roles),
                    declared_roles=inp.roles,
                    shape=shape,
                    once=inp.once,
                    step_when=step_condition(inp.when),
                    initial=_initial_value(inp),
                )
            )
            scope.names[inp.id] = _Entry(inp.id)
            for ref in inp.refs:
                self.pending.append(_Pending(ref, scope, inp.id, inp.id, inp.id))
            if (start := initial_ref(inp)) is not None:
                self.pending.append(_Pending(start, scope, inp.id, inp.id, inp.id, initial=True))
            if not inp.refs:
                plain.append(inp.id)
        return plain

    # -- references --------------------------------------------------------------------------

    def lookup(self, pending: _Pending) -> str | None:
        ref = pending.ref
        parts = ref.target.split(".")
        if parts[0] == pending.own_id and len(parts) == 1:
            return pending.own_entry.output if pending.own_entry is not None else pending.own_node
        scope: _Scope | None = pending.scope
        entry: _Entry | None = None
        while scope is not None and entry is None:
            entry = scope.names.get(parts[0])
            scope = scope.parent
        if entry is None:
            return None  # reported by validate
        walked = parts[0]
        rest = parts[1:]
        while rest:
            if rest[0].isdigit():
                index = int(rest[0])
                count = len(entry.reps) or len(entry.inner)
                if not 1 <= index <= count or count == 1:
                    self.error(
                        ref.span,
                        f"'{walked}' is not repeated {index} time(s); there is no '{walked}.{index}'",
                    )
                    return None
                walked += f".{rest[0]}"
                rest = rest[1:]
                if entry.reps:  # one repetition of a repeated op
                    if rest:
                        self.error(ref.span, f"'{walked}' is a single layer; there is nothing inside it")
                        return None
                    return entry.reps[index - 1]
                inner = entry.inner[index - 1]
                if not rest:
                    return inner.output
            elif entry.inner:
                inner = entry.inner[-1]
            else:
                self.error(ref.span, f"'{walked}' has no layers inside it")
                return None
            name = rest[0]
            if name not in inner.names:
                hint = self.suggest(name, inner.names)
                self.error(ref.span, f"'{walked}' has no layer '{name}'{hint}")
                return None
            entry = inner.names[name]
            walked += f".{name}"
            rest = rest[1:]
        return entry.output

    def real(self, node_id: str) -> str:
        """The node a placeholder stands for (bound inputs of blocks and groups)."""
        for _ in range(len(self.binds) + 1):
            if node_id not in self.binds:
                break
            node_id = self.binds[node_id]
        return node_id

    def resolve(self) -> None:
        resolved: list[tuple[_Pending, str]] = []
        bound_at: dict[str, Span] = {}
        for pending in self.pending:
            src = self.lookup(pending)
            if src is None:
                continue
            if pending.dst.startswith("\0bind:"):
                self.binds[pending.dst] = src
                bound_at[pending.dst] = pending.ref.span
            else:
                resolved.append((pending, src))
        real = self.real
        # An edge from a block's or group's bound input is located at the reference that bound it.
        edges = [
            replace(e, src=real(e.src), dst=real(e.dst), span=bound_at.get(e.src, e.span)) for e in self.edges
        ]
        for pending, src in resolved:
            ref = pending.ref
            kind = ref.kind if ref.kind is not None else EdgeKind.DATA
            edges.append(
                Edge(
                    real(src),
                    real(pending.dst),
                    kind,
                    ref.span,
                    ref.delay,
                    ref.axis,
                    ref.label,
                    ref.kind,
                    initial=pending.initial,
                )
            )
        self.edges = [e for e in edges if not e.src.startswith("\0") and not e.dst.startswith("\0")]

    def outputs(self) -> None:
        program = self.graph.program
        wanted: set[str] = set()
        if program.outputs:
            for ref in program.outputs:
                found = self.lookup(_Pending(ref, self.top, "", "", ""))
                if found is not None:
                    wanted.add(self.real(found))
        else:
            # Whatever nothing reads within the step: a delayed edge feeds the next step.
            has_out = {
                e.src
                for e in self.edges
                if e.kind not in (EdgeKind.RECURRENT, EdgeKind.TIED) and e.delay == 0 and e.src != e.dst
            }
            wanted = {
                n.id
                for n in self.nodes
                if n.id not in has_out and n.family is not OpFamily.INPUT and Role.LOSS not in n.roles
            }
        self.nodes = [
            replace(n, roles=(*n.roles, Role.OUTPUT)) if n.id in wanted and Role.OUTPUT not in n.roles else n
            for n in self.nodes
        ]

    def run(self) -> None:
        dims: dict[str, Size] = {d.name: Sym(d.name, d.size) for d in self.graph.dims}
        self.top.env = dims
        plain = self.inputs(self.top)
        self.body(self.graph.program.body, self.top, "", "", plain, frozen=False)
        self.resolve()
        self.outputs()


def expand(graph: Graph) -> Graph:
    """Expand blocks, groups and repeats into nodes, edges and clusters."""
    expander = _Expander(graph)
    try:
        expander.run()
    except _TooLarge as exc:
        message = (
            f"the spec expands to more than {MAX_NODES} nodes (reached at this layer); lower a 'repeat:'"
        )
        return replace(graph, diagnostics=(*graph.diagnostics, Diagnostic(exc.span, message)))
    except _TooDeep as exc:
        message = (
            f"blocks and groups nest more than {MAX_NESTING} levels deep here "
            "(a block calling a block calling …); flatten some of them"
        )
        return replace(graph, diagnostics=(*graph.diagnostics, Diagnostic(exc.span, message)))
    if len(expander.edges) > MAX_EDGES:
        message = (
            f"the spec expands to more than {MAX_EDGES:,} edges (reached at this reference); "
            "fewer layers should read long lists of others"
        )
        span = expander.edges[MAX_EDGES].span
        return replace(graph, diagnostics=(*graph.diagnostics, Diagnostic(span, message)))
    clusters = tuple(expander.clusters)
    return replace(
        graph,
        nodes=tuple(expander.nodes),
        edges=tuple(expander.edges),
        clusters=clusters,
        expanded=True,
        diagnostics=(*graph.diagnostics, *expander.diagnostics, *_unknown_expand_names(graph, clusters)),
    )


def unknown_expand_name(name: str, clusters: tuple[Cluster, ...]) -> str | None:
    """None when ``name`` opens a block (a block call's id or a block's name), else a hint.

    The hint is the nearest name, `` (did you mean 'x'?)``, or that the spec has no blocks.
    """
    known = {c.id for c in clusters} | {c.block for c in clusters if c.block}
    if name in known:
        return None
    return did_you_mean(name, known) or (" (this spec has no blocks)" if not known else "")


def _unknown_expand_names(graph: Graph, clusters: tuple[Cluster, ...]) -> list[Diagnostic]:
    """An error for each name in the spec's ``view: expand`` that opens no block."""
    out = []
    for name, span in zip(graph.view.expand, graph.view.expand_spans, strict=False):
        hint = unknown_expand_name(name, clusters)
        if hint is not None:
            out.append(Diagnostic(span, f"view expand: no block or block call is named {name!r}{hint}"))
    return out
