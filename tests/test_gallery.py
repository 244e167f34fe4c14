"""The gallery: pages, badges, escaping, errors, the cache, determinism and templates.

The gallery in a real browser is tests/test_gallery_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from archdraw.cli import EXIT_SPEC, EXIT_USAGE, main
from archdraw.gallery import BADGES, GalleryError, badges, build_gallery
from archdraw.ir import EdgeKind
from archdraw.loader import read
from archdraw.passes import analyze

from .conftest import ROOT, require_engine

SPECS = ROOT / "specs"
SMALL = ["esn.yaml", "elm.yaml", "lstm.yaml", "resnet_stage.yaml"]


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    for name in SMALL:
        shutil.copy(SPECS / name, folder / name)
    return folder


def files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def snapshot(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and ".archdraw-cache" not in p.parts
    }


@pytest.mark.exe
def test_pages_views_and_index(specs: Path, tmp_path: Path) -> None:
    require_engine("bundled")
    site = tmp_path / "site"
    report = build_gallery(files(specs), site, jobs=1, engine="bundled")
    assert (len(report.built), report.failed) == (4, [])
    index = (site / "index.html").read_text()
    for slug in ("esn", "elm", "lstm", "resnet_stage"):
        assert f'href="models/{slug}.html"' in index
        assert (site / "models" / slug / "default.svg").is_file()
    assert "<h2>recurrent</h2>" in index and "<h2>feed-forward and convolutional</h2>" in index
    lstm = (site / "models" / "lstm.html").read_text()
    assert 'data-view="unrolled"' in lstm  # a recurrent model gets its unrolled view
    assert "394,240" in lstm and "Learning to forget" in lstm
    assert 'href="https://doi.org/10.1162/089976600300015015"' in lstm
    stage = (site / "models" / "resnet_stage.html").read_text()
    assert 'data-view="stages"' in stage and 'data-view="expanded"' in stage
    # Every view has a dark rendering, and the index's thumbnails and the SVG links offer it.
    for slug, key in [
        ("lstm", "default"),
        ("lstm", "unrolled"),
        ("resnet_stage", "stages"),
        ("resnet_stage", "expanded"),
    ]:
        assert (site / "models" / slug / f"{key}-dark.svg").is_file()
    assert (
        '<source srcset="models/resnet_stage/stages-dark.svg" media="(prefers-color-scheme: dark)">' in index
    )
    assert '<a class="dark-only" href="lstm/unrolled-dark.svg">SVG</a>' in lstm
    # Badges say what each model has, on its card and its page.
    assert 'data-badges="recurrent fixed"' in index  # the echo state network
    assert 'data-badges="skip bottleneck"' in index  # the ResNet stage
    assert 'data-badges="fixed"' in index  # the extreme learning machine: no loop, fixed weights
    assert "recurrent: 2 recurrent edges" in lstm
    # Works offline: no resource from another host.
    for page in [index, lstm, stage]:
        assert not re.search(r'(src|href)="(https?:)?//(?!doi\.org|arxiv\.org)', page)
    assert (site / "assets" / "archdraw.js").is_file() and (site / "assets" / "archdraw.css").is_file()


TRUTH = json.loads((ROOT / "tests" / "truth" / "gallery.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_badges_say_what_the_model_has(name: str) -> None:
    """Recurrence, skips and bottlenecks as tests/truth/gallery.json has them from the papers."""
    graph = analyze(read(SPECS / f"{name}.yaml"))
    keys = [b.key for b in badges(graph)]
    truth = TRUTH[name]
    assert ("recurrent" in keys) == bool(truth["recurrent"])
    assert ("skip" in keys) == bool(truth["skips"])
    assert ("bottleneck" in keys) == bool(truth["bottlenecks"])
    assert keys == [k for k in BADGES if k in keys]  # always in the same order
    kinds = {e.kind for e in graph.edges}
    assert ("gradient" in keys) == (EdgeKind.GRADIENT in kinds)
    assert ("undirected" in keys) == (EdgeKind.UNDIRECTED in kinds)
    assert ("tied" in keys) == (EdgeKind.TIED in kinds)
    assert ("fixed" in keys) == any(not n.trainable and n.params for n in graph.nodes)


HOSTILE = """archdraw: 1
name: "<script>alert(1)</script> {{ config }}"
summary: "</p><img src=x onerror=alert(1)>"
family: "<b>family</b>"
reference: {title: "\\" onmouseover=\\"x", url: "https://example.org/?a=1&c=2"}
dims: {N: 1}
inputs:
  x: {shape: [N, 4], label: "<svg onload=alert(1)>"}
layers:
  - {id: fc, op: dense, units: 2, note: "javascript:alert(1)"}
"""


@pytest.mark.exe
def test_user_text_is_escaped_everywhere(tmp_path: Path) -> None:
    require_engine("bundled")
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "evil.yaml").write_text(HOSTILE)
    (folder / "bad-link.yaml").write_text(HOSTILE.replace("https://example.org/", "javascript:alert(1)//"))
    site = tmp_path / "site"
    build_gallery(files(folder), site, jobs=1, engine="bundled")
    for page in [site / "index.html", *sorted((site / "models").glob("*.html"))]:
        tags = Tags()
        tags.feed(page.read_text())
        assert [t for t, _ in tags.seen if t in ("script", "svg", "iframe", "object")] == [("script")] * sum(
            1 for t, _ in tags.seen if t == "script"
        )
        for tag, attrs in tags.seen:
            for name, value in attrs:
                assert not name.startswith("on"), (tag, name)
                if tag == "script":
                    assert (name, value) == ("defer", None) or value in (
                        "assets/archdraw.js",
                        "../assets/archdraw.js",
                    )
                if name in ("href", "src", "srcset"):
                    assert not (value or "").strip().lower().startswith(("javascript:", "data:")), value
    assert "{{ config }}" in (site / "models" / "evil.html").read_text()  # not evaluated by Jinja2
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (site / "index.html").read_text()


@pytest.mark.exe
class Tags(HTMLParser):
    """Every start tag and its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


@pytest.mark.exe
def test_broken_spec_gets_an_error_page_and_the_rest_build(specs: Path, tmp_path: Path) -> None:
    require_engine("bundled")
    (specs / "broken.yaml").write_text("archdraw: 1\nname: broken\nlayers:\n  - {op: dens, units: 3}\n")
    site = tmp_path / "site"
    report = build_gallery(files(specs), site, jobs=2, engine="bundled")
    assert len(report.built) == 4 and report.failed == [str(specs / "broken.yaml")]
    page = (site / "models" / "broken.html").read_text()
    assert "unknown op &#39;dens&#39; (did you mean &#39;dense&#39;?)" in page
    assert "broken.yaml:4:10" in page


@pytest.mark.exe
def test_cache_skips_unchanged_specs_and_output_is_deterministic(specs: Path, tmp_path: Path) -> None:
    require_engine("bundled")
    first, second = tmp_path / "one", tmp_path / "two"
    build_gallery(files(specs), first, jobs=2, engine="bundled")
    build_gallery(files(specs), second, jobs=1, engine="bundled")
    assert snapshot(first) == snapshot(second)  # same bytes whatever the number of workers
    before = snapshot(first)
    again = build_gallery(files(specs), first, jobs=2, engine="bundled")
    assert (again.built, len(again.cached)) == ([], 4)
    assert snapshot(first) == before
    esn = specs / "esn.yaml"
    esn.write_text(esn.read_text().replace("units: 500", "units: 400"))
    changed = build_gallery(files(specs), first, jobs=2, engine="bundled")
    assert changed.built == [str(esn)] and len(changed.cached) == 3
    assert "400" in (first / "models" / "esn.html").read_text()
    # A spec removed from the set takes its page with it.
    esn.unlink()
    build_gallery(files(specs), first, jobs=1, engine="bundled")
    assert not (first / "models" / "esn.html").exists() and not (first / "models" / "esn").exists()


def test_refuses_a_site_that_holds_the_specs(specs: Path) -> None:
    with pytest.raises(GalleryError, match="holds a spec"):
        build_gallery(files(specs), specs, jobs=1)


@pytest.mark.exe
def test_templates_override_and_strict_undefined(specs: Path, tmp_path: Path) -> None:
    require_engine("bundled")
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "index.html").write_text("<p>{{ count }} models, my way</p>\n")
    site = tmp_path / "site"
    build_gallery(files(specs), site, jobs=1, engine="bundled", templates=custom)
    assert (site / "index.html").read_text() == "<p>4 models, my way</p>\n"
    assert (site / "models" / "lstm.html").is_file()  # the shipped model page still serves
    (custom / "index.html").write_text("<p>{{ no_such_variable }}</p>\n")
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        build_gallery(files(specs), tmp_path / "site2", jobs=1, engine="bundled", templates=custom)


@pytest.mark.exe
def test_cli(specs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_engine("bundled")
    site = tmp_path / "site"
    with pytest.raises(SystemExit) as exc:
        main(["gallery", str(specs), "-o", str(site), "--engine", "bundled", "-j", "1"])
    assert exc.value.code == 0
    assert "4 specs: 4 rendered, 0 unchanged, 0 with errors" in capsys.readouterr().err
    (specs / "broken.yaml").write_text("archdraw: 1\nname: b\nlayers: [{op: relu}]\n")
    with pytest.raises(SystemExit) as exc:
        main(["gallery", str(specs), "-o", str(site), "--engine", "bundled"])
    assert exc.value.code == EXIT_SPEC
    err = capsys.readouterr().err
    assert "4 unchanged, 1 with errors" in err and "Open " in err
    with pytest.raises(SystemExit) as exc:
        main(["gallery", str(specs), "-o", str(specs)])
    assert exc.value.code == EXIT_USAGE


def _complete(site: Path) -> None:
    """No temporary file is left, and every page and picture is whole."""
    assert not [p for p in site.rglob("*") if p.name.endswith(".tmp")]
    for page in site.rglob("*.html"):
        assert page.read_text().rstrip().endswith("</html>"), page
    for svg in site.rglob("*.svg"):
        assert svg.read_text().rstrip().endswith("</svg>"), svg


def _gallery(
    site: Path, *extra: str, engine: str = "bundled", env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "archdraw",
            "gallery",
            str(SPECS),
            "-o",
            str(site),
            "--engine",
            engine,
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


@pytest.mark.slow
@pytest.mark.exe
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_build_leaves_no_partial_files(tmp_path: Path, signum: int) -> None:
    require_engine("bundled")
    site = tmp_path / "site"
    proc = _gallery(site, "--jobs", "1")
    deadline = time.monotonic() + 60
    while not (site / "models").is_dir() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # well into the build
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (130, 0), err  # 0 only if it had already finished
    assert b"Traceback" not in err
    _complete(site)


@pytest.mark.slow
@pytest.mark.exe
def test_two_builds_into_one_directory(tmp_path: Path) -> None:
    require_engine("bundled")
    site = tmp_path / "site"
    first, second = _gallery(site, "--jobs", "1"), _gallery(site, "--jobs", "1")
    for proc in (first, second):
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    _complete(site)
    index = (site / "index.html").read_text()
    assert all(f'href="models/{p.stem}.html"' in index for p in files(SPECS))


# -- the site is shared: only archdraw's own files are written or removed ------------------------------


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder``: a file's bytes, a link's target, a directory's mark."""
    out: dict[str, bytes | str] = {}
    for p in sorted(folder.rglob("*")):
        key = p.relative_to(folder).as_posix()
        out[key] = f"-> {os.readlink(p)}" if p.is_symlink() else "dir" if p.is_dir() else p.read_bytes()
    return out


def _docs_tree(site: Path) -> dict[str, bytes | str]:
    (site / "models" / "notes").mkdir(parents=True)
    (site / "models" / "x").mkdir()
    (site / "models" / "about.html").write_text("<p>about these models</p>")
    (site / "models" / "notes" / "logo.svg").write_text("<svg/>")
    (site / ".archdraw-cache").mkdir()
    (site / ".archdraw-cache" / "settings.json").write_text("{}")
    (site / "README.txt").write_text("the docs")
    return tree(site)


@pytest.mark.exe
def test_a_build_into_a_docs_tree_removes_only_its_own_files(specs: Path, tmp_path: Path) -> None:
    require_engine("bundled")
    site = tmp_path / "docs"
    theirs = _docs_tree(site)
    build_gallery(files(specs), site, jobs=1, engine="bundled")
    after = tree(site)
    assert {k: after.get(k) for k in theirs} == theirs
    assert (site / "models" / "esn" / "default.svg").is_file()
    (specs / "esn.yaml").unlink()  # esn's page is stale now: it goes, the docs' files stay
    build_gallery(files(specs), site, jobs=1, engine="bundled")
    after = tree(site)
    assert {k: after.get(k) for k in theirs} == theirs
    assert not (site / "models" / "esn.html").exists() and not (site / "models" / "esn").exists()
    assert (site / "models" / "lstm.html").is_file()


@pytest.mark.exe
def test_a_file_archdraw_did_not_write_is_never_replaced(
    specs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_engine("bundled")
    site = tmp_path / "docs"
    site.mkdir()
    (site / "index.html").write_text("<h1>our docs</h1>")
    before = tree(site)
    with pytest.raises(SystemExit) as exc:
        main(["gallery", str(specs), "-o", str(site), "--engine", "bundled"])
    assert exc.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "index.html" in err and "archdraw did not write it" in err and "Traceback" not in err
    assert tree(site) == before  # refused before anything was written


@pytest.mark.exe
def test_no_link_in_the_site_is_followed(specs: Path, tmp_path: Path) -> None:
    require_engine("bundled")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.json").write_text('{"mine": true}')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "default.svg").write_text("<svg>theirs</svg>")
    outside_before, elsewhere_before = tree(outside), tree(elsewhere)

    # A cache directory that is a link out of the site: refused, nothing written through it.
    site = tmp_path / "site"
    site.mkdir()
    (site / ".archdraw-cache").symlink_to(outside, target_is_directory=True)
    with pytest.raises(GalleryError, match="link"):
        build_gallery(files(specs), site, jobs=1, engine="bundled")
    assert tree(outside) == outside_before

    # A stale page directory that is a link: not followed, not removed, no crash.
    site = tmp_path / "site2"
    (site / "models").mkdir(parents=True)
    (site / "models" / "gone").symlink_to(elsewhere, target_is_directory=True)
    build_gallery(files(specs), site, jobs=1, engine="bundled")
    assert (site / "models" / "gone").is_symlink() and tree(elsewhere) == elsewhere_before

    # A page directory of a spec being built that is a link: refused, nothing written through it.
    site = tmp_path / "site3"
    (site / "models").mkdir(parents=True)
    (site / "models" / "esn").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(GalleryError, match="link"):
        build_gallery(files(specs), site, jobs=1, engine="bundled")
    assert tree(elsewhere) == elsewhere_before


@pytest.mark.exe
def test_the_spec_view_shows_invisible_characters(tmp_path: Path) -> None:
    """A bidi override or zero-width space in a spec's comment or string is shown, not obeyed."""
    require_engine("bundled")
    folder = tmp_path / "specs"
    folder.mkdir()
    text = (SPECS / "elm.yaml").read_text(encoding="utf-8")
    trojan = "# access: user \u202e \u2066admin\u2069 \u200b\n" + text
    (folder / "elm.yaml").write_text(trojan, encoding="utf-8")
    site = tmp_path / "site"
    build_gallery(files(folder), site, jobs=1, engine="bundled")
    page = (site / "models" / "elm.html").read_text(encoding="utf-8")
    for ch in "\u202e\u2066\u2069\u200b":
        assert ch not in page
    assert "# access: user &lt;U+202E&gt; &lt;U+2066&gt;admin&lt;U+2069&gt; &lt;U+200B&gt;" in page


# Seconds the stand-in engine lays out for: a mark, this run's own, to find its processes by.
_SLOW = f"31.{os.getpid() % 10_000:04d}"


def _slow_engines() -> list[str]:
    """The stand-in engines running now (their /proc entries), zombies aside."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().split(") ", 1)[1][:1]
        except OSError:
            continue
        if argv[:2] == [b"sleep", _SLOW.encode()] and state != "Z":
            found.append(proc.name)
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc for the engines left running")
def test_sigterm_stops_a_parallel_build_and_its_engines_at_once(tmp_path: Path) -> None:
    """The workers and the engines they run are ended, not waited for; no partial file is left."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    engine = bin_dir / "dot"  # a layout engine that takes half a minute per diagram
    engine.write_text(
        f'#!/bin/sh\nif [ "$1" = -V ]; then echo "dot - stand-in"; exit 0; fi\nexec sleep {_SLOW}\n'
    )
    engine.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    site = tmp_path / "site"
    proc = _gallery(site, "-j", "2", engine="dot", env=env)
    deadline = time.monotonic() + 60
    while len(_slow_engines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_slow_engines()) == 2, "both workers should be laying out by now"
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=120)
    stopped = time.monotonic() - sent
    time.sleep(0.5)
    left = _slow_engines()
    for pid in left:  # so that a failure here leaves nothing running
        os.kill(int(pid), signal.SIGKILL)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err, err
    assert stopped < 10, f"took {stopped:.1f} s to stop: the workers were waited for"
    assert not left, "a layout engine outlived the build"
    _complete(site)
