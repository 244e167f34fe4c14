"""Infer every node's output shape, parameter count and MACs from the op table's rules.

Nodes are visited in topological order of the edges that carry data within one step (data,
skip and undirected edges without a delay); recurrent edges are set aside. A second round
gives ops their delayed inputs (an echo-state reservoir's own previous state adds a weight
matrix), and then every state fed back is checked against the state input it feeds. A node
whose rule fails gets no shape, and the nodes after it are skipped rather than reported.
Copies of a repeat with ``shared: true`` count their parameters once, at the first copy.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .. import sizes
from ..ir import Diagnostic, EdgeKind, Graph, Node, OpFamily, Role, Sym, Totals
from ..ops import OPS, TIEABLE
from ..ops.rules import Call, Result, Shape, ShapeError, show
from .structure import CARRIES, incoming, topological_order

__all__ = ["MAX_COUNT", "infer_shapes"]

# Parameter and MAC counts, of a node and of the whole model, stay below 2**63 (a signed 64-bit
# integer), so that every tool reading `archdraw info --json` can hold them.
MAX_COUNT = 10**18
_LIMIT = "10^18"


def _shared_copy(node: Node, clusters: dict[str, tuple[str, int, bool]]) -> bool:
    """Whether ``node`` is a second or later copy of a repeat whose copies share weights."""
    parent, last = node.id.rsplit(".", 1) if "." in node.id else ("", "")
    if parent in clusters and clusters[parent][2] and last.isdigit() and int(last) > 1:
        return True  # a repeated op
    cluster = node.cluster
    while cluster in clusters:
        up, index, shared = clusters[cluster]
        if shared and index > 1:
            return True
        cluster = up
    return False


def _counted(node: Node, result: Result) -> Result:
    """``result``, when its parameter and MAC counts stay within :data:`MAX_COUNT`."""
    for what, count in (("parameters", result.params), ("MACs", result.macs)):
        if count > MAX_COUNT:
            raise sizes.SizeError(
                f"{node.op} '{node.id}' has about {_magnitude(count)} {what}, more than archdraw counts "
                f"({_LIMIT}); check its sizes"
            )
    return result


def _magnitude(count: int) -> str:
    """``10^24`` for a count of that order (never through a float: the count may be huge)."""
    return f"10^{len(str(count)) - 1}"


def _attrs(node: Node) -> dict[str, object]:
    values: dict[str, object] = {name: spec.default for name, spec in OPS[node.op].attrs.items()}
    values.update((a.name, a.value) for a in node.attrs)
    return values


def infer_shapes(graph: Graph) -> Graph:
    """Fill in ``shape``, ``params`` and ``macs`` of every node; shape errors are located."""
    into = incoming(graph, CARRIES)
    nodes = {n.id: n for n in graph.nodes}
    shapes: dict[str, Shape] = {}
    results: dict[str, Result] = {}
    diagnostics: list[Diagnostic] = []
    failed: set[str] = set()
    order = topological_order(graph, CARRIES)
    ordered = set(order)
    for node_id in (n for n in nodes if n not in ordered):
        diagnostics.append(
            Diagnostic(
                nodes[node_id].span,
                f"'{node_id}' is on a cycle of undirected or data edges; shapes need an order",
            )
        )

    def call(node: Node, delayed: tuple[Shape, ...]) -> Call:
        edges = into[node.id]
        return Call(
            op=node.op,
            node=node.id,
            inputs=tuple(shapes[e.src] for e in edges),
            sources=tuple(e.src for e in edges),
            attrs=_attrs(node),  # type: ignore[arg-type]
            delayed=delayed,
        )

    for node_id in order:
        node = nodes[node_id]
        if any(e.src in failed for e in into[node_id]):
            failed.add(node_id)
            continue
        if node.op == "input":
            if node.shape is None:
                what = "state input" if node.has_role(Role.STATE) else "input"
                diagnostics.append(Diagnostic(node.span, f"{what} '{node_id}' needs 'shape:'"))
                failed.add(node_id)
                continue
            shapes[node_id] = node.shape
            results[node_id] = Result(node.shape)
            continue
        try:
            result = _counted(node, OPS[node.op].rule(call(node, ())))  # type: ignore[misc]
        except (ShapeError, sizes.SizeError) as exc:
            diagnostics.append(Diagnostic(node.span, str(exc)))
            failed.add(node_id)
            continue
        shapes[node_id] = result.shape
        results[node_id] = result

    # Second round: delayed inputs (known now) add their weights; state fed back must fit.
    for e in graph.edges:
        if e.kind is not EdgeKind.RECURRENT or e.src not in shapes or e.dst not in shapes:
            continue
        dst = nodes[e.dst]
        if dst.has_role(Role.STATE):
            fed, state = shapes[e.src], shapes[e.dst]
            if len(fed) != len(state) or not all(sizes.same(a, b) for a, b in zip(fed, state, strict=True)):
                diagnostics.append(
                    Diagnostic(
                        e.span,
                        f"state '{e.dst}' is {show(state)} but '{e.src}' feeds back {show(fed)}",
                    )
                )
    delayed_into: dict[str, list[Shape]] = {}
    for e in graph.edges:
        if e.kind is EdgeKind.RECURRENT and e.src in shapes:
            delayed_into.setdefault(e.dst, []).append(shapes[e.src])
    for node_id in order:
        node = nodes[node_id]
        # A recurrent layer op counts its recurrent weights itself; inputs have none.
        if node_id in failed or node.op == "input" or node.family is OpFamily.RECURRENT:
            continue
        delayed = tuple(delayed_into.get(node_id, ()))
        if delayed:
            try:
                results[node_id] = _counted(node, OPS[node.op].rule(call(node, delayed)))  # type: ignore[misc]
            except (ShapeError, sizes.SizeError) as exc:
                diagnostics.append(Diagnostic(node.span, str(exc)))

    borrowed = _tied(graph, nodes, results, diagnostics)
    clusters = {c.id: (c.parent, c.repeat_index, c.shared) for c in graph.clusters}
    # An undirected link is symmetric: run from the layer back to an input it is linked to, it
    # needs a bias for each of the input's units too (an RBM's visible biases, Hinton's guide
    # §1), which the input, having no weights, does not hold. A layer on both ends of links
    # holds its own bias already.
    visible_bias: dict[str, int] = {}
    for e in graph.edges:
        if e.kind is EdgeKind.UNDIRECTED and nodes[e.src].op == "input" and e.src in shapes and shapes[e.src]:
            visible_bias[e.dst] = visible_bias.get(e.dst, 0) + sizes.value(shapes[e.src][-1])
    updated: list[Node] = []
    for node in graph.nodes:
        found = results.get(node.id)
        if found is None:
            updated.append(node)
            continue
        own = found.params + _learned_start(node, found.shape) + visible_bias.get(node.id, 0)
        own -= borrowed.get(node.id, 0)
        shared = _shared_copy(node, clusters)
        params = 0 if shared else own
        # Statistics of fixed layers are counted as fixed: every value there is untrained.
        statistics = 0 if shared or not node.trainable else found.statistics
        updated.append(
            replace(node, shape=found.shape, params=params, macs=found.macs, statistics=statistics)
        )
    totals = None
    if all(n.params is not None for n in updated):
        totals = Totals(
            params=sum(n.params or 0 for n in updated),
            fixed=sum(n.params or 0 for n in updated if not n.trainable),
            macs=sum(n.macs or 0 for n in updated),
            statistics=sum(n.statistics for n in updated),
        )
        for what, total in (("parameters", totals.params), ("MACs", totals.macs)):
            if total > MAX_COUNT:
                diagnostics.append(
                    Diagnostic(
                        graph.span,
                        f"the model has about {_magnitude(total)} {what}, "
                        f"more than archdraw counts ({_LIMIT})",
                    )
                )
    return replace(graph, nodes=tuple(updated), diagnostics=(*graph.diagnostics, *diagnostics), totals=totals)


def _tied(
    graph: Graph, nodes: dict[str, Node], results: dict[str, Result], diagnostics: list[Diagnostic]
) -> dict[str, int]:
    """Per layer with ``tied:``, the weights it uses from another layer, and so does not hold.

    The two weight matrices must have one shape, or (a dense layer's and an embedding's)
    be each other's transpose: a Transformer's pre-softmax projection, d_model → vocab,
    uses the vocab × d_model embedding table.
    """
    borrowed: dict[str, int] = {}
    for e in graph.edges:
        if e.kind is not EdgeKind.TIED:
            continue
        owner, user = nodes[e.src], nodes[e.dst]
        if owner.id == user.id:
            diagnostics.append(
                Diagnostic(e.span, f"'{user.id}' is tied to itself; name the layer whose weights it uses")
            )
            continue
        if owner.op not in TIEABLE:
            what = "a block or group" if owner.op == "input" else f"{owner.op}, which has no weight matrix"
            diagnostics.append(
                Diagnostic(e.span, f"'{user.id}' is tied to '{owner.id}', {what}; name a layer with weights")
            )
            continue
        if owner.id not in results or user.id not in results:
            continue  # a shape error there is reported already
        mine, theirs = results[user.id].weight, results[owner.id].weight
        if mine == theirs or (len(mine) == 2 and mine == theirs[::-1]):
            borrowed[user.id] = borrowed.get(user.id, 0) + math.prod(mine)
            continue
        diagnostics.append(
            Diagnostic(
                e.span,
                f"'{user.id}' cannot use the weights of '{owner.id}': its weight matrix is "
                f"{_matrix(mine)} but '{owner.id}' holds {_matrix(theirs)}",
            )
        )
    return borrowed


def _matrix(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


def _learned_start(node: Node, shape: Shape) -> int:
    """The weights of a learned initial state (``initial: learned``): one per state value.

    A state input's values are its shape past the batch axis; a recurrent layer's are its
    hidden state (and an LSTM's cell state) per layer and direction.
    """
    if node.initial != "learned":
        return 0
    if node.op == "input":
        count = 1
        for size in shape[1:]:
            count *= sizes.value(size)
        return count
    units = node.attr("units")
    layers = node.attr("num_layers")
    width = sizes.value(units) if isinstance(units, (int, Sym)) and not isinstance(units, bool) else 0
    depth = sizes.value(layers) if isinstance(layers, (int, Sym)) and not isinstance(layers, bool) else 1
    directions = 2 if node.attr("bidirectional") else 1
    return width * depth * directions * (2 if node.op == "lstm" else 1)
