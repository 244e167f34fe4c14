"""The docs stay true: every complete spec they show validates, and README's pictures are current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import archdraw
from archdraw.engine import find_engine, run_engine

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


@pytest.mark.exe
@pytest.mark.parametrize("name", ["esn", "elm", "lstm"])
def test_readme_pictures_are_current(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Rendered with the bundled engine, whose output is the same on every platform.
    require_engine("bundled")
    monkeypatch.chdir(ROOT)
    graph = archdraw.analyze(archdraw.load(Path("specs") / f"{name}.yaml"))
    svg = run_engine(archdraw.to_dot(graph), "svg", find_engine("bundled"))
    committed = (ROOT / "docs" / "images" / f"{name}.svg").read_bytes()
    fix = f"archdraw render specs/{name}.yaml --engine bundled -o docs/images/{name}.svg"
    assert svg == committed, f"docs/images/{name}.svg is stale; run: {fix}"
