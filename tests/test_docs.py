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
    "lstm-paper": ["specs/lstm.yaml", "--theme", "paper"],
    "lstm-dark": ["specs/lstm.yaml", "--theme", "dark"],
    "lstm-colorblind": ["specs/lstm.yaml", "--theme", "colorblind"],
    "resnet50": ["specs/resnet50.yaml"],
    "resnet50-depth1": ["specs/resnet50.yaml", "--depth", "1"],
    "googlenet": ["specs/googlenet.yaml"],
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
