"""Views of an analysed graph: repeats folded to one copy, blocks collapsed below a depth.

A view answers a question about the same model at a chosen level of detail. It returns a new
:class:`~archdraw.ir.Graph` (the analysed one is not changed), whose totals still describe the
whole model, and notes on what it folded on its own.

- Folding a repeat keeps its first copy, inside the repeat's cluster, which is labelled "×N"
  (its ``detail`` holds the shapes going in and out); edges between copies are dropped, and
  edges to or from later copies are drawn to or from the first, which counts the weights and
  MACs of every copy folded into it, and is an output when one of them is.
- Collapsing a block (``depth``) draws everything inside it as one node, with the block's
  output shape and its parameter total, marked an output when it holds one; a recurrent edge
  inside it stays, as a loop on it.
- ``expand`` names blocks (by id or block name) that are never collapsed or folded.
- When a view would exceed ``max_nodes``, deeper blocks are collapsed until it fits, and a
  note says so, rather than handing the layout engine a graph it takes minutes to draw.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .ir import (
    Attr,
    Cluster,
    Diagnostic,
    Edge,
    EdgeKind,
    Graph,
    Node,
    OpFamily,
    Role,
    Size,
    ViewDefaults,
    format_shape,
)
from .passes.expand import copy_title, unknown_expand_name
from .unroll import MAX_UNROLLED_NODES, ViewError, step_label, unroll, unrolled_size

__all__ = [
    "COPIES",
    "DEFAULT_MAX_NODES",
    "DEFAULT_MAX_UNROLLED_NODES",
    "MAX_UNROLLED_NODES",
    "SHARED",
    "View",
    "ViewError",
    "apply_view",
    "check_view",
    "collapse",
    "fold_repeats",
    "step_label",
    "unroll",
]

DEFAULT_MAX_NODES = 40
#: the budget of an unrolled view, for the whole picture: a few steps of a model whose
#: rolled view fits in DEFAULT_MAX_NODES
DEFAULT_MAX_UNROLLED_NODES = 120


@dataclass(frozen=True, slots=True)
class View:
    """What to show: see the module docstring."""

    depth: int | None = None
    expand: tuple[str, ...] = ()
    expand_repeats: bool = False
    unroll: int = 0
    #: None: DEFAULT_MAX_NODES, or DEFAULT_MAX_UNROLLED_NODES for an unrolled view
    max_nodes: int | None = None

    @property
    def budget(self) -> int:
        """The most nodes the view draws before it folds deeper blocks (the whole picture)."""
        if self.max_nodes is not None:
            return self.max_nodes
        return DEFAULT_MAX_UNROLLED_NODES if self.unroll else DEFAULT_MAX_NODES

    @classmethod
    def of(cls, defaults: ViewDefaults) -> View:
        """The view a spec's ``view:`` section asks for."""
        return cls(
            depth=defaults.depth,
            expand=defaults.expand,
            expand_repeats=defaults.expand_repeats,
            unroll=defaults.unroll,
            max_nodes=defaults.max_nodes,
        )


def _depths(clusters: Iterable[Cluster]) -> dict[str, int]:
    by_id = {c.id: c for c in clusters}
    depths: dict[str, int] = {}

    def depth(cid: str) -> int:
        if cid not in depths:
            parent = by_id[cid].parent
            depths[cid] = 1 if parent not in by_id else depth(parent) + 1
        return depths[cid]

    for cid in by_id:
        depth(cid)
    return depths


def _ancestors(cluster: str, by_id: dict[str, Cluster]) -> list[str]:
    """``cluster`` and the clusters around it, innermost first."""
    chain: list[str] = []
    while cluster in by_id:
        chain.append(cluster)
        cluster = by_id[cluster].parent
    return chain


def _expanded(graph: Graph, names: tuple[str, ...]) -> set[str]:
    """Clusters named by ``names`` (ids or block names) and every cluster around them."""
    by_id = {c.id: c for c in graph.clusters}
    chosen = {c.id for c in graph.clusters if c.id in names or (c.block and c.block in names)}
    opened: set[str] = set()
    for cid in chosen:
        opened.update(_ancestors(cid, by_id))
    return opened


def _check_names(graph: Graph, names: tuple[str, ...]) -> None:
    """A name to expand that opens nothing is a mistake: say so, with the nearest name."""
    for name in names:
        hint = unknown_expand_name(name, graph.clusters)
        if hint is not None:
            raise ViewError(f"cannot expand {name!r}: no block or block call has that name{hint}")


def _remap_edges(edges: Iterable[Edge], target: dict[str, str], keep_loops: bool) -> tuple[Edge, ...]:
    """Edges with endpoints renamed; loops dropped unless recurrent; duplicates merged.

    A skip that comes to run beside a data edge between the same two nodes skips nothing at
    this level (its join is inside a collapsed block, which says it is residual): it goes.
    """
    seen: set[tuple[str, str, EdgeKind, int, str, bool]] = set()
    out: list[Edge] = []
    for e in edges:
        src, dst = target.get(e.src, e.src), target.get(e.dst, e.dst)
        if src == dst and e.src != e.dst and not (keep_loops and e.kind is EdgeKind.RECURRENT):
            continue
        key = (src, dst, e.kind, e.delay, e.axis, e.reverse)
        if key in seen:
            continue
        seen.add(key)
        out.append(e if (src, dst) == (e.src, e.dst) else replace(e, src=src, dst=dst))
    beside = {(e.src, e.dst) for e in out if e.kind is EdgeKind.DATA and e.delay == 0}
    return tuple(e for e in out if not (e.kind is EdgeKind.SKIP and (e.src, e.dst) in beside))


def _residual_joins(graph: Graph) -> set[str]:
    """The residual sums a skip connection ends at.

    A concat a skip ends at (U-Net's copy and crop, a dense block) makes no residual block.
    """
    joins = {n.id for n in graph.nodes if n.op in _RESIDUAL_OPS}
    return {e.dst for e in graph.edges if e.kind is EdgeKind.SKIP and e.dst in joins}


def _residual_inside(
    members: list[Node],
    ids: set[str],
    residual: set[str],
    skips_into: dict[str, list[str]],
    readers: dict[str, list[str]],
) -> int:
    """The residual joins of a block whose shortcut runs inside it.

    A skip into the join must start inside the block, or at a value the block's own layers
    also read: a shortcut around layers that are outside the block (BERT's self-output, whose
    sum adds what bypassed the attention beside it) does not make the block residual.
    """
    count = 0
    for n in members:
        if n.id not in residual:
            continue
        for src in skips_into.get(n.id, ()):
            if src in ids or any(r in ids and r != n.id for r in readers.get(src, ())):
                count += 1
                break
    return count


def _boundary_shapes(
    members: set[str], touching: list[Edge], shapes: dict[str, tuple[Size, ...] | None]
) -> tuple[str, str]:
    """The shapes flowing into and out of a set of nodes, as label text.

    ``touching`` holds (at least) the edges with an end in ``members``, in graph order.
    """
    flowing = [e for e in touching if e.kind in (EdgeKind.DATA, EdgeKind.SKIP) and not e.delay]
    into = [shapes[e.src] for e in flowing if e.dst in members and e.src not in members]
    out = [shapes[e.src] for e in flowing if e.src in members and e.dst not in members]
    first_in = next((s for s in into if s is not None), None)
    last_out = next((s for s in reversed(out) if s is not None), None)
    return (
        format_shape(first_in) if first_in is not None else "",
        format_shape(last_out) if last_out is not None else "",
    )


def collapse(graph: Graph, depth: int, keep_open: set[str]) -> Graph:
    """Draw every cluster at ``depth`` (top level is 1) as one node, except those kept open."""
    by_id = {c.id: c for c in graph.clusters}
    depths = _depths(graph.clusters)
    # One pass from the outside in (parents have smaller depths): a cluster is drawn as a node
    # when it is deep enough, not kept open, and no cluster around it is drawn as one already.
    # ``owner`` is the cluster drawn as a node that a cluster is inside of (or itself), if any.
    owner: dict[str, str | None] = {}
    chosen_ids: set[str] = set()
    for c in sorted(graph.clusters, key=lambda c: depths[c.id]):
        around = owner.get(c.parent) if c.parent in by_id else None
        if around is None and depths[c.id] >= depth and c.id not in keep_open:
            chosen_ids.add(c.id)
            around = c.id
        owner[c.id] = around
    if not chosen_ids:
        return graph
    target: dict[str, str] = {}
    members: dict[str, list[Node]] = {cid: [] for cid in chosen_ids}
    for n in graph.nodes:
        cid = owner.get(n.cluster) if n.cluster else None
        if cid is not None:
            target[n.id] = cid
            members[cid].append(n)
    readers: dict[str, list[str]] = {}
    for e in graph.edges:
        if e.kind is not EdgeKind.RECURRENT:
            readers.setdefault(e.src, []).append(e.dst)
    residual = _residual_joins(graph)
    skips_into: dict[str, list[str]] = {}
    for e in graph.edges:
        if e.kind is EdgeKind.SKIP:
            skips_into.setdefault(e.dst, []).append(e.src)
    dense = {c.id for c in graph.clusters if c.dense}
    nodes: list[Node] = []
    placed: set[str] = set()
    for n in graph.nodes:
        if n.id not in target:
            nodes.append(n)
            continue
        cid = target[n.id]
        if cid in placed:
            continue
        placed.add(cid)
        nodes.append(_block_node(by_id[cid], members[cid], readers, residual, dense, skips_into))
    hidden = {cid for cid, around in owner.items() if around is not None}
    return replace(
        graph,
        nodes=tuple(nodes),
        edges=_remap_edges(graph.edges, target, keep_loops=True),
        clusters=tuple(c for c in graph.clusters if c.id not in hidden),
    )


def _block_node(
    cluster: Cluster,
    members: list[Node],
    readers: dict[str, list[str]],
    residual: set[str],
    dense: set[str],
    skips_into: dict[str, list[str]],
) -> Node:
    """One node standing for a whole cluster.

    ``readers`` lists the nodes each node feeds, by edges other than recurrent ones;
    ``residual`` the joins skips end at. A block holding such joins says how many (attribute
    ``residual``), so that a residual block reads as one when its shortcut is inside it; one
    holding bottlenecks says so too (``bottlenecks``), and one holding a densely connected
    repeat's concatenations (``dense``, the clusters of such repeats) that its layers are.
    """
    ids = {n.id for n in members}
    out_node = next(
        (n for n in reversed(members) if any(dst not in ids for dst in readers.get(n.id, ()))),
        members[-1],
    )
    count = f"×{cluster.repeat_count}" if cluster.repeat_count > 1 and cluster.repeat_index == 0 else ""
    what = cluster.kind or "group"
    # Layers as papers count them (a ResNet bottleneck is 3): those with weights that compute
    # (not a norm's scale, not a projection on the shortcut); a block of none counts them all.
    counted = sum(1 for n in members if n.family in _COUNTED and not n.has_role(Role.SHORTCUT)) or len(
        members
    )
    layers = f"{counted} layer{'s' if counted != 1 else ''}"
    if "layer" in what.split() or re.search(r"[a-z]Layer\W*$", what):
        # A block that is itself a layer (a Transformer's encoder layer, DenseNet's dense
        # layer): its papers count it as one, so its weight layers go uncounted.
        layers = ""
    note = " · ".join(x for x in (what, count, layers) if x)
    # A block holding one of the model's outputs is drawn as one (green), as the layer would be.
    output = any(n.has_role(Role.OUTPUT) for n in members)
    return Node(
        id=cluster.id,
        op="block",
        family=OpFamily.BLOCK,
        # Coloured like the layers that carry its weights (a convolution block is blue).
        attrs=(
            Attr("family", max(members, key=lambda n: n.params or 0).family.value, cluster.span),
            Attr("residual", _residual_inside(members, ids, residual, skips_into, readers), cluster.span),
            Attr("dense", int(any(n.cluster in dense for n in members)), cluster.span),
            Attr("bottlenecks", sum(1 for n in members if n.has_role(Role.BOTTLENECK)), cluster.span),
            Attr("held", len(members), cluster.span),
        ),
        span=cluster.span,
        label=cluster.label,
        note=note,  # the shapes going in and out are on its edges
        cluster=cluster.parent,
        trainable=all(n.trainable for n in members),
        roles=(Role.OUTPUT,) if output else (),
        shape=out_node.shape,
        params=sum(n.params or 0 for n in members),
        macs=sum(n.macs or 0 for n in members),
        # A block with a part that runs at every step runs at every step.
        loop=next((n.loop for n in members if n.loop), ""),
    )


def fold_repeats(graph: Graph, keep_open: set[str]) -> Graph:
    """Keep one copy of every repeat not kept open (one per distinct structure)."""
    folded = sorted(
        # A densely connected repeat is never folded: each copy reads every copy before it,
        # which one copy cannot show (its blocks are collapsed instead when it is too large).
        (
            c
            for c in graph.clusters
            if c.repeat_index == 0 and c.repeat_count > 1 and c.id not in keep_open and not c.dense
        ),
        key=lambda c: len(c.id),
    )
    if not folded:
        return graph
    by_id = {c.id: c for c in graph.clusters}
    folded_ids = {c.id for c in folded}
    inside: dict[str, set[str]] = {c.id: set() for c in folded}
    for n in graph.nodes:
        for cid in _ancestors(n.cluster, by_id):
            if cid in inside:
                inside[cid].add(n.id)
    # Every lookup below goes by an id's clusters or prefixes, never over all folded clusters: a
    # spec can have thousands of repeats (one inside each repetition of another).
    cluster_of = {n.id: n.cluster for n in graph.nodes}
    touching: dict[str, list[Edge]] = {cid: [] for cid in inside}
    for e in graph.edges:
        around = {c for end in (e.src, e.dst) for c in _ancestors(cluster_of.get(end, ""), by_id)}
        for cid in sorted(around & folded_ids):
            touching[cid].append(e)
    node_shapes = {n.id: n.shape for n in graph.nodes}
    shapes = {c.id: _boundary_shapes(inside[c.id], touching[c.id], node_shapes) for c in folded}

    # Copies that differ in structure (a ResNet stage's first block projects its shortcut, the
    # others do not) each keep one representative; alike copies fold into the first of them.
    signatures: dict[tuple[str, int], list[tuple[str, str, str]]] = {}
    for n in graph.nodes:
        parts = n.id.split(".")
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if prefix in folded_ids and parts[i].isdigit():
                suffix = ".".join(parts[i + 1 :])
                # A collapsed block is told apart by what it holds: its kind and every node in
                # it (a projecting first block holds one more than the identity blocks).
                held = f"{n.note} · {n.attr('held')}" if n.op == "block" else ""
                signatures.setdefault((prefix, int(parts[i])), []).append((suffix, n.op, held))
    rep: dict[tuple[str, int], int] = {}
    members: dict[tuple[str, int], int] = {}
    first_of: dict[tuple[str, tuple[tuple[str, str, str], ...]], int] = {}
    for (cid, k), sig in sorted(signatures.items(), key=lambda item: (item[0][0], item[0][1])):
        key = (cid, tuple(sorted(sig)))
        first = first_of.setdefault(key, k)
        rep[(cid, k)] = first
        members[(cid, first)] = members.get((cid, first), 0) + 1

    def copy_label(node_or_cluster_id: str) -> str | None:
        """The title of a kept copy: "conv3 1/4" for one copy, "conv3 ×3" for several alike."""
        head, _, index = node_or_cluster_id.rpartition(".")
        if head not in folded_ids or not index.isdigit():
            return None
        count = members.get((head, int(index)), 1)
        base = by_id[head].label
        return f"{base} ×{count}" if count > 1 else copy_title(base, int(index), by_id[head].repeat_count)

    def representative(node_id: str) -> str:
        # Shorter prefixes first, each tested on the id as rewritten so far (as 'folded' is sorted).
        parts = node_id.split(".")
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if prefix in folded_ids and parts[i].isdigit():
                parts[i] = str(rep.get((prefix, int(parts[i])), 1))
        return ".".join(parts)

    def folded_together(src: str, dst: str) -> str | None:
        """The repeat in whose different copies ``src`` and ``dst`` are, when those fold into one."""
        a, b = src.split("."), dst.split(".")
        for i in range(1, min(len(a), len(b))):
            if a[:i] != b[:i]:
                return None
            prefix = ".".join(a[:i])
            if prefix in folded_ids and a[i].isdigit() and b[i].isdigit() and a[i] != b[i]:
                together = rep.get((prefix, int(a[i]))) == rep.get((prefix, int(b[i])))
                return prefix if together else None
        return None

    target = {n.id: representative(n.id) for n in graph.nodes}
    # Edges between copies that fold together (the chain, shortcuts from the previous copy) go;
    # where the copies share their weights, the chain is a recursion: one loop on the kept copy
    # says the block is applied again to its own output, and how often.
    edges = []
    for e in graph.edges:
        repeat = folded_together(e.src, e.dst)
        if repeat is None:
            edges.append(e)
        elif by_id[repeat].shared and e.kind is EdgeKind.DATA and e.delay == 0:
            count = by_id[repeat].repeat_count
            edges.append(replace(e, kind=EdgeKind.RECURRENT, axis=RECURSION, label=f"×{count}, same weights"))
    kept = {(cid, k) for (cid, k), first in rep.items() if first == k}
    kept_of = Counter(cid for cid, _ in kept)  # counted once: thousands of repeats may fold
    single = {cid for cid in folded_ids if kept_of[cid] == 1}
    # A repeat whose copies all fold into one draws that copy straight inside its cluster.
    merged = {f"{cid}.{k}": cid for cid, k in kept if cid in single}

    def prefixes(cid: str) -> list[str]:
        parts = cid.split(".")
        return [".".join(parts[:i]) for i in range(1, len(parts))]

    dropped: set[str] = set()
    for cl in graph.clusters:
        head, _, index = cl.id.rpartition(".")
        if head in folded_ids and index.isdigit() and (head, int(index)) not in kept:
            dropped.add(cl.id)
    dropped |= {cl.id for cl in graph.clusters if any(p in dropped for p in prefixes(cl.id))}
    clusters: list[Cluster] = []
    for cl in graph.clusters:
        if cl.id in dropped or cl.id in merged:
            continue
        parent = merged.get(cl.parent, cl.parent)
        if cl.id in shapes:
            into, out = shapes[cl.id]
            cl = replace(cl, detail=f"{into} → {out}" if into and out else "")
        if (title := copy_label(cl.id)) is not None:
            cl = replace(cl, label=title)
        clusters.append(replace(cl, parent=parent) if parent != cl.parent else cl)

    # A kept copy stands for every copy folded into it: it counts all their weights and MACs
    # (VGG's conv3 ×3 holds conv3_1's and the two larger ones'), says how many it is, and is an
    # output when one of them is (the last copy of a repeat the model ends in).
    params: Counter[str] = Counter()
    macs: Counter[str] = Counter()
    copies: Counter[str] = Counter()
    shared: set[str] = set()
    outputs: set[str] = set()
    for n in graph.nodes:
        params[target[n.id]] += n.params or 0
        macs[target[n.id]] += n.macs or 0
        copies[target[n.id]] += 1
        if n.has_role(Role.OUTPUT):
            outputs.add(target[n.id])
        if target[n.id] != n.id and any(
            by_id[c].shared for c in _ancestors(n.cluster, by_id) if c in folded_ids
        ):
            shared.add(target[n.id])
    nodes = []
    for n in graph.nodes:
        if target[n.id] != n.id:
            continue
        if n.cluster in merged:
            n = replace(n, cluster=merged[n.cluster])
        if n.op == "block" and (title := copy_label(n.id)) is not None:
            n = replace(n, label=title)
        if n.id in outputs and not n.has_role(Role.OUTPUT):
            n = replace(n, roles=(*n.roles, Role.OUTPUT))
        if copies[n.id] > 1:
            n = replace(
                n,
                params=params[n.id] if n.params is not None else None,
                macs=macs[n.id] if n.macs is not None else None,
                attrs=(*n.attrs, Attr(COPIES, copies[n.id], n.span), Attr(SHARED, n.id in shared, n.span)),
            )
        nodes.append(n)
    return replace(
        graph,
        nodes=tuple(nodes),
        edges=_remap_edges(edges, target, keep_loops=True),
        clusters=tuple(clusters),
    )


def check_view(graph: Graph) -> list[Diagnostic]:
    """An error at the spec's ``view:`` when the view it asks for cannot be drawn.

    ``archdraw validate`` reports it, so that what ``render`` and the gallery would refuse is
    caught where specs are checked.
    """
    try:
        apply_view(graph, View.of(graph.view))
    except ViewError as exc:
        return [Diagnostic(graph.view.span or graph.span, f"view: {exc}")]
    return []


_COUNTED = frozenset(
    {
        OpFamily.CONVOLUTION,
        OpFamily.DENSE,
        OpFamily.RECURRENT,
        OpFamily.ATTENTION,
        OpFamily.EMBEDDING,
        OpFamily.MEMORY,
    }
)
RECURSION = "recursion"  # the axis of a folded shared repeat's loop: applied again, same weights
COPIES = "folded_copies"  # the attribute of a kept copy: how many copies of a repeat it stands for
SHARED = "folded_shared"  # and whether they share one set of weights (counted once)
_RESIDUAL_OPS = frozenset({"add", "sub"})

# The last view worked out: check_view and the render after it ask for the same one.
_last: list[tuple[Graph, View, tuple[Graph, tuple[str, ...]]]] = []


def apply_view(graph: Graph, view: View = View()) -> tuple[Graph, tuple[str, ...]]:
    """The graph as ``view`` shows it, and notes on what was folded to stay within budget."""
    if not graph.expanded:
        raise ValueError("a view needs an analysed graph: run archdraw.analyze() first")
    if _last and _last[0][0] is graph and _last[0][1] == view:
        return _last[0][2]
    answer = _apply_view(graph, view)
    _last[:] = [(graph, view, answer)]
    return answer


def _apply_view(graph: Graph, view: View) -> tuple[Graph, tuple[str, ...]]:
    _check_names(graph, view.expand)
    if view.unroll and not graph.loops:
        raise ViewError(
            f"'{graph.name}' has nothing to unroll: no value is carried from one time step to the "
            "next (no delayed edge in time, no recurrent layer); draw it without --unroll"
        )
    keep_open = _expanded(graph, view.expand)
    notes: list[str] = []
    tried: dict[int | None, Graph] = {}

    def shown(depth: int | None) -> Graph:
        if depth not in tried:
            g = graph if depth is None else collapse(graph, depth, keep_open)
            tried[depth] = g if view.expand_repeats else fold_repeats(g, keep_open)
        return tried[depth]

    def size(g: Graph) -> int:
        """The nodes drawn: the whole unrolled picture when unrolled."""
        return unrolled_size(g, view.unroll) if view.unroll else len(g.nodes)

    result = shown(view.depth)
    budget = view.budget
    what = f"{view.unroll} steps unrolled: " if view.unroll else ""
    if size(result) > budget and (view.expand_repeats or view.depth is not None):
        # Asked for (every repetition, or blocks open to a depth): drawn as asked, however large.
        notes.append(
            f"{what}{size(result)} nodes are drawn, more than {budget}, as asked "
            "(--depth folds blocks into single nodes)"
        )
    elif size(result) > budget:
        deepest = max(_depths(graph.clusters).values(), default=0)
        start = deepest if view.depth is None else view.depth - 1
        if start >= 1:
            # The deepest depth whose drawing fits (else depth 1). Folding at a smaller depth
            # never draws more nodes, so a bisection finds it in a few foldings, not one per depth.
            low, high = 1, start
            while low < high:
                middle = (low + high + 1) // 2
                if size(shown(middle)) <= budget:
                    low = middle
                else:
                    high = middle - 1
            notes.append(
                f"{what}{size(result)} nodes are more than {budget}: blocks from depth {low} down "
                "are drawn as single nodes (--depth, --expand or --max-nodes change this)"
            )
            result = shown(low)
    if view.unroll:
        result = unroll(result, view.unroll)
    return result, tuple(notes)
