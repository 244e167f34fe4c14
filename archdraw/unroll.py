"""Unrolled in time: the recurrent part drawn once per step, what runs once drawn once.

:func:`unroll` follows the time loops :mod:`archdraw.passes.time` found:

- A node of a loop is copied into every step of it (``h@2`` is ``h`` at step 2), inside a
  cluster per step, with its label and shape for that step: ``h(t−1)`` reads ``h(0)`` at step
  1, and a sequence's time axis is dropped (``N×T×F`` is ``N×F``). A node with a condition on
  the step (``when: step == 1``) is drawn at those steps only.
- A node that runs once is drawn once, outside the steps, and connected to every step that
  reads it; what reduces a sequence (a loss over every frame) reads every step; what a
  sequence ends in (a final state, ``return_sequences: false``) comes from its last step.
- A state carried from step to step runs straight from the step it is computed at to the
  step that reads it (``t−k → t``; ``t+k → t`` for a bidirectional layer's backward
  direction). A state input is drawn at the steps nothing feeds it: there it is the initial
  state, named as such (and as declared: zeros, learned, or an edge from the final state of
  the layer given by ``initial:``).
- Each loop unrolls along its own steps: an encoder's steps, then its decoder's; attention
  reads every encoder step at every decoder step.
"""

from __future__ import annotations

import re
from dataclasses import replace

from . import expr, sizes
from .errors import ArchdrawError
from .ir import Cluster, Edge, EdgeKind, Graph, Loop, Node, OpFamily, Role, Size, Sym, format_shape
from .loader import MAX_STEPS
from .passes.time import size_key

__all__ = ["ViewError", "present", "step_label", "unroll", "unrolled_size"]

MAX_UNROLLED_NODES = 2_000


class ViewError(ArchdrawError, ValueError):
    """A view that cannot be drawn as asked (the message says what to ask instead)."""


_STEP = re.compile(r"\((t|i|j)(?:\s*([−+-])\s*(\d+))?\)")


def step_label(label: str, t: int) -> str:
    """A label at step ``t``: ``h(t−1)`` is ``h(0)`` at step 1, ``y(i)`` is ``y(2)`` at step 2.

    A step written in a label as ``(t)``, ``(t−k)`` or ``(t+k)`` (or with ``i`` or ``j``, as
    decoders and encoders write it) becomes the number of the step it names; other text is
    left as it is. A label that uses two of those letters names two time lines (a decoder's
    step ``i`` reading an encoder's ``h(j)``): only the first of ``t``, ``i``, ``j`` it uses is
    this step.

    >>> step_label("previous word S(t−1)", 1), step_label("x(t)", 3), step_label("c(i+1)", 2)
    ('previous word S(0)', 'x(3)', 'c(3)')
    >>> step_label("W s(i−1) + U h(j)", 2)
    'W s(1) + U h(j)'
    """
    used = {found[1] for found in _STEP.finditer(label)}
    if not used:
        return label
    letter = next(x for x in "tij" if x in used)

    def number(found: re.Match[str]) -> str:
        if found[1] != letter:
            return found[0]
        offset = int(found[3] or 0) * (1 if found[2] == "+" else -1)
        return f"({t + offset})"

    return _STEP.sub(number, label)


def present(node: Node, t: int, steps: int, dims: dict[str, int]) -> bool:
    """Whether ``node`` (of a loop) is computed at step ``t`` of ``steps``: its ``when:`` holds."""
    if not node.step_when:
        return True
    try:
        value = expr.evaluate(expr.parse(node.step_when), {**dims, "step": t, "steps": steps})
    except expr.ExprError:
        return False
    return (value.value if isinstance(value, Sym) else value) != 0


def _per_step(node: Node, loop: Loop) -> tuple[Size, ...] | None:
    """The node's shape at one step: a sequence's time axis (axis 1) dropped."""
    shape = node.shape
    if loop.time is None or shape is None or len(shape) < 2 or size_key(shape[1]) != size_key(loop.time):
        return shape
    return (shape[0], *shape[2:])


def _per_step_text(detail: str, loop: Loop) -> str:
    """A fold's "shape in → shape out" line at one step: the sequence's time axis dropped."""
    if loop.time is None or not detail:
        return detail
    key = size_key(loop.time)
    shapes = []
    for text in detail.split(" → "):
        axes = text.split("×")
        shapes.append("×".join(axes[:1] + axes[2:]) if len(axes) >= 3 and axes[1] == key else text)
    return " → ".join(shapes)


def _local(node_id: str) -> str:
    """The id as written inside its block (``stage.2.conv`` is ``conv``)."""
    return node_id.rsplit(".", 1)[-1]


def _final(node: Node, loop: Loop) -> bool:
    """Whether a node of a sequence's loop is what the sequence ends in (no time axis left)."""
    shape = node.shape
    return (
        loop.time is not None
        and shape is not None
        and not (len(shape) >= 2 and size_key(shape[1]) == size_key(loop.time))
    )


def _steps(loop: Loop, asked: int) -> int:
    """How many steps of ``loop`` are drawn: as asked, but no more than a fixed length it has."""
    return min(asked, loop.time) if isinstance(loop.time, int) else asked


def _carried(layer: Node, t: int) -> str:
    """What a recurrent layer carries from step ``t`` to the next: ``h(1), c(1)`` for an LSTM."""
    held = ("h", "c") if layer.op == "lstm" else ("h",)
    return ", ".join(f"{v}({t})" for v in held)


def unrolled_size(graph: Graph, steps: int) -> int:
    """How many nodes :func:`unroll` draws for ``graph`` at ``steps`` steps."""
    dims = {d.name: d.size for d in graph.dims}
    return sum(
        1 if not n.loop else sum(present(n, t, steps, dims) for t in range(1, steps + 1)) for n in graph.nodes
    )


def unroll(graph: Graph, steps: int) -> Graph:
    """Draw ``steps`` time steps of each loop one after another (see the module docstring)."""
    if not 1 <= steps <= MAX_STEPS:
        raise ViewError(f"unroll takes 1 to {MAX_STEPS} steps, not {steps}")
    if not graph.loops:
        raise ViewError(
            f"'{graph.name}' has nothing to unroll: no value is carried from one time step to the "
            "next (no delayed edge in time, no recurrent layer); draw it without --unroll"
        )
    drawn = unrolled_size(graph, steps)
    if drawn > MAX_UNROLLED_NODES:
        raise ViewError(
            f"{steps} steps of '{graph.name}' are {drawn:,} nodes, more than {MAX_UNROLLED_NODES:,}; "
            "unroll fewer steps or fold blocks (--depth)"
        )
    shown = _Unroller(graph, steps).run()
    if len(shown.nodes) > MAX_UNROLLED_NODES:  # a sequence stacked from parts draws all of them
        raise ViewError(
            f"{steps} steps of '{graph.name}' are {len(shown.nodes):,} nodes, more than "
            f"{MAX_UNROLLED_NODES:,}; unroll fewer steps or fold blocks (--depth)"
        )
    return shown


class _Unroller:
    def __init__(self, graph: Graph, steps: int) -> None:
        self.graph = graph
        self.steps = steps
        self.loops = {loop.id: loop for loop in graph.loops}
        self.position = {loop.id: k for k, loop in enumerate(graph.loops, 1)}
        self.nodes = {n.id: n for n in graph.nodes}
        dims = {d.name: d.size for d in graph.dims}
        # A sequence of a fixed length has no more steps than that.
        self.count = {loop.id: _steps(loop, steps) for loop in graph.loops}
        # A join that stacks parts computed once into the sequence a loop reads (crmn's block
        # summaries, concatenated along the time axis): step k reads part k, straight from it.
        self.stacks: dict[str, list[Edge]] = {}
        parts: dict[str, list[Edge]] = {}
        readers: dict[str, set[str]] = {}
        for e in graph.edges:
            if e.kind in (EdgeKind.DATA, EdgeKind.SKIP) and not e.delay and not e.initial:
                parts.setdefault(e.dst, []).append(e)
                readers.setdefault(e.src, set()).add(self.nodes[e.dst].loop)
        for n in graph.nodes:
            stacked = parts.get(n.id, [])
            loops = readers.get(n.id, set())
            if n.loop or n.op != "concat" or len(loops) != 1 or "" in loops:
                continue
            (reader,) = loops
            length = self.loops[reader].time
            one_each = all(
                (shape := self.nodes[e.src].shape) is not None and len(shape) > 1 and shape[1] == 1
                for e in stacked
            )
            if isinstance(length, int) and n.shape and len(stacked) == length == n.shape[1] and one_each:
                self.stacks[n.id] = stacked
                # Its parts are drawn (once, where they are computed): every one is read, as
                # far as a view unrolls at most.
                self.count[reader] = max(self.count[reader], min(length, MAX_STEPS))
        self.at: dict[str, list[int]] = {
            n.id: [t for t in range(1, self.count[n.loop] + 1) if present(n, t, self.count[n.loop], dims)]
            if n.loop
            else [0]
            for n in graph.nodes
        }
        # What feeds each state input, by a delay in time: where it is fed, it is not drawn.
        self.feeding: dict[str, list[Edge]] = {}
        for e in graph.edges:
            if self.timed(e) and self.nodes[e.dst].has_role(Role.STATE):
                self.feeding.setdefault(e.dst, []).append(e)
        # A recurrent layer whose state the spec feeds back through a state input (as an
        # attention query) that it does not read itself still carries its state to its next
        # step: attention's decoder GRU s(i) reads s(i−1).
        read = {(e.src, e.dst) for e in graph.edges if not e.delay}
        self.owned = [
            e
            for e in graph.edges
            if self.timed(e)
            and e.dst in self.feeding
            and self.nodes[e.src].family is OpFamily.RECURRENT
            and (e.dst, e.src) not in read
        ]

    @staticmethod
    def timed(e: Edge) -> bool:
        return e.kind is EdgeKind.RECURRENT and e.axis == "time"

    def copy_id(self, node_id: str, t: int) -> str:
        return node_id if t == 0 else f"{node_id}@{t}"

    def step_cluster(self, loop: str, t: int) -> str:
        return f"step{t}" if len(self.loops) == 1 else f"step{self.position[loop]}.{t}"

    def source_step(self, e: Edge, t: int) -> int:
        """The step a delayed edge into step ``t`` comes from: earlier, or later when reverse."""
        return t + e.delay if e.reverse else t - e.delay

    def fed_at(self, state: str, t: int) -> Edge | None:
        """The delayed edge that feeds state input ``state`` at step ``t``, if any step does."""
        for e in self.feeding.get(state, []):
            if self.source_step(e, t) in self.at[e.src]:
                return e
        return None

    def run(self) -> Graph:
        graph = self.graph
        clusters = self.clusters()
        nodes: list[Node] = []
        drawn: set[str] = set()
        for n in graph.nodes:
            if n.id in self.stacks:
                continue  # each step reads its part straight from where it is computed
            for t in self.at[n.id]:
                if t and self.fed_at(n.id, t) is not None:
                    continue  # fed from an earlier step: that step's edge says it
                nodes.append(self.copy(n, t))
                drawn.add(self.copy_id(n.id, t))
        edges: list[Edge] = []
        seen: set[tuple[str, str, EdgeKind, int, bool, bool, str]] = set()
        for e in self.edges():
            key = (e.src, e.dst, e.kind, e.delay, e.reverse, e.initial, e.label)
            if e.src in drawn and e.dst in drawn and key not in seen:
                seen.add(key)  # attention's keys and values from one layer: one edge
                edges.append(e)
        return replace(graph, nodes=tuple(nodes), edges=tuple(edges), clusters=clusters, steps=self.steps)

    def copy(self, n: Node, t: int) -> Node:
        if t == 0:
            return replace(n, origin=n.id)
        loop = self.loops[n.loop]
        cluster = (
            f"{n.cluster}{self.cluster_suffix(n.loop, t)}" if n.cluster else self.step_cluster(n.loop, t)
        )
        label = step_label(n.label, t)
        if label == n.label and _per_step(n, loop) != n.shape and (n.label or not n.auto_id):
            # One element of a sequence (a word of the sentence): it says which.
            label = f"{n.label or _local(n.id)} ({t})"
        note = step_label(n.note, t)
        if _final(n, loop) and t != self.at[n.id][-1]:
            note = ""  # what the sequence ends in is said at its last step ("its last state is …")
        copy = replace(
            n,
            id=self.copy_id(n.id, t),
            cluster=cluster,
            label=label,
            note=note,
            shape=_per_step(n, loop),
            step=t,
            origin=n.id,
        )
        if n.has_role(Role.STATE) and n.id in self.feeding:
            # Nothing feeds it at this step: it is the initial state, not one fed back. (A
            # state along another axis, Grid LSTM's depth, is fed within the step: it stays.)
            roles = tuple(r for r in n.roles if r is not Role.STATE)
            what = {"zeros": "initial state: zeros", "learned": "learned initial state"}
            note = what.get(n.initial, "initial state")
            if n.note:  # what the spec says of it (a start word, padding) holds here too
                note = f"{note} · {step_label(n.note, t)}"
            copy = replace(copy, roles=(*roles, Role.INPUT), note=note)
        return copy

    def cluster_suffix(self, loop: str, t: int) -> str:
        return f"@{t}" if len(self.loops) == 1 else f"@{self.position[loop]}.{t}"

    def clusters(self) -> tuple[Cluster, ...]:
        graph = self.graph
        by_id = {c.id: c for c in graph.clusters}
        # Which steps of which loops (and whether once) each cluster holds a drawn node at.
        held: dict[str, set[tuple[str, int]]] = {c.id: set() for c in graph.clusters}
        for n in graph.nodes:
            cid = n.cluster
            while cid in by_id:
                for t in self.at[n.id]:
                    held[cid].add((n.loop, t))
                cid = by_id[cid].parent
        out: list[Cluster] = []
        for loop in graph.loops:
            prefix = f"{loop.label} · " if loop.label else ""
            count = self.count[loop.id]
            # Fewer steps drawn than a fixed-length sequence has: the last says how many there are.
            more = (
                f" of {size_key(loop.time)}"
                if loop.time is not None and count < sizes.value(loop.time)
                else ""
            )
            for t in range(1, count + 1):
                label = f"{prefix}t = {t}" + (more if t == count else "")
                out.append(Cluster(self.step_cluster(loop.id, t), label, "", graph.span))
        for c in graph.clusters:
            if ("", 0) in held[c.id]:
                out.append(c)
            for loop_id, t in sorted(k for k in held[c.id] if k[1]):
                suffix = self.cluster_suffix(loop_id, t)
                parent = f"{c.parent}{suffix}" if c.parent else self.step_cluster(loop_id, t)
                detail = _per_step_text(c.detail, self.loops[loop_id])
                out.append(replace(c, id=f"{c.id}{suffix}", parent=parent, detail=detail))
        return tuple(out)

    def last(self, node_id: str) -> list[int]:
        """The step a node's final value is read from: its last (0 for a node drawn once)."""
        return self.at[node_id][-1:]

    def after(self, node: Node, what: str) -> str:
        """What an edge of a final value says when its sequence has more steps than are drawn.

        The value is the one after the sequence's last step ("initial state, after step S"),
        not after the last one drawn.
        """
        loop = self.loops.get(node.loop)
        if loop is None or loop.time is None or self.count[loop.id] >= sizes.value(loop.time):
            return ""
        return f"{what + ', ' if what else ''}after step {size_key(loop.time)}"

    def edges(self) -> list[Edge]:
        out: list[Edge] = []
        for e in self.owned:
            layer, state = self.nodes[e.src], self.nodes[e.dst]
            for t in self.at[e.src]:
                s = self.source_step(e, t)
                if s in self.at[e.src]:
                    # Named as the spec names the state (s(i−1)), unless it holds more than the
                    # output the state input gets (an LSTM's cell too).
                    named = step_label(state.label, t) if state.label and layer.op != "lstm" else ""
                    label = named or _carried(layer, s)
                    out.append(
                        replace(e, src=self.copy_id(e.src, s), dst=self.copy_id(e.src, t), label=label)
                    )
                elif t in self.at[e.dst]:  # the state input is its initial state here: it starts it
                    out.append(
                        Edge(
                            self.copy_id(e.dst, t),
                            self.copy_id(e.src, t),
                            EdgeKind.DATA,
                            e.span,
                            label="initial state",
                        )
                    )
        for e in self.graph.edges:
            src, dst = self.nodes[e.src], self.nodes[e.dst]
            if e.kind is EdgeKind.TIED:  # one matrix: said once, between the first copies
                out.append(
                    replace(
                        e,
                        src=self.copy_id(e.src, self.at[e.src][0]),
                        dst=self.copy_id(e.dst, self.at[e.dst][0]),
                    )
                )
                continue
            if e.initial:
                for s in self.last(e.src):
                    for d in self.at[e.dst][:1]:
                        label = e.label or self.after(src, "initial state")
                        out.append(
                            replace(e, src=self.copy_id(e.src, s), dst=self.copy_id(e.dst, d), label=label)
                        )
                continue
            if self.timed(e):
                for t in self.at[e.dst]:
                    s = self.source_step(e, t)
                    if s in self.at[e.src] and not dst.has_role(Role.STATE):
                        label = _carried(src, s) if e.src == e.dst else ""
                        out.append(
                            replace(e, src=self.copy_id(e.src, s), dst=self.copy_id(e.dst, t), label=label)
                        )
                continue
            if src.has_role(Role.STATE) and src.loop:
                out.extend(self.from_state(e))
                continue
            out.extend(self.spread(e, src, dst))
        return out

    def from_state(self, e: Edge) -> list[Edge]:
        """What a state input feeds: at its initial steps from it, at the others from its source."""
        state = self.nodes[e.src]
        out: list[Edge] = []
        for t in self.at[e.dst] if self.nodes[e.dst].loop == state.loop else []:
            if t not in self.at[state.id]:
                continue
            fed = self.fed_at(state.id, t)
            if fed is None:
                out.append(replace(e, src=self.copy_id(state.id, t), dst=self.copy_id(e.dst, t)))
            else:
                s = self.source_step(fed, t)
                out.append(
                    replace(
                        e,
                        src=self.copy_id(fed.src, s),
                        dst=self.copy_id(e.dst, t),
                        kind=EdgeKind.RECURRENT,
                        # Written as data from the state input: read like an input at this step.
                        declared=EdgeKind.DATA,
                        delay=fed.delay,
                        reverse=fed.reverse,
                        label=step_label(state.label, t) if state.label else "",
                    )
                )
        return out

    def spread(self, e: Edge, src: Node, dst: Node) -> list[Edge]:
        """An edge between copies: step to step in one loop, else from and to every step read."""
        if e.src in self.stacks:
            stacked = self.stacks[e.src]
            return [
                replace(stacked[d - 1], dst=self.copy_id(e.dst, d), kind=e.kind)
                for d in self.at[e.dst]
                if d <= len(stacked)
            ]
        if src.loop == dst.loop:
            return [
                replace(e, src=self.copy_id(e.src, t), dst=self.copy_id(e.dst, t))
                for t in self.at[e.dst]
                if t in self.at[e.src]
            ]
        final = bool(src.loop) and _final(src, self.loops[src.loop])
        sources = self.last(e.src) if final else self.at[e.src]
        label = e.label or (self.after(src, "") if final else "")
        if not src.loop and dst.loop and not label:
            # A sequence computed once, read at each step: each step reads one element of it.
            element = _per_step(src, self.loops[dst.loop])
            if element is not None and element != src.shape:
                label = f"{format_shape(element)}, one per step"
        return [
            replace(e, src=self.copy_id(e.src, s), dst=self.copy_id(e.dst, d), label=label)
            for d in self.at[e.dst]
            for s in sources
        ]
