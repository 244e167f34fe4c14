"""The pre-commit hook (.pre-commit-hooks.yaml), run by pre-commit itself from a committed copy."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_formats import THREE_SPEC

# What a committed copy of the working tree leaves out: version control, environments, caches.
_NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "build",
    "dist",
    "site",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
)


def _env(tmp_path: Path) -> dict[str, str]:
    """The environment for git and pre-commit: no outer repository, a pre-commit store of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _git(repo: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=archdraw tests",
            "-c",
            "user.email=tests@archdraw.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
            *args,
        ],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )


def _try_repo(project: Path, hook_repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "archdraw-validate", "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_pre_commit_hook_fails_on_a_bad_spec_and_passes_a_good_one(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    assert importlib.util.find_spec("pre_commit"), "pre-commit is in the test extra: pip install -e '.[test]'"
    env = _env(tmp_path)

    # try-repo installs the hook from the repository's HEAD, so the working tree (with whatever
    # is not committed yet) is copied to a repository of its own and committed there.
    hook_repo = tmp_path / "archdraw"
    shutil.copytree(ROOT, hook_repo, ignore=_NOT_COPIED)
    _git(hook_repo, env, "init", "-q")
    _git(hook_repo, env, "add", "-A")
    _git(hook_repo, env, "commit", "-q", "-m", "archdraw as it is being tested")

    project = tmp_path / "project"
    (project / "specs").mkdir(parents=True)
    (project / "specs" / "good.yaml").write_bytes((ROOT / "specs" / "elm.yaml").read_bytes())
    (project / "specs" / "bad.yaml").write_text(THREE_SPEC, encoding="utf-8")
    (project / "settings.yaml").write_text("not: a spec\n", encoding="utf-8")  # outside specs/: not checked
    _git(project, env, "init", "-q")
    _git(project, env, "add", "-A")

    failed = _try_repo(project, hook_repo, env)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "specs/bad.yaml:7:17: error: unknown key 'unit' for op dense" in output
    assert "specs/bad.yaml:8:25: error: dropout rate must be a number" in output
    assert "specs/bad.yaml:9:31: error: unknown layer 'fc9'" in output
    assert "good.yaml:" not in output and "settings.yaml" not in output

    _git(project, env, "rm", "-q", "--cached", "specs/bad.yaml")
    (project / "specs" / "bad.yaml").unlink()
    passed = _try_repo(project, hook_repo, env)
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert "Passed" in output
