"""The loader: spans of every value, strict YAML, typed attributes, programs as written."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import archdraw
from archdraw import source
from archdraw.errors import SpecError
from archdraw.ir import EdgeKind, Role, Span
from archdraw.source import MAX_DEPTH, YMap, YScalar, YSeq, decode, parse

SPEC = """archdraw: 1
name: spans
dims: {N: 1, H: 8}
inputs:
  x: {shape: [N, 4]}
  h_prev: {shape: [N, H * 2], from: h, delay: 2, axis: depth}
layers:
  h:
    op: dense
    in: [x]
    units: H * 2
    act: tanh
    trainable: false
  s: {op: add, in: [h, h_prev]}
"""


def test_every_value_keeps_its_span() -> None:
    root = parse(SPEC, "s.yaml")
    assert isinstance(root, YMap)
    layers = root.get("layers")
    assert isinstance(layers, YMap)
    h = layers.get("h")
    assert isinstance(h, YMap)
    units = h.get("units")
    assert isinstance(units, YScalar)
    assert (units.value, units.span) == ("H * 2", Span("s.yaml", 11, 12))
    s = layers.get("s")
    assert isinstance(s, YMap)
    refs = s.get("in")
    assert isinstance(refs, YSeq)
    assert [(i.span.line, i.span.column) for i in refs.items] == [(14, 21), (14, 24)]


def test_program_as_written() -> None:
    graph = archdraw.loads(SPEC, "s.yaml")
    assert graph.diagnostics == ()
    layer, _ = graph.program.body.layers
    assert (layer.id, layer.op, layer.span) == ("h", "dense", Span("s.yaml", 8, 3))
    assert layer.attr("units") is not None and layer.attr("units").value == "H * 2"  # type: ignore[union-attr]
    assert layer.trainable is False
    state = graph.program.inputs[1]
    assert state.refs[0].kind is EdgeKind.RECURRENT
    assert (state.refs[0].delay, state.refs[0].axis) == (2, "depth")


def test_expanded_sizes_stay_symbolic() -> None:
    graph = archdraw.analyze(archdraw.loads(SPEC, "s.yaml"))
    units = graph.node("h").attr("units")
    assert str(units) == "H*2" and getattr(units, "value", None) == 16
    assert graph.node("h_prev").has_role(Role.STATE)
    (edge,) = [e for e in graph.edges if e.kind is EdgeKind.RECURRENT]
    assert (edge.src, edge.dst, edge.delay, edge.axis) == ("h", "h_prev", 2, "depth")


def errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        archdraw.analyze(archdraw.loads(text, "t.yaml"))
    return [f"{d.span.line}:{d.span.column}: {d.message}" for d in info.value.errors]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yes", "write true or false"),
        ("0", "must be a positive integer"),
        ("-3", "must be a positive integer"),
        ("2.5", "must be a positive integer or a size expression, got the number 2.5"),
        ("true", "must be a positive integer or a size expression, got the boolean true"),
        ("010", "write integers in plain decimal"),
        ("0x10", "write integers in plain decimal"),
        ("1:30", "base-60"),
        ("2016-01-01", "as a date"),
        ("!!binary aGk=", "unsupported YAML tag"),
        ("!!python/object:os.system x", "unsupported YAML tag"),
        ("1" * 40, "too large"),
        ("[1, 2]", "must be a positive integer or a size expression, got a list"),
    ],
)
def test_size_values_are_strict(value: str, message: str) -> None:
    text = f"archdraw: 1\nname: t\ninputs: {{x: [1, 4]}}\nlayers:\n  - {{op: dense, units: {value}}}\n"
    found = errors(text) if "yes" not in value else errors(text.replace("units: yes", "units: 3, bias: yes"))
    assert any(message in e for e in found), found


def test_yaml_syntax_error_is_located() -> None:
    with pytest.raises(SpecError) as info:
        archdraw.loads("archdraw: 1\nname: [oops\nlayers: []\n", "t.yaml")
    (d,) = info.value.errors
    assert d.span.path == "t.yaml" and d.span.line >= 2
    assert d.message.startswith("YAML syntax error")


def test_depth_and_alias_bombs_are_bounded() -> None:
    deep = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    with pytest.raises(SpecError, match="nests deeper"):
        parse(deep, "t.yaml")
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        bomb.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    with pytest.raises(SpecError, match="expands to more than"):
        parse("\n".join(bomb), "t.yaml")


class _ShallowLibrary(yaml.SafeLoader):
    """A YAML library with a flow-nesting limit of its own, met while reading ahead.

    libyaml has one since PyYAML 6.0.4 (1000 levels); this one's is nearer archdraw's.
    """

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= MAX_DEPTH + 10:
            raise yaml.scanner.ScannerError(None, None, "exceeded maximum nesting depth", self.get_mark())
        super().fetch_flow_collection_start(TokenClass)


@pytest.mark.parametrize(
    "library", [None, source._BoundedLoader, _ShallowLibrary], ids=["installed", "pure", "own-limit"]
)
@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_the_nesting_bound_is_archdraws_whatever_the_library(
    library: Any, opening: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound is met at the bracket that crosses it, with archdraw's message.

    So whether the YAML library has a limit of its own or none, and whether it reads ahead or not.
    The document's mapping is the first level, so the 64th bracket is the 65th level.
    """
    if library is not None:
        monkeypatch.setattr(source, "_Loader", library)
    deep = "archdraw: 1\nname: deep\nx: " + opening * (MAX_DEPTH * 20)
    with pytest.raises(SpecError) as info:
        parse(deep, "t.yaml")
    (d,) = info.value.errors
    assert d.message == f"the spec nests deeper than {MAX_DEPTH} levels"
    assert (d.span.line, d.span.column) == (3, 4 + (MAX_DEPTH - 1) * len(opening))


def test_a_syntax_error_reads_the_same_after_the_second_read() -> None:
    """A failing spec is read twice (the second time with archdraw's bounds); one message."""
    with pytest.raises(SpecError) as info:
        parse("archdraw: 1\nname: [a, b\nlayers: x\n", "t.yaml")
    (d,) = info.value.errors
    assert d.message.startswith("YAML syntax error:") and d.span.line == 3


def test_text_decoding() -> None:
    assert decode(b"\xef\xbb\xbfname: x", "t") == "name: x"
    assert decode("name: ü".encode("utf-16"), "t") == "name: ü"
    with pytest.raises(SpecError) as info:
        decode(b"name: ok\nlabel: \xff\xfe bad", "t.yaml")
    (d,) = info.value.errors
    assert (d.span.line, d.span.column) == (2, 8)
    assert "not UTF-8" in d.message


def test_all_problems_reported_together() -> None:
    text = """archdraw: 1
name: three
inputs: {x: [1, 4]}
layers:
  a: {op: dense, in: x, units: 0}
  b: {op: dens, in: a, units: 3}
  c: {op: dense, in: zz, units: 3}
"""
    found = errors(text)
    assert len(found) == 3
    assert found[0].startswith("5:")
    assert found[1].startswith("6:") and "did you mean 'dense'" in found[1]
    assert found[2].startswith("7:") and "unknown layer 'zz'" in found[2]


def test_shorthand_list_items_and_auto_ids() -> None:
    text = "archdraw: 1\nname: t\ninputs: {x: [1, 4]}\nlayers:\n  - {op: dense, units: 3}\n  - relu\n"
    graph = archdraw.analyze(archdraw.loads(text + "  - {op: dense, units: 2}\n"))
    assert [n.id for n in graph.nodes] == ["x", "dense_1", "relu_1", "dense_2"]
    assert [(e.src, e.dst) for e in graph.edges] == [
        ("x", "dense_1"),
        ("dense_1", "relu_1"),
        ("relu_1", "dense_2"),
    ]


def test_control_characters_are_located() -> None:
    with pytest.raises(SpecError) as info:
        archdraw.loads('archdraw: 1\nname: "a\x07b"\nlayers: []\n', "t.yaml")
    (d,) = info.value.errors
    assert (d.span.line, d.span.column, d.message) == (
        2,
        9,
        "character U+0007 is not allowed in a spec (escape it in a double-quoted string)",
    )
