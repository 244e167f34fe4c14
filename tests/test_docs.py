"""The docs stay true: every complete spec they show validates, and README's pictures are current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import archdraw
from archdraw.cli import main

from .conftest import ROOT, require_engine

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def spec_blocks() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for i, block in enumerate(BLOCK.findall(doc.read_text(encoding="utf-8")), 1):
            if block.startswith("archdraw: 1"):
                found.append((f"{doc.name}#{i}", block))
    return found


@pytest.mark.parametrize(("where", "text"), spec_blocks(), ids=[w for w, _ in spec_blocks()])
def test_complete_specs_in_docs_validate(where: str, text: str) -> None:
    graph = archdraw.analyze(archdraw.loads(text, where))
    assert graph.nodes


def test_docs_show_specs() -> None:
    assert len(spec_blocks()) >= 1


# Every picture under docs/images and how it is made (always with the bundled engine, whose
# output is the same on every platform).
IMAGES = {
    "esn": ["specs/esn.yaml"],
    "elm": ["specs/elm.yaml"],
    "lstm": ["specs/lstm.yaml"],
    "lstm-unrolled": ["specs/lstm.yaml", "--unroll", "3"],
    "rnn-one-to-many-unrolled": ["specs/rnn_one_to_many.yaml", "--unroll", "3"],
    "rnn-many-to-one-unrolled": ["specs/rnn_many_to_one.yaml", "--unroll", "3"],
    "captioning-unrolled": ["specs/captioning.yaml", "--unroll", "3"],
    "lstm-paper": ["specs/lstm.yaml", "--theme", "paper"],
    "lstm-dark": ["specs/lstm.yaml", "--theme", "dark"],
    "lstm-colorblind": ["specs/lstm.yaml", "--theme", "colorblind"],
    "resnet50": ["specs/resnet50.yaml"],
    "resnet50-depth1": ["specs/resnet50.yaml", "--depth", "1"],
    "googlenet": ["specs/googlenet.yaml"],
    "densenet-block": ["specs/densenet_block.yaml"],
    "tied-lm": ["specs/tied_lm.yaml"],
    "unet": ["specs/unet.yaml"],
}


def test_every_picture_is_listed() -> None:
    assert {p.stem for p in (ROOT / "docs" / "images").glob("*.svg")} == set(IMAGES)


@pytest.mark.exe
@pytest.mark.parametrize("name", sorted(IMAGES))
def test_pictures_are_current(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_engine("bundled")
    monkeypatch.chdir(ROOT)
    out = tmp_path / f"{name}.svg"
    with pytest.raises(SystemExit) as exc:
        main(["render", *IMAGES[name], "--engine", "bundled", "-o", str(out)])
    assert exc.value.code == 0, capsys.readouterr().err
    fix = f"archdraw render {' '.join(IMAGES[name])} --engine bundled -o docs/images/{name}.svg"
    assert out.read_bytes() == (ROOT / "docs" / "images" / f"{name}.svg").read_bytes(), (
        f"docs/images/{name}.svg is stale; run: {fix}"
    )


_ATTRIBUTE_ROW = re.compile(r"^\| `(\w+)` \| ([^|]+) \| [^|]+ \| `([^`]*)` \| (?:yes|no) \|", re.M)
_OP_ROW = re.compile(r"^\| ((?:`\w+`(?:, )?)+) \| [^|]+ \| [^|]+ \|$", re.M)


def test_documented_defaults_are_typeable_and_true() -> None:
    """Each default in docs/spec.md's attribute tables is written as a user may type it.

    Typed as the attribute's value in a spec, it must be read as the value the op table uses,
    not refused or read as a string (``1e-05`` is a string in YAML 1.1; ``1.0e-5`` a number).
    A row for "all above" holds for every op of its section's op table.
    """
    from archdraw.ops import OPS
    from archdraw.source import YMap, YScalar, parse

    checked = 0
    for section in (ROOT / "docs" / "spec.md").read_text(encoding="utf-8").split("\n### "):
        section_ops = [op for cell in _OP_ROW.findall(section) for op in re.findall(r"`(\w+)`", cell)]
        for name, ops_cell, default in _ATTRIBUTE_ROW.findall(section):
            typed = parse(f"value: {default}\n", "spec.md")
            assert isinstance(typed, YMap)
            value = typed.get("value")
            assert isinstance(value, YScalar), (name, default)
            ops = section_ops if ops_cell.strip() == "all above" else re.findall(r"`(\w+)`", ops_cell)
            for op in ops:
                spec = OPS[op].attrs.get(name) if op in OPS else None
                if spec is None or spec.default is None or isinstance(spec.default, tuple):
                    continue
                assert value.value == spec.default, (
                    f"{op}.{name}: documented {default!r}, is {spec.default!r}"
                )
                checked += 1
    assert checked > 40


def test_every_key_of_the_language_is_documented() -> None:
    """docs/spec.md has a table row for every top-level key and every layer key the loader reads."""
    from archdraw.loader import _LAYER_KEYS, _STYLE_KEYS, _TOP_KEYS
    from archdraw.passes.validate import REPETITION_NAMES, STEP_NAMES

    text = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    first_cells = [line.split("|")[1] for line in rows]

    def row_for(key: str) -> bool:
        return any(f"`{key}`" in cell for cell in first_cells)

    missing = [k for k in (*_TOP_KEYS, *_LAYER_KEYS) if not row_for(k)]
    assert missing == []
    style_row = next(line for line in rows if line.startswith("| `style` |"))
    assert all(f"`{k}`" in style_row for k in _STYLE_KEYS)
    for name in sorted(REPETITION_NAMES | STEP_NAMES):
        assert f"`{name}`" in text, name
