"""The distribution as a user installs it: a wheel built from the repository, in a fresh venv."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import archdraw

from .conftest import ROOT

NAME = "archdraw-nn"  # 'archdraw' on the package registry is another project


def test_the_distribution_has_a_name_of_its_own() -> None:
    setup = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert re.search(rf"^name = {NAME}$", setup, re.M)
    # Every install line in the docs installs this distribution, never the other 'archdraw'.
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in re.findall(r"pip install [^`\n]*", doc.read_text(encoding="utf-8")):
            if "archdraw" in line:
                assert re.search(rf"pip install (\S+ )*['\"]?{NAME}\b", line), f"{doc.name}: {line}"


def test_the_release_is_documented() -> None:
    """The README's pre-commit example names the current release; the changelog says what it holds."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"rev: v{archdraw.__version__}" in readme
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(archdraw.__version__)} ", changelog, re.M)


@pytest.mark.slow
def test_a_wheel_installs_under_its_name_ships_the_license_and_renders(tmp_path: Path) -> None:
    built = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(built), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = built.glob("*.whl")
    assert wheel.name.startswith(f"{NAME.replace('-', '_')}-{archdraw.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        licenses = [n for n in names if n.endswith("/LICENSE") and ".dist-info/" in n]
        assert licenses, "the wheel ships no LICENSE"
        assert archive.read(licenses[0]) == (ROOT / "LICENSE").read_bytes()
        assert any(n.startswith("archdraw/templates/") for n in names)

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"{wheel}[bundled]"], check=True, capture_output=True
    )
    shown = subprocess.run(
        [str(python), "-m", "pip", "show", NAME], check=True, capture_output=True, text=True
    ).stdout
    assert f"Version: {archdraw.__version__}" in shown and "License: MIT" in shown
    out = tmp_path / "lstm.svg"
    result = subprocess.run(
        [str(env / "bin" / "archdraw"), "render", str(ROOT / "specs" / "lstm.yaml"), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))
