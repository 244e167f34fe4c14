"""Shared fixtures: the --update-golden option, engine and browser requirements, spec helpers."""

from __future__ import annotations

import difflib
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, so CI is reproducible; a run can ask for
# fresh ones with --hypothesis-profile=explore.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/golden/NAME, or rewrite it under --update-golden."""
    update = bool(request.config.getoption("--update-golden"))

    def check(name: str, actual: str) -> None:
        path = GOLDEN / name
        if update:
            if not path.exists() or path.read_text(encoding="utf-8") != actual:
                path.write_text(actual, encoding="utf-8", newline="\n")
            return
        if not path.exists():
            pytest.fail(f"missing golden file {path.name}: run pytest --update-golden and review the diff")
        expected = path.read_text(encoding="utf-8")
        if expected != actual:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    actual.splitlines(keepends=True),
                    fromfile=f"tests/golden/{name}",
                    tofile="actual",
                )
            )
            pytest.fail(
                f"output differs from tests/golden/{name} (pytest --update-golden rewrites it):\n{diff}"
            )

    return check


def require_engine(kind: str) -> str:
    """The executable of engine ``kind``; skips the test when it is not installed.

    Set ARCHDRAW_REQUIRE_ENGINES=dot,bundled (as .ci/run does) to fail instead of skipping.
    """
    from archdraw.engine import find_engine
    from archdraw.errors import EngineNotFoundError

    try:
        return find_engine(kind).executable
    except EngineNotFoundError as exc:
        required = os.environ.get("ARCHDRAW_REQUIRE_ENGINES", "").split(",")
        if kind in required:
            pytest.fail(f"engine {kind} is required here but not installed: {exc}")
        pytest.skip(f"engine {kind} is not installed")


def node_centres(svg: str) -> dict[str, tuple[float, float]]:
    """Each drawn node's centre (of its outline) by node id."""
    found: dict[str, tuple[float, float]] = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        gid = g.get("id", "")
        if not gid.startswith("layer-"):
            continue
        for shape in g.iter():
            if shape.tag == f"{SVG}ellipse":
                found[gid[6:]] = (float(shape.get("cx", "0")), float(shape.get("cy", "0")))
                break
            points = shape.get("points") or shape.get("d")
            if shape.tag in (f"{SVG}polygon", f"{SVG}path") and points:
                numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", points)]
                xs, ys = numbers[0::2], numbers[1::2]
                found[gid[6:]] = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
                break
    return found


def require_browser() -> str:
    """Chromium's executable, with Playwright to drive it; skips the test when either is missing.

    ARCHDRAW_REQUIRE_ENGINES=...,browser (as .ci/run sets) fails instead of skipping. Playwright
    drives the system's Chromium (Debian's, which .ci/run installs): it cannot download its own.
    """
    import importlib.util
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    missing = (
        "chromium is not installed"
        if chromium is None
        else "playwright is not installed (pip install -e '.[test]')"
        if importlib.util.find_spec("playwright") is None
        else ""
    )
    if missing or chromium is None:
        if "browser" in os.environ.get("ARCHDRAW_REQUIRE_ENGINES", "").split(","):
            pytest.fail(f"a browser is required here: {missing}")
        pytest.skip(missing)
    return chromium


def require_module(name: str, framework: str) -> Any:
    """Import ``name`` or skip the test; ARCHDRAW_REQUIRE_FRAMEWORKS=torch,onnx fails instead.

    ``framework`` is the extra the module comes with (``torch`` for torch, torchvision and
    transformers; ``onnx`` for onnx and onnxscript), as .ci/run requires them for ``make test``.
    """
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if framework in os.environ.get("ARCHDRAW_REQUIRE_FRAMEWORKS", "").split(","):
            pytest.fail(f"{name} is required here but does not import: {exc}")
        pytest.skip(f"{name} is not installed")
