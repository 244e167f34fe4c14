"""The threat catalogue (tests/hostile/): hostile specs are refused or drawn safely.

Refusals are located messages; outputs are written safely, or not at all. See docs/security.md.

Each case in tests/hostile/ starts with its expectation and the threat it stands for:

    # expect: error LINE:COL: part of the message      (refused: the first error, located)
    # expect: ok                                       (accepted: every output must stay safe)
    # threat: what the case tries

An accepted case is analysed, drawn as DOT and laid out by each engine installed; its SVG must
parse as XML and hold no script, event handler, image or link to javascript:, data: or file:.
No case may change its own file.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

import archdraw
from archdraw import expr, sizes, source
from archdraw.cli import EXIT_RENDER, EXIT_SPEC, main
from archdraw.dot import MAX_LABEL, to_dot
from archdraw.engine import find_engine, run_engine
from archdraw.errors import SpecError
from archdraw.info import to_info, to_text
from archdraw.loader import MAX_DELAY, MAX_INT, MAX_REPEAT, MAX_SPEC_BYTES, MAX_STEPS, MAX_TEXT
from archdraw.passes.expand import MAX_EDGES, MAX_NESTING, MAX_NODES
from archdraw.passes.shapes import MAX_COUNT
from archdraw.passes.structure import MAX_SKIP_SEARCH
from archdraw.source import MAX_DEPTH, MAX_INT_DIGITS, MAX_VALUES
from archdraw.views import MAX_UNROLLED_NODES, View, apply_view

from .conftest import ROOT, require_engine
from .fuzzing import unsafe

HOSTILE = Path(__file__).resolve().parent / "hostile"
CASES = sorted(HOSTILE.glob("*.yaml"))
MIN_CASES = 40
ESN = ROOT / "specs" / "esn.yaml"
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
_EXPECT = re.compile(r"# expect: (?:(ok)|error (\d+):(\d+): (.+))\Z")


@dataclass(frozen=True)
class Expect:
    """What a case expects: None for accepted, else the first error's line, column and words."""

    line: int | None = None
    column: int | None = None
    words: str = ""

    @property
    def ok(self) -> bool:
        return self.line is None


def header_text(data: bytes) -> str:
    """A case's text, for its header: UTF-8, or UTF-16 with or without a byte-order mark."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return data.decode("utf-32")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data[1:2] == b"\x00":
        return data.decode("utf-16-le", errors="replace")
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def expectation(path: Path) -> Expect:
    first = header_text(path.read_bytes()).splitlines()[0]
    m = _EXPECT.match(first)
    assert m, (
        f"{path.name} must start with '# expect: ok' or '# expect: error LINE:COL: words', not {first!r}"
    )
    if m.group(1):
        return Expect()
    return Expect(int(m.group(2)), int(m.group(3)), m.group(4))


ACCEPTED = [p for p in CASES if expectation(p).ok]


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= MIN_CASES
    assert 0 < len(ACCEPTED) < len(CASES)


def test_every_case_names_its_threat() -> None:
    for path in CASES:
        lines = header_text(path.read_bytes()).splitlines()
        assert lines[1].startswith("# threat: "), path.name


def analysed(path: Path) -> archdraw.Graph:
    return archdraw.analyze(archdraw.read(path))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    """Refused where expected, at the place expected; accepted cases give safe DOT, JSON, text."""
    before = path.read_bytes()
    expect = expectation(path)
    if not expect.ok:
        with pytest.raises(SpecError) as info:
            analysed(path)
        first = info.value.errors[0]
        assert (first.span.line, first.span.column) == (expect.line, expect.column), str(first)
        assert expect.words in first.message
        for diagnostic in info.value.diagnostics:
            assert str(diagnostic).isprintable(), "a message would act on the terminal"
    else:
        graph = analysed(path)
        shown, _ = apply_view(graph, View.of(graph.view))
        dot = to_dot(shown)
        assert unsafe(dot) is None, f"{unsafe(dot)!r} in the DOT"
        assert all(len(s) <= 4 * MAX_LABEL for s in re.findall(r'"(?:[^"\\]|\\.)*"', dot))
        text = to_text(graph)
        assert unsafe(text, "\n\t") is None, f"{unsafe(text, chr(10) + chr(9))!r} in the info text"
        json.dumps(to_info(graph), allow_nan=False)
        if graph.reference is not None and graph.reference.url:
            assert graph.reference.url.lower().startswith(("http://", "https://"))
            assert not set(graph.reference.url) & set(" \"'<>\\`")
    assert path.read_bytes() == before


def check_svg(svg: bytes) -> ET.Element:
    """Parse ``svg`` and check it holds nothing active."""
    root = ET.fromstring(svg)  # well-formed XML: no control character got through
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        assert tag not in ("script", "image", "foreignobject", "iframe", "embed", "object"), tag
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            assert not local.startswith("on"), f"event handler {name}={value!r}"
            if local in ("href", "src") or name == f"{XLINK}href":
                scheme = value.strip().lower()
                assert not scheme.startswith(("javascript:", "data:", "file:", "vbscript:")), value
    return root


@pytest.mark.exe
@pytest.mark.parametrize("engine", ["dot", "bundled"])
@pytest.mark.parametrize("path", ACCEPTED, ids=[p.stem for p in ACCEPTED])
def test_accepted_case_renders_safe_svg(path: Path, engine: str) -> None:
    require_engine(engine)
    before = path.read_bytes()
    graph = analysed(path)
    shown, _ = apply_view(graph, View.of(graph.view))
    svg = run_engine(to_dot(shown), "svg", find_engine(engine), timeout=60, what=path.name)
    root = check_svg(svg)
    texts = "".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert unsafe(texts, "") is None
    assert path.read_bytes() == before


# -- particular cases ------------------------------------------------------------------------------


def test_injection_stays_text() -> None:
    """One DOT statement a line, and exactly the statements the graph needs: nothing injected."""
    graph = analysed(HOSTILE / "injection.yaml")
    lines = to_dot(graph).splitlines()
    assert [line for line in lines if "digraph" in line.split("[")[0]] == ["digraph archdraw {"]
    assert sum(1 for line in lines if re.match(r"\s*n\d+ \[", line)) == len(graph.nodes)
    assert sum(1 for line in lines if re.match(r"\s*subgraph cluster_\d+ \{$", line)) == len(graph.clusters)
    assert sum(1 for line in lines if re.match(r"\s*n\d+ -> n\d+ \[", line)) == len(graph.edges)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in "".join(lines)


@pytest.mark.exe
def test_injection_text_survives_layout() -> None:
    require_engine("dot")
    graph = analysed(HOSTILE / "injection.yaml")
    root = check_svg(run_engine(to_dot(graph), "svg", find_engine("dot")))
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    for shown in ("<script>alert(1)</script>", '" onload="alert(1)', "{{ x }}", "\\N \\G \\L", "a -> b"):
        assert shown in texts


def test_invisible_characters_are_stripped_from_labels() -> None:
    graph = analysed(HOSTILE / "bidi_in_label.yaml")
    dense = next(n for n in graph.nodes if n.op == "dense")
    assert dense.label == "safeevilx" and dense.note == "bom"
    for ch in ("\u202e", "\u200b", "\u2066", "\u2069", "\ufeff"):
        assert ch not in to_dot(graph)
        assert ch not in json.dumps(to_info(graph), ensure_ascii=False)


def test_escaped_controls_never_reach_outputs() -> None:
    graph = analysed(HOSTILE / "escaped_controls.yaml")
    assert graph.name == "bell  esc [2J nul  end"
    for out in (to_dot(graph), to_text(graph), json.dumps(to_info(graph), ensure_ascii=False)):
        assert unsafe(out, "\n\t") is None


def test_reference_links() -> None:
    dropped = analysed(HOSTILE / "reference_string_javascript.yaml").reference
    assert dropped is not None and dropped.url == "" and dropped.title == "javascript:alert(1)"
    kept = analysed(HOSTILE / "reference_string_trimmed.yaml").reference
    assert kept is not None and kept.url == "HTTPS://example.org/paper"


def test_long_labels_are_cut_for_the_engine() -> None:
    graph = analysed(HOSTILE / "label_escapes_at_limit.yaml")
    label = next(n for n in graph.nodes if n.op == "dense").label
    assert len(label) == MAX_TEXT - 1
    dot = to_dot(graph)
    assert "…" in dot
    # Graphviz refuses a string over 16,384 characters; escaping may grow a label fivefold.
    assert max(len(line) for line in dot.splitlines()) < 16_384


def test_unicode_encodings() -> None:
    names = {n.id for n in analysed(HOSTILE / "utf16_bom.yaml").nodes}
    assert names == {n.id for n in analysed(HOSTILE / "utf8_bom.yaml").nodes} == {"x", "dense_1"}


def test_skip_search_is_bounded_and_says_so() -> None:
    graph = analysed(HOSTILE / "skip_search_budget.yaml")
    warnings = [d for d in graph.diagnostics if not d.is_error]
    assert any(f"{MAX_SKIP_SEARCH:,}" in d.message for d in warnings)


# -- scale: specs that grow along every axis, analysed in linear time -----------------------------------
# Too big for files; each took from 4 s to minutes (or crashed: block_chain) while some pass was
# quadratic in what the spec makes large. They need only finish here.

_H = "archdraw: 1\nname: scale\ndims: {N: 1}\ninputs: {x: [N, 4]}\n"
SCALE = {
    "unknown_references": _H
    + "layers:\n"
    + "".join(f"  layer{i}: {{op: relu, in: layr{i}}}\n" for i in range(4000)),
    "unknown_blocks": _H
    + "blocks:\n"
    + "".join(f"  blk{i}: {{layers: [relu]}}\n" for i in range(3000))
    + "layers:\n"
    + "".join(f"  - {{block: blq{i}}}\n" for i in range(3000)),
    "unknown_expression_names": _H.replace(
        "{N: 1}", "{N: 1, " + ", ".join(f"d{i}: 1" for i in range(2000)) + "}"
    )
    + "layers:\n"
    + "".join(f"  - {{op: dense, units: 'N * dd{i}'}}\n" for i in range(2000)),
    "joins_reading_one_input": _H
    + "layers:\n  a0: {op: relu, in: x}\n"
    + "".join(f"  a{i}: {{op: add, in: [a{i - 1}, x]}}\n" for i in range(1, 10_000)),
    "wide_concat": _H
    + "layers:\n"
    + "".join(f"  a{i}: {{op: relu, in: x}}\n" for i in range(5000))
    + "  c: {op: concat, axis: 1, in: ["
    + ", ".join(f"a{i}" for i in range(5000))
    + "]}\n",
    "block_chain": _H
    + "blocks:\n"
    + "".join(f"  b{i}: {{layers: [{{block: b{i + 1}}}]}}\n" for i in range(2000))
    + "  b2000: {layers: [relu]}\nlayers:\n  - block: b0\n",
    "repeats_in_repeats": _H + "layers:\n  - repeat: 200\n    layers:\n      - {op: relu, repeat: 200}\n",
    "many_folded_repeats": _H + "layers:\n  - repeat: 10000\n    layers:\n      - {op: relu, repeat: 2}\n",
    "residual_repeats": _H
    + "blocks:\n  r:\n    layers:\n      a: {op: dense, units: 4, in: x}\n      s: {op: add, in: [a, x]}\n"
    + "layers:\n  - {block: r, repeat: 10000}\n",
}


@pytest.mark.parametrize("name", sorted(SCALE))
def test_scale(name: str) -> None:
    try:
        graph = archdraw.analyze(archdraw.loads(SCALE[name], name))
    except SpecError as exc:
        assert len(exc.errors) >= 1 and str(exc.errors[0]).isprintable()
        return
    shown, _ = apply_view(graph, View.of(graph.view))
    assert to_dot(shown).startswith("digraph")


def test_suggestions_are_bounded() -> None:
    """Past the first 50 unknown names, no "did you mean" (each one is a pass over all names)."""
    with pytest.raises(SpecError) as info:
        archdraw.analyze(archdraw.loads(SCALE["unknown_references"]))
    hinted = [d for d in info.value.errors if "did you mean" in d.message]
    assert len(hinted) == 50 and len(info.value.errors) == 4000


def read_answer(path: Path) -> str:
    """What reading a case gives: the program, or the first error as path:line:col: message.

    The words of a YAML syntax error are the parser's own (libyaml's and PyYAML's differ a
    little), so of those only the place and the kind are compared.
    """
    try:
        return repr(archdraw.read(path))
    except SpecError as exc:
        first = exc.errors[0]
        if first.message.startswith("YAML syntax error"):
            return f"{first.span}: YAML syntax error"
        return str(first)


def test_the_yaml_library_build_does_not_change_an_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case reads the same with PyYAML's libyaml parser and with its pure-Python one.

    The catalogue's expectations are archdraw's, so they must not move with the YAML library's
    build or version (libyaml's own limits changed in PyYAML 6.0.4).
    """
    if source._Loader is source._BoundedLoader:
        pytest.skip("this PyYAML has no libyaml")
    installed = {path.name: read_answer(path) for path in CASES}
    monkeypatch.setattr(source, "_Loader", source._BoundedLoader)
    pure = {path.name: read_answer(path) for path in CASES}
    assert pure == installed


# -- limits: each refused with a message that says the limit ----------------------------------------

LIMIT_CASES = {
    "nesting_flow": MAX_DEPTH,
    "nesting_block": MAX_DEPTH,
    "alias_bomb": MAX_VALUES,
    "int_thousands_of_digits": MAX_INT_DIGITS,
    "repeat_nested_nodes": MAX_NODES,
    "repeat_too_many": MAX_REPEAT,
    "repeat_expression_too_many": MAX_REPEAT,
    "delay_too_long": MAX_DELAY,
    "unroll_too_many": MAX_STEPS,
    "label_too_long": MAX_TEXT,
    "block_nesting": MAX_NESTING,
    "expression_too_long": expr.MAX_LENGTH,
    "overflow_expression": expr.MAX_VALUE,
    "overflow_flatten": sizes.MAX_SIZE,
    "edges_through_an_alias": f"{MAX_EDGES:,}",
}


@pytest.mark.parametrize("name, limit", LIMIT_CASES.items(), ids=list(LIMIT_CASES))
def test_limit_is_named_in_the_message(name: str, limit: int | str) -> None:
    with pytest.raises(SpecError) as info:
        analysed(HOSTILE / f"{name}.yaml")
    assert str(limit) in info.value.errors[0].message


def test_limits_in_words() -> None:
    for name, words in (
        ("dim_huge", "at most 10^15"),
        ("size_literal_huge", "at most 10^15"),
        ("overflow_dense", "(10^18)"),
        ("overflow_macs", "(10^18)"),
    ):
        with pytest.raises(SpecError) as info:
            analysed(HOSTILE / f"{name}.yaml")
        assert words in info.value.errors[0].message, name
    assert MAX_INT == 10**15 and MAX_COUNT == 10**18 < 2**63


def test_spec_file_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"archdraw: 1\n" + b"# padding\n" * (MAX_SPEC_BYTES // 10))
    with pytest.raises(SpecError, match=r"larger than 4 MiB \(4,194,304 bytes\)"):
        archdraw.read(big)
    with pytest.raises(SpecError, match="larger than 4 MiB"):
        archdraw.loads(big.read_text())


def test_integer_digit_limit() -> None:
    with pytest.raises(SpecError, match=f"integer with {MAX_INT_DIGITS + 1} digits"):
        archdraw.loads("archdraw: 1\nx: " + "1" * (MAX_INT_DIGITS + 1) + "\n")


def test_unroll_node_limit() -> None:
    graph = analysed(ROOT / "specs" / "gnmt.yaml")
    with pytest.raises(archdraw.ViewError, match=f"more than {MAX_UNROLLED_NODES:,}"):
        apply_view(graph, View(unroll=MAX_STEPS, max_nodes=10**6, expand_repeats=True))


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_bytes(b"")
    with pytest.raises(SpecError, match="the spec is empty"):
        archdraw.read(empty)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_devices_are_not_read(tmp_path: Path) -> None:
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    with pytest.raises(SpecError, match="not a regular file"):
        archdraw.read(link)


def test_documented_limits() -> None:
    """docs/security.md lists each limit with the value the code uses."""
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    for value in (
        "4 MiB",
        f"{MAX_DEPTH}",
        f"{MAX_VALUES:,}",
        f"{MAX_INT_DIGITS}",
        f"{MAX_TEXT:,}",
        f"{MAX_LABEL}",
        f"{expr.MAX_LENGTH}",
        f"{MAX_REPEAT:,}",
        f"{MAX_DELAY:,}",
        f"{MAX_STEPS}",
        f"{MAX_NODES:,}",
        f"{MAX_NESTING}",
        f"{MAX_UNROLLED_NODES:,}",
        f"{MAX_SKIP_SEARCH:,}",
        "10^15",
        "10^18",
    ):
        assert value in doc, value


# -- the command line ---------------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    code = exc.value.code
    assert isinstance(code, int)
    return code, err


def test_validate_the_whole_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    before = {p: p.read_bytes() for p in CASES}
    code, err = cli(capsys, "validate", str(HOSTILE))
    assert code == EXIT_SPEC
    assert f"{len(CASES)} specs checked" in err
    # Messages and the source lines under them are shown as text: nothing acts on the terminal.
    assert unsafe(err, "\n") is None
    assert "\\x1b[2J" in err  # the escape sequence in key_escape_sequence.yaml, shown escaped
    assert all(p.read_bytes() == data for p, data in before.items())


def test_validate_does_not_follow_links_out_of_the_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN=hunter2\n")
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ok.yaml").write_bytes((ESN).read_bytes())
    (specs / "leak.yaml").symlink_to(secret)
    code, err = cli(capsys, "validate", str(specs))
    assert code == 0 and "1 spec checked" in err
    assert "hunter2" not in err


def test_output_equal_to_input_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    data = (ESN).read_bytes()
    spec.write_bytes(data)
    link = tmp_path / "link.dot"
    link.symlink_to(spec)
    for target in (spec, link, tmp_path / "." / "spec.yaml"):
        code, err = cli(capsys, "render", str(spec), "-f", "dot", "-o", str(target))
        assert code == EXIT_RENDER and "it is an input" in err
        assert spec.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.dot", "spec.yaml"]


def test_output_into_a_missing_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = ESN
    code, err = cli(capsys, "render", str(spec), "-f", "dot", "-o", str(tmp_path / "no" / "such" / "x.dot"))
    assert code == EXIT_RENDER and "does not exist" in err
    afile = tmp_path / "file"
    afile.write_text("")
    code, err = cli(capsys, "render", str(spec), "-f", "dot", "-o", str(afile / "x.dot"))
    assert code == EXIT_RENDER and "is not a directory" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root may write anywhere")
def test_output_into_a_read_only_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        code, err = cli(capsys, "render", str(ESN), "-f", "dot", "-o", str(out / "x.dot"))
    finally:
        out.chmod(stat.S_IRWXU)
    assert code == EXIT_RENDER and "Permission denied" in err
    assert list(out.iterdir()) == []


def test_output_unwritable_leaves_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory that refuses new files (as a read-only one does, for anyone but root)."""
    import tempfile

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    earlier = tmp_path / "x.dot"
    earlier.write_text("earlier")
    code, err = cli(capsys, "render", str(ESN), "-f", "dot", "-o", str(earlier))
    assert code == EXIT_RENDER and f"cannot write {earlier}: Permission denied" in err
    assert earlier.read_text() == "earlier" and sorted(p.name for p in tmp_path.iterdir()) == ["x.dot"]


def test_refused_spec_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "out.svg"
    out.write_text("earlier")
    code, _ = cli(capsys, "render", str(HOSTILE / "alias_bomb.yaml"), "-o", str(out))
    assert code == EXIT_SPEC and out.read_text() == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.svg"]


def test_engine_timeout_suggests_folding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    slow = bin_dir / "dot"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    out = tmp_path / "out.svg"
    code, err = cli(
        capsys,
        "render",
        str(ESN),
        "--engine",
        "dot",
        "--timeout",
        "1",
        "-o",
        str(out),
    )
    assert code == EXIT_RENDER
    assert "longer than 1 s" in err and "fold" in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bin"]


def cli_out(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    code = exc.value.code
    assert isinstance(code, int)
    return code, captured.out, captured.err


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_no_report_format_lets_a_terminal_code_through(
    fmt: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """ESC, BEL and bidi controls from a key and from a file name are shown escaped in every format."""
    specs = tmp_path / "specs"
    specs.mkdir()
    named = specs / "a\x1b[2J\u202eb.yaml"
    named.write_bytes((HOSTILE / "controls_in_report_key.yaml").read_bytes())
    code, out, err = cli_out(capsys, "validate", "-f", fmt, str(specs))
    assert code == EXIT_SPEC
    assert unsafe(out, "\n") is None and unsafe(err, "\n") is None
    shown = out + err
    assert "\\x1b[2J\\x1b]0;owned\\x07\\u202e" in shown.replace("\\\\", "\\")  # the key, escaped
    assert "a\\x1b[2J\\u202eb.yaml" in shown.replace("\\\\", "\\") or fmt == "sarif"  # SARIF: a %-encoded URI


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX devices and pipes")
def test_special_output_files_are_written_into_never_replaced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """-o /dev/null stays the device; a pipe stays a pipe and receives the output; a link to one too."""
    before = os.stat("/dev/null")
    code, _, err = cli_out(capsys, "render", str(ESN), "-f", "dot", "-o", "/dev/null")
    assert code == 0, err
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino

    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link.dot"
    link.symlink_to(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code, _, err = cli_out(capsys, "render", str(ESN), "-f", "dot", "-o", str(link))
    reader.join(10)
    assert code == 0, err
    assert received and received[0].startswith(b"digraph archdraw {")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.dot", "pipe"]


def test_a_directory_as_output_leaves_it_as_it_was(tmp_path: Path) -> None:
    from archdraw.output import OutputError, write_atomic

    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="it is a directory"):
        write_atomic(tmp_path, b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_validate_refuses_the_view_render_would_refuse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A spec whose own view: cannot be drawn fails validate --strict at its view: line, as render does."""
    layers = "".join("  - {op: lstm, units: 8}\n" for _ in range(40))
    spec = tmp_path / "deep.yaml"
    spec.write_text(
        "archdraw: 1\nname: t\ndims: {N: 1, T: 4}\ninputs: {x: [N, T, 8]}\nview: {unroll: 64}\n"
        f"layers:\n{layers}"
    )
    expected = (
        f"{spec.as_posix()}:5:7: error: view: 64 steps of 't' are {64 * 41:,} nodes, "
        f"more than {MAX_UNROLLED_NODES:,}"
    )
    for command in (["validate", "--strict"], ["render", "-f", "dot", "-o", str(tmp_path / "x.dot")]):
        code, err = cli(capsys, *command, str(spec))
        assert code == EXIT_SPEC and expected in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.yaml"]


def test_reports_cut_long_labels(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """info --json and render -f json carry a label as the drawing does: at most 300 characters."""
    from archdraw.info import MAX_LABEL as INFO_LABEL

    spec = tmp_path / "long.yaml"
    label = "w" * MAX_TEXT
    spec.write_text(
        f"archdraw: 1\nname: t\ndims: {{N: 1}}\ninputs: {{x: [N, 4]}}\n"
        f"layers:\n  - {{op: relu, label: &l {label}}}\n  - {{op: relu, label: *l}}\n"
    )
    for command in (["info", "--json"], ["render", "-f", "json", "-o", "-"]):
        code, out, _ = cli_out(capsys, *command, str(spec))
        assert code == 0
        labels = [n["label"] for n in json.loads(out)["nodes"] if n["op"] == "relu"]
        assert labels == [label[: INFO_LABEL - 1] + "…"] * 2
